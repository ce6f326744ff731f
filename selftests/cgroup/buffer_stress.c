// SPDX-License-Identifier: GPL-2.0
/*
 * Stress of the buffer cgroup controller: workers in a tree of cgroups
 * allocate (both heaps and vgem), close, pass buffers to each other and
 * transfer charges, while a chaos task changes limits, creates and removes
 * cgroups (some while buffers charged to them live on in the workers) and
 * migrates workers. Bounded in time. Twice per orderly phase every worker
 * pauses holding its buffers (none left in flight), and each cgroup's
 * buffer.current, ancestors and root included, must be exactly the sum of
 * the sizes of the buffers charged to its subtree (by their fdinfo). After
 * each phase no charge may be left anywhere, and every worker must have
 * set up (vgem opened, cgroup entered) and exited as told. After the orderly
 * phase the ENOMEM refusals the workers saw must be exactly those the
 * buffer.events files count, and the cgroup whose limit never changes must
 * have peaked within one buffer of its max, never above.
 *
 * Phases: "orderly" (all of the above), "faults" (the same with slab and page
 * allocations failing at random in the workers: fault injection must be
 * there, and must have failed some calls), "kill" (workers SIGKILLed
 * mid-allocation). Every phase must see successes of every kind it is
 * about, or it proves nothing. Refusals are compared only in the orderly
 * phase: elsewhere a failure need not be a refusal.
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
#include <dirent.h>
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

/*
 * The fixed cgroup's limits, low enough that its workers reach them: a
 * refusal there shows its peak within one buffer (the largest a worker asks
 * for, per device) of its max.
 */
static const long fixed_max[NDEV] = { 1L << 20, 128L << 10, 1L << 20 };
static const long largest[NDEV] = { 128 * 4096, 16 * 4096, 128 * 4096 };

static char top[PATH_MAX / 2], root[PATH_MAX];

/* Shared with the workers: what each saw. */
struct counts {
	long ops, allocs, refused[NDEV], transfers, transfers_refused, passed;
	long failed_other;
};

/*
 * The hold handshake, shared: the parent sets stage HOLD_PAUSE; each worker
 * stops and counts itself in paused; then HOLD_DRAIN: each takes in what
 * was in flight to it and counts itself in drained; then HOLD_NONE resumes.
 */
enum { HOLD_NONE, HOLD_PAUSE, HOLD_DRAIN };
struct hold {
	int stage, paused, drained;
};

static struct counts *shared;
static struct hold *hold;
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
	int handle = dumb_create(card, 1024, (len + 4095) / 4096, NULL), ret;

	if (handle < 0)
		return handle;
	ret = prime_export(card, handle);
	/* The dma-buf keeps the object, and its charge, alive. */
	gem_close(card, handle);
	return ret;
}

/* One buffer from device @dev: a dma-buf fd, or -errno. */
static int allocate(int dev, size_t len, int card)
{
	if (dev < 2)
		return buffer_heap_alloc(dev ? "reserved" : "system", len);
	return allocate_vgem(len, card);
}

/* Keep a received buffer, or release it if the hands are full. */
static void take(int fd, int *held, int *nheld)
{
	if (fd >= 0 && *nheld < MAX_HELD)
		held[(*nheld)++] = fd;
	else if (fd >= 0)
		close(fd);
}

static int hold_stage(void)
{
	return __atomic_load_n(&hold->stage, __ATOMIC_ACQUIRE);
}

/* The worker's side of the hold handshake; see struct hold. */
static void hold_still(int in, int *held, int *nheld)
{
	int fd;

	__atomic_add_fetch(&hold->paused, 1, __ATOMIC_ACQ_REL);
	while (hold_stage() == HOLD_PAUSE && !stopping)
		usleep(1000);
	if (hold_stage() != HOLD_DRAIN)
		return;
	/* Nobody sends now: whatever is in flight to us is all there is. */
	while ((fd = buffer_recv_fd(in, MSG_DONTWAIT)) >= 0)
		take(fd, held, nheld);
	__atomic_add_fetch(&hold->drained, 1, __ATOMIC_ACQ_REL);
	while (hold_stage() == HOLD_DRAIN && !stopping)
		usleep(1000);
}

