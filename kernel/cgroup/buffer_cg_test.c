// SPDX-License-Identifier: GPL-2.0
/*
 * KUnit tests of the buffer controller. They reach its internals through
 * buffer_cg_internal.h (what kunit/visibility.h makes visible to them),
 * build private cgroup trees out of bare struct buffer_cg (no cgroupfs),
 * and register devices named "kunit/...".
 *
 * Copyright (C) 2026 The buffer_cg authors
 */

#include <kunit/test.h>
#include <linux/completion.h>
#include <linux/cpu.h>
#include <linux/cred.h>
#include <linux/delay.h>
#include <linux/kernfs.h>
#include <linux/kthread.h>
#ifdef SERIES_MEMCG
#include <linux/memcontrol.h>
#endif
#include <linux/mount.h>
#include <linux/sched/task.h>
#include <linux/security.h>
#include <linux/sizes.h>
#include <linux/slab.h>
#include <linux/string.h>
#include <linux/xattr.h>

#include "buffer_cg_internal.h"

/* A cgroup outside cgroupfs: no refcount, freed by the test. */
static struct buffer_cg *test_cg_create(struct kunit *test,
					struct buffer_cg *parent)
{
	struct cgroup_subsys_state *css;

	css = buffer_cg_css_alloc(parent ? &parent->css : NULL);
	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, css);
	css->parent = parent ? &parent->css : NULL;
	css->flags |= CSS_NO_REF;
	KUNIT_ASSERT_EQ(test, buffer_cg_css_online(css), 0);
	return css_buffer_cg(css);
}

/* Let the queued drains of every CPU's stock run. */
static void test_stocks_flush(void)
{
	int cpu;

	for_each_possible_cpu(cpu)
		flush_work(&per_cpu_ptr(&buffer_cg_stock, cpu)->drain_work);
}

/* What rmdir does to a cgroup; idempotent. */
static void test_cg_offline(struct buffer_cg *cg)
{
	buffer_cg_css_offline(&cg->css);
}

/*
 * What the last reference on a removed cgroup does. A stock's references
 * would keep a real cgroup's references, and so delay this, until the
 * stock's drain ran: let it run first.
 */
static void test_cg_free(struct buffer_cg *cg)
{
	test_cg_offline(cg);
	test_stocks_flush();
	buffer_cg_css_free(&cg->css);
}

/* A registered device's state, for a test that keeps it registered. */
static struct buffer_cg_dev_state *test_state(struct buffer_cg_device *dev)
{
	return rcu_dereference_protected(dev->state, true);
}

/* What @read says of @cg's pool for @dev, as a file shows it: 0 if none. */
static long test_read_pool(struct buffer_cg *cg, struct buffer_cg_device *dev,
			   long (*read)(struct buffer_cg_pool *pool))
{
	struct buffer_cg_pool *pool;
	long value;

	mutex_lock(&buffer_cg_mutex);
	pool = buffer_cg_pool_lookup(cg, test_state(dev)->id);
	value = pool ? read(pool) : 0;
	mutex_unlock(&buffer_cg_mutex);
	return value;
}

static u64 test_current(struct buffer_cg *cg, struct buffer_cg_device *dev)
{
	return test_read_pool(cg, dev, buffer_cg_pool_current_locked);
}

static long test_buffers(struct buffer_cg *cg, struct buffer_cg_device *dev)
{
	return test_read_pool(cg, dev, buffer_cg_pool_buffers_locked);
}

static struct buffer_cg_pool *test_pool(struct buffer_cg *cg,
					struct buffer_cg_device *dev)
{
	struct buffer_cg_pool *pool;

	mutex_lock(&buffer_cg_mutex);
	pool = buffer_cg_pool_lookup(cg, test_state(dev)->id);
	mutex_unlock(&buffer_cg_mutex);
	return pool;
}

static int test_set_limits(struct buffer_cg *cg, const char *lines)
{
	char buf[128];

	strscpy(buf, lines);
	return buffer_cg_set_limits(cg, buf);
}

static bool test_device_listed(const char *name)
{
	bool found;

	mutex_lock(&buffer_cg_mutex);
	found = buffer_cg_dev_state_find_locked(name);
	mutex_unlock(&buffer_cg_mutex);
	return found;
}

/* The last put of an unregistered device tears it down asynchronously. */
static void test_wait_device_gone(struct kunit *test, const char *name)
{
	int i;

	for (i = 0; i < 500 && test_device_listed(name); i++) {
		rcu_barrier();
		msleep(20);
	}
	KUNIT_EXPECT_FALSE_MSG(test, test_device_listed(name),
			       "%s still listed", name);
}

static void buffer_cg_test_device_names(struct kunit *test)
{
	static const char * const bad[] = {
		"", "has space", "semi;colon", "new\nline", "tab\there",
		"eq=sign", "latin1-\xe9", "utf8-\xc3\xa9", "high-\x80",
		"0123456789012345678901234567890123456789012345678901234567890123",
	};
	/* As Android and device-tree heaps are named. */
	static const char * const android[] = {
		"kunit/linux,cma", "kunit/qcom,system", "kunit/mem@80000000",
		"kunit/a+b",
	};
	struct buffer_cg_device dev = { .name = "kunit/ok-Name_1.2:3" };
	struct buffer_cg_device dup = { .name = "kunit/ok-Name_1.2:3" };
	struct buffer_cg_device longest = {
		.name = "kunit/789012345678901234567890123456789012345678901234567890123",
	};
	struct buffer_cg_device none = { };
	int i;

	KUNIT_EXPECT_EQ(test, buffer_cg_register_device(&none), -EINVAL);
	for (i = 0; i < ARRAY_SIZE(bad); i++) {
		struct buffer_cg_device d = { .name = bad[i] };

		KUNIT_EXPECT_EQ_MSG(test, buffer_cg_register_device(&d), -EINVAL,
				    "name \"%s\"", bad[i]);
	}
	for (i = 0; i < ARRAY_SIZE(android); i++) {
		struct buffer_cg_device d = { .name = android[i] };
		struct buffer_cg *root = test_cg_create(test, NULL);
		struct buffer_cg *cg = test_cg_create(test, root);
		char line[80];

		KUNIT_ASSERT_EQ_MSG(test, buffer_cg_register_device(&d), 0,
				    "name \"%s\"", android[i]);
		snprintf(line, sizeof(line), "%s 4K", android[i]);
		KUNIT_EXPECT_EQ(test, test_set_limits(cg, line), 0);
		KUNIT_EXPECT_EQ(test, buffer_cg_try_charge(cg, &d, SZ_8K), -ENOMEM);
		buffer_cg_unregister_device(&d);
		test_cg_free(cg);
		test_cg_free(root);
		test_wait_device_gone(test, android[i]);
	}
	KUNIT_ASSERT_EQ(test, strlen(longest.name), BUFFER_CG_DEVICE_NAME_MAX);
	KUNIT_EXPECT_EQ(test, buffer_cg_register_device(&longest), 0);
	KUNIT_ASSERT_EQ(test, buffer_cg_register_device(&dev), 0);
	KUNIT_EXPECT_EQ(test, buffer_cg_register_device(&dup), -EEXIST);
	buffer_cg_unregister_device(&dev);
	buffer_cg_unregister_device(&longest);
	test_wait_device_gone(test, dev.name);
	test_wait_device_gone(test, longest.name);
}

static void buffer_cg_test_parse_value(struct kunit *test)
{
	static const struct {
		const char *in;
		int ret;
		u64 value;
	} cases[] = {
		{ "0", 0, 0 },
		{ "4096", 0, 4096 },
		{ "1K", 0, SZ_1K },
		{ "1k", 0, SZ_1K },
		{ "8M", 0, SZ_8M },
		{ "2G", 0, SZ_2G },
		{ "3T", 0, 3ULL << 40 },
		{ "max", 0, BUFFER_CG_MAX },
		{ "18446744073709551615", 0, BUFFER_CG_MAX },
		{ "", -EINVAL },
		{ "-1", -EINVAL },
		{ "+1", -EINVAL },
		{ "0x10", -EINVAL },
		{ "1MM", -EINVAL },
		{ "12X", -EINVAL },
		{ "1.5M", -EINVAL },
		{ "MAX", -EINVAL },
		{ "18446744073709551616", -EINVAL },
		{ "16777216T", -EINVAL },
	};
	int i;

	for (i = 0; i < ARRAY_SIZE(cases); i++) {
		u64 value = 0;
		int ret = buffer_cg_parse_value(cases[i].in, &value);

		KUNIT_EXPECT_EQ_MSG(test, ret, cases[i].ret, "\"%s\"", cases[i].in);
		if (!ret && !cases[i].ret)
			KUNIT_EXPECT_EQ_MSG(test, value, cases[i].value,
					    "\"%s\"", cases[i].in);
	}
}

