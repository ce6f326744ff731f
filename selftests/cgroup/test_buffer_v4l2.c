// SPDX-License-Identifier: GPL-2.0
/*
 * Tests of the buffer cgroup controller on V4L2 devices: videobuf2 charges
 * the MMAP buffers it allocates, every plane, to the cgroup of the task
 * that asks (VIDIOC_REQBUFS, VIDIOC_CREATE_BUFS), against "v4l2/<name>";
 * freeing them (REQBUFS(0), close) uncharges them; a request over
 * buffer.max fails with ENOMEM and allocates nothing; a plane exported
 * with VIDIOC_EXPBUF carries its charge (fdinfo, transfer), also once the
 * buffer is freed and the driver unbound; an imported dma-buf
 * (V4L2_MEMORY_DMABUF) is not charged again; the queues of a mem2mem
 * device, which each open file has of its own, are charged too.
 *
 * Needs vivid with two instances: vivid.n_devs=2 vivid.multiplanar=1,2
 * vivid.allocators=0,1, a single-planar one on the vmalloc allocator and
 * a multiplanar one on dma-contig; and vim2m.
 */
#define _GNU_SOURCE

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/videodev2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "../kselftest.h"
#include "cgroup_util.h"
#include "buffer_util.h"

#define VIVID_DRIVER "/sys/bus/platform/drivers/vivid"
#define NR_VIVID 2

/* A video node, one of its queues, and the format of that queue. */
struct video_node {
	char node[32];		/* /dev/videoN, the video capture node */
	char device[64];	/* the controller's device, v4l2/vivid-00N */
	__u32 type;		/* V4L2_BUF_TYPE_VIDEO_CAPTURE(_MPLANE) */
	unsigned int planes;
	long plane_size[VIDEO_MAX_PLANES];	/* sizeimage of each plane */
	long charge;		/* what one buffer is charged, all planes */
};

static struct video_node vivids[NR_VIVID];

static long page_align(long size)
{
	long page = sysconf(_SC_PAGESIZE);

	return (size + page - 1) / page * page;
}

/* VIDIOC_REQBUFS: the number of buffers allocated, or -errno. */
static int reqbufs(int fd, const struct video_node *v, __u32 memory, unsigned int count)
{
	struct v4l2_requestbuffers req = {
		.count = count, .type = v->type, .memory = memory,
	};

	return ioctl(fd, VIDIOC_REQBUFS, &req) ? -errno : (int)req.count;
}

/* VIDIOC_CREATE_BUFS of @count more buffers: how many, or -errno. */
static int create_bufs(int fd, const struct video_node *v, unsigned int count)
{
	struct v4l2_create_buffers create = {
		.count = count, .memory = V4L2_MEMORY_MMAP,
		.format.type = v->type,
	};

	if (ioctl(fd, VIDIOC_G_FMT, &create.format))
		return -errno;
	return ioctl(fd, VIDIOC_CREATE_BUFS, &create) ? -errno : (int)create.count;
}

/* VIDIOC_QUERYBUF; the lengths of the planes in @length; 0 or -errno. */
static int querybuf(int fd, const struct video_node *v, unsigned int index,
		    long length[VIDEO_MAX_PLANES])
{
	struct v4l2_plane planes[VIDEO_MAX_PLANES] = { 0 };
	struct v4l2_buffer buf = {
		.index = index, .type = v->type, .memory = V4L2_MEMORY_MMAP,
		.m.planes = planes, .length = VIDEO_MAX_PLANES,
	};

	if (ioctl(fd, VIDIOC_QUERYBUF, &buf))
		return -errno;
	if (v->type == V4L2_BUF_TYPE_VIDEO_CAPTURE) {
		length[0] = buf.length;
		return 0;
	}
	for (unsigned int p = 0; p < buf.length && p < VIDEO_MAX_PLANES; p++)
		length[p] = planes[p].length;
	return 0;
}

/* VIDIOC_EXPBUF of one plane: the dma-buf's fd, or -errno. */
static int expbuf(int fd, const struct video_node *v, unsigned int index, unsigned int plane)
{
	struct v4l2_exportbuffer exp = {
		.type = v->type, .index = index, .plane = plane,
		.flags = O_RDWR | O_CLOEXEC,
	};

	return ioctl(fd, VIDIOC_EXPBUF, &exp) ? -errno : exp.fd;
}

/*
 * The capture node of each vivid instance; the multiplanar one set to
 * NV12M, two planes, so that each plane is charged on its own.
 */
