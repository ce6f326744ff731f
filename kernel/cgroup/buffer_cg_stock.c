// SPDX-License-Identifier: GPL-2.0
/*
 * Buffer cgroup controller: the per-CPU stock
 *
 * A buffer released in task context leaves its bytes charged, and its
 * pool reference held, in its CPU's stock, for the next buffer of the same
 * pool charged on that CPU to take: allocating and freeing in turn, the
 * common pattern, then touches neither the pool nor its ancestors. See
 * struct buffer_cg_stock for what keeps the files and the limits exact.
 *
 * Copyright (C) 2026 The buffer_cg authors
 */

#include <linux/cpu.h>
#include <linux/cpuhotplug.h>
#include <linux/local_lock.h>
#include <linux/percpu.h>
#include <linux/rcupdate.h>
#include <linux/workqueue.h>

#include "buffer_cg_internal.h"

DEFINE_PER_CPU(struct buffer_cg_stock, buffer_cg_stock) = {
	.lock = INIT_LOCAL_LOCK(lock),
};

/*
 * Does @pool count in @cg's usage of @state? NULL for either matches all;
 * the root stands for every cgroup.
 */
static bool pool_in_subtree(struct buffer_cg_pool *pool, struct buffer_cg *cg,
			    struct buffer_cg_dev_state *state)
{
	if (state && pool->state != state)
		return false;
	if (!cg || buffer_cg_is_root(cg))
		return true;
	for (; pool; pool = pool->parent)
		if (pool->cg == cg)
			return true;
	return false;
}

/*
 * What the stocks of all CPUs keep: the bytes of @pool's subtree, and
 * the references on @pool itself. A racy sum, exact when the stocks are quiet.
 */
void buffer_cg_stock_kept(struct buffer_cg_pool *pool, long *bytes,
			  long *refs)
{
	struct buffer_cg_stock *stock;
	struct buffer_cg_pool *kept;
	int cpu;

	*bytes = 0;
	*refs = 0;
	/* A stock's pool is freed only after the stock lets it go. */
	rcu_read_lock();
	for_each_possible_cpu(cpu) {
		stock = per_cpu_ptr(&buffer_cg_stock, cpu);
		kept = READ_ONCE(stock->pool);
		if (!kept || !pool_in_subtree(kept, pool->cg, pool->state))
			continue;
		*bytes += READ_ONCE(stock->bytes);
		/* The records' references, and the stock's own. */
		if (kept == pool)
			*refs += READ_ONCE(stock->nr_refs) + 1;
	}
	rcu_read_unlock();
}

/* Give back what @stock keeps; on its CPU under its lock. */
static void stock_drain(struct buffer_cg_stock *stock)
{
	struct buffer_cg_pool *pool = stock->pool;

	if (!pool)
		return;
	/* First, so that a reader that finds the pool finds it alive. */
	WRITE_ONCE(stock->pool, NULL);
	stock->cg = NULL;
	stock->state = NULL;
	pool_uncharge(pool, NULL, stock->bytes);
	pool_put_many(pool, stock->nr_refs + 1);
	WRITE_ONCE(stock->bytes, 0);
	WRITE_ONCE(stock->nr_refs, 0);
}

static void stock_drain_work(struct work_struct *work)
{
	/* Queued on this CPU: the stock is this CPU's own. */
	local_lock(&buffer_cg_stock.lock);
	stock_drain(this_cpu_ptr(&buffer_cg_stock));
	local_unlock(&buffer_cg_stock.lock);
}

/*
 * Drain the stocks that keep bytes of @cg's subtree for @state (NULL for
 * either: all), and with @wait, wait for it: a limit must not refuse a charge
 * for bytes that are in no buffer. Only CPUs whose stock keeps such bytes
 * get work, and waiting for the others costs nothing. Retiring a pool does
 * not wait: cgroup removal holds cgroup_mutex. Return: whether any stock
 * was to be drained.
 *
 * Context: Process context; sleeps with @wait.
 */
bool buffer_cg_stock_drain_all(struct buffer_cg *cg,
			       struct buffer_cg_dev_state *state, bool wait)
{
	struct buffer_cg_stock *stock;
	struct buffer_cg_pool *kept;
	bool drained = false;
	int cpu;

	/* Pairs with stock_switch(): after the new limit or state is stored. */
	smp_mb();
	/* An offline CPU's stock is empty: see buffer_cg_cpu_dead(). */
	cpus_read_lock();
	rcu_read_lock();
	for_each_online_cpu(cpu) {
		stock = per_cpu_ptr(&buffer_cg_stock, cpu);
		kept = READ_ONCE(stock->pool);
		if (!kept || !pool_in_subtree(kept, cg, state))
			continue;
		drained = true;
		queue_work_on(cpu, system_highpri_wq, &stock->drain_work);
	}
	rcu_read_unlock();
	for_each_online_cpu(cpu)
		if (wait)
			flush_work(&per_cpu_ptr(&buffer_cg_stock, cpu)->drain_work);
	cpus_read_unlock();
	return drained;
}