static void buffer_cg_test_set_limits(struct kunit *test)
{
	struct buffer_cg_device dev = { .name = "kunit/limits" };
	struct buffer_cg *root = test_cg_create(test, NULL);
	struct buffer_cg *cg = test_cg_create(test, root);
	struct buffer_cg_pool *pool;

	KUNIT_ASSERT_EQ(test, buffer_cg_register_device(&dev), 0);
	KUNIT_EXPECT_EQ(test, test_set_limits(cg, "kunit/limits 8M\n"), 0);
	pool = test_pool(cg, &dev);
	KUNIT_ASSERT_NOT_NULL(test, pool);
	KUNIT_EXPECT_EQ(test, READ_ONCE(pool->max), SZ_8M);

	/* Each bad write fails as documented and changes nothing. */
	KUNIT_EXPECT_EQ(test, test_set_limits(cg, "kunit/limits 1M\nkunit/limits -1"), -EINVAL);
	KUNIT_EXPECT_EQ(test, test_set_limits(cg, "kunit/limits 1M\nkunit/none 1M"), -ENODEV);
	KUNIT_EXPECT_EQ(test, test_set_limits(cg, "kunit/limits"), -EINVAL);
	KUNIT_EXPECT_EQ(test, test_set_limits(cg, " 1M"), -EINVAL);
	KUNIT_EXPECT_EQ(test, test_set_limits(cg, "kunit/limits 1M 2M"), -EINVAL);
	KUNIT_EXPECT_EQ(test, test_set_limits(cg, "bad;name 1M"), -EINVAL);
	KUNIT_EXPECT_EQ(test, test_set_limits(cg, "kunit/\xe9 1M"), -EINVAL);
	KUNIT_EXPECT_EQ(test, test_set_limits(cg, "\n\n"), -EINVAL);
	KUNIT_EXPECT_EQ(test, READ_ONCE(pool->max), SZ_8M);

	KUNIT_EXPECT_EQ(test, test_set_limits(cg, "kunit/limits\tmax"), 0);
	KUNIT_EXPECT_EQ(test, READ_ONCE(pool->max), BUFFER_CG_MAX);

	buffer_cg_unregister_device(&dev);
	test_cg_free(cg);
	test_cg_free(root);
	test_wait_device_gone(test, "kunit/limits");
}

static void buffer_cg_test_hierarchy(struct kunit *test)
{
	struct buffer_cg_device dev = { .name = "kunit/hierarchy" };
	struct buffer_cg *root = test_cg_create(test, NULL);
	struct buffer_cg *parent = test_cg_create(test, root);
	struct buffer_cg *child = test_cg_create(test, parent);
	struct buffer_cg *sibling = test_cg_create(test, parent);
	struct buffer_cg_pool *ppool, *cpool;

	KUNIT_ASSERT_EQ(test, buffer_cg_register_device(&dev), 0);
	KUNIT_ASSERT_EQ(test, test_set_limits(parent, "kunit/hierarchy 8K"), 0);

	KUNIT_EXPECT_EQ(test, buffer_cg_try_charge(child, &dev, SZ_4K), 0);
	KUNIT_EXPECT_EQ(test, buffer_cg_try_charge(sibling, &dev, SZ_4K), 0);
	/* The parent's limit binds the whole subtree, and refuses whole. */
	KUNIT_EXPECT_EQ(test, buffer_cg_try_charge(child, &dev, 1), -ENOMEM);
	KUNIT_EXPECT_EQ(test, test_current(child, &dev), SZ_4K);
	KUNIT_EXPECT_EQ(test, test_current(parent, &dev), SZ_8K);
	KUNIT_EXPECT_EQ(test, test_current(root, &dev), SZ_8K);

	/* The refusal counts where the limit was hit, and up from there. */
	ppool = test_pool(parent, &dev);
	cpool = test_pool(child, &dev);
	KUNIT_EXPECT_EQ(test, atomic64_read(&ppool->events_max_local), 1);
	KUNIT_EXPECT_EQ(test, atomic64_read(&ppool->events_max), 1);
	KUNIT_EXPECT_EQ(test, atomic64_read(&cpool->events_max), 0);
	/* The root is outside the tree, above every limit. */
	KUNIT_EXPECT_EQ(test, atomic_long_read(&test_pool(root, &dev)->usage), 0);
	KUNIT_EXPECT_EQ(test, atomic64_read(&test_pool(root, &dev)->events_max), 0);
	/* The root's own charges add to its current, and to no one else's. */
	KUNIT_EXPECT_EQ(test, buffer_cg_try_charge(root, &dev, SZ_4K), 0);
	KUNIT_EXPECT_EQ(test, test_current(root, &dev), SZ_8K + SZ_4K);
	KUNIT_EXPECT_EQ(test, test_current(parent, &dev), SZ_8K);
	buffer_cg_uncharge(root, &dev, SZ_4K);
	KUNIT_EXPECT_EQ(test, test_current(root, &dev), SZ_8K);

	/* A child limit counts locally in the child and in its ancestors. */
	KUNIT_ASSERT_EQ(test, test_set_limits(child, "kunit/hierarchy 4K"), 0);
	buffer_cg_uncharge(sibling, &dev, SZ_4K);
	KUNIT_EXPECT_EQ(test, buffer_cg_try_charge(child, &dev, 1), -ENOMEM);
	KUNIT_EXPECT_EQ(test, atomic64_read(&cpool->events_max_local), 1);
	KUNIT_EXPECT_EQ(test, atomic64_read(&ppool->events_max_local), 1);
	KUNIT_EXPECT_EQ(test, atomic64_read(&ppool->events_max), 2);

	/* max below current: existing charges stay, new ones fail. */
	KUNIT_ASSERT_EQ(test, test_set_limits(child, "kunit/hierarchy 1K"), 0);
	KUNIT_EXPECT_EQ(test, test_current(child, &dev), SZ_4K);
	KUNIT_EXPECT_EQ(test, buffer_cg_try_charge(child, &dev, 1), -ENOMEM);
	buffer_cg_uncharge(child, &dev, SZ_4K);
	KUNIT_EXPECT_EQ(test, buffer_cg_try_charge(child, &dev, SZ_1K), 0);
	buffer_cg_uncharge(child, &dev, SZ_1K);

	KUNIT_EXPECT_EQ(test, test_current(root, &dev), 0);
	KUNIT_EXPECT_EQ(test, READ_ONCE(ppool->peak), SZ_8K);

	buffer_cg_unregister_device(&dev);
	test_cg_free(child);
	test_cg_free(sibling);
	test_cg_free(parent);
	test_cg_free(root);
	test_wait_device_gone(test, "kunit/hierarchy");
}

static void buffer_cg_test_records_and_transfer(struct kunit *test)
{
	struct buffer_cg_device dev = { .name = "kunit/transfer" };
	struct buffer_cg *root = test_cg_create(test, NULL);
	struct buffer_cg *parent = test_cg_create(test, root);
	struct buffer_cg *a = test_cg_create(test, parent);
	struct buffer_cg *b = test_cg_create(test, parent);
	struct buffer_cg *other = test_cg_create(test, root);
	struct buffer_cg_record charge, none = { };

	KUNIT_ASSERT_EQ(test, buffer_cg_register_device(&dev), 0);
	KUNIT_ASSERT_EQ(test, test_set_limits(parent, "kunit/transfer 8K"), 0);
	KUNIT_ASSERT_EQ(test, buffer_cg_charge(&charge, a, &dev, SZ_8K), 0);
	KUNIT_EXPECT_TRUE(test, buffer_cg_charged(&charge));
	KUNIT_EXPECT_EQ(test, test_buffers(a, &dev), 1);

	/* The shared parent is full, but a transfer under it adds nothing. */
	KUNIT_EXPECT_EQ(test, buffer_cg_charge_transfer(&charge, b), 0);
	KUNIT_EXPECT_EQ(test, test_current(a, &dev), 0);
	KUNIT_EXPECT_EQ(test, test_current(b, &dev), SZ_8K);
	KUNIT_EXPECT_EQ(test, test_current(parent, &dev), SZ_8K);
	KUNIT_EXPECT_EQ(test, atomic64_read(&test_pool(a, &dev)->transfers_out), 1);
	KUNIT_EXPECT_EQ(test, atomic64_read(&test_pool(b, &dev)->transfers_in), 1);
	KUNIT_EXPECT_EQ(test, test_buffers(a, &dev), 0);
	KUNIT_EXPECT_EQ(test, test_buffers(b, &dev), 1);

	/* Refused by the target: nothing moves, the target counts it. */
	KUNIT_ASSERT_EQ(test, test_set_limits(other, "kunit/transfer 4K"), 0);
	KUNIT_EXPECT_EQ(test, buffer_cg_charge_transfer(&charge, other), -ENOMEM);
	KUNIT_EXPECT_EQ(test, test_current(b, &dev), SZ_8K);
	KUNIT_EXPECT_EQ(test, test_current(other, &dev), 0);
	KUNIT_EXPECT_EQ(test, test_current(root, &dev), SZ_8K);
	KUNIT_EXPECT_EQ(test, atomic64_read(&test_pool(other, &dev)->events_max_local), 1);
	KUNIT_EXPECT_PTR_EQ(test, charge.pool->cg, b);

	/* Out of the subtree: the parent is uncharged, the root is not. */
	KUNIT_ASSERT_EQ(test, test_set_limits(other, "kunit/transfer max"), 0);
	KUNIT_EXPECT_EQ(test, buffer_cg_charge_transfer(&charge, other), 0);
	KUNIT_EXPECT_EQ(test, test_current(parent, &dev), 0);
	KUNIT_EXPECT_EQ(test, test_current(other, &dev), SZ_8K);
	KUNIT_EXPECT_EQ(test, test_current(root, &dev), SZ_8K);

	KUNIT_EXPECT_EQ(test, buffer_cg_charge_transfer(&none, b), -EOPNOTSUPP);

	buffer_cg_charge_release(&charge);
	KUNIT_EXPECT_FALSE(test, buffer_cg_charged(&charge));
	buffer_cg_charge_release(&charge);
	KUNIT_EXPECT_EQ(test, test_current(root, &dev), 0);

	buffer_cg_unregister_device(&dev);
	test_cg_free(a);
	test_cg_free(b);
	test_cg_free(other);
	test_cg_free(parent);
	test_cg_free(root);
	test_wait_device_gone(test, "kunit/transfer");
}

