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
#include <pthread.h>
#include <sched.h>
#include <linux/capability.h>
#include <linux/dma-buf.h>
#include <linux/dma-heap.h>
#include <linux/udmabuf.h>
#include <drm/drm.h>
#include <drm/drm_mode.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../kselftest.h"
#include "cgroup_util.h"
#include "buffer_util.h"

#define SYSTEM "heap/system"
#define CMA "heap/reserved"
#define VGEM "drm/vgem"
/* QEMU's GPUs where scripts/run-guest.sh puts them: -vga std, virtio-gpu-pci */
#define BOCHS "drm/0000:00:02.0"
#define VIRTIO_GPU "drm/0000:00:04.0"
#define MIB MB(1L)

/* The heap's name in /dev/dma_heap from a device name "heap/<name>". */
static const char *heap_of(const char *device)
{
	return device + strlen("heap/");
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

/* The size of the default CMA area, from /proc/meminfo. */
static long cma_total(void)
{
	char buf[4096], *p;

	if (read_text("/proc/meminfo", buf, sizeof(buf)) <= 0)
		return -1;
	p = strstr(buf, "CmaTotal:");
	return p ? strtol(p + strlen("CmaTotal:"), NULL, 10) * 1024 : -1;
}

/*
 * cg_run() for step functions, which exit with 0 or the number of the step
 * that failed; says which.
 */
static int run_steps(const char *cgroup, int (*fn)(const char *cgroup, void *arg),
		     void *arg)
{
	int step = cg_run(cgroup, fn, arg);

	if (step)
		ksft_print_msg("step %d failed\n", step);
	return step;
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
	if (buffer_value(root, "buffer.capacity", CMA, NULL) != cma_total())
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
		/*
		 * The GPUs register first, drivers/gpu linking before
		 * drivers/dma-buf: vgem, virtio-gpu, bochs (drivers/gpu/drm/tiny).
		 */
		{ "buffer.current", VGEM " 0\n" VIRTIO_GPU " 0\n" BOCHS " 0\n"
				    SYSTEM " 0\n" CMA " 0\n" },
		{ "buffer.max", VGEM " max\n" VIRTIO_GPU " max\n" BOCHS " max\n"
				SYSTEM " max\n" CMA " max\n" },
		{ "buffer.peak", VGEM " 0\n" VIRTIO_GPU " 0\n" BOCHS " 0\n"
				 SYSTEM " 0\n" CMA " 0\n" },
		{ "buffer.events", VGEM " max=0\n" VIRTIO_GPU " max=0\n" BOCHS " max=0\n"
				   SYSTEM " max=0\n" CMA " max=0\n" },
		{ "buffer.events.local", VGEM " max=0\n" VIRTIO_GPU " max=0\n" BOCHS " max=0\n"
					 SYSTEM " max=0\n" CMA " max=0\n" },
		{ "buffer.stat", VGEM " buffers=0 transfers_in=0 transfers_out=0\n"
				 VIRTIO_GPU " buffers=0 transfers_in=0 transfers_out=0\n"
				 BOCHS " buffers=0 transfers_in=0 transfers_out=0\n"
				 SYSTEM " buffers=0 transfers_in=0 transfers_out=0\n"
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
		{ "bad;name 1M", -EINVAL },
		{ "bad\xc3\xa9name 1M", -EINVAL },
		/* Android and device-tree names: well formed, not registered. */
		{ "heap/linux,cma 1M", -ENODEV },
		{ "heap/memory@80000000 1M", -ENODEV },
		{ "\n", -EINVAL },
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
	    buffer_value(cg, "buffer.max", SYSTEM, NULL) != 8 * MIB ||
	    buffer_value(cg, "buffer.max", CMA, NULL) != 4096)
		goto out;
	for (i = 0; i < ARRAY_SIZE(bad); i++) {
		int err = write_raw(cg, "buffer.max", bad[i].data, strlen(bad[i].data));

		if (err != bad[i].err) {
			ksft_print_msg("write \"%s\": %d, want %d\n", bad[i].data,
				       err, bad[i].err);
			goto out;
		}
		if (buffer_value(cg, "buffer.max", SYSTEM, NULL) != 8 * MIB ||
		    buffer_value(cg, "buffer.max", CMA, NULL) != 4096) {
			ksft_print_msg("write \"%s\" changed buffer.max\n", bad[i].data);
			goto out;
		}
	}
	if (write_raw(cg, "buffer.max", SYSTEM " 1M\0" CMA " 1M", 22) != -EINVAL ||
	    buffer_value(cg, "buffer.max", SYSTEM, NULL) != 8 * MIB)
		goto out;
	if (write_max(cg, SYSTEM " max") ||
	    buffer_value(cg, "buffer.max", SYSTEM, NULL) != BUFFER_VALUE_MAX)
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
		fd = buffer_heap_alloc(heap_of(a->device), MIB);
		if (fd < 0)
			break;
		fds[n] = fd;
	}
	if (n != a->expect_ok || fd != -ENOMEM)
		return 1;
	if (current_of(cgroup, a->device) != (long)n * MIB ||
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
	    buffer_value(cg, "buffer.peak", device, NULL) != 8 * MIB ||
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
	    buffer_value(parent, "buffer.peak", SYSTEM, NULL) != 4 * MIB ||
	    current_of(parent, SYSTEM) != 0)
		goto out;
	ret = KSFT_PASS;
out:
	remove_cgroup(child);
	remove_cgroup(parent);
	return ret;
}

/* Pinned to *@arg's CPU: 4 KiB buffers until 64K refuses one, then closed. */
static int fill_small_on_cpu(const char *cgroup, void *arg)
{
	int fds[32], n, fd;
	cpu_set_t cpus;

	CPU_ZERO(&cpus);
	CPU_SET(*(int *)arg, &cpus);
	if (sched_setaffinity(0, sizeof(cpus), &cpus))
		return 1;
	for (n = 0; n < 32; n++) {
		fd = buffer_heap_alloc(heap_of(SYSTEM), 4096);
		if (fd < 0)
			break;
		fds[n] = fd;
	}
	if (n != 16 || fd != -ENOMEM)
		return 2;
	while (n--)
		close(fds[n]);
	/* The CPU may keep the bytes charged; the files must not show them. */
	if (current_of(cgroup, SYSTEM) != 0 ||
	    buffer_value(cgroup, "buffer.stat", SYSTEM, "buffers") != 0)
		return 3;
	return 0;
}

