// SPDX-License-Identifier: GPL-2.0
/*
 * Fuzzing the buffer controller's inputs: malformed writes to buffer.max
 * (garbage, huge and negative numbers, unknown devices, partial lines,
 * embedded NULs) and random DMA_HEAP_IOCTL_ALLOC / DMA_BUF_IOCTL_TRANSFER_CHARGE
 * arguments. Every call must succeed or fail with a documented errno, a
 * failed write must leave buffer.max as it was, a failed ioctl must leave
 * every buffer.current and buffer.stat (root included) and the charge of the
 * buffer it was given as they were, and an ENOMEM must count in
 * buffer.events. A successful allocation must charge exactly its
 * page-aligned size to its payer and every ancestor, and its release give it
 * all back; a successful transfer must move the buffer's size from its payer
 * to the target, its shared ancestors unchanged. Every kind of success
 * (writes, allocations with and without charge_fd, transfers between two
 * cgroups, refusals) must have happened, and nothing may stay charged at
 * the end, the root back where it was. Kernel splats fail the guest run on
 * their own.
 *
 * usage: buffer_fuzz [ITERATIONS] [SEED]
 */
#define _GNU_SOURCE

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/dma-buf.h>
#include <linux/dma-heap.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../kselftest.h"
#include "cgroup_util.h"
#include "buffer_util.h"

static const char * const words[] = {
	"heap/system", "heap/reserved", "drm/vgem", "heap/nosuch", "bad,name", "",
	"max", "MAX", "0", "1", "4096", "8M", "1k", "3T", "-1", "+5", "0x10", "1.5G",
	"18446744073709551615", "18446744073709551616", "99999999999999999999999",
	"16777216T", "12X", "1MM", " ", "\t", "\n", "\n\n", "a/b/c/d",
	"0123456789012345678901234567890123456789012345678901234567890123456789",
};

#define NWORDS ARRAY_SIZE(words)

static size_t random_input(char *buf, size_t size)
{
	size_t len = 0;
	int parts = 1 + rand() % 6;

	if (rand() % 5 == 0) {
		/* Raw bytes, NULs and newlines included. */
		len = 1 + rand() % (size - 1);
		for (size_t i = 0; i < len; i++)
			buf[i] = rand() % 4 ? 32 + rand() % 95 : "\0\n\t\377"[rand() % 4];
		return len;
	}
	while (parts-- && len < size - 80) {
		const char *w = words[rand() % NWORDS];

		len += snprintf(buf + len, size - len, "%s%s", w,
				rand() % 3 ? " " : (rand() % 2 ? "\n" : ""));
	}
	if (rand() % 10 == 0 && len > 2)
		buf[rand() % len] = '\0';	/* an embedded NUL */
	return len;
}

static int fuzz_writes(const char *cg, int iterations, long *tried, long *accepted)
{
	char *path = cg_control(cg, "buffer.max");
	char before[4096], after[4096], input[512];

	for (int i = 0; i < iterations; i++) {
		size_t len = random_input(input, sizeof(input));
		int fd, err = 0;

		if (cg_read(cg, "buffer.max", before, sizeof(before)))
			return -1;
		fd = open(path, O_WRONLY);
		if (fd < 0)
			return -1;
		if (write(fd, input, len) < 0)
			err = errno;
		close(fd);
		(*tried)++;
		if (!err) {
			(*accepted)++;
			continue;
		}
		if (err != EINVAL && err != ENODEV) {
			ksft_print_msg("write of %zu bytes: unexpected %s\n", len, strerror(err));
			return -1;
		}
		if (cg_read(cg, "buffer.max", after, sizeof(after)) || strcmp(before, after)) {
			ksft_print_msg("a failed write (%s) changed buffer.max\n", strerror(err));
			return -1;
		}
	}
	free(path);
	return 0;
}

/*
 * The tree: buffer_fuzz (limited) with the fuzzer in buffer_fuzz/a and a
 * second payer buffer_fuzz/b, a transfer's other end; and the root.
 */
enum { G_ROOT, G_PARENT, G_A, G_B, NGROUPS };
static const char * const devices[] = { "heap/system", "heap/reserved", "drm/vgem" };
#define NDEV ARRAY_SIZE(devices)
static char *groups[NGROUPS];

/* Every group's buffer.current, per device. */
struct counters {
	long current[NGROUPS][NDEV];
};

/* A delta for moved_by(): nothing moved. */
static const long no_change[NGROUPS];

static int read_counters(struct counters *c)
{
	for (int g = 0; g < NGROUPS; g++)
		for (size_t d = 0; d < NDEV; d++) {
			c->current[g][d] = buffer_value(groups[g], "buffer.current",
							devices[d], NULL);
			if (c->current[g][d] < 0) {
				ksft_print_msg("cannot read %s/buffer.current %s\n",
					       groups[g], devices[d]);
				return -1;
			}
		}
	return 0;
}