static void buffer_cg_test_unregister_live(struct kunit *test)
{
	struct buffer_cg *root = test_cg_create(test, NULL);
	struct buffer_cg *cg = test_cg_create(test, root);
	struct buffer_cg_device *dev, again = { .name = "kunit/live" };
	struct buffer_cg_dev_state *state;
	struct buffer_cg_record first, second, refused;

	dev = kzalloc(sizeof(*dev), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, dev);
	dev->name = "kunit/live";
	KUNIT_ASSERT_EQ(test, buffer_cg_register_device(dev), 0);
	state = test_state(dev);
	KUNIT_ASSERT_EQ(test, test_set_limits(cg, "kunit/live 64K"), 0);
	KUNIT_ASSERT_EQ(test, buffer_cg_charge(&first, cg, dev, SZ_4K), 0);
	KUNIT_ASSERT_EQ(test, buffer_cg_charge(&second, cg, dev, SZ_8K), 0);

	/* The driver frees its device at once; the charges live on. */
	buffer_cg_unregister_device(dev);
	kfree(dev);
	KUNIT_EXPECT_EQ(test, buffer_cg_charge(&refused, cg, &again, 1), -ENODEV);
	KUNIT_EXPECT_TRUE(test, test_device_listed("kunit/live"));
	buffer_cg_charge_release(&first);
	KUNIT_EXPECT_TRUE(test, test_device_listed("kunit/live"));

	/* Registering the name again takes the device back, limit included. */
	KUNIT_ASSERT_EQ(test, buffer_cg_register_device(&again), 0);
	KUNIT_EXPECT_PTR_EQ(test, test_state(&again), state);
	KUNIT_EXPECT_EQ(test, test_current(cg, &again), SZ_8K);
	KUNIT_EXPECT_EQ(test, buffer_cg_try_charge(cg, &again, SZ_64K), -ENOMEM);

	buffer_cg_unregister_device(&again);
	buffer_cg_charge_release(&second);
	test_wait_device_gone(test, "kunit/live");
	test_cg_free(cg);
	test_cg_free(root);
}

#define TEST_MANY_DEVICES 1000

static void buffer_cg_test_many_devices(struct kunit *test)
{
	struct buffer_cg *root = test_cg_create(test, NULL);
	struct buffer_cg *cg = test_cg_create(test, root);
	struct buffer_cg_device *devs;
	char (*names)[16];
	int i;

	devs = kunit_kcalloc(test, TEST_MANY_DEVICES, sizeof(*devs), GFP_KERNEL);
	names = kunit_kcalloc(test, TEST_MANY_DEVICES, sizeof(*names), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, devs);
	KUNIT_ASSERT_NOT_NULL(test, names);

	for (i = 0; i < TEST_MANY_DEVICES; i++) {
		snprintf(names[i], sizeof(names[i]), "kunit/many%d", i);
		devs[i].name = names[i];
		KUNIT_ASSERT_EQ(test, buffer_cg_register_device(&devs[i]), 0);
	}
	for (i = 0; i < TEST_MANY_DEVICES; i++)
		KUNIT_ASSERT_EQ(test, buffer_cg_try_charge(cg, &devs[i], i + 1), 0);
	/*
	 * Each device has its own pool, found by its id: the first ones in the
	 * cgroup, the others in a table that grew to hold them.
	 */
	for (i = 0; i < TEST_MANY_DEVICES; i++) {
		KUNIT_EXPECT_EQ(test, test_current(cg, &devs[i]), i + 1);
		KUNIT_EXPECT_EQ(test, test_current(root, &devs[i]), i + 1);
	}
	KUNIT_EXPECT_GE(test, rcu_dereference_protected(cg->pools, true)->size,
			TEST_MANY_DEVICES - BUFFER_CG_INLINE_POOLS);
	for (i = 0; i < TEST_MANY_DEVICES; i++) {
		buffer_cg_uncharge(cg, &devs[i], i + 1);
		buffer_cg_unregister_device(&devs[i]);
	}
	test_wait_device_gone(test, names[TEST_MANY_DEVICES - 1]);
	test_cg_free(cg);
	test_cg_free(root);
}

#define TEST_THREADS 4
#define TEST_ROUNDS 20000

struct test_charger {
	struct buffer_cg *cg;
	struct buffer_cg_device *dev;
	struct completion done;
	u64 held;
	int refused;
};

static int test_charger_fn(void *data)
{
	struct test_charger *c = data;
	int i;

	for (i = 0; i < TEST_ROUNDS; i++) {
		u64 size = 1 + i % 7;

		if (buffer_cg_try_charge(c->cg, c->dev, size)) {
			c->refused++;
			continue;
		}
		/* Keep every third charge; give the rest back. */
		if (i % 3)
			buffer_cg_uncharge(c->cg, c->dev, size);
		else
			c->held += size;
		cond_resched();
	}
	complete(&c->done);
	return 0;
}

static void buffer_cg_test_parallel(struct kunit *test)
{
	struct buffer_cg_device dev = { .name = "kunit/parallel" };
	struct buffer_cg *root = test_cg_create(test, NULL);
	struct buffer_cg *parent = test_cg_create(test, root);
	struct buffer_cg *cgs[2] = {
		test_cg_create(test, parent), test_cg_create(test, parent)
	};
	struct test_charger c[TEST_THREADS];
	u64 held = 0;
	int i;

	KUNIT_ASSERT_EQ(test, buffer_cg_register_device(&dev), 0);
	for (i = 0; i < TEST_THREADS; i++) {
		struct task_struct *t;

		c[i] = (struct test_charger){ .cg = cgs[i % 2], .dev = &dev };
		init_completion(&c[i].done);
		t = kthread_run(test_charger_fn, &c[i], "buffer_cg_test%d", i);
		KUNIT_ASSERT_FALSE(test, IS_ERR(t));
	}
	for (i = 0; i < TEST_THREADS; i++) {
		wait_for_completion(&c[i].done);
		KUNIT_EXPECT_EQ(test, c[i].refused, 0);
		held += c[i].held;
	}
	KUNIT_EXPECT_EQ(test, test_current(cgs[0], &dev), c[0].held + c[2].held);
	KUNIT_EXPECT_EQ(test, test_current(cgs[1], &dev), c[1].held + c[3].held);
	KUNIT_EXPECT_EQ(test, test_current(parent, &dev), held);
	KUNIT_EXPECT_EQ(test, test_current(root, &dev), held);

	for (i = 0; i < TEST_THREADS; i++)
		buffer_cg_uncharge(c[i].cg, &dev, c[i].held);
	KUNIT_EXPECT_EQ(test, test_current(root, &dev), 0);

	buffer_cg_unregister_device(&dev);
	test_cg_free(cgs[0]);
	test_cg_free(cgs[1]);
	test_cg_free(parent);
	test_cg_free(root);
	test_wait_device_gone(test, "kunit/parallel");
}

static void buffer_cg_test_disabled_cgroup(struct kunit *test)
{
	struct buffer_cg_device dev = { .name = "kunit/nocg" };
	struct buffer_cg_record charge;

	KUNIT_ASSERT_EQ(test, buffer_cg_register_device(&dev), 0);
	/* A NULL cgroup is the disabled controller: nothing is charged. */
	KUNIT_EXPECT_EQ(test, buffer_cg_charge(&charge, NULL, &dev, SZ_1M), 0);
	KUNIT_EXPECT_FALSE(test, buffer_cg_charged(&charge));
	KUNIT_EXPECT_EQ(test, buffer_cg_try_charge(NULL, &dev, SZ_1M), 0);
	buffer_cg_unregister_device(&dev);
	test_wait_device_gone(test, "kunit/nocg");
}

