// SPDX-License-Identifier: GPL-2.0
/*
 * Tests of the buffer cgroup controller on every DRM device of the guest:
 * vgem (shmem helpers), bochs (QEMU's -vga std: TTM through the VRAM
 * helpers) and virtio-gpu (shmem helpers, its own PRIME export). Dumb
 * buffers are created and destroyed, refused over a limit without
 * allocating anything, exported (fdinfo names the payer, transfer moves
 * the charge), imported into another device (no second charge), listed
 * once by "buffer-cg dump"; the fbdev emulation buffers are the root's,
 * even when the driver is bound from a limited cgroup.
 */
#define _GNU_SOURCE

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/dma-buf.h>
#include <linux/dma-heap.h>
#include <drm/drm.h>
#include <drm/drm_mode.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../kselftest.h"
#include "cgroup_util.h"
#include "buffer_util.h"

#define MAX_GPUS 8
#define BOCHS_PCI_DRIVER "/sys/bus/pci/drivers/bochs-drm"

struct gpu {
	char card[32];		/* /dev/dri/cardN */
	char driver[32];	/* the DRM driver's name */
	char device[80];	/* the controller's device, drm/<dev_name> */
	char dev_name[64];
};

/* The DRM drivers every guest must have, with QEMU's devices. */
static const char * const wanted[] = { "vgem", "bochs-drm", "virtio_gpu" };
#define NR_WANTED ((int)ARRAY_SIZE(wanted))

static struct gpu gpus[MAX_GPUS];
static int nr_gpus;

static int drm_driver_name(int card, char *name, size_t len)
{
	struct drm_version version = { .name = name, .name_len = len - 1 };

	memset(name, 0, len);
	return ioctl(card, DRM_IOCTL_VERSION, &version) ? -errno : 0;
}

/* Every /dev/dri/cardN, by its sysfs device. */
static int find_gpus(void)
{
	char path[PATH_MAX], target[PATH_MAX];
	struct dirent *de;
	DIR *dir;
	ssize_t n;
	int card;

	nr_gpus = 0;
	dir = opendir("/sys/class/drm");
	if (!dir)
		return -1;
	while ((de = readdir(dir)) && nr_gpus < MAX_GPUS) {
		struct gpu *g = &gpus[nr_gpus];
		int num;
		char end;

		if (sscanf(de->d_name, "card%d%c", &num, &end) != 1)
			continue;
		snprintf(path, sizeof(path), "/sys/class/drm/%s/device", de->d_name);
		n = readlink(path, target, sizeof(target) - 1);
		if (n < 0)
			continue;
		target[n] = '\0';
		snprintf(g->dev_name, sizeof(g->dev_name), "%.63s", strrchr(target, '/') + 1);
		snprintf(g->device, sizeof(g->device), "drm/%.63s", strrchr(target, '/') + 1);
		snprintf(g->card, sizeof(g->card), "/dev/dri/card%d", num);
		card = open(g->card, O_RDWR | O_CLOEXEC);
		if (card < 0)
			continue;
		if (!drm_driver_name(card, g->driver, sizeof(g->driver)))
			nr_gpus++;
		close(card);
	}
	closedir(dir);
	return 0;
}

static struct gpu *gpu_of(const char *driver)
{
	for (int i = 0; i < nr_gpus; i++)
		if (!strcmp(gpus[i].driver, driver))
			return &gpus[i];
	return NULL;
}

/* Runs @fn(@cg, gpu) for every GPU in turn; says which one failed. */
static int run_on_each_gpu(const char *cg, int (*fn)(const char *cgroup, void *arg))
{
	int ret = KSFT_PASS;

	for (int i = 0; i < nr_gpus; i++) {
		int step = cg_run(cg, fn, &gpus[i]);

		if (step) {
			ksft_print_msg("%s (%s): step %d failed\n", gpus[i].device,
				       gpus[i].driver, step);
			ret = KSFT_FAIL;
		}
	}
	return ret;
}

