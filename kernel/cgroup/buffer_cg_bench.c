// SPDX-License-Identifier: GPL-2.0
/*
 * Benchmarks of the buffer controller's charge path, as a KUnit suite
 * included from buffer_cg_test.c (CONFIG_CGROUP_BUFFER_BENCHMARK). Each case
 * prints "bench: ..." lines with nanoseconds per charge+uncharge pair, the
 * median of BENCH_SAMPLES timed loops, and asserts nothing about time:
 * 'make bench' collects the lines into a table.
 *
 * Under the QEMU plugin tools/icount ('make bench-icount'), the depth and
 * devices cases also run each loop once between the plugin's marks, which
 * counts the instructions executed, and print "bench: icount ..." lines.
 *
 * The floor is the same loop on a bare page_counter chain of the same
 * depth, the root's counter included, as a controller that counts in the
 * root as well (misc, rdma) walks. This one leaves the root out.
 *
 * Copyright (C) 2026 The buffer_cg authors
 */

#include <linux/moduleparam.h>
#include <linux/sort.h>

#define BENCH_SAMPLES 7
#define BENCH_MAX_DEPTH 16
#define BENCH_MAX_DEVICES 1024
/* The charged size; the cost must not depend on it. */
#define BENCH_SIZE SZ_64K

/* buffer_cg.bench_iterations=, whichever object includes this file. */
#undef MODULE_PARAM_PREFIX
#define MODULE_PARAM_PREFIX "buffer_cg."

static unsigned int bench_iterations = 100000;
module_param(bench_iterations, uint, 0444);
MODULE_PARM_DESC(bench_iterations, "Charge+uncharge pairs per timed loop of the benchmark");

struct bench_result {
	u64 median, min, max;
};

static int bench_cmp_u64(const void *a, const void *b)
{
	u64 x = *(const u64 *)a, y = *(const u64 *)b;

	return x < y ? -1 : x > y;
}

/* Median, min and max of BENCH_SAMPLES samples; sorts them. */
static struct bench_result bench_summary(u64 *samples)
{
	sort(samples, BENCH_SAMPLES, sizeof(samples[0]), bench_cmp_u64, NULL);
	return (struct bench_result){
		.median = samples[BENCH_SAMPLES / 2], .min = samples[0],
		.max = samples[BENCH_SAMPLES - 1],
	};
}

/* BENCH_SAMPLES runs of @loop, in tenths of a ns per pair. */
static struct bench_result bench_run(u64 (*loop)(void *arg), void *arg)
{
	u64 samples[BENCH_SAMPLES];
	int i;

	loop(arg);	/* Warm the caches and create the pools. */
	for (i = 0; i < BENCH_SAMPLES; i++)
		samples[i] = loop(arg);
	return bench_summary(samples);
}

static void bench_print(struct kunit *test, const char *what, unsigned int depth,
			unsigned int devices, unsigned int cpus,
			struct bench_result r)
{
	kunit_info(test, "bench: %s depth=%u devices=%u cpus=%u ns=%llu.%llu min=%llu.%llu max=%llu.%llu\n",
		   what, depth, devices, cpus, r.median / 10, r.median % 10,
		   r.min / 10, r.min % 10, r.max / 10, r.max % 10);
}

/* The loop bodies; each returns tenths of a ns per pair. */
struct bench_charge {
	struct buffer_cg *cg;
	struct buffer_cg_device *dev;
	struct page_counter *counter;
	atomic_t *start;
	u64 tenths;
	struct completion done;
};

static u64 bench_elapsed(u64 start)
{
	return div_u64((ktime_get_ns() - start) * 10, bench_iterations);
}

static u64 bench_loop_charge(void *arg)
{
	struct bench_charge *b = arg;
	u64 start = ktime_get_ns();
	unsigned int i;

	for (i = 0; i < bench_iterations; i++) {
		if (buffer_cg_try_charge(b->cg, b->dev, BENCH_SIZE))
			return U64_MAX;
		buffer_cg_uncharge(b->cg, b->dev, BENCH_SIZE);
	}
	return bench_elapsed(start);
}

static u64 bench_loop_record(void *arg)
{
	struct bench_charge *b = arg;
	struct buffer_cg_record charge;
	u64 start = ktime_get_ns();
	unsigned int i;

	for (i = 0; i < bench_iterations; i++) {
		if (buffer_cg_charge(&charge, b->cg, b->dev, BENCH_SIZE))
			return U64_MAX;
		buffer_cg_charge_release(&charge);
	}
	return bench_elapsed(start);
}

static u64 bench_loop_page_counter(void *arg)
{
	struct bench_charge *b = arg;
	struct page_counter *fail;
	u64 start = ktime_get_ns();
	unsigned int i;

	for (i = 0; i < bench_iterations; i++) {
		if (!page_counter_try_charge(b->counter, BENCH_SIZE, &fail))
			return U64_MAX;
		page_counter_uncharge(b->counter, BENCH_SIZE);
	}
	return bench_elapsed(start);
}

