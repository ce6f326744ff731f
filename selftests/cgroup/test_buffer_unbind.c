// SPDX-License-Identifier: GPL-2.0
/*
 * A DRM driver unbound and bound again while processes create and destroy
 * dumb buffers on it: each unbind unregisters the device from the buffer
 * controller while charges are being taken, and each bind registers it
 * again. Run on a debug kernel (KASAN, lockdep), a charge that reads freed
 * device state is a report; here, every buffer's charge must come back.
 * One buffer is held throughout, so that the device's state lives through
 * every unbind and is taken back by every bind: what the churn charged and
 * did not give back would stay in it.
 *
 * usage: test_buffer_unbind [SECONDS]   (default 20)
 */
#define _GNU_SOURCE

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <drm/drm.h>
#include <drm/drm_mode.h>

#include "../kselftest.h"
#include "cgroup_util.h"
#include "buffer_util.h"

#define WORKERS 3

struct gpu {
	char card[PATH_MAX];	/* /dev/dri/cardN */
	char pci[64];		/* its PCI address: the driver's device */
	char driver[PATH_MAX];	/* /sys/bus/pci/drivers/<driver> */
	char device[80];	/* drm/<pci address> */
};

/* The last component of the link /sys/class/drm/<card>/<link>, or NULL. */
static const char *card_link(const char *card, const char *link, char *buf,
			     size_t size)
{
	char path[PATH_MAX];
	ssize_t n;

	snprintf(path, sizeof(path), "/sys/class/drm/%s/%s", card, link);
	n = readlink(path, buf, size - 1);
	if (n < 0)
		return NULL;
	buf[n] = 0;
	return strrchr(buf, '/') + 1;
}

/*
 * The first DRM card on a PCI device that has a driver bound, or the one
 * on @gpu->pci if that is set.
 */
static int find_gpu(struct gpu *gpu)
{
	char buf[PATH_MAX];
	const char *bus, *pci, *driver;
	DIR *dir = opendir("/sys/class/drm");
	struct dirent *d;
	int found = -1;

	for (d = dir ? readdir(dir) : NULL; d && found; d = readdir(dir)) {
		if (strncmp(d->d_name, "card", 4) || strchr(d->d_name, '-'))
			continue;
		bus = card_link(d->d_name, "device/subsystem", buf, sizeof(buf));
		if (!bus || strcmp(bus, "pci"))
			continue;
		pci = card_link(d->d_name, "device", buf, sizeof(buf));
		if (!pci || (gpu->pci[0] && strcmp(pci, gpu->pci)))
			continue;
		snprintf(gpu->pci, sizeof(gpu->pci), "%s", pci);
		driver = card_link(d->d_name, "device/driver", buf, sizeof(buf));
		if (!driver)
			continue;
		snprintf(gpu->driver, sizeof(gpu->driver), "/sys/bus/pci/drivers/%s", driver);
		snprintf(gpu->card, sizeof(gpu->card), "/dev/dri/%s", d->d_name);
		snprintf(gpu->device, sizeof(gpu->device), "drm/%s", gpu->pci);
		found = 0;
	}
	if (dir)
		closedir(dir);
	return found;
}

static int write_sysfs(const char *dir, const char *file, const char *text)
{
	char path[PATH_MAX];
	int fd, ret;

	snprintf(path, sizeof(path), "%s/%s", dir, file);
	fd = open(path, O_WRONLY);
	if (fd < 0)
		return -errno;
	ret = write(fd, text, strlen(text)) < 0 ? -errno : 0;
	close(fd);
	return ret;
}

struct counts {
	long created, refused;
	long held;		/* the size of the buffer held throughout */
};

/*
 * Create and destroy dumb buffers until stopped, opening the card again
 * whenever it went away; count what worked in @shared.
 */
static void churn(const char *card, struct counts *shared)
{
	struct drm_mode_destroy_dumb destroy;
	int fd = -1, handle;

	for (;;) {
		if (fd < 0) {
			fd = open(card, O_RDWR | O_CLOEXEC);
			if (fd < 0) {
				usleep(1000);
				continue;
			}
		}
		handle = dumb_create(fd, 64, 64, NULL);
		if (handle < 0) {
			__atomic_add_fetch(&shared->refused, 1, __ATOMIC_RELAXED);
			close(fd);
			fd = -1;
			continue;
		}
		__atomic_add_fetch(&shared->created, 1, __ATOMIC_RELAXED);
		destroy.handle = handle;
		ioctl(fd, DRM_IOCTL_MODE_DESTROY_DUMB, &destroy);
	}
}

