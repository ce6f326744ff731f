#!/usr/bin/env bash
# Run checkpatch.pl --strict over every patch of build/patches; one test case
# per patch, passing only with no error, warning or check.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

repo=$BUILD/series-git
tap=$RESULTS/checkpatch.tap
mkdir -p "$RESULTS"
: >"$tap"
n=0
status=0
for patch in "$BUILD"/patches/*.patch; do
	n=$((n + 1))
	report=$(cd "$repo" && perl scripts/checkpatch.pl --strict --color=never "$patch" 2>&1 || true)
	if grep -q '^total: 0 errors, 0 warnings, 0 checks' <<<"$report"; then
		echo "ok $n checkpatch --strict $(basename "$patch")" >>"$tap"
	else
		status=1
		echo "not ok $n checkpatch --strict $(basename "$patch")" >>"$tap"
		sed 's/^/# /' <<<"$report" >>"$tap"
		echo "$report" >&2
	fi
done
[ "$n" -gt 0 ] || { echo "not ok 1 checkpatch: no patches in build/patches" >>"$tap"; exit 1; }
exit $status
