#!/bin/sh
# In-guest TAP test of the buffer-cg CLI: its numbers against cgroupfs and
# fdinfo, what cgroups hold that others pay for, its JSON, its exit codes,
# what it says without cgroup2 or the controller and as a user who cannot
# read others' fds, and leaks finding two planted leaks.
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
# until_held PID N: wait (up to 10 s) until PID holds N dma-buf fds.
until_held() {
	for _ in $(seq 100); do
		[ "$(ls -l /proc/$1/fd 2>/dev/null | grep -c dmabuf)" = "$2" ] && return 0
		sleep 0.1
	done
}
# device_of CGROUP DEVICE < top -o json: that cgroup's object for DEVICE
device_of() {
	grep -o "{\"cgroup\": \"$1\", \"depth\": [0-9]*, \"devices\": \[[^]]*\]" |
		grep -o "{\"device\": \"$2\", [^}]*}"
}
# as_nobody COMMAND...: run COMMAND as nobody, who cannot read root's fds
as_nobody() { su -s /bin/sh nobody -c "$*"; }
# json_ok DESCRIPTION JSON [--lines]: json-check accepts JSON (not in a
# pipeline: a subshell's count would be lost)
json_ok() {
	if err=$(printf '%s\n' "$2" | json-check ${3:-} 2>&1); then ok "$1"; else not_ok "$1: $err"; fi
}

echo "TAP version 13"
echo "1..57"
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
bochs_card=$(basename /sys/bus/pci/devices/$bochs/drm/card*)
check "get names a PCI GPU's card and driver" \
	"$(buffer-cg get / | awk -v d="drm/$bochs" '$1 == d {print $9, $10}')" "$bochs_card bochs-drm"
check "get names virtio-gpu's DRM driver, not its PCI device's" \
	"$(buffer-cg get / | awk -v d="drm/$(ls /sys/bus/pci/drivers/virtio-pci | grep '^0000:')" \
		'$1 == d {print $10}')" virtio_gpu
check "get names vgem's card" \
	"$(buffer-cg get / | awk '$1 == "drm/vgem" {print $9, $10}')" \
	"$(basename /sys/devices/platform/vgem/drm/card*) vgem"
check "get says what a heap is" \
	"$(buffer-cg get / | awk '$1 == "heap/system" || $1 == "heap/reserved" {print $9, $10}' | sort | tr '\n' ';')" \
	"reserved heap;system heap;"
get_json=$(buffer-cg get -o json /)
json_ok "get -o json is JSON" "$get_json"
check "get -o json: a heap's kind and name" \
	"$(echo "$get_json" | grep -c '{"device": "heap/system", "kind": "heap", "heap": "system", "what": "system heap", "current": [0-9]*, "max": null, "peak": null, ')" 1
check "get -o json: a GPU's kind, card and driver" \
	"$(echo "$get_json" | grep -c "{\"device\": \"drm/$bochs\", \"kind\": \"drm\", \"card\": \"$bochs_card\", \"driver\": \"bochs-drm\", \"what\": \"$bochs_card bochs-drm\"")" 1

# top -b
check "top -b shows the cgroup's usage in bytes" \
	"$(buffer-cg top -b | awk '$1 == "cli" {print $2, $3, $4}')" "heap/system 3145728 8388608"
check "top -b -n 2 prints two snapshots" "$(buffer-cg top -b -n 2 -d 0.1 | grep -c '^CGROUP')" 2
check "top -b says what each device shown is" \
	"$(buffer-cg top -b | awk '$1 == "heap/system" && NF == 3 {print $2, $3}')" "system heap"
top_json=$(buffer-cg top -b -n 2 -d 0.1 -o json)
json_ok "top -o json -n 2 is two lines of JSON" "$top_json" --lines
check "...two snapshots, with the cgroup's numbers" \
	"$(echo "$top_json" | device_of /cli heap/system | grep -c '^{"device": "heap/system", "kind": "heap", "heap": "system", "what": "system heap", "current": 3145728, "max": 8388608, "peak": 3145728, "held_from_others": 0, "held_by_others": 0}$')" 2

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

# Held from others, held by others: an allocator service that charges
# itself hands two 2 MiB buffers to a client in a sibling cgroup, and a
# holder in cli holds its own. The service pays for what the client holds.
mkdir -p $cg/shared/svc $cg/shared/user
echo +buffer >$cg/shared/cgroup.subtree_control
in_cgroup shared/svc buffer-allocd --socket /tmp/held.sock --charge self >/dev/null
svc=$!
for _ in $(seq 50); do [ -S /tmp/held.sock ] && break; sleep 0.1; done
in_cgroup shared/user buffer-client --socket /tmp/held.sock --size 2M --count 2 --hold >/dev/null
user=$!
until_held $user 2
get_row() { buffer-cg get "$1" | awk '$1 == "heap/system" {print $2, $7, $8}'; }
check "get: the client pays nothing, holds 4 MiB another cgroup pays for" \
	"$(get_row shared/user)" "0 4194304 0"