/*
 * Buffers closed on one CPU leave their bytes in its stock; a second CPU
 * must still fill the cgroup to its max, each run refused once.
 */
static int test_buffer_stock_other_cpu(const char *root)
{
	int first = 0, second = 1;
	int ret = KSFT_FAIL;
	char *cg;

	if (sysconf(_SC_NPROCESSORS_ONLN) < 2)
		return KSFT_SKIP;
	cg = make_cgroup(root, "buffer_test_stock");
	if (!cg || write_max(cg, SYSTEM " 64K"))
		goto out;
	if (run_steps(cg, fill_small_on_cpu, &first) ||
	    run_steps(cg, fill_small_on_cpu, &second))
		goto out;
	if (buffer_value(cg, "buffer.events.local", SYSTEM, "max") != 2 ||
	    buffer_value(cg, "buffer.peak", SYSTEM, NULL) != 64 * 1024 ||
	    current_of(cg, SYSTEM) != 0)
		goto out;
	ret = KSFT_PASS;
out:
	remove_cgroup(cg);
	return ret;
}

static int sockets[2];

/* Allocate 1 MiB, hand the fd over the socket, close ours, and exit. */
static int alloc_and_send(const char *cgroup, void *arg)
{
	int fd = buffer_heap_alloc("system", MIB);

	if (fd < 0 || buffer_send_fd(sockets[0], fd, 0))
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
	fd = buffer_recv_fd(sockets[1], 0);
	close(sockets[0]);
	close(sockets[1]);
	if (fd < 0 || cg_enter_current(holder))
		goto out;
	if (current_of(allocator, SYSTEM) != MIB || current_of(holder, SYSTEM) != 0)
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
	if (current_of(parent, SYSTEM) != MIB)
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
	if (buffer_heap_alloc("reserved", cma_total() + MIB) != -ENOMEM)
		return 1;
	/* No free fd. */
	fd = dup(0);
	if (fd < 0 || getrlimit(RLIMIT_NOFILE, &nofile))
		return 3;
	nofile.rlim_cur = fd;
	if (setrlimit(RLIMIT_NOFILE, &nofile) || buffer_heap_alloc("system", MIB) != -EMFILE)
		return 4;
	/* The result cannot be copied back to userspace. */
	ro = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (ro == MAP_FAILED)
		return 5;
	ro->len = MIB;
	ro->fd_flags = O_RDWR | O_CLOEXEC;
	if (mprotect(ro, 4096, PROT_READ))
		return 6;
	nofile.rlim_cur = 1024;
	if (setrlimit(RLIMIT_NOFILE, &nofile) || buffer_heap_alloc_data("system", ro) != -EFAULT)
		return 7;
	if (current_of(cgroup, SYSTEM) != 0 || current_of(cgroup, CMA) != 0)
		return 8;
	return 0;
}

static int test_buffer_failed_allocations(const char *root)
{
	int ret = KSFT_FAIL;
	char *cg;

	cg = make_cgroup(root, "buffer_test_failures");
	if (!cg)
		return KSFT_FAIL;
	if (run_steps(cg, fail_allocations, NULL))
		goto out;
	/*
	 * The CMA buffer was charged before the heap ran out of pages, so
	 * peak saw it: the charge is taken first, on purpose, so that a
	 * refused buffer costs no page allocation.
	 */
	if (current_of(cg, SYSTEM) != 0 || current_of(cg, CMA) != 0 ||
	    buffer_value(cg, "buffer.peak", CMA, NULL) != cma_total() + MIB)
		goto out;
	ret = KSFT_PASS;
out:
	remove_cgroup(cg);
	return ret;
}

static void close_fds(const int *fds, size_t n)
{
	while (n--)
		if (fds[n] >= 0)
			close(fds[n]);
}

static int pidfd_open(pid_t pid)
{
	return syscall(SYS_pidfd_open, pid, 0);
}

static int open_system_heap(void)
{
	return open("/dev/dma_heap/system", O_RDONLY | O_CLOEXEC);
}

static int idle(const char *cgroup, void *arg)
{
	pause();
	return 0;
}

/* A process that idles in @cgroup until killed. */
static pid_t start_idler(const char *cgroup)
{
	pid_t pid = cg_run_nowait(cgroup, idle, NULL);

	if (pid > 0 && cg_wait_for_proc_count(cgroup, 1)) {
		kill(pid, SIGKILL);
		waitpid(pid, NULL, 0);
		return -1;
	}
	return pid;
}

static void stop(pid_t pid)
{
	if (pid > 0) {
		kill(pid, SIGKILL);
		waitpid(pid, NULL, 0);
	}
}

struct one_hop_args {
	const char *client_cg;
	pid_t client;
	int by_cgroup_fd;
};

/* The allocator: charge 1 MiB to the client; nothing lands on itself. */
static int allocate_for_client(const char *cgroup, void *arg)
{
	struct one_hop_args *a = arg;
	int heap = open_system_heap(), charge_fd, buf;

	charge_fd = a->by_cgroup_fd ? open(a->client_cg, O_DIRECTORY | O_RDONLY) :
				      pidfd_open(a->client);
	if (heap < 0 || charge_fd < 0)
		return 1;
	buf = buffer_heap_alloc_charged(heap, MIB, charge_fd);
	if (buf < 0)
		return 2;
	if (current_of(a->client_cg, SYSTEM) != MIB || current_of(cgroup, SYSTEM) != 0 ||
	    buffer_value(a->client_cg, "buffer.stat", SYSTEM, "buffers") != 1)
		return 3;
	close(buf);
	if (current_of(a->client_cg, SYSTEM) != 0)
		return 4;
	/* Over the client's limit: refused, counted in the client's events. */
	if (write_max(a->client_cg, SYSTEM " 1M") ||
	    buffer_heap_alloc_charged(heap, 2 * MIB, charge_fd) != -ENOMEM ||
	    buffer_value(a->client_cg, "buffer.events.local", SYSTEM, "max") != 1 ||
	    buffer_value(cgroup, "buffer.events", SYSTEM, "max") != 0 ||
	    current_of(a->client_cg, SYSTEM) != 0 || current_of(cgroup, SYSTEM) != 0)
		return 5;
	return 0;
}