/* QEMU's GPUs are there, named drm/<dev_name> as users read them. */
static int test_drm_devices(const char *root)
{
	unsigned int domain, bus, slot, fn;
	struct gpu *g;
	int i;

	for (i = 0; i < NR_WANTED; i++) {
		g = gpu_of(wanted[i]);
		if (!g) {
			ksft_print_msg("no DRM device of driver %s\n", wanted[i]);
			return KSFT_FAIL;
		}
		ksft_print_msg("%s: %s, %s\n", g->card, g->driver, g->device);
		if (current_of(root, g->device) < 0) {
			ksft_print_msg("%s is not in buffer.current\n", g->device);
			return KSFT_FAIL;
		}
	}
	/* vgem is a platform device; the others are named by PCI address. */
	g = gpu_of("vgem");
	if (!g || strcmp(g->device, "drm/vgem"))
		return KSFT_FAIL;
	for (i = 1; i < NR_WANTED; i++) {
		g = gpu_of(wanted[i]);
		if (sscanf(g->dev_name, "%x:%x:%x.%x", &domain, &bus, &slot, &fn) != 4)
			return KSFT_FAIL;
	}
	return KSFT_PASS;
}

static int create_destroy(const char *cgroup, void *arg)
{
	struct gpu *g = arg;
	int card = open(g->card, O_RDWR | O_CLOEXEC), handle;
	long size;

	if (card < 0)
		return 1;
	handle = dumb_create(card, 64, 64, &size);
	if (handle < 0)
		return 2;
	if (current_of(cgroup, g->device) != size ||
	    buffer_value(cgroup, "buffer.stat", g->device, "buffers") != 1)
		return 3;
	if (gem_close(card, handle))
		return 4;
	if (current_of(cgroup, g->device) != 0 ||
	    buffer_value(cgroup, "buffer.stat", g->device, "buffers") != 0)
		return 5;
	close(card);
	return 0;
}

/* A dumb buffer is charged its size when created, uncharged when closed. */
static int test_drm_create_destroy(const char *root)
{
	char *cg = make_cgroup(root, "buffer_drm_create");
	int ret = cg ? run_on_each_gpu(cg, create_destroy) : KSFT_FAIL;

	remove_cgroup(cg);
	return ret;
}

/*
 * Makes the next allocation this thread attempts fail, and tells whether
 * one was attempted since (fail-nth, with failslab counting GFP_KERNEL
 * allocations). Only where fault injection is built in (the debug kernel).
 */
static int use_fail_nth;

static int fail_nth_arm(void)
{
	int fd = open("/proc/thread-self/fail-nth", O_RDWR | O_CLOEXEC);

	if (fd < 0 || pwrite(fd, "1", 1, 0) != 1) {
		if (fd >= 0)
			close(fd);
		return -1;
	}
	return fd;
}

/* 1 if an allocation was attempted, 0 if not, -1 on error; disarms. */
static int fail_nth_reached(int fd)
{
	char buf[16] = "";
	int ret = -1;

	if (pread(fd, buf, sizeof(buf) - 1, 0) > 0)
		ret = atoi(buf) == 0;
	/* Disarm, whether or not the fault was injected. */
	if (pwrite(fd, "0", 1, 0) != 1)
		ret = -1;
	close(fd);
	return ret;
}

static int fill(const char *cgroup, void *arg)
{
	struct gpu *g = arg;
	int card = open(g->card, O_RDWR | O_CLOEXEC), n, handle = 0, armed;
	long size = 0;

	if (card < 0)
		return 1;
	for (n = 0; n < 4; n++) {
		handle = dumb_create(card, 64, 64, &size);
		if (handle < 0)
			return 2;
	}
	/* The fifth is refused before anything is allocated for it. */
	armed = use_fail_nth ? fail_nth_arm() : -1;
	handle = dumb_create(card, 64, 64, NULL);
	if (armed >= 0 && fail_nth_reached(armed) != 0) {
		ksft_print_msg("%s: the refused buffer attempted an allocation\n",
			       g->device);
		return 4;
	}
	if (handle != -ENOMEM)
		return 3;
	if (current_of(cgroup, g->device) != 4 * size ||
	    buffer_value(cgroup, "buffer.events.local", g->device, "max") != 1 ||
	    buffer_value(cgroup, "buffer.stat", g->device, "buffers") != 4)
		return 5;
	close(card);
	return current_of(cgroup, g->device) != 0 ? 6 : 0;
}