/* The KUnit thread charges its own cgroup: the root, which it runs in. */
static void buffer_cg_test_charge_current(struct kunit *test)
{
	struct buffer_cg_device dev = { .name = "kunit/current" };
	struct buffer_cg_record charge, refused;
	struct buffer_cg *cg = buffer_cg_get_current();

	KUNIT_ASSERT_NOT_NULL(test, cg);
	KUNIT_ASSERT_EQ(test, buffer_cg_register_device(&dev), 0);
	KUNIT_ASSERT_EQ(test, buffer_cg_charge_current(&charge, &dev, SZ_8K), 0);
	KUNIT_EXPECT_TRUE(test, buffer_cg_charged(&charge));
	KUNIT_EXPECT_PTR_EQ(test, charge.pool->cg, cg);
	KUNIT_EXPECT_EQ(test, charge.size, SZ_8K);
	KUNIT_EXPECT_EQ(test, test_current(cg, &dev), SZ_8K);
	KUNIT_EXPECT_EQ(test, test_buffers(cg, &dev), 1);

	/* A refusal leaves the record uncharged and the counters as they were. */
	KUNIT_ASSERT_EQ(test, test_set_limits(cg, "kunit/current 12K"), 0);
	KUNIT_EXPECT_EQ(test, buffer_cg_charge_current(&refused, &dev, SZ_8K),
			-ENOMEM);
	KUNIT_EXPECT_FALSE(test, buffer_cg_charged(&refused));
	KUNIT_EXPECT_EQ(test, test_current(cg, &dev), SZ_8K);

	buffer_cg_charge_release(&charge);
	KUNIT_EXPECT_EQ(test, test_current(cg, &dev), 0);
	KUNIT_EXPECT_EQ(test, test_buffers(cg, &dev), 0);

	buffer_cg_unregister_device(&dev);
	KUNIT_EXPECT_EQ(test, buffer_cg_charge_current(&refused, &dev, SZ_4K),
			-ENODEV);
	KUNIT_EXPECT_FALSE(test, buffer_cg_charged(&refused));
	buffer_cg_put(cg);
	test_wait_device_gone(test, "kunit/current");
}

static long test_refcnt(struct buffer_cg *cg, struct buffer_cg_device *dev)
{
	return atomic_long_read(&test_pool(cg, dev)->refcnt);
}

/*
 * A removed cgroup's pool keeps its buffers, takes new ones (a task may
 * charge the cgroup it was moved out of), and holds nothing once empty.
 */
static void buffer_cg_test_retired_pool(struct kunit *test)
{
	struct buffer_cg_device dev = { .name = "kunit/retired" };
	struct buffer_cg *root = test_cg_create(test, NULL);
	struct buffer_cg *cg = test_cg_create(test, root);
	struct buffer_cg_record first, second;

	KUNIT_ASSERT_EQ(test, buffer_cg_register_device(&dev), 0);
	KUNIT_ASSERT_EQ(test, buffer_cg_charge(&first, cg, &dev, SZ_4K), 0);
	/* The record, and the live pool itself. */
	KUNIT_EXPECT_EQ(test, test_refcnt(cg, &dev), 2);
	KUNIT_EXPECT_EQ(test, test_buffers(cg, &dev), 1);

	test_cg_offline(cg);
	KUNIT_EXPECT_EQ(test, test_refcnt(cg, &dev), 1);
	KUNIT_EXPECT_EQ(test, test_buffers(cg, &dev), 1);
	KUNIT_EXPECT_EQ(test, buffer_cg_charge(&second, cg, &dev, SZ_8K), 0);
	KUNIT_EXPECT_EQ(test, test_buffers(cg, &dev), 2);
	KUNIT_EXPECT_EQ(test, test_current(root, &dev), SZ_4K + SZ_8K);
	buffer_cg_charge_release(&first);
	buffer_cg_charge_release(&second);
	KUNIT_EXPECT_EQ(test, test_refcnt(cg, &dev), 0);
	KUNIT_EXPECT_EQ(test, test_current(root, &dev), 0);

	/* Empty and retired: the next charge takes the references back. */
	KUNIT_EXPECT_EQ(test, buffer_cg_charge(&first, cg, &dev, SZ_4K), 0);
	KUNIT_EXPECT_EQ(test, test_refcnt(cg, &dev), 1);
	KUNIT_EXPECT_EQ(test, test_buffers(cg, &dev), 1);
	buffer_cg_charge_release(&first);
	KUNIT_EXPECT_EQ(test, test_refcnt(cg, &dev), 0);

	/* Live until the device goes, which takes the last reference. */
	KUNIT_EXPECT_EQ(test, test_refcnt(root, &dev), 1);
	buffer_cg_unregister_device(&dev);
	test_cg_free(cg);
	test_cg_free(root);
	test_wait_device_gone(test, "kunit/retired");
}

/* What the counters of @cg's pool hold, stocks included. */
static long test_usage(struct buffer_cg *cg, struct buffer_cg_device *dev)
{
	return atomic_long_read(&test_pool(cg, dev)->usage);
}

static unsigned long test_peak(struct buffer_cg *cg,
			       struct buffer_cg_device *dev)
{
	return READ_ONCE(test_pool(cg, dev)->peak);
}

/*
 * A released buffer's bytes stay charged in its CPU's stock for the next
 * charge of the pool there; the files never show them, no limit counts them
 * against a charge, and no peak counts them while one CPU charges.
 */
static void buffer_cg_test_stock(struct kunit *test)
{
	struct buffer_cg_device dev = { .name = "kunit/stock" };
	struct buffer_cg *root = test_cg_create(test, NULL);
	struct buffer_cg *parent = test_cg_create(test, root);
	struct buffer_cg *child = test_cg_create(test, parent);
	struct buffer_cg *sibling = test_cg_create(test, parent);
	struct buffer_cg_record a, b, c;
	struct buffer_cg_pool *pool;

	KUNIT_ASSERT_EQ(test, buffer_cg_register_device(&dev), 0);
	/* One CPU's stock is the subject: stay on it. */
	migrate_disable();

	/* Kept: the counters still hold the bytes, the files do not. */
	KUNIT_ASSERT_EQ(test, buffer_cg_charge(&a, child, &dev, SZ_8K), 0);
	buffer_cg_charge_release(&a);
	KUNIT_EXPECT_EQ(test, test_usage(child, &dev), SZ_8K);
	KUNIT_EXPECT_EQ(test, test_usage(parent, &dev), SZ_8K);
	KUNIT_EXPECT_EQ(test, test_current(child, &dev), 0);
	KUNIT_EXPECT_EQ(test, test_current(parent, &dev), 0);
	KUNIT_EXPECT_EQ(test, test_current(root, &dev), 0);
	KUNIT_EXPECT_EQ(test, test_buffers(child, &dev), 0);

	/* Taken by the next charge that fits, without touching a counter. */
	KUNIT_ASSERT_EQ(test, buffer_cg_charge(&b, child, &dev, SZ_4K), 0);
	KUNIT_EXPECT_EQ(test, test_usage(child, &dev), SZ_8K);
	KUNIT_EXPECT_EQ(test, test_current(child, &dev), SZ_4K);
	KUNIT_EXPECT_EQ(test, test_current(root, &dev), SZ_4K);
	KUNIT_EXPECT_EQ(test, test_buffers(child, &dev), 1);

	/*
	 * One that does not fit gives the rest back before it charges, so
	 * the peak is the highest current: 4K + 8K, not 16K.
	 */
	KUNIT_ASSERT_EQ(test, buffer_cg_charge(&c, child, &dev, SZ_8K), 0);
	KUNIT_EXPECT_EQ(test, test_usage(child, &dev), SZ_8K + SZ_4K);
	KUNIT_EXPECT_EQ(test, test_peak(child, &dev), SZ_8K + SZ_4K);
	KUNIT_EXPECT_EQ(test, test_peak(parent, &dev), SZ_8K + SZ_4K);
	buffer_cg_charge_release(&b);
	buffer_cg_charge_release(&c);
	KUNIT_EXPECT_EQ(test, test_current(parent, &dev), 0);

	/* Writing a limit gives every stock back. */
	KUNIT_ASSERT_EQ(test, test_set_limits(parent, "kunit/stock 12K"), 0);
	KUNIT_EXPECT_EQ(test, test_usage(child, &dev), 0);

	/* A charge elsewhere under the limit gives this CPU's stock back. */
	KUNIT_ASSERT_EQ(test, buffer_cg_charge(&a, child, &dev, SZ_8K), 0);
	buffer_cg_charge_release(&a);
	KUNIT_EXPECT_EQ(test, test_usage(parent, &dev), SZ_8K);
	KUNIT_EXPECT_EQ(test, buffer_cg_charge(&a, sibling, &dev, SZ_8K + SZ_4K), 0);
	KUNIT_EXPECT_EQ(test, test_usage(child, &dev), 0);
	KUNIT_EXPECT_EQ(test, atomic64_read(&test_pool(parent, &dev)->events_max), 0);
	buffer_cg_charge_release(&a);

	/*
	 * Over a lowered limit, released bytes are not kept: the stock would
	 * hand them back to a charge that the limit refuses.
	 */
	KUNIT_ASSERT_EQ(test, buffer_cg_charge(&a, child, &dev, SZ_8K), 0);
	KUNIT_ASSERT_EQ(test, test_set_limits(parent, "kunit/stock 4K"), 0);
	buffer_cg_charge_release(&a);
	KUNIT_EXPECT_EQ(test, test_usage(child, &dev), 0);
	KUNIT_EXPECT_EQ(test, buffer_cg_charge(&a, child, &dev, SZ_8K), -ENOMEM);
	KUNIT_EXPECT_EQ(test, atomic64_read(&test_pool(parent, &dev)->events_max), 1);

	/* Removing the cgroup gives its stock back, and with it the references. */
	KUNIT_ASSERT_EQ(test, buffer_cg_charge(&a, child, &dev, SZ_4K), 0);
	buffer_cg_charge_release(&a);
	KUNIT_EXPECT_EQ(test, test_usage(parent, &dev), SZ_4K);
	test_cg_offline(child);
	test_stocks_flush();
	KUNIT_EXPECT_EQ(test, test_usage(parent, &dev), 0);
	KUNIT_EXPECT_EQ(test, test_refcnt(child, &dev), 0);

	/* And unregistering the device gives back its stocks. */
	KUNIT_ASSERT_EQ(test, buffer_cg_charge(&a, sibling, &dev, SZ_4K), 0);
	buffer_cg_charge_release(&a);
	pool = test_pool(sibling, &dev);
	KUNIT_EXPECT_EQ(test, atomic_long_read(&pool->usage), SZ_4K);
	migrate_enable();
	buffer_cg_unregister_device(&dev);
	test_stocks_flush();
	KUNIT_EXPECT_EQ(test, atomic_long_read(&pool->usage), 0);
	KUNIT_EXPECT_EQ(test, atomic_long_read(&pool->refcnt), 0);

	test_cg_free(child);
	test_cg_free(sibling);
	test_cg_free(parent);
	test_cg_free(root);
	test_wait_device_gone(test, "kunit/stock");
}