/*
 * @after is @before with @delta added to @dev's buffer.current of the
 * groups in @moved (a mask of 1 << group), and nothing else changed.
 */
static bool moved_by(const struct counters *before, const struct counters *after,
		     size_t dev, const long delta[NGROUPS], const char *what)
{
	bool ok = true;

	for (int g = 0; g < NGROUPS; g++)
		for (size_t d = 0; d < NDEV; d++) {
			long want = before->current[g][d] + (d == dev ? delta[g] : 0);

			if (after->current[g][d] == want)
				continue;
			ksft_print_msg("%s: %s buffer.current %s %ld -> %ld, want %ld\n", what,
				       groups[g], devices[d], before->current[g][d],
				       after->current[g][d], want);
			ok = false;
		}
	return ok;
}

/* What a failed call must not change: the charges, and who pays for @buf. */
struct snapshot {
	struct counters counters;
	char stat[NGROUPS][2048], fdinfo[1024];
};

static int take_snapshot(int buf, struct snapshot *s)
{
	char fd[16];

	snprintf(fd, sizeof(fd), "%d", buf);
	for (int g = 0; g < NGROUPS; g++)
		if (cg_read(groups[g], "buffer.stat", s->stat[g], sizeof(s->stat[g])))
			return -1;
	return read_counters(&s->counters) ||
	       cg_read("/proc/self/fdinfo", fd, s->fdinfo, sizeof(s->fdinfo));
}

/* @a and @b are the same; if not, say what differs. */
static bool unchanged(const struct snapshot *a, const struct snapshot *b)
{
	bool same = moved_by(&a->counters, &b->counters, 0, no_change, "unchanged");

	for (int g = 0; g < NGROUPS; g++)
		if (strcmp(a->stat[g], b->stat[g])) {
			ksft_print_msg("%s/buffer.stat was:\n%s# and is:\n%s", groups[g],
				       a->stat[g], b->stat[g]);
			same = false;
		}
	if (strcmp(a->fdinfo, b->fdinfo)) {
		ksft_print_msg("the buffer's fdinfo was:\n%s# and is:\n%s", a->fdinfo, b->fdinfo);
		same = false;
	}
	return same;
}

static bool documented(int err)
{
	/* EMFILE: a full fd table; EFAULT cannot happen here. */
	return err == EBADF || err == EINVAL || err == ESRCH || err == EPERM ||
	       err == ENOMEM || err == EOPNOTSUPP || err == EMFILE;
}

/* Successes, by kind: each must happen for the run to mean anything. */
struct successes {
	long allocs, charge_fd_allocs, transfers, refusals;
};

#define NFDS 7
/* The group a good charge_fd of @fds names, or -1. */
static int payer_of(const int fds[NFDS], __u32 fd)
{
	if (fd == (__u32)fds[0] || fd == (__u32)fds[1])
		return G_A;
	if (fd == (__u32)fds[6])
		return G_B;
	return -1;
}

/* The buffer's fdinfo names @group as its payer. */
static bool fdinfo_names(int buf, int group)
{
	char fd[16], info[1024], want[PATH_MAX];
	const char *rel = groups[group] + strlen(groups[G_ROOT]);

	snprintf(fd, sizeof(fd), "%d", buf);
	snprintf(want, sizeof(want), "charge_cgroup:\t%s\n", rel);
	return !cg_read("/proc/self/fdinfo", fd, info, sizeof(info)) && strstr(info, want);
}

#define PAGE_ALIGN(x) (((x) + 4095) & ~4095ULL)

/* An allocation that succeeded: charged PAGE_ALIGN(len) to its payer, then released. */
static int check_alloc(const struct dma_heap_allocation_data *d, size_t dev,
		       const int fds[NFDS], const struct counters *before,
		       struct successes *won)
{
	int payer = d->heap_flags & DMA_HEAP_FLAG_CHARGE_FD ? payer_of(fds, d->charge_fd) : G_A;
	long delta[NGROUPS] = { 0 };
	struct counters after;
	char what[128];
	bool ok;

	snprintf(what, sizeof(what), "alloc of %llu bytes (flags %llx, charge_fd %u)",
		 (unsigned long long)d->len, (unsigned long long)d->heap_flags, d->charge_fd);
	if (payer < 0) {
		ksft_print_msg("%s succeeded, but its charge_fd names no cgroup\n", what);
		close(d->fd);
		return -1;
	}
	delta[payer] = PAGE_ALIGN(d->len);
	delta[G_PARENT] = delta[payer];
	delta[G_ROOT] = delta[payer];
	ok = !read_counters(&after) && moved_by(before, &after, dev, delta, what) &&
	     fdinfo_names(d->fd, payer);
	close(d->fd);
	/* Released at the last close, before close() returns. */
	ok = ok && !read_counters(&after) && moved_by(before, &after, dev,
						      no_change, "its release");
	if (d->heap_flags & DMA_HEAP_FLAG_CHARGE_FD)
		won->charge_fd_allocs++;
	else
		won->allocs++;
	return ok ? 0 : -1;
}