/*
 * @cg's pool for @state with @size bytes and a pool reference taken from this
 * CPU's stock, or NULL if the stock cannot serve the charge.
 */
struct buffer_cg_pool *buffer_cg_stock_consume(struct buffer_cg *cg,
					       struct buffer_cg_dev_state *state,
					       u64 size)
{
	struct buffer_cg_stock *stock;
	struct buffer_cg_pool *pool = NULL;

	if (!in_task())
		return NULL;
	local_lock(&buffer_cg_stock.lock);
	stock = this_cpu_ptr(&buffer_cg_stock);
	if (stock->cg == cg && stock->state == state && stock->bytes >= size &&
	    stock->nr_refs) {
		WRITE_ONCE(stock->bytes, stock->bytes - size);
		WRITE_ONCE(stock->nr_refs, stock->nr_refs - 1);
		pool = stock->pool;
	}
	local_unlock(&buffer_cg_stock.lock);
	return pool;
}

/* Live and within every limit up the tree: see struct buffer_cg_stock. */
static bool pool_may_stock(struct buffer_cg_pool *pool)
{
	if (!READ_ONCE(pool->live))
		return false;
	for (; pool; pool = pool->parent)
		if (atomic_long_read(&pool->usage) > READ_ONCE(pool->max))
			return false;
	return true;
}

/*
 * Make @stock keep @pool, after giving back what it kept of another, if
 * @pool may be kept. Out of line: a release of the stock's own pool, the
 * common case, then needs none of the registers this takes.
 */
static noinline bool stock_switch(struct buffer_cg_stock *stock,
				  struct buffer_cg_pool *pool)
{
	if (!pool_may_stock(pool))
		return false;
	stock_drain(stock);
	/* Its own reference keeps the pool while bytes stay without records. */
	if (!atomic_long_inc_not_zero(&pool->refcnt))
		return false;
	stock->cg = pool->cg;
	stock->state = pool->state;
	WRITE_ONCE(stock->pool, pool);
	/*
	 * Pairs with buffer_cg_stock_drain_all(): either a limit writer or retirer finds
	 * this stock keeping the pool, or this finds its new limit or state.
	 */
	smp_mb();
	if (!pool_may_stock(pool)) {
		stock_drain(stock);
		return false;
	}
	return true;
}

/*
 * Keep a released record's @size bytes and its reference on @pool in this
 * CPU's stock. Return: whether it did; if not, the caller releases them.
 */
bool buffer_cg_stock_refill(struct buffer_cg_pool *pool, u64 size)
{
	struct buffer_cg_stock *stock;
	bool kept = false;

	if (size > BUFFER_CG_STOCK_MAX || !in_task())
		return false;

	local_lock(&buffer_cg_stock.lock);
	stock = this_cpu_ptr(&buffer_cg_stock);
	if ((stock->pool == pool || stock_switch(stock, pool)) &&
	    stock->bytes + size <= BUFFER_CG_STOCK_MAX) {
		WRITE_ONCE(stock->bytes, stock->bytes + size);
		WRITE_ONCE(stock->nr_refs, stock->nr_refs + 1);
		kept = true;
	}
	local_unlock(&buffer_cg_stock.lock);
	return kept;
}

/*
 * Charge @size to @pool and its ancestors up to @stop, as pool_try_charge(),
 * this CPU's stock of the device drained first so that no peak counts what
 * it keeps. Return: NULL, or the pool whose limit refused the charge.
 */
struct buffer_cg_pool *buffer_cg_stock_try_charge(struct buffer_cg_pool *pool,
						  struct buffer_cg_pool *stop,
						  u64 size)
{
	struct buffer_cg_stock *stock;
	struct buffer_cg_pool *failed;

	if (!in_task())
		return pool_try_charge(pool, stop, size);
	local_lock(&buffer_cg_stock.lock);
	stock = this_cpu_ptr(&buffer_cg_stock);
	if (stock->pool && stock->state == pool->state)
		stock_drain(stock);
	failed = pool_try_charge(pool, stop, size);
	local_unlock(&buffer_cg_stock.lock);
	return failed;
}

/* Give back a dead CPU's stock, which no drain work can reach any more. */
static int buffer_cg_cpu_dead(unsigned int cpu)
{
	stock_drain(per_cpu_ptr(&buffer_cg_stock, cpu));
	return 0;
}

static int __init buffer_cg_stock_init(void)
{
	int cpu, ret;

	for_each_possible_cpu(cpu)
		INIT_WORK(&per_cpu_ptr(&buffer_cg_stock, cpu)->drain_work,
			  stock_drain_work);
	ret = cpuhp_setup_state_nocalls(CPUHP_BP_PREPARE_DYN, "cgroup/buffer:dead",
					NULL, buffer_cg_cpu_dead);
	return ret < 0 ? ret : 0;
}
core_initcall(buffer_cg_stock_init);