static int check_one_hop(const char *root, int by_cgroup_fd)
{
	char *allocator = make_cgroup(root, "buffer_test_allocator");
	char *client = make_cgroup(root, "buffer_test_client");
	struct one_hop_args args = { .client_cg = client, .by_cgroup_fd = by_cgroup_fd };
	int ret = KSFT_FAIL;

	if (!allocator || !client)
		goto out;
	args.client = start_idler(client);
	if (args.client < 0)
		goto out;
	if (!run_steps(allocator, allocate_for_client, &args))
		ret = KSFT_PASS;
out:
	stop(args.client);
	remove_cgroup(allocator);
	remove_cgroup(client);
	return ret;
}

/* One hop: an allocator charges its client named by pidfd. */
static int test_buffer_charge_fd_pidfd(const char *root)
{
	return check_one_hop(root, 0);
}

/* One hop: an allocator charges a cgroup named by a cgroup2 fd. */
static int test_buffer_charge_fd_cgroup(const char *root)
{
	return check_one_hop(root, 1);
}

struct two_hop_args {
	int sock;
	pid_t client;
	const char *client_cg;
};

/*
 * The middle process (a compositor): receives a buffer charged to it,
 * passes its charge on to the client, and reports over the socket.
 */
static int forward_charge(const char *cgroup, void *arg)
{
	struct two_hop_args *a = arg;
	int buf = buffer_recv_fd(a->sock, 0), client = pidfd_open(a->client);
	char result = 'F', done;

	if (buf >= 0 && client >= 0 && current_of(cgroup, SYSTEM) == MIB &&
	    transfer_charge(buf, client) == 0 && current_of(cgroup, SYSTEM) == 0)
		result = 'T';
	if (write(a->sock, &result, 1) != 1 || read(a->sock, &done, 1) != 1)
		return 1;
	return 0;
}

/* Two hops: allocator -> middle (charge_fd) -> client (transfer). */
static int test_buffer_two_hops(const char *root)
{
	char *allocator = make_cgroup(root, "buffer_test_allocator");
	char *middle = make_cgroup(root, "buffer_test_middle");
	char *client = make_cgroup(root, "buffer_test_client");
	struct two_hop_args args = { .client_cg = client };
	int ret = KSFT_FAIL, sv[2] = { -1, -1 }, heap = -1, pidfd = -1, buf = -1;
	pid_t middle_pid = -1;
	char result = 0;

	if (!allocator || !middle || !client || socketpair(AF_UNIX, SOCK_STREAM, 0, sv))
		goto out;
	args.client = start_idler(client);
	args.sock = sv[1];
	middle_pid = cg_run_nowait(middle, forward_charge, &args);
	if (args.client < 0 || middle_pid < 0 || cg_enter_current(allocator))
		goto out;
	heap = open_system_heap();
	pidfd = pidfd_open(middle_pid);
	buf = buffer_heap_alloc_charged(heap, MIB, pidfd);
	if (buf < 0 || buffer_send_fd(sv[0], buf, 0))
		goto out;
	close(buf);
	buf = -1;
	if (read(sv[0], &result, 1) != 1 || result != 'T')
		goto out;
	if (current_of(client, SYSTEM) != MIB || current_of(middle, SYSTEM) != 0 ||
	    current_of(allocator, SYSTEM) != 0 ||
	    buffer_value(middle, "buffer.stat", SYSTEM, "transfers_out") != 1 ||
	    buffer_value(client, "buffer.stat", SYSTEM, "transfers_in") != 1 ||
	    buffer_value(client, "buffer.stat", SYSTEM, "buffers") != 1)
		goto out;
	/* The middle process lets go: the client's charge goes with the buffer. */
	if (write(sv[0], "x", 1) != 1 || waitpid(middle_pid, NULL, 0) != middle_pid)
		goto out;
	middle_pid = -1;
	if (current_of(client, SYSTEM) != 0)
		goto out;
	ret = KSFT_PASS;
out:
	cg_enter_current(root);
	stop(middle_pid);
	stop(args.client);
	for (int i = 0; i < 2; i++)
		if (sv[i] >= 0)
			close(sv[i]);
	if (buf >= 0)
		close(buf);
	if (heap >= 0)
		close(heap);
	if (pidfd >= 0)
		close(pidfd);
	remove_cgroup(allocator);
	remove_cgroup(middle);
	remove_cgroup(client);
	return ret;
}

/* A dma-buf of memfd pages from udmabuf, which charges nothing here. */
static int uncharged_dmabuf(void)
{
	struct udmabuf_create create = { .flags = UDMABUF_FLAGS_CLOEXEC, .size = 4096 };
	int memfd = memfd_create("buffer_test", MFD_ALLOW_SEALING), dev, ret = -1;

	dev = open("/dev/udmabuf", O_RDWR | O_CLOEXEC);
	if (memfd >= 0 && dev >= 0 && !ftruncate(memfd, 4096) &&
	    !fcntl(memfd, F_ADD_SEALS, F_SEAL_SHRINK)) {
		create.memfd = memfd;
		ret = ioctl(dev, UDMABUF_CREATE, &create);
	}
	close_fds((int[]){ memfd, dev }, 2);
	return ret;
}