/* A worker: random operations on vgem's @card and the heaps until told to stop. */
static void worker(int id, int in, int out, int card, unsigned int seed)
{
	struct counts *c = &shared[id];
	int held[MAX_HELD], nheld = 0;

	signal(SIGTERM, on_term);
	srand(seed);
	while (!stopping) {
		int op = rand() % 100, fd;

		if (hold_stage() == HOLD_PAUSE) {
			hold_still(in, held, &nheld);
			continue;
		}
		c->ops++;
		take(buffer_recv_fd(in, MSG_DONTWAIT), held, &nheld);

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
			int target = open_target(leaves[rand() % LEAVES]), ret;

			if (target < 0)
				continue;
			ret = transfer_charge(held[rand() % nheld], target);
			if (!ret)
				c->transfers++;
			else if (ret == -ENOMEM)
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

/* Write @group's limit for @device (-1: max); 0 or -1, with a message. */
static int set_max(const char *group, const char *device, long bytes)
{
	char path[PATH_MAX], line[96];

	if (bytes < 0)
		snprintf(line, sizeof(line), "%s max", device);
	else
		snprintf(line, sizeof(line), "%s %ld", device, bytes);
	if (!cg_write(group_path(group, path, sizeof(path)), "buffer.max", line))
		return 0;
	ksft_print_msg("%s/buffer.max: '%s': %s\n", path, line, strerror(errno));
	return -1;
}

/*
 * The chaos task: limits, cgroups coming and going, migrations, until
 * @deadline. Return: how many of its writes failed (none should).
 */
static int chaos(pid_t *pids, int nworkers, time_t deadline)
{
	char path[PATH_MAX], extra[PATH_MAX];
	time_t report = time(NULL) + 5;
	static int n, removed;
	int failed = 0;

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

			failed -= set_max(g, devices[rand() % NDEV],
					  rand() % 4 ? (long)(1 + rand() % 16) << 20 : -1);
		} else if (op == 1) {
			snprintf(extra, sizeof(extra), "%s/extra%d", top, n++ % 1000);
			if (!cg_create(extra)) {
				/* A buffer-less cgroup; it must leave cleanly. */
				usleep(1000);
				failed -= cg_destroy(extra) ? 1 : 0;
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
				if (cg_enter(group_path("b/b1", back, sizeof(back)), pids[w])) {
					ksft_print_msg("%s: worker %d back to b/b1: %s\n", __func__,
						       w, strerror(errno));
					failed++;
				}
			} else {
				ksft_print_msg("%s: worker %d into %s: %s\n", __func__, w, extra,
					       strerror(errno));
				failed++;
			}
			/* rmdir, not cg_destroy(), which would kill a worker left inside. */
			if (rmdir(extra)) {
				ksft_print_msg("%s: rmdir %s: %s\n", __func__, extra,
					       strerror(errno));
				failed++;
			} else {
				removed++;
			}
		} else {
			/* Migrate between the non-fixed leaves only. */
			int w = rand() % nworkers;

			if (w % LEAVES &&
			    cg_enter(group_path(leaves[1 + rand() % (LEAVES - 1)], path,
						sizeof(path)), pids[w])) {
				ksft_print_msg("%s: migrating worker %d: %s\n", __func__, w,
					       strerror(errno));
				failed++;
			}
		}
		usleep(2000);
	}
	ksft_print_msg("%s: %d cgroups created and removed, %d after a worker ran in them\n",
		       __func__, n, removed);
	return failed;
}

