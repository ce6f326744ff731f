// SPDX-License-Identifier: GPL-2.0
/*
 * A test exporter for the buffer cgroup controller.
 *
 * /dev/test_buffer_cg hands out dma-bufs charged to the caller's cgroup
 * against the controller device "test/exporter". Its UNPLUG ioctl
 * unregisters that device and frees it while buffers may still be alive,
 * the way a hot-unplugged device goes, and PLUG registers it again; module
 * unload unplugs too. The buffers own no memory: the controller only ever
 * sees their size. Like every exporter's, they pin the module until their
 * last reference is gone.
 *
 * tools/testing/selftests/cgroup/test_buffer_exporter drives it.
 */
#include <linux/buffer_cg.h>
#include <linux/dma-buf.h>
#include <linux/err.h>
#include <linux/fs.h>
#include <linux/miscdevice.h>
#include <linux/module.h>
#include <linux/mutex.h>
#include <linux/slab.h>
#include <linux/uaccess.h>

#include "test_buffer_cg_uapi.h"

static struct miscdevice test_misc;

/* The plugged-in device, or NULL after TEST_BUFFER_CG_IOCTL_UNPLUG. */
static struct buffer_cg_device *test_device;
/* Serializes charging against unplugging, which frees test_device. */
static DEFINE_MUTEX(test_device_lock);

static struct sg_table *test_map(struct dma_buf_attachment *attach,
				 enum dma_data_direction dir)
{
	/* The buffers have no memory to map. */
	return ERR_PTR(-EINVAL);
}

static void test_unmap(struct dma_buf_attachment *attach,
		       struct sg_table *sgt, enum dma_data_direction dir)
{
}

static void test_release(struct dma_buf *dmabuf)
{
	/* The dma-buf core releases the charge. */
}

static const struct dma_buf_ops test_dma_buf_ops = {
	.map_dma_buf = test_map,
	.unmap_dma_buf = test_unmap,
	.release = test_release,
};

static int test_alloc(struct test_buffer_cg_alloc *arg)
{
	DEFINE_DMA_BUF_EXPORT_INFO(exp_info);
	struct buffer_cg_record charge = {};
	struct dma_buf *dmabuf;
	int ret, fd;

	if (!arg->len || arg->__reserved)
		return -EINVAL;
	mutex_lock(&test_device_lock);
	ret = test_device ? buffer_cg_charge_current(&charge, test_device,
						     PAGE_ALIGN(arg->len)) :
			    -ENODEV;
	mutex_unlock(&test_device_lock);
	if (ret)
		return ret;

	exp_info.ops = &test_dma_buf_ops;
	/* dma_buf_export() wants private data; these buffers have none. */
	exp_info.priv = &test_misc;
	exp_info.size = PAGE_ALIGN(arg->len);
	exp_info.flags = O_RDWR | O_CLOEXEC;
	dmabuf = dma_buf_export(&exp_info);
	if (IS_ERR(dmabuf)) {
		buffer_cg_charge_release(&charge);
		return PTR_ERR(dmabuf);
	}
	/* From here on, the last dma_buf_put() releases the charge. */
	dmabuf->own_charge = charge;
	dmabuf->charge = &dmabuf->own_charge;
	fd = dma_buf_fd(dmabuf, O_CLOEXEC);
	if (fd < 0) {
		dma_buf_put(dmabuf);
		return fd;
	}
	arg->fd = fd;
	return 0;
}

/*
 * Register a new device. Allocated, name included, and freed right after
 * the controller copied what it needs, so that KASAN sees any later use.
 */
static int test_plug(void)
{
	struct buffer_cg_device *dev;
	int ret;

	mutex_lock(&test_device_lock);
	if (test_device) {
		ret = -EEXIST;
		goto out;
	}
	ret = -ENOMEM;
	dev = kzalloc(sizeof(*dev), GFP_KERNEL);
	if (!dev)
		goto out;
	dev->name = kstrdup(TEST_BUFFER_CG_DEVICE, GFP_KERNEL);
	dev->capacity = SZ_1G;
	if (dev->name)
		ret = buffer_cg_register_device(dev);
	kfree(dev->name);
	dev->name = NULL;
	if (ret)
		kfree(dev);
	else
		test_device = dev;
out:
	mutex_unlock(&test_device_lock);
	return ret;
}

static void test_unplug(void)
{
	mutex_lock(&test_device_lock);
	if (test_device) {
		buffer_cg_unregister_device(test_device);
		/* Charges outlive the device; the controller must not need it. */
		kfree(test_device);
		test_device = NULL;
	}
	mutex_unlock(&test_device_lock);
}

static long test_ioctl(struct file *file, unsigned int cmd, unsigned long uarg)
{
	struct test_buffer_cg_alloc arg;
	int ret;

	switch (cmd) {
	case TEST_BUFFER_CG_IOCTL_ALLOC:
		if (copy_from_user(&arg, (void __user *)uarg, sizeof(arg)))
			return -EFAULT;
		ret = test_alloc(&arg);
		if (ret)
			return ret;
		if (copy_to_user((void __user *)uarg, &arg, sizeof(arg))) {
			/* The fd is installed; userspace will not learn it. */
			return -EFAULT;
		}
		return 0;
	case TEST_BUFFER_CG_IOCTL_UNPLUG:
		test_unplug();
		return 0;
	case TEST_BUFFER_CG_IOCTL_PLUG:
		return test_plug();
	default:
		return -ENOTTY;
	}
}

static const struct file_operations test_fops = {
	.owner = THIS_MODULE,
	.unlocked_ioctl = test_ioctl,
	.compat_ioctl = compat_ptr_ioctl,
};

static struct miscdevice test_misc = {
	.minor = MISC_DYNAMIC_MINOR,
	.name = "test_buffer_cg",
	.fops = &test_fops,
};

static int __init test_buffer_cg_init(void)
{
	int ret;

	ret = test_plug();
	if (ret)
		return ret;
	ret = misc_register(&test_misc);
	if (ret)
		test_unplug();
	return ret;
}

static void __exit test_buffer_cg_exit(void)
{
	misc_deregister(&test_misc);
	test_unplug();
}

module_init(test_buffer_cg_init);
module_exit(test_buffer_cg_exit);
MODULE_DESCRIPTION("Test exporter for the buffer cgroup controller");
MODULE_LICENSE("GPL");
MODULE_IMPORT_NS(DMA_BUF);