/* buffer.max refuses the fifth 16 KiB buffer with ENOMEM, counted in events. */
static int test_drm_limit(const char *root)
{
	static const char * const knobs[][2] = {
		{ "/sys/kernel/debug/failslab/ignore-gfp-wait", "N" },
		{ "/sys/kernel/debug/failslab/verbose", "0" },
	};
	char *cg = make_cgroup(root, "buffer_drm_limit");
	int ret = KSFT_FAIL, i;

	if (!cg)
		return KSFT_FAIL;
	for (i = 0; i < nr_gpus; i++)
		if (buffer_set_max(cg, gpus[i].device, "64K"))
			goto out;
	/*
	 * Where fault injection is built in (the debug kernel), also check
	 * that a refused buffer attempted no allocation at all.
	 */
	use_fail_nth = !access("/proc/thread-self/fail-nth", W_OK) &&
		       !buffer_write_file(knobs[0][0], knobs[0][1]) &&
		       !buffer_write_file(knobs[1][0], knobs[1][1]);
	if (!use_fail_nth)
		ksft_print_msg("no fail-nth: not checking that refusals allocate nothing\n");
	ret = run_on_each_gpu(cg, fill);
	if (use_fail_nth) {
		buffer_write_file(knobs[0][0], "Y");
		buffer_write_file(knobs[1][0], "2");
	}
out:
	remove_cgroup(cg);
	return ret;
}

static int export_and_transfer(const char *cgroup, void *arg)
{
	struct gpu *g = arg;
	char path[64], info[1024] = "", want[160], *target;
	int card = open(g->card, O_RDWR | O_CLOEXEC), handle, buf, target_fd;
	long size;

	target = cg_name(cgroup, "../buffer_drm_export_target");
	target_fd = target ? open(target, O_DIRECTORY | O_CLOEXEC) : -1;
	if (card < 0 || target_fd < 0)
		return 1;
	handle = dumb_create(card, 64, 64, &size);
	buf = handle < 0 ? -1 : prime_export(card, handle);
	if (buf < 0)
		return 2;
	snprintf(path, sizeof(path), "/proc/self/fdinfo/%d", buf);
	if (read_text(path, info, sizeof(info)) <= 0)
		return 3;
	snprintf(want, sizeof(want), "charge_device:\t%s\ncharge_cgroup:\t/buffer_drm_export\n",
		 g->device);
	if (!strstr(info, want)) {
		ksft_print_msg("fdinfo lacks \"%s\":\n%s", want, info);
		return 4;
	}
	if (transfer_charge(buf, target_fd))
		return 5;
	if (current_of(cgroup, g->device) != 0 || current_of(target, g->device) != size ||
	    buffer_value(target, "buffer.stat", g->device, "transfers_in") != 1)
		return 6;
	/* Freed, and uncharged, when both the handle and the dma-buf are gone. */
	close(buf);
	if (current_of(target, g->device) != size)
		return 7;
	close(card);
	return current_of(target, g->device) != 0 ? 8 : 0;
}

/* An exported buffer names its payer in fdinfo, and its charge moves. */
static int test_drm_export_transfer(const char *root)
{
	char *cg = make_cgroup(root, "buffer_drm_export");
	char *target = make_cgroup(root, "buffer_drm_export_target");
	int ret = KSFT_FAIL;

	if (cg && target)
		ret = run_on_each_gpu(cg, export_and_transfer);
	remove_cgroup(cg);
	remove_cgroup(target);
	return ret;
}

/* Imports of a @from buffer into @to: 0 if done, 1 if @to cannot, else failure. */
static int import_one(const char *cgroup, struct gpu *from, struct gpu *to)
{
	int from_card = open(from->card, O_RDWR | O_CLOEXEC);
	int to_card = open(to->card, O_RDWR | O_CLOEXEC);
	int handle, buf, imported;
	long size;

	if (from_card < 0 || to_card < 0)
		return 10;
	handle = dumb_create(from_card, 64, 64, &size);
	buf = handle < 0 ? -1 : prime_export(from_card, handle);
	if (buf < 0)
		return 11;
	imported = prime_import(to_card, buf);
	/*
	 * Not every pair can share: bochs neither imports nor lets others map
	 * its buffers, virtio-gpu imports only its own. No limit applies
	 * here, so ENOMEM would be a charge, and a failure.
	 */
	if (imported < 0 && imported != -ENOMEM) {
		ksft_print_msg("%s cannot import from %s: %s\n", to->driver,
			       from->driver, strerror(-imported));
		close(buf);
		close(from_card);
		close(to_card);
		return 1;
	}
	if (imported < 0)
		return 12;
	if (current_of(cgroup, from->device) != size ||
	    (to != from && current_of(cgroup, to->device) != 0))
		return 13;
	/* The importer alone keeps the buffer, and its one charge, alive. */
	close(buf);
	close(from_card);
	if (current_of(cgroup, from->device) != size ||
	    (to != from && current_of(cgroup, to->device) != 0))
		return 14;
	close(to_card);
	return current_of(cgroup, from->device) != 0 ? 15 : 0;
}

