// SPDX-License-Identifier: GPL-2.0
/*
 * Buffer cgroup controller: charge records
 *
 * An exporter embeds a struct buffer_cg_record in each buffer it charges.
 * The record points at its pool and holds one of the pool's references, so
 * releasing or moving the charge costs O(1) and stays correct after the
 * device is unregistered or the cgroup removed.
 *
 * Copyright (C) 2026 The buffer_cg authors
 */

#include <linux/cgroup.h>
#include <linux/nsproxy.h>
#include <linux/rcupdate.h>
#include <linux/sched.h>
#include <linux/seq_file.h>
#include <linux/slab.h>
#include <linux/string.h>

#include "buffer_cg_internal.h"

#include <trace/events/buffer_cg.h>

/* Fill @record, which takes over a reference on @pool. */
static void record_fill(struct buffer_cg_record *record,
			struct buffer_cg_pool *pool, u64 size)
{
	record->size = size;
	/* Pairs with smp_load_acquire() in transfer and fdinfo: size first. */
	smp_store_release(&record->pool, pool);
}
#ifdef SERIES_STOCK

/* Fill @record from this CPU's stock of @cg's pool for @state, if it can. */
static bool record_from_stock(struct buffer_cg_record *record,
			      struct buffer_cg *cg,
			      struct buffer_cg_dev_state *state, u64 size)
{
	struct buffer_cg_pool *pool = buffer_cg_stock_consume(cg, state, size);

	if (!pool)
		return false;
	trace_buffer_cg_charge(pool, size, 0);
	record_fill(record, pool, size);
	return true;
}
#endif

/* Charge @pool and fill @record, which takes over the caller's reference. */
static int record_charge(struct buffer_cg_record *record,
			 struct buffer_cg_pool *pool, u64 size)
{
	int ret = buffer_cg_pool_charge(pool, NULL, size);

	trace_buffer_cg_charge(pool, size, ret);
	if (ret) {
		pool_put(pool);
		return ret;
	}
	record_fill(record, pool, size);
	return 0;
}

/*
 * Charge @cg, or the current task's cgroup if NULL, and fill @record.
 * Lock-free while the pair's pool is in use: the device's state, the
 * current task's css and the pool stay valid under RCU, and only the pool's
 * reference count changes.
 */
static int charge_cgroup(struct buffer_cg_record *record, struct buffer_cg *cg,
			 struct buffer_cg_device *dev, u64 size)
{
	struct buffer_cg_dev_state *state;
	struct buffer_cg_pool *pool = NULL;
	struct buffer_cg *target;

	rcu_read_lock();
	state = rcu_dereference(dev->state);
	if (state) {
		target = cg ?: css_buffer_cg(task_css(current, buffer_cgrp_id));
#ifdef SERIES_STOCK
		if (record_from_stock(record, target, state, size)) {
			rcu_read_unlock();
			return 0;
		}
#endif
		pool = buffer_cg_pool_tryget(target, state);
	}
	rcu_read_unlock();

	if (unlikely(!pool)) {
		target = cg ?: buffer_cg_get_current();
		pool = buffer_cg_pool_get_device(target, dev);
		if (!cg)
			buffer_cg_put(target);
		if (IS_ERR(pool))
			return PTR_ERR(pool);
	}
	return record_charge(record, pool, size);
}

/**
 * buffer_cg_charge() - charge a buffer and record the charge in it
 * @record: the record embedded in the buffer; overwritten
 * @cg: the cgroup to charge; NULL (controller disabled) charges nothing
 * @dev: a registered device
 * @size: the buffer's size in bytes
 *
 * Like buffer_cg_try_charge(), and on success fills @record so that
 * buffer_cg_charge_release() and buffer_cg_charge_transfer() work in O(1),
 * even after @dev is unregistered. The record keeps @cg and @dev alive
 * through its pool; the caller's reference on @cg stays the caller's. To
 * charge the current task, buffer_cg_charge_current() needs none.
 *
 * Context: Process context; see buffer_cg_try_charge().
 * Return: 0 on success (@record is left uncharged when @cg is NULL), -ENOMEM
 * if a limit refused the charge, -ENODEV if @dev is not registered.
 */
