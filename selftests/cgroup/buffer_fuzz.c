// SPDX-License-Identifier: GPL-2.0
/*
 * Fuzzing the buffer controller's inputs: malformed writes to buffer.max
 * (garbage, huge and negative numbers, unknown devices, partial lines,
 * embedded NULs) and random DMA_HEAP_IOCTL_ALLOC / DMA_BUF_IOCTL_TRANSFER_CHARGE
 * arguments. Every call must succeed or fail with a documented errno, a
 * failed write must leave buffer.max as it was, a failed ioctl must leave
 * every buffer.current and buffer.stat (root included) and the charge of the
 * buffer it was given as they were, and nothing may stay charged at the
 * end. Kernel splats fail the guest run on their own.
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

/* What a failed call must not change: the charges, and who pays for @buf. */
struct snapshot {
	char current[1024], stat[2048], root_current[1024], root_stat[2048];
	char fdinfo[1024];
};

static int take_snapshot(const char *cg, const char *root, int buf, struct snapshot *s)
{
	char fd[16];

	snprintf(fd, sizeof(fd), "%d", buf);
	return cg_read(cg, "buffer.current", s->current, sizeof(s->current)) ||
	       cg_read(cg, "buffer.stat", s->stat, sizeof(s->stat)) ||
	       cg_read(root, "buffer.current", s->root_current, sizeof(s->root_current)) ||
	       cg_read(root, "buffer.stat", s->root_stat, sizeof(s->root_stat)) ||
	       cg_read("/proc/self/fdinfo", fd, s->fdinfo, sizeof(s->fdinfo));
}

static bool unchanged(const struct snapshot *a, const struct snapshot *b)
{
	return !strcmp(a->current, b->current) && !strcmp(a->stat, b->stat) &&
	       !strcmp(a->root_current, b->root_current) &&
	       !strcmp(a->root_stat, b->root_stat) && !strcmp(a->fdinfo, b->fdinfo);
}

static bool documented(int err)
{
	/* EMFILE: a full fd table; EFAULT cannot happen here. */
	return err == EBADF || err == EINVAL || err == ESRCH || err == EPERM ||
	       err == ENOMEM || err == EOPNOTSUPP || err == EMFILE;
}