static int find_vivids(void)
{
	char path[PATH_MAX], name[64], want[64];
	struct dirent *de;
	int found = 0;
	DIR *dir;

	memset(vivids, 0, sizeof(vivids));
	dir = opendir("/sys/class/video4linux");
	if (!dir)
		return -1;
	while ((de = readdir(dir))) {
		struct v4l2_capability cap = { 0 };
		struct v4l2_format fmt = { 0 };
		struct video_node *v;
		unsigned int inst;
		int fd;

		snprintf(path, sizeof(path), "/sys/class/video4linux/%s/name", de->d_name);
		if (read_text(path, name, sizeof(name)) <= 0 ||
		    sscanf(name, "vivid-%u-", &inst) != 1 || inst >= NR_VIVID)
			continue;
		snprintf(want, sizeof(want), "vivid-%03u-vid-cap\n", inst);
		if (strcmp(name, want))
			continue;
		v = &vivids[inst];
		snprintf(v->node, sizeof(v->node), "/dev/%.26s", de->d_name);
		snprintf(v->device, sizeof(v->device), "v4l2/vivid-%03u", inst);
		fd = open(v->node, O_RDWR | O_CLOEXEC);
		if (fd < 0 || ioctl(fd, VIDIOC_QUERYCAP, &cap)) {
			ksft_print_msg("%s: %s\n", v->node, strerror(errno));
			goto next;
		}
		if (cap.device_caps & V4L2_CAP_VIDEO_CAPTURE_MPLANE) {
			v->type = V4L2_BUF_TYPE_VIDEO_CAPTURE_MPLANE;
			fmt.type = v->type;
			if (ioctl(fd, VIDIOC_G_FMT, &fmt))
				goto next;
			fmt.fmt.pix_mp.pixelformat = V4L2_PIX_FMT_NV12M;
			if (ioctl(fd, VIDIOC_S_FMT, &fmt) ||
			    fmt.fmt.pix_mp.pixelformat != V4L2_PIX_FMT_NV12M)
				goto next;
			v->planes = fmt.fmt.pix_mp.num_planes;
			for (unsigned int p = 0; p < v->planes && p < VIDEO_MAX_PLANES; p++)
				v->plane_size[p] = fmt.fmt.pix_mp.plane_fmt[p].sizeimage;
		} else {
			v->type = V4L2_BUF_TYPE_VIDEO_CAPTURE;
			fmt.type = v->type;
			if (ioctl(fd, VIDIOC_G_FMT, &fmt))
				goto next;
			v->planes = 1;
			v->plane_size[0] = fmt.fmt.pix.sizeimage;
		}
		for (unsigned int p = 0; p < v->planes; p++)
			v->charge += page_align(v->plane_size[p]);
		found++;
next:
		if (fd >= 0)
			close(fd);
	}
	closedir(dir);
	return found;
}

/* Runs @fn(@cg, vivid) for every instance in turn; says which one failed. */
static int run_on_each_vivid(const char *cg, int (*fn)(const char *cgroup, void *arg))
{
	int ret = KSFT_PASS;

	for (int i = 0; i < NR_VIVID; i++) {
		int step = cg_run(cg, fn, &vivids[i]);

		if (step) {
			ksft_print_msg("%s (%s, %u plane(s)): step %d failed\n",
				       vivids[i].device, vivids[i].node, vivids[i].planes, step);
			ret = KSFT_FAIL;
		}
	}
	return ret;
}

/* Runs @fn on every instance in a new cgroup @name below @root. */
static int run_in_new_cgroup(const char *root, const char *name,
			     int (*fn)(const char *cgroup, void *arg))
{
	char *cg = make_cgroup(root, name);
	int ret = cg ? run_on_each_vivid(cg, fn) : KSFT_FAIL;

	remove_cgroup(cg);
	return ret;
}

/* Both instances are there, one device each, the second multiplanar. */
static int test_v4l2_devices(const char *root)
{
	for (int i = 0; i < NR_VIVID; i++) {
		struct video_node *v = &vivids[i];

		if (!v->planes) {
			ksft_print_msg("no usable capture node of vivid-%03d\n", i);
			return KSFT_FAIL;
		}
		ksft_print_msg("%s: %s, %u plane(s), %ld bytes a buffer\n", v->node,
			       v->device, v->planes, v->charge);
		if (current_of(root, v->device) != 0) {
			ksft_print_msg("%s is not in buffer.current, or charged\n", v->device);
			return KSFT_FAIL;
		}
	}
	return vivids[0].planes == 1 && vivids[1].planes == 2 ? KSFT_PASS : KSFT_FAIL;
}

