// SPDX-License-Identifier: GPL-2.0
/*
 * Tests of the buffer cgroup controller through cgroupfs and the dma-buf
 * heaps: interface files, limits, events, hierarchy, fd passing, fdinfo,
 * failed allocations and removal of cgroups with live buffers.
 */
#define _GNU_SOURCE

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/dma-heap.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../kselftest.h"
#include "cgroup_util.h"

#define SYSTEM "heap/system"
#define CMA "heap/reserved"
#define MB (1024 * 1024)

/* Allocate from /dev/dma_heap/<heap>; returns the dma-buf fd or -errno. */
static int heap_alloc_data(const char *heap, struct dma_heap_allocation_data *data)
{
	char path[PATH_MAX];
	int heap_fd, ret;

	snprintf(path, sizeof(path), "/dev/dma_heap/%s", heap);
	heap_fd = open(path, O_RDONLY | O_CLOEXEC);
	if (heap_fd < 0)
		return -errno;
	ret = ioctl(heap_fd, DMA_HEAP_IOCTL_ALLOC, data);
	ret = ret < 0 ? -errno : (int)data->fd;
	close(heap_fd);
	return ret;
}

static int heap_alloc(const char *heap, size_t len)
{
	struct dma_heap_allocation_data data = {
		.len = len,
		.fd_flags = O_RDWR | O_CLOEXEC,
	};

	return heap_alloc_data(heap, &data);
}

/* The heap's name in /dev/dma_heap from a device name "heap/<name>". */
static const char *heap_of(const char *device)
{
	return device + strlen("heap/");
}

/*
 * The value of @device's line in a nested-keyed file: the number after
 * "<device> " or after "<device> ... <key>=". -1 if absent, -2 for "max".
 */
static long buffer_value(const char *cgroup, const char *file,
			 const char *device, const char *key)
{
	char buf[4096], *line, *save, *p;
	size_t dlen = strlen(device);

	if (cg_read(cgroup, file, buf, sizeof(buf)))
		return -1;
	for (line = strtok_r(buf, "\n", &save); line;
	     line = strtok_r(NULL, "\n", &save)) {
		if (strncmp(line, device, dlen) || line[dlen] != ' ')
			continue;
		p = line + dlen + 1;
		if (key) {
			char needle[64];

			snprintf(needle, sizeof(needle), "%s=", key);
			p = strstr(p, needle);
			if (!p)
				return -1;
			p += strlen(needle);
		}
		if (!strncmp(p, "max", 3))
			return -2;
		return strtol(p, NULL, 10);
	}
	return -1;
}

static long current_of(const char *cg, const char *dev)
{
	return buffer_value(cg, "buffer.current", dev, NULL);
}

static int write_max(const char *cgroup, const char *lines)
{
	char buf[256];

	snprintf(buf, sizeof(buf), "%s", lines);
	return cg_write(cgroup, "buffer.max", buf);
}

/* write(2) to a cgroup file, returning -errno: cg_write() loses errno. */
static int write_raw(const char *cgroup, const char *file, const char *data,
		     size_t len)
{
	char *path = cg_control(cgroup, file);
	int fd, ret;

	fd = open(path, O_WRONLY);
	free(path);
	if (fd < 0)
		return -errno;
	ret = write(fd, data, len) < 0 ? -errno : 0;
	close(fd);
	return ret;
}

static char *make_cgroup(const char *root, const char *name)
{
	char *cg = cg_name(root, name);

	if (!cg || cg_create(cg)) {
		free(cg);
		return NULL;
	}
	return cg;
}

static void remove_cgroup(char *cg)
{
	if (cg) {
		cg_destroy(cg);
		free(cg);
	}
}

