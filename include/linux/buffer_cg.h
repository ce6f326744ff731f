/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Buffer cgroup controller: accounting and limits for DMA-BUF and GPU buffers.
 *
 * Exporters register a struct buffer_cg_device and charge whole buffers to a
 * cgroup against it. See Documentation/driver-api/buffer_cg.rst.
 */
#ifndef _LINUX_BUFFER_CG_H
#define _LINUX_BUFFER_CG_H

#include <linux/compiler.h>
#include <linux/err.h>
#include <linux/errno.h>
#include <linux/types.h>

#include <asm/current.h>

struct buffer_cg;
struct buffer_cg_dev_state;
#ifdef SERIES_MEMCG
struct cgroup;
#endif
#ifdef SERIES_RECORD
struct buffer_cg_pool;
struct seq_file;
#endif
struct task_struct;

/* Longest device name, not counting the terminating NUL. */
#define BUFFER_CG_DEVICE_NAME_MAX 63

/**
 * struct buffer_cg_device - a source of buffers that the controller accounts
 * @name: unique name, 1 to %BUFFER_CG_DEVICE_NAME_MAX ASCII bytes of
 *	[A-Za-z0-9_.,:@+/-]; copied at registration, so it may live on the stack
 * @capacity: total bytes the device can hand out, or 0 if unknown; shown in
 *	buffer.capacity
 * @state: owned by the controller; the driver only zeroes it
 *
 * The driver owns this structure and may free it as soon as
 * buffer_cg_unregister_device() returns, even with buffers still charged:
 * those charges live on in the controller until they are released.
 */
struct buffer_cg_device {
	const char *name;
	u64 capacity;
	struct buffer_cg_dev_state __rcu *state;
};
#ifdef SERIES_RECORD

/**
 * struct buffer_cg_record - one buffer's charge, embedded in the buffer
 * @pool: the (cgroup, device) pair paying for the buffer, or NULL if the
 *	buffer is not charged
 * @size: the charged size in bytes
 *
 * An exporter embeds one in each buffer it charges. It keeps the cgroup and
 * the device alive, so releasing or transferring the charge costs O(1) and
 * stays correct after the device has been unregistered or the cgroup
 * removed. A zeroed record means "not charged". The record may be copied by
 * assignment before the buffer is published; the original must not be
 * released afterwards.
 */
struct buffer_cg_record {
	struct buffer_cg_pool *pool;
	u64 size;
};
#endif

#ifdef CONFIG_CGROUP_BUFFER

int buffer_cg_register_device(struct buffer_cg_device *dev);
void buffer_cg_unregister_device(struct buffer_cg_device *dev);

int buffer_cg_try_charge(struct buffer_cg *cg, struct buffer_cg_device *dev,
			 u64 usage);
void buffer_cg_uncharge(struct buffer_cg *cg, struct buffer_cg_device *dev,
			u64 usage);

struct buffer_cg *buffer_cg_get_task(struct task_struct *task);
#ifdef SERIES_CHARGE_FD
struct buffer_cg *buffer_cg_get_charge_target(int charge_fd);
#endif
#ifdef SERIES_MEMCG
struct cgroup *buffer_cg_get_charge_cgroup(int charge_fd);
void buffer_cg_put_cgroup(struct cgroup *cgrp);
struct buffer_cg *buffer_cg_get_cgroup(struct cgroup *cgrp);
#endif
void buffer_cg_put(struct buffer_cg *cg);
#ifdef SERIES_RECORD

int buffer_cg_charge(struct buffer_cg_record *record, struct buffer_cg *cg,
		     struct buffer_cg_device *dev, u64 size);
int buffer_cg_charge_current(struct buffer_cg_record *record,
			     struct buffer_cg_device *dev, u64 size);
void buffer_cg_charge_release(struct buffer_cg_record *record);
#ifdef SERIES_TRANSFER
int buffer_cg_charge_transfer(struct buffer_cg_record *record,
			      struct buffer_cg *to);
#endif
void buffer_cg_charge_show_fdinfo(struct seq_file *m,
				  const struct buffer_cg_record *record);

/**
 * buffer_cg_charged() - tell whether a charge record holds a charge
 * @record: the record
 *
 * Return: true if @record currently charges a cgroup.
 */
static inline bool buffer_cg_charged(const struct buffer_cg_record *record)
{
	/* A transfer may move the charge meanwhile, never remove it. */
	return READ_ONCE(record->pool);
}
#endif

#else /* CONFIG_CGROUP_BUFFER */

static inline int buffer_cg_register_device(struct buffer_cg_device *dev)
{
	return 0;
}

static inline void buffer_cg_unregister_device(struct buffer_cg_device *dev)
{
}

static inline int buffer_cg_try_charge(struct buffer_cg *cg,
				       struct buffer_cg_device *dev, u64 usage)
{
	return 0;
}

static inline void buffer_cg_uncharge(struct buffer_cg *cg,
				      struct buffer_cg_device *dev, u64 usage)
{
}

static inline struct buffer_cg *buffer_cg_get_task(struct task_struct *task)
{
	return NULL;
}
#ifdef SERIES_CHARGE_FD

/* Without the controller, nobody can be named to pay. */
static inline struct buffer_cg *buffer_cg_get_charge_target(int charge_fd)
{
	return ERR_PTR(-EOPNOTSUPP);
}
#endif
#ifdef SERIES_MEMCG

static inline struct cgroup *buffer_cg_get_charge_cgroup(int charge_fd)
{
	return ERR_PTR(-EOPNOTSUPP);
}

static inline void buffer_cg_put_cgroup(struct cgroup *cgrp)
{
}

static inline struct buffer_cg *buffer_cg_get_cgroup(struct cgroup *cgrp)
{
	return NULL;
}
#endif

static inline void buffer_cg_put(struct buffer_cg *cg)
{
}
#ifdef SERIES_RECORD

static inline int buffer_cg_charge(struct buffer_cg_record *record,
				   struct buffer_cg *cg,
				   struct buffer_cg_device *dev, u64 size)
{
	return 0;
}

static inline int buffer_cg_charge_current(struct buffer_cg_record *record,
					   struct buffer_cg_device *dev,
					   u64 size)
{
	return 0;
}

static inline void buffer_cg_charge_release(struct buffer_cg_record *record)
{
}
#ifdef SERIES_TRANSFER

static inline int buffer_cg_charge_transfer(struct buffer_cg_record *record,
					    struct buffer_cg *to)
{
	return -EOPNOTSUPP;
}
#endif

static inline void
buffer_cg_charge_show_fdinfo(struct seq_file *m,
			     const struct buffer_cg_record *record)
{
}

static inline bool buffer_cg_charged(const struct buffer_cg_record *record)
{
	return false;
}
#endif

#endif /* CONFIG_CGROUP_BUFFER */

/**
 * buffer_cg_get_current() - get a reference on the current task's cgroup
 *
 * Return: see buffer_cg_get_task().
 */
static inline struct buffer_cg *buffer_cg_get_current(void)
{
	return buffer_cg_get_task(current);
}

#endif /* _LINUX_BUFFER_CG_H */