static u64 bench_loop_percpu_ref(void *arg)
{
	struct percpu_ref *ref = arg;
	u64 start = ktime_get_ns();
	unsigned int i;

	for (i = 0; i < bench_iterations; i++) {
		percpu_ref_get(ref);
		percpu_ref_put(ref);
	}
	return bench_elapsed(start);
}

/*
 * One more run of @loop between the marks of the QEMU plugin tools/icount,
 * nopl 0x42554601(%rax) and nopl 0x42554602(%rax), which it counts the
 * instructions between; anywhere else they do nothing.
 */
static void bench_count(struct kunit *test, const char *what, u64 (*loop)(void *arg),
			struct bench_charge *b, unsigned int depth, unsigned int devices)
{
#ifdef CONFIG_X86_64
	asm volatile(".byte 0x0f, 0x1f, 0x80, 0x01, 0x46, 0x55, 0x42" ::: "memory");
	loop(b);
	asm volatile(".byte 0x0f, 0x1f, 0x80, 0x02, 0x46, 0x55, 0x42" ::: "memory");
	kunit_info(test, "bench: icount %s depth=%u devices=%u iterations=%u\n",
		   what, depth, devices, bench_iterations);
#endif
}

/* A chain of @depth cgroups below a root; returns the deepest. */
static struct buffer_cg *bench_chain(struct kunit *test, struct buffer_cg **cgs,
				     unsigned int depth)
{
	unsigned int i;

	cgs[0] = test_cg_create(test, NULL);
	for (i = 1; i <= depth; i++)
		cgs[i] = test_cg_create(test, cgs[i - 1]);
	return cgs[depth];
}

static void bench_chain_free(struct buffer_cg **cgs, unsigned int depth)
{
	int i;

	for (i = depth; i >= 0; i--)
		test_cg_free(cgs[i]);
}

/*
 * Depth: a leaf @depth levels below the root, every level limited (so each
 * level's max is checked), against the floor of depth + 1 bare counters.
 */
static void buffer_cg_bench_depth(struct kunit *test)
{
	static const unsigned int depths[] = { 1, 4, 16 };
	struct buffer_cg_device dev = { .name = "kunit/bench" };
	struct page_counter *counters;
	struct buffer_cg *cgs[BENCH_MAX_DEPTH + 1];
	unsigned int d, i;

	counters = kunit_kcalloc(test, BENCH_MAX_DEPTH + 1, sizeof(*counters), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, counters);
	KUNIT_ASSERT_EQ(test, buffer_cg_register_device(&dev), 0);
	for (d = 0; d < ARRAY_SIZE(depths); d++) {
		unsigned int depth = depths[d];
		struct bench_charge b = { .dev = &dev };

		b.cg = bench_chain(test, cgs, depth);
		for (i = 1; i <= depth; i++)
			KUNIT_ASSERT_EQ(test, test_set_limits(cgs[i], "kunit/bench 1T"), 0);
		for (i = 0; i <= depth; i++) {
			page_counter_init(&counters[i], i ? &counters[i - 1] : NULL, false);
			page_counter_set_max(&counters[i], SZ_1T);
		}
		b.counter = &counters[depth];

		bench_print(test, "page_counter", depth, 0, 1,
			    bench_run(bench_loop_page_counter, &b));
		bench_print(test, "try_charge", depth, 1, 1,
			    bench_run(bench_loop_charge, &b));
		bench_print(test, "charge_record", depth, 1, 1,
			    bench_run(bench_loop_record, &b));
		bench_count(test, "page_counter", bench_loop_page_counter, &b, depth, 0);
		bench_count(test, "try_charge", bench_loop_charge, &b, depth, 1);
		bench_count(test, "charge_record", bench_loop_record, &b, depth, 1);
		KUNIT_EXPECT_EQ(test, test_current(cgs[0], &dev), 0);
		bench_chain_free(cgs, depth);
	}
	buffer_cg_unregister_device(&dev);
	test_wait_device_gone(test, "kunit/bench");
}

/*
 * Devices: the same charge at depth 4 with 1, 64 and 1024 devices
 * registered, each with a pool in the cgroup, charging the last one.
 */
