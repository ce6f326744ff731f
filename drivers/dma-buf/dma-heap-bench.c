// SPDX-License-Identifier: GPL-2.0
/*
 * Benchmark of the system heap's allocation path, as a KUnit suite included
 * from dma-heap.c (CONFIG_DMABUF_HEAPS_BENCHMARK) so that it runs the same
 * dma_heap_ioctl_allocate() as DMA_HEAP_IOCTL_ALLOC does, buffer controller
 * charge included. Each loop allocates a buffer and releases it at once, the
 * way a process does with the ioctl and close(); only the system call entry
 * and the copies of the argument are left out, which makes any accounting
 * overhead look larger, never smaller.
 *
 * The modes depend on the boot: with cgroup_disable=buffer the thread stays
 * in the root cgroup ("disabled"); with the buffer controller, "root" and
 * "depth4" (a chain of four cgroups, each with a buffer.max); with
 * dma_heap.mem_accounting=1, "memcg" (four levels of memory.max, each buffer
 * charged as a whole to the thread's memcg) beside "memcg-page" (the same
 * chain, each page charged with __GFP_ACCOUNT through the thread's active
 * memcg, as a kernel thread is, the way later kernels account the system
 * heap) and "memcg-none" (the same chain, no dma-buf accounting: what the
 * kernel objects of an allocation cost a task in a memory cgroup, which
 * the other two pay too). Each case prints
 * "bench: heap ..." lines with nanoseconds per buffer and asserts nothing
 * about time: 'make bench' compares the boots. dma_heap.bench_mode=<mode>
 * runs that mode alone beside the floor, and dma_heap.bench_size=<bytes>
 * that size alone, for a profiler to attribute the boot's cycles to one
 * mode and size.
 *
 * Copyright (C) 2026 The buffer_cg authors
 */

#include <kunit/test.h>
#include <linux/anon_inodes.h>
#include <linux/cgroup.h>
#include <linux/file.h>
#include <linux/fs.h>
#include <linux/memcontrol.h>
#include <linux/moduleparam.h>
#include <linux/mount.h>
#include <linux/namei.h>
#include <linux/sched/mm.h>
#include <linux/sizes.h>
#include <linux/sort.h>

#define HEAP_BENCH_SAMPLES 21
/* Bytes allocated per timed loop, and the bounds on its iterations. */
#define HEAP_BENCH_BYTES SZ_256M
#define HEAP_BENCH_MIN_LOOPS 16
#define HEAP_BENCH_MAX_LOOPS 16384

struct heap_bench_mode {
	const char *name;
	/*
	 * A chain to run in, levels <prefix>1 to <prefix><depth>, with the
	 * controller enabled down it and a limit at every level; without a
	 * prefix, the root cgroup.
	 */
	char prefix;
	int depth;
	const char *controller, *limit_file, *limit;
	bool memcg;
	/* memcg page by page (__GFP_ACCOUNT) rather than in one bulk charge. */
	bool memcg_page;
	/* In a memcg, but memcg accounts no dma-buf. */
	bool memcg_none;
	/* Call the heap's allocate() directly: no accounting code at all. */
	bool floor;
	/* Only in a boot without any accounting: the disabled controller. */
	bool unaccounted_boot;
};

static const struct heap_bench_mode heap_bench_modes[] = {
	{ .name = "floor", .floor = true },
	{ .name = "disabled", .unaccounted_boot = true },
	{ .name = "root" },
	{ .name = "depth1", .prefix = 'a', .depth = 1, .controller = "+buffer",
	  .limit_file = "buffer.max", .limit = "heap/system 1G" },
	{ .name = "depth4", .prefix = 'b', .depth = 4, .controller = "+buffer",
	  .limit_file = "buffer.max", .limit = "heap/system 1G" },
	{ .name = "memcg", .prefix = 'm', .depth = 4, .controller = "+memory",
	  .limit_file = "memory.max", .limit = "1G", .memcg = true },
	{ .name = "memcg-page", .prefix = 'p', .depth = 4, .controller = "+memory",
	  .limit_file = "memory.max", .limit = "1G", .memcg = true, .memcg_page = true },
	{ .name = "memcg-none", .prefix = 'n', .depth = 4, .controller = "+memory",
	  .limit_file = "memory.max", .limit = "1G", .memcg = true, .memcg_none = true },
};

/*
 * Read by the system heap: allocate pages with __GFP_ACCOUNT. Set by the
 * memcg-page mode while it runs, or for a whole boot, for the instruction
 * count of that mode from userspace (scripts/bench-icount.sh).
 */
