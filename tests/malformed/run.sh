#!/bin/sh
# run.sh - runs the malformed-input table (cases.txt) against fcap.
#
# usage: run.sh FCAP WORKDIR
# Makes the inputs (make_inputs.py from $FCAP_DATA, and damaged copies of a
# freshly trained model), then for each line of cases.txt runs the command,
# checks the exit status and looks for the expected text in standard error.
# A crash (status > 2, a sanitizer report) fails the case whatever it says.
set -u
FCAP=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")   # absolute: cases run inside W
W=$2
here=$(cd "$(dirname "$0")" && pwd)
rm -rf "$W"
mkdir -p "$W"
W=$(cd "$W" && pwd)
python3 "$here/make_inputs.py" "${FCAP_DATA:?}" "$W" || exit 1

# Model files: one trained on the good capture, and damaged copies.
"$FCAP" train -q -r "$W/good.pcapng" --epochs 1 --table-entries 1024 -o "$W/good.fcm" || exit 1
: > "$W/model-empty.fcm"
head -c 100 "$W/good.fcm" > "$W/model-cut.fcm"
python3 - "$W" <<'PY'
import struct, sys
w = sys.argv[1]
good = open(w + '/good.fcm', 'rb').read()
open(w + '/model-bad-magic.fcm', 'wb').write(b'NOTAMODL' + good[8:])
b = bytearray(good); b[len(b) // 2] ^= 0x40
open(w + '/model-flipped.fcm', 'wb').write(b)
b = bytearray(good); struct.pack_into('<I', b, 8, 99)
open(w + '/model-version.fcm', 'wb').write(b)
PY

pass=0 fail=0
while IFS='|' read -r input cmd code text; do
    input=$(echo "$input" | sed 's/[[:space:]]*$//')
    case "$input" in ''|'#'*) continue ;; esac
    cmd=$(echo "$cmd" | tr -d ' ')
    code=$(echo "$code" | tr -d ' ')
    text=$(echo "$text" | sed 's/^[[:space:]]*//; s/[[:space:]]*$//')
    in="$W/$input"
    case "$cmd" in
    score)  (cd "$W" && "$FCAP" score -q -m good.fcm "$input") > /dev/null 2> "$W/err" ;;
    replay) (cd "$W" && "$FCAP" capture -q -i sim -r "$input" -w "$W/out.pcapng") > /dev/null 2> "$W/err" ;;
    read)   (cd "$W" && "$FCAP" capture -q -r "$input" -w "$W/out.pcapng") > /dev/null 2> "$W/err" ;;
    model)  (cd "$W" && "$FCAP" score -q -m "$input" good.pcap) > /dev/null 2> "$W/err" ;;
    *) echo "malformed: unknown command '$cmd' for $input"; fail=$((fail + 1)); continue ;;
    esac
    rc=$?
    why=""
    [ "$rc" -eq "$code" ] || why="exit status $rc, expected $code"
    if grep -qE 'Sanitizer|runtime error' "$W/err"; then
        why="a sanitizer report"
    fi
    if [ -n "$text" ] && ! grep -qF -- "$text" "$W/err"; then
        why="${why:+$why; }no '$text' in standard error"
    fi
    [ -f "$in" ] || why="input $input was not made"
    if [ -z "$why" ]; then
        pass=$((pass + 1))
    else
        fail=$((fail + 1))
        echo "malformed: FAIL $input ($cmd): $why; standard error was:"
        sed 's/^/    /' "$W/err"
    fi
done < "$here/cases.txt"
echo "malformed inputs: $pass cases passed, $fail failed"
[ "$fail" -eq 0 ]