struct test_stock_charger {
	struct buffer_cg *cg;
	struct buffer_cg_device *dev;
	/* Release the charge at once, leaving it in the CPU's stock. */
	bool release;
	struct buffer_cg_record charge;
	int ret;
	struct completion done;
};

static int test_stock_charge_fn(void *arg)
{
	struct test_stock_charger *c = arg;

	c->ret = buffer_cg_charge(&c->charge, c->cg, c->dev, SZ_8K);
	if (!c->ret && c->release)
		buffer_cg_charge_release(&c->charge);
	complete(&c->done);
	return 0;
}

/* Charge 8K as @c says, in a thread bound to @cpu. */
static void test_stock_charge_on(struct kunit *test,
				 struct test_stock_charger *c, int cpu)
{
	struct task_struct *t;

	init_completion(&c->done);
	t = kthread_create(test_stock_charge_fn, c, "buffer_cg_stock%d", cpu);
	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, t);
	kthread_bind(t, cpu);
	wake_up_process(t);
	wait_for_completion(&c->done);
}

/* The first two CPUs online in @cpu; the test is skipped without two. */
static void test_two_cpus(struct kunit *test, unsigned int cpu[2])
{
	cpu[0] = cpumask_first(cpu_online_mask);
	cpu[1] = cpumask_next(cpu[0], cpu_online_mask);
	if (cpu[1] >= nr_cpu_ids)
		kunit_skip(test, "needs a second CPU online");
}

/*
 * Bytes another CPU keeps do not make a limit refuse a charge: the charge
 * drains that CPU's stock and tries again.
 */
static void buffer_cg_test_stock_other_cpu(struct kunit *test)
{
	struct buffer_cg_device dev = { .name = "kunit/stock-cpu" };
	struct test_stock_charger filler = { .dev = &dev, .release = true };
	struct test_stock_charger charger = { .dev = &dev };
	struct buffer_cg *root, *cg;
	unsigned int cpu[2];

	test_two_cpus(test, cpu);
	root = test_cg_create(test, NULL);
	cg = test_cg_create(test, root);
	filler.cg = cg;
	charger.cg = cg;
	KUNIT_ASSERT_EQ(test, buffer_cg_register_device(&dev), 0);
	KUNIT_ASSERT_EQ(test, test_set_limits(cg, "kunit/stock-cpu 8K"), 0);

	test_stock_charge_on(test, &filler, cpu[1]);
	KUNIT_ASSERT_EQ(test, filler.ret, 0);
	KUNIT_EXPECT_EQ(test, test_usage(cg, &dev), SZ_8K);
	KUNIT_EXPECT_EQ(test, test_current(cg, &dev), 0);

	/* On the first CPU, whose own stock is empty. */
	test_stock_charge_on(test, &charger, cpu[0]);
	KUNIT_EXPECT_EQ(test, charger.ret, 0);
	KUNIT_EXPECT_EQ(test, atomic64_read(&test_pool(cg, &dev)->events_max), 0);
	KUNIT_EXPECT_EQ(test, test_current(cg, &dev), SZ_8K);
	buffer_cg_charge_release(&charger.charge);

	buffer_cg_unregister_device(&dev);
	test_cg_free(cg);
	test_cg_free(root);
	test_wait_device_gone(test, "kunit/stock-cpu");
}

/*
 * A driver that uncharges what buffer_cg_try_charge() charged after its
 * cgroup was removed gets every counter back to zero; one that forgets
 * and unregisters has it uncharged for it.
 */
static void buffer_cg_test_raw_contract(struct kunit *test)
{
	struct buffer_cg_device dev = { .name = "kunit/raw" };
	struct buffer_cg *root = test_cg_create(test, NULL);
	struct buffer_cg *parent = test_cg_create(test, root);
	struct buffer_cg *cg = test_cg_create(test, parent);
	struct buffer_cg_pool *parent_pool;

	KUNIT_ASSERT_EQ(test, buffer_cg_register_device(&dev), 0);
	KUNIT_ASSERT_EQ(test, buffer_cg_try_charge(cg, &dev, SZ_8K), 0);
	test_cg_offline(cg);
	KUNIT_EXPECT_EQ(test, test_current(parent, &dev), SZ_8K);
	buffer_cg_uncharge(cg, &dev, SZ_8K);
	KUNIT_EXPECT_EQ(test, test_current(parent, &dev), 0);

	KUNIT_ASSERT_EQ(test, buffer_cg_try_charge(parent, &dev, SZ_4K), 0);
	parent_pool = test_pool(parent, &dev);
	buffer_cg_unregister_device(&dev);
	KUNIT_EXPECT_EQ(test, atomic_long_read(&parent_pool->usage), 0);
	KUNIT_EXPECT_EQ(test, atomic_long_read(&parent_pool->raw), 0);
	/* Too late, and harmless. */
	buffer_cg_uncharge(parent, &dev, SZ_4K);
	KUNIT_EXPECT_EQ(test, atomic_long_read(&parent_pool->usage), 0);

	test_wait_device_gone(test, "kunit/raw");
	test_cg_free(cg);
	test_cg_free(parent);
	test_cg_free(root);
}

/* A charge larger than any counter holds is a refusal like any other. */
static void buffer_cg_test_over_bound(struct kunit *test)
{
	struct buffer_cg_device dev = { .name = "kunit/bound" };
	struct buffer_cg *root = test_cg_create(test, NULL);
	struct buffer_cg *parent = test_cg_create(test, root);
	struct buffer_cg *cg = test_cg_create(test, parent);
	struct buffer_cg_record charge;

	KUNIT_ASSERT_EQ(test, buffer_cg_register_device(&dev), 0);
	KUNIT_EXPECT_EQ(test, buffer_cg_charge(&charge, cg, &dev,
					       (u64)BUFFER_CG_MAX + 1), -ENOMEM);
	KUNIT_EXPECT_FALSE(test, buffer_cg_charged(&charge));
	KUNIT_EXPECT_EQ(test, buffer_cg_try_charge(cg, &dev, U64_MAX), -ENOMEM);
	KUNIT_EXPECT_EQ(test, atomic64_read(&test_pool(cg, &dev)->events_max_local), 2);
	KUNIT_EXPECT_EQ(test, atomic64_read(&test_pool(parent, &dev)->events_max), 2);
	KUNIT_EXPECT_EQ(test, atomic64_read(&test_pool(parent, &dev)->events_max_local), 0);
	KUNIT_EXPECT_EQ(test, test_current(root, &dev), 0);

	buffer_cg_unregister_device(&dev);
	test_wait_device_gone(test, "kunit/bound");
	test_cg_free(cg);
	test_cg_free(parent);
	test_cg_free(root);
}

struct test_registrar {
	struct buffer_cg_device dev;
	struct test_registrar *other;
	atomic_t *started;
	unsigned long deadline;
	/* Set from before an unregistration until it has returned. */
	int unregistering;
	int rounds, raced, killed;
	struct completion done;
};

/*
 * Register and unregister until the deadline, or until enough
 * registrations were begun while the other registrar was still inside
 * buffer_cg_unregister_device(). Each registration is checked once the
 * other's call has returned: nothing that call did after letting this
 * registration in may have killed its reference.
 */
static int test_registrar_fn(void *data)
{
	struct test_registrar *r = data;
	struct buffer_cg_dev_state *state;
	bool raced;

	/* A start gate: neither runs its rounds alone. */
	atomic_inc(r->started);
	while (atomic_read(r->started) < 2 && time_before(jiffies, r->deadline))
		cond_resched();

	while (r->raced < 50 && !completion_done(&r->other->done) &&
	       time_before(jiffies, r->deadline)) {
		/* Pairs with the release after the other's unregistration. */
		raced = smp_load_acquire(&r->other->unregistering);
		if (buffer_cg_register_device(&r->dev)) {
			cond_resched();
			continue;
		}
		r->rounds++;
		/*
		 * Its last store done: the kill, if it came late. The other
		 * clears the flag even past the deadline, so this ends.
		 */
		while (smp_load_acquire(&r->other->unregistering))
			cond_resched();
		state = test_state(&r->dev);
		if (percpu_ref_is_dying(&state->ref))
			r->killed++;
		r->raced += raced;
		/* Seen by the other's registration: the mutex orders them. */
		WRITE_ONCE(r->unregistering, 1);
		buffer_cg_unregister_device(&r->dev);
		/* Pairs with the other's acquire: all of the call before it. */
		smp_store_release(&r->unregistering, 0);
		cond_resched();
	}
	complete(&r->done);
	return 0;
}

