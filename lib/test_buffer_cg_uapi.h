/* SPDX-License-Identifier: GPL-2.0 WITH Linux-syscall-note */
/*
 * The test exporter of the buffer cgroup controller (lib/test_buffer_cg.c):
 * a module that registers a controller device and hands out charged
 * dma-bufs, so that selftests can unplug and unload a real exporter while its
 * buffers are alive.
 */
#ifndef _LIB_TEST_BUFFER_CG_UAPI_H
#define _LIB_TEST_BUFFER_CG_UAPI_H

#include <linux/ioctl.h>
#include <linux/types.h>

/* The controller device the module registers while it is plugged in. */
#define TEST_BUFFER_CG_DEVICE "test/exporter"

/**
 * struct test_buffer_cg_alloc - arguments of TEST_BUFFER_CG_IOCTL_ALLOC
 * @len: (in) bytes to charge to the caller's cgroup
 * @fd: (out) the dma-buf
 */
struct test_buffer_cg_alloc {
	__u64 len;
	__u32 fd;
	__u32 __reserved;
};

#define TEST_BUFFER_CG_IOCTL_ALLOC	_IOWR('B', 0x00, struct test_buffer_cg_alloc)
/* Unregister the device, as a hot-unplugged one would; buffers live on. */
#define TEST_BUFFER_CG_IOCTL_UNPLUG	_IO('B', 0x01)
/* Register the device again; EEXIST if it is plugged in. */
#define TEST_BUFFER_CG_IOCTL_PLUG	_IO('B', 0x02)

#endif /* _LIB_TEST_BUFFER_CG_UAPI_H */