/* Every documented errno, each with nothing charged or moved. */
static int test_buffer_charge_errors(const char *root)
{
	char *target = make_cgroup(root, "buffer_test_target");
	int ret = KSFT_FAIL, heap = open_system_heap(), file = -1, cgfd = -1;
	int buf = -1, uncharged = -1, pidfd = -1, saved0 = -1, tmp = -1;
	struct dma_heap_allocation_data data = {
		.len = MIB, .fd_flags = O_RDWR | O_CLOEXEC,
	};
	struct dma_buf_transfer_charge bad_flags = { .flags = 1 };
	pid_t child;

	if (!target || heap < 0)
		goto out;
	cgfd = open(target, O_DIRECTORY | O_RDONLY);
	file = open("/proc/self/stat", O_RDONLY);
	tmp = open("/tmp", O_DIRECTORY | O_RDONLY);
	if (cgfd < 0 || file < 0 || tmp < 0)
		goto out;
	if (buffer_heap_alloc_charged(heap, MIB, 9999) != -EBADF ||
	    buffer_heap_alloc_charged(heap, MIB, file) != -EINVAL ||
	    buffer_heap_alloc_charged(heap, MIB, tmp) != -EINVAL)
		goto out;
	/* O_PATH, as CLONE_INTO_CGROUP takes: still only a cgroup2 directory. */
	close(tmp);
	tmp = open("/tmp", O_PATH | O_DIRECTORY);
	if (tmp < 0 || buffer_heap_alloc_charged(heap, MIB, tmp) != -EINVAL)
		goto out;
	close(tmp);
	tmp = open("/proc/self/stat", O_PATH);
	if (tmp < 0 || buffer_heap_alloc_charged(heap, MIB, tmp) != -EINVAL)
		goto out;
	data.heap_flags = DMA_HEAP_FLAG_CHARGE_FD;
	data.charge_fd = cgfd;
	data.__reserved = 1;
	if (ioctl(heap, DMA_HEAP_IOCTL_ALLOC, &data) == 0 || errno != EINVAL)
		goto out;
	data.heap_flags = 1ULL << 1;
	data.__reserved = 0;
	if (ioctl(heap, DMA_HEAP_IOCTL_ALLOC, &data) == 0 || errno != EINVAL)
		goto out;
	/* Without the flag, the new fields are ignored. */
	data.heap_flags = 0;
	data.charge_fd = 9999;
	data.__reserved = 7;
	if (ioctl(heap, DMA_HEAP_IOCTL_ALLOC, &data))
		goto out;
	close(data.fd);

	/* The pidfd of an exited process, before and after it is reaped. */
	child = fork();
	if (child == 0)
		_exit(0);
	pidfd = pidfd_open(child);
	if (pidfd < 0)
		goto out;
	/* Wait until it has exited, but leave the zombie unreaped. */
	if (waitid(P_PID, child, &(siginfo_t){ 0 }, WEXITED | WNOWAIT))
		goto out;
	if (buffer_heap_alloc_charged(heap, MIB, pidfd) != -ESRCH)
		goto out;
	waitpid(child, NULL, 0);
	if (buffer_heap_alloc_charged(heap, MIB, pidfd) != -ESRCH)
		goto out;

	/* fd 0 is a charge_fd like any other. */
	saved0 = dup(0);
	if (saved0 < 0 || dup2(cgfd, 0) != 0)
		goto out;
	buf = buffer_heap_alloc_charged(heap, MIB, 0);
	dup2(saved0, 0);
	if (buf < 0 || current_of(target, SYSTEM) != MIB)
		goto out;

	if (transfer_charge(buf, 9999) != -EBADF || transfer_charge(buf, file) != -EINVAL ||
	    ioctl(buf, DMA_BUF_IOCTL_TRANSFER_CHARGE, &bad_flags) == 0 || errno != EINVAL ||
	    transfer_charge(buf, pidfd) != -ESRCH || current_of(target, SYSTEM) != MIB)
		goto out;

	/* A dma-buf that carries no charge cannot be transferred. */
	uncharged = uncharged_dmabuf();
	if (uncharged < 0) {
		ksft_print_msg("no uncharged dma-buf from udmabuf\n");
		goto out;
	}
	if (transfer_charge(uncharged, cgfd) != -EOPNOTSUPP ||
	    current_of(target, SYSTEM) != MIB)
		goto out;
	close(buf);
	buf = -1;
	if (current_of(target, SYSTEM) != 0 || current_of(root, SYSTEM) < 0)
		goto out;
	ret = KSFT_PASS;
out:
	close_fds((int[]){ saved0, heap, file, tmp, cgfd, buf, uncharged, pidfd }, 8);
	remove_cgroup(target);
	return ret;
}

#define NOBODY 65534

/* How a charge target is named. */
enum target_fd { BY_DIR, BY_O_PATH, BY_PIDFD };

struct matrix_pair {
	const char *caller;	/* the caller's cgroup, under the test's root */
	const char *target;
	/* The caller runs in a cgroup namespace rooted at its cgroup. */
	bool in_ns;
	/* What the rule must say, beyond agreeing with cgroup.procs. */
	bool allowed;
};

struct matrix_args {
	const struct matrix_pair *pair;
	const char *target;
	pid_t target_pid;	/* an idler in a leaf target, or -1 */
	int heap, own;		/* the heap, and a pidfd of ourselves */
};

/* Writing our pid to @target's cgroup.procs: 0 if the rule allows it. */
static int migrate_permitted(const char *target)
{
	char *path = cg_control(target, "cgroup.procs"), pid[16];
	int fd, ret;

	fd = open(path, O_WRONLY);
	free(path);
	if (fd < 0)
		return -errno;
	snprintf(pid, sizeof(pid), "%d", getpid());
	ret = write(fd, pid, strlen(pid)) < 0 ? -errno : 0;
	close(fd);
	/* Permitted, but an inner cgroup with controllers takes no process. */
	return ret == -EBUSY ? 0 : ret;
}

/*
 * As nobody in the pair's caller cgroup: charge the target every way it can
 * be named, transfer to it, and compare each result with what a migration
 * there says. Exits with the step that disagreed.
 */
static int charge_as_migration(const char *cgroup, void *arg)
{
	struct matrix_args *a = arg;
	int ways = a->target_pid > 0 ? 3 : 2, fd, buf, ret, permitted, i;
	bool charged;

	if (a->pair->in_ns && unshare(CLONE_NEWCGROUP))
		return 1;
	if (setgid(NOBODY) || setuid(NOBODY))
		return 2;
	a->own = pidfd_open(getpid());
	if (a->own < 0)
		return 6;
	for (i = 0; i < ways; i++) {
		fd = i == BY_PIDFD ? pidfd_open(a->target_pid) :
		     open(a->target, i == BY_O_PATH ? O_PATH | O_DIRECTORY :
						      O_RDONLY | O_DIRECTORY);
		if (fd < 0)
			return 3;
		ret = buffer_heap_alloc_charged(a->heap, 4096, fd);
		charged = ret >= 0;
		if (charged)
			close(ret);
		if (charged != a->pair->allowed || (!charged && ret != -EPERM)) {
			ksft_print_msg("%s -> %s (%s%s): charge %d\n",
				       a->pair->caller, a->pair->target,
				       i == BY_PIDFD ? "pidfd" : i == BY_O_PATH ?
				       "O_PATH" : "dir", a->pair->in_ns ? ", ns" : "",
				       ret);
			return 10 + i;
		}
		/* A transfer to it needs the same right. */
		buf = buffer_heap_alloc_charged(a->heap, 4096, a->own);
		if (buf < 0)
			return 4;
		charged = !transfer_charge(buf, fd);
		close(buf);
		close(fd);
		if (charged != a->pair->allowed)
			return 20 + i;
	}
	/* Its own cgroup a process may always charge, writable or not. */
	if (!strcmp(a->pair->caller, a->pair->target))
		return 0;
	permitted = migrate_permitted(a->target);
	if (!permitted != a->pair->allowed) {
		ksft_print_msg("%s -> %s%s: cgroup.procs %d, rule %d\n",
			       a->pair->caller, a->pair->target,
			       a->pair->in_ns ? " (ns)" : "", permitted,
			       a->pair->allowed);
		return 5;
	}
	return 0;
}

