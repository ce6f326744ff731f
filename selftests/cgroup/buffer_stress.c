// SPDX-License-Identifier: GPL-2.0
/*
 * Stress of the buffer cgroup controller: workers in a tree of cgroups
 * allocate (both heaps and vgem), close, pass buffers to each other and
 * transfer charges, while a chaos task changes limits, creates and removes
 * cgroups (some while buffers charged to them live on in the workers) and
 * migrates workers. Bounded in time. Then it checks that no
 * charge is left anywhere, that the ENOMEM refusals the workers saw are
 * exactly those the buffer.events files count, and that a cgroup whose limit
 * never changed never peaked above it.
 *
 * Phases: "orderly" (all of the above), "faults" (the same with slab and page
 * allocations failing at random in the workers, if fault injection is
 * available), "kill" (workers SIGKILLed mid-allocation). Counts are compared
 * only in the orderly phase: elsewhere a failure need not be a refusal.
 *
 * usage: buffer_stress [SECONDS-PER-PHASE] [WORKERS]
 */
#define _GNU_SOURCE

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/dma-buf.h>
#include <linux/dma-heap.h>
#include <drm/drm.h>
#include <drm/drm_mode.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "../kselftest.h"
#include "cgroup_util.h"
#include "buffer_util.h"

#define LEAVES 4
#define MAX_HELD 32
#define MAX_WORKERS 16

static const char * const devices[] = { "heap/system", "heap/reserved", "drm/vgem" };
#define NDEV 3

/* The tree: stress/{fixed,a/{a1,a2},b/b1}; workers live in the leaves. */
static const char * const groups[] = { "", "fixed", "a", "a/a1", "a/a2", "b", "b/b1" };
#define NGROUPS 7
static const char * const leaves[LEAVES] = { "fixed", "a/a1", "a/a2", "b/b1" };

static char top[PATH_MAX / 2];

/* Shared with the workers: what each saw. */
struct counts {
	long ops, allocs, refused[NDEV], transfers, transfers_refused, passed;
	long failed_other;
};

static struct counts *shared;
/* Set by the SIGTERM handler: sig_atomic_t is what a handler may write. */
static sig_atomic_t stopping;

static void on_term(int sig)
{
	stopping = 1;
}

static char *group_path(const char *name, char *buf, size_t size)
{
	snprintf(buf, size, "%s%s%s", top, *name ? "/" : "", name);
	return buf;
}

static int open_target(const char *leaf)
{
	char path[PATH_MAX];

	return open(group_path(leaf, path, sizeof(path)), O_DIRECTORY | O_RDONLY | O_CLOEXEC);
}

/* A vgem dumb buffer of about @len bytes, as a dma-buf fd, or -errno. */
static int allocate_vgem(size_t len, int card)
{
	struct drm_mode_create_dumb create = {
		.width = 1024, .height = (len + 4095) / 4096, .bpp = 32,
	};
	struct drm_prime_handle prime = { .flags = DRM_CLOEXEC | DRM_RDWR };
	struct drm_gem_close gem_close = { 0 };
	int ret;

	if (ioctl(card, DRM_IOCTL_MODE_CREATE_DUMB, &create))
		return -errno;
	prime.handle = create.handle;
	gem_close.handle = create.handle;
	ret = ioctl(card, DRM_IOCTL_PRIME_HANDLE_TO_FD, &prime) ? -errno : prime.fd;
	/* The dma-buf keeps the object, and its charge, alive. */
	ioctl(card, DRM_IOCTL_GEM_CLOSE, &gem_close);
	return ret;
}

/* One buffer from device @dev: a dma-buf fd, or -errno. */
static int allocate(int dev, size_t len, int card)
{
	if (dev < 2) {
		struct dma_heap_allocation_data data = {
			.len = len, .fd_flags = O_RDWR | O_CLOEXEC,
		};
		int heap = open(dev ? "/dev/dma_heap/reserved" : "/dev/dma_heap/system",
				O_RDONLY | O_CLOEXEC), ret;

		if (heap < 0)
			return -errno;
		ret = ioctl(heap, DMA_HEAP_IOCTL_ALLOC, &data) ? -errno : (int)data.fd;
		close(heap);
		return ret;
	}
	return allocate_vgem(len, card);
}