/*
 * Two drivers register and unregister one name in turn while a buffer
 * keeps the device's state: each registration finds it registered or
 * dying, never in between, so none resurrects a live reference and no
 * unregistration kills the next registration's. The two run on two CPUs:
 * on one, a registration would run inside an unregistration only when
 * the unregistering thread slept or was preempted there, which is rare.
 * A round counts as raced when the other was unregistering as it began:
 * an upper bound, as the other may have returned before it took the mutex.
 */
static void buffer_cg_test_reregister_race(struct kunit *test)
{
	struct buffer_cg_device first = { .name = "kunit/rereg" };
	atomic_t started = ATOMIC_INIT(0);
	struct test_registrar r[2] = {
		{ .dev = { .name = "kunit/rereg" }, .other = &r[1] },
		{ .dev = { .name = "kunit/rereg" }, .other = &r[0] },
	};
	struct task_struct *t[2];
	struct buffer_cg *root, *cg;
	struct buffer_cg_record kept, again;
	unsigned int cpu[2];
	int i, err;

	test_two_cpus(test, cpu);
	root = test_cg_create(test, NULL);
	cg = test_cg_create(test, root);
	KUNIT_ASSERT_EQ(test, buffer_cg_register_device(&first), 0);
	KUNIT_ASSERT_EQ(test, buffer_cg_charge(&kept, cg, &first, SZ_4K), 0);
	buffer_cg_unregister_device(&first);

	for (i = 0; i < 2; i++) {
		r[i].started = &started;
		r[i].deadline = jiffies + 5 * HZ;
		init_completion(&r[i].done);
		t[i] = kthread_create(test_registrar_fn, &r[i], "buffer_cg_rereg%d", i);
	}
	/* Neither may run once the test has failed: they use its stack. */
	if (IS_ERR(t[0]) || IS_ERR(t[1])) {
		for (i = 0; i < 2; i++)
			if (!IS_ERR(t[i]))
				kthread_stop(t[i]);
		KUNIT_FAIL(test, "no registrar thread");
		buffer_cg_charge_release(&kept);
		test_cg_free(cg);
		test_cg_free(root);
		return;
	}
	for (i = 0; i < 2; i++) {
		kthread_bind(t[i], cpu[i]);
		wake_up_process(t[i]);
	}
	for (i = 0; i < 2; i++)
		wait_for_completion(&r[i].done);
	kunit_info(test, "%d and %d registrations, at most %d and %d inside the other's unregistration\n",
		   r[0].rounds, r[1].rounds, r[0].raced, r[1].raced);
	KUNIT_EXPECT_EQ(test, r[0].killed + r[1].killed, 0);

	/*
	 * The name registers once more, and its reference is alive. A failure
	 * here still releases what the test holds: the race may have broken
	 * the name, and an abort would leak the charge and both cgroups.
	 */
	err = buffer_cg_register_device(&first);
	KUNIT_EXPECT_EQ(test, err, 0);
	if (!err) {
		KUNIT_EXPECT_EQ(test, buffer_cg_charge(&again, cg, &first, SZ_4K), 0);
		KUNIT_EXPECT_EQ(test, test_current(cg, &first), SZ_8K);
		buffer_cg_charge_release(&again);
	}
	buffer_cg_charge_release(&kept);
	if (!err) {
		buffer_cg_unregister_device(&first);
		test_wait_device_gone(test, "kunit/rereg");
	}
	test_cg_free(cg);
	test_cg_free(root);
	/* A skip would hide a failure above: only a passing run is skipped. */
	if (test->status == KUNIT_SUCCESS && !r[0].raced && !r[1].raced)
		kunit_skip(test, "no registration came inside the other's unregistration");
}

struct test_unplug_charger {
	struct buffer_cg *cg;
	struct buffer_cg_device *dev;
	atomic_t stop;
	struct completion done;
	int charged, refused, failed, elsewhere;
};

static int test_unplug_charger_fn(void *data)
{
	struct test_unplug_charger *c = data;
	struct buffer_cg_record charge;
	int ret;

	while (!atomic_read(&c->stop)) {
		ret = buffer_cg_charge(&charge, c->cg, c->dev, SZ_4K);
		if (!ret) {
			c->charged++;
			/* The id of a device gone is another's: not its pool. */
			if (strcmp(charge.pool->state->name, c->dev->name))
				c->elsewhere++;
			buffer_cg_charge_release(&charge);
		} else if (ret == -ENODEV) {
			c->refused++;
		} else {
			c->failed++;
		}
		cond_resched();
	}
	complete(&c->done);
	return 0;
}

/*
 * Charges race with a driver that unregisters and registers its device
 * again, as DRM does on unbind and bind: a charge reads the device's state
 * while the last reference on it goes and its id is taken again. KASAN
 * reports a read of freed state; a charge to the wrong device shows in the
 * counters.
 */
static void buffer_cg_test_unregister_race(struct kunit *test)
{
	static struct buffer_cg_device dev = { .name = "kunit/unplug" };
	struct buffer_cg_device other = { .name = "kunit/unplug-other" };
	struct test_unplug_charger c[2];
	struct buffer_cg *root = test_cg_create(test, NULL);
	struct buffer_cg *cg = test_cg_create(test, root);
	int i;

	KUNIT_ASSERT_EQ(test, buffer_cg_register_device(&dev), 0);
	for (i = 0; i < 2; i++) {
		struct task_struct *t;

		c[i] = (struct test_unplug_charger){ .cg = cg, .dev = &dev };
		init_completion(&c[i].done);
		t = kthread_run(test_unplug_charger_fn, &c[i], "buffer_cg_unplug%d", i);
		KUNIT_ASSERT_FALSE(test, IS_ERR(t));
	}
	for (i = 0; i < 100; i++) {
		buffer_cg_unregister_device(&dev);
		/* Takes the id the device had, once its state is gone. */
		if (!buffer_cg_register_device(&other)) {
			KUNIT_EXPECT_EQ(test, test_set_limits(cg, "kunit/unplug-other 1M"), 0);
			buffer_cg_unregister_device(&other);
		}
		KUNIT_ASSERT_EQ(test, buffer_cg_register_device(&dev), 0);
		usleep_range(50, 100);
	}
	for (i = 0; i < 2; i++) {
		atomic_set(&c[i].stop, 1);
		wait_for_completion(&c[i].done);
		KUNIT_EXPECT_EQ(test, c[i].failed, 0);
		KUNIT_EXPECT_EQ(test, c[i].elsewhere, 0);
		KUNIT_EXPECT_GT(test, c[i].charged, 0);
	}
	buffer_cg_unregister_device(&dev);
	test_stocks_flush();
	test_wait_device_gone(test, "kunit/unplug");
	test_wait_device_gone(test, "kunit/unplug-other");
	test_cg_free(cg);
	test_cg_free(root);
}

/*
 * Writing a limit drains the stocks below it and no other: a CPU that
 * keeps another cgroup's bytes is left alone.
 */
static void buffer_cg_test_stock_drain_scope(struct kunit *test)
{
	struct buffer_cg_device dev = { .name = "kunit/scope" };
	struct buffer_cg *root = test_cg_create(test, NULL);
	struct buffer_cg *kept = test_cg_create(test, root);
	struct buffer_cg *limited = test_cg_create(test, root);
	struct buffer_cg_record a;

	KUNIT_ASSERT_EQ(test, buffer_cg_register_device(&dev), 0);
	migrate_disable();
	KUNIT_ASSERT_EQ(test, buffer_cg_charge(&a, kept, &dev, SZ_8K), 0);
	buffer_cg_charge_release(&a);
	KUNIT_EXPECT_EQ(test, test_usage(kept, &dev), SZ_8K);
	migrate_enable();

	KUNIT_ASSERT_EQ(test, test_set_limits(limited, "kunit/scope 4K"), 0);
	KUNIT_EXPECT_EQ(test, test_usage(kept, &dev), SZ_8K);
	/* Below its limit: no charge from the stock may pass it any more. */
	KUNIT_ASSERT_EQ(test, test_set_limits(kept, "kunit/scope 4K"), 0);
	KUNIT_EXPECT_EQ(test, test_usage(kept, &dev), 0);

	buffer_cg_unregister_device(&dev);
	test_wait_device_gone(test, "kunit/scope");
	test_cg_free(kept);
	test_cg_free(limited);
	test_cg_free(root);
}

/* What buffer_cg_charge_release() does when this CPU's stock refuses. */
static void test_release_elsewhere(struct buffer_cg_record *charge)
{
	pool_uncharge(charge->pool, NULL, charge->size);
	pool_put(charge->pool);
	memset(charge, 0, sizeof(*charge));
}

/*
 * A stock holds the pool it keeps bytes of, even when no record it took
 * back is left: removing the cgroup only queues the drain, and the pool
 * must outlive it.
 */