static int chown_procs(const char *cgroup, uid_t uid)
{
	char *procs = cg_control(cgroup, "cgroup.procs");
	int ret = chown(procs, uid, uid);

	free(procs);
	return ret;
}

/*
 * Who may charge a cgroup: exactly who could move a process from its own
 * cgroup into it (cgroup.procs of the target and of the common ancestor
 * writable, target inside the cgroup namespace), or CAP_SYS_RESOURCE (the
 * other tests run as root). A process limited in jail/ must not escape
 * its limit by charging a cgroup delegated to it elsewhere (other/y).
 */
static int test_buffer_charge_permissions(const char *root)
{
	static const char * const names[] = {
		"deleg", "deleg/a", "deleg/b", "deleg/c", "other", "other/y",
		"locked", "jail",
	};
	/* nobody's cgroup.procs: delegated ones */
	static const char * const nobodys[] = {
		"deleg", "deleg/a", "deleg/b", "other", "other/y",
	};
	static const struct matrix_pair pairs[] = {
		{ "deleg/a", "deleg/a", false, true },
		{ "deleg/a", "deleg/b", false, true },
		{ "deleg/a", "deleg", false, true },
		{ "deleg/a", "deleg/c", false, false },
		{ "deleg/a", "other/y", false, false },
		{ "deleg/a", "locked", false, false },
		{ "deleg/a", "deleg/b", true, false },
		{ "jail", "jail", false, true },
		{ "jail", "other/y", false, false },
		{ "jail", "other", false, false },
		{ "jail", "deleg/b", false, false },
		{ "jail", "locked", false, false },
	};
	char *cgs[ARRAY_SIZE(names)] = { 0 };
	char *base = make_cgroup(root, "buffer_test_perm");
	int ret = KSFT_FAIL, heap = open_system_heap();
	size_t i, j;

	if (!base || heap < 0 || cg_write(base, "cgroup.subtree_control", "+buffer"))
		goto out;
	for (i = 0; i < ARRAY_SIZE(names); i++) {
		cgs[i] = make_cgroup(base, names[i]);
		/* Inner cgroups pass the controller on to their children. */
		if (!cgs[i] || ((!strcmp(names[i], "deleg") || !strcmp(names[i], "other")) &&
				cg_write(cgs[i], "cgroup.subtree_control", "+buffer")))
			goto out;
	}
	if (write_max(cgs[7], SYSTEM " 1M"))
		goto out;
	for (i = 0; i < ARRAY_SIZE(nobodys); i++)
		for (j = 0; j < ARRAY_SIZE(names); j++)
			if (!strcmp(nobodys[i], names[j]) && chown_procs(cgs[j], NOBODY))
				goto out;

	for (i = 0; i < ARRAY_SIZE(pairs); i++) {
		struct matrix_args a = { .pair = &pairs[i], .heap = heap, .target_pid = -1 };
		char *caller = NULL;
		int step;

		for (j = 0; j < ARRAY_SIZE(names); j++) {
			if (!strcmp(names[j], pairs[i].caller))
				caller = cgs[j];
			if (!strcmp(names[j], pairs[i].target))
				a.target = cgs[j];
		}
		/* Leaves take an idler for a pidfd to name. */
		if (strcmp(pairs[i].target, "deleg") && strcmp(pairs[i].target, "other")) {
			a.target_pid = start_idler(a.target);
			if (a.target_pid < 0)
				goto out;
		}
		step = run_steps(caller, charge_as_migration, &a);
		stop(a.target_pid);
		if (step) {
			ksft_print_msg("pair %zu: %s -> %s%s\n", i, pairs[i].caller,
				       pairs[i].target, pairs[i].in_ns ? " (ns)" : "");
			goto out;
		}
	}
	for (i = 0; i < ARRAY_SIZE(names); i++)
		if (current_of(cgs[i], SYSTEM) != 0)
			goto out;
	ret = KSFT_PASS;
out:
	if (heap >= 0)
		close(heap);
	for (i = ARRAY_SIZE(names); i-- > 0;)
		remove_cgroup(cgs[i]);
	remove_cgroup(base);
	return ret;
}

/* The grant test's cgroups and fds, and the charger's line to the test. */
struct grant_args {
	const char *ancestor, *target;
	int heap, cgfd, pidfd;
	int sibling;	/* a cgroup fd of the target's sibling, not delegated */
	int ask[2];	/* the charger asks to be moved: 'x' away, 'a' back */
	int done[2];	/* and the test answers when it was */
};

/* 0 if the target was charged named both ways, -EPERM if refused both. */
static int charge_both_ways(struct grant_args *a)
{
	int fds[] = { a->cgfd, a->pidfd }, charged = 0, refused = 0, buf;
	size_t i;

	for (i = 0; i < ARRAY_SIZE(fds); i++) {
		buf = buffer_heap_alloc_charged(a->heap, 4096, fds[i]);
		if (buf >= 0) {
			charged++;
			close(buf);
		} else if (buf == -EPERM) {
			refused++;
		}
	}
	return charged == 2 ? 0 : refused == 2 ? -EPERM : 1;
}

static int chmod_procs(const char *cgroup, mode_t mode)
{
	char *procs = cg_control(cgroup, "cgroup.procs");
	int ret = chmod(procs, mode);

	free(procs);
	return ret;
}

/* Asks the test to move us ('x' away, 'a' back) and waits until it has. */
static int moved(struct grant_args *a, char where)
{
	return write(a->ask[1], &where, 1) == 1 && read(a->done[0], &where, 1) == 1 ? 0 : -1;
}

/* As nobody, keeping root as the saved uid to change credentials alone. */
static int become_nobody(void)
{
	return setresgid(0, NOBODY, 0) || setresuid(0, NOBODY, 0) ? -1 : 0;
}

/*
 * As nobody in a cgroup below the ancestor: the permission rule's yes is
 * kept, and each change of what the rule reads is seen by the next charge.
 * Exits with the step that went wrong.
 */
