// SPDX-License-Identifier: GPL-2.0
/*
 * KUnit tests of GEM objects in the buffer cgroup controller: a mock driver
 * charges an object as drivers do, frees it in the ways drivers do, exports
 * it through its own path, and the buffer_cg trace events count what the
 * controller saw.
 *
 * Copyright (C) 2026 The buffer_cg authors
 */

#include <kunit/test.h>
#include <linux/buffer_cg.h>
#include <linux/dma-buf.h>
#include <linux/file.h>
#include <linux/slab.h>
#include <trace/events/buffer_cg.h>

#include <drm/drm_drv.h>
#include <drm/drm_file.h>
#include <drm/drm_gem.h>
#include <drm/drm_kunit_helpers.h>
#include <drm/drm_prime.h>

#include "../drm_internal.h"

/* An object size no other buffer of a booting kernel has. */
#define TEST_SIZE (13 * PAGE_SIZE)

struct gem_cg_test {
	struct drm_device drm;
	struct drm_file *file;
	/* The pool of the test object's charge, and what happened to it. */
	struct buffer_cg_pool *pool;
	atomic_t charges;
	atomic_t uncharges;
};

static struct gem_cg_test *current_test;

static void probe_charge(void *data, struct buffer_cg_pool *pool, u64 size,
			 int result)
{
	struct gem_cg_test *t = data;

	if (size != TEST_SIZE || result)
		return;
	WRITE_ONCE(t->pool, pool);
	atomic_inc(&t->charges);
}

static void probe_uncharge(void *data, struct buffer_cg_pool *pool, u64 size,
			   int result)
{
	struct gem_cg_test *t = data;

	if (size == TEST_SIZE && pool == READ_ONCE(t->pool))
		atomic_inc(&t->uncharges);
}

/* Frees as i915 does: without drm_gem_object_release(). */
static void free_without_release(struct drm_gem_object *obj)
{
	kfree(obj);
}

static void free_with_release(struct drm_gem_object *obj)
{
	drm_gem_object_release(obj);
	kfree(obj);
}

static const struct dma_buf_ops own_dmabuf_ops = {
	.map_dma_buf = drm_gem_map_dma_buf,
	.unmap_dma_buf = drm_gem_unmap_dma_buf,
	.release = drm_gem_dmabuf_release,
};

/* Exports as virtio-gpu and vmwgfx do: without drm_gem_dmabuf_export(). */
static struct dma_buf *export_own_way(struct drm_gem_object *obj, int flags)
{
	DEFINE_DMA_BUF_EXPORT_INFO(exp_info);
	struct dma_buf *dmabuf;

	exp_info.ops = &own_dmabuf_ops;
	exp_info.size = obj->size;
	exp_info.flags = flags;
	exp_info.priv = obj;
	exp_info.resv = obj->resv;
	dmabuf = dma_buf_export(&exp_info);
	if (IS_ERR(dmabuf))
		return dmabuf;
	drm_dev_get(obj->dev);
	drm_gem_object_get(obj);
	return dmabuf;
}

static const struct drm_gem_object_funcs funcs_without_release = {
	.free = free_without_release,
};

static const struct drm_gem_object_funcs funcs_with_release = {
	.free = free_with_release,
};

static const struct drm_gem_object_funcs funcs_own_export = {
	.free = free_with_release,
	.export = export_own_way,
};

static const struct drm_driver gem_cg_test_driver = {
	.driver_features = DRIVER_GEM,
	.name = "gem_cg_test",
	.desc = "buffer_cg GEM test",
	.date = "20260101",
	.major = 1,
};

static int gem_cg_test_init(struct kunit *test)
{
	struct gem_cg_test *t;
	struct device *dev;

	dev = drm_kunit_helper_alloc_device(test);
	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, dev);
	t = drm_kunit_helper_alloc_drm_device_with_driver(test, dev,
							  struct gem_cg_test,
							  drm,
							  &gem_cg_test_driver);
	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, t);
	test->priv = t;

	/* Registers the device "drm/<dev_name>" with the controller. */
	KUNIT_ASSERT_EQ(test, drm_dev_register(&t->drm, 0), 0);
	KUNIT_ASSERT_NOT_NULL(test, t->drm.cg_device.name);

	/* A file of no open file, as an in-kernel client's. */
	t->file = drm_file_alloc(t->drm.primary);
	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, t->file);

	KUNIT_ASSERT_EQ(test, register_trace_buffer_cg_charge(probe_charge, t),
			0);
	KUNIT_ASSERT_EQ(test,
			register_trace_buffer_cg_uncharge(probe_uncharge, t), 0);
	current_test = t;
	return 0;
}