/* The root has current, stat and capacity, and none of the limit files. */
static int test_buffer_root_files(const char *root)
{
	char buf[4096];

	if (current_of(root, SYSTEM) < 0 || current_of(root, CMA) < 0)
		return KSFT_FAIL;
	if (buffer_value(root, "buffer.stat", SYSTEM, "buffers") < 0)
		return KSFT_FAIL;
	if (buffer_value(root, "buffer.capacity", SYSTEM, NULL) <= 0)
		return KSFT_FAIL;
	if (buffer_value(root, "buffer.capacity", CMA, NULL) != 32 * MB)
		return KSFT_FAIL;
	if (!cg_read(root, "buffer.max", buf, sizeof(buf)) ||
	    !cg_read(root, "buffer.peak", buf, sizeof(buf)) ||
	    !cg_read(root, "buffer.events", buf, sizeof(buf)) ||
	    !cg_read(root, "buffer.events.local", buf, sizeof(buf)))
		return KSFT_FAIL;
	return KSFT_PASS;
}

/* Every file of a fresh cgroup, to the byte, in registration order. */
static int test_buffer_file_formats(const char *root)
{
	static const struct {
		const char *file;
		const char *want;
	} files[] = {
		{ "buffer.current", SYSTEM " 0\n" CMA " 0\n" },
		{ "buffer.max", SYSTEM " max\n" CMA " max\n" },
		{ "buffer.peak", SYSTEM " 0\n" CMA " 0\n" },
		{ "buffer.events", SYSTEM " max=0\n" CMA " max=0\n" },
		{ "buffer.events.local", SYSTEM " max=0\n" CMA " max=0\n" },
		{ "buffer.stat", SYSTEM " buffers=0 transfers_in=0 transfers_out=0\n"
				 CMA " buffers=0 transfers_in=0 transfers_out=0\n" },
	};
	int ret = KSFT_FAIL;
	char buf[4096];
	char *cg;
	size_t i;

	cg = make_cgroup(root, "buffer_test_formats");
	if (!cg)
		return KSFT_FAIL;
	for (i = 0; i < ARRAY_SIZE(files); i++) {
		if (cg_read_strcmp(cg, files[i].file, files[i].want)) {
			cg_read(cg, files[i].file, buf, sizeof(buf));
			ksft_print_msg("%s is \"%s\"\n", files[i].file, buf);
			goto out;
		}
	}
	if (!cg_read(cg, "buffer.capacity", buf, sizeof(buf)))
		goto out;
	ret = KSFT_PASS;
out:
	remove_cgroup(cg);
	return ret;
}

/* Accepted writes, and bad ones that fail as documented changing nothing. */
static int test_buffer_max_writes(const char *root)
{
	static const struct {
		const char *data;
		int err;
	} bad[] = {
		{ SYSTEM, -EINVAL },
		{ SYSTEM " -1", -EINVAL },
		{ SYSTEM " 1X", -EINVAL },
		{ SYSTEM " 1.5M", -EINVAL },
		{ SYSTEM " 99999999999999999999", -EINVAL },
		{ SYSTEM " 1M 2M", -EINVAL },
		{ " 1M", -EINVAL },
		{ "bad,name 1M", -EINVAL },
		{ "", -EINVAL },
		{ "nosuch/device 1M", -ENODEV },
		{ SYSTEM " 1M\nnosuch/device 1M", -ENODEV },
		{ SYSTEM " 1M\n" CMA " garbage", -EINVAL },
	};
	int ret = KSFT_FAIL;
	size_t i;
	char *cg;

	cg = make_cgroup(root, "buffer_test_writes");
	if (!cg)
		return KSFT_FAIL;
	if (write_max(cg, SYSTEM " 8M\n" CMA " 4K\n") ||
	    buffer_value(cg, "buffer.max", SYSTEM, NULL) != 8 * MB ||
	    buffer_value(cg, "buffer.max", CMA, NULL) != 4096)
		goto out;
	for (i = 0; i < ARRAY_SIZE(bad); i++) {
		int err = write_raw(cg, "buffer.max", bad[i].data, strlen(bad[i].data));

		if (err != bad[i].err) {
			ksft_print_msg("write \"%s\": %d, want %d\n", bad[i].data,
				       err, bad[i].err);
			goto out;
		}
		if (buffer_value(cg, "buffer.max", SYSTEM, NULL) != 8 * MB ||
		    buffer_value(cg, "buffer.max", CMA, NULL) != 4096) {
			ksft_print_msg("write \"%s\" changed buffer.max\n", bad[i].data);
			goto out;
		}
	}
	if (write_raw(cg, "buffer.max", SYSTEM " 1M\0" CMA " 1M", 22) != -EINVAL ||
	    buffer_value(cg, "buffer.max", SYSTEM, NULL) != 8 * MB)
		goto out;
	if (write_max(cg, SYSTEM " max") ||
	    buffer_value(cg, "buffer.max", SYSTEM, NULL) != -2)
		goto out;
	ret = KSFT_PASS;
out:
	remove_cgroup(cg);
	return ret;
}