/* A worker: random operations until told to stop. */
static void worker(int id, int in, int out, unsigned int seed)
{
	struct counts *c = &shared[id];
	int held[MAX_HELD], nheld = 0, card = open("/dev/dri/card0", O_RDWR | O_CLOEXEC);

	signal(SIGTERM, on_term);
	srand(seed);
	while (!stopping) {
		int op = rand() % 100, fd;

		c->ops++;
		fd = buffer_recv_fd(in, MSG_DONTWAIT);
		if (fd >= 0 && nheld < MAX_HELD)
			held[nheld++] = fd;
		else if (fd >= 0)
			close(fd);

		if (op < 45 && nheld < MAX_HELD) {
			int dev = rand() % NDEV;
			/* CMA buffers stay small: ENOMEM must mean a limit. */
			size_t len = 4096 * (1 + rand() % (dev == 1 ? 16 : 128));

			fd = allocate(dev, len, card);
			if (fd >= 0) {
				held[nheld++] = fd;
				c->allocs++;
			} else if (fd == -ENOMEM) {
				c->refused[dev]++;
			} else {
				c->failed_other++;
			}
		} else if (op < 75 && nheld) {
			int i = rand() % nheld;

			close(held[i]);
			held[i] = held[--nheld];
		} else if (op < 85 && nheld) {
			int i = rand() % nheld;

			/* Hand it to a neighbour, which now holds it. */
			if (!buffer_send_fd(out, held[i], MSG_DONTWAIT)) {
				c->passed++;
				close(held[i]);
				held[i] = held[--nheld];
			}
		} else if (nheld) {
			struct dma_buf_transfer_charge arg = { 0 };
			int target = open_target(leaves[rand() % LEAVES]);

			if (target < 0)
				continue;
			arg.charge_fd = target;
			if (!ioctl(held[rand() % nheld], DMA_BUF_IOCTL_TRANSFER_CHARGE, &arg))
				c->transfers++;
			else if (errno == ENOMEM)
				c->transfers_refused++;
			else
				c->failed_other++;
			close(target);
		}
	}
	while (nheld)
		close(held[--nheld]);
	exit(0);
}

static void set_max(const char *group, const char *device, long bytes)
{
	char path[PATH_MAX], line[96];

	if (bytes < 0)
		snprintf(line, sizeof(line), "%s max", device);
	else
		snprintf(line, sizeof(line), "%s %ld", device, bytes);
	cg_write(group_path(group, path, sizeof(path)), "buffer.max", line);
}

/* The chaos task: limits, cgroups coming and going, migrations. */
static void chaos(pid_t *pids, int nworkers, time_t deadline, unsigned int seed)
{
	char path[PATH_MAX], extra[PATH_MAX];
	time_t report = time(NULL) + 5;
	int n = 0, removed = 0;

	srand(seed);
	while (time(NULL) < deadline) {
		int op = rand() % 4;

		/* A sign of life for the guest runner's silence watchdog. */
		if (time(NULL) >= report) {
			ksft_print_msg("%s: %d cgroups created and removed so far\n", __func__, n);
			report += 5;
		}

		if (op == 0) {
			/* Never "fixed": its limit is the invariant we check. */
			const char *g = groups[2 + rand() % (NGROUPS - 2)];

			set_max(g, devices[rand() % NDEV],
				rand() % 4 ? (long)(1 + rand() % 16) << 20 : -1);
		} else if (op == 1) {
			snprintf(extra, sizeof(extra), "%s/extra%d", top, n++ % 1000);
			if (!cg_create(extra)) {
				/* A buffer-less cgroup; it must leave cleanly. */
				usleep(1000);
				cg_destroy(extra);
			}
		} else if (op == 2) {
			/*
			 * A worker charges a new cgroup for a while, moves on,
			 * and the cgroup is removed under the buffers it paid
			 * for, which the worker keeps, passes and transfers.
			 * Never "fixed"'s workers, nor under "a", whose limit
			 * changes and whose refusals are counted by cgroup.
			 */
			int w = rand() % nworkers;
			char back[PATH_MAX];

			snprintf(extra, sizeof(extra), "%s/b/gone%d", top, n++ % 1000);
			if (!(w % LEAVES) || cg_create(extra))
				continue;
			if (!cg_enter(extra, pids[w])) {
				usleep(20000);
				cg_enter(group_path("b/b1", back, sizeof(back)), pids[w]);
			}
			/* rmdir, not cg_destroy(), which would kill a worker left inside. */
			if (rmdir(extra))
				ksft_print_msg("%s: rmdir %s: %s\n", __func__, extra,
					       strerror(errno));
			else
				removed++;
		} else {
			/* Migrate between the non-fixed leaves only. */
			int w = rand() % nworkers;

			if (w % LEAVES)
				cg_enter(group_path(leaves[1 + rand() % (LEAVES - 1)], path,
						    sizeof(path)), pids[w]);
		}
		usleep(2000);
	}
	ksft_print_msg("%s: %d cgroups created and removed, %d after a worker ran in them\n",
		       __func__, n, removed);
}

