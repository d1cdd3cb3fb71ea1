#!/bin/sh
# checkpatch.sh TARBALL WORKDIR FILE... - the kernel's checkpatch.pl --strict
# on the driver's files. Debian ships checkpatch.pl only inside
# linux-source-*.tar.xz; its three files are extracted once into WORKDIR.
set -eu
tarball=$1 work=$2
shift 2
top=$(basename "$tarball" .tar.xz)
if [ ! -x "$work/scripts/checkpatch.pl" ]; then
    mkdir -p "$work"
    echo "checkpatch: extracting scripts/checkpatch.pl from $tarball (once)"
    tar -xJf "$tarball" -C "$work" --strip-components=1 \
        "$top/scripts/checkpatch.pl" "$top/scripts/spelling.txt" "$top/scripts/const_structs.checkpatch"
fi
# --no-tree: not run from a kernel tree; -f: files, not a patch.
out=$("$work/scripts/checkpatch.pl" --no-tree --strict --terse --show-types -f "$@" 2>&1) || true
if [ -n "$out" ] && printf '%s\n' "$out" | grep -qE '(ERROR|WARNING|CHECK):'; then
    printf '%s\n' "$out" | grep -E '(ERROR|WARNING|CHECK):'
    echo "checkpatch --strict: not clean (above)"
    exit 1
fi
echo "checkpatch --strict: clean ($# files)"