static int charged(const char *cgroup, const struct video_node *v, int buffers)
{
	return current_of(cgroup, v->device) == buffers * v->charge &&
	       buffer_value(cgroup, "buffer.stat", v->device, "buffers") ==
	       (long)(buffers * v->planes);
}

static int reqbufs_release(const char *cgroup, void *arg)
{
	struct video_node *v = arg;
	long length[VIDEO_MAX_PLANES] = { 0 };
	int fd = open(v->node, O_RDWR | O_CLOEXEC), n, more;

	if (fd < 0)
		return 1;
	n = reqbufs(fd, v, V4L2_MEMORY_MMAP, 4);
	if (n < 4)
		return 2;
	/* Each plane is charged its size, page-aligned as allocated. */
	for (int i = 0; i < n; i++) {
		if (querybuf(fd, v, i, length))
			return 3;
		for (unsigned int p = 0; p < v->planes; p++)
			if (length[p] != v->plane_size[p])
				return 4;
	}
	if (!charged(cgroup, v, n)) {
		ksft_print_msg("%d buffers: %ld charged, %ld buffers\n", n,
			       current_of(cgroup, v->device),
			       buffer_value(cgroup, "buffer.stat", v->device, "buffers"));
		return 5;
	}
	if (reqbufs(fd, v, V4L2_MEMORY_MMAP, 0) != 0 || !charged(cgroup, v, 0))
		return 6;
	/* CREATE_BUFS charges what it adds; close() releases everything. */
	n = reqbufs(fd, v, V4L2_MEMORY_MMAP, 4);
	more = n < 0 ? -1 : create_bufs(fd, v, 2);
	if (more != 2 || !charged(cgroup, v, n + more))
		return 7;
	close(fd);
	return charged(cgroup, v, 0) ? 0 : 8;
}

/* REQBUFS charges every plane of every buffer; REQBUFS(0) and close release. */
static int test_v4l2_reqbufs(const char *root)
{
	return run_in_new_cgroup(root, "buffer_v4l2_reqbufs", reqbufs_release);
}

static int over_limit(const char *cgroup, void *arg)
{
	struct video_node *v = arg;
	long length[VIDEO_MAX_PLANES];
	char value[32];
	int fd = open(v->node, O_RDWR | O_CLOEXEC), n;

	if (fd < 0)
		return 1;
	/* One byte short of four buffers: all four are refused. */
	snprintf(value, sizeof(value), "%ld", 4 * v->charge - 1);
	if (buffer_set_max(cgroup, v->device, value))
		return 2;
	n = reqbufs(fd, v, V4L2_MEMORY_MMAP, 4);
	if (n != -ENOMEM) {
		ksft_print_msg("REQBUFS over the limit: %s\n", n < 0 ? strerror(-n) : "allocated");
		return 3;
	}
	if (!charged(cgroup, v, 0) ||
	    buffer_value(cgroup, "buffer.events.local", v->device, "max") != 1)
		return 4;
	/* Nothing was allocated, and the queue is usable again. */
	if (querybuf(fd, v, 0, length) != -EINVAL)
		return 5;
	snprintf(value, sizeof(value), "%ld", 4 * v->charge);
	if (buffer_set_max(cgroup, v->device, value))
		return 6;
	n = reqbufs(fd, v, V4L2_MEMORY_MMAP, 4);
	if (n != 4 || !charged(cgroup, v, 4))
		return 7;
	/* At the limit, one more buffer is refused; those there stay. */
	if (create_bufs(fd, v, 1) != -ENOMEM || !charged(cgroup, v, 4) ||
	    querybuf(fd, v, 4, length) != -EINVAL ||
	    buffer_value(cgroup, "buffer.events.local", v->device, "max") != 2)
		return 8;
	close(fd);
	return charged(cgroup, v, 0) ? 0 : 9;
}

/* Over buffer.max, REQBUFS and CREATE_BUFS fail with ENOMEM, allocating nothing. */
static int test_v4l2_limit(const char *root)
{
	return run_in_new_cgroup(root, "buffer_v4l2_limit", over_limit);
}

