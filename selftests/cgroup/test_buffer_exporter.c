// SPDX-License-Identifier: GPL-2.0
/*
 * Lifecycle of a real exporter module under the buffer controller, with
 * lib/test_buffer_cg.ko: load it, charge buffers against its device, unplug
 * the device while they are alive, plug it back, try to unload the module
 * with buffers alive, remove the paying cgroup, release everything, unload,
 * load again. Run it on a KASAN kernel: the module frees its device (name
 * included) at every unplug, so a controller that kept a pointer into it
 * shows up as a report.
 *
 * usage: test_buffer_exporter [MODULE.ko]
 */
#define _GNU_SOURCE

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/dma-buf.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "../kselftest.h"
#include "cgroup_util.h"
#include "buffer_util.h"
#include "../../../../lib/test_buffer_cg_uapi.h"

#define MODULE_NAME "test_buffer_cg"
#define DEFAULT_PATH "/lib/modules/" MODULE_NAME ".ko"
#define DEVICE TEST_BUFFER_CG_DEVICE
#define MIB MB(1L)
#define NBUF 3

static int load(const char *path)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC), ret;

	if (fd < 0)
		return -1;
	ret = syscall(SYS_finit_module, fd, "", 0);
	close(fd);
	return ret;
}

static int unload(void)
{
	return syscall(SYS_delete_module, MODULE_NAME, O_NONBLOCK);
}

static int alloc(int dev, long len)
{
	struct test_buffer_cg_alloc arg = { .len = len };

	return ioctl(dev, TEST_BUFFER_CG_IOCTL_ALLOC, &arg) ? -errno : (int)arg.fd;
}

/* Whether fdinfo of @fd names @device as the one paying. */
static bool fdinfo_names(int fd, const char *device)
{
	char name[16], info[1024], needle[96];

	snprintf(name, sizeof(name), "%d", fd);
	snprintf(needle, sizeof(needle), "charge_device:\t%s\n", device);
	return !cg_read("/proc/self/fdinfo", name, info, sizeof(info)) &&
	       strstr(info, needle);
}

/* Whether any buffer.* file of @cg lists the device. */
static bool listed(const char *cg)
{
	return !cg_read_strstr(cg, "buffer.current", DEVICE " ");
}