static void buffer_cg_test_stock_holds_pool(struct kunit *test)
{
	struct buffer_cg_device dev = { .name = "kunit/stock-hold" };
	struct buffer_cg *root = test_cg_create(test, NULL);
	struct buffer_cg *cg = test_cg_create(test, root);
	struct buffer_cg_record big, small;

	KUNIT_ASSERT_EQ(test, buffer_cg_register_device(&dev), 0);
	migrate_disable();
	KUNIT_ASSERT_EQ(test, buffer_cg_charge(&big, cg, &dev, SZ_128K), 0);
	buffer_cg_charge_release(&big);
	/* From the stock: it keeps 124K and no record's reference. */
	KUNIT_ASSERT_EQ(test, buffer_cg_charge(&small, cg, &dev, SZ_4K), 0);
	test_cg_offline(cg);
	/* The record goes on another CPU, whose stock takes no retired pool. */
	test_release_elsewhere(&small);
	KUNIT_EXPECT_GT(test, test_refcnt(cg, &dev), 0);
	KUNIT_EXPECT_EQ(test, test_usage(cg, &dev), SZ_128K - SZ_4K);
	migrate_enable();
	test_stocks_flush();
	KUNIT_EXPECT_EQ(test, test_refcnt(cg, &dev), 0);
	KUNIT_EXPECT_EQ(test, test_usage(cg, &dev), 0);

	buffer_cg_unregister_device(&dev);
	test_wait_device_gone(test, "kunit/stock-hold");
	test_cg_free(cg);
	test_cg_free(root);
}

/*
 * An uncharge after the device was unregistered and registered again takes
 * nothing that buffer_cg_try_charge() did not charge.
 */
static void buffer_cg_test_raw_late_uncharge(struct kunit *test)
{
	struct buffer_cg_device dev = { .name = "kunit/raw-late" };
	struct buffer_cg *root = test_cg_create(test, NULL);
	struct buffer_cg *cg = test_cg_create(test, root);
	struct buffer_cg_record kept;

	KUNIT_ASSERT_EQ(test, buffer_cg_register_device(&dev), 0);
	/* A record keeps the device's state, and its pools, across. */
	KUNIT_ASSERT_EQ(test, buffer_cg_charge(&kept, cg, &dev, SZ_4K), 0);
	KUNIT_ASSERT_EQ(test, buffer_cg_try_charge(cg, &dev, SZ_8K), 0);
	buffer_cg_unregister_device(&dev);
	KUNIT_ASSERT_EQ(test, buffer_cg_register_device(&dev), 0);
	buffer_cg_uncharge(cg, &dev, SZ_8K);
	KUNIT_EXPECT_EQ(test, test_current(cg, &dev), SZ_4K);

	buffer_cg_charge_release(&kept);
	buffer_cg_unregister_device(&dev);
	test_wait_device_gone(test, "kunit/raw-late");
	test_cg_free(cg);
	test_cg_free(root);
}

/*
 * A driver that puts its reference on the cgroup before uncharging: what
 * it left in the freed cgroup leaves the ancestors too.
 */
static void buffer_cg_test_raw_cgroup_freed(struct kunit *test)
{
	struct buffer_cg_device dev = { .name = "kunit/raw-freed" };
	struct buffer_cg *root = test_cg_create(test, NULL);
	struct buffer_cg *parent = test_cg_create(test, root);
	struct buffer_cg *cg = test_cg_create(test, parent);

	KUNIT_ASSERT_EQ(test, buffer_cg_register_device(&dev), 0);
	KUNIT_ASSERT_EQ(test, buffer_cg_try_charge(cg, &dev, SZ_8K), 0);
	KUNIT_EXPECT_EQ(test, test_current(parent, &dev), SZ_8K);
	test_cg_free(cg);
	KUNIT_EXPECT_EQ(test, test_current(parent, &dev), 0);

	buffer_cg_unregister_device(&dev);
	test_wait_device_gone(test, "kunit/raw-freed");
	test_cg_free(parent);
	test_cg_free(root);
}

struct test_raw_charger {
	struct buffer_cg *cg;
	struct buffer_cg_device *dev;
	atomic_t stop;
	struct completion done;
	int charged;
};

static int test_raw_charger_fn(void *data)
{
	struct test_raw_charger *c = data;

	while (!atomic_read(&c->stop)) {
		if (!buffer_cg_try_charge(c->cg, c->dev, SZ_4K))
			c->charged++;
		cond_resched();
	}
	complete(&c->done);
	return 0;
}

/*
 * buffer_cg_try_charge() racing with unregistration: whatever it charged
 * that the driver can no longer uncharge, one of the two uncharges.
 */
static void buffer_cg_test_raw_unregister_race(struct kunit *test)
{
	struct buffer_cg_device dev = { .name = "kunit/raw-race" };
	struct buffer_cg *root = test_cg_create(test, NULL);
	struct buffer_cg *cg = test_cg_create(test, root);
	struct test_raw_charger c = { .cg = cg, .dev = &dev };
	struct buffer_cg_record kept;
	struct buffer_cg_pool *pool;
	struct task_struct *t;
	int round;

	for (round = 0; round < 20; round++) {
		KUNIT_ASSERT_EQ(test, buffer_cg_register_device(&dev), 0);
		KUNIT_ASSERT_EQ(test, buffer_cg_charge(&kept, cg, &dev, SZ_4K), 0);
		pool = test_pool(cg, &dev);
		atomic_set(&c.stop, 0);
		init_completion(&c.done);
		t = kthread_run(test_raw_charger_fn, &c, "buffer_cg_raw");
		KUNIT_ASSERT_FALSE(test, IS_ERR(t));
		usleep_range(100, 200);
		buffer_cg_unregister_device(&dev);
		atomic_set(&c.stop, 1);
		wait_for_completion(&c.done);
		/* The record's 4K, and none of the raw charges. */
		KUNIT_EXPECT_EQ(test, atomic_long_read(&pool->usage), SZ_4K);
		buffer_cg_charge_release(&kept);
		test_stocks_flush();
		test_wait_device_gone(test, "kunit/raw-race");
	}
	KUNIT_EXPECT_GT(test, c.charged, 0);
	test_cg_free(cg);
	test_cg_free(root);
}

static bool test_granted_through(struct cgroup *cgrp, struct super_block *sb)
{
	bool granted;

	rcu_read_lock();
	granted = buffer_cg_granted(cgrp, cgrp, sb);
	rcu_read_unlock();
	return granted;
}

static bool test_granted(struct cgroup *cgrp)
{
	return test_granted_through(cgrp, buffer_cg_mnt->mnt_sb);
}

static void test_grant(struct cgroup *cgrp)
{
	struct buffer_cg_grant_basis basis;

	buffer_cg_grant_basis(cgrp, &basis);
	buffer_cg_grant(cgrp, cgrp, buffer_cg_mnt->mnt_sb, &basis);
}

/* current's credentials, less CAP_DAC_OVERRIDE, as an allocator's are. */
static struct cred *test_caller_creds(struct kunit *test)
{
	struct cred *cred = prepare_creds();

	KUNIT_ASSERT_NOT_NULL(test, cred);
	cap_lower(cred->cap_effective, CAP_DAC_OVERRIDE);
	return cred;
}

/* Does a grant serve @cred? It keeps it, and asks again if @grant. */
static bool test_granted_as(struct cgroup *cgrp, const struct cred *cred,
			    bool grant)
{
	const struct cred *old = override_creds(cred);
	bool granted;

	if (grant)
		test_grant(cgrp);
	granted = test_granted(cgrp);
	revert_creds(old);
	return granted;
}

/*
 * A charge_fd grant, the kept yes of the permission rule, holds while the
 * rule's inputs do, and a change of any voids it: the caller's credentials,
 * the cgroup.procs files' owners, modes and labels, the LSMs' policy, a
 * change while the rule was asked, its lifetime, a read-only superblock.
 * A cgroup keeps a few, and gives none of a live caller to another. The
 * root cgroup stands in for both ends; a grant is kept whichever cgroups
 * they are.
 */
