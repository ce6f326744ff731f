#!/usr/bin/env bash
# 'make check': every test. Each stage writes build/results/STAGE.tap; a stage
# that cannot run records a failing case rather than vanishing. Ends with
# "N passed, N failed" and exits non-zero on any failure.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

rm -rf "$RESULTS"
mkdir -p "$RESULTS" "$LOGS"
start=$SECONDS

# record NAME COMMAND...: one test case, passing if COMMAND succeeds.
record() {
	local name=$1
	shift
	log "$name"
	if "$@" >"$LOGS/$name.log" 2>&1; then
		echo "ok 1 $name" >"$RESULTS/$name.tap"
	else
		echo "not ok 1 $name (log: build/logs/$name.log)" >"$RESULTS/$name.tap"
		tail -n 30 "$LOGS/$name.log" >&2
		return 1
	fi
}

summary() {
	echo
	echo "make check: $((SECONDS - start))s; results in build/results, logs in build/logs"
	exec python3 "$TOP/scripts/tap.py" summary "$RESULTS"
}

"$TOP/scripts/install-deps.sh"
record prepare-tree "$TOP/scripts/prepare-tree.sh" || summary
log "harness: a broken patch is refused"
"$TOP/scripts/test-broken-patch.sh" >"$RESULTS/harness-broken-patch.tap" 2>&1 || true
log "bench report: the instruction tables on a fixture"
"$TOP/scripts/test-bench-report.sh" >"$RESULTS/bench-report.tap" 2>&1 || true

# The test kernel: every in-guest suite, then the controller disabled.
if record build-kernel make -C "$TOP" -s kernel; then
	if record build-guest-programs make -C "$TOP" -s initramfs; then
		log "guest tests (TCG)"
		"$TOP/scripts/guest-check.sh" || true
		log "the demo, and no error line in its transcript (TCG)"
		"$TOP/scripts/check-demo.sh" >/dev/null || true
	fi
fi

# The debug kernel: KUnit at boot, our suites, stress, faults, fuzzing.
if record build-debug-kernel make -C "$TOP" -s debug-kernel; then
	[ -f "$BUILD/initramfs.cpio.gz" ] && {
		log "debug kernel: KUnit, stress, fault injection, fuzzing (TCG)"
		"$TOP/scripts/debug-check.sh" || true
	}
fi

record kernel-doc "$TOP/scripts/check-kernel-doc.sh" || true
# The kernel without the controller (CONFIG_CGROUP_BUFFER=n): every caller
# of the API compiles (a missing no-op stub is an implicit declaration,
# which the kernel build rejects), and it boots and answers as the errno
# table says.
if record build-kernel-without-controller \
	"$TOP/scripts/build-kernel.sh" nobuffer configs/base.config configs/nobuffer.config; then
	[ -f "$BUILD/initramfs.cpio.gz" ] && {
		log "kernel without the controller (TCG)"
		"$TOP/scripts/guest-check.sh" absent || true
	}
fi
if record export-patches "$TOP/scripts/export-patches.sh"; then
	"$TOP/scripts/checkpatch.sh" || true
fi
summary
