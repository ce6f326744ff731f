// SPDX-License-Identifier: GPL-2.0
/*
 * dma_heap.mem_accounting=1: a system heap buffer is charged as a whole to
 * the memory cgroup of the cgroup that pays for it in the buffer
 * controller, and moves with it. Run on a kernel booted with it, with the
 * buffer controller enabled (both controllers must agree) and with
 * cgroup_disable=buffer (charge_fd and transfer still name whom memcg
 * charges).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/sysinfo.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../kselftest.h"
#include "cgroup_util.h"
#include "buffer_util.h"

/*
 * The buffer size, and what a memcg's per-CPU stock may keep charged after
 * a release (64 pages per CPU), set by main(): memory.stat is flushed on a
 * read only once more than 64 pages per CPU changed since the last flush,
 * so every size a test reads back in memory.stat must exceed that.
 */
static long sz, slack;

static bool buffer_on;
static char *top, *alloc_cg, *mid_cg, *client_cg;

static int pidfd_open(pid_t pid)
{
	return syscall(SYS_pidfd_open, pid, 0);
}

static long dmabuf_of(const char *cg)
{
	return cg_read_key_long(cg, "memory.stat", "dmabuf ");
}

static long kernel_of(const char *cg)
{
	return cg_read_key_long(cg, "memory.stat", "kernel ");
}

static long max_events_of(const char *cg)
{
	return cg_read_key_long(cg, "memory.events", "max ");
}

/*
 * Does @cg pay @want bytes of dma-bufs, in memory.stat's dmabuf and, with
 * the buffer controller, in buffer.current, which must agree?
 */
static bool pays(const char *cg, long want)
{
	long memcg = dmabuf_of(cg), buffer = buffer_on ? current_of(cg, "heap/system") : want;

	if (memcg == want && buffer == want)
		return true;
	ksft_print_msg("%s: dmabuf %ld, buffer.current %ld, want %ld\n",
		       cg, memcg, buffer, want);
	return false;
}

static long current_bytes(const char *cg)
{
	return cg_read_long(cg, "memory.current");
}

/*
 * Has @cg's memory.current moved by @want bytes since it read @before, give
 * or take @tolerance: 0 for a cgroup that never held a process, the slack
 * of the per-CPU stocks for one that did, as its own charges may be drained
 * from a stock meanwhile?
 */
static bool moved_by(const char *cg, long before, long want, long tolerance)
{
	long delta = current_bytes(cg) - before;

	if (delta >= want - tolerance && delta <= want + tolerance)
		return true;
	ksft_print_msg("%s: memory.current moved by %ld, want %ld (+-%ld)\n",
		       cg, delta, want, tolerance);
	return false;
}

/* A process that sleeps in @cg until killed, or -1. */
static pid_t sleeper(const char *cg)
{
	pid_t pid = fork();

	if (pid == 0) {
		pause();
		_exit(0);
	}
	if (pid > 0 && cg_enter(cg, pid)) {
		kill(pid, SIGKILL);
		waitpid(pid, NULL, 0);
		return -1;
	}
	return pid;
}

static void reap(pid_t pid)
{
	if (pid > 0) {
		kill(pid, SIGKILL);
		waitpid(pid, NULL, 0);
	}
}

static void close_if(int fd)
{
	if (fd >= 0)
		close(fd);
}