static void gem_cg_test_exit(struct kunit *test)
{
	struct gem_cg_test *t = test->priv;

	if (!t || current_test != t)
		return;
	unregister_trace_buffer_cg_charge(probe_charge, t);
	unregister_trace_buffer_cg_uncharge(probe_uncharge, t);
	tracepoint_synchronize_unregister();
	drm_file_free(t->file);
	drm_dev_unregister(&t->drm);
	current_test = NULL;
}

/* A new object with a handle in the test's file, charged once. */
static struct drm_gem_object *
create_charged(struct kunit *test, const struct drm_gem_object_funcs *funcs,
	       u32 *handle)
{
	struct gem_cg_test *t = test->priv;
	struct drm_gem_object *obj;

	obj = kzalloc(sizeof(*obj), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, obj);
	obj->funcs = funcs;
	drm_gem_private_object_init(&t->drm, obj, TEST_SIZE);

	KUNIT_ASSERT_EQ(test, drm_gem_handle_create(t->file, obj, handle), 0);
	KUNIT_EXPECT_TRUE(test, buffer_cg_charged(&obj->charge));
	KUNIT_EXPECT_EQ(test, atomic_read(&t->charges), 1);

	/* The handle holds the object now. */
	drm_gem_object_put(obj);
	return obj;
}

/*
 * A driver whose free callback skips drm_gem_object_release(), as i915's
 * does, still has the charge released, once, when the last reference goes.
 */
static void gem_cg_test_free_without_release(struct kunit *test)
{
	struct gem_cg_test *t = test->priv;
	u32 handle;

	create_charged(test, &funcs_without_release, &handle);
	KUNIT_EXPECT_EQ(test, atomic_read(&t->uncharges), 0);
	KUNIT_ASSERT_EQ(test, drm_gem_handle_delete(t->file, handle), 0);
	KUNIT_EXPECT_EQ(test, atomic_read(&t->uncharges), 1);
}

/* A driver that calls drm_gem_object_release() is not uncharged twice. */
static void gem_cg_test_free_with_release(struct kunit *test)
{
	struct gem_cg_test *t = test->priv;
	u32 handle;

	create_charged(test, &funcs_with_release, &handle);
	KUNIT_ASSERT_EQ(test, drm_gem_handle_delete(t->file, handle), 0);
	KUNIT_EXPECT_EQ(test, atomic_read(&t->uncharges), 1);
}

/*
 * A dma-buf exported through the driver's own path carries the object's
 * charge; freeing both releases it once, after the last of them goes.
 */
static void gem_cg_test_own_export(struct kunit *test)
{
	struct gem_cg_test *t = test->priv;
	struct drm_gem_object *obj;
	struct dma_buf *dmabuf;
	u32 handle;

	obj = create_charged(test, &funcs_own_export, &handle);
	dmabuf = drm_gem_prime_handle_to_dmabuf(&t->drm, t->file, handle, 0);
	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, dmabuf);
	KUNIT_EXPECT_PTR_EQ(test, dmabuf->charge, &obj->charge);
	KUNIT_EXPECT_TRUE(test, buffer_cg_charged(dmabuf->charge));
	KUNIT_EXPECT_FALSE(test, buffer_cg_charged(&dmabuf->own_charge));

	/* The dma-buf keeps the object, and its charge, alive. */
	KUNIT_ASSERT_EQ(test, drm_gem_handle_delete(t->file, handle), 0);
	flush_delayed_fput();
	KUNIT_EXPECT_EQ(test, atomic_read(&t->uncharges), 0);

	/* A kthread's last fput is deferred: wait for the release. */
	dma_buf_put(dmabuf);
	flush_delayed_fput();
	KUNIT_EXPECT_EQ(test, atomic_read(&t->uncharges), 1);
	KUNIT_EXPECT_EQ(test, atomic_read(&t->charges), 1);
}

static struct kunit_case gem_cg_test_cases[] = {
	KUNIT_CASE(gem_cg_test_free_without_release),
	KUNIT_CASE(gem_cg_test_free_with_release),
	KUNIT_CASE(gem_cg_test_own_export),
	{}
};

static struct kunit_suite gem_cg_test_suite = {
	.name = "drm_gem_buffer_cg",
	.init = gem_cg_test_init,
	.exit = gem_cg_test_exit,
	.test_cases = gem_cg_test_cases,
};

kunit_test_suite(gem_cg_test_suite);

MODULE_DESCRIPTION("KUnit tests of GEM objects in the buffer controller");
MODULE_LICENSE("GPL");
