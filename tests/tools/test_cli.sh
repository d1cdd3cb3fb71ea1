#!/bin/sh
# test_cli.sh FCAP OUTDIR - the command line: --help everywhere, and every bad
# argument gets exit status 2 (or 1 for a job that cannot run) and a message
# that names what is wrong. Table-driven: one line per case,
#   EXIT | MESSAGE (fixed text that must appear on stderr) | ARGUMENTS
# (arguments split on spaces; @ stands for OUTDIR).
set -u
here=$(dirname "$0")
. "$here/lib.sh"
fcap=$1
out=$2
rm -rf "$out"
mkdir -p "$out"
# A one-frame classic pcap, and a pcapng with no fcap statistics in it.
python3 -c "
import struct, sys
frame = bytes(6) + bytes([2, 0, 0, 0, 0, 1]) + b'\\x08\\x00' + bytes(46)
sys.stdout.buffer.write(struct.pack('<IHHiIII', 0xa1b2c3d4, 2, 4, 0, 0, 65535, 1)
                        + struct.pack('<IIII', 1, 0, len(frame), len(frame)) + frame)" > "$out/in.pcap"
editcap -F pcapng "$out/in.pcap" "$out/plain.pcapng"

echo "cli: --help of every command"
# Every command 'fcap --help' lists (the lines under "commands:").
cmds=$("$fcap" --help 2>&1 | awk '/^commands:/ { on = 1; next } on && /^ *$/ { exit } on { print $1 }')
eq "fcap --help lists 12 commands" "$(echo "$cmds" | wc -w)" 12
for cmd in $cmds; do
    "$fcap" "$cmd" --help > "$out/help.txt" 2>&1
    eq "fcap $cmd --help: exit status" "$?" 0
    contains "fcap $cmd --help: usage" "$out/help.txt" "usage: fcap $cmd"
    contains "fcap $cmd --help: exit statuses" "$out/help.txt" "exit status"
done
"$fcap" --help > "$out/help.txt" 2>&1
eq "fcap --help: exit status" "$?" 0
contains "fcap --help lists stats" "$out/help.txt" "stats"

echo "cli: a progress line on a terminal, none when piped"
# script(1) gives the command a terminal; its transcript is what a user sees.
script -qec "$fcap capture -r $out/in.pcap -w $out/p.pcapng" /dev/null > "$out/tty.txt" 2>&1
eq "capture on a terminal: exit status" "$?" 0
check "capture on a terminal: a progress line" grep -q "frames, .* MB captured" "$out/tty.txt"
"$fcap" capture -r "$out/in.pcap" -w "$out/p.pcapng" > "$out/pipe.txt" 2>&1
check "capture piped: no progress line, the summary" sh -c "! grep -q 'MB captured' '$out/pipe.txt' && grep -q 'frames captured to' '$out/pipe.txt'"
"$fcap" capture -q -r "$out/in.pcap" --store "$out/pst" 2> /dev/null
script -qec "$fcap extract -r $out/pst -w $out/p2.pcapng" /dev/null > "$out/tty2.txt" 2>&1
check "extract on a terminal: a progress line" grep -q "fcap extract: segment 1 of 1" "$out/tty2.txt"
"$fcap" extract -r "$out/pst" -w "$out/p2.pcapng" > "$out/pipe2.txt" 2>&1
check "extract piped: no progress line" sh -c "! grep -q 'fcap extract: segment' '$out/pipe2.txt'"

echo "cli: bad arguments"
n=0
while IFS='|' read -r want msg args; do
    case "$want" in ''|'#'*) continue ;; esac
    want=$(echo "$want" | tr -d ' ')
    msg=$(echo "$msg" | sed "s/^ *//; s/ *\$//; s|@|$out|g")
    args=$(echo "$args" | sed "s|@|$out|g")
    n=$((n + 1))
    # shellcheck disable=SC2086
    "$fcap" $args > "$out/$n.out" 2> "$out/$n.err" < /dev/null
    got=$?
    if [ "$got" = "$want" ] && grep -qF -- "$msg" "$out/$n.err"; then
        pass "fcap $args -> $want, '$msg'"
    else
        fail "fcap $args: got exit $got and '$(head -c 300 "$out/$n.err")', want $want and '$msg'"
    fi