static int import_all(const char *cgroup, void *arg)
{
	int done = 0;

	for (int i = 0; i < nr_gpus; i++) {
		for (int j = 0; j < nr_gpus; j++) {
			int ret = import_one(cgroup, &gpus[i], &gpus[j]);

			if (ret > 1) {
				ksft_print_msg("%s -> %s\n", gpus[i].driver, gpus[j].driver);
				return ret;
			}
			if (!ret && i != j)
				done++;
		}
	}
	return done ? 0 : 20;
}

/* Importing a buffer into another device charges nothing again. */
static int test_drm_import(const char *root)
{
	char *cg = make_cgroup(root, "buffer_drm_import");
	int ret = KSFT_FAIL;

	if (cg && !cg_run(cg, import_all, NULL))
		ret = KSFT_PASS;
	remove_cgroup(cg);
	return ret;
}

static int dump_once(const char *cgroup, void *arg)
{
	int cards[MAX_GPUS], bufs[MAX_GPUS], vgem_card = -1;
	char cmd[128], line[1024];
	struct gpu *vgem = gpu_of("vgem");
	FILE *out;
	int i;

	for (i = 0; i < nr_gpus; i++) {
		int handle;

		cards[i] = open(gpus[i].card, O_RDWR | O_CLOEXEC);
		handle = cards[i] < 0 ? -1 : dumb_create(cards[i], 64, 64, NULL);
		bufs[i] = handle < 0 ? -1 : prime_export(cards[i], handle);
		if (bufs[i] < 0)
			return 1;
	}
	/* An imported buffer is still one buffer. */
	vgem_card = open(vgem->card, O_RDWR | O_CLOEXEC);
	for (i = 0; i < nr_gpus; i++)
		if (vgem_card >= 0 && &gpus[i] != vgem)
			prime_import(vgem_card, bufs[i]);

	snprintf(cmd, sizeof(cmd), "buffer-cg dump --pid %d -o csv", getpid());
	for (i = 0; i < nr_gpus; i++) {
		struct stat st;
		char prefix[32];
		int lines = 0;

		if (fstat(bufs[i], &st))
			return 2;
		snprintf(prefix, sizeof(prefix), "%lu,", (unsigned long)st.st_ino);
		out = popen(cmd, "r");
		if (!out)
			return 3;
		while (fgets(line, sizeof(line), out)) {
			if (strncmp(line, prefix, strlen(prefix)))
				continue;
			lines++;
			if (!strstr(line, gpus[i].device) || !strstr(line, ",/buffer_drm_dump,")) {
				ksft_print_msg("dump: %s", line);
				return 4;
			}
		}
		pclose(out);
		if (lines != 1) {
			ksft_print_msg("dump lists %s's buffer %d times\n", gpus[i].device, lines);
			return 5;
		}
	}
	return 0;
}

/* "buffer-cg dump" lists each buffer once, with its device and payer. */
static int test_drm_dump(const char *root)
{
	char *cg = make_cgroup(root, "buffer_drm_dump");
	int ret = KSFT_FAIL;

	if (cg && !cg_run(cg, dump_once, NULL))
		ret = KSFT_PASS;
	remove_cgroup(cg);
	return ret;
}

/*
 * How many framebuffers the fbdev emulation of DRM driver @driver has made,
 * from the kernel log: without FB_DEVICE there is no /proc/fb, nor fbN in
 * sysfs.
 */
