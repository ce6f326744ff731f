// SPDX-License-Identifier: GPL-2.0
/*
 * buffer-bench: allocations per second from a dma-buf heap.
 *
 * For each SIZE, allocates a buffer with DMA_HEAP_IOCTL_ALLOC and closes it,
 * again and again for SECONDS, and prints one line:
 *
 *   size=SIZE allocs=N seconds=S rate=N/S
 *
 * With -p PID or -g CGROUP, every buffer is charged to that process's or
 * cgroup's through DMA_HEAP_FLAG_CHARGE_FD (one hop, as an allocator
 * charges its client); the pidfd or O_PATH directory fd is opened once.
 *
 * With -n COUNT, it allocates and closes WARMUP buffers (-w, default COUNT /
 * 10), then exactly COUNT between two marks, and prints
 *
 *   size=SIZE allocs=COUNT warmup=WARMUP
 *
 * The marks are long NOPs (see mark_start()) that the QEMU plugin
 * tools/icount counts the guest's instructions between; anywhere else they
 * do nothing.
 *
 * 'make bench' runs it in the guest in each accounting mode; see
 * Documentation/dev-tools/buffer_cg.rst.
 */
#define _GNU_SOURCE

#include <errno.h>
#include <fcntl.h>
#include <linux/dma-heap.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

static void usage(FILE *f)
{
	fprintf(f, "usage: buffer-bench [-H HEAP] [-t SECONDS | -n COUNT [-w WARMUP]]\n"
		   "                    [-p PID | -g CGROUP] SIZE...\n"
		   "Allocates and closes SIZE-byte dma-bufs from /dev/dma_heap/HEAP\n"
		   "(default system) for SECONDS (default 1) per size; prints the rate.\n"
		   "-n: WARMUP buffers (default COUNT / 10), then COUNT between the marks\n"
		   "of the QEMU plugin tools/icount, which counts their instructions.\n"
		   "-p, -g: charge each buffer to process PID's cgroup (by pidfd) or to\n"
		   "the cgroup2 directory CGROUP, as an allocator charges its client.\n");
}

/*
 * The two marks tools/icount/icount.c recognises by their bytes: nopl
 * 0x42554601(%rax) and nopl 0x42554602(%rax), which no compiler emits.
 */
static void mark_start(void)
{
	__asm__ volatile(".byte 0x0f, 0x1f, 0x80, 0x01, 0x46, 0x55, 0x42" ::: "memory");
}

static void mark_stop(void)
{
	__asm__ volatile(".byte 0x0f, 0x1f, 0x80, 0x02, 0x46, 0x55, 0x42" ::: "memory");
}

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static int parse_size(const char *s, unsigned long long *size)
{
	char *end;

	errno = 0;
	*size = strtoull(s, &end, 10);
	return errno || end == s || *end || !*size ? -1 : 0;
}

/* One buffer allocated and closed: 0, or -1 with the errno reported. */
static int alloc_close(int heap, int charge_fd, unsigned long long size)
{
	struct dma_heap_allocation_data data = {
		.len = size,
		.fd_flags = O_RDWR | O_CLOEXEC,
		.heap_flags = charge_fd >= 0 ? DMA_HEAP_FLAG_CHARGE_FD : 0,
		.charge_fd = charge_fd >= 0 ? charge_fd : 0,
	};

	if (ioctl(heap, DMA_HEAP_IOCTL_ALLOC, &data)) {
		fprintf(stderr, "buffer-bench: allocating %llu bytes: %s\n", size, strerror(errno));
		return -1;
	}
	close(data.fd);
	return 0;
}

/* -n: WARMUP buffers, then COUNT between the marks. */
static int count(int heap, int charge_fd, unsigned long long size, unsigned long count,
		 unsigned long warmup)
{
	unsigned long i;

	for (i = 0; i < warmup; i++)
		if (alloc_close(heap, charge_fd, size))
			return -1;
	mark_start();
	for (i = 0; i < count; i++)
		if (alloc_close(heap, charge_fd, size))
			break;
	mark_stop();
	if (i < count)
		return -1;
	printf("size=%llu allocs=%lu warmup=%lu\n", size, count, warmup);
	fflush(stdout);
	return 0;
}

/* Returns 0, or -1 with the failing call's errno reported. */
static int measure(int heap, int charge_fd, unsigned long long size, double seconds)
{
	unsigned long long allocs = 0;
	double start = now(), elapsed;

	do {
		if (alloc_close(heap, charge_fd, size))
			return -1;
		allocs++;
		elapsed = now() - start;
	} while (elapsed < seconds);
	printf("size=%llu allocs=%llu seconds=%.6f rate=%.1f\n", size, allocs, elapsed,
	       allocs / elapsed);
	fflush(stdout);
	return 0;
}

int main(int argc, char **argv)
{
	const char *heap_name = "system", *target = NULL;
	int opt, heap, charge_fd = -1;
	unsigned long count_n = 0, warmup = 0;
	int warmup_set = 0;
	double seconds = 1;
	char path[128], *end;
	long pid = 0;

	while ((opt = getopt(argc, argv, "H:t:n:w:p:g:h")) != -1) {
		switch (opt) {
		case 'H':
			heap_name = optarg;
			break;
		case 'p':
			errno = 0;
			pid = strtol(optarg, &end, 10);
			if (errno || end == optarg || *end || pid <= 0) {
				fprintf(stderr, "buffer-bench: bad pid '%s'\n", optarg);
				return 2;
			}
			/* fallthrough */
		case 'g':
			if (target) {
				fprintf(stderr, "buffer-bench: one of -p and -g, once\n");
				return 2;
			}
			target = optarg;
			break;
		case 't':
			seconds = atof(optarg);
			if (seconds <= 0) {
				fprintf(stderr, "buffer-bench: bad duration '%s'\n", optarg);
				return 2;
			}
			break;
		case 'n':
		case 'w':
			errno = 0;
			*(opt == 'n' ? &count_n : &warmup) = strtoul(optarg, &end, 10);
			if (errno || end == optarg || *end || *optarg == '-' || (opt == 'n' && !count_n)) {
				fprintf(stderr, "buffer-bench: bad count '%s'\n", optarg);
				return 2;
			}
			warmup_set |= opt == 'w';
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (optind == argc) {
		usage(stderr);
		return 2;
	}
	if (target) {
		charge_fd = pid ? syscall(SYS_pidfd_open, (pid_t)pid, 0) :
				  open(target, O_PATH | O_DIRECTORY | O_CLOEXEC);
		if (charge_fd < 0) {
			fprintf(stderr, "buffer-bench: %s: %s\n", target, strerror(errno));
			return 1;
		}
	}
	snprintf(path, sizeof(path), "/dev/dma_heap/%s", heap_name);
	heap = open(path, O_RDONLY | O_CLOEXEC);
	if (heap < 0) {
		fprintf(stderr, "buffer-bench: %s: %s\n", path, strerror(errno));
		return 1;
	}
	for (int i = optind; i < argc; i++) {
		unsigned long long size;

		if (parse_size(argv[i], &size)) {
			fprintf(stderr, "buffer-bench: bad size '%s'\n", argv[i]);
			return 2;
		}
		if (count_n ? count(heap, charge_fd, size, count_n,
				    warmup_set ? warmup : count_n / 10) :
			      measure(heap, charge_fd, size, seconds))
			return 1;
	}
	close(heap);
	return 0;
}