done << 'TABLE'
2 | unknown command 'bogus'                          | bogus
2 | usage: fcap COMMAND                              |
# capture: the source
2 | no source: give -i INTERFACE                     | capture -w @/x.pcapng
2 | no output file                                   | capture -i sim -r @/in.pcap
2 | captures live and -r reads a file                | capture -i lo -r @/in.pcap -w @/x.pcapng
2 | several -r files or PORT:FILE                    | capture -r @/a.pcap -r @/b.pcap -w @/x.pcapng
2 | several -r files or PORT:FILE                    | capture -r 1:@/a.pcap -w @/x.pcapng
2 | the simulated card needs traffic                 | capture -i sim -w @/x.pcapng
2 | -r '1:': expected FILE or PORT:FILE              | capture -i sim -r 1: -w @/x.pcapng
2 | expected /dev/fcapN or pcie:N                    | capture -i pcie:x -w @/x.pcapng
2 | -i '/tmp/eth0': expected a network interface     | capture -i /tmp/eth0 -w @/x.pcapng
2 | the source is already 'sim'                      | capture -i sim -d lo -r @/in.pcap -w @/x.pcapng
2 | -r, --rate, --bus and --card-time drive the simu | capture -i pcie:0 -r @/in.pcap -w @/x.pcapng
2 | --rate, --bus and --card-time drive the simulat  | capture -i lo --rate 1G -w @/x.pcapng
2 | --rate, --bus and --card-time drive the simulat  | capture -i lo --card-time 1700000000 -w @/x.pcapng
2 | has no filter stage                              | capture -i sim -r @/in.pcap -w @/x.pcapng icmp
2 | has no filter stage                              | capture -i sim -r @/in.pcap -c 5 -w @/x.pcapng
2 | filter 'tcp port': can't parse filter expression | capture -r @/in.pcap -w @/x.pcapng tcp port
2 | -c 'many': expected a frame count above 0        | capture -r @/in.pcap -c many -w @/x.pcapng
2 | -c '0': expected a frame count above 0           | capture -r @/in.pcap -c 0 -w @/x.pcapng
2 | -s '70000': expected a byte count up to 65535    | capture -r @/in.pcap -s 70000 -w @/x.pcapng
2 | -B '1K': expected a buffer size from 64K to 1G   | capture -i lo -B 1K -w @/x.pcapng
2 | -B sizes the kernel buffer of a network interface| capture -r @/in.pcap -B 1M -w @/x.pcapng
2 | --rings and --hash need a card                   | capture -r @/in.pcap --rings 2 -w @/x.pcapng
2 | --rate 'fast': expected a rate                   | capture -i sim -r @/in.pcap --rate fast -w @/x.pcapng
2 | --block-size 'big'                               | capture -i sim -r @/in.pcap --block-size big -w @/x.pcapng
2 | --block-timeout 'soon'                           | capture -i sim -r @/in.pcap --block-timeout soon -w @/x.pcapng
2 | --irq-delay '2s'                                 | capture -i sim -r @/in.pcap --irq-delay 2s -w @/x.pcapng
2 | --rings '17': expected 1 to 16                   | capture -i sim -r @/in.pcap --rings 17 -w @/x.pcapng
2 | give either -w FILE or --store DIR               | capture -i sim -r @/in.pcap -w @/x.pcapng --store @/st
2 | need --store DIR                                 | capture -i sim -r @/in.pcap -C 1M -w @/x.pcapng
2 | -G '0': expected a duration                      | capture -i sim -r @/in.pcap -G 0 --store @/st
2 | -W 'none': expected a segment count              | capture -i sim -r @/in.pcap -W none --store @/st
2 | --max-size '0%': expected a size                 | capture -i sim -r @/in.pcap --max-size 0% --store @/st
2 | --scores needs --model                           | capture -i sim -r @/in.pcap --scores @/s.csv -w @/x.pcapng
2 | bad option                                       | capture --frobnicate
# capture: jobs that cannot run
1 | interface nosuchif0: no such interface           | capture -i nosuchif0 -w @/x.pcapng
1 | @/missing.pcap                                   | capture -r @/missing.pcap -w @/x.pcapng
1 | -Z no-such-user-fcap: no such user               | capture -r @/in.pcap -Z no-such-user-fcap -w @/x.pcapng
1 | @/nodir/x.pcapng                                 | capture -r @/in.pcap -w @/nodir/x.pcapng
1 | metrics address 'localhost:80': 'localhost' is not an IPv4 address | capture -r @/in.pcap --metrics-listen localhost:80 -w @/x.pcapng
1 | metrics address '99999': port '99999'            | capture -r @/in.pcap --metrics-listen 99999 -w @/x.pcapng
# extract, store, stats, info, train, score
2 | no store: give -r DIR                            | extract -w @/x.pcapng
2 | the store is already                             | extract -r @/a -s @/b -w @/x.pcapng
2 | --port '70000': expected 0..65535                | extract -r @/st --port 70000 -w @/x.pcapng
2 | -F 'csv': expected pcapng or pcap                | extract -r @/st -F csv -w @/x.pcapng
2 | -c '0': expected a packet count above 0          | extract -r @/st -c 0 -w @/x.pcapng
2 | --from 'yesterday'                               | extract -r @/st --from yesterday -w @/x.pcapng
1 | @/nostore                                        | extract -r @/nostore -w @/x.pcapng
2 | give a capture file or a store directory         | stats
2 | unexpected argument '@/b'                        | stats @/a @/b
1 | @/nofile: No such file or directory              | stats @/nofile
1 | not a pcapng file                                | stats @/in.pcap
1 | no fcap stages                                   | stats @/plain.pcapng
2 | unknown device 'eth9'                            | info -i eth9
2 | bad option                                       | info --frobnicate
2 | bad option                                       | stats --frobnicate
TABLE
finish
