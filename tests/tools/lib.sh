# lib.sh - helpers for the shell tests (sourced).
fails=0
pass() { printf '  ok    %s\n' "$1"; }
fail() { printf '  FAIL  %s\n' "$1"; fails=$((fails + 1)); }
check() { # check NAME COMMAND...: passes when the command succeeds
    name=$1; shift
    if "$@"; then pass "$name"; else fail "$name"; fi
}
eq() { # eq NAME GOT WANT
    if [ "$2" = "$3" ]; then pass "$1 ($2)"; else fail "$1: got '$2', want '$3'"; fi
}
contains() { # contains NAME FILE TEXT
    if grep -qF -- "$3" "$2"; then pass "$1"; else fail "$1: '$3' not in $(head -c 400 "$2")"; fi
}
need_data() {
    if [ ! -d "${FCAP_DATA:-}" ]; then
        echo "SKIP: \$FCAP_DATA (${FCAP_DATA:-unset}) is not a directory: the bundled captures are missing"
        exit 0
    fi
}
packets() { capinfos -c -M "$1" 2>/dev/null | awk -F: '/Number of packets/ {gsub(/ /, "", $2); print $2}'; }
finish() {
    if [ "$fails" -ne 0 ]; then echo "$fails check(s) failed"; exit 1; fi
    echo "all checks passed"
}