/* A cgroup's path as fdinfo's charge_cgroup prints it: from the mount. */
static const char *rel_path(const char *group, char *buf, size_t size)
{
	char path[PATH_MAX];

	snprintf(buf, size, "%s", group_path(group, path, sizeof(path)) + strlen(root));
	return buf;
}

static bool in_subtree(const char *cgroup, const char *subtree)
{
	size_t len = strlen(subtree);

	return !strncmp(cgroup, subtree, len) && (cgroup[len] == '/' || !cgroup[len]);
}

/* Scan the value after @key in @info with @fmt into @out; 1 if found. */
static int field(const char *info, const char *key, const char *fmt, void *out)
{
	const char *p = strstr(info, key);

	return p && sscanf(p + strlen(key), fmt, out) == 1;
}

/*
 * The buffers the paused workers hold, from their fdinfo, added to @held
 * (per group of groups[], then the root, per device). Return: how many, or
 * -1 if one could not be read or carries no charge.
 */
static long add_held(pid_t pid, long held[NGROUPS + 1][NDEV])
{
	char dir[64], path[PATH_MAX], info[4096], cgroup[PATH_MAX], device[64], rel[PATH_MAX];
	struct dirent *e;
	long n = 0;
	DIR *d;

	snprintf(dir, sizeof(dir), "/proc/%d/fdinfo", pid);
	d = opendir(dir);
	if (!d)
		return -1;
	while ((e = readdir(d))) {
		unsigned long size = 0;
		int dev;

		if (e->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
		if (read_text(path, info, sizeof(info)) < 0) {
			n = -1;
			break;
		}
		if (!strstr(info, "\nexp_name:"))
			continue;	/* not a dma-buf */
		if (!field(info, "\nsize:", " %lu", &size) ||
		    !field(info, "\ncharge_device:", " %63s", device) ||
		    !field(info, "\ncharge_cgroup:", " %4095s", cgroup)) {
			ksft_print_msg("worker %d fd %s: a dma-buf without a charge:\n%s",
				       pid, e->d_name, info);
			n = -1;
			break;
		}
		for (dev = 0; dev < NDEV && strcmp(device, devices[dev]); dev++)
			;
		if (dev == NDEV) {
			ksft_print_msg("worker %d fd %s: unknown device %s\n", pid, e->d_name,
				       device);
			n = -1;
			break;
		}
		for (int g = 0; g < NGROUPS; g++)
			if (in_subtree(cgroup, rel_path(groups[g], rel, sizeof(rel))))
				held[g][dev] += size;
		held[NGROUPS][dev] += size;
		n++;
	}
	closedir(d);
	return n;
}

/* Wait up to 30 s for @count workers to reach @field of the handshake. */
static bool hold_wait(int *field, int count)
{
	for (int i = 0; i < 30000; i++) {
		if (__atomic_load_n(field, __ATOMIC_ACQUIRE) >= count)
			return true;
		usleep(1000);
	}
	return false;
}

/*
 * Pause every worker holding its buffers, none in flight, and compare the
 * sum of what they hold with buffer.current of every cgroup of the tree and
 * of the root. Return: 0 if equal everywhere, with *@nheld set.
 */
static int hold_check(pid_t *pids, int nworkers, long *nheld)
{
	long held[NGROUPS + 1][NDEV] = { 0 };
	int ret = 0;

	*nheld = 0;
	__atomic_store_n(&hold->stage, HOLD_PAUSE, __ATOMIC_RELEASE);
	if (!hold_wait(&hold->paused, nworkers)) {
		ksft_print_msg("hold: only %d of %d workers paused\n", hold->paused, nworkers);
		ret = -1;
		goto resume;
	}
	__atomic_store_n(&hold->stage, HOLD_DRAIN, __ATOMIC_RELEASE);
	if (!hold_wait(&hold->drained, nworkers)) {
		ksft_print_msg("hold: only %d of %d workers drained\n", hold->drained, nworkers);
		ret = -1;
		goto resume;
	}
	for (int w = 0; w < nworkers; w++) {
		long n = add_held(pids[w], held);

		if (n < 0) {
			ret = -1;
			goto resume;
		}
		*nheld += n;
	}
	for (int g = 0; g <= NGROUPS; g++)
		for (int d = 0; d < NDEV; d++) {
			char path[PATH_MAX];
			const char *cg = root;
			long cur;

			if (g < NGROUPS)
				cg = group_path(groups[g], path, sizeof(path));
			cur = buffer_value(cg, "buffer.current", devices[d], NULL);

			if (cur != held[g][d]) {
				ksft_print_msg("hold: %s %s current %ld, the workers hold %ld\n",
					       cg, devices[d], cur, held[g][d]);
				ret = -1;
			}
		}
resume:
	hold->paused = 0;
	hold->drained = 0;
	__atomic_store_n(&hold->stage, HOLD_NONE, __ATOMIC_RELEASE);
	return ret;
}

/* What a phase saw, beyond the workers' own counts. */
struct phase {
	int setup_failed;	/* a worker could not start: vgem, cgroup, fault */
	int bad_exits;		/* a worker that did not end as told */
	int chaos_failed;	/* writes of the chaos task that failed */
	int holds, holds_failed;
	long held;		/* buffers held at the hold checks */
};

/*
 * Runs one phase: the workers, chaos, and in the orderly phase (@holds)
 * hold checks halfway and at the end. Returns 0 if it could run at all.
 */
static int run_phase(int seconds, int nworkers, bool kill_workers, bool faults, bool holds,
		     struct phase *ph)
{
	pid_t pids[MAX_WORKERS];
	int socks[MAX_WORKERS][2], i;
	char path[PATH_MAX];
	time_t start = time(NULL);

	memset(ph, 0, sizeof(*ph));
	memset(shared, 0, sizeof(*shared) * MAX_WORKERS);
	memset(hold, 0, sizeof(*hold));
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
			/* Before make-it-fail: setting up is not what may fail. */
			int card = open("/dev/dri/card0", O_RDWR | O_CLOEXEC);

			if (card < 0) {
				ksft_print_msg("worker %d: /dev/dri/card0: %s\n", i,
					       strerror(errno));
				exit(2);
			}
			if (cg_enter_current(group_path(leaves[i % LEAVES], path, sizeof(path))))
				exit(2);
			if (faults) {
				char mif[64];
				int fd;

				snprintf(mif, sizeof(mif), "/proc/%d/make-it-fail", getpid());
				fd = open(mif, O_WRONLY);
				if (fd < 0 || write(fd, "1", 1) != 1) {
					ksft_print_msg("worker %d: %s: %s\n", i, mif,
						       strerror(errno));
					exit(2);
				}
				close(fd);
			}
			worker(i, in, out, card, 1000 + i);
		}
	}
	for (int slice = 1, slices = holds ? 2 : 1; slice <= slices; slice++) {
		long n;

		ph->chaos_failed += chaos(pids, nworkers, start + seconds * slice / slices);
		if (!holds)
			continue;
		ph->holds++;
		if (hold_check(pids, nworkers, &n))
			ph->holds_failed++;
		ph->held += n;
	}
	for (i = 0; i < nworkers; i++)
		kill(pids[i], kill_workers ? SIGKILL : SIGTERM);
	for (i = 0; i < nworkers; i++) {
		int status;

		if (waitpid(pids[i], &status, 0) != pids[i]) {
			ph->bad_exits++;
			continue;
		}
		if (WIFEXITED(status) && WEXITSTATUS(status) == 2) {
			ph->setup_failed++;
		} else if (kill_workers ? !WIFSIGNALED(status) || WTERMSIG(status) != SIGKILL :
					!WIFEXITED(status) || WEXITSTATUS(status)) {
			ksft_print_msg("worker %d: status %#x\n", i, status);
			ph->bad_exits++;
		}
	}
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