bool dma_heap_bench_page_accounting;
module_param_named(bench_page_accounting, dma_heap_bench_page_accounting, bool, 0444);
MODULE_PARM_DESC(bench_page_accounting,
		 "charge the system heap's pages to memcg one by one (__GFP_ACCOUNT)");

static const size_t heap_bench_sizes[] = { SZ_4K, SZ_64K, SZ_1M, SZ_16M };

static char *heap_bench_only;
module_param_named(bench_mode, heap_bench_only, charp, 0444);
MODULE_PARM_DESC(bench_mode, "run only this mode of dma_heap_bench, beside the floor");

static ulong heap_bench_only_size;
module_param_named(bench_size, heap_bench_only_size, ulong, 0444);
MODULE_PARM_DESC(bench_size, "run only this size of dma_heap_bench, in bytes");

static bool heap_bench_size_applies(size_t size)
{
	return !heap_bench_only_size || size == heap_bench_only_size;
}

static bool heap_bench_mode_applies(const struct heap_bench_mode *mode)
{
	bool buffer = cgroup_subsys_enabled(buffer_cgrp_subsys);

	if (mode->floor)
		return true;
	if (heap_bench_only && strcmp(mode->name, heap_bench_only))
		return false;
	if (mode->memcg)
		return dma_heap_mem_accounting && !mem_cgroup_disabled();
	if (mode->unaccounted_boot)
		return !buffer && !dma_heap_mem_accounting;
	return buffer;
}

static int heap_bench_write(struct vfsmount *mnt, const char *dir,
			    const char *file, const char *value)
{
	char path[64];
	struct file *f;
	loff_t pos = 0;
	ssize_t ret;

	snprintf(path, sizeof(path), "%s/%s", dir, file);
	f = file_open_root_mnt(mnt, path, O_WRONLY, 0);
	if (IS_ERR(f))
		return PTR_ERR(f);
	ret = kernel_write(f, value, strlen(value), &pos);
	filp_close(f, NULL);
	return ret < 0 ? ret : 0;
}

static int heap_bench_mkdir(struct vfsmount *mnt, const char *dir,
			    const char *name)
{
	struct dentry *dentry;
	struct path parent;
	struct inode *inode;
	int ret;

	ret = vfs_path_lookup(mnt->mnt_root, mnt, dir, LOOKUP_DIRECTORY, &parent);
	if (ret)
		return ret;
	inode = d_inode(parent.dentry);
	inode_lock_nested(inode, I_MUTEX_PARENT);
	dentry = lookup_one_len(name, parent.dentry, strlen(name));
	ret = PTR_ERR_OR_ZERO(dentry);
	if (!ret) {
		if (d_really_is_negative(dentry))
			ret = vfs_mkdir(&nop_mnt_idmap, inode, dentry, 0755);
		dput(dentry);
	}
	inode_unlock(inode);
	path_put(&parent);
	return ret;
}

/* The cgroup of @mode, @level levels down its chain, as a path. */
static void heap_bench_cgroup(char *path, size_t size,
			      const struct heap_bench_mode *mode, int level)
{
	int len = scnprintf(path, size, ".");

	for (int i = 1; mode->prefix && i <= level; i++)
		len += scnprintf(path + len, size - len, "/%c%d", mode->prefix, i);
}

static void heap_bench_chain(struct kunit *test, struct vfsmount *mnt,
			     const struct heap_bench_mode *mode)
{
	char dir[32], name[4];
	int level;

	for (level = 1; level <= mode->depth; level++) {
		heap_bench_cgroup(dir, sizeof(dir), mode, level - 1);
		KUNIT_ASSERT_EQ(test, heap_bench_write(mnt, dir, "cgroup.subtree_control",
						       mode->controller), 0);
		snprintf(name, sizeof(name), "%c%d", mode->prefix, level);
		KUNIT_ASSERT_EQ(test, heap_bench_mkdir(mnt, dir, name), 0);
		heap_bench_cgroup(dir, sizeof(dir), mode, level);
		KUNIT_ASSERT_EQ(test, heap_bench_write(mnt, dir, mode->limit_file,
						       mode->limit), 0);
	}
}

/*
 * The floor: what dma_heap_ioctl_allocate() does without any accounting
 * code, for a paired comparison within one boot.
 */
static struct dma_buf *heap_bench_allocate_unaccounted(struct dma_heap *heap,
						       struct dma_heap_allocation_data *data)
{
	struct dma_buf *dmabuf;
	int fd;

	dmabuf = heap->ops->allocate(heap, data->len, data->fd_flags, 0);
	if (IS_ERR(dmabuf))
		return dmabuf;
	fd = get_unused_fd_flags(data->fd_flags);
	if (fd < 0) {
		dma_buf_put(dmabuf);
		return ERR_PTR(fd);
	}
	data->fd = fd;
	return dmabuf;
}

