// SPDX-License-Identifier: GPL-2.0
/*
 * buffer-bench: allocations per second from a dma-buf heap, a DRM device or
 * a V4L2 queue.
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
 * With -D CARD, each buffer is a dumb buffer of the DRM device CARD
 * (DRM_IOCTL_MODE_CREATE_DUMB of SIZE bytes, then DESTROY_DUMB); with
 * -V VIDEO, a buffer of the V4L2 device VIDEO's output queue (capture
 * queue, if it has none) in its smallest format (VIDIOC_CREATE_BUFS of one
 * SIZE-byte MMAP buffer, then VIDIOC_REQBUFS(0)), as each of them charges
 * its own device.
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
#include <drm/drm.h>
#include <drm/drm_mode.h>
#include <linux/dma-heap.h>
#include <linux/videodev2.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

static void usage(FILE *f)
{
	fprintf(f, "usage: buffer-bench [-H HEAP [-p PID | -g CGROUP] | -D CARD | -V VIDEO]\n"
		   "                    [-t SECONDS | -n COUNT [-w WARMUP]] SIZE...\n"
		   "Allocates and closes SIZE-byte dma-bufs from /dev/dma_heap/HEAP\n"
		   "(default system) for SECONDS (default 1) per size; prints the rate.\n"
		   "-n: WARMUP buffers (default COUNT / 10), then COUNT between the marks\n"
		   "of the QEMU plugin tools/icount, which counts their instructions.\n"
		   "-p, -g: charge each buffer to process PID's cgroup (by pidfd) or to\n"
		   "the cgroup2 directory CGROUP, as an allocator charges its client.\n"
		   "-D: dumb buffers of the DRM device CARD (/dev/dri/cardN) instead.\n"
		   "-V: MMAP buffers of the V4L2 device VIDEO's output (or capture)\n"
		   "queue instead, single-planar, one at a time.\n");
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

/* Where the buffers come from, and what one is charged through. */
struct source {
	enum { SOURCE_HEAP, SOURCE_DRM, SOURCE_V4L2 } kind;
	int fd;
	int charge_fd;		/* SOURCE_HEAP: a pidfd or cgroup fd, or -1 */
	__u32 type;		/* SOURCE_V4L2: the queue */
	struct v4l2_format format;	/* SOURCE_V4L2: its smallest format */
};

/*
 * Each allocates and frees one buffer of @size bytes: 0, or -1 with the
 * failing step reported.
 */
static int heap_alloc_close(const struct source *src, unsigned long long size)
{
	struct dma_heap_allocation_data data = {
		.len = size,
		.fd_flags = O_RDWR | O_CLOEXEC,
		.heap_flags = src->charge_fd >= 0 ? DMA_HEAP_FLAG_CHARGE_FD : 0,
		.charge_fd = src->charge_fd >= 0 ? src->charge_fd : 0,
	};

	if (ioctl(src->fd, DMA_HEAP_IOCTL_ALLOC, &data)) {
		fprintf(stderr, "buffer-bench: allocating %llu bytes: %s\n", size, strerror(errno));
		return -1;
	}
	close(data.fd);
	return 0;
}

/*
 * SIZE bytes as one row of 8-bit pixels. A driver computes the size from
 * the row in 32 bits (width * bpp): check that it made SIZE, page-aligned.
 */
static int drm_alloc_close(const struct source *src, unsigned long long size)
{
	struct drm_mode_create_dumb create = { .width = size, .height = 1, .bpp = 8 };
	unsigned long long page = sysconf(_SC_PAGESIZE);
	struct drm_mode_destroy_dumb destroy = { 0 };
	int ret = 0;

	if (ioctl(src->fd, DRM_IOCTL_MODE_CREATE_DUMB, &create)) {
		fprintf(stderr, "buffer-bench: creating a dumb buffer of %llu bytes: %s\n", size,
			strerror(errno));
		return -1;
	}
	if (create.size != (size + page - 1) / page * page) {
		fprintf(stderr, "buffer-bench: a dumb buffer of %llu bytes: the driver made %llu\n",
			size, (unsigned long long)create.size);
		ret = -1;
	}
	destroy.handle = create.handle;
	if (ioctl(src->fd, DRM_IOCTL_MODE_DESTROY_DUMB, &destroy)) {
		fprintf(stderr, "buffer-bench: destroying a dumb buffer: %s\n", strerror(errno));
		ret = -1;
	}
	return ret;
}