/* @device's buffer.current of the root, or -1. */
static long root_current(int d)
{
	return buffer_value(root, "buffer.current", devices[d], NULL);
}

/*
 * Every cgroup of the tree back at exactly 0, and the root at @base, what
 * it was before. Buffers are released asynchronously after the last close:
 * wait a little for them.
 */
static int all_back(const long base[NDEV], char *why, size_t size)
{
	for (int tries = 0; tries < 50; tries++) {
		bool back = true;

		for (int d = 0; d < NDEV && back; d++) {
			long v;

			for (int g = 0; g < NGROUPS && back; g++) {
				v = group_value(groups[g], "buffer.current", devices[d], NULL);
				if (v != 0) {
					snprintf(why, size, "%s/%s current %ld", groups[g],
						 devices[d], v);
					back = false;
				}
			}
			v = root_current(d);
			if (back && v != base[d]) {
				snprintf(why, size, "root %s current %ld, was %ld", devices[d], v,
					 base[d]);
				back = false;
			}
		}
		if (back)
			return 1;
		usleep(100000);
	}
	return 0;
}

/*
 * Fault injection in the workers only (task-filter and make-it-fail), of
 * every slab and page allocation, sleeping ones and order 0 included: by
 * default failslab and fail_page_alloc spare the allocations that may
 * sleep, which are nearly all of the ones buffers make. "times" counts down
 * each failure injected. Return: 0, or -1 if a file is missing or refused.
 */