static void buffer_cg_test_grant(struct kunit *test)
{
	static const char label[] = "security.buffer_cg_test";
	struct cgroup *cgrp = cgroup_get_from_path("/");
	struct cred *callers[BUFFER_CG_GRANTS + 1], *first;
	struct buffer_cg_grant_basis basis;
	struct super_block *rdonly;
	const struct cred *orig;
	struct iattr iattr;
	int i;

	KUNIT_ASSERT_FALSE(test, IS_ERR(cgrp));
	if (!buffer_cg_mnt || !cgroup_subsys_enabled(buffer_cgrp_subsys)) {
		cgroup_put(cgrp);
		kunit_skip(test, "no internal cgroup2 mount, or the controller is off");
	}
	rdonly = kunit_kzalloc(test, sizeof(*rdonly), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, rdonly);
	rdonly->s_flags = SB_RDONLY;
	first = test_caller_creds(test);
	orig = override_creds(first);

	test_grant(cgrp);
	KUNIT_EXPECT_TRUE(test, test_granted(cgrp));
	KUNIT_EXPECT_FALSE(test, test_granted_through(cgrp, rdonly));

	/* A mode, then an owner written, if only the same; kept again after. */
	iattr = (struct iattr){ .ia_valid = ATTR_MODE, .ia_mode = cgrp->kn->mode };
	KUNIT_EXPECT_EQ(test, kernfs_setattr(cgrp->kn, &iattr), 0);
	KUNIT_EXPECT_FALSE(test, test_granted(cgrp));
	test_grant(cgrp);
	KUNIT_EXPECT_TRUE(test, test_granted(cgrp));
	/* Root's at boot, when the suite runs. */
	iattr = (struct iattr){ .ia_valid = ATTR_UID, .ia_uid = GLOBAL_ROOT_UID };
	KUNIT_EXPECT_EQ(test, kernfs_setattr(cgrp->kn, &iattr), 0);
	KUNIT_EXPECT_FALSE(test, test_granted(cgrp));
	test_grant(cgrp);
	KUNIT_EXPECT_TRUE(test, test_granted(cgrp));
	iattr = (struct iattr){ .ia_valid = ATTR_GID, .ia_gid = GLOBAL_ROOT_GID };
	KUNIT_EXPECT_EQ(test, kernfs_setattr(cgrp->kn, &iattr), 0);
	KUNIT_EXPECT_FALSE(test, test_granted(cgrp));
	test_grant(cgrp);
	KUNIT_EXPECT_TRUE(test, test_granted(cgrp));

	/* A label set, then removed. */
	KUNIT_EXPECT_EQ(test, kernfs_xattr_set(cgrp->kn, label, "1", 1, 0), 0);
	KUNIT_EXPECT_FALSE(test, test_granted(cgrp));
	test_grant(cgrp);
	KUNIT_EXPECT_TRUE(test, test_granted(cgrp));
	KUNIT_EXPECT_EQ(test, kernfs_xattr_set(cgrp->kn, label, NULL, 0, XATTR_REPLACE), 0);
	KUNIT_EXPECT_FALSE(test, test_granted(cgrp));

	/* An LSM's new policy. */
	test_grant(cgrp);
	KUNIT_EXPECT_TRUE(test, test_granted(cgrp));
	buffer_cg_policy_changed(NULL, LSM_POLICY_CHANGE, NULL);
	KUNIT_EXPECT_FALSE(test, test_granted(cgrp));

	/* A change while the rule was asked, after the basis was read. */
	buffer_cg_grant_basis(cgrp, &basis);
	iattr = (struct iattr){ .ia_valid = ATTR_MODE, .ia_mode = cgrp->kn->mode };
	KUNIT_EXPECT_EQ(test, kernfs_setattr(cgrp->kn, &iattr), 0);
	buffer_cg_grant(cgrp, cgrp, buffer_cg_mnt->mnt_sb, &basis);
	KUNIT_EXPECT_FALSE(test, test_granted(cgrp));

	/* Its lifetime runs from the question, not from the answer. */
	buffer_cg_grant_basis(cgrp, &basis);
	basis.asked -= BUFFER_CG_GRANT_LIFETIME;
	buffer_cg_grant(cgrp, cgrp, buffer_cg_mnt->mnt_sb, &basis);
	KUNIT_EXPECT_FALSE(test, test_granted(cgrp));

	/*
	 * Other callers: each gets a grant while slots last, one only for
	 * all of a caller's threads, and a live caller's is not taken from
	 * it; one whose credentials are gone gives way at once.
	 */
	buffer_cg_policy_changed(NULL, LSM_POLICY_CHANGE, NULL);
	for (i = 0; i <= BUFFER_CG_GRANTS; i++) {
		callers[i] = test_caller_creds(test);
		KUNIT_EXPECT_EQ(test, test_granted_as(cgrp, callers[i], true),
				i < BUFFER_CG_GRANTS);
		/* Another thread of the caller's, which asked meanwhile. */
		if (!i)
			KUNIT_EXPECT_TRUE(test, test_granted_as(cgrp, callers[i], true));
	}
	for (i = 0; i < BUFFER_CG_GRANTS; i++)
		KUNIT_EXPECT_TRUE(test, test_granted_as(cgrp, callers[i], false));
	KUNIT_EXPECT_FALSE(test, test_granted(cgrp));
	put_cred(callers[0]);
	KUNIT_EXPECT_TRUE(test, test_granted_as(cgrp, callers[BUFFER_CG_GRANTS], true));
	for (i = 1; i <= BUFFER_CG_GRANTS; i++)
		put_cred(callers[i]);

	/* Its lifetime. */
	test_grant(cgrp);
	KUNIT_EXPECT_TRUE(test, test_granted(cgrp));
	msleep(jiffies_to_msecs(BUFFER_CG_GRANT_LIFETIME) + 100);
	KUNIT_EXPECT_FALSE(test, test_granted(cgrp));

	/* Not kept where the capability may have answered. */
	revert_creds(orig);
	put_cred(first);
	test_grant(cgrp);
	KUNIT_EXPECT_FALSE(test, test_granted(cgrp));
	cgroup_put(cgrp);
}

#ifdef SERIES_MEMCG
/*
 * memcg charges dma-bufs on cgroup v2 only. With the memory controller on a
 * v1 hierarchy, the cgroup that pays for a buffer, on the default
 * hierarchy, has no memcg of its own: get_mem_cgroup_from_cgroup() must
 * give none rather than the root memcg (a transfer "to" it would uncharge
 * the buffer from its v1 memcg), and mem_cgroup_dmabuf_enabled(), which
 * the system heap asks before charging memcg, must say no. What the heap
 * and the transfer do with that answer is not tested here. Mounts memory
 * on v1 for the test, which needs CONFIG_MEMCG_V1 and no v2 cgroup with
 * memory enabled (true at boot), and gives it back to v2.
 */
static void buffer_cg_test_memcg_v1(struct kunit *test)
{
	struct file_system_type *type;
	char options[] = "memory";
	struct mem_cgroup *memcg;
	struct vfsmount *mnt;
	int i;

	if (!IS_ENABLED(CONFIG_MEMCG_V1))
		kunit_skip(test, "memory cannot go to v1 without CONFIG_MEMCG_V1");
	if (!mem_cgroup_dmabuf_enabled())
		kunit_skip(test, "memcg is disabled or on v1 already");
	memcg = get_mem_cgroup_from_cgroup(&cgrp_dfl_root.cgrp);
	KUNIT_EXPECT_NOT_NULL(test, memcg);
	mem_cgroup_put(memcg);

	type = get_fs_type("cgroup");
	KUNIT_ASSERT_NOT_NULL(test, type);
	mnt = vfs_kern_mount(type, 0, type->name, options);
	put_filesystem(type);
	if (IS_ERR(mnt))
		kunit_skip(test, "memory is in use on v2: %ld", PTR_ERR(mnt));

	KUNIT_EXPECT_FALSE(test, mem_cgroup_dmabuf_enabled());
	memcg = get_mem_cgroup_from_cgroup(&cgrp_dfl_root.cgrp);
	KUNIT_EXPECT_NULL(test, memcg);
	mem_cgroup_put(memcg);

	/* The v1 root goes asynchronously; memory then returns to v2. */
	kern_unmount(mnt);
	for (i = 0; i < 250 && !mem_cgroup_dmabuf_enabled(); i++)
		msleep(20);
	KUNIT_EXPECT_TRUE(test, mem_cgroup_dmabuf_enabled());
}

#endif
static struct kunit_case buffer_cg_test_cases[] = {
	KUNIT_CASE(buffer_cg_test_device_names),
	KUNIT_CASE(buffer_cg_test_parse_value),
	KUNIT_CASE(buffer_cg_test_set_limits),
	KUNIT_CASE(buffer_cg_test_hierarchy),
	KUNIT_CASE(buffer_cg_test_records_and_transfer),
	KUNIT_CASE(buffer_cg_test_unregister_live),
	KUNIT_CASE(buffer_cg_test_many_devices),
	KUNIT_CASE_SLOW(buffer_cg_test_parallel),
	KUNIT_CASE(buffer_cg_test_disabled_cgroup),
	KUNIT_CASE(buffer_cg_test_charge_current),
	KUNIT_CASE(buffer_cg_test_retired_pool),
	KUNIT_CASE(buffer_cg_test_stock),
	KUNIT_CASE(buffer_cg_test_stock_other_cpu),
	KUNIT_CASE(buffer_cg_test_raw_contract),
	KUNIT_CASE(buffer_cg_test_over_bound),
	KUNIT_CASE_SLOW(buffer_cg_test_reregister_race),
	KUNIT_CASE_SLOW(buffer_cg_test_unregister_race),
	KUNIT_CASE(buffer_cg_test_stock_drain_scope),
	KUNIT_CASE(buffer_cg_test_stock_holds_pool),
	KUNIT_CASE(buffer_cg_test_raw_late_uncharge),
	KUNIT_CASE(buffer_cg_test_raw_cgroup_freed),
	KUNIT_CASE_SLOW(buffer_cg_test_raw_unregister_race),
	KUNIT_CASE(buffer_cg_test_grant),
#ifdef SERIES_MEMCG
	KUNIT_CASE(buffer_cg_test_memcg_v1),
#endif
	{}
};

static struct kunit_suite buffer_cg_test_suite = {
	.name = "buffer_cg",
	.test_cases = buffer_cg_test_cases,
};

kunit_test_suite(buffer_cg_test_suite);
#ifdef SERIES_BENCH_CHARGE

#if IS_ENABLED(CONFIG_CGROUP_BUFFER_BENCHMARK)
#include "buffer_cg_bench.c"
#endif
#endif
