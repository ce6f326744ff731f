// SPDX-License-Identifier: GPL-2.0
/*
 * Buffer cgroup controller: moving a buffer's charge to another cgroup
 *
 * Copyright (C) 2026 The buffer_cg authors
 */

#include <linux/atomic.h>
#include <linux/cgroup.h>
#include <linux/rcupdate.h>

#include "buffer_cg_internal.h"

#include <trace/events/buffer_cg.h>

static unsigned int pool_depth(struct buffer_cg_pool *pool)
{
	unsigned int depth = 0;

	while ((pool = pool->parent))
		depth++;
	return depth;
}

static struct buffer_cg_pool *pool_common_ancestor(struct buffer_cg_pool *a,
						   struct buffer_cg_pool *b)
{
	unsigned int da = pool_depth(a), db = pool_depth(b);

	for (; da > db; da--)
		a = a->parent;
	for (; db > da; db--)
		b = b->parent;
	while (a != b) {
		a = a->parent;
		b = b->parent;
	}
	return a;
}

/**
 * buffer_cg_charge_transfer() - move a buffer's whole charge to another cgroup
 * @record: the record of a charged buffer
 * @to: the cgroup to charge instead
 *
 * All or nothing: @to is charged first, then the old cgroup uncharged, so a
 * refusal by @to's limits (counted in its buffer.events) leaves the charge
 * where it was. Ancestors shared by both cgroups see no change. Both cgroups'
 * buffer.stat count the transfer. Concurrent transfers of one record are
 * safe: each one that returns 0 took effect, the last one wins. The caller
 * keeps the record from being released meanwhile.
 *
 * Context: Process context; may sleep on the first charge of @to.
 * Return: 0 on success, -EOPNOTSUPP if @record holds no charge, -ENOMEM if a
 * limit refused it.
 */
int buffer_cg_charge_transfer(struct buffer_cg_record *record,
			      struct buffer_cg *to)
{
	struct buffer_cg_pool *from, *target, *shared;
	int ret;

	if (!to)
		return -EOPNOTSUPP;
again:
	/*
	 * Pin the source cgroup, and with it the pool: a concurrent transfer
	 * may drop the record's reference, the last one if the cgroup was removed.
	 */
	rcu_read_lock();
	/* Pairs with record_fill(): the size of a record just charged. */
	from = smp_load_acquire(&record->pool);
	if (from && !css_tryget(&from->cg->css)) {
		rcu_read_unlock();
		goto again;
	}
	rcu_read_unlock();
	if (!from)
		return -EOPNOTSUPP;
	ret = 0;
	if (from->cg == to)
		goto out;

	/* The record's pool keeps a draining device alive. */
	target = buffer_cg_pool_get(to, from->state);
	if (IS_ERR(target)) {
		ret = PTR_ERR(target);
		goto out;
	}

	shared = pool_common_ancestor(from, target);
	ret = buffer_cg_pool_charge(target, shared, record->size);
	if (ret) {
		trace_buffer_cg_transfer(from, target, record->size, ret);
		pool_put(target);
		goto out;
	}
	if (cmpxchg(&record->pool, from, target) != from) {
		/* Another transfer moved it first: start over from there. */
		pool_uncharge(target, shared, record->size);
		pool_put(target);
		css_put(&from->cg->css);
		goto again;
	}
	pool_uncharge(from, shared, record->size);

	atomic64_inc(&target->transfers_in);
	atomic64_inc(&from->transfers_out);
	trace_buffer_cg_transfer(from, target, record->size, 0);
	/* The record's reference, which @target has taken over. */
	pool_put(from);
out:
	css_put(&from->cg->css);
	return ret;
}
