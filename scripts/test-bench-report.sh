#!/usr/bin/env bash
# Test of the instruction tables of scripts/bench-report.py on a fixture:
# two runs compared, per-buffer counts, targets, the difference from a
# recorded run. TAP on stdout; no guest, no timing.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
# The counting boots' results: kernel instructions per buffer are
# 8000 + ADD (disabled ADD 0, root and depth4 40, onehop-pidfd 300, memcg
# 600, memcg-buffer 40) at 4 and 64 KiB, SIZE / 16 more from 1 MiB up (a
# floor that grows with the size), 10 + ADD in the controller's own code
# (depth4 ADD 30, memcg 0: the controller is disabled there). DRM's floor
# is 5000 at every size (drm-root 5020, drm-depth4 5050; own code 10, 30
# and 50), and so is V4L2's (v4l2-root and v4l2-depth4 5030); the
# bench kernel's memcg-none 9000, memcg 9500, memcg-page 9000 + 30 a page.
for run in 1 2; do
	for mode in disabled root depth4 onehop-pidfd memcg memcg-buffer; do
		case $mode in disabled) add=0 ;; onehop-pidfd) add=300 ;; memcg) add=600 ;; *) add=40 ;; esac
		own=$add
		[ $mode = depth4 ] && own=30
		[ $mode = memcg ] && own=0
		mark=0
		for size in 4096 65536 1048576 16777216; do
			mark=$((mark + 1))
			big=0
			[ $size -lt 1048576 ] || big=$((size / 16))
			echo "icount mode=$mode size=$size allocs=100 warmup=10 mark=$mark" \
				"kernel=$(((8000 + add + big) * 100)) user=1300 own=$(((10 + own) * 100))"
		done >"$dir/icount-$mode-$run.results"
	done
	for mode in drm-disabled:0:0 drm-root:20:20 drm-depth4:50:40 \
		v4l2-disabled:0:0 v4l2-root:30:30 v4l2-depth4:30:30 \
		bench-memcg-none:4000:0 bench-memcg:4500:0 bench-memcg-page:4000:0; do
		add=${mode#*:}
		own=${add#*:}
		add=${add%:*}
		mode=${mode%%:*}
		mark=0
		for size in 4096 65536 1048576 16777216; do
			mark=$((mark + 1))
			kernel=$((5000 + add))
			[ $mode = bench-memcg-page ] && kernel=$((kernel + 30 * size / 4096))
			echo "icount mode=$mode size=$size allocs=100 warmup=10 mark=$mark" \
				"kernel=$((kernel * 100)) user=1300 own=$(((10 + own) * 100))"
		done >"$dir/icount-$mode-$run.results"
	done
	for devices in 1 1024; do
		echo "icount core=try_charge depth=4 devices=$devices iterations=1000" \
			"mark=$devices kernel=$((100000 + devices)) user=0 own=0"
	done >"$dir/icount-core-$run.results"
done
cat >"$dir/recorded.rst" <<'RST'
  buffer_cg benchmark: commit abc1234, host test, 2 CPUs

  Kernel instructions per buffer: ...

    mode                           4 KiB      64 KiB       1 MiB      16 MiB
    disabled                      8000.0      8000.0     73536.0   1056576.0
    depth4                        8030.0      8040.0     73576.0   1056616.0

RST

n=0 failed=0
# expect DESCRIPTION PATTERN: the report's output matches PATTERN.
expect() {
	n=$((n + 1))
	if grep -Eq -- "$2" <<<"$out"; then
		echo "ok $n $1"
	else
		echo "not ok $n $1: no line matching '$2'"
		failed=1
	fi
}
report() { python3 "$TOP/scripts/bench-report.py" --icount --bench "$dir" --recorded "$dir/recorded.rst"; }

echo "TAP version 13"
echo "1..22"
out=$(report)
expect "two identical runs are said to be" "run 2 and run 1: identical, all 60 counts"
expect "kernel instructions per buffer" "^  depth4 +8040\.0 +8040\.0 +73576\.0 +1056616\.0$"
expect "ratio to disabled" "^  depth4 +1\.00500 +1\.00500"
expect "instructions added per buffer" "^  onehop-pidfd +\+300\.0 +\+300\.0"
expect "one hop over depth4" "^  onehop-pidfd +1\.03234"
expect "the difference from the recorded run, 0 where equal" \
	"^  depth4 +\+10\.0 +0 +0 +0$"
expect "a target judged by the controller's own code" \
	"depth-4 overhead at 4 KiB <= 1%: own code 0\.375%  met"
expect "the 1 MiB target judged where the floor grows" \
	"from 1 MiB up <= 0\.1%: own code worst 0\.0408%  met"
expect "the allocator state: whole and own differ by 10 at depth 4" \
	"by up to 10 at 4 KiB, 10 at 64 KiB"
expect "a whole count resolved beyond the allocator state" "whole count 0\.500%  met"
expect "memcg's bulk charge over memcg-buffer, a whole count beyond the allocator state" \
	"whole count: x1\.0697  MISSED"
expect "the devices target" "core at 1024 devices within 1% of 1 device: x1\.0102  MISSED"
expect "DRM's depth 4 over DRM's own floor, not the heaps'" "^  drm-depth4 +1\.01000 +1\.01000"
expect "a family's target judged by its own code over its own floor" \
	"^  DRM buffers, over drm-disabled:"
expect "... at 4 KiB" "depth-4 overhead at 4 KiB <= 1%: own code 0\.800%  met"
expect "... its whole count unresolved inside its allocator state (10)" \
	"whole count 1\.000%  not resolved \(allocator state\)"
expect "no 1 MiB target over a floor that does not grow with the size" \
	"from 1 MiB up <= 0\.1%: not judged: drm-disabled does not grow"
expect "... but 1% at every size" "at every size <= 1% instead: own code worst 0\.800% at 4 KiB  met"
expect "V4L2's depth 4 over V4L2's own floor" "^  v4l2-depth4 +1\.00600 +1\.00600"
expect "memcg page by page: what it adds per page" \
	"grows \+30\.0 per page from 4 to 64 KiB, \+30\.0 from 1 to 16 MiB"
expect "memcg page by page over bulk" "page by page / bulk: x0\.951 at 4 KiB"
sed -i '1s/kernel=804000 /kernel=804001 /' "$dir/icount-depth4-2.results"
out=$(report)
expect "a count that differs between runs is named" \
	"run 2 DIFFERS from run 1 in 1 of 60 counts: depth4 4 KiB"
exit $failed
