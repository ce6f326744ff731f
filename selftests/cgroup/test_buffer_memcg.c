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
#include <signal.h>
#include <stdbool.h>
#include <stdlib.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../kselftest.h"
#include "cgroup_util.h"
#include "buffer_util.h"

#define SZ (4L << 20)
/* Pages a memcg's per-CPU stock may keep charged after a release. */
#define SLACK (SZ / 4)

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
	buf = buffer_heap_alloc("system", SZ);
	if (buf < 0) {
		ksft_print_msg("allocation: %s\n", strerror(-buf));
		goto out;
	}
	cur = cg_read_long(alloc_cg, "memory.current");
	if (!pays(alloc_cg, SZ))
		goto out;
	if (cur - cur0 < SZ || cur - cur0 > SZ + SLACK) {
		ksft_print_msg("memory.current grew by %ld, want %ld\n", cur - cur0, SZ);
		goto out;
	}
	/* Not also as kernel memory, as __GFP_ACCOUNT pages would be. */
	if (kernel_of(alloc_cg) - kern0 > SLACK ||
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
	if (cur > cur0 + SLACK) {
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

	buf = buffer_heap_alloc("system", SZ);
	if (buf < 0) {
		ksft_print_msg("allocation: %s\n", strerror(-buf));
		return KSFT_FAIL;
	}
	if (dmabuf_of(root) - before != SZ) {
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
	long client0;
	pid_t client = sleeper(client_cg);

	if (client < 0 || cg_enter_current(alloc_cg))
		goto out;
	heap = open_heap();
	charge_fd = by_pidfd ? pidfd_open(client) :
			       open(client_cg, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (heap < 0 || charge_fd < 0)
		goto out;
	client0 = cg_read_long(client_cg, "memory.current");
	buf = buffer_heap_alloc_charged(heap, SZ, charge_fd);
	if (buf < 0) {
		ksft_print_msg("allocation: %s\n", strerror(-buf));
		goto out;
	}
	if (!pays(client_cg, SZ) || !pays(alloc_cg, 0))
		goto out;
	if (cg_read_long(client_cg, "memory.current") - client0 < SZ) {
		ksft_print_msg("the client's memory.current did not grow by %ld\n", SZ);
		goto out;
	}
	close(buf);
	buf = -1;
	if (pays(client_cg, 0) && pays(alloc_cg, 0))
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

	if (mid_pid < 0 || client_pid < 0 || cg_enter_current(alloc_cg))
		goto out;
	heap = open_heap();
	mid = pidfd_open(mid_pid);
	client = pidfd_open(client_pid);
	if (heap < 0 || mid < 0 || client < 0)
		goto out;
	buf = buffer_heap_alloc_charged(heap, SZ, mid);
	if (buf < 0 || !pays(mid_cg, SZ))
		goto out;
	err = transfer_charge(buf, client);
	if (err) {
		ksft_print_msg("transfer: %s\n", strerror(-err));
		goto out;
	}
	if (!pays(mid_cg, 0) || !pays(client_cg, SZ) || !pays(alloc_cg, 0))
		goto out;
	/* A second move starts from where the first one left it. */
	if (transfer_charge(buf, mid) || !pays(mid_cg, SZ) || !pays(client_cg, 0))
		goto out;
	/* To where it already is: nothing changes. */
	if (transfer_charge(buf, mid) || !pays(mid_cg, SZ))
		goto out;
	close(buf);
	buf = -1;
	if (pays(mid_cg, 0) && pays(client_cg, 0))
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

/* Set @cg's memory.max @room bytes above its memory.current. */
static int limit(const char *cg, long room)
{
	char max[32];

	snprintf(max, sizeof(max), "%ld", cg_read_long(cg, "memory.current") + room);
	return cg_write(cg, "memory.max", max);
}

/*
 * memory.max refuses a buffer with ENOMEM before any page is allocated,
 * counts it in memory.events, and nobody is charged: not the client, not
 * the allocator, in neither controller. The same for a direct allocation.
 */
static int test_memory_max(const char *root)
{
	int ret = KSFT_FAIL, heap = -1, client = -1, buf = -1;
	long events;

	if (cg_enter_current(alloc_cg))
		goto out;
	heap = open_heap();
	client = open(client_cg, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (heap < 0 || client < 0 || limit(client_cg, SZ / 4))
		goto out;
	events = max_events_of(client_cg);
	buf = buffer_heap_alloc_charged(heap, SZ, client);
	if (buf != -ENOMEM) {
		ksft_print_msg("one hop over memory.max: %d, want -ENOMEM\n", buf);
		goto out;
	}
	if (max_events_of(client_cg) <= events) {
		ksft_print_msg("memory.events max did not count the refusal\n");
		goto out;
	}
	if (!pays(client_cg, 0) || !pays(alloc_cg, 0))
		goto out;

	/* Directly, by a process in the limited cgroup. */
	if (cg_enter_current(client_cg))
		goto out;
	events = max_events_of(client_cg);
	buf = buffer_heap_alloc("system", SZ);
	if (buf != -ENOMEM || max_events_of(client_cg) <= events) {
		ksft_print_msg("direct over memory.max: %d, want -ENOMEM\n", buf);
		goto out;
	}
	buf = -1;
	if (!pays(client_cg, 0))
		goto out;
	/* Under the limit, it fits (enough pages for memory.stat to flush). */
	buf = buffer_heap_alloc("system", 3 * SZ / 16);
	if (buf < 0 || !pays(client_cg, 3 * SZ / 16))
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
 * A transfer that either target refuses moves neither charge: memory.max
 * of the new owner, then (with the buffer controller) its buffer.max.
 */
static int test_transfer_refused(const char *root)
{
	int ret = KSFT_FAIL, heap = -1, client = -1, mid = -1, buf = -1, err;
	long events;

	if (cg_enter_current(alloc_cg))
		goto out;
	heap = open_heap();
	mid = open(mid_cg, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	client = open(client_cg, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (heap < 0 || mid < 0 || client < 0)
		goto out;
	buf = buffer_heap_alloc_charged(heap, SZ, mid);
	if (buf < 0 || !pays(mid_cg, SZ))
		goto out;

	if (limit(client_cg, SZ / 4))
		goto out;
	events = max_events_of(client_cg);
	err = transfer_charge(buf, client);
	if (err != -ENOMEM || max_events_of(client_cg) <= events) {
		ksft_print_msg("transfer over memory.max: %d, want -ENOMEM\n", err);
		goto out;
	}
	if (!pays(mid_cg, SZ) || !pays(client_cg, 0))
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
		if (!pays(mid_cg, SZ) || !pays(client_cg, 0))
			goto out;
	}

	if (transfer_charge(buf, client) || !pays(mid_cg, 0) || !pays(client_cg, SZ))
		goto out;
	close(buf);
	buf = -1;
	if (pays(mid_cg, 0) && pays(client_cg, 0))
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
	client = open(client_cg, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	buf = buffer_heap_alloc("system", SZ);
	cg_enter_current(root);
	if (heap < 0 || client < 0 || buf < 0)
		return KSFT_FAIL;

	pid = fork();
	if (pid == 0) {
		if (setresgid(65534, 65534, 65534) || setresuid(65534, 65534, 65534))
			_exit(2);
		if (buffer_heap_alloc_charged(heap, SZ, client) != -EPERM)
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
	if (!pays(client_cg, 0) || !pays(alloc_cg, SZ)) {
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

static const struct buffer_test tests[] = {
	{ test_direct, "direct allocation charges the caller's memcg" },
	{ test_root, "a buffer of the root cgroup charges its memcg's stat" },
	{ test_one_hop_pidfd, "one hop by pidfd charges the client's memcg" },
	{ test_one_hop_cgroup_fd, "one hop by cgroup fd charges the client's memcg" },
	{ test_two_hops, "two hops: transfer moves the memcg charge" },
	{ test_memory_max, "memory.max refuses a buffer, nobody is charged" },
	{ test_transfer_refused, "a refused transfer moves neither charge" },
	{ test_permission, "charge_fd's permission rule holds for memcg" },
	{ test_hostile_size, "sizes beyond the charge are refused" },
};

static int enable(const char *cg, const char *controller)
{
	char ctl[16];

	if (!cg_read_strstr(cg, "cgroup.subtree_control", controller + 1))
		return 0;
	snprintf(ctl, sizeof(ctl), "%s", controller);
	return cg_write(cg, "cgroup.subtree_control", ctl);
}

int main(void)
{
	char root[PATH_MAX], param[8] = "";
	size_t i;
	FILE *f;

	ksft_print_header();
	ksft_set_plan(ARRAY_SIZE(tests));
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