/* Tenths of a ns per buffer of @size over @loops allocations, or 0. */
static u64 heap_bench_loop(struct file *heap_file, bool floor, size_t size,
			   unsigned int loops)
{
	struct dma_heap_allocation_data data;
	struct dma_buf *dmabuf;
	unsigned int i;
	u64 start;

	start = ktime_get_ns();
	for (i = 0; i < loops; i++) {
		data = (struct dma_heap_allocation_data){
			.len = size, .fd_flags = O_RDWR | O_CLOEXEC,
		};
		if (floor)
			dmabuf = heap_bench_allocate_unaccounted(heap_file->private_data,
								 &data);
		else
			dmabuf = dma_heap_ioctl_allocate(heap_file, &data);
		if (IS_ERR(dmabuf))
			return 0;
		/* What close() of the only reference does, without the delay. */
		put_unused_fd(data.fd);
		__fput_sync(dmabuf->file);
	}
	return div_u64((ktime_get_ns() - start) * 10, loops);
}

/*
 * A boot of one size runs the most loops, so that a profiler sampling at a
 * rate it may keep up sees enough of even the largest buffers.
 */
static unsigned int heap_bench_loops(size_t size)
{
	if (heap_bench_only_size)
		return HEAP_BENCH_MAX_LOOPS;
	return clamp_t(size_t, HEAP_BENCH_BYTES / size, HEAP_BENCH_MIN_LOOPS,
		       HEAP_BENCH_MAX_LOOPS);
}

/* Run the loop in @mode's cgroup, and go back to the root. */
static u64 heap_bench_in_mode(struct kunit *test, struct vfsmount *mnt,
			      struct file *heap_file,
			      const struct heap_bench_mode *mode, size_t size)
{
	unsigned int loops = heap_bench_loops(size);
	struct mem_cgroup *memcg = NULL, *old_memcg = NULL;
	char cgroup[32];
	u64 tenths;

	heap_bench_cgroup(cgroup, sizeof(cgroup), mode, mode->depth);
	KUNIT_ASSERT_EQ(test, heap_bench_write(mnt, cgroup, "cgroup.procs", "0"), 0);
	/*
	 * A kernel thread charges pages only through its active memcg; the
	 * bulk charge, the memcg of its cgroup. The page and none modes turn
	 * the bulk charge off while they run: nothing else allocates from the
	 * heap.
	 */
	if (mode->memcg) {
		memcg = get_mem_cgroup_from_current();
		old_memcg = set_active_memcg(memcg);
	}
	if (mode->memcg_page || mode->memcg_none)
		WRITE_ONCE(dma_heap_mem_accounting, false);
	WRITE_ONCE(dma_heap_bench_page_accounting, mode->memcg_page);
	tenths = heap_bench_loop(heap_file, mode->floor, size, loops);
	WRITE_ONCE(dma_heap_bench_page_accounting, false);
	if (mode->memcg_page || mode->memcg_none)
		WRITE_ONCE(dma_heap_mem_accounting, true);
	if (mode->memcg) {
		set_active_memcg(old_memcg);
		mem_cgroup_put(memcg);
	}
	KUNIT_ASSERT_EQ(test, heap_bench_write(mnt, ".", "cgroup.procs", "0"), 0);
	KUNIT_ASSERT_NE_MSG(test, tenths, 0, "allocation of %zu bytes in mode %s failed",
			    size, mode->name);
	return tenths;
}

static int heap_bench_cmp(const void *a, const void *b)
{
	u64 x = *(const u64 *)a, y = *(const u64 *)b;

	return x < y ? -1 : x > y;
}

/*
 * One line for @size in @mode: the median, min and max ns per buffer, the
 * median of the ratios to the floor timed in the same sample, which the
 * drift between samples does not move, and the buffers the timed loops
 * allocated.
 */
static void heap_bench_print(struct kunit *test, const struct heap_bench_mode *mode,
			     size_t size, const u64 *tenths, const u64 *floor)
{
	u64 v[HEAP_BENCH_SAMPLES], ratio[HEAP_BENCH_SAMPLES];
	const unsigned int mid = HEAP_BENCH_SAMPLES / 2;
	unsigned int i;

	for (i = 0; i < HEAP_BENCH_SAMPLES; i++) {
		v[i] = tenths[i];
		ratio[i] = div64_u64(tenths[i] * 10000, floor[i]);
	}
	sort(v, HEAP_BENCH_SAMPLES, sizeof(*v), heap_bench_cmp, NULL);
	sort(ratio, HEAP_BENCH_SAMPLES, sizeof(*ratio), heap_bench_cmp, NULL);
	kunit_info(test, "bench: heap mode=%s size=%zu ns=%llu.%llu min=%llu.%llu max=%llu.%llu floor_ratio=%llu.%04llu buffers=%u\n",
		   mode->name, size, v[mid] / 10, v[mid] % 10, v[0] / 10, v[0] % 10,
		   v[HEAP_BENCH_SAMPLES - 1] / 10, v[HEAP_BENCH_SAMPLES - 1] % 10,
		   ratio[mid] / 10000, ratio[mid] % 10000,
		   heap_bench_loops(size) * HEAP_BENCH_SAMPLES);
}