struct fill_args {
	const char *device;
	const char *cgroup;
	int expect_ok;
};

/* In the cgroup: 1 MiB buffers until refused; the refusal must be ENOMEM. */
static int fill_until_refused(const char *cgroup, void *arg)
{
	struct fill_args *a = arg;
	int fds[64], n, fd;

	for (n = 0; n < 64; n++) {
		fd = heap_alloc(heap_of(a->device), MB);
		if (fd < 0)
			break;
		fds[n] = fd;
	}
	if (n != a->expect_ok || fd != -ENOMEM)
		return 1;
	if (current_of(cgroup, a->device) != (long)n * MB ||
	    buffer_value(cgroup, "buffer.stat", a->device, "buffers") != n)
		return 2;
	while (n--)
		close(fds[n]);
	return 0;
}

static int check_limit(const char *root, const char *device)
{
	struct fill_args args = { .device = device, .expect_ok = 8 };
	int ret = KSFT_FAIL;
	char lines[64];
	char *cg;

	cg = make_cgroup(root, "buffer_test_limit");
	if (!cg)
		return KSFT_FAIL;
	snprintf(lines, sizeof(lines), "%s 8M", device);
	if (write_max(cg, lines))
		goto out;
	if (cg_run(cg, fill_until_refused, &args))
		goto out;
	if (current_of(cg, device) != 0 ||
	    buffer_value(cg, "buffer.peak", device, NULL) != 8 * MB ||
	    buffer_value(cg, "buffer.events", device, "max") != 1 ||
	    buffer_value(cg, "buffer.events.local", device, "max") != 1 ||
	    buffer_value(cg, "buffer.stat", device, "buffers") != 0)
		goto out;
	ret = KSFT_PASS;
out:
	remove_cgroup(cg);
	return ret;
}

/* 8M max: eight 1 MiB buffers, the ninth refused, all back to 0 on close. */
static int test_buffer_limit_system(const char *root)
{
	return check_limit(root, SYSTEM);
}

static int test_buffer_limit_cma(const char *root)
{
	return check_limit(root, CMA);
}

/* A parent's limit binds its child and counts in the parent's events. */
static int test_buffer_hierarchy(const char *root)
{
	struct fill_args args = { .device = SYSTEM, .expect_ok = 4 };
	char *parent = NULL, *child = NULL;
	int ret = KSFT_FAIL;

	parent = make_cgroup(root, "buffer_test_parent");
	if (!parent || cg_write(parent, "cgroup.subtree_control", "+buffer"))
		goto out;
	child = make_cgroup(parent, "child");
	if (!child || write_max(parent, SYSTEM " 4M") || write_max(child, SYSTEM " 16M"))
		goto out;
	if (cg_run(child, fill_until_refused, &args))
		goto out;
	if (buffer_value(parent, "buffer.events.local", SYSTEM, "max") != 1 ||
	    buffer_value(parent, "buffer.events", SYSTEM, "max") != 1 ||
	    buffer_value(child, "buffer.events.local", SYSTEM, "max") != 0 ||
	    buffer_value(child, "buffer.events", SYSTEM, "max") != 0 ||
	    buffer_value(parent, "buffer.peak", SYSTEM, NULL) != 4 * MB ||
	    current_of(parent, SYSTEM) != 0)
		goto out;
	ret = KSFT_PASS;
out:
	remove_cgroup(child);
	remove_cgroup(parent);
	return ret;
}