static int fuzz_ioctls(const char *cg, const char *root, int iterations, long *tried)
{
	int heap = open("/dev/dma_heap/system", O_RDONLY | O_CLOEXEC);
	int cma = open("/dev/dma_heap/reserved", O_RDONLY | O_CLOEXEC);
	struct snapshot before, after;
	int fds[6], buf;
	pid_t child = fork();

	if (!child)
		_exit(0);
	/*
	 * Huge lengths must meet a limit, not the page allocator: the system
	 * heap allocates until OOM otherwise. So every good target is this
	 * limited cgroup.
	 */
	if (cg_write(cg, "buffer.max", "heap/system 64M\nheap/reserved 16M\ndrm/vgem 16M"))
		return -1;
	/* Candidate charge_fds: good, stale, wrong kinds, and not open. */
	fds[0] = open(cg, O_DIRECTORY | O_RDONLY | O_CLOEXEC);
	fds[1] = syscall(SYS_pidfd_open, getpid(), 0);
	fds[2] = syscall(SYS_pidfd_open, child, 0);
	waitpid(child, NULL, 0);
	fds[3] = open("/proc/self/stat", O_RDONLY | O_CLOEXEC);
	fds[4] = open("/tmp", O_DIRECTORY | O_RDONLY | O_CLOEXEC);
	fds[5] = 4000;
	buf = heap < 0 ? -1 : ({
		struct dma_heap_allocation_data d = { .len = 4096, .fd_flags = O_RDWR };

		ioctl(heap, DMA_HEAP_IOCTL_ALLOC, &d) ? -1 : (int)d.fd;
	});
	if (heap < 0 || cma < 0 || buf < 0 || fds[0] < 0 ||
	    take_snapshot(cg, root, buf, &before))
		return -1;

	static const __u64 lengths[] = { 0, 1, 4096, 65536, 1 << 20, 1ULL << 40, ~0ULL };

	for (int i = 0; i < iterations; i++) {
		struct dma_heap_allocation_data d = {
			.len = lengths[rand() % ARRAY_SIZE(lengths)],
			.fd_flags = rand() % 4 ? O_RDWR | O_CLOEXEC : (__u32)rand(),
			.heap_flags = rand() % 3 ? DMA_HEAP_FLAG_CHARGE_FD :
				      (rand() % 2 ? 0 : (__u64)rand() << (rand() % 40)),
			.charge_fd = rand() % 8 ? fds[rand() % 6] : (__u32)rand(),
			.__reserved = rand() % 6 ? 0 : (__u32)rand(),
		};
		struct dma_buf_transfer_charge t = {
			.charge_fd = rand() % 8 ? fds[rand() % 6] : (__u32)rand(),
			.flags = rand() % 6 ? 0 : (__u32)rand(),
		};

		int err;

		/* A sign of life for the guest runner's silence watchdog. */
		if (i && i % 250 == 0)
			ksft_print_msg("ioctls: %d of %d iterations\n", i, iterations);
		(*tried) += 2;
		if (ioctl(rand() % 2 ? heap : cma, DMA_HEAP_IOCTL_ALLOC, &d) == 0) {
			close(d.fd);
			/* A success may change the state: start afresh. */
			if (take_snapshot(cg, root, buf, &before))
				return -1;
		} else {
			err = errno;
			if (!documented(err)) {
				ksft_print_msg("alloc len %llu flags %llx: unexpected %s\n",
					       (unsigned long long)d.len,
					       (unsigned long long)d.heap_flags, strerror(err));
				return -1;
			}
			if (take_snapshot(cg, root, buf, &after) || !unchanged(&before, &after)) {
				ksft_print_msg("alloc len %llu failed (%s), changed the charges\n",
					       (unsigned long long)d.len, strerror(err));
				return -1;
			}
		}
		if (!ioctl(buf, DMA_BUF_IOCTL_TRANSFER_CHARGE, &t)) {
			if (take_snapshot(cg, root, buf, &before))
				return -1;
		} else {
			err = errno;
			if (!documented(err)) {
				ksft_print_msg("transfer: unexpected %s\n", strerror(err));
				return -1;
			}
			if (take_snapshot(cg, root, buf, &after) || !unchanged(&before, &after)) {
				ksft_print_msg("transfer failed (%s) but changed the charges\n",
					       strerror(err));
				return -1;
			}
		}
	}
	close(buf);
	for (int i = 0; i < 5; i++)
		close(fds[i]);
	close(heap);
	close(cma);
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
	char root[PATH_MAX], *cg;
	char current[4096];

	ksft_print_header();
	ksft_set_plan(3);
	if (cg_find_unified_root(root, sizeof(root), NULL))
		ksft_exit_skip("cgroup v2 isn't mounted\n");
	srand(seed);
	cg_write(root, "cgroup.subtree_control", "+buffer");
	cg = cg_name(root, "buffer_fuzz");
	if (!cg || cg_create(cg))
		ksft_exit_fail_msg("cannot create the cgroup\n");

	ksft_test_result(!fuzz_writes(cg, iterations, &tried, &accepted),
			 "buffer.max: %ld malformed or random writes (%ld accepted), only EINVAL/ENODEV, nothing changed on error\n",
			 tried, accepted);
	if (cg_enter_current(cg))
		ksft_exit_fail_msg("cannot enter the cgroup\n");
	ksft_test_result(!fuzz_ioctls(cg, root, iterations, &calls),
			 "ioctls: %ld random allocation and transfer calls, only documented errnos, nothing changed on error\n",
			 calls);
	cg_enter_current(root);
	/* Every device at 0, in whatever order a rebind registered them. */
	ksft_test_result(!cg_read(cg, "buffer.current", current, sizeof(current)) &&
			 strstr(current, "heap/system 0\n") && all_zero(current),
			 "nothing left charged\n");
	cg_destroy(cg);
	free(cg);
	ksft_finished();
}