int main(int argc, char **argv)
{
	const char *path = argc > 1 ? argv[1] : DEFAULT_PATH;
	int dev = -1, bufs[NBUF], i, ret;
	char root[PATH_MAX], *parent, *cg;
	bool ok;

	ksft_print_header();
	if (cg_find_unified_root(root, sizeof(root), NULL))
		ksft_exit_skip("cgroup v2 isn't mounted\n");
	if (cg_read_strstr(root, "cgroup.controllers", "buffer"))
		ksft_exit_skip("buffer controller isn't available\n");
	/* Asked for a module by name, its absence is a failure, not a skip. */
	if (argc < 2 && access(path, R_OK))
		ksft_exit_skip("%s is missing (CONFIG_TEST_BUFFER_CG=m)\n", path);
	ksft_set_plan(9);
	cg_write(root, "cgroup.subtree_control", "+buffer");
	/* The parent outlives the module and keeps a limit on its device. */
	parent = cg_name(root, "buffer_test_exporter");
	cg = cg_name(parent, "child");
	if (!parent || !cg || cg_create(parent) ||
	    cg_write(parent, "cgroup.subtree_control", "+buffer") || cg_create(cg))
		ksft_exit_fail_msg("cannot create the cgroups\n");

	ret = load(path);
	dev = open("/dev/" MODULE_NAME, O_RDWR | O_CLOEXEC);
	ksft_test_result(!ret && dev >= 0 && listed(root) &&
			 buffer_value(root, "buffer.capacity", DEVICE, NULL) == 1L << 30,
			 "load: %s registers %s with its capacity\n", path, DEVICE);
	if (ret || dev < 0)
		ksft_exit_fail_msg("cannot load %s: %s\n", path, strerror(errno));

	/* Charges against the module's device, in our cgroup, under a limit. */
	ok = !cg_write(parent, "buffer.max", DEVICE " 3M") && !cg_enter_current(cg);
	for (i = 0; i < NBUF; i++) {
		bufs[i] = alloc(dev, MIB);
		ok &= bufs[i] >= 0;
	}
	ok &= alloc(dev, 1) == -ENOMEM;
	ok &= buffer_value(cg, "buffer.current", DEVICE, NULL) == NBUF * MIB;
	ok &= fdinfo_names(bufs[0], DEVICE);
	ksft_test_result(ok, "charge: %d MiB charged, the 4th refused at the 3M limit\n", NBUF);
	if (!ok)
		ksft_exit_fail_msg("cannot charge the module's device\n");

	/* Unplugged (and its struct freed) while the buffers live. */
	ok = !ioctl(dev, TEST_BUFFER_CG_IOCTL_UNPLUG) && alloc(dev, MIB) == -ENODEV &&
	     buffer_value(cg, "buffer.current", DEVICE, NULL) == NBUF * MIB &&
	     buffer_value(root, "buffer.current", DEVICE, NULL) == NBUF * MIB &&
	     fdinfo_names(bufs[0], DEVICE);
	ksft_test_result(ok,
			 "unplug with live buffers: new charges ENODEV, the charges still shown\n");

	/* A buffer of the unplugged device still moves its charge. */
	{
		struct dma_buf_transfer_charge t = { .charge_fd = open(root, O_DIRECTORY) };

		ok = !ioctl(bufs[2], DMA_BUF_IOCTL_TRANSFER_CHARGE, &t);
		close(t.charge_fd);
	}
	ksft_test_result(ok, "transfer: a charge of the unplugged device moves to the root\n");

	/* Plugged back while draining: the same device, charges and limit. */
	ok = !ioctl(dev, TEST_BUFFER_CG_IOCTL_PLUG) &&
	     buffer_value(cg, "buffer.current", DEVICE, NULL) == 2 * MIB &&
	     buffer_value(parent, "buffer.max", DEVICE, NULL) == 3 * MIB &&
	     ioctl(dev, TEST_BUFFER_CG_IOCTL_PLUG) && errno == EEXIST;
	ksft_test_result(ok, "plug back: the draining device returns with its charges and limit\n");

	/* The buffers pin the module; unplug again, then the paying cgroup goes. */
	close(dev);
	ok = unload() && errno == EWOULDBLOCK;
	dev = open("/dev/" MODULE_NAME, O_RDWR | O_CLOEXEC);
	ok &= dev >= 0 && !ioctl(dev, TEST_BUFFER_CG_IOCTL_UNPLUG);
	close(dev);
	cg_enter_current(root);
	ok &= !cg_destroy(cg);
	ksft_test_result(ok, "unload refused while buffers live; the paying cgroup removed\n");

	for (i = 0; i < NBUF; i++)
		close(bufs[i]);
	ok = !unload();
	ksft_test_result(ok, "unload: once the last buffer is gone the module unloads\n");

	ok = !listed(root) && !listed(parent) &&
	     buffer_value(root, "buffer.stat", "heap/system", "buffers") >= 0;
	ksft_test_result(ok, "after unload: the device is gone, the files read fine\n");

	/* A fresh device: nothing left over from the last one. */
	ret = load(path);
	ok = !ret && listed(parent) &&
	     buffer_value(parent, "buffer.current", DEVICE, NULL) == 0 &&
	     buffer_value(parent, "buffer.max", DEVICE, NULL) == BUFFER_VALUE_MAX &&
	     buffer_value(root, "buffer.current", DEVICE, NULL) == 0;
	ok &= !unload();
	ksft_test_result(ok, "reload: the device comes back empty, without the old limit\n");
	cg_destroy(parent);
	free(cg);
	free(parent);
	ksft_finished();
}