#define FAULT_TIMES 1000000
static const char * const fault_dirs[] = {
	"/sys/kernel/debug/failslab/", "/sys/kernel/debug/fail_page_alloc/",
};

static int set_faults(bool on)
{
	static const struct {
		const char *file, *on, *off;
		bool page_alloc_only;
	} settings[] = {
		{ "task-filter", "Y", "N" },
		{ "probability", "5", "0" },
		{ "interval", "1", "1" },
		{ "times", "1000000", "-1" },	/* FAULT_TIMES */
		{ "verbose", "0", "0" },
		{ "ignore-gfp-wait", "N", "Y" },
		{ "ignore-gfp-highmem", "N", "Y", true },
		{ "min-order", "0", "1", true },
	};
	int ret = 0;

	for (int d = 0; d < 2; d++)
		for (size_t n = 0; n < ARRAY_SIZE(settings); n++) {
			/*
			 * Off in reverse: probability 0 before task-filter N,
			 * or every task, this one included, would fail too.
			 */
			size_t i = on ? n : ARRAY_SIZE(settings) - 1 - n;
			char path[PATH_MAX], value[16];

			if (settings[i].page_alloc_only && !d)
				continue;
			snprintf(path, sizeof(path), "%s%s", fault_dirs[d], settings[i].file);
			snprintf(value, sizeof(value), "%s", on ? settings[i].on : settings[i].off);
			if (write_text(path, value, strlen(value)) < 0) {
				ksft_print_msg("%s: '%s': %s\n", path, value, strerror(errno));
				ret = -1;
			}
		}
	return ret;
}

/* How many failures the two facilities injected since set_faults(true). */
static long faults_injected(void)
{
	long injected = 0;

	for (int d = 0; d < 2; d++) {
		char path[PATH_MAX], buf[32];

		snprintf(path, sizeof(path), "%stimes", fault_dirs[d]);
		if (read_text(path, buf, sizeof(buf)) < 0)
			return -1;
		injected += FAULT_TIMES - atol(buf);
	}
	return injected;
}

/* Sum of every cgroup's buffer.events.local max: the refusals counted. */
static long events_local(void)
{
	long events = 0;

	for (int g = 0; g < NGROUPS; g++)
		for (int d = 0; d < NDEV; d++) {
			long v = group_value(groups[g], "buffer.events.local", devices[d], "max");

			if (v < 0)
				return -1;
			events += v;
		}
	return events;
}

