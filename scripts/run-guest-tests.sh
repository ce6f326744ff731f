#!/usr/bin/env bash
# Boot the test kernel once and run every suite of scripts/guest/check.list
# in it; write build/results/guest-*.tap.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

mkdir -p "$RESULTS"
status=0
if QUIET_TIMEOUT=120 "$TOP/scripts/run-guest.sh" check guest-check 2>"$LOGS/guest-check.err"; then
	echo "ok 1 guest boots, runs the suites and powers off cleanly" >"$RESULTS/guest-boot.tap"
else
	status=1
	cat "$LOGS/guest-check.err" >&2
	{
		echo "not ok 1 guest boots, runs the suites and powers off cleanly"
		sed 's/^/# /' "$LOGS/guest-check.err"
	} >"$RESULTS/guest-boot.tap"
fi
python3 "$TOP/scripts/tap.py" split-guest "$LOGS/guest-check.results" \
	"$TOP/scripts/guest/check.list" "$RESULTS"
exit $status