static int charge_while_revoked(const char *cgroup, void *arg)
{
	struct grant_args *a = arg;
	int buf;

	if (become_nobody())
		return 1;
	if (charge_both_ways(a) || charge_both_ways(a))
		return 2;
	/* A sibling sharing the target's cgroup state is not the target. */
	buf = buffer_heap_alloc_charged(a->heap, 4096, a->sibling);
	if (buf != -EPERM)
		return 3;
	/* nobody owns both cgroup.procs files, and may make them read-only. */
	if (chmod_procs(a->target, 0444) || charge_both_ways(a) != -EPERM)
		return 4;
	if (chmod_procs(a->target, 0644) || charge_both_ways(a))
		return 5;
	if (chmod_procs(a->ancestor, 0444) || charge_both_ways(a) != -EPERM)
		return 6;
	if (chmod_procs(a->ancestor, 0644) || charge_both_ways(a))
		return 7;
	/* Moved out of the ancestor, and back. */
	if (moved(a, 'x') || charge_both_ways(a) != -EPERM)
		return 8;
	if (moved(a, 'a') || charge_both_ways(a))
		return 9;
	/* Another effective uid, which owns neither file; then nobody again. */
	if (seteuid(0) || seteuid(NOBODY - 1) || charge_both_ways(a) != -EPERM)
		return 10;
	if (seteuid(0) || seteuid(NOBODY) || charge_both_ways(a))
		return 11;
	return 0;
}

/*
 * As nobody with CAP_SYS_ADMIN (to unshare, which changes no credentials):
 * a cgroup namespace that leaves the target outside takes the right away.
 */
static int charge_in_new_namespace(const char *cgroup, void *arg)
{
	struct __user_cap_header_struct head = { _LINUX_CAPABILITY_VERSION_3, 0 };
	struct __user_cap_data_struct caps[2] = { 0 };
	struct grant_args *a = arg;

	if (become_nobody())
		return 1;
	if (syscall(SYS_capget, &head, caps))
		return 2;
	caps[0].effective = 1U << CAP_SYS_ADMIN;
	caps[1].effective = 0;
	/* The same mode again voids the first charger's grant, so ours is kept. */
	if (syscall(SYS_capset, &head, caps) || chmod_procs(a->target, 0644))
		return 3;
	if (charge_both_ways(a) || charge_both_ways(a))
		return 4;
	if (unshare(CLONE_NEWCGROUP) || charge_both_ways(a) != -EPERM)
		return 5;
	return 0;
}

/* Runs @fn in @cgroup, moving it when it asks; its exit status. */
static int run_charger(struct grant_args *args, const char *cgroup, const char *away,
		       int (*fn)(const char *cgroup, void *arg))
{
	int status = -1;
	pid_t pid;
	char c;

	if (pipe(args->ask) || pipe(args->done))
		return -1;
	pid = cg_run_nowait(cgroup, fn, args);
	close(args->ask[1]);
	close(args->done[0]);
	while (pid > 0 && read(args->ask[0], &c, 1) == 1)
		if (cg_enter(c == 'x' ? away : cgroup, pid) || write(args->done[1], &c, 1) != 1)
			break;
	close(args->ask[0]);
	close(args->done[1]);
	if (pid > 0 && waitpid(pid, &status, 0) == pid && WIFEXITED(status))
		return WEXITSTATUS(status);
	stop(pid);
	return -1;
}

/*
 * An allocator's right to charge a delegated cgroup is asked of cgroup
 * core once and then kept, and must not outlive what it was decided on:
 * a cgroup.procs made read-only (the target's or the common ancestor's),
 * other credentials, the allocator moved elsewhere or into a cgroup
 * namespace take it away at the next charge, whether the target is named
 * by a cgroup fd or by a pidfd; and it is the target's alone.
 */
static int test_buffer_charge_grant_revoked(const char *root)
{
	static const char * const names[] = { "deleg", "deleg/a", "deleg/x",
					      "deleg/x/b", "deleg/x/c", "away" };
	enum { DELEG, A, X, B, C, AWAY };
	char *base = make_cgroup(root, "buffer_test_grant"), *cgs[ARRAY_SIZE(names)] = { 0 };
	struct grant_args args = {
		.heap = open_system_heap(), .cgfd = -1, .pidfd = -1, .sibling = -1,
	};
	int ret = KSFT_FAIL, step;
	pid_t idler = -1;
	size_t i;

	if (!base || args.heap < 0 || cg_write(base, "cgroup.subtree_control", "+buffer"))
		goto out;
	for (i = 0; i < ARRAY_SIZE(names); i++) {
		cgs[i] = make_cgroup(base, names[i]);
		if (!cgs[i])
			goto out;
	}
	/* b and c share x's cgroup state: x does not pass the controller on. */
	if (cg_write(cgs[DELEG], "cgroup.subtree_control", "+buffer") ||
	    chown_procs(cgs[DELEG], NOBODY) || chown_procs(cgs[B], NOBODY))
		goto out;
	args.ancestor = cgs[DELEG];
	args.target = cgs[B];
	idler = start_idler(cgs[B]);
	args.cgfd = open(cgs[B], O_RDONLY | O_DIRECTORY);
	args.sibling = open(cgs[C], O_RDONLY | O_DIRECTORY);
	args.pidfd = idler > 0 ? pidfd_open(idler) : -1;
	if (args.cgfd < 0 || args.sibling < 0 || args.pidfd < 0)
		goto out;

	step = run_charger(&args, cgs[A], cgs[AWAY], charge_while_revoked);
	if (!step)
		step = run_charger(&args, cgs[A], cgs[AWAY], charge_in_new_namespace);
	if (step) {
		ksft_print_msg("step %d failed\n", step);
		goto out;
	}
	/* Every buffer charged to b landed in x, and was freed. */
	if (current_of(cgs[X], SYSTEM) != 0)
		goto out;
	ret = KSFT_PASS;
out:
	stop(idler);
	close_fds((int[]){ args.heap, args.cgfd, args.pidfd, args.sibling }, 4);
	for (i = ARRAY_SIZE(names); i-- > 0;)
		remove_cgroup(cgs[i]);
	remove_cgroup(base);
	return ret;
}

/* In a cgroup: a buffer larger than any counter holds. */
static int allocate_too_much(const char *cgroup, void *arg)
{
	int buf = buffer_heap_alloc("system", 1UL << 62);

	if (buf >= 0) {
		close(buf);
		return 1;
	}
	return buf == -ENOMEM ? 0 : 2;
}