static int fbdev_count(const char *driver)
{
	char line[512], what[64];
	FILE *log = popen("dmesg", "r");
	int n = 0;

	if (!log)
		return -1;
	snprintf(what, sizeof(what), " %sdrmfb frame buffer device", driver);
	while (fgets(line, sizeof(line), log))
		n += !!strstr(line, what);
	pclose(log);
	return n;
}

/* The fbdev emulation buffers, made at boot, are the root's. */
static int test_drm_fbdev_root(const char *root)
{
	static const char * const drivers[] = { "bochs-drm", "virtio_gpu" };

	for (int i = 0; i < 2; i++) {
		struct gpu *g = gpu_of(drivers[i]);

		if (!g || fbdev_count(g->driver) < 1) {
			ksft_print_msg("%s has no fbdev\n", drivers[i]);
			return KSFT_FAIL;
		}
		/* At least one 1024x768, 32 bpp framebuffer. */
		if (current_of(root, g->device) < 1024 * 768 * 4) {
			ksft_print_msg("root pays %ld for %s\n",
				       current_of(root, g->device), g->device);
			return KSFT_FAIL;
		}
	}
	return KSFT_PASS;
}

static int rebind(const char *cgroup, void *arg)
{
	const char *dev_name = arg;

	if (buffer_write_file(BOCHS_PCI_DRIVER "/unbind", dev_name))
		return 1;
	if (buffer_write_file(BOCHS_PCI_DRIVER "/bind", dev_name))
		return 2;
	return 0;
}

/*
 * bochs bound again from a cgroup whose buffer.max for it is 0: the probe
 * succeeds, and its fbdev buffer is charged to the root, not to the cgroup.
 */
static int test_drm_bind_from_limited_cgroup(const char *root)
{
	struct gpu *g = gpu_of("bochs-drm");
	char dev_name[64], device[80];
	int card, handle, held = -1, fbdevs, ret = KSFT_FAIL;
	char *cg;

	if (!g)
		return KSFT_FAIL;
	snprintf(dev_name, sizeof(dev_name), "%s", g->dev_name);
	snprintf(device, sizeof(device), "%s", g->device);
	cg = make_cgroup(root, "buffer_drm_bind");
	if (!cg || buffer_set_max(cg, device, "0"))
		goto out;

	/*
	 * A buffer held across the unbind keeps the device, and the limit
	 * users set on it, for the driver's next registration.
	 */
	card = open(g->card, O_RDWR | O_CLOEXEC);
	handle = card < 0 ? -1 : dumb_create(card, 64, 64, NULL);
	held = handle < 0 ? -1 : prime_export(card, handle);
	if (card >= 0)
		close(card);
	if (held < 0)
		goto out;

	fbdevs = fbdev_count("bochs-drm");
	if (cg_run(cg, rebind, dev_name)) {
		ksft_print_msg("unbind or bind of %s failed\n", dev_name);
		goto out;
	}
	g = find_gpus() ? NULL : gpu_of("bochs-drm");
	if (!g || strcmp(g->device, device)) {
		ksft_print_msg("%s did not come back\n", device);
		goto out;
	}
	if (buffer_value(cg, "buffer.max", device, NULL) != 0 ||
	    current_of(cg, device) != 0 ||
	    buffer_value(cg, "buffer.events.local", device, "max") != 0) {
		ksft_print_msg("the cgroup paid for, or was refused, the fbdev buffer\n");
		goto out;
	}
	if (fbdev_count("bochs-drm") != fbdevs + 1 ||
	    current_of(root, device) < 1024 * 768 * 4) {
		ksft_print_msg("no fbdev buffer charged to the root\n");
		goto out;
	}
	ret = KSFT_PASS;
out:
	if (held >= 0)
		close(held);
	remove_cgroup(cg);
	return ret;
}

#define T(x) { x, #x }
static const struct buffer_test tests[] = {
	T(test_drm_devices),
	T(test_drm_create_destroy),
	T(test_drm_limit),
	T(test_drm_export_transfer),
	T(test_drm_import),
	T(test_drm_dump),
	T(test_drm_fbdev_root),
	/* Last: the card numbers change. */
	T(test_drm_bind_from_limited_cgroup),
};

#undef T

int main(int argc, char **argv)
{
	find_gpus();
	return buffer_test_main(tests, ARRAY_SIZE(tests));
}