static int export_and_transfer(const char *cgroup, void *arg)
{
	struct video_node *v = arg;
	char path[64], info[1024] = "", want[160], *target;
	int fd = open(v->node, O_RDWR | O_CLOEXEC), n, bufs[VIDEO_MAX_PLANES], target_fd;
	long moved;

	target = cg_name(cgroup, "../buffer_v4l2_export_target");
	target_fd = target ? open(target, O_DIRECTORY | O_CLOEXEC) : -1;
	if (fd < 0 || target_fd < 0)
		return 1;
	n = reqbufs(fd, v, V4L2_MEMORY_MMAP, 4);
	if (n < 1)
		return 2;
	for (unsigned int p = 0; p < v->planes; p++) {
		bufs[p] = expbuf(fd, v, 0, p);
		if (bufs[p] < 0)
			return 3;
	}
	/* Exporting charges nothing more. */
	if (!charged(cgroup, v, n))
		return 4;
	snprintf(path, sizeof(path), "/proc/self/fdinfo/%d", bufs[0]);
	if (read_text(path, info, sizeof(info)) <= 0)
		return 5;
	snprintf(want, sizeof(want), "charge_device:\t%s\ncharge_cgroup:\t/buffer_v4l2_export\n",
		 v->device);
	if (!strstr(info, want)) {
		ksft_print_msg("fdinfo lacks \"%s\":\n%s", want, info);
		return 6;
	}
	/* The last plane's charge moves, alone. */
	moved = page_align(v->plane_size[v->planes - 1]);
	if (transfer_charge(bufs[v->planes - 1], target_fd))
		return 7;
	if (current_of(cgroup, v->device) != n * v->charge - moved ||
	    current_of(target, v->device) != moved ||
	    buffer_value(target, "buffer.stat", v->device, "transfers_in") != 1)
		return 8;
	/*
	 * Freeing the buffers leaves the exported planes' memory, and their
	 * charges, to the dma-bufs, until they are closed.
	 */
	if (reqbufs(fd, v, V4L2_MEMORY_MMAP, 0))
		return 9;
	if (current_of(cgroup, v->device) != v->charge - moved ||
	    current_of(target, v->device) != moved)
		return 10;
	close(fd);
	for (unsigned int p = 0; p < v->planes; p++)
		close(bufs[p]);
	if (current_of(cgroup, v->device) != 0 || current_of(target, v->device) != 0)
		return 11;
	return 0;
}

/* EXPBUF dma-bufs name their payer in fdinfo, and their charge moves. */
static int test_v4l2_expbuf_transfer(const char *root)
{
	char *cg = make_cgroup(root, "buffer_v4l2_export");
	char *target = make_cgroup(root, "buffer_v4l2_export_target");
	int ret = KSFT_FAIL;

	if (cg && target)
		ret = run_on_each_vivid(cg, export_and_transfer);
	remove_cgroup(cg);
	remove_cgroup(target);
	return ret;
}

static int import_heap_buffers(const char *cgroup, void *arg)
{
	struct video_node *v = arg;
	struct v4l2_plane planes[VIDEO_MAX_PLANES] = { 0 };
	struct v4l2_buffer buf = {
		.index = 0, .type = v->type, .memory = V4L2_MEMORY_DMABUF,
	};
	int fd = open(v->node, O_RDWR | O_CLOEXEC), heap_bufs[VIDEO_MAX_PLANES];
	/* dma-contig takes contiguous buffers only: the CMA heap's. */
	const char *heap = v->planes == 1 ? "system" : "reserved";
	char heap_device[32];

	if (fd < 0)
		return 1;
	snprintf(heap_device, sizeof(heap_device), "heap/%s", heap);
	for (unsigned int p = 0; p < v->planes; p++) {
		heap_bufs[p] = buffer_heap_alloc(heap, page_align(v->plane_size[p]));
		if (heap_bufs[p] < 0)
			return 2;
		planes[p].m.fd = heap_bufs[p];
		planes[p].length = page_align(v->plane_size[p]);
	}
	if (current_of(cgroup, heap_device) != v->charge)
		return 3;
	if (reqbufs(fd, v, V4L2_MEMORY_DMABUF, 4) < 1)
		return 4;
	if (v->type == V4L2_BUF_TYPE_VIDEO_CAPTURE) {
		buf.m.fd = heap_bufs[0];
		buf.length = planes[0].length;
	} else {
		buf.m.planes = planes;
		buf.length = v->planes;
	}
	/* Queued, the buffer is attached: vivid uses it. */
	if (ioctl(fd, VIDIOC_QBUF, &buf)) {
		ksft_print_msg("QBUF of a heap buffer: %s\n", strerror(errno));
		return 5;
	}
	if (current_of(cgroup, v->device) != 0 ||
	    current_of(cgroup, heap_device) != v->charge)
		return 6;
	close(fd);
	for (unsigned int p = 0; p < v->planes; p++)
		close(heap_bufs[p]);
	return current_of(cgroup, heap_device) != 0 ? 7 : 0;
}