static int fuzz_ioctls(int iterations, long *tried, struct successes *won)
{
	static const char * const heaps[] = { "/dev/dma_heap/system", "/dev/dma_heap/reserved" };
	int heap[2], fds[NFDS], buf, payer = G_A;
	struct snapshot before, after;
	pid_t child = fork();

	if (!child)
		_exit(0);
	for (int h = 0; h < 2; h++)
		heap[h] = open(heaps[h], O_RDONLY | O_CLOEXEC);
	/*
	 * Huge lengths must meet a limit, not the page allocator: the system
	 * heap allocates until OOM otherwise. So every good target is in this
	 * limited subtree.
	 */
	if (cg_write(groups[G_PARENT], "buffer.max",
		     "heap/system 64M\nheap/reserved 16M\ndrm/vgem 16M"))
		return -1;
	/* Candidate charge_fds: good, stale, wrong kinds, and not open. */
	fds[0] = open(groups[G_A], O_DIRECTORY | O_RDONLY | O_CLOEXEC);
	fds[1] = syscall(SYS_pidfd_open, getpid(), 0);
	fds[2] = syscall(SYS_pidfd_open, child, 0);
	waitpid(child, NULL, 0);
	fds[3] = open("/proc/self/stat", O_RDONLY | O_CLOEXEC);
	fds[4] = open("/tmp", O_DIRECTORY | O_RDONLY | O_CLOEXEC);
	fds[5] = 4000;
	fds[6] = open(groups[G_B], O_DIRECTORY | O_RDONLY | O_CLOEXEC);
	buf = buffer_heap_alloc("system", 4096);
	if (heap[0] < 0 || heap[1] < 0 || buf < 0 || fds[0] < 0 || fds[1] < 0 ||
	    fds[6] < 0 || take_snapshot(buf, &before)) {
		ksft_print_msg("setup: %s\n", strerror(errno));
		return -1;
	}

	static const __u64 lengths[] = { 0, 1, 4096, 65536, 1 << 20, 1ULL << 40, ~0ULL };

	for (int i = 0; i < iterations; i++) {
		struct dma_heap_allocation_data d = {
			.len = lengths[rand() % ARRAY_SIZE(lengths)],
			.fd_flags = rand() % 4 ? O_RDWR | O_CLOEXEC : (__u32)rand(),
			.heap_flags = rand() % 3 ? DMA_HEAP_FLAG_CHARGE_FD :
				      (rand() % 2 ? 0 : (__u64)rand() << (rand() % 40)),
			.charge_fd = rand() % 8 ? fds[rand() % NFDS] : (__u32)rand(),
			.__reserved = rand() % 6 ? 0 : (__u32)rand(),
		};
		struct dma_buf_transfer_charge t = {
			.charge_fd = rand() % 8 ? fds[rand() % NFDS] : (__u32)rand(),
			.flags = rand() % 6 ? 0 : (__u32)rand(),
		};
		size_t dev = rand() % 2;
		long refusals, counted;
		int err;

		/* A sign of life for the guest runner's silence watchdog. */
		if (i && i % 250 == 0)
			ksft_print_msg("ioctls: %d of %d iterations\n", i, iterations);
		(*tried) += 2;
		refusals = buffer_value(groups[G_PARENT], "buffer.events", devices[dev], "max");
		if (ioctl(heap[dev], DMA_HEAP_IOCTL_ALLOC, &d) == 0) {
			if (check_alloc(&d, dev, fds, &before.counters, won))
				return -1;
		} else {
			err = errno;
			if (!documented(err)) {
				ksft_print_msg("alloc len %llu flags %llx: unexpected %s\n",
					       (unsigned long long)d.len,
					       (unsigned long long)d.heap_flags, strerror(err));
				return -1;
			}
			if (take_snapshot(buf, &after) || !unchanged(&before, &after)) {
				ksft_print_msg("alloc len %llu failed (%s), changed the charges\n",
					       (unsigned long long)d.len, strerror(err));
				return -1;
			}
			/* Only the parent has a limit: it counts every ENOMEM. */
			counted = buffer_value(groups[G_PARENT], "buffer.events", devices[dev],
					       "max") - refusals;
			if (err == ENOMEM && counted != 1) {
				ksft_print_msg("alloc len %llu: ENOMEM, %ld in buffer.events\n",
					       (unsigned long long)d.len, counted);
				return -1;
			}
			won->refusals += err == ENOMEM;
		}
		if (!ioctl(buf, DMA_BUF_IOCTL_TRANSFER_CHARGE, &t)) {
			int target = payer_of(fds, t.charge_fd);
			long delta[NGROUPS] = { 0 };

			if (target < 0) {
				ksft_print_msg("transfer to charge_fd %u (no cgroup) succeeded\n",
					       t.charge_fd);
				return -1;
			}
			/* The parent, shared, and the root see no change. */
			delta[payer] -= 4096;
			delta[target] += 4096;
			if (take_snapshot(buf, &after) ||
			    !moved_by(&before.counters, &after.counters, 0, delta, "transfer") ||
			    !fdinfo_names(buf, target)) {
				ksft_print_msg("transfer from %s to %s: wrong charges or fdinfo\n",
					       groups[payer], groups[target]);
				return -1;
			}
			won->transfers += target != payer;
			payer = target;
			before = after;
		} else {
			err = errno;
			if (!documented(err)) {
				ksft_print_msg("transfer: unexpected %s\n", strerror(err));
				return -1;
			}
			if (take_snapshot(buf, &after) || !unchanged(&before, &after)) {
				ksft_print_msg("transfer failed (%s) but changed the charges\n",
					       strerror(err));
				return -1;
			}
		}
	}
	close(buf);
	for (int i = 0; i < NFDS; i++)
		if (i != 5)
			close(fds[i]);
	close(heap[0]);
	close(heap[1]);
	return 0;
}