static int send_fd(int sock, int fd)
{
	char cmsgbuf[CMSG_SPACE(sizeof(int))] = { 0 };
	char byte = 'b';
	struct iovec iov = { .iov_base = &byte, .iov_len = 1 };
	struct msghdr msg = {
		.msg_iov = &iov, .msg_iovlen = 1,
		.msg_control = cmsgbuf, .msg_controllen = sizeof(cmsgbuf),
	};
	struct cmsghdr *cmsg = CMSG_FIRSTHDR(&msg);

	cmsg->cmsg_level = SOL_SOCKET;
	cmsg->cmsg_type = SCM_RIGHTS;
	cmsg->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(cmsg), &fd, sizeof(int));
	return sendmsg(sock, &msg, 0) == 1 ? 0 : -1;
}

static int recv_fd(int sock)
{
	char cmsgbuf[CMSG_SPACE(sizeof(int))] = { 0 };
	char byte;
	struct iovec iov = { .iov_base = &byte, .iov_len = 1 };
	struct msghdr msg = {
		.msg_iov = &iov, .msg_iovlen = 1,
		.msg_control = cmsgbuf, .msg_controllen = sizeof(cmsgbuf),
	};
	struct cmsghdr *cmsg;
	int fd;

	if (recvmsg(sock, &msg, 0) != 1)
		return -1;
	cmsg = CMSG_FIRSTHDR(&msg);
	if (!cmsg || cmsg->cmsg_type != SCM_RIGHTS)
		return -1;
	memcpy(&fd, CMSG_DATA(cmsg), sizeof(int));
	return fd;
}

static int sockets[2];

/* Allocate 1 MiB, hand the fd over the socket, close ours, and exit. */
static int alloc_and_send(const char *cgroup, void *arg)
{
	int fd = heap_alloc("system", MB);

	if (fd < 0 || send_fd(sockets[0], fd))
		return 1;
	close(fd);
	return 0;
}

/*
 * A buffer passed to a process in another cgroup keeps its charge with the
 * allocator's cgroup, even after the allocator exits and its cgroup is
 * removed; the last close releases it from the parent's count too.
 */
static int test_buffer_fd_passing_and_rmdir(const char *root)
{
	char *parent = NULL, *allocator = NULL, *holder = NULL, *path;
	int ret = KSFT_FAIL, fd = -1;
	char info[1024];
	char want[PATH_MAX + 32];
	FILE *f;
	size_t n;

	parent = make_cgroup(root, "buffer_test_passing");
	if (!parent || cg_write(parent, "cgroup.subtree_control", "+buffer"))
		goto out;
	allocator = make_cgroup(parent, "allocator");
	holder = make_cgroup(root, "buffer_test_holder");
	if (!allocator || !holder)
		goto out;
	if (socketpair(AF_UNIX, SOCK_DGRAM, 0, sockets))
		goto out;
	if (cg_run(allocator, alloc_and_send, NULL))
		goto out;
	fd = recv_fd(sockets[1]);
	close(sockets[0]);
	close(sockets[1]);
	if (fd < 0 || cg_enter_current(holder))
		goto out;
	if (current_of(allocator, SYSTEM) != MB || current_of(holder, SYSTEM) != 0)
		goto out;

	/* fdinfo names the device and the paying cgroup. */
	if (asprintf(&path, "/proc/self/fdinfo/%d", fd) < 0)
		goto out;
	f = fopen(path, "r");
	free(path);
	if (!f)
		goto out;
	n = fread(info, 1, sizeof(info) - 1, f);
	fclose(f);
	info[n] = '\0';
	snprintf(want, sizeof(want), "charge_cgroup:\t%s\n",
		 allocator + strlen(root));
	if (!strstr(info, "charge_device:\t" SYSTEM "\n") || !strstr(info, want)) {
		ksft_print_msg("fdinfo:\n%s", info);
		goto out;
	}

	/* The allocator is gone; its cgroup can go with a live buffer. */
	if (cg_destroy(allocator))
		goto out;
	if (current_of(parent, SYSTEM) != MB)
		goto out;
	close(fd);
	fd = -1;
	if (current_of(parent, SYSTEM) != 0)
		goto out;
	ret = KSFT_PASS;
out:
	if (fd >= 0)
		close(fd);
	cg_enter_current(root);
	remove_cgroup(allocator);
	remove_cgroup(holder);
	remove_cgroup(parent);
	return ret;
}

