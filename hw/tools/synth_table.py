#!/usr/bin/env python3
"""synth_table.py DIR [TOP] - the resource table of a Yosys run, as Markdown.

Reads what hw/tools/synth.sh leaves in DIR for the top module TOP (default
fcap_top): TOP.stat (Yosys `stat`), TOP.mem_list.txt (`select -list
t:$mem_v2`: module/cell, one per line) and TOP.mems.il (`dump t:$mem_v2`, the
same cells in the same order). Prints one row
per module (parameterisations of a module are summed): instances, and per
instance its own gates, flip-flops, memories and memory bits (submodules
excluded); then the whole card's totals. docs/DATAPATH.md quotes it.
"""
import collections
import re
import sys


def short(name):
    """`$paramod$<hash>\\fcap_port` or `$paramod\\fcap_skid\\WIDTH=...` -> fcap_port / fcap_skid."""
    if name.startswith("$paramod"):
        return name.split("\\")[1]
    return name


def read_stat(path):
    """Per module: {cell type or submodule: count}."""
    modules = {}
    cur, in_hier = None, False
    with open(path) as f:
        for line in f:
            m = re.match(r"^=== (.*) ===$", line.strip())
            if m:
                cur = m.group(1)
                in_hier = cur == "design hierarchy"
                if not in_hier:
                    modules[cur] = collections.Counter()
                continue
            if in_hier:
                continue
            m = re.match(r"^\s+(\$\S+|\S+)\s+(\d+)$", line)
            if cur and m and not line.strip().startswith("Number"):
                modules[cur][m.group(1)] += int(m.group(2))
    return modules


def instances(modules, top="fcap_top"):
    """How many times each module is instantiated under top, recursively."""
    count = collections.Counter()

    def walk(mod, n):
        count[mod] += n
        for cell, k in modules.get(mod, {}).items():
            if cell in modules:
                walk(cell, n * k)

    walk(top, 1)
    return count


def read_mem_bits(list_path, il_path):
    """Per module: memory bits (WIDTH x SIZE summed over its $mem_v2 cells)."""
    with open(list_path) as f:
        owners = [line.strip().split("/")[0] for line in f if "/" in line]
    sizes, width, size = [], None, None
    with open(il_path) as f:
        for line in f:
            s = line.strip()
            if s.startswith("cell $mem_v2"):
                width = size = None
            elif s.startswith("parameter \\WIDTH "):
                width = int(s.split()[-1])
            elif s.startswith("parameter \\SIZE "):
                size = int(s.split()[-1])
            elif s == "end" and width is not None and size is not None:
                sizes.append(width * size)
                width = size = None
    bits = collections.Counter()
    for owner, b in zip(owners, sizes):
        bits[owner] += b
    return bits


def main():
    d = sys.argv[1]
    top = sys.argv[2] if len(sys.argv) > 2 else "fcap_top"
    title = top
    modules = read_stat(f"{d}/{top}.stat")
    inst = instances(modules, top)
    mem_bits = read_mem_bits(f"{d}/{top}.mem_list.txt", f"{d}/{top}.mems.il")
    rows = collections.OrderedDict()
    for mod in sorted(modules, key=short):
        if inst[mod] == 0:
            continue
        cells = modules[mod]
        gates = sum(n for c, n in cells.items() if c.startswith("$_"))
        ffs = sum(n for c, n in cells.items() if "DFF" in c)
        mems = cells.get("$mem_v2", 0)
        r = rows.setdefault(short(mod), [0, 0, 0, 0, 0])
        n = inst[mod]
        r[0] += n
        r[1] += n * gates
        r[2] += n * ffs
        r[3] += n * mems
        r[4] += n * mem_bits.get(mod, 0)
    print(f"| {title}: module | instances | gates | flip-flops | memories | memory bits |")
    print("|---|---:|---:|---:|---:|---:|")
    total = [0] * 5
    for name, r in rows.items():
        print(f"| {name} | {r[0]} | {r[1]} | {r[2]} | {r[3]} | {r[4]} |")
        total = [a + b for a, b in zip(total, r)]
    print(f"| **total** | | **{total[1]}** | **{total[2]}** | **{total[3]}** | **{total[4]}** |")
    print()
    print("(gates and flip-flops: Yosys generic cells after `abc -fast`; memories stay $mem_v2 cells,"
          " as block RAM would; counts summed over instances)")


if __name__ == "__main__":
    main()
