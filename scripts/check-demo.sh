#!/usr/bin/env bash
# Part of 'make check': boot the demo that 'make' shows a newcomer and check
# its transcript (build/logs/demo.results): no error line in it, and the one
# refusal it means to show, the 9th 1 MiB buffer with ENOMEM. The checker
# is first shown to catch an error line. Writes build/results/demo.tap.
# usage: check-demo.sh [--scan FILE]: only scan FILE, print its error lines
set -euo pipefail
. "$(dirname "$0")/lib.sh"

# What programs say when something goes wrong, in any case...
errors="can't|cannot|no such|not found|permission denied|invalid|not permitted|error|fail"
errors+="|usage:|unknown|segmentation|killed|busy|refused|terminated|aborted|bad file|timed out"
# ...but for the refusal the demo is there to show.
expected='^buffer-client [0-9]+: buffer 9 refused: Cannot allocate memory$'

# error_lines FILE: the transcript's error lines, with their line numbers:
# what the commands printed, not the demo's own headings ("### ...") and
# commands ("$ ..."); the serial port ends lines with CR LF.
error_lines() {
	tr -d '\r' <"$1" | grep -n -i -E "$errors" |
		grep -v -E "^[0-9]+:(### |\\$ |${expected#^})" || true
}

if [ "${1:-}" = --scan ]; then
	[ $# -eq 2 ] || die "usage: $0 [--scan FILE]"
	out=$(error_lines "$2")
	[ -z "$out" ] || { echo "$out"; exit 1; }
	exit 0
fi

mkdir -p "$RESULTS" "$LOGS"
tap=$RESULTS/demo.tap
transcript=$LOGS/demo.results
n=0
failed=0
{
	echo "TAP version 13"
	echo "1..4"
} >"$tap"
result() { # OK? DESCRIPTION [DETAILS]
	n=$((n + 1))
	if [ "$1" = 1 ]; then
		echo "ok $n $2" >>"$tap"
	else
		failed=1
		echo "not ok $n $2" >>"$tap"
		[ -z "${3:-}" ] || printf '%s\n' "$3" | sed 's/^/# /' >>"$tap"
	fi
}

# The checker catches the error line the demo used to print.
sample=$(mktemp)
trap 'rm -f "$sample"' EXIT
printf '%s\r\n' '### The 9th is refused with ENOMEM' '$ cat /sys/fs/cgroup/buffer.capacity' \
	"cat: can't open '/sys/fs/cgroup/buffer.capacity': No such file or directory" \
	'buffer-client 77: buffer 9 refused: Cannot allocate memory' >"$sample"
found=$(error_lines "$sample")
want="3:cat: can't open '/sys/fs/cgroup/buffer.capacity': No such file or directory"
result $([ "$found" = "$want" ] && echo 1 || echo 0) \
	"the transcript check finds an error line, and only it" "$found"

log "demo: booting it and reading its transcript"
if QUIET_TIMEOUT=120 "$TOP/scripts/run-guest.sh" demo demo 2>"$LOGS/demo.err"; then
	result 1 "the demo boots, runs and powers off cleanly"
else
	result 0 "the demo boots, runs and powers off cleanly" "$(cat "$LOGS/demo.err")"
fi
found=$(error_lines "$transcript")
result $([ -z "$found" ] && echo 1 || echo 0) "no error line in the demo's transcript" "$found"
refusals=$(tr -d '\r' <"$transcript" | grep -c -E "$expected" || true)
result $([ "$refusals" = 1 ] && grep -q '^### Everything released' "$transcript" && echo 1 || echo 0) \
	"the transcript shows the 9th buffer refused with ENOMEM, and runs to its end" \
	"$refusals refusals; last lines: $(tail -n 5 "$transcript")"
cat "$tap"
exit $failed
