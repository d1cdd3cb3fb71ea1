#!/bin/sh
# test_ops.sh FCAP OUTDIR - what an operator installs and runs, judged by
# the tools that read it: the installed tree (make install, with a prefix
# and with DESTDIR), man --warnings on every page, systemd-analyze verify on
# the unit, and the sd_notify datagrams a service manager would receive.
# Each judge is first shown a broken input, to prove it can fail.
set -u
here=$(dirname "$0")
. "$here/lib.sh"
fcap=$1
out=$(realpath "$2")
prefix=$out/prefix
staging=$out/staging

echo "ops: make install"
for f in bin/fcap share/man/man1/fcap.1 share/man/man1/fcap-capture.1 share/man/man1/fcap-stats.1 \
         lib/systemd/system/fcap@.service lib/sysusers.d/fcap.conf; do
    check "installed $f (PREFIX)" test -s "$prefix/$f"
    check "installed $f (DESTDIR)" test -s "$staging/usr/local/$f"
done
check "the installed binary runs" "$prefix/bin/fcap" capture --help > /dev/null
check "the unit starts the installed binary" grep -q "^ExecStart=$prefix/bin/fcap capture" \
    "$prefix/lib/systemd/system/fcap@.service"
check "DESTDIR: the unit names the final path" grep -q "^ExecStart=/usr/local/bin/fcap capture" \
    "$staging/usr/local/lib/systemd/system/fcap@.service"

echo "ops: man pages"
# The commands are the ones 'fcap --help' lists (the lines under "commands:"),
# so a new command without a page fails here.
man1=$prefix/share/man/man1
"$fcap" --help > "$out/help.txt" 2>&1
cmds=$(awk '/^commands:/ { on = 1; next } on && /^ *$/ { exit } on { print $1 }' "$out/help.txt")
check "fcap --help lists its commands" test "$(echo "$cmds" | wc -w)" -ge 12
pages=$(ls "$man1"/*.1)
eq "one page for fcap and each command" "$(echo "$pages" | wc -l)" "$(($(echo "$cmds" | wc -w) + 1))"
printf '.TH BROKEN 1\n.SH NAME\nbroken \\- x\n.BOGUS macro\n\\fQ\n' > "$out/broken.1"
man --warnings -l -E UTF-8 "$out/broken.1" > /dev/null 2> "$out/broken.warn"
check "man --warnings reports a broken page (the judge can fail)" test -s "$out/broken.warn"
for p in $pages; do
    man --warnings -l -E UTF-8 "$p" > "$out/page.txt" 2> "$out/page.warn"
    rc=$?
    if [ $rc -eq 0 ] && [ ! -s "$out/page.warn" ] && [ -s "$out/page.txt" ]; then
        pass "man --warnings: $(basename "$p") renders without a warning"
    else
        fail "man --warnings: $(basename "$p"): exit $rc: $(head -c 400 "$out/page.warn")"
    fi
done
# A page's source with roff's escaped hyphens made plain: \-\-max\-age is --max-age.
plain() { sed 's/\\-/-/g; s/\\(hy/-/g' "$1"; }
# has_opt FILE OPT: FILE names the long option OPT as a whole word.
has_opt() { grep -qE -- "(^|[^a-z0-9-])$2([^a-z0-9-]|\$)" "$1"; }
plain "$man1/fcap.1" > "$out/page-fcap.txt"
for cmd in $cmds; do
    page=$man1/fcap-$cmd.1
    check "fcap-$cmd.1 is installed" test -s "$page"
    eq "fcap.1 refers to fcap-$cmd(1) in COMMANDS and SEE ALSO" "$(grep -c "^\\.BR fcap-$cmd (1)" "$out/page-fcap.txt")" 2
    [ -s "$page" ] || continue
    "$fcap" "$cmd" --help > "$out/help-$cmd.txt" 2>&1
    plain "$page" > "$out/page-$cmd.txt"
    opts=$(grep -oE -- '--[a-z][a-z0-9-]*' "$out/help-$cmd.txt" | sort -u)
    missing=""
    for o in $opts; do
        has_opt "$out/page-$cmd.txt" "$o" || missing="$missing $o"
    done
    eq "fcap-$cmd.1 names every long option of 'fcap $cmd --help'" "$missing" ""
done
# The option check can fail: a page without one of its options is caught.
plain "$man1/fcap-flows.1" | sed 's/template-every/template-evry/g' > "$out/page-bad.txt"
if has_opt "$out/page-bad.txt" --template-every; then
    fail "a page missing an option is caught (the judge can fail)"
else
    pass "a page missing an option is caught (the judge can fail)"
fi
check "... and the same page with it passes" has_opt "$out/page-flows.txt" --template-every

echo "ops: systemd unit"
unit=$prefix/lib/systemd/system/fcap@.service
MANPATH=$prefix/share/man systemd-analyze verify "$unit" > "$out/verify.txt" 2>&1
eq "systemd-analyze verify: exit status" "$?" 0
eq "systemd-analyze verify: nothing to say" "$(cat "$out/verify.txt")" ""
sed 's/^ProtectSystem=strict/ProtectSystem=strictest/; s/^Type=notify/Type=notifyy/' "$unit" > "$out/fcap@.service"
MANPATH=$prefix/share/man systemd-analyze verify "$out/fcap@.service" > "$out/verify_bad.txt" 2>&1
check "systemd-analyze verify reports a broken unit (the judge can fail)" test -s "$out/verify_bad.txt"
for want in Type=notify WatchdogSec= Restart=on-failure User=fcap ProtectSystem=strict ReadWritePaths=/var/lib/fcap \
            DeviceAllow=char-fcap LimitMEMLOCK=infinity NoNewPrivileges=yes "-Z fcap"; do
    check "the unit has $want" grep -q -- "$want" "$unit"
done

echo "ops: sd_notify (READY, WATCHDOG, STOPPING over \$NOTIFY_SOCKET)"
need_data
cat > "$out/listen.py" << 'PY'
import socket, sys, os
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(sys.argv[1]); s.settimeout(20)
open(sys.argv[2] + ".ready", "w").close()
with open(sys.argv[2], "w") as f:
    while True:
        try:
            d = s.recv(4096).decode()
        except socket.timeout:
            break
        f.write(d.replace("\n", " ") + "\n"); f.flush()
        if d.startswith("STOPPING=1"):
            break
PY
sock=$out/notify.sock
python3 "$out/listen.py" "$sock" "$out/notify.txt" &
lpid=$!
i=0; while [ ! -e "$out/notify.txt.ready" ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
NOTIFY_SOCKET=$sock WATCHDOG_USEC=2000 "$fcap" capture -q -r "$FCAP_DATA/http_espn.pcapng" -w "$out/n.pcapng"
eq "capture under a service manager: exit status" "$?" 0
wait $lpid
check "READY=1 sent" grep -q "^READY=1" "$out/notify.txt"
check "WATCHDOG=1 sent (WATCHDOG_USEC set)" grep -q "^WATCHDOG=1" "$out/notify.txt"
check "STOPPING=1 sent last" test "$(tail -1 "$out/notify.txt" | cut -c1-10)" = "STOPPING=1"
WATCHDOG_PID=1 WATCHDOG_USEC=2000 NOTIFY_SOCKET=$out/none.sock "$fcap" capture -q -r "$FCAP_DATA/http_espn.pcapng" \
    -w "$out/n2.pcapng"
eq "no service manager listening: the capture goes on (exit status)" "$?" 0
finish