/* A heap buffer queued as V4L2_MEMORY_DMABUF is charged once, to the heap. */
static int test_v4l2_import(const char *root)
{
	return run_in_new_cgroup(root, "buffer_v4l2_import", import_heap_buffers);
}

/* A dma-buf of the first plane of a buffer of @v, exported: its fd, or -1. */
static int export_one(const struct video_node *v)
{
	int fd = open(v->node, O_RDWR | O_CLOEXEC), buf;

	if (fd < 0 || reqbufs(fd, v, V4L2_MEMORY_MMAP, 4) < 1) {
		if (fd >= 0)
			close(fd);
		return -1;
	}
	buf = expbuf(fd, v, 0, 0);
	close(fd);
	return buf;
}

/*
 * The driver unbound with an exported plane still open: the plane keeps
 * its charge, and the device its place in buffer.current, until the
 * dma-buf is closed; bound again, the device is back.
 */
static int test_v4l2_unbind(const char *root)
{
	char *cg = make_cgroup(root, "buffer_v4l2_unbind");
	int ret = KSFT_FAIL, held[NR_VIVID] = { -1, -1 }, i;
	long size[NR_VIVID];

	if (!cg)
		return KSFT_FAIL;
	if (cg_enter_current(cg))
		goto out;
	for (i = 0; i < NR_VIVID; i++) {
		size[i] = page_align(vivids[i].plane_size[0]);
		held[i] = export_one(&vivids[i]);
		if (held[i] < 0 || current_of(cg, vivids[i].device) != size[i])
			goto out;
	}
	if (buffer_write_file(VIVID_DRIVER "/unbind", "vivid.0")) {
		ksft_print_msg("cannot unbind vivid\n");
		goto out;
	}
	for (i = 0; i < NR_VIVID; i++) {
		if (current_of(cg, vivids[i].device) != size[i]) {
			ksft_print_msg("%s: %ld charged after the unbind\n",
				       vivids[i].device, current_of(cg, vivids[i].device));
			goto out;
		}
		close(held[i]);
		held[i] = -1;
		if (current_of(cg, vivids[i].device) > 0) {
			ksft_print_msg("%s: still charged after its last buffer\n",
				       vivids[i].device);
			goto out;
		}
	}
	if (buffer_write_file(VIVID_DRIVER "/bind", "vivid.0") ||
	    find_vivids() != NR_VIVID) {
		ksft_print_msg("vivid did not come back\n");
		goto out;
	}
	for (i = 0; i < NR_VIVID; i++)
		if (current_of(cg, vivids[i].device) != 0)
			goto out;
	ret = KSFT_PASS;
out:
	for (i = 0; i < NR_VIVID; i++)
		if (held[i] >= 0)
			close(held[i]);
	cg_enter_current(root);
	remove_cgroup(cg);
	return ret;
}

/*
 * vim2m, a mem2mem device: the queues of each open file, one to write
 * frames to and one to read them from, named by no video device.
 */
struct m2m {
	char node[32];
	char device[64];	/* v4l2/<driver>_<bus id>, the default name */
	struct video_node out, cap;
};

/* The video node named "vim2m", its device name from sysfs; 0 or -1. */
static int find_vim2m(struct m2m *m)
{
	char path[PATH_MAX], name[64], link[PATH_MAX], drv[PATH_MAX];
	struct dirent *de;
	DIR *dir = opendir("/sys/class/video4linux");
	int ret = -1;

	memset(m, 0, sizeof(*m));
	while (dir && (de = readdir(dir))) {
		ssize_t n, d;

		snprintf(path, sizeof(path), "/sys/class/video4linux/%s/name", de->d_name);
		if (read_text(path, name, sizeof(name)) <= 0 || strcmp(name, "vim2m\n"))
			continue;
		snprintf(path, sizeof(path), "/sys/class/video4linux/%s/device", de->d_name);
		n = readlink(path, link, sizeof(link) - 1);
		snprintf(path, sizeof(path), "/sys/class/video4linux/%s/device/driver",
			 de->d_name);
		d = readlink(path, drv, sizeof(drv) - 1);
		if (n <= 0 || d <= 0)
			break;
		link[n] = '\0';
		drv[d] = '\0';
		snprintf(m->node, sizeof(m->node), "/dev/%.26s", de->d_name);
		snprintf(m->device, sizeof(m->device), "v4l2/%.20s_%.30s",
			 strrchr(drv, '/') + 1, strrchr(link, '/') + 1);
		ret = 0;
		break;
	}
	if (dir)
		closedir(dir);
	return ret;
}

