#!/usr/bin/env bash
# Boot the test kernel in QEMU and run one guest job (scripts/guest/run-JOB.sh).
# usage: run-guest.sh JOB [LOGNAME] [KERNEL-ARGS...]
# The console goes to build/logs/LOGNAME.console, the guest's test output
# (its second serial port) to build/logs/LOGNAME.results; STREAM=1 echoes the
# latter while the guest runs. The run fails if the guest goes quiet for
# QUIET_TIMEOUT seconds (default 120), panics, warns, or does not power off.
# CMA sets the size of the default CMA area (default 32M, as in the spec),
# MEM the guest's memory (default 1G). ICOUNT=PLUGIN[,ARG...] makes it a
# counting boot (see scripts/bench-icount.sh): the QEMU plugin PLUGIN
# (tools/icount) writes its counts to build/logs/LOGNAME.icount, on a
# machine whose every run executes the same instructions: one vCPU, guest
# time from the instruction count (-icount, so that interrupts land at the
# same instruction every run), the RTC on guest time from a fixed date, no
# KASLR, and neither GPU nor NIC (both GPUs together make boots differ).
# The job "shell" is interactive: the
# console is this terminal (Ctrl-A X quits QEMU), nothing is watched or
# checked, and QEMU's exit status is the run's.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

[ $# -ge 1 ] || die "usage: $0 JOB [LOGNAME] [KERNEL-ARGS...]"
job=$1
name=${2:-$1}
shift $(($# >= 2 ? 2 : 1))
kernel=${KERNEL:-$BUILD/bzImage}
initrd=${INITRD:-$BUILD/initramfs.cpio.gz}
quiet_timeout=${QUIET_TIMEOUT:-120}
cma=${CMA:-32M}
mem=${MEM:-1G}
[ -f "$kernel" ] || die "$kernel is missing: run 'make kernel'"
[ -f "$initrd" ] || die "$initrd is missing: run 'make initramfs'"

mkdir -p "$LOGS"
console=$LOGS/$name.console
results=$LOGS/$name.results
: >"$console"
: >"$results"

accel=$("$TOP/scripts/probe-accel.sh")
# Two real GPUs besides vgem, at the PCI addresses the tests name them by:
# -vga std (bochs-drm, drm/0000:00:02.0) and virtio-gpu-pci (virtio_gpu,
# drm/0000:00:04.0, after the default NIC).
machine=(-accel "$accel" -smp 2 -vga std -device "virtio-gpu-pci,addr=04.0")
append="console=ttyS0 cma=$cma panic=-1 run=$job"
if [ -n "${ICOUNT:-}" ]; then
	[ -f "${ICOUNT%%,*}" ] || die "${ICOUNT%%,*} is missing: run 'make icount-plugin'"
	machine=(-accel tcg -smp 1 -vga none -net none -icount shift=0,sleep=off
		-rtc base=2024-01-01T00:00:00,clock=vm
		-plugin "$ICOUNT" -d plugin -D "$LOGS/$name.icount")
	append+=" nokaslr"
	: >"$LOGS/$name.icount"
fi
cmd=(qemu-system-x86_64 "${machine[@]}" -m "$mem" -display none
	-no-reboot -kernel "$kernel" -initrd "$initrd" -append "$append $*")
if [ "$job" = shell ]; then
	exec "${cmd[@]}" -serial mon:stdio -serial "file:$results"
fi
"${cmd[@]}" -monitor none -serial "file:$console" -serial "file:$results" </dev/null &
qemu=$!

streamer=
if [ "${STREAM:-0}" = 1 ]; then
	tail -n +1 -f "$results" --pid="$qemu" &
	streamer=$!
fi

last=-1
quiet_since=$SECONDS
while kill -0 "$qemu" 2>/dev/null; do
	sleep 2
	size=$(($(stat -c %s "$console") + $(stat -c %s "$results")))
	if [ "$size" != "$last" ]; then
		last=$size
		quiet_since=$SECONDS
	elif ((SECONDS - quiet_since >= quiet_timeout)); then
		kill "$qemu" 2>/dev/null || true
		wait "$qemu" 2>/dev/null || true
		echo "error: guest '$name' silent for ${quiet_timeout}s; last console lines:" >&2
		tail -n 40 "$console" >&2
		exit 1
	fi
done
wait "$qemu" || true
[ -z "$streamer" ] || wait "$streamer" 2>/dev/null || true

# Reports, not the detectors' start-up lines: KASAN reports start with BUG:,
# lockdep's with WARNING: or these headings.
splat='Kernel panic|BUG:|WARNING:|Oops|general protection fault|INFO: task .* blocked|possible (recursive|circular) locking|inconsistent lock state|suspected memory leak|UBSAN|Out of memory'
if grep -Eq "$splat" "$console"; then
	echo "error: guest '$name' logged a kernel splat (full log: $console):" >&2
	grep -E -A 25 "$splat" "$console" | head -n 80 >&2
	exit 1
fi
if ! grep -q 'guest: powering off' "$console"; then
	echo "error: guest '$name' did not power off cleanly; last console lines:" >&2
	tail -n 40 "$console" >&2
	exit 1
fi