static struct dma_heap *heap_bench_find(const char *name)
{
	struct dma_heap *heap, *found = NULL;

	mutex_lock(&heap_list_lock);
	list_for_each_entry(heap, &heap_list, list) {
		if (!strcmp(heap->name, name)) {
			found = heap;
			break;
		}
	}
	mutex_unlock(&heap_list_lock);
	return found;
}

/*
 * Every size in every mode of this boot, HEAP_BENCH_SAMPLES times. Modes and
 * sizes are interleaved within each sample, the modes' order alternating
 * between samples, so that drift and leftovers of the previous loop hit
 * every mode alike.
 */
static void dma_heap_bench_alloc(struct kunit *test)
{
	static u64 samples[ARRAY_SIZE(heap_bench_modes)][ARRAY_SIZE(heap_bench_sizes)]
			  [HEAP_BENCH_SAMPLES];
	struct file_system_type *type;
	struct file *heap_file;
	struct vfsmount *mnt;
	struct dma_heap *heap;
	unsigned int m, n, s, i;

	/* Every mode would charge page by page, and the suite would clear it. */
	if (READ_ONCE(dma_heap_bench_page_accounting))
		kunit_skip(test, "dma_heap.bench_page_accounting=1 is for the instruction count");

	heap = heap_bench_find("system");
	KUNIT_ASSERT_NOT_NULL(test, heap);
	heap_file = anon_inode_getfile("dma_heap_bench", &dma_heap_fops, heap, O_RDWR);
	KUNIT_ASSERT_FALSE(test, IS_ERR(heap_file));

	type = get_fs_type("cgroup2");
	KUNIT_ASSERT_NOT_NULL(test, type);
	mnt = kern_mount(type);
	put_filesystem(type);
	KUNIT_ASSERT_FALSE(test, IS_ERR(mnt));

	for (m = 0; m < ARRAY_SIZE(heap_bench_modes); m++)
		if (heap_bench_modes[m].prefix &&
		    heap_bench_mode_applies(&heap_bench_modes[m]))
			heap_bench_chain(test, mnt, &heap_bench_modes[m]);

	for (i = 0; i < HEAP_BENCH_SAMPLES; i++) {
		for (s = 0; s < ARRAY_SIZE(heap_bench_sizes); s++) {
			if (!heap_bench_size_applies(heap_bench_sizes[s]))
				continue;
			/* An untimed loop pays for the change of size. */
			heap_bench_in_mode(test, mnt, heap_file, &heap_bench_modes[0],
					   heap_bench_sizes[s]);
			for (n = 0; n < ARRAY_SIZE(heap_bench_modes); n++) {
				m = i % 2 ? ARRAY_SIZE(heap_bench_modes) - 1 - n : n;
				if (heap_bench_mode_applies(&heap_bench_modes[m]))
					samples[m][s][i] =
						heap_bench_in_mode(test, mnt, heap_file,
								   &heap_bench_modes[m],
								   heap_bench_sizes[s]);
			}
		}
	}

	/* Mode 0 is the floor, which runs in every boot. */
	for (m = 0; m < ARRAY_SIZE(heap_bench_modes); m++) {
		if (!heap_bench_mode_applies(&heap_bench_modes[m]))
			continue;
		for (s = 0; s < ARRAY_SIZE(heap_bench_sizes); s++)
			if (heap_bench_size_applies(heap_bench_sizes[s]))
				heap_bench_print(test, &heap_bench_modes[m],
						 heap_bench_sizes[s], samples[m][s],
						 samples[0][s]);
	}
	kern_unmount(mnt);
	fput(heap_file);
}

static struct kunit_case dma_heap_bench_cases[] = {
	KUNIT_CASE_SLOW(dma_heap_bench_alloc),
	{}
};

static struct kunit_suite dma_heap_bench_suite = {
	.name = "dma_heap_bench",
	.test_cases = dma_heap_bench_cases,
};

kunit_test_suite(dma_heap_bench_suite);