/* The queue of @type of an open vim2m file, its buffer size. */
static int m2m_queue(int fd, struct video_node *q, __u32 type)
{
	struct v4l2_format fmt = { .type = type };

	if (ioctl(fd, VIDIOC_G_FMT, &fmt))
		return -1;
	q->type = type;
	q->planes = 1;
	q->plane_size[0] = fmt.fmt.pix.sizeimage;
	q->charge = page_align(fmt.fmt.pix.sizeimage);
	return 0;
}

static long m2m_buffers(const char *cgroup, const struct m2m *m)
{
	return buffer_value(cgroup, "buffer.stat", m->device, "buffers");
}

static int m2m_reqbufs(const char *cgroup, void *arg)
{
	struct m2m *m = arg;
	int fd = open(m->node, O_RDWR | O_CLOEXEC), other, out, cap, more;
	long want;

	if (fd < 0 || m2m_queue(fd, &m->out, V4L2_BUF_TYPE_VIDEO_OUTPUT) ||
	    m2m_queue(fd, &m->cap, V4L2_BUF_TYPE_VIDEO_CAPTURE))
		return 1;
	out = reqbufs(fd, &m->out, V4L2_MEMORY_MMAP, 2);
	cap = reqbufs(fd, &m->cap, V4L2_MEMORY_MMAP, 3);
	if (out < 2 || cap < 3)
		return 2;
	want = out * m->out.charge + cap * m->cap.charge;
	if (current_of(cgroup, m->device) != want || m2m_buffers(cgroup, m) != out + cap) {
		ksft_print_msg("%s: %d+%d buffers: %ld charged, want %ld\n", m->device,
			       out, cap, current_of(cgroup, m->device), want);
		return 3;
	}
	/* Another open file has queues of its own, charged on their own. */
	other = open(m->node, O_RDWR | O_CLOEXEC);
	more = other < 0 ? -1 : create_bufs(other, &m->cap, 1);
	if (more != 1 || current_of(cgroup, m->device) != want + m->cap.charge)
		return 4;
	close(other);
	if (current_of(cgroup, m->device) != want)
		return 5;
	if (reqbufs(fd, &m->out, V4L2_MEMORY_MMAP, 0) != 0 ||
	    current_of(cgroup, m->device) != cap * m->cap.charge)
		return 6;
	close(fd);
	return current_of(cgroup, m->device) == 0 && m2m_buffers(cgroup, m) == 0 ? 0 : 7;
}

/* vim2m's queues, created for each open file, are charged too. */
static int test_v4l2_m2m(const char *root)
{
	struct m2m m;
	char *cg;
	int step;

	if (find_vim2m(&m)) {
		ksft_print_msg("no vim2m video node (CONFIG_VIDEO_VIM2M)\n");
		return KSFT_FAIL;
	}
	if (current_of(root, m.device) != 0) {
		ksft_print_msg("%s is not in buffer.current, or charged\n", m.device);
		return KSFT_FAIL;
	}
	cg = make_cgroup(root, "buffer_v4l2_m2m");
	step = cg ? cg_run(cg, m2m_reqbufs, &m) : -1;
	remove_cgroup(cg);
	if (step)
		ksft_print_msg("%s (%s): step %d failed\n", m.device, m.node, step);
	return step ? KSFT_FAIL : KSFT_PASS;
}

#define T(x) { x, #x }
static const struct buffer_test tests[] = {
	T(test_v4l2_devices),
	T(test_v4l2_reqbufs),
	T(test_v4l2_limit),
	T(test_v4l2_expbuf_transfer),
	T(test_v4l2_import),
	T(test_v4l2_m2m),
	/* Last: the video nodes change. */
	T(test_v4l2_unbind),
};

#undef T

int main(int argc, char **argv)
{
	find_vivids();
	return buffer_test_main(tests, ARRAY_SIZE(tests));
}