/* Allocations that fail after the charge leave no charge behind. */
static int fail_allocations(const char *cgroup, void *arg)
{
	struct dma_heap_allocation_data *ro;
	struct rlimit nofile;
	int fd;

	/* More than the CMA area holds: the heap runs out of pages. */
	if (heap_alloc("reserved", 64 * MB) != -ENOMEM)
		return 1;
	/* No free fd. */
	fd = dup(0);
	if (fd < 0 || getrlimit(RLIMIT_NOFILE, &nofile))
		return 3;
	nofile.rlim_cur = fd;
	if (setrlimit(RLIMIT_NOFILE, &nofile) || heap_alloc("system", MB) != -EMFILE)
		return 4;
	/* The result cannot be copied back to userspace. */
	ro = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (ro == MAP_FAILED)
		return 5;
	ro->len = MB;
	ro->fd_flags = O_RDWR | O_CLOEXEC;
	if (mprotect(ro, 4096, PROT_READ))
		return 6;
	nofile.rlim_cur = 1024;
	if (setrlimit(RLIMIT_NOFILE, &nofile) || heap_alloc_data("system", ro) != -EFAULT)
		return 7;
	if (current_of(cgroup, SYSTEM) != 0 || current_of(cgroup, CMA) != 0)
		return 8;
	return 0;
}

static int test_buffer_failed_allocations(const char *root)
{
	int ret = KSFT_FAIL, status;
	char *cg;

	cg = make_cgroup(root, "buffer_test_failures");
	if (!cg)
		return KSFT_FAIL;
	status = cg_run(cg, fail_allocations, NULL);
	if (status) {
		ksft_print_msg("step %d failed\n", status);
		goto out;
	}
	if (current_of(cg, SYSTEM) != 0 || current_of(cg, CMA) != 0 ||
	    buffer_value(cg, "buffer.peak", CMA, NULL) != 0)
		goto out;
	ret = KSFT_PASS;
out:
	remove_cgroup(cg);
	return ret;
}

#define T(x) { x, #x }
static struct buffer_test {
	int (*fn)(const char *root);
	const char *name;
} tests[] = {
	T(test_buffer_root_files),
	T(test_buffer_file_formats),
	T(test_buffer_max_writes),
	T(test_buffer_limit_system),
	T(test_buffer_limit_cma),
	T(test_buffer_hierarchy),
	T(test_buffer_fd_passing_and_rmdir),
	T(test_buffer_failed_allocations),
};
#undef T

int main(int argc, char **argv)
{
	char root[PATH_MAX];
	size_t i;

	ksft_print_header();
	ksft_set_plan(ARRAY_SIZE(tests));
	if (cg_find_unified_root(root, sizeof(root), NULL))
		ksft_exit_skip("cgroup v2 isn't mounted\n");
	if (cg_read_strstr(root, "cgroup.controllers", "buffer"))
		ksft_exit_skip("buffer controller isn't available\n");
	if (cg_read_strstr(root, "cgroup.subtree_control", "buffer") &&
	    cg_write(root, "cgroup.subtree_control", "+buffer"))
		ksft_exit_skip("Failed to enable the buffer controller\n");

	for (i = 0; i < ARRAY_SIZE(tests); i++) {
		switch (tests[i].fn(root)) {
		case KSFT_PASS:
			ksft_test_result_pass("%s\n", tests[i].name);
			break;
		case KSFT_SKIP:
			ksft_test_result_skip("%s\n", tests[i].name);
			break;
		default:
			ksft_test_result_fail("%s\n", tests[i].name);
			break;
		}
	}
	ksft_finished();
}