/* The workers' counts of the last phase, summed. */
static struct counts sum_counts(int nworkers, long *refused)
{
	struct counts sum = { 0 };

	*refused = 0;
	for (int w = 0; w < nworkers; w++) {
		sum.ops += shared[w].ops;
		sum.allocs += shared[w].allocs;
		sum.transfers += shared[w].transfers;
		sum.transfers_refused += shared[w].transfers_refused;
		sum.passed += shared[w].passed;
		sum.failed_other += shared[w].failed_other;
		*refused += shared[w].transfers_refused;
		for (int d = 0; d < NDEV; d++) {
			sum.refused[d] += shared[w].refused[d];
			*refused += shared[w].refused[d];
		}
	}
	return sum;
}

/* The verdicts every phase shares: its workers and chaos, then no charge left. */
static void phase_results(const char *name, const struct phase *ph, int nworkers,
			  const long base[NDEV])
{
	char why[256] = "";

	ksft_test_result(!ph->setup_failed && !ph->bad_exits && !ph->chaos_failed,
			 "%s: %d workers set up (vgem, cgroup%s) and ended as told, chaos's writes all succeeded (failed: %d setups, %d exits, %d writes)\n",
			 name, nworkers, strcmp(name, "faults") ? "" : ", make-it-fail",
			 ph->setup_failed, ph->bad_exits, ph->chaos_failed);
	ksft_test_result(all_back(base, why, sizeof(why)),
			 "%s: every buffer.current of the tree back to 0, the root's as before %s\n",
			 name, why);
}