/* Refused like any charge over a limit: counted, and nothing charged. */
static int test_buffer_over_bound(const char *root)
{
	char *cg = make_cgroup(root, "buffer_test_bound");
	int ret = KSFT_FAIL;

	if (cg && !run_steps(cg, allocate_too_much, NULL) &&
	    buffer_value(cg, "buffer.events.local", SYSTEM, "max") == 1 &&
	    buffer_value(cg, "buffer.events", SYSTEM, "max") == 1 &&
	    current_of(cg, SYSTEM) == 0 && buffer_value(cg, "buffer.peak", SYSTEM, NULL) == 0)
		ret = KSFT_PASS;
	remove_cgroup(cg);
	return ret;
}

static void *park(void *arg)
{
	pause();
	return NULL;
}

/* A process whose main thread has exited while another runs on. */
static int leader_exits(const char *cgroup, void *arg)
{
	pthread_t thread;

	if (pthread_create(&thread, NULL, park, NULL))
		return 1;
	pthread_exit(NULL);
}

/* Whether @pid's main thread is a zombie. */
static bool leader_gone(pid_t pid)
{
	char path[64], buf[1024], *state;

	snprintf(path, sizeof(path), "/proc/%d/stat", pid);
	if (read_text(path, buf, sizeof(buf)) <= 0)
		return false;
	state = strrchr(buf, ')');
	return state && state[1] == ' ' && state[2] == 'Z';
}

/*
 * A process has exited when all its threads have: its pidfd still names
 * it after its main thread exits, and the cgroup of its live thread, which
 * may have moved since without its exited leader.
 */
static int test_buffer_charge_fd_leader_exited(const char *root)
{
	char *first = make_cgroup(root, "buffer_test_leader");
	char *moved = make_cgroup(root, "buffer_test_moved");
	int ret = KSFT_FAIL, heap = open_system_heap(), pidfd = -1, buf, i;
	pid_t pid = -1;

	if (!first || !moved || heap < 0)
		goto out;
	pid = cg_run_nowait(first, leader_exits, NULL);
	if (pid < 0)
		goto out;
	for (i = 0; i < 500 && !leader_gone(pid); i++)
		usleep(10000);
	pidfd = pidfd_open(pid);
	if (!leader_gone(pid) || pidfd < 0)
		goto out;
	buf = buffer_heap_alloc_charged(heap, MIB, pidfd);
	if (buf < 0 || current_of(first, SYSTEM) != MIB) {
		ksft_print_msg("charge to a process whose leader exited: %d\n", buf);
		goto out;
	}
	close(buf);
	if (cg_enter(moved, pid))
		goto out;
	buf = buffer_heap_alloc_charged(heap, MIB, pidfd);
	if (buf < 0)
		goto out;
	if (current_of(moved, SYSTEM) != MIB || current_of(first, SYSTEM) != 0) {
		ksft_print_msg("charged to the exited leader's cgroup\n");
		close(buf);
		goto out;
	}
	close(buf);
	ret = KSFT_PASS;
out:
	stop(pid);
	close_fds((int[]){ heap, pidfd }, 2);
	remove_cgroup(first);
	remove_cgroup(moved);
	return ret;
}

/* The controller is cgroup v2 only: a v1 hierarchy cannot take it. */
static int test_buffer_v2_only(const char *root)
{
	char dir[] = "/tmp/buffer_test_v1XXXXXX";
	int ret = KSFT_FAIL;

	if (!mkdtemp(dir))
		return KSFT_FAIL;
	if (mount("buffer_test", dir, "cgroup", 0, "buffer") == 0) {
		ksft_print_msg("a v1 hierarchy took the buffer controller\n");
		umount(dir);
	} else if (errno != EINVAL) {
		ksft_print_msg("v1 mount: %s, not EINVAL\n", strerror(errno));
	} else {
		ret = KSFT_PASS;
	}
	rmdir(dir);
	return ret;
}

#define TRACING "/sys/kernel/tracing/"

static unsigned long long cgroup_ino(const char *cgroup)
{
	struct stat st;

	return stat(cgroup, &st) ? 0 : (unsigned long long)st.st_ino;
}

struct trace_args {
	const char *target;
};

/* In a cgroup with a 1M max: one charge, one refusal, one transfer. */
static int charge_refuse_transfer(const char *cgroup, void *arg)
{
	struct trace_args *a = arg;
	int target = open(a->target, O_DIRECTORY | O_RDONLY), buf, ret = 0;

	buf = buffer_heap_alloc("system", MIB);
	if (target < 0 || buf < 0)
		return 1;
	if (buffer_heap_alloc("system", MIB) != -ENOMEM)
		ret = 2;
	else if (transfer_charge(buf, target))
		ret = 3;
	close(buf);
	close(target);
	return ret;
}

/* The four buffer_cg events, with cgroup ids, device, size and result. */
static int test_buffer_trace_events(const char *root)
{
	char *cg = make_cgroup(root, "buffer_test_trace");
	char *target = make_cgroup(root, "buffer_test_trace_target");
	struct trace_args args = { .target = target };
	static char trace[1 << 16];
	char want[4][160];
	int ret = KSFT_FAIL, i;

	if (!cg || !target || write_max(cg, SYSTEM " 1M"))
		goto out;
	if (access(TRACING "events/buffer_cg/enable", W_OK)) {
		ksft_print_msg("no buffer_cg events in tracefs\n");
		goto out;
	}
	if (buffer_write_file(TRACING "trace", "") ||
	    buffer_write_file(TRACING "events/buffer_cg/enable", "1"))
		goto out;
	i = cg_run(cg, charge_refuse_transfer, &args);
	buffer_write_file(TRACING "events/buffer_cg/enable", "0");
	if (i) {
		ksft_print_msg("step %d failed\n", i);
		goto out;
	}
	if (read_text(TRACING "trace", trace, sizeof(trace)) <= 0)
		goto out;
	snprintf(want[0], sizeof(want[0]),
		 "buffer_cg_charge: cgroup=%llu device=" SYSTEM " size=1048576 result=0",
		 cgroup_ino(cg));
	snprintf(want[1], sizeof(want[1]),
		 "buffer_cg_charge_failed: cgroup=%llu limited_by=%llu device=" SYSTEM
		 " size=1048576 result=-12", cgroup_ino(cg), cgroup_ino(cg));
	snprintf(want[2], sizeof(want[2]),
		 "buffer_cg_transfer: cgroup=%llu to=%llu device=" SYSTEM
		 " size=1048576 result=0", cgroup_ino(cg), cgroup_ino(target));
	snprintf(want[3], sizeof(want[3]),
		 "buffer_cg_uncharge: cgroup=%llu device=" SYSTEM " size=1048576 result=0",
		 cgroup_ino(target));
	for (i = 0; i < 4; i++) {
		if (!strstr(trace, want[i])) {
			ksft_print_msg("missing \"%s\" in:\n%s", want[i], trace);
			goto out;
		}
	}
	ret = KSFT_PASS;
out:
	remove_cgroup(cg);
	remove_cgroup(target);
	return ret;
}

