#!/usr/bin/env bash
# 'make checkpatch', and part of 'make check'. Run checkpatch.pl --strict
# over every patch of build/patches; one test case per patch, passing only
# with no error, warning or check.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

repo=$BUILD/series-git
tap=$RESULTS/checkpatch.tap
mkdir -p "$RESULTS"
: >"$tap"

# checkpatch.pl runs scripts/spdxcheck.py through 'env python3'; a python3
# ahead of Debian's in PATH (pyenv, a virtualenv) lacks python3-ply and
# python3-git, and the SPDX check would then die quietly inside the report.
export PATH=/usr/bin:$PATH
if ! python3 -c 'import ply, git' 2>/dev/null; then
	echo "not ok 1 checkpatch: python3 lacks ply or git (make deps)" >>"$tap"
	echo "checkpatch: python3 lacks ply or git, run 'make deps'" >&2
	exit 1
fi

n=0
status=0
for patch in "$BUILD"/patches/*.patch; do
	# The cover letter has no diff to check.
	[ "$(basename "$patch")" != 0000-cover-letter.patch ] || continue
	n=$((n + 1))
	report=$(cd "$repo" && perl scripts/checkpatch.pl --strict --color=never "$patch" 2>&1 || true)
	if grep -q '^total: 0 errors, 0 warnings, 0 checks' <<<"$report" &&
	   ! grep -q '^Traceback' <<<"$report"; then
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
