#!/bin/sh
# In-guest TAP test of the buffer-cg CLI: its numbers against cgroupfs and
# fdinfo, its exit codes, and leaks finding two planted leaks.
set -u
. ./tap.sh
value() { awk -v d="$2" '$1 == d {print $2}' "$cg/$1/$3"; }
# until_current CGROUP BYTES: wait (up to 10 s) for the holder's allocations.
until_current() {
	for _ in $(seq 100); do
		[ "$(value "$1" heap/system buffer.current)" = "$2" ] && return 0
		sleep 0.1
	done
}
dmabuf_fd() { ls -l /proc/$1/fd | awk '/dmabuf/ {print $9; exit}'; }

echo "TAP version 13"
echo "1..26"
grep -qw buffer $cg/cgroup.subtree_control || echo +buffer >$cg/cgroup.subtree_control
for g in cli cli_moved cli_gone other; do mkdir -p $cg/$g; done

# set and get against cgroupfs
buffer-cg set cli heap/system=8M heap/reserved=max
check "set writes buffer.max" "$(value cli heap/system buffer.max)" 8388608
in_cgroup cli buffer-client --direct --size 1M --count 3 --hold >/dev/null
holder=$!
until_current cli 3145728
check "get CURRENT is the 3 MiB the holder allocated" \
	"$(buffer-cg get cli | awk '$1 == "heap/system" {print $2}')" 3145728
check "...and so is buffer.current" "$(value cli heap/system buffer.current)" 3145728
check "get MAX, PEAK, BUFFERS" \
	"$(buffer-cg get /sys/fs/cgroup/cli | awk '$1 == "heap/system" {print $3, $4, $6}')" \
	"8388608 3145728 3"
check "get on the root has no limit columns" \
	"$(buffer-cg get / | awk '$1 == "heap/system" {print $3, $4}')" "- -"
# A DRM device: its card and driver next to its name (drm/<PCI address>).
bochs=$(ls /sys/bus/pci/drivers/bochs-drm | grep '^0000:')
check "get names a PCI GPU's card and driver" \
	"$(buffer-cg get / | awk -v d="drm/$bochs" '$1 == d {print $8}')" bochs-drm
check "get names virtio-gpu's DRM driver, not its PCI device's" \
	"$(buffer-cg get / | awk -v d="drm/$(ls /sys/bus/pci/drivers/virtio-pci | grep '^0000:')" \
		'$1 == d {print $8}')" virtio_gpu
check "get names vgem's card" \
	"$(buffer-cg get / | awk '$1 == "drm/vgem" {print $7, $8}')" \
	"$(basename /sys/devices/platform/vgem/drm/card*) vgem"

# top -b
check "top -b shows the cgroup's usage in bytes" \
	"$(buffer-cg top -b | awk '$1 == "cli" {print $2, $3, $4}')" "heap/system 3145728 8388608"
check "top -b -n 2 prints two snapshots" "$(buffer-cg top -b -n 2 -d 0.1 | grep -c '^CGROUP')" 2

# dump against fdinfo
fd=$(dmabuf_fd $holder)
ino=$(stat -L -c %i /proc/$holder/fd/$fd)
line=$(buffer-cg dump --pid $holder -o csv | grep "^$ino,")
check "dump -o csv: size, exporter, device, cgroup of a held buffer" \
	"$(echo "$line" | cut -d, -f2-5)" "1048576,system,heap/system,/cli"
check "dump names the holder and its fds" \
	"$(echo "$line" | cut -d, -f6 | grep -c "^$holder(buffer-client):fd")" 1
check "dump --pid lists exactly the holder's buffers" \
	"$(buffer-cg dump --pid $holder -o csv | tail -n +2 | wc -l)" 3
# A header and only that: an empty output, a failed command, is no match.
check "dump --cgroup filters by charged cgroup" \
	"$(buffer-cg dump --cgroup other -o csv | cut -d, -f1 | tr '\n' ' ')/$(buffer-cg dump --cgroup cli -o csv | tail -n +2 | cut -d, -f2,5 | sort -u)" \
	"inode /1048576,/cli"
check "dump -o json is an array of buffers" \
	"$(buffer-cg dump --pid $holder -o json | grep -c '"device": "heap/system", "cgroup": "/cli"')" 3
check "fdinfo and dump agree on the charged cgroup" \
	"$(awk -F'\t' '$1 == "charge_cgroup:" {print $2}' /proc/$holder/fdinfo/$fd)" /cli
check "leaks: nothing while holders stay in place" "$(buffer-cg leaks)" "no leaks found"

# plant leaks: a holder that moved away, and a charged cgroup removed
echo $holder >$cg/cli_moved/cgroup.procs
in_cgroup cli_gone buffer-client --direct --size 2M --hold >/dev/null
gone=$!
until_current cli_gone 2097152
echo $gone >$cg/other/cgroup.procs
rmdir $cg/cli_gone
leaks=$(buffer-cg leaks -o csv)
check "leaks: the buffers of a holder that moved away" \
	"$(echo "$leaks" | grep -c ',/cli,.*held only from /cli_moved$')" 3
check "leaks: a buffer charged to a removed cgroup" \
	"$(echo "$leaks" | grep '^[0-9]*,2097152,' | grep -c 'its cgroup was removed$')" 1
kill $holder $gone
wait $holder $gone 2>/dev/null

# exit codes and messages
expect_exit 2 "expected DEVICE=LIMIT" "set: a malformed assignment exits 2" buffer-cg set cli heap/system
expect_exit 1 "unknown device" "set: an unknown device exits 1" buffer-cg set cli nosuch/dev=1M
expect_exit 1 "invalid limit" "set: a bad limit exits 1, nothing changed" buffer-cg set cli heap/system=-5
check "...and buffer.max is unchanged" "$(value cli heap/system buffer.max)" 8388608
expect_exit 1 "no cgroup 'nosuch'" "get: a missing cgroup exits 1" buffer-cg get nosuch
expect_exit 2 "unknown command" "an unknown command exits 2" buffer-cg frobnicate
mkdir -p /tmp/nocontroller
expect_exit 1 "controller is not available" "no controller: exits 1 and says why" \
	buffer-cg --root /tmp/nocontroller get /

for g in cli cli_moved other; do rmdir $cg/$g; done
exit $failed
