#!/usr/bin/env bash
# 'make kunit'. Run the controller's KUnit suite under UML through kunit.py;
# write build/results/kunit.tap (the raw KTAP) and print kunit.py's parsed
# report.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

mkdir -p "$RESULTS" "$LOGS"
build_dir=$BUILD/kunit
raw=$LOGS/kunit.ktap

log "KUnit: building the UML kernel"
if ! kunit_py build --kunitconfig "$TOP/configs/kunit.config" \
	--build_dir "$build_dir" --jobs "$(($(jobs) + 1))" \
	--make_options CC="ccache gcc" >"$LOGS/kunit-build.log" 2>&1; then
	echo "not ok 1 kunit: the UML kernel does not build (log: build/logs/kunit-build.log)" \
		>"$RESULTS/kunit.tap"
	tail -n 30 "$LOGS/kunit-build.log" >&2
	exit 1
fi
log "KUnit: running"
kunit_py exec --build_dir "$build_dir" --raw_output=kunit --timeout 600 \
	>"$raw" 2>"$LOGS/kunit-exec.err" || true
cp "$raw" "$RESULTS/kunit.tap"
kunit_py parse "$raw" || exit 1
# A test that passes while the kernel warns has not passed.
if grep -Eq 'WARNING:|BUG:|Oops' "$raw"; then
	echo "error: the kernel logged a splat during KUnit (log: $raw):" >&2
	grep -E -A 12 'WARNING:|BUG:|Oops' "$raw" | head -n 40 >&2
	echo "not ok 1 kunit: the kernel logged a splat" >>"$RESULTS/kunit.tap"
	exit 1
fi
