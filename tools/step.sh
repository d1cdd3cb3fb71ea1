#!/bin/sh
# tools/step.sh LOG NAME COMMAND...: runs one step of `make test`, appends
# "NAME SECONDS" to LOG, and fails as the step fails. `tools/step.sh LOG`
# alone prints the table of steps, so a slow step is visible in CI's log.
log=$1
if [ $# -eq 1 ]; then
	awk '{ printf "  %-16s %5d s\n", $1, $2; t += $2 } END { printf "  %-16s %5d s\n", "total", t }' "$log"
	exit 0
fi
name=$2
shift 2
start=$(date +%s)
"$@"
rc=$?
echo "$name $(($(date +%s) - start))" >> "$log"
exit $rc