/* Runs one phase; returns 0 if the workers all ended. */
static int run_phase(int seconds, int nworkers, bool kill_workers, bool faults)
{
	pid_t pids[MAX_WORKERS];
	int socks[MAX_WORKERS][2], i;
	char path[PATH_MAX];

	memset(shared, 0, sizeof(*shared) * MAX_WORKERS);
	for (i = 0; i < nworkers; i++) {
		if (socketpair(AF_UNIX, SOCK_DGRAM, 0, socks[i]))
			return -1;
	}
	for (i = 0; i < nworkers; i++) {
		pids[i] = fork();
		if (pids[i] < 0)
			return -1;
		if (!pids[i]) {
			/* A ring: receive on our pair, send on the next one's. */
			int out = socks[(i + 1) % nworkers][0], in = socks[i][1];

			if (cg_enter_current(group_path(leaves[i % LEAVES], path, sizeof(path))))
				exit(1);
			if (faults) {
				char mif[64];
				int fd;

				snprintf(mif, sizeof(mif), "/proc/%d/make-it-fail", getpid());
				fd = open(mif, O_WRONLY);
				if (fd >= 0) {
					if (write(fd, "1", 1) != 1)
						exit(1);
					close(fd);
				}
			}
			worker(i, in, out, 1000 + i);
		}
	}
	chaos(pids, nworkers, time(NULL) + seconds, 42);
	for (i = 0; i < nworkers; i++)
		kill(pids[i], kill_workers ? SIGKILL : SIGTERM);
	for (i = 0; i < nworkers; i++)
		waitpid(pids[i], NULL, 0);
	for (i = 0; i < nworkers; i++) {
		close(socks[i][0]);
		close(socks[i][1]);
	}
	return 0;
}

static long group_value(const char *group, const char *file, const char *device,
			const char *key)
{
	char path[PATH_MAX];

	return buffer_value(group_path(group, path, sizeof(path)), file, device, key);
}

/*
 * Every cgroup of the tree, and the root, back at exactly 0. Buffers are
 * released asynchronously after the last close: wait a little for them.
 */
static int all_zero(const char *root, char *why, size_t size)
{
	for (int tries = 0; tries < 50; tries++) {
		bool zero = true;

		for (int d = 0; d < NDEV && zero; d++) {
			char rootval[4096];

			for (int g = 0; g < NGROUPS && zero; g++) {
				long v = group_value(groups[g], "buffer.current", devices[d], NULL);

				if (v != 0) {
					snprintf(why, size, "%s/%s current %ld", groups[g],
						 devices[d], v);
					zero = false;
				}
			}
			if (zero && !cg_read(root, "buffer.current", rootval, sizeof(rootval))) {
				char needle[80];

				snprintf(needle, sizeof(needle), "%s 0\n", devices[d]);
				if (!strstr(rootval, needle)) {
					snprintf(why, size, "root %s not 0", devices[d]);
					zero = false;
				}
			}
		}
		if (zero)
			return 1;
		usleep(100000);
	}
	return 0;
}

static int faults_available(void)
{
	return !access("/sys/kernel/debug/failslab/probability", W_OK) &&
	       !access("/sys/kernel/debug/fail_page_alloc/probability", W_OK);
}

static void set_faults(bool on)
{
	static const char * const dirs[] = {
		"/sys/kernel/debug/failslab/", "/sys/kernel/debug/fail_page_alloc/",
	};
	static const char * const files[] = {
		"task-filter", "probability", "interval", "times", "verbose",
	};
	static const char * const on_values[] = { "Y", "5", "1", "-1", "0" };
	static const char * const off_values[] = { "N", "0", "1", "0", "0" };

	for (int d = 0; d < 2; d++) {
		for (int f = 0; f < 5; f++) {
			char path[PATH_MAX];
			int fd;

			snprintf(path, sizeof(path), "%s%s", dirs[d], files[f]);
			fd = open(path, O_WRONLY);
			if (fd < 0)
				continue;
			if (write(fd, on ? on_values[f] : off_values[f],
				  strlen(on ? on_values[f] : off_values[f])) < 0)
				ksft_print_msg("%s: %s\n", path, strerror(errno));
			close(fd);
		}
	}
}