int buffer_cg_charge(struct buffer_cg_record *record, struct buffer_cg *cg,
		     struct buffer_cg_device *dev, u64 size)
{
	memset(record, 0, sizeof(*record));
	return cg ? charge_cgroup(record, cg, dev, size) : 0;
}
EXPORT_SYMBOL_GPL(buffer_cg_charge);

/**
 * buffer_cg_charge_current() - charge a buffer to the current task's cgroup
 * @record: the record embedded in the buffer; overwritten
 * @dev: a registered device
 * @size: the buffer's size in bytes
 *
 * buffer_cg_charge() of the cgroup buffer_cg_get_current() returns, for the
 * common case of a task allocating for itself, without taking a reference on
 * that cgroup: once the pair has a pool in use, a charge updates no
 * reference count but the pool's own.
 *
 * Context: Process context; see buffer_cg_try_charge().
 * Return: see buffer_cg_charge(); @record is left uncharged when the
 * controller is disabled.
 */
int buffer_cg_charge_current(struct buffer_cg_record *record,
			     struct buffer_cg_device *dev, u64 size)
{
	memset(record, 0, sizeof(*record));
	if (!cgroup_subsys_enabled(buffer_cgrp_subsys))
		return 0;
	return charge_cgroup(record, NULL, dev, size);
}
EXPORT_SYMBOL_GPL(buffer_cg_charge_current);

/**
 * buffer_cg_charge_release() - release the charge recorded in a buffer
 * @record: the record; left uncharged, so a second call does nothing
 *
 * Called when the buffer is freed. Stays correct after the device was
#ifdef SERIES_STOCK
 * unregistered; the last release of an unregistered device removes it. In
 * task context the bytes may stay charged, out of the cgroup's buffer.current,
 * for the next buffer of the same cgroup and device charged on this CPU.
#else
 * unregistered; the last release of an unregistered device removes it.
#endif
 *
 * Context: Any context.
 */
void buffer_cg_charge_release(struct buffer_cg_record *record)
{
	struct buffer_cg_pool *pool = record->pool;
	u64 size = record->size;

	if (!pool)
		return;

	memset(record, 0, sizeof(*record));
	trace_buffer_cg_uncharge(pool, size, 0);
#ifdef SERIES_STOCK
	if (buffer_cg_stock_refill(pool, size))
		return;
#endif
	pool_uncharge(pool, NULL, size);
	pool_put(pool);
}
EXPORT_SYMBOL_GPL(buffer_cg_charge_release);

/**
 * buffer_cg_charge_show_fdinfo() - print a charge for /proc/<pid>/fdinfo
 * @m: the fdinfo seq_file
 * @record: the buffer's record, which must not be released meanwhile
 *
 * Prints ``charge_device:`` and ``charge_cgroup:`` (the path as seen from the
 * reader's cgroup namespace); prints nothing for an uncharged buffer.
 *
 * Context: Process context.
 */
void buffer_cg_charge_show_fdinfo(struct seq_file *m,
				  const struct buffer_cg_record *record)
{
	struct buffer_cg_pool *pool;
	char *path;

	/* Pin the cgroup: a concurrent transfer may drop the record's reference. */
	rcu_read_lock();
	/* Pairs with record_fill(), as in buffer_cg_charge_transfer(). */
	pool = smp_load_acquire(&record->pool);
	if (pool && !css_tryget(&pool->cg->css))
		pool = NULL;
	rcu_read_unlock();
	if (!pool)
		return;

	seq_printf(m, "charge_device:\t%s\n", pool->state->name);
	path = kmalloc(PATH_MAX, GFP_KERNEL);
	if (path && cgroup_path_ns(pool->cg->css.cgroup, path, PATH_MAX,
				   current->nsproxy->cgroup_ns) >= 0)
		seq_printf(m, "charge_cgroup:\t%s\n", path);
	kfree(path);
	css_put(&pool->cg->css);
}