/*
 * VIDIOC_CREATE_BUFS takes a plane size at least the format's: one buffer
 * of exactly SIZE bytes whatever the device's frame sizes.
 */
static int v4l2_alloc_close(const struct source *src, unsigned long long size)
{
	struct v4l2_create_buffers create = {
		.count = 1, .memory = V4L2_MEMORY_MMAP, .format = src->format,
	};
	struct v4l2_requestbuffers free_all = { .type = src->type, .memory = V4L2_MEMORY_MMAP };
	int ret = 0;

	create.format.fmt.pix.sizeimage = size;
	if (ioctl(src->fd, VIDIOC_CREATE_BUFS, &create)) {
		fprintf(stderr, "buffer-bench: creating a V4L2 buffer of %llu bytes: %s\n", size,
			strerror(errno));
		return -1;
	}
	if (create.count != 1) {
		fprintf(stderr, "buffer-bench: creating a V4L2 buffer of %llu bytes: the driver made %u\n",
			size, create.count);
		ret = -1;
	}
	if (ioctl(src->fd, VIDIOC_REQBUFS, &free_all)) {
		fprintf(stderr, "buffer-bench: freeing V4L2 buffers: %s\n", strerror(errno));
		ret = -1;
	}
	return ret;
}

static int alloc_close(const struct source *src, unsigned long long size)
{
	switch (src->kind) {
	case SOURCE_DRM:
		return drm_alloc_close(src, size);
	case SOURCE_V4L2:
		return v4l2_alloc_close(src, size);
	default:
		return heap_alloc_close(src, size);
	}
}

/* That @path is a DRM device: 0, or -1 reported. */
static int drm_setup(struct source *src, const char *path)
{
	struct drm_version version = { 0 };

	if (ioctl(src->fd, DRM_IOCTL_VERSION, &version)) {
		fprintf(stderr, "buffer-bench: %s: not a DRM device: %s\n", path, strerror(errno));
		return -1;
	}
	return 0;
}

/*
 * The V4L2 device's queue in its smallest format, so that a buffer of any
 * SIZE from one page up is large enough for it: 0, or -1 reported.
 */
static int v4l2_setup(struct source *src, const char *path)
{
	struct v4l2_capability cap = { 0 };
	__u32 caps;

	if (ioctl(src->fd, VIDIOC_QUERYCAP, &cap)) {
		fprintf(stderr, "buffer-bench: %s: not a V4L2 device: %s\n", path,
			strerror(errno));
		return -1;
	}
	caps = cap.capabilities & V4L2_CAP_DEVICE_CAPS ? cap.device_caps : cap.capabilities;
	if (caps & (V4L2_CAP_VIDEO_OUTPUT | V4L2_CAP_VIDEO_M2M))
		src->type = V4L2_BUF_TYPE_VIDEO_OUTPUT;
	else if (caps & V4L2_CAP_VIDEO_CAPTURE)
		src->type = V4L2_BUF_TYPE_VIDEO_CAPTURE;
	else {
		fprintf(stderr, "buffer-bench: %s: no single-planar video queue\n", path);
		return -1;
	}
	src->format.type = src->type;
	if (ioctl(src->fd, VIDIOC_G_FMT, &src->format)) {
		fprintf(stderr, "buffer-bench: %s: VIDIOC_G_FMT: %s\n", path, strerror(errno));
		return -1;
	}
	src->format.fmt.pix.width = 1;
	src->format.fmt.pix.height = 1;
	src->format.fmt.pix.bytesperline = 0;
	src->format.fmt.pix.sizeimage = 0;
	if (ioctl(src->fd, VIDIOC_S_FMT, &src->format)) {
		fprintf(stderr, "buffer-bench: %s: VIDIOC_S_FMT: %s\n", path, strerror(errno));
		return -1;
	}
	return 0;
}