int main(int argc, char **argv)
{
	int seconds = argc > 1 ? atoi(argv[1]) : 10;
	int nworkers = argc > 2 ? atoi(argv[2]) : 4;
	long refused, events, base[NDEV];
	char path[PATH_MAX];
	struct counts sum;
	struct phase ph;

	ksft_print_header();
	ksft_set_plan(12);
	if (cg_find_unified_root(root, sizeof(root), NULL))
		ksft_exit_fail_msg("cgroup v2 isn't mounted\n");
	if (nworkers < 2 || nworkers > MAX_WORKERS || seconds < 1)
		ksft_exit_fail_msg("usage: buffer_stress [SECONDS] [WORKERS 2..16]\n");
	shared = mmap(NULL, sizeof(*shared) * MAX_WORKERS + sizeof(*hold),
		      PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (shared == MAP_FAILED)
		ksft_exit_fail_msg("mmap\n");
	hold = (struct hold *)(shared + MAX_WORKERS);

	if (snprintf(top, sizeof(top), "%s/buffer_stress", root) >= (int)sizeof(top))
		ksft_exit_fail_msg("cgroup root path too long\n");
	if (cg_write(root, "cgroup.subtree_control", "+buffer"))
		ksft_exit_fail_msg("cannot enable buffer in the root\n");
	for (int g = 0; g < NGROUPS; g++) {
		if (cg_create(group_path(groups[g], path, sizeof(path))))
			ksft_exit_fail_msg("cannot create %s\n", path);
		if (!strchr(groups[g], '/') && strcmp(groups[g], "fixed") &&
		    cg_write(path, "cgroup.subtree_control", "+buffer"))
			ksft_exit_fail_msg("cannot enable buffer in %s\n", path);
	}
	for (int d = 0; d < NDEV; d++) {
		base[d] = root_current(d);
		if (base[d] < 0 || set_max("fixed", devices[d], fixed_max[d]) ||
		    set_max("a", devices[d], 8L << 20))
			ksft_exit_fail_msg("cannot read the root or set the limits\n");
	}
	/* Keep the CMA area from running out before a limit refuses. */
	if (set_max("", "heap/reserved", 16L << 20))
		ksft_exit_fail_msg("cannot set the limits\n");

	/* Phase 1: orderly, with hold checks. */
	srand(42);
	if (run_phase(seconds, nworkers, false, false, true, &ph))
		ksft_exit_fail_msg("cannot start the workers: %s\n", strerror(errno));
	sum = sum_counts(nworkers, &refused);
	events = events_local();
	ksft_print_msg("orderly: %ld operations, %ld allocations, %ld passed, %ld transfers,\n",
		       sum.ops, sum.allocs, sum.passed, sum.transfers);
	ksft_print_msg("orderly: %ld refused, %ld other failures\n", refused, sum.failed_other);
	phase_results("orderly", &ph, nworkers, base);
	ksft_test_result(sum.allocs > 0 && sum.passed > 0 && sum.transfers > 0 &&
			 sum.refused[0] > 0 && sum.refused[1] > 0 && sum.refused[2] > 0 &&
			 sum.transfers_refused > 0 && !sum.failed_other,
			 "orderly: successes of every kind: %ld allocations, %ld passed, %ld transfers, refusals %ld/%ld/%ld (system/reserved/vgem) and %ld of transfers, %ld other failures\n",
			 sum.allocs, sum.passed, sum.transfers, sum.refused[0], sum.refused[1],
			 sum.refused[2], sum.transfers_refused, sum.failed_other);
	ksft_test_result(ph.holds == 2 && !ph.holds_failed && ph.held > 0,
			 "orderly: while the workers held their buffers (%ld at %d checks), buffer.current of every cgroup and the root was their sum (%d checks failed)\n",
			 ph.held, ph.holds, ph.holds_failed);
	ksft_test_result(refused == events,
			 "orderly: ENOMEM seen (%ld) == buffer.events.local max (%ld)\n",
			 refused, events);
	{
		bool ok = true;

		for (int d = 0; d < NDEV; d++) {
			long peak = group_value("fixed", "buffer.peak", devices[d], NULL);

			ksft_print_msg("orderly: fixed %s peak %ld, max %ld\n", devices[d], peak,
				       fixed_max[d]);
			ok &= peak <= fixed_max[d] && peak > fixed_max[d] - largest[d];
		}
		ksft_test_result(ok,
				 "orderly: the fixed cgroup peaked within one buffer of its max, never above\n");
	}

	/* Phase 2: allocations failing at random in the workers. */
	if (!set_faults(true)) {
		long before = events_local(), injected, unexplained;

		run_phase(seconds, nworkers, false, true, false, &ph);
		injected = faults_injected();
		sum = sum_counts(nworkers, &refused);
		/* What the workers saw fail, less the refusals the limits counted. */
		unexplained = refused + sum.failed_other - (events_local() - before);
		ksft_print_msg("faults: %ld operations, %ld allocations, %ld failed\n",
			       sum.ops, sum.allocs, refused + sum.failed_other);
		ksft_print_msg("faults: %ld of them not refusals; %ld failures injected\n",
			       unexplained, injected);
		ksft_test_result(!set_faults(false) && injected > 0 && unexplained > 0 &&
				 sum.allocs > 0,
				 "faults: failures injected (%ld) and seen by the workers (%ld), allocations still made (%ld)\n",
				 injected, unexplained, sum.allocs);
		phase_results("faults", &ph, nworkers, base);
	} else {
		set_faults(false);
		ksft_test_result_fail("faults: fault injection cannot be set in debugfs\n");
		ksft_test_result_fail("faults: not run\n");
		ksft_test_result_fail("faults: not run\n");
	}

	/* Phase 3: workers SIGKILLed mid-operation. */
	run_phase(seconds, nworkers, true, false, false, &ph);
	sum = sum_counts(nworkers, &refused);
	ksft_print_msg("kill: %ld operations, then %d workers killed\n", sum.ops, nworkers);
	ksft_test_result(sum.allocs > 0, "kill: %ld allocations before the kill\n", sum.allocs);
	phase_results("kill", &ph, nworkers, base);

	for (int g = NGROUPS - 1; g >= 0; g--)
		cg_destroy(group_path(groups[g], path, sizeof(path)));
	ksft_finished();
}
