// SPDX-License-Identifier: GPL-2.0
/*
 * KUnit tests of the buffer cgroup controller device that each V4L2 device
 * registers: its name, a name that is taken, and the device going away at
 * v4l2_device_disconnect() while a buffer is still charged.
 *
 * Copyright (C) 2026 The buffer_cg authors
 */

#include <kunit/test.h>
#include <linux/buffer_cg.h>
#include <linux/string.h>

#include <media/v4l2-device.h>

KUNIT_DEFINE_ACTION_WRAPPER(v4l2_device_unregister_action,
			    v4l2_device_unregister, struct v4l2_device *);

/*
 * Registered until the test ends, also when an assertion fails, so that the
 * controller does not keep the name for the next case; unregistering again
 * is a no-op.
 */
static struct v4l2_device *register_named(struct kunit *test, const char *name)
{
	struct v4l2_device *v4l2_dev;
	int ret;

	v4l2_dev = kunit_kzalloc(test, sizeof(*v4l2_dev), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, v4l2_dev);
	strscpy(v4l2_dev->name, name);
	KUNIT_ASSERT_EQ(test, v4l2_device_register(NULL, v4l2_dev), 0);
	ret = kunit_add_action_or_reset(test, v4l2_device_unregister_action,
					v4l2_dev);
	KUNIT_ASSERT_EQ(test, ret, 0);
	return v4l2_dev;
}

/* The name of the device buffers are charged against, or NULL. */
static const char *charged_as(struct v4l2_device *v4l2_dev)
{
	struct buffer_cg_device *dev = v4l2_device_buffer_cg(v4l2_dev);

	return dev ? dev->name : NULL;
}

/* Every byte the controller does not take, ASCII or not, becomes '_'. */
static void v4l2_buffer_cg_test_name(struct kunit *test)
{
	struct v4l2_device *v4l2_dev = register_named(test, "kunit cam\xe9+1");
	struct buffer_cg_record record = {};
	struct buffer_cg_device *dev = v4l2_device_buffer_cg(v4l2_dev);

	KUNIT_ASSERT_STREQ(test, charged_as(v4l2_dev), "v4l2/kunit_cam_+1");
	KUNIT_EXPECT_EQ(test, buffer_cg_charge_current(&record, dev, PAGE_SIZE), 0);
	KUNIT_EXPECT_TRUE(test, buffer_cg_charged(&record));
	buffer_cg_charge_release(&record);
	v4l2_device_unregister(v4l2_dev);
	KUNIT_EXPECT_NULL(test, charged_as(v4l2_dev));
}

/* A second device of the same name is accounted under a suffixed one. */
static void v4l2_buffer_cg_test_taken_name(struct kunit *test)
{
	struct v4l2_device *first = register_named(test, "kunit dup");
	struct v4l2_device *second = register_named(test, "kunit dup");
	struct v4l2_device *third = register_named(test, "kunit dup");

	KUNIT_EXPECT_STREQ(test, charged_as(first), "v4l2/kunit_dup");
	KUNIT_EXPECT_STREQ(test, charged_as(second), "v4l2/kunit_dup-1");
	KUNIT_EXPECT_STREQ(test, charged_as(third), "v4l2/kunit_dup-2");
	v4l2_device_unregister(third);
	v4l2_device_unregister(second);
	v4l2_device_unregister(first);
}

/*
 * A device unplugged while a buffer is charged: no new charge, and the same
 * hardware plugged back in before the last close takes its name back, with
 * the charge that is still there.
 */
static void v4l2_buffer_cg_test_disconnect(struct kunit *test)
{
	struct v4l2_device *old = register_named(test, "kunit usb");
	struct buffer_cg_record record = {}, late = {};
	struct buffer_cg_device *dev = v4l2_device_buffer_cg(old);
	struct buffer_cg_dev_state *state;
	struct v4l2_device *new;

	KUNIT_ASSERT_NOT_NULL(test, dev);
	state = rcu_access_pointer(dev->state);
	KUNIT_ASSERT_EQ(test, buffer_cg_charge_current(&record, dev, PAGE_SIZE), 0);

	v4l2_device_disconnect(old);
	KUNIT_EXPECT_NULL(test, charged_as(old));
	/* A queue that still points at the device cannot charge it. */
	KUNIT_EXPECT_EQ(test, buffer_cg_charge_current(&late, dev, PAGE_SIZE),
			-ENODEV);
	KUNIT_EXPECT_FALSE(test, buffer_cg_charged(&late));

	new = register_named(test, "kunit usb");
	KUNIT_EXPECT_STREQ(test, charged_as(new), "v4l2/kunit_usb");
	/* The controller's device, with its limits and the charge, is back. */
	KUNIT_EXPECT_PTR_EQ(test, rcu_access_pointer(new->cg_device.state), state);

	buffer_cg_charge_release(&record);
	v4l2_device_unregister(old);
	KUNIT_EXPECT_STREQ(test, charged_as(new), "v4l2/kunit_usb");
	v4l2_device_unregister(new);
}

static struct kunit_case v4l2_buffer_cg_test_cases[] = {
	KUNIT_CASE(v4l2_buffer_cg_test_name),
	KUNIT_CASE(v4l2_buffer_cg_test_taken_name),
	KUNIT_CASE(v4l2_buffer_cg_test_disconnect),
	{}
};

static struct kunit_suite v4l2_buffer_cg_test_suite = {
	.name = "v4l2_device_buffer_cg",
	.test_cases = v4l2_buffer_cg_test_cases,
};

kunit_test_suite(v4l2_buffer_cg_test_suite);

MODULE_DESCRIPTION("KUnit tests of V4L2 devices in the buffer controller");
MODULE_LICENSE("GPL");