static void buffer_cg_bench_devices(struct kunit *test)
{
	static const unsigned int counts[] = { 1, 64, BENCH_MAX_DEVICES };
	struct buffer_cg_device *devs;
	struct buffer_cg *cgs[5];
	char (*names)[16];
	unsigned int c, i, registered = 0;
	struct bench_charge b = {};

	devs = kunit_kcalloc(test, BENCH_MAX_DEVICES, sizeof(*devs), GFP_KERNEL);
	names = kunit_kcalloc(test, BENCH_MAX_DEVICES, sizeof(*names), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, devs);
	KUNIT_ASSERT_NOT_NULL(test, names);
	b.cg = bench_chain(test, cgs, 4);

	for (c = 0; c < ARRAY_SIZE(counts); c++) {
		for (; registered < counts[c]; registered++) {
			snprintf(names[registered], sizeof(names[0]), "kunit/dev%u",
				 registered);
			devs[registered].name = names[registered];
			KUNIT_ASSERT_EQ(test, buffer_cg_register_device(&devs[registered]), 0);
			/* Every device gets its pools along the chain. */
			KUNIT_ASSERT_EQ(test, buffer_cg_try_charge(b.cg, &devs[registered], 1), 0);
			buffer_cg_uncharge(b.cg, &devs[registered], 1);
		}
		b.dev = &devs[registered - 1];
		bench_print(test, "try_charge", 4, registered, 1,
			    bench_run(bench_loop_charge, &b));
		bench_count(test, "try_charge", bench_loop_charge, &b, 4, registered);
	}
	for (i = 0; i < registered; i++)
		buffer_cg_unregister_device(&devs[i]);
	test_wait_device_gone(test, names[registered - 1]);
	bench_chain_free(cgs, 4);
}

static int bench_cpu_fn(void *arg)
{
	struct bench_charge *b = arg;

	/*
	 * Start together, so that the loops overlap. The wait yields: on a
	 * kernel without preemption, a stop_machine() (a clocksource switch
	 * at boot, say) would otherwise wait for this CPU while the other
	 * thread waits for stop_machine(), and the boot hangs.
	 */
	atomic_dec(b->start);
	while (atomic_read(b->start))
		cond_resched();
	b->tenths = bench_loop_charge(b);
	complete(&b->done);
	return 0;
}

/*
 * CPUs: one, then two kthreads on different CPUs charging the same cgroup
 * (depth 4) and device at once; ns per pair as each thread sees it.
 */
static void buffer_cg_bench_cpus(struct kunit *test)
{
	struct buffer_cg_device dev = { .name = "kunit/bench" };
	struct bench_charge b[2];
	struct buffer_cg *cgs[5], *cg;
	unsigned int ncpus, i, s;
	atomic_t start;

	if (num_online_cpus() < 2)
		kunit_skip(test, "one CPU online: the two-CPU case needs two");
	KUNIT_ASSERT_EQ(test, buffer_cg_register_device(&dev), 0);
	cg = bench_chain(test, cgs, 4);

	for (ncpus = 1; ncpus <= 2; ncpus++) {
		u64 ns[BENCH_SAMPLES];

		for (s = 0; s < BENCH_SAMPLES; s++) {
			u64 sum = 0;

			atomic_set(&start, ncpus);
			for (i = 0; i < ncpus; i++) {
				struct task_struct *t;

				b[i] = (struct bench_charge){
					.cg = cg, .dev = &dev, .start = &start,
				};
				init_completion(&b[i].done);
				t = kthread_run_on_cpu(bench_cpu_fn, &b[i], i,
						       "buffer_cg_bench/%u");
				KUNIT_ASSERT_FALSE(test, IS_ERR(t));
			}
			for (i = 0; i < ncpus; i++) {
				wait_for_completion(&b[i].done);
				sum += b[i].tenths;
			}
			ns[s] = div_u64(sum, ncpus);
		}
		bench_print(test, "try_charge", 4, 1, ncpus, bench_summary(ns));
	}
	KUNIT_EXPECT_EQ(test, test_current(cgs[0], &dev), 0);
	buffer_cg_unregister_device(&dev);
	bench_chain_free(cgs, 4);
	test_wait_device_gone(test, "kunit/bench");
}

static void bench_percpu_ref_release(struct percpu_ref *ref)
{
}

/*
 * What a reference taken per buffer would cost. Records take none (their
 * pool holds the cgroup and the device), and this is why: the per-CPU update
 * is one instruction on x86, but an interrupt save and restore around a plain
 * one on architectures without per-CPU atomics, UML among them.
 */
static void buffer_cg_bench_percpu_ref(struct kunit *test)
{
	struct percpu_ref ref;

	KUNIT_ASSERT_EQ(test, percpu_ref_init(&ref, bench_percpu_ref_release, 0,
					      GFP_KERNEL), 0);
	bench_print(test, "percpu_ref", 0, 0, 1,
		    bench_run(bench_loop_percpu_ref, &ref));
	percpu_ref_exit(&ref);
}

static struct kunit_case buffer_cg_bench_cases[] = {
	KUNIT_CASE_SLOW(buffer_cg_bench_depth),
	KUNIT_CASE_SLOW(buffer_cg_bench_devices),
	KUNIT_CASE_SLOW(buffer_cg_bench_cpus),
	KUNIT_CASE_SLOW(buffer_cg_bench_percpu_ref),
	{}
};

static struct kunit_suite buffer_cg_bench_suite = {
	.name = "buffer_cg_bench",
	.test_cases = buffer_cg_bench_cases,
};

kunit_test_suite(buffer_cg_bench_suite);