/* Whether every "<device> <value>" line of @text has the value 0. */
static bool all_zero(char *text)
{
	char *line, *value;

	for (line = strtok(text, "\n"); line; line = strtok(NULL, "\n")) {
		value = strrchr(line, ' ');
		if (!value || strcmp(value, " 0"))
			return false;
	}
	return true;
}

int main(int argc, char **argv)
{
	int iterations = argc > 1 ? atoi(argv[1]) : 2000;
	unsigned int seed = argc > 2 ? atoi(argv[2]) : 1;
	long tried = 0, accepted = 0, calls = 0;
	struct successes won = { 0 };
	struct counters start, end;
	char root[PATH_MAX], current[4096];
	bool ok;

	ksft_print_header();
	ksft_set_plan(4);
	if (cg_find_unified_root(root, sizeof(root), NULL))
		ksft_exit_fail_msg("cgroup v2 isn't mounted\n");
	srand(seed);
	groups[G_ROOT] = root;
	groups[G_PARENT] = cg_name(root, "buffer_fuzz");
	groups[G_A] = cg_name(root, "buffer_fuzz/a");
	groups[G_B] = cg_name(root, "buffer_fuzz/b");
	if (cg_write(root, "cgroup.subtree_control", "+buffer") ||
	    cg_create(groups[G_PARENT]) ||
	    cg_write(groups[G_PARENT], "cgroup.subtree_control", "+buffer") ||
	    cg_create(groups[G_A]) || cg_create(groups[G_B]) || read_counters(&start))
		ksft_exit_fail_msg("cannot set up the cgroups\n");

	ok = !fuzz_writes(groups[G_PARENT], iterations, &tried, &accepted);
	ksft_test_result(ok && accepted > 0,
			 "buffer.max: %ld malformed or random writes (%ld accepted), only EINVAL/ENODEV, nothing changed on error\n",
			 tried, accepted);
	if (cg_enter_current(groups[G_A]))
		ksft_exit_fail_msg("cannot enter the cgroup\n");
	ok = !fuzz_ioctls(iterations, &calls, &won);
	ksft_test_result(ok,
			 "ioctls: %ld random allocation and transfer calls, only documented errnos, nothing changed on error, exact charges on success\n",
			 calls);
	ksft_test_result(won.allocs > 0 && won.charge_fd_allocs > 0 && won.transfers > 0 &&
			 won.refusals > 0,
			 "ioctls: successes of every kind: %ld allocations, %ld with charge_fd, %ld transfers, %ld refusals\n",
			 won.allocs, won.charge_fd_allocs, won.transfers, won.refusals);
	if (cg_enter_current(root))
		ksft_exit_fail_msg("cannot leave the cgroup\n");
	ok = !read_counters(&end);
	for (int g = G_PARENT; ok && g < NGROUPS; g++)
		for (size_t d = 0; d < NDEV; d++)
			ok &= end.current[g][d] == 0;
	ok = ok && moved_by(&start, &end, 0, no_change, "at the end");
	/* Every other device too (DRM cards), in whatever order a rebind registered them. */
	ok = ok && !cg_read(groups[G_PARENT], "buffer.current", current, sizeof(current)) &&
	     all_zero(current);
	ksft_test_result(ok, "nothing left charged, the root as before\n");
	cg_destroy(groups[G_A]);
	cg_destroy(groups[G_B]);
	cg_destroy(groups[G_PARENT]);
	ksft_finished();
}