/* -n: WARMUP buffers, then COUNT between the marks. */
static int count(const struct source *src, unsigned long long size, unsigned long count,
		 unsigned long warmup)
{
	unsigned long i;

	for (i = 0; i < warmup; i++)
		if (alloc_close(src, size))
			return -1;
	mark_start();
	for (i = 0; i < count; i++)
		if (alloc_close(src, size))
			break;
	mark_stop();
	if (i < count)
		return -1;
	printf("size=%llu allocs=%lu warmup=%lu\n", size, count, warmup);
	fflush(stdout);
	return 0;
}

/* Returns 0, or -1 with the failing call's errno reported. */
static int measure(const struct source *src, unsigned long long size, double seconds)
{
	unsigned long long allocs = 0;
	double start = now(), elapsed;

	do {
		if (alloc_close(src, size))
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
	const char *heap_name = NULL, *target = NULL, *device = NULL;
	struct source src = { .kind = SOURCE_HEAP, .charge_fd = -1 };
	unsigned long count_n = 0, warmup = 0;
	int opt, warmup_set = 0;
	double seconds = 1;
	char path[128], *end;
	long pid = 0;

	while ((opt = getopt(argc, argv, "H:D:V:t:n:w:p:g:h")) != -1) {
		switch (opt) {
		case 'H':
			heap_name = optarg;
			break;
		case 'D':
		case 'V':
			if (device) {
				fprintf(stderr, "buffer-bench: one of -D and -V, once\n");
				return 2;
			}
			device = optarg;
			src.kind = opt == 'D' ? SOURCE_DRM : SOURCE_V4L2;
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
	if (device && (target || heap_name)) {
		fprintf(stderr, "buffer-bench: -H, -p and -g are for heap buffers, not with -D or -V\n");
		return 2;
	}
	/* Every size checked before the first buffer. */
	for (int i = optind; i < argc; i++) {
		unsigned long long size;

		if (parse_size(argv[i], &size)) {
			fprintf(stderr, "buffer-bench: bad size '%s'\n", argv[i]);
			return 2;
		}
		/* A dumb buffer's width and a V4L2 plane's size are 32 bits wide. */
		if (device && size > UINT32_MAX) {
			fprintf(stderr, "buffer-bench: %llu bytes: too large for -D and -V\n", size);
			return 2;
		}
	}
	if (target) {
		src.charge_fd = pid ? syscall(SYS_pidfd_open, (pid_t)pid, 0) :
				      open(target, O_PATH | O_DIRECTORY | O_CLOEXEC);
		if (src.charge_fd < 0) {
			fprintf(stderr, "buffer-bench: %s: %s\n", target, strerror(errno));
			return 1;
		}
	}
	if (!device) {
		snprintf(path, sizeof(path), "/dev/dma_heap/%s", heap_name ? heap_name : "system");
		device = path;
	}
	src.fd = open(device, (src.kind == SOURCE_HEAP ? O_RDONLY : O_RDWR) | O_CLOEXEC);
	if (src.fd < 0) {
		fprintf(stderr, "buffer-bench: %s: %s\n", device, strerror(errno));
		return 1;
	}
	if ((src.kind == SOURCE_DRM && drm_setup(&src, device)) ||
	    (src.kind == SOURCE_V4L2 && v4l2_setup(&src, device)))
		return 1;
	for (int i = optind; i < argc; i++) {
		unsigned long long size;

		parse_size(argv[i], &size);
		if (count_n ? count(&src, size, count_n, warmup_set ? warmup : count_n / 10) :
			      measure(&src, size, seconds))
			return 1;
	}
	close(src.fd);
	return 0;
}
