#!/bin/sh
# The demo behind 'make': a transcript on the results port, which the host
# streams to the terminal. Each step says what it shows, then shows it.
exec >/dev/ttyS1 2>&1
cg=/sys/fs/cgroup
say() { printf '\n### %s\n' "$*"; }
run() { printf '$ %s\n' "$*"; sh -c "$*"; }
in_cgroup() { # CGROUP COMMAND...: start COMMAND inside CGROUP, in the background
	group=$1
	shift
	sh -c 'echo $$ > "$0/cgroup.procs" && exec "$@"' "$cg/$group" "$@" &
}
wait_for() { for _ in $(seq 50); do [ -e "$1" ] && return 0; sleep 0.1; done; }
settle() { sleep 0.5; }

say "The kernel we booted, and its cgroup controllers: 'buffer' is ours"
run "uname -r"
run "cat $cg/cgroup.controllers"

say "Enable it for the root's children; with it come the root's buffer.* files: the devices and their sizes"
run "echo +buffer > $cg/cgroup.subtree_control"
run "cat $cg/buffer.capacity"

say "A cgroup that may hold at most 8 MiB of system-heap buffers"
run "mkdir $cg/demo"
run "echo 'heap/system 8M' > $cg/demo/buffer.max"
run "cat $cg/demo/buffer.max"

say "A process in it allocates 1 MiB buffers: the 9th is refused with ENOMEM"
in_cgroup demo buffer-client --direct --size 1M --count 9 --hold
filler=$!
settle
run "cat $cg/demo/buffer.current"
run "cat $cg/demo/buffer.events"
run "cat $cg/demo/buffer.stat"
kill $filler
wait $filler 2>/dev/null
say "Its buffers are freed with it"
run "cat $cg/demo/buffer.current"

say "One hop: an allocator daemon (cgroup 'allocator') serves two apps and charges each app"
for g in allocator compositor app1 app2 app3; do mkdir $cg/$g; done
in_cgroup allocator buffer-allocd --socket /tmp/allocator.sock
allocd=$!
wait_for /tmp/allocator.sock
in_cgroup app1 buffer-client --socket /tmp/allocator.sock --size 2M --hold
app1=$!
in_cgroup app2 buffer-client --socket /tmp/allocator.sock --size 1M --count 3 --hold
app2=$!
settle
for g in allocator app1 app2; do run "cat $cg/$g/buffer.current | grep system"; done

say "Two hops: app3 asks a compositor, which gets the buffer from the allocator (charged to the compositor) and transfers the charge to app3"
in_cgroup compositor buffer-compositor --allocator /tmp/allocator.sock --socket /tmp/compositor.sock
comp=$!
wait_for /tmp/compositor.sock
in_cgroup app3 buffer-client --socket /tmp/compositor.sock --size 4M --hold
app3=$!
settle
for g in compositor app3; do
	run "cat $cg/$g/buffer.current | grep system"
	run "cat $cg/$g/buffer.stat | grep system"
done

say "Who pays for app3's buffer, from its fdinfo"
fd=$(ls -l /proc/$app3/fd | awk '/dmabuf/ {print $9; exit}')
[ -n "$fd" ] && run "cat /proc/$app3/fdinfo/$fd"

say "What an operator sees: the tree of cgroups with usage and limits"
run "buffer-cg top -b"

say "Every dma-buf, who pays for it and who holds it"
run "buffer-cg dump"

kill $app1 $app2 $app3 $allocd $comp 2>/dev/null
wait 2>/dev/null
say "Everything released"
run "cat $cg/buffer.current"