/* A cgroup fd, for charge_fd and DMA_BUF_IOCTL_TRANSFER_CHARGE. */
static int open_cgroup(const char *cg)
{
	return open(cg, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
}

static int open_heap(void)
{
	return open("/dev/dma_heap/system", O_RDONLY | O_CLOEXEC);
}

/* Direct allocation: the caller's memory.current holds it, once. */
static int test_direct(const char *root)
{
	long cur0, kern0, sock0, cur;
	int ret = KSFT_FAIL, buf;

	if (cg_enter_current(alloc_cg))
		return KSFT_FAIL;
	cur0 = cg_read_long(alloc_cg, "memory.current");
	kern0 = kernel_of(alloc_cg);
	sock0 = cg_read_key_long(alloc_cg, "memory.stat", "sock ");
	buf = buffer_heap_alloc("system", sz);
	if (buf < 0) {
		ksft_print_msg("allocation: %s\n", strerror(-buf));
		goto out;
	}
	cur = cg_read_long(alloc_cg, "memory.current");
	if (!pays(alloc_cg, sz))
		goto out;
	if (cur - cur0 < sz || cur - cur0 > sz + slack) {
		ksft_print_msg("memory.current grew by %ld, want %ld\n", cur - cur0, sz);
		goto out;
	}
	/* Not also as kernel memory, as __GFP_ACCOUNT pages would be. */
	if (kernel_of(alloc_cg) - kern0 > slack ||
	    cg_read_key_long(alloc_cg, "memory.stat", "sock ") != sock0) {
		ksft_print_msg("kernel %ld -> %ld, sock %ld\n", kern0,
			       kernel_of(alloc_cg), sock0);
		goto out;
	}
	close(buf);
	buf = -1;
	if (!pays(alloc_cg, 0))
		goto out;
	cur = cg_read_long(alloc_cg, "memory.current");
	if (cur > cur0 + slack) {
		ksft_print_msg("memory.current %ld after release, was %ld\n", cur, cur0);
		goto out;
	}
	ret = KSFT_PASS;
out:
	close_if(buf);
	cg_enter_current(root);
	return ret;
}

/*
 * The root cgroup's memcg has no counter to charge: a buffer of a process
 * there shows in its memory.stat and leaves no underflow when released
 * (which the boot's check for kernel warnings would catch).
 */
static int test_root(const char *root)
{
	long before = dmabuf_of(root);
	int buf, ret = KSFT_PASS;

	buf = buffer_heap_alloc("system", sz);
	if (buf < 0) {
		ksft_print_msg("allocation: %s\n", strerror(-buf));
		return KSFT_FAIL;
	}
	if (dmabuf_of(root) - before != sz) {
		ksft_print_msg("root dmabuf %ld -> %ld\n", before, dmabuf_of(root));
		ret = KSFT_FAIL;
	}
	close(buf);
	if (dmabuf_of(root) != before) {
		ksft_print_msg("root dmabuf %ld after release, was %ld\n",
			       dmabuf_of(root), before);
		ret = KSFT_FAIL;
	}
	return ret;
}

/* One hop: the allocator charges its client, by pidfd or by cgroup fd. */
static int one_hop(const char *root, bool by_pidfd)
{
	int ret = KSFT_FAIL, heap = -1, charge_fd = -1, buf = -1;
	long client0, alloc0;
	pid_t client = sleeper(client_cg);

	if (client < 0 || cg_enter_current(alloc_cg))
		goto out;
	heap = open_heap();
	charge_fd = by_pidfd ? pidfd_open(client) :
			       open_cgroup(client_cg);
	if (heap < 0 || charge_fd < 0)
		goto out;
	client0 = cg_read_long(client_cg, "memory.current");
	alloc0 = current_bytes(alloc_cg);
	buf = buffer_heap_alloc_charged(heap, sz, charge_fd);
	if (buf < 0) {
		ksft_print_msg("allocation: %s\n", strerror(-buf));
		goto out;
	}
	if (!pays(client_cg, sz) || !pays(alloc_cg, 0))
		goto out;
	/*
	 * In memory.current, not only in memory.stat; not the allocator's.
	 * The client's own stock may be drained meanwhile: within the slack.
	 */
	if (!moved_by(client_cg, client0, sz, slack) || !moved_by(alloc_cg, alloc0, 0, slack))
		goto out;
	close(buf);
	buf = -1;
	if (pays(client_cg, 0) && pays(alloc_cg, 0) &&
	    moved_by(client_cg, client0, 0, slack) && moved_by(alloc_cg, alloc0, 0, slack))
		ret = KSFT_PASS;
out:
	close_if(buf);
	close_if(charge_fd);
	close_if(heap);
	cg_enter_current(root);
	reap(client);
	return ret;
}

static int test_one_hop_pidfd(const char *root)
{
	return one_hop(root, true);
}

static int test_one_hop_cgroup_fd(const char *root)
{
	return one_hop(root, false);
}

/*
 * Two hops: the allocator charges the middle process, which moves the
 * charge to its client, then back.
 */
static int test_two_hops(const char *root)
{
	int ret = KSFT_FAIL, heap = -1, mid = -1, client = -1, buf = -1, err;
	pid_t mid_pid = sleeper(mid_cg), client_pid = sleeper(client_cg);
	long mid0, client0, alloc0;

	if (mid_pid < 0 || client_pid < 0 || cg_enter_current(alloc_cg))
		goto out;
	heap = open_heap();
	mid = pidfd_open(mid_pid);
	client = pidfd_open(client_pid);
	if (heap < 0 || mid < 0 || client < 0)
		goto out;
	mid0 = current_bytes(mid_cg);
	client0 = current_bytes(client_cg);
	alloc0 = current_bytes(alloc_cg);
	buf = buffer_heap_alloc_charged(heap, sz, mid);
	if (buf < 0 || !pays(mid_cg, sz))
		goto out;
	if (!moved_by(mid_cg, mid0, sz, slack) || !moved_by(client_cg, client0, 0, slack))
		goto out;
	err = transfer_charge(buf, client);
	if (err) {
		ksft_print_msg("transfer: %s\n", strerror(-err));
		goto out;
	}
	if (!pays(mid_cg, 0) || !pays(client_cg, sz) || !pays(alloc_cg, 0))
		goto out;
	/* memory.current moves with memory.stat; the allocator's stays. */
	if (!moved_by(mid_cg, mid0, 0, slack) || !moved_by(client_cg, client0, sz, slack) ||
	    !moved_by(alloc_cg, alloc0, 0, slack))
		goto out;
	/* A second move starts from where the first one left it. */
	if (transfer_charge(buf, mid) || !pays(mid_cg, sz) || !pays(client_cg, 0))
		goto out;
	if (!moved_by(mid_cg, mid0, sz, slack) || !moved_by(client_cg, client0, 0, slack))
		goto out;
	/* To where it already is: nothing changes. */
	if (transfer_charge(buf, mid) || !pays(mid_cg, sz))
		goto out;
	if (!moved_by(mid_cg, mid0, sz, slack) || !moved_by(client_cg, client0, 0, slack))
		goto out;
	close(buf);
	buf = -1;
	if (pays(mid_cg, 0) && pays(client_cg, 0) && moved_by(mid_cg, mid0, 0, slack) &&
	    moved_by(client_cg, client0, 0, slack) && moved_by(alloc_cg, alloc0, 0, slack))
		ret = KSFT_PASS;
out:
	close_if(buf);
	close_if(client);
	close_if(mid);
	close_if(heap);
	cg_enter_current(root);
	reap(client_pid);
	reap(mid_pid);
	return ret;
}

static int enable(const char *cg, const char *controller)
{
	char ctl[16];

	if (!cg_read_strstr(cg, "cgroup.subtree_control", controller + 1))
		return 0;
	snprintf(ctl, sizeof(ctl), "%s", controller);
	return cg_write(cg, "cgroup.subtree_control", ctl);
}

/* Set @cg's memory.max @room bytes above its memory.current. */
static int limit(const char *cg, long room)
{
	char max[32];

	snprintf(max, sizeof(max), "%ld", cg_read_long(cg, "memory.current") + room);
	return cg_write(cg, "memory.max", max);
}

/*
 * memory.max refuses a buffer with ENOMEM before any page is allocated,
 * counts it once in memory.events (a buffer larger than the limit is
 * refused without reclaim), and nobody is charged: not the client, not
 * the allocator, in neither controller. The same for a direct allocation.
 */
static int test_memory_max(const char *root)
{
	int ret = KSFT_FAIL, heap = -1, client = -1, buf = -1;
	long events;

	if (cg_enter_current(alloc_cg))
		goto out;
	heap = open_heap();
	client = open_cgroup(client_cg);
	if (heap < 0 || client < 0 || limit(client_cg, sz / 4))
		goto out;
	events = max_events_of(client_cg);
	buf = buffer_heap_alloc_charged(heap, sz, client);
	if (buf != -ENOMEM) {
		ksft_print_msg("one hop over memory.max: %d, want -ENOMEM\n", buf);
		goto out;
	}
	/* Refused at once: one event, not one per pass of reclaim. */
	if (max_events_of(client_cg) != events + 1) {
		ksft_print_msg("memory.events max: %ld refusals counted, want 1\n",
			       max_events_of(client_cg) - events);
		goto out;
	}
	if (!pays(client_cg, 0) || !pays(alloc_cg, 0))
		goto out;

	/* Directly, by a process in the limited cgroup. */
	if (cg_enter_current(client_cg))
		goto out;
	events = max_events_of(client_cg);
	buf = buffer_heap_alloc("system", sz);
	if (buf != -ENOMEM || max_events_of(client_cg) != events + 1) {
		ksft_print_msg("direct over memory.max: %d, want -ENOMEM\n", buf);
		goto out;
	}
	buf = -1;
	if (!pays(client_cg, 0))
		goto out;
	/* Under the limit, it fits (enough pages for memory.stat to flush). */
	buf = buffer_heap_alloc("system", 3 * sz / 16);
	if (buf < 0 || !pays(client_cg, 3 * sz / 16))
		goto out;
	ret = KSFT_PASS;
out:
	close_if(buf);
	close_if(client);
	close_if(heap);
	cg_enter_current(root);
	cg_write(client_cg, "memory.max", "max");
	return ret;
}

/*
 * A buffer under memory.max but over what the limit leaves free is refused
 * after reclaim, allocated or moved alike, with one "max" event, however
 * many passes of reclaim it took, and nothing charged.
 */
static int test_one_event_per_refusal(const char *root)
{
	int ret = KSFT_FAIL, heap = -1, t = -1, u = -1, held = -1, buf = -1, err;
	char *t_cg, *u_cg = NULL;
	long t0, events;

	/* Never to hold a process: memory.current is their buffers alone. */
	t_cg = make_cgroup(top, "refuse_t");
	u_cg = make_cgroup(top, "refuse_u");
	if (!t_cg || !u_cg || cg_enter_current(alloc_cg))
		goto out;
	heap = open_heap();
	t = open_cgroup(t_cg);
	u = open_cgroup(u_cg);
	if (heap < 0 || t < 0 || u < 0)
		goto out;
	held = buffer_heap_alloc_charged(heap, sz / 2, t);
	buf = buffer_heap_alloc_charged(heap, sz, u);
	if (held < 0 || buf < 0 || limit(t_cg, sz / 2))
		goto out;
	t0 = current_bytes(t_cg);

	events = max_events_of(t_cg);
	err = buffer_heap_alloc_charged(heap, sz, t);
	if (err != -ENOMEM) {
		ksft_print_msg("allocation over the room left: %d, want -ENOMEM\n", err);
		if (err >= 0)
			close(err);
		goto out;
	}
	if (max_events_of(t_cg) != events + 1) {
		ksft_print_msg("allocation: %ld max events, want 1\n",
			       max_events_of(t_cg) - events);
		goto out;
	}
	if (!pays(t_cg, sz / 2) || !moved_by(t_cg, t0, 0, 0))
		goto out;

	events = max_events_of(t_cg);
	err = transfer_charge(buf, t);
	if (err != -ENOMEM || max_events_of(t_cg) != events + 1) {
		ksft_print_msg("move over the room left: %d, %ld max events; want -ENOMEM, 1\n",
			       err, max_events_of(t_cg) - events);
		goto out;
	}
	if (pays(t_cg, sz / 2) && pays(u_cg, sz) && moved_by(t_cg, t0, 0, 0))
		ret = KSFT_PASS;
out:
	close_if(buf);
	close_if(held);
	close_if(u);
	close_if(t);
	close_if(heap);
	cg_enter_current(root);
	remove_cgroup(u_cg);
	remove_cgroup(t_cg);
	return ret;
}

/*
 * A buffer that a parent's memory.max refuses leaves no trace in the
 * memory.peak of its child, which has no limit: the charge looks for room
 * at every level before it raises a counter.
 */
static int test_refusal_no_peak(const char *root)
{
	int ret = KSFT_FAIL, heap = -1, c = -1, sib = -1, held = -1, err;
	char *p_cg, *c_cg = NULL, *s_cg = NULL;
	long peak;

	/* Never to hold a process: memory.peak is their buffers alone. */
	p_cg = make_cgroup(top, "peak_p");
	if (!p_cg || enable(p_cg, "+memory") || (buffer_on && enable(p_cg, "+buffer")))
		goto out;
	c_cg = make_cgroup(p_cg, "c");
	s_cg = make_cgroup(p_cg, "s");
	if (!c_cg || !s_cg || cg_enter_current(alloc_cg))
		goto out;
	heap = open_heap();
	c = open_cgroup(c_cg);
	sib = open_cgroup(s_cg);
	if (heap < 0 || c < 0 || sib < 0)
		goto out;
	/* The parent holds half a buffer in s and has room for 3/4 more. */
	held = buffer_heap_alloc_charged(heap, sz / 2, sib);
	if (held < 0 || limit(p_cg, sz - sz / 4))
		goto out;
	err = buffer_heap_alloc_charged(heap, sz, c);
	if (err != -ENOMEM) {
		ksft_print_msg("allocation over the parent's room: %d, want -ENOMEM\n", err);
		if (err >= 0)
			close(err);
		goto out;
	}
	peak = cg_read_long(c_cg, "memory.peak");
	if (peak < 0 || peak >= sz / 2) {
		ksft_print_msg("the child's memory.peak reads %ld after a refusal\n", peak);
		goto out;
	}
	if (pays(c_cg, 0) && pays(p_cg, sz / 2))
		ret = KSFT_PASS;
out:
	close_if(held);
	close_if(sib);
	close_if(c);
	close_if(heap);
	cg_enter_current(root);
	remove_cgroup(s_cg);
	remove_cgroup(c_cg);
	remove_cgroup(p_cg);
	return ret;
}

/*
 * A transfer that either target refuses moves neither charge: memory.max
 * of the new owner, then (with the buffer controller) its buffer.max.
 */
static int test_transfer_refused(const char *root)
{
	int ret = KSFT_FAIL, heap = -1, client = -1, mid = -1, buf = -1, err;
	long events, mid0, client0, alloc0;

	if (cg_enter_current(alloc_cg))
		goto out;
	heap = open_heap();
	mid = open_cgroup(mid_cg);
	client = open_cgroup(client_cg);
	if (heap < 0 || mid < 0 || client < 0)
		goto out;
	mid0 = current_bytes(mid_cg);
	client0 = current_bytes(client_cg);
	alloc0 = current_bytes(alloc_cg);
	buf = buffer_heap_alloc_charged(heap, sz, mid);
	if (buf < 0 || !pays(mid_cg, sz))
		goto out;
	if (!moved_by(mid_cg, mid0, sz, slack))
		goto out;

	if (limit(client_cg, sz / 4))
		goto out;
	events = max_events_of(client_cg);
	err = transfer_charge(buf, client);
	if (err != -ENOMEM || max_events_of(client_cg) <= events) {
		ksft_print_msg("transfer over memory.max: %d, want -ENOMEM\n", err);
		goto out;
	}
	if (!pays(mid_cg, sz) || !pays(client_cg, 0))
		goto out;
	/* The refused charge was given back, in memory.current too. */
	if (!moved_by(mid_cg, mid0, sz, slack) || !moved_by(client_cg, client0, 0, slack))
		goto out;
	if (cg_write(client_cg, "memory.max", "max"))
		goto out;

	if (buffer_on) {
		if (cg_write(client_cg, "buffer.max", "heap/system 1M"))
			goto out;
		err = transfer_charge(buf, client);
		cg_write(client_cg, "buffer.max", "heap/system max");
		if (err != -ENOMEM) {
			ksft_print_msg("transfer over buffer.max: %d, want -ENOMEM\n", err);
			goto out;
		}
		/* memcg, charged first, gave the charge back. */
		if (!pays(mid_cg, sz) || !pays(client_cg, 0))
			goto out;
		if (!moved_by(mid_cg, mid0, sz, slack) || !moved_by(client_cg, client0, 0, slack))
			goto out;
	}

	if (transfer_charge(buf, client) || !pays(mid_cg, 0) || !pays(client_cg, sz))
		goto out;
	if (!moved_by(mid_cg, mid0, 0, slack) || !moved_by(client_cg, client0, sz, slack) ||
	    !moved_by(alloc_cg, alloc0, 0, slack))
		goto out;
	close(buf);
	buf = -1;
	if (pays(mid_cg, 0) && pays(client_cg, 0) && moved_by(mid_cg, mid0, 0, slack) &&
	    moved_by(client_cg, client0, 0, slack))
		ret = KSFT_PASS;
out:
	close_if(buf);
	close_if(client);
	close_if(mid);
	close_if(heap);
	cg_enter_current(root);
	cg_write(client_cg, "memory.max", "max");
	return ret;
}

/*
 * Without CAP_SYS_RESOURCE and write access to the client's cgroup.procs,
 * an allocator may not name it, with or without the buffer controller;
 * nor move a buffer's charge there.
 */
static int test_permission(const char *root)
{
	int heap = -1, client = -1, buf = -1, status;
	pid_t pid;

	if (cg_enter_current(alloc_cg))
		return KSFT_FAIL;
	heap = open_heap();
	client = open_cgroup(client_cg);
	buf = buffer_heap_alloc("system", sz);
	cg_enter_current(root);
	if (heap < 0 || client < 0 || buf < 0)
		return KSFT_FAIL;

	pid = fork();
	if (pid == 0) {
		if (setresgid(65534, 65534, 65534) || setresuid(65534, 65534, 65534))
			_exit(2);
		if (buffer_heap_alloc_charged(heap, sz, client) != -EPERM)
			_exit(3);
		if (transfer_charge(buf, client) != -EPERM)
			_exit(4);
		_exit(0);
	}
	waitpid(pid, &status, 0);
	close(heap);
	close(client);
	if (!WIFEXITED(status) || WEXITSTATUS(status)) {
		ksft_print_msg("unprivileged child: status %#x\n", status);
		close(buf);
		return KSFT_FAIL;
	}
	if (!pays(client_cg, 0) || !pays(alloc_cg, sz)) {
		close(buf);
		return KSFT_FAIL;
	}
	close(buf);
	return pays(alloc_cg, 0) ? KSFT_PASS : KSFT_FAIL;
}

/*
 * A size whose page count does not fit the charge: refused, not
 * truncated to a small charge for a huge allocation.
 */
static int test_hostile_size(const char *root)
{
	static const unsigned long long lens[] = {
		(1ULL << 44) + 4096,	/* 2^32 + 1 pages */
		(1ULL << 43),		/* 2^31 pages: over INT_MAX */
	};
	int ret = KSFT_PASS, buf;
	unsigned int i;

	if (cg_enter_current(alloc_cg))
		return KSFT_FAIL;
	for (i = 0; i < ARRAY_SIZE(lens); i++) {
		struct dma_heap_allocation_data data = {
			.len = lens[i], .fd_flags = O_RDWR | O_CLOEXEC,
		};

		buf = buffer_heap_alloc_data("system", &data);
		if (buf != -ENOMEM) {
			ksft_print_msg("len %#llx: %d, want -ENOMEM\n", lens[i], buf);
			close_if(buf);
			ret = KSFT_FAIL;
		}
		if (!pays(alloc_cg, 0))
			ret = KSFT_FAIL;
	}
	cg_enter_current(root);
	return ret;
}

/*
 * Drain @cg's per-CPU stocks with a memory.high under its usage, written
 * from each CPU in turn: the kernel drains the writer's CPU at once and the
 * others' later, from a work item. The pages a stock keeps charged would
 * otherwise be uncharged at a random time, and memory.current could not be
 * exact. For a cgroup without processes, which charges nothing meanwhile.
 */
static void drain(const char *cg)
{
	cpu_set_t all, one;
	int cpu;

	if (sched_getaffinity(0, sizeof(all), &all))
		CPU_ZERO(&all);
	for (cpu = 0; cpu < CPU_SETSIZE; cpu++) {
		if (!CPU_ISSET(cpu, &all))
			continue;
		CPU_ZERO(&one);
		CPU_SET(cpu, &one);
		if (sched_setaffinity(0, sizeof(one), &one))
			continue;
		cg_write(cg, "memory.high", "0");
		cg_write(cg, "memory.high", "max");
	}
	sched_setaffinity(0, sizeof(all), &all);
	/* Another drain in progress makes a drain skip the stocks. */
	usleep(100000);
}

/*
 * A move between siblings under a limited parent: the parent holds the
 * buffer before and after, so the move needs no room for a second copy
 * there (its memory.max is 1.5 buffers), and every memory.current is exact
 * afterwards.
 */
static int test_sibling_move(const char *root)
{
	int ret = KSFT_FAIL, heap = -1, a = -1, b = -1, buf = -1, err;
	char *parent_cg, *a_cg = NULL, *b_cg = NULL;
	long parent0, a0, b0, events;

	parent_cg = make_cgroup(top, "parent");
	if (!parent_cg || enable(parent_cg, "+memory") ||
	    (buffer_on && enable(parent_cg, "+buffer")))
		goto out;
	/* Never to hold a process: memory.current is their buffers alone. */
	a_cg = make_cgroup(parent_cg, "a");
	b_cg = make_cgroup(parent_cg, "b");
	if (!a_cg || !b_cg)
		goto out;
	/* Charged for a's and b's memcgs, through a stock. */
	drain(parent_cg);
	if (limit(parent_cg, sz + sz / 2))
		goto out;
	parent0 = current_bytes(parent_cg);
	a0 = current_bytes(a_cg);
	b0 = current_bytes(b_cg);
	if (cg_enter_current(alloc_cg))
		goto out;
	heap = open_heap();
	a = open_cgroup(a_cg);
	b = open_cgroup(b_cg);
	if (heap < 0 || a < 0 || b < 0)
		goto out;
	buf = buffer_heap_alloc_charged(heap, sz, a);
	if (buf < 0 || !pays(a_cg, sz) || !moved_by(a_cg, a0, sz, 0) ||
	    !moved_by(b_cg, b0, 0, 0) || !moved_by(parent_cg, parent0, sz, 0))
		goto out;
	events = max_events_of(parent_cg);
	err = transfer_charge(buf, b);
	if (err) {
		ksft_print_msg("move to the sibling: %s\n", strerror(-err));
		goto out;
	}
	if (!pays(a_cg, 0) || !pays(b_cg, sz) || !moved_by(a_cg, a0, 0, 0) ||
	    !moved_by(b_cg, b0, sz, 0) || !moved_by(parent_cg, parent0, sz, 0))
		goto out;
	/* And back; the parent never went over its limit. */
	if (transfer_charge(buf, a) || !pays(a_cg, sz) || !pays(b_cg, 0) ||
	    !moved_by(a_cg, a0, sz, 0) || !moved_by(b_cg, b0, 0, 0) ||
	    !moved_by(parent_cg, parent0, sz, 0))
		goto out;
	if (max_events_of(parent_cg) != events) {
		ksft_print_msg("the parent's memory.max was hit\n");
		goto out;
	}
	close(buf);
	buf = -1;
	if (pays(a_cg, 0) && pays(b_cg, 0) && moved_by(a_cg, a0, 0, 0) &&
	    moved_by(b_cg, b0, 0, 0) && moved_by(parent_cg, parent0, 0, 0))
		ret = KSFT_PASS;
out:
	close_if(buf);
	close_if(b);
	close_if(a);
	close_if(heap);
	cg_enter_current(root);
	remove_cgroup(b_cg);
	remove_cgroup(a_cg);
	remove_cgroup(parent_cg);
	return ret;
}

/* The cgroups of test_vertical_moves(): top/p, p/a, p/a/b and p/c. */
enum { P, A, B, C, NR_BRANCH };

/*
 * Does each cgroup of @cgs (P, A, B, C), none of which ever held a process,
 * pay @p, @a, @b and @c buffers: that many more bytes than @before in
 * memory.current, and that many in memory.stat and buffer.current (all
 * three hierarchical)?
 */
static bool branch_holds(char * const cgs[NR_BRANCH], const long before[NR_BRANCH],
			 long p, long a, long b, long c)
{
	const long want[NR_BRANCH] = { p * sz, a * sz, b * sz, c * sz };
	bool ok = true;
	int i;

	for (i = 0; i < NR_BRANCH; i++)
		ok &= pays(cgs[i], want[i]) && moved_by(cgs[i], before[i], want[i], 0);
	return ok;
}

/*
 * Moves up and down a branch, across branches of unequal depth and to and
 * from the root cgroup: exactly the cgroups below the closest common
 * ancestor of the two owners change, by the buffer's size, and the limited
 * parent never needs room for it twice.
 */
static int test_vertical_moves(const char *root)
{
	int ret = KSFT_FAIL, heap = -1, buf = -1, i;
	int fds[NR_BRANCH] = { -1, -1, -1, -1 }, root_fd = -1;
	char *cgs[NR_BRANCH] = { NULL };
	long before[NR_BRANCH], top0, root0, events;
	const struct {
		int to;		/* index into cgs, or -1 for the root cgroup */
		long p, a, b, c, top;	/* in buffers, after the move */
	} steps[] = {
		{ C, 1, 0, 0, 1, 1 },	/* deeper to shallower branch, stop p */
		{ P, 1, 0, 0, 0, 1 },	/* child to parent: nothing to charge */
		{ B, 1, 1, 1, 0, 1 },	/* parent to grandchild: nothing to uncharge */
		{ -1, 0, 0, 0, 0, 0 },	/* to the root: up to the top */
		{ A, 1, 1, 0, 0, 1 },	/* from the root: from the top */
	};

	cgs[P] = make_cgroup(top, "p");
	if (!cgs[P] || enable(cgs[P], "+memory") || (buffer_on && enable(cgs[P], "+buffer")))
		goto out;
	cgs[A] = make_cgroup(cgs[P], "a");
	cgs[C] = make_cgroup(cgs[P], "c");
	if (!cgs[A] || !cgs[C] || enable(cgs[A], "+memory") ||
	    (buffer_on && enable(cgs[A], "+buffer")))
		goto out;
	cgs[B] = make_cgroup(cgs[A], "b");
	if (!cgs[B])
		goto out;
	drain(cgs[P]);
	if (limit(cgs[P], sz + sz / 2))
		goto out;
	if (cg_enter_current(alloc_cg))
		goto out;
	heap = open_heap();
	root_fd = open_cgroup(root);
	for (i = 0; i < NR_BRANCH; i++) {
		fds[i] = open_cgroup(cgs[i]);
		before[i] = current_bytes(cgs[i]);
		if (fds[i] < 0)
			goto out;
	}
	if (heap < 0 || root_fd < 0)
		goto out;
	/* top holds the allocator, which charges its own memory meanwhile. */
	top0 = current_bytes(top);
	/* The root's memory.stat counts every buffer, whoever owns it. */
	root0 = dmabuf_of(root);
	events = max_events_of(cgs[P]);
	buf = buffer_heap_alloc_charged(heap, sz, fds[B]);
	if (buf < 0 || !branch_holds(cgs, before, 1, 1, 1, 0))
		goto out;
	for (i = 0; i < (int)ARRAY_SIZE(steps); i++) {
		int to = steps[i].to, err;

		err = transfer_charge(buf, to < 0 ? root_fd : fds[to]);
		if (err) {
			ksft_print_msg("move %d: %s\n", i, strerror(-err));
			goto out;
		}
		if (!branch_holds(cgs, before, steps[i].p, steps[i].a, steps[i].b, steps[i].c) ||
		    !moved_by(top, top0, steps[i].top * sz, slack) ||
		    dmabuf_of(root) != root0 + sz) {
			ksft_print_msg("after move %d\n", i);
			goto out;
		}
	}
	if (max_events_of(cgs[P]) != events) {
		ksft_print_msg("the parent's memory.max was hit\n");
		goto out;
	}
	close(buf);
	buf = -1;
	if (branch_holds(cgs, before, 0, 0, 0, 0) && dmabuf_of(root) == root0)
		ret = KSFT_PASS;
out:
	close_if(buf);
	for (i = 0; i < NR_BRANCH; i++)
		close_if(fds[i]);
	close_if(root_fd);
	close_if(heap);
	cg_enter_current(root);
	remove_cgroup(cgs[B]);
	remove_cgroup(cgs[C]);
	remove_cgroup(cgs[A]);
	remove_cgroup(cgs[P]);
	return ret;
}

/* Wait up to 10 s for the cgroups removed below @cg to be freed. */
static bool none_dying_below(const char *cg)
{
	long n = -1;
	int i;

	for (i = 0; i < 100; i++) {
		n = cg_read_key_long(cg, "cgroup.stat", "nr_dying_descendants ");
		if (n == 0)
			return true;
		usleep(100000);
	}
	ksft_print_msg("%s: %ld dying descendants\n", cg, n);
	return false;
}

#define SAME_OWNER_MOVES 1000

/*
 * A buffer pins the memory cgroup it is charged to, and a move drops that
 * reference exactly once, to the same cgroup too: a removed cgroup whose
 * buffer moves away is freed, and so is one that was the target of many
 * moves to itself. A leaked reference would keep it dying for ever.
 */
static int test_moves_unpin(const char *root)
{
	int ret = KSFT_FAIL, heap = -1, y = -1, z = -1, buf = -1, i;
	char *unpin_cg, *y_cg = NULL, *z_cg = NULL;

	/* A parent of their own: no cgroup removed by another test counts. */
	unpin_cg = make_cgroup(top, "unpin");
	if (!unpin_cg || enable(unpin_cg, "+memory") ||
	    (buffer_on && enable(unpin_cg, "+buffer")))
		goto out;
	y_cg = make_cgroup(unpin_cg, "y");
	z_cg = make_cgroup(unpin_cg, "z");
	if (!y_cg || !z_cg || cg_enter_current(alloc_cg))
		goto out;
	heap = open_heap();
	y = open_cgroup(y_cg);
	z = open_cgroup(z_cg);
	if (heap < 0 || y < 0 || z < 0)
		goto out;
	buf = buffer_heap_alloc_charged(heap, sz, z);
	if (buf < 0)
		goto out;
	for (i = 0; i < SAME_OWNER_MOVES; i++)
		if (transfer_charge(buf, z))
			goto out;
	close(z);
	z = -1;
	remove_cgroup(z_cg);
	z_cg = NULL;
	/* The buffer keeps it. */
	if (cg_read_key_long(unpin_cg, "cgroup.stat", "nr_dying_descendants ") != 1) {
		ksft_print_msg("a removed cgroup with a buffer charged is not dying\n");
		goto out;
	}
	if (transfer_charge(buf, y) || !pays(y_cg, sz) || !none_dying_below(unpin_cg))
		goto out;
	for (i = 0; i < SAME_OWNER_MOVES; i++)
		if (transfer_charge(buf, y))
			goto out;
	close(buf);
	buf = -1;
	close(y);
	y = -1;
	remove_cgroup(y_cg);
	y_cg = NULL;
	if (none_dying_below(unpin_cg))
		ret = KSFT_PASS;
out:
	close_if(buf);
	close_if(z);
	close_if(y);
	close_if(heap);
	cg_enter_current(root);
	remove_cgroup(z_cg);
	remove_cgroup(y_cg);
	remove_cgroup(unpin_cg);
	return ret;
}

#define RACE_ROUNDS 20000

/*
 * Two processes move one buffer back and forth between two cgroups at
 * once. Each transfer must move both charges, and exactly once: the buffer
 * ends up in one of the two cgroups, counted there once in memory.current,
 * memory.stat and buffer.current, and nowhere else; nothing is charged
 * after it is released.
 */
static int test_concurrent_transfers(const char *root)
{
	int ret = KSFT_FAIL, heap = -1, x = -1, y = -1, buf = -1, status, i;
	char *x_cg, *y_cg = NULL;
	pid_t pids[2] = { -1, -1 };
	long x0 = 0, y0 = 0;
	bool in_x;

	/* Never to hold a process: memory.current is their buffers alone. */
	x_cg = make_cgroup(top, "race_x");
	y_cg = make_cgroup(top, "race_y");
	if (!x_cg || !y_cg || cg_enter_current(alloc_cg))
		goto out;
	x0 = current_bytes(x_cg);
	y0 = current_bytes(y_cg);
	heap = open_heap();
	x = open_cgroup(x_cg);
	y = open_cgroup(y_cg);
	if (heap < 0 || x < 0 || y < 0)
		goto out;
	buf = buffer_heap_alloc_charged(heap, sz, x);
	if (buf < 0 || !pays(x_cg, sz))
		goto out;
	for (i = 0; i < 2; i++) {
		pids[i] = fork();
		if (pids[i] == 0) {
			int n, err, fail = 0;

			/* Both in step, or out of step: either is a race. */
			for (n = 0; n < RACE_ROUNDS; n++) {
				err = transfer_charge(buf, (n + i) % 2 ? x : y);
				if (err)
					fail = 1;
			}
			_exit(fail);
		}
	}
	for (i = 0; i < 2; i++) {
		if (pids[i] < 0 || waitpid(pids[i], &status, 0) != pids[i] ||
		    !WIFEXITED(status) || WEXITSTATUS(status)) {
			ksft_print_msg("a transfer failed\n");
			goto out;
		}
	}
	in_x = current_bytes(x_cg) - x0 > current_bytes(y_cg) - y0;
	if (!pays(x_cg, in_x ? sz : 0) || !pays(y_cg, in_x ? 0 : sz) ||
	    !moved_by(x_cg, x0, in_x ? sz : 0, 0) || !moved_by(y_cg, y0, in_x ? 0 : sz, 0))
		goto out;
	close(buf);
	buf = -1;
	if (pays(x_cg, 0) && pays(y_cg, 0) && moved_by(x_cg, x0, 0, 0) && moved_by(y_cg, y0, 0, 0))
		ret = KSFT_PASS;
out:
	close_if(buf);
	close_if(y);
	close_if(x);
	close_if(heap);
	cg_enter_current(root);
	remove_cgroup(y_cg);
	remove_cgroup(x_cg);
	return ret;
}

static const struct buffer_test tests[] = {
	{ test_direct, "direct allocation charges the caller's memcg" },
	{ test_root, "a buffer of the root cgroup charges its memcg's stat" },
	{ test_one_hop_pidfd, "one hop by pidfd charges the client's memcg" },
	{ test_one_hop_cgroup_fd, "one hop by cgroup fd charges the client's memcg" },
	{ test_two_hops, "two hops: transfer moves the memcg charge" },
	{ test_memory_max, "memory.max refuses a buffer, nobody is charged" },
	{ test_transfer_refused, "a refused transfer moves neither charge" },
	{ test_one_event_per_refusal, "a refusal after reclaim counts one max event" },
	{ test_refusal_no_peak, "a refused buffer leaves no peak below the refusing level" },
	{ test_permission, "charge_fd's permission rule holds for memcg" },
	{ test_hostile_size, "sizes beyond the charge are refused" },
	{ test_sibling_move, "a move between siblings needs no room twice in the parent" },
	{ test_vertical_moves, "moves up, down and to the root charge below the common ancestor" },
	{ test_moves_unpin, "a move unpins the old owner's memcg once" },
	{ test_concurrent_transfers, "concurrent transfers move both charges once" },
};

int main(void)
{
	char root[PATH_MAX], param[8] = "";
	long flush;
	size_t i;
	FILE *f;

	ksft_print_header();
	ksft_set_plan(ARRAY_SIZE(tests));
	/* More than memory.stat's flush threshold, 64 pages per CPU, 8 times over. */
	flush = 64L * get_nprocs() * sysconf(_SC_PAGESIZE);
	sz = 8 * flush > (4L << 20) ? 8 * flush : 4L << 20;
	slack = sz / 4;
	f = fopen("/sys/module/dma_heap/parameters/mem_accounting", "r");
	if (!f || !fgets(param, sizeof(param), f) || param[0] != 'Y')
		ksft_exit_fail_msg("boot with dma_heap.mem_accounting=1\n");
	fclose(f);
	if (cg_find_unified_root(root, sizeof(root), NULL))
		ksft_exit_fail_msg("cgroup v2 isn't mounted\n");
	if (cg_read_strstr(root, "cgroup.controllers", "memory"))
		ksft_exit_fail_msg("the memory controller isn't available\n");
	buffer_on = !cg_read_strstr(root, "cgroup.controllers", "buffer");
	ksft_print_msg("buffer controller %s\n", buffer_on ? "enabled" : "disabled");

	top = make_cgroup(root, "buffer_memcg");
	if (!top || enable(root, "+memory") || enable(top, "+memory") ||
	    (buffer_on && (enable(root, "+buffer") || enable(top, "+buffer"))))
		ksft_exit_fail_msg("cannot set up %s\n", top ? top : "buffer_memcg");
	alloc_cg = make_cgroup(top, "allocator");
	mid_cg = make_cgroup(top, "middle");
	client_cg = make_cgroup(top, "client");
	if (!alloc_cg || !mid_cg || !client_cg)
		ksft_exit_fail_msg("cannot create the cgroups\n");

	for (i = 0; i < ARRAY_SIZE(tests); i++) {
		if (tests[i].fn(root) == KSFT_PASS)
			ksft_test_result_pass("%s\n", tests[i].name);
		else
			ksft_test_result_fail("%s\n", tests[i].name);
	}
	remove_cgroup(client_cg);
	remove_cgroup(mid_cg);
	remove_cgroup(alloc_cg);
	remove_cgroup(top);
	ksft_finished();
}