static int open_vgem(void)
{
	return open("/dev/dri/card0", O_RDWR | O_CLOEXEC);
}

/* In the cgroup: 16 KiB dumb buffers under a 64K max; the 5th is refused. */
static int fill_vgem(const char *cgroup, void *arg)
{
	int card = open_vgem(), n, handle = 0;

	if (card < 0)
		return 1;
	for (n = 0; n < 16; n++) {
		handle = dumb_create(card, 64, 64, NULL);
		if (handle < 0)
			break;
	}
	if (n != 4 || handle != -ENOMEM)
		return 2;
	if (current_of(cgroup, VGEM) != 64 * 1024 ||
	    buffer_value(cgroup, "buffer.stat", VGEM, "buffers") != 4)
		return 3;
	close(card);
	/* Closing the card frees the objects, and their charges with them. */
	return current_of(cgroup, VGEM) != 0 ? 4 : 0;
}

/* GEM objects are charged per DRM device, under its limit. */
static int test_buffer_drm_limit(const char *root)
{
	char *cg = make_cgroup(root, "buffer_test_vgem");
	int ret = KSFT_FAIL;

	if (!cg || write_max(cg, VGEM " 64K"))
		goto out;
	if (run_steps(cg, fill_vgem, NULL))
		goto out;
	if (buffer_value(cg, "buffer.events.local", VGEM, "max") != 1 ||
	    buffer_value(cg, "buffer.peak", VGEM, NULL) != 64 * 1024 ||
	    buffer_value(cg, "buffer.max", VGEM, NULL) != 64 * 1024 ||
	    current_of(cg, VGEM) != 0 || current_of(root, VGEM) < 0)
		goto out;
	ret = KSFT_PASS;
out:
	remove_cgroup(cg);
	return ret;
}

/* Importing a heap buffer into vgem charges nothing again. */
static int import_heap_buffer(const char *cgroup, void *arg)
{
	int card = open_vgem(), buf = buffer_heap_alloc("system", MIB), handle;

	if (card < 0 || buf < 0)
		return 1;
	handle = prime_import(card, buf);
	if (handle < 0)
		return 2;
	if (current_of(cgroup, SYSTEM) != MIB || current_of(cgroup, VGEM) != 0)
		return 3;
	/* The imported object keeps the buffer, and its one charge, alive. */
	close(buf);
	if (current_of(cgroup, SYSTEM) != MIB || current_of(cgroup, VGEM) != 0)
		return 4;
	close(card);
	return current_of(cgroup, SYSTEM) != 0 ? 5 : 0;
}

static int test_buffer_drm_import(const char *root)
{
	char *cg = make_cgroup(root, "buffer_test_import");
	int ret = KSFT_FAIL;

	if (!cg)
		return KSFT_FAIL;
	if (!run_steps(cg, import_heap_buffer, NULL))
		ret = KSFT_PASS;
	remove_cgroup(cg);
	return ret;
}

/* An exported GEM object's dma-buf carries its one charge, which moves. */
static int export_and_transfer(const char *cgroup, void *arg)
{
	const char *target = arg;
	int card = open_vgem(), handle, buf, target_fd = open(target, O_DIRECTORY);
	char path[64], info[1024] = "";

	if (card < 0 || target_fd < 0)
		return 1;
	handle = dumb_create(card, 64, 64, NULL);
	buf = handle < 0 ? -1 : prime_export(card, handle);
	if (buf < 0)
		return 2;
	if (current_of(cgroup, VGEM) != 16384)
		return 3;
	snprintf(path, sizeof(path), "/proc/self/fdinfo/%d", buf);
	if (read_text(path, info, sizeof(info)) <= 0 ||
	    !strstr(info, "charge_device:\t" VGEM "\n"))
		return 4;
	if (transfer_charge(buf, target_fd))
		return 5;
	if (current_of(cgroup, VGEM) != 0 || current_of(target, VGEM) != 16384 ||
	    buffer_value(target, "buffer.stat", VGEM, "transfers_in") != 1)
		return 6;
	/* Freed when both the handle and the dma-buf are gone. */
	close(buf);
	if (current_of(target, VGEM) != 16384)
		return 7;
	close(card);
	return current_of(target, VGEM) != 0 ? 8 : 0;
}

static int test_buffer_drm_export_transfer(const char *root)
{
	char *cg = make_cgroup(root, "buffer_test_export");
	char *target = make_cgroup(root, "buffer_test_export_target");
	int ret = KSFT_FAIL;

	if (!cg || !target)
		goto out;
	if (run_steps(cg, export_and_transfer, target))
		goto out;
	ret = KSFT_PASS;
out:
	remove_cgroup(cg);
	remove_cgroup(target);
	return ret;
}

#define T(x) { x, #x }
static const struct buffer_test tests[] = {
	T(test_buffer_root_files),
	T(test_buffer_file_formats),
	T(test_buffer_max_writes),
	T(test_buffer_limit_system),
	T(test_buffer_limit_cma),
	T(test_buffer_hierarchy),
	T(test_buffer_stock_other_cpu),
	T(test_buffer_fd_passing_and_rmdir),
	T(test_buffer_failed_allocations),
	T(test_buffer_charge_fd_pidfd),
	T(test_buffer_charge_fd_cgroup),
	T(test_buffer_two_hops),
	T(test_buffer_charge_errors),
	T(test_buffer_charge_permissions),
	T(test_buffer_charge_grant_revoked),
	T(test_buffer_charge_fd_leader_exited),
	T(test_buffer_v2_only),
	T(test_buffer_over_bound),
	T(test_buffer_trace_events),
	T(test_buffer_drm_limit),
	T(test_buffer_drm_import),
	T(test_buffer_drm_export_transfer),
};

#undef T

int main(int argc, char **argv)
{
	return buffer_test_main(tests, ARRAY_SIZE(tests));
}