static int churn_in_cgroup(const char *cgroup, void *arg)
{
	struct gpu *gpu = ((void **)arg)[0];

	churn(gpu->card, ((void **)arg)[1]);
	return 0;
}

/* Create one dumb buffer and hold it until killed; -1 if it cannot. */
static int hold_in_cgroup(const char *cgroup, void *arg)
{
	struct gpu *gpu = ((void **)arg)[0];
	struct counts *shared = ((void **)arg)[1];
	int fd = open(gpu->card, O_RDWR | O_CLOEXEC);
	long size;

	if (fd < 0 || dumb_create(fd, 64, 64, &size) < 0)
		return -1;
	__atomic_store_n(&shared->held, size, __ATOMIC_RELEASE);
	for (;;)
		pause();
}

int main(int argc, char **argv)
{
	int seconds = argc > 1 ? atoi(argv[1]) : 20, cycles = 0, i, ret;
	struct counts *shared;
	char root[PATH_MAX], *cg;
	struct gpu gpu = { 0 }, again = { 0 };
	pid_t workers[WORKERS], holder;
	void *args[2];
	time_t end;
	long current;

	ksft_print_header();
	ksft_set_plan(5);
	if (cg_find_unified_root(root, sizeof(root), NULL))
		ksft_exit_skip("cgroup v2 isn't mounted\n");
	if (find_gpu(&gpu))
		ksft_exit_fail_msg("no DRM card on a PCI device with a driver\n");
	ksft_print_msg("%s (%s), driver %s\n", gpu.card, gpu.device, gpu.driver);

	cg = cg_name(root, "buffer_test_unbind");
	shared = mmap(NULL, sizeof(*shared), PROT_READ | PROT_WRITE,
		      MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (!cg || cg_create(cg) || shared == MAP_FAILED)
		ksft_exit_fail_msg("no cgroup or shared memory\n");
	args[0] = &gpu;
	args[1] = shared;
	holder = cg_run_nowait(cg, hold_in_cgroup, args);
	for (i = 0; holder > 0 && i < 1000; i++) {
		if (__atomic_load_n(&shared->held, __ATOMIC_ACQUIRE))
			break;
		usleep(10000);
	}
	if (holder <= 0 || !shared->held)
		ksft_exit_fail_msg("no dumb buffer to hold on %s\n", gpu.card);
	for (i = 0; i < WORKERS; i++)
		workers[i] = cg_run_nowait(cg, churn_in_cgroup, args);

	end = time(NULL) + seconds;
	while (time(NULL) < end) {
		ret = write_sysfs(gpu.driver, "unbind", gpu.pci);
		if (ret)
			ksft_exit_fail_msg("unbind %s: %s\n", gpu.pci, strerror(-ret));
		usleep(20000);
		ret = write_sysfs(gpu.driver, "bind", gpu.pci);
		if (ret)
			ksft_exit_fail_msg("bind %s: %s\n", gpu.pci, strerror(-ret));
		cycles++;
		usleep(50000);
	}
	for (i = 0; i < WORKERS; i++) {
		if (workers[i] > 0)
			kill(workers[i], SIGKILL);
		waitpid(workers[i], NULL, 0);
	}

	ksft_print_msg("%d unbind/bind cycles, %ld buffers created, %ld refused\n",
		       cycles, shared->created, shared->refused);
	ksft_test_result(cycles > 0, "the driver was unbound and bound again\n");
	ksft_test_result(shared->created > 0, "buffers were created meanwhile\n");
	/* The last bind registered the device again, under the same name. */
	/* Under the same PCI address, maybe as another card. */
	snprintf(again.pci, sizeof(again.pci), "%s", gpu.pci);
	ksft_test_result(!find_gpu(&again), "the card is back\n");
	current = buffer_value(cg, "buffer.current", gpu.device, NULL);
	ksft_test_result(current == shared->held,
			 "the held buffer's charge alone is left (current %ld, held %ld)\n",
			 current, shared->held);
	kill(holder, SIGKILL);
	waitpid(holder, NULL, 0);
	current = buffer_value(cg, "buffer.current", gpu.device, NULL);
	ksft_test_result(current == 0,
			 "every buffer's charge came back (current %ld)\n", current);
	cg_destroy(cg);
	free(cg);
	ksft_finished();
}