check "get: the service pays 4 MiB that another cgroup holds" \
	"$(get_row shared/svc)" "4194304 0 4194304"
check "get: their parent pays and holds it all, nothing from or by others" \
	"$(get_row shared)" "4194304 0 0"
check "get: a cgroup that holds what it pays for: nothing from or by others" \
	"$(get_row cli)" "3145728 0 0"
check "top -b: the client's row, shown for what it holds" \
	"$(buffer-cg top -b | awk '$1 == "user" {print $2, $3, $6, $7}')" "heap/system 0 4194304 0"
check "top -b: the service's row" \
	"$(buffer-cg top -b | awk '$1 == "svc" {print $2, $3, $6, $7}')" "heap/system 4194304 0 4194304"
user_json=$(buffer-cg get -o json shared/user)
json_ok "get -o json of the client is JSON" "$user_json"
check "get -o json: held_from_others and held_by_others" \
	"$(echo "$user_json" | grep -c '"device": "heap/system", .*"current": 0, "max": "max", "peak": 0, "events_max": 0, "buffers": 0, "held_from_others": 4194304, "held_by_others": 0}')" 1
check "get -o json: complete as root" "$(echo "$user_json" | grep -c '^{"cgroup": "/shared/user", "partial": false, ')" 1
check "top -o json: the service's numbers" \
	"$(buffer-cg top -o json | device_of /shared/svc heap/system | sed 's/.*"current"/"current"/')" \
	'"current": 4194304, "max": "max", "peak": 4194304, "held_from_others": 0, "held_by_others": 4194304}'

# As nobody, who cannot read root's processes' fds: partial results,
# marked as such, exit 3; what nobody's own processes hold is still there.
expect_exit 3 "partial results: could not read the file descriptors" \
	"get as nobody: partial, says so, exits 3" as_nobody buffer-cg get shared/user
check "...the table marks the held columns partial" \
	"$(as_nobody buffer-cg get shared/user 2>/dev/null | grep -c '^# partial')" 1
nobody_json=$(as_nobody buffer-cg get -o json shared/user 2>/dev/null)
json_ok "get -o json as nobody is JSON" "$nobody_json"
check "...marked partial, and it still has the cgroup's own numbers" \
	"$(echo "$nobody_json" | grep -c '^{"cgroup": "/shared/user", "partial": true, ')/$(echo "$nobody_json" | grep -c '"heap/system".*"current": 0, ')" 1/1
expect_exit 3 "partial results" "top -b as nobody: partial, exits 3" as_nobody buffer-cg top -b
check "...top -o json as nobody is marked partial" \
	"$(as_nobody buffer-cg top -o json 2>/dev/null | grep -c '^{"time": [0-9]*, "partial": true, ')" 1
expect_exit 3 "partial results" "dump as nobody: partial, exits 3" as_nobody buffer-cg dump
expect_exit 3 "among the processes buffer-cg could read (partial)" \
	"leaks as nobody: no 'no leaks found' without saying partial, exits 3" as_nobody buffer-cg leaks
chmod o+rw /dev/dma_heap/system
in_cgroup cli su -s /bin/sh nobody -c "exec buffer-client --direct --size 1M --hold" >/dev/null
mine=$!
until_held $mine 1
chmod o-rw /dev/dma_heap/system
check "dump as nobody still lists nobody's own buffer, charged to cli" \
	"$(as_nobody buffer-cg dump --pid $mine -o csv 2>/dev/null | tail -n +2 | cut -d, -f2,4,5)" \
	"1048576,heap/system,/cli"
kill $mine $svc $user
wait $mine $svc $user 2>/dev/null
rm -f /tmp/held.sock

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
expect_exit 2 "not csv" "top -o csv exits 2" buffer-cg top -o csv
expect_exit 2 "bad output format 'xml'" "get -o xml exits 2" buffer-cg get -o xml cli
expect_exit 2 "usage: buffer-cg get" "get without a cgroup exits 2" buffer-cg get
mkdir -p /tmp/nocontroller
expect_exit 1 "/tmp/nocontroller is not a cgroup2 directory" "--root not a cgroup: exits 1 and says why" \
	buffer-cg --root /tmp/nocontroller get /
# A cgroup whose parent does not enable +buffer has no buffer.* files.
mkdir -p $cg/nobuffer/child
expect_exit 1 "controller is not available in $cg/nobuffer/child" \
	"no controller in that cgroup: exits 1 and says why" buffer-cg --root $cg/nobuffer/child top -b
rmdir $cg/nobuffer/child $cg/nobuffer
expect_exit 1 "no cgroup2 file system is mounted" "without cgroup2: exits 1 and says why" \
	unshare -m sh -c "umount $cg && exec buffer-cg top -b"

for g in cli cli_moved other shared/svc shared/user shared; do rmdir $cg/$g; done
exit $failed