int main(int argc, char **argv)
{
	int seconds = argc > 1 ? atoi(argv[1]) : 10;
	int nworkers = argc > 2 ? atoi(argv[2]) : 4;
	long refused = 0, events = 0, ops = 0, allocs = 0, transfers = 0, passed = 0;
	char root[PATH_MAX], path[PATH_MAX], why[256] = "";
	long fixed_max = 4L << 20;

	ksft_print_header();
	ksft_set_plan(5);
	if (cg_find_unified_root(root, sizeof(root), NULL))
		ksft_exit_skip("cgroup v2 isn't mounted\n");
	if (nworkers < 2 || nworkers > MAX_WORKERS || seconds < 1)
		ksft_exit_fail_msg("usage: buffer_stress [SECONDS] [WORKERS 2..16]\n");
	shared = mmap(NULL, sizeof(*shared) * MAX_WORKERS, PROT_READ | PROT_WRITE,
		      MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (shared == MAP_FAILED)
		ksft_exit_fail_msg("mmap\n");

	if (snprintf(top, sizeof(top), "%s/buffer_stress", root) >= (int)sizeof(top))
		ksft_exit_fail_msg("cgroup root path too long\n");
	cg_write(root, "cgroup.subtree_control", "+buffer");
	for (int g = 0; g < NGROUPS; g++) {
		if (cg_create(group_path(groups[g], path, sizeof(path))))
			ksft_exit_fail_msg("cannot create %s\n", path);
		if (!strchr(groups[g], '/') && strcmp(groups[g], "fixed") &&
		    cg_write(path, "cgroup.subtree_control", "+buffer"))
			ksft_exit_fail_msg("cannot enable buffer in %s\n", path);
	}
	for (int d = 0; d < NDEV; d++) {
		set_max("fixed", devices[d], fixed_max);
		set_max("a", devices[d], 8L << 20);
	}
	/* Keep the CMA area from running out before a limit refuses. */
	set_max("", "heap/reserved", 16L << 20);

	/* Phase 1: orderly. */
	run_phase(seconds, nworkers, false, false);
	for (int w = 0; w < nworkers; w++) {
		ops += shared[w].ops;
		allocs += shared[w].allocs;
		transfers += shared[w].transfers;
		passed += shared[w].passed;
		refused += shared[w].transfers_refused;
		for (int d = 0; d < NDEV; d++)
			refused += shared[w].refused[d];
	}
	for (int g = 0; g < NGROUPS; g++)
		for (int d = 0; d < NDEV; d++)
			events += group_value(groups[g], "buffer.events.local", devices[d], "max");
	ksft_print_msg("orderly: %ld operations, %ld allocations, %ld passed, %ld transfers,\n",
		       ops, allocs, passed, transfers);
	ksft_print_msg("orderly: %ld refused\n", refused);
	ksft_test_result(all_zero(root, why, sizeof(why)),
			 "orderly: every buffer.current back to 0 %s\n", why);
	ksft_test_result(refused == events,
			 "orderly: ENOMEM seen (%ld) == buffer.events.local max (%ld)\n",
			 refused, events);
	{
		bool ok = true;

		for (int d = 0; d < NDEV; d++)
			ok &= group_value("fixed", "buffer.peak", devices[d], NULL) <= fixed_max;
		ksft_test_result(ok, "orderly: the fixed cgroup never peaked above its max\n");
	}

	/* Phase 2: allocations failing at random in the workers. */
	if (faults_available()) {
		long failed = 0;

		set_faults(true);
		run_phase(seconds, nworkers, false, true);
		set_faults(false);
		ops = 0;
		for (int w = 0; w < nworkers; w++) {
			ops += shared[w].ops;
			failed += shared[w].failed_other + shared[w].transfers_refused;
			for (int d = 0; d < NDEV; d++)
				failed += shared[w].refused[d];
		}
		ksft_print_msg("faults: %ld operations, %ld failed (injected or refused)\n",
			       ops, failed);
		why[0] = '\0';
		ksft_test_result(all_zero(root, why, sizeof(why)),
				 "faults: every buffer.current back to 0 %s\n", why);
	} else {
		ksft_test_result_skip("faults: no failslab/fail_page_alloc in debugfs\n");
	}

	/* Phase 3: workers SIGKILLed mid-operation. */
	run_phase(seconds, nworkers, true, false);
	ops = 0;
	for (int w = 0; w < nworkers; w++)
		ops += shared[w].ops;
	ksft_print_msg("kill: %ld operations, then %d workers killed\n", ops, nworkers);
	why[0] = '\0';
	ksft_test_result(all_zero(root, why, sizeof(why)),
			 "kill: every buffer.current back to 0 %s\n", why);

	for (int g = NGROUPS - 1; g >= 0; g--)
		cg_destroy(group_path(groups[g], path, sizeof(path)));
	ksft_finished();
}
