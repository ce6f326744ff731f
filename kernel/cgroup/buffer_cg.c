// SPDX-License-Identifier: GPL-2.0
/*
 * Buffer cgroup controller
 *
 * Accounts and limits, per cgroup and per device, the memory held in DMA-BUFs
 * and GPU buffers. A buffer is charged whole, once, to one cgroup, and the
 * charge can later be moved as a whole.
 *
 * The state of one (cgroup, device) pair is a pool. Each registered device
 * gets a small id, which indexes the cgroup's pools: the first few in the
 * cgroup itself, the others in an RCU-protected table, so finding a pool
 * costs one bounds check and one load whatever the number of devices. The
 * pools of one device form a tree that mirrors the cgroup tree; each keeps
 * its subtree's usage, which makes hierarchical limits lock-free. As in
 * memcg, the root is not part of it: it has no limit, and a counter that
 * every charge in the system updated would cost every charge a level and
 * every CPU a shared cache line. The root's pool counts its own tasks'
 * buffers, and its buffer.current adds the top-level pools to them.
 * Only the slow paths (first charge of a pair, registration, interface files,
 * teardown) take buffer_cg_mutex.
 *
 * A charge record points at its pool and counts as one of the pool's
 * holders; the pool, while it has any, holds a reference on its cgroup and
 * one on its device. A live pool (cgroup online, device registered) is its
 * own holder too, so charging and releasing a buffer touch no reference
 * count but the pool's own: the cgroup and device references change hands
 * only when a pool is retired (rmdir, unregistration) and when its last
 * buffer goes after that.
 *
 * A buffer released in task context leaves its bytes charged, and its
 * holder held, in its CPU's stock, for the next buffer of the same pool
 * charged on that CPU to take: allocating and freeing in turn, the common
 * pattern, then touches neither the pool nor its ancestors. See struct
 * buffer_cg_stock for what keeps the files and the limits exact.
 *
 * Copyright (C) 2026 The buffer_cg authors
 */

#include <linux/buffer_cg.h>
#include <linux/capability.h>
#include <linux/cgroup.h>
#include <linux/cpu.h>
#include <linux/cpuhotplug.h>
#include <linux/ctype.h>
#include <linux/file.h>
#include <linux/fs.h>
#include <linux/idr.h>
#include <linux/list.h>
#include <linux/local_lock.h>
#include <linux/mutex.h>
#include <linux/nsproxy.h>
#include <linux/overflow.h>
#include <linux/page_counter.h>
#include <linux/percpu.h>
#include <linux/percpu-refcount.h>
#include <linux/pid.h>
#include <linux/rcupdate.h>
#include <linux/sched/signal.h>
#include <linux/sched/task.h>
#include <linux/seq_file.h>
#include <linux/sizes.h>
#include <linux/slab.h>
#include <linux/string.h>
#include <linux/workqueue.h>

/*
 * Counters hold bytes. The bound of page_counter, whose arithmetic this is,
 * means "no limit": 2 PiB with 4 KiB pages.
 */
#define BUFFER_CG_MAX PAGE_COUNTER_MAX

struct buffer_cg_pool {
	/*
	 * A charge or release touches the first four in the pool and every
	 * ancestor, and the holders in the pool: they share one cache line,
	 * where page_counter spreads its usage, watermark and limit over
	 * three for the memory controller's sake.
	 */
	atomic_long_t usage;
	unsigned long max;
	unsigned long peak;
	struct buffer_cg_pool *parent;
	/*
	 * Charge records naming this pool, plus one while the pool is live.
	 * Dropping to zero puts the references on the cgroup and the device.
	 */
	atomic_long_t holders;

	struct buffer_cg *cg;
	struct buffer_cg_dev_state *dev;
	/* The cgroup is online and the device registered; buffer_cg_mutex. */
	bool live;
	/* In dev->pools, under buffer_cg_mutex. */
	struct list_head dev_node;
	/* Refusals at the max of this cgroup (local) or of its subtree. */
	atomic64_t events_max_local;
	atomic64_t events_max;
	atomic64_t transfers_in;
	atomic64_t transfers_out;
	/* Bytes charged by buffer_cg_try_charge() and not yet uncharged. */
	atomic_long_t raw;
	struct rcu_head rcu;
};

struct buffer_cg_pool_table {
	struct rcu_head rcu;
	unsigned int size;
	struct buffer_cg_pool __rcu *pool[] __counted_by(size);
};

/*
 * Pools of the devices registered first: with the pointer to the table of
 * the others, they fill one cache line, so that finding a pool costs a
 * charge one dependent cache miss less on most systems.
 */
#define BUFFER_CG_INLINE_POOLS 7

struct buffer_cg {
	struct cgroup_subsys_state css;
	struct cgroup_file events_file;
	struct cgroup_file events_local_file;
	/* Between css_online and css_offline; under buffer_cg_mutex. */
	bool online;
	/* Device ids 0 to BUFFER_CG_INLINE_POOLS - 1. */
	struct buffer_cg_pool __rcu *
		inline_pools[BUFFER_CG_INLINE_POOLS] ____cacheline_aligned;
	/*
	 * The ids from BUFFER_CG_INLINE_POOLS on. Replaced, never edited in
	 * place, when a larger id needs a slot.
	 */
	struct buffer_cg_pool_table __rcu *pools;
};

/*
 * The controller's side of a device. It outlives the driver's struct
 * buffer_cg_device while charges remain: every pool with holders holds a
 * reference, and the last one put after unregistration tears the device down.
 */
struct buffer_cg_dev_state {
	struct percpu_ref ref;
	/*
	 * The driver's device, NULL once unregistered; under buffer_cg_mutex.
	 * The reference is killed under the mutex too, so that registration
	 * finds a state either registered or dying, never in between.
	 */
	struct buffer_cg_device *dev;
	unsigned int id;
	u64 capacity;
	/* In buffer_cg_devices, in registration order. */
	struct list_head node;
	struct list_head pools;
	struct work_struct release_work;
	/* Chargers read the state under RCU, from the driver's device. */
	struct rcu_head rcu;
	char name[BUFFER_CG_DEVICE_NAME_MAX + 1];
};

/*
 * The most a stock keeps: what usage may exceed the bytes actually in
 * buffers by, per CPU. The batch of memcg's stock.
 */
#define BUFFER_CG_STOCK_MAX SZ_256K

/*
 * A CPU's stock: bytes of buffers released on this CPU that are still
 * charged to one pool and its ancestors, and the released records' holders
 * of that pool, which the next charges of the pool on this CPU take instead
 * of charging the counters. Only the CPU's tasks use it, under its lock;
 * other CPUs drain it with its drain_work, and read it.
 *
 * What the stocks keep is subtracted from buffer.current and the buffers of
 * buffer.stat, so both stay exact. A charge that a limit refuses is tried
 * again once the stocks below that limit are drained, so no limit refuses
 * a charge for bytes that are not in buffers. A real charge drains its own
 * CPU's stock of the device first, so a peak counts no kept byte while one
 * CPU charges a subtree; with several, it may count up to
 * BUFFER_CG_STOCK_MAX for each of the others.
 *
 * A stock takes a pool only while it is live and within every limit of
 * its hierarchy, and writing a limit drains the stocks below it before the
 * write returns. So a charge from the stock, which checks no limit, never
 * takes a cgroup over one: the bytes it takes were charged within the
 * limits in force. Retiring a pool (rmdir, unregistration) only queues the
 * drain: a stock holds its pool, so nothing is freed under it meanwhile,
 * and the files discount what the stocks keep.
 */
struct buffer_cg_stock {
	local_lock_t lock;
	/*
	 * The pool, with its cgroup and device for a charge to compare: the
	 * pool holds the device's state, so the pointer cannot be reused.
	 */
	struct buffer_cg_pool *pool;
	struct buffer_cg *cg;
	struct buffer_cg_dev_state *state;
	/* Charged to the pool and its ancestors, in no buffer. */
	unsigned long bytes;
	/* Holders of the pool, one per record released into the stock. */
	long holders;
	struct work_struct drain_work;
};

static DEFINE_PER_CPU(struct buffer_cg_stock, buffer_cg_stock) = {
	.lock = INIT_LOCAL_LOCK(lock),
};

/*
 * Protects the device list and registration, pool creation and retirement,
 * the pool tables and limits. Charges and releases do not take it.
 */
static DEFINE_MUTEX(buffer_cg_mutex);
static LIST_HEAD(buffer_cg_devices);
static DEFINE_IDA(buffer_cg_ids);

static struct buffer_cg *css_buffer_cg(struct cgroup_subsys_state *css)
{
	return css ? container_of(css, struct buffer_cg, css) : NULL;
}

static struct buffer_cg *parent_buffer_cg(struct buffer_cg *cg)
{
	return css_buffer_cg(cg->css.parent);
}

static bool buffer_cg_is_root(struct buffer_cg *cg)
{
	return !cg->css.parent;
}

static bool dev_state_gone(struct buffer_cg_dev_state *state)
{
	return !state->dev && percpu_ref_is_zero(&state->ref);
}

/*
 * For the tracepoints, which CONFIG_TRACEPOINTS=n compiles out, leaving
 * these two unused.
 */
static __maybe_unused const char *pool_device_name(struct buffer_cg_pool *pool)
{
	return pool->dev->name;
}

/* The cgroup's id; 0 for the bare test cgroups of the KUnit suite. */
static __maybe_unused u64 pool_cgroup_id(struct buffer_cg_pool *pool)
{
	struct cgroup *cgrp = pool->cg->css.cgroup;

	return cgrp ? cgroup_id(cgrp) : 0;
}

#define CREATE_TRACE_POINTS
#include <trace/events/buffer_cg.h>

/*
 * @cg's slot for device @id, NULL if its table has none yet; caller holds
 * rcu_read_lock() or buffer_cg_mutex.
 */
static struct buffer_cg_pool __rcu **pool_slot(struct buffer_cg *cg,
					       unsigned int id)
{
	struct buffer_cg_pool_table *table;

	if (likely(id < BUFFER_CG_INLINE_POOLS))
		return &cg->inline_pools[id];
	table = rcu_dereference_check(cg->pools,
				      lockdep_is_held(&buffer_cg_mutex));
	id -= BUFFER_CG_INLINE_POOLS;
	return table && id < table->size ? &table->pool[id] : NULL;
}

/* The fast path: caller holds rcu_read_lock() or buffer_cg_mutex. */
static struct buffer_cg_pool *pool_lookup(struct buffer_cg *cg, unsigned int id)
{
	struct buffer_cg_pool __rcu **slot = pool_slot(cg, id);

	return slot ? rcu_dereference_check(*slot,
					    lockdep_is_held(&buffer_cg_mutex)) :
		      NULL;
}

static void pool_put_holders(struct buffer_cg_pool *pool, long nr)
{
	struct buffer_cg_dev_state *dev;

	if (!nr || !atomic_long_sub_and_test(nr, &pool->holders))
		return;
	/* Either put may free the pool: read what the second needs first. */
	dev = pool->dev;
	css_put(&pool->cg->css);
	percpu_ref_put(&dev->ref);
}

/*
 * Add a holder even to a pool that has none, taking its references back;
 * the caller keeps the cgroup and the device alive meanwhile. Off the mutex,
 * holders only ever leave zero through here.
 */
static void pool_hold_locked(struct buffer_cg_pool *pool)
{
	lockdep_assert_held(&buffer_cg_mutex);

	if (atomic_long_inc_not_zero(&pool->holders))
		return;
	css_get(&pool->cg->css);
	percpu_ref_get(&pool->dev->ref);
	atomic_long_set(&pool->holders, 1);
}

static void pool_set_live(struct buffer_cg_pool *pool, bool live)
{
	lockdep_assert_held(&buffer_cg_mutex);

	if (pool->live == live)
		return;
	/* Read by stock_put() without the mutex. */
	WRITE_ONCE(pool->live, live);
	if (live)
		pool_hold_locked(pool);
	else
		pool_put_holders(pool, 1);
}

/*
 * Does @pool count in @cg's usage of @state? NULL for either matches all;
 * the root stands for every cgroup.
 */
static bool pool_in_subtree(struct buffer_cg_pool *pool, struct buffer_cg *cg,
			    struct buffer_cg_dev_state *state)
{
	if (state && pool->dev != state)
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
 * the holders of @pool itself. A racy sum, exact when the stocks are quiet.
 */
static void stocks_kept(struct buffer_cg_pool *pool, long *bytes,
			long *holders)
{
	struct buffer_cg_stock *stock;
	struct buffer_cg_pool *kept;
	int cpu;

	*bytes = 0;
	*holders = 0;
	/* A stock's pool is freed only after the stock lets it go. */
	rcu_read_lock();
	for_each_possible_cpu(cpu) {
		stock = per_cpu_ptr(&buffer_cg_stock, cpu);
		kept = READ_ONCE(stock->pool);
		if (!kept || !pool_in_subtree(kept, pool->cg, pool->dev))
			continue;
		*bytes += READ_ONCE(stock->bytes);
		/* The records' holders, and the stock's own. */
		if (kept == pool)
			*holders += READ_ONCE(stock->holders) + 1;
	}
	rcu_read_unlock();
}

/*
 * buffer.current: the subtree's usage, which only the root adds up, less
 * what the stocks keep.
 */
static long pool_current(struct buffer_cg_pool *pool)
{
	long usage = atomic_long_read(&pool->usage);
	struct buffer_cg_pool *top;
	long bytes, holders;

	lockdep_assert_held(&buffer_cg_mutex);

	if (buffer_cg_is_root(pool->cg))
		list_for_each_entry(top, &pool->dev->pools, dev_node)
			if (top->cg->css.parent == &pool->cg->css)
				usage += atomic_long_read(&top->usage);
	stocks_kept(pool, &bytes, &holders);
	return usage - bytes;
}

/* Records naming the pool: its holders but the pool and the stocks. */
static long pool_buffers(struct buffer_cg_pool *pool)
{
	long bytes, holders;

	lockdep_assert_held(&buffer_cg_mutex);

	stocks_kept(pool, &bytes, &holders);
	return atomic_long_read(&pool->holders) - pool->live - holders;
}

/* Give device @id a slot in @cg. */
static int pool_slot_reserve(struct buffer_cg *cg, unsigned int id)
{
	struct buffer_cg_pool_table *old, *new;
	unsigned int size, i;

	if (pool_slot(cg, id))
		return 0;
	id -= BUFFER_CG_INLINE_POOLS;
	old = rcu_dereference_protected(cg->pools,
					lockdep_is_held(&buffer_cg_mutex));

	size = max3(id + 1, old ? 2 * old->size : 0, 8U);
	new = kzalloc(struct_size(new, pool, size), GFP_KERNEL);
	if (!new)
		return -ENOMEM;
	new->size = size;
	for (i = 0; old && i < old->size; i++)
		RCU_INIT_POINTER(new->pool[i],
				 rcu_dereference_protected(old->pool[i], true));
	rcu_assign_pointer(cg->pools, new);
	if (old)
		kfree_rcu(old, rcu);
	return 0;
}

static struct buffer_cg_pool *pool_create_one(struct buffer_cg *cg,
					      struct buffer_cg_dev_state *dev,
					      struct buffer_cg_pool *parent)
{
	struct buffer_cg_pool *pool;

	if (pool_slot_reserve(cg, dev->id))
		return ERR_PTR(-ENOMEM);

	pool = kzalloc(sizeof(*pool), GFP_KERNEL);
	if (!pool)
		return ERR_PTR(-ENOMEM);
	pool->max = BUFFER_CG_MAX;
	pool->parent = parent;
	pool->cg = cg;
	pool->dev = dev;
	list_add_tail(&pool->dev_node, &dev->pools);
	pool_set_live(pool, cg->online && dev->dev);
	rcu_assign_pointer(*pool_slot(cg, dev->id), pool);
	return pool;
}

/*
 * A pool points at its parent, so pools are created top-down:
 * each round creates the highest missing one.
 */
static struct buffer_cg_pool *pool_create(struct buffer_cg *cg,
					  struct buffer_cg_dev_state *dev)
{
	struct buffer_cg_pool *pool;

	lockdep_assert_held(&buffer_cg_mutex);

	for (;;) {
		struct buffer_cg *missing = cg, *parent;

		pool = pool_lookup(cg, dev->id);
		if (pool)
			return pool;

		while ((parent = parent_buffer_cg(missing)) &&
		       !pool_lookup(parent, dev->id))
			missing = parent;

		pool = pool_create_one(missing, dev,
				       parent && !buffer_cg_is_root(parent) ?
				       pool_lookup(parent, dev->id) : NULL);
		if (IS_ERR(pool))
			return pool;
	}
}

/*
 * @cg's pool for @state with a holder added, without a lock; NULL if there
 * is none yet or it is retired and empty. Under rcu_read_lock(), which keeps
 * @state's memory valid even if the device is gone and its id taken by
 * another: the pool found must be @state's.
 */
static struct buffer_cg_pool *pool_tryhold(struct buffer_cg *cg,
					   struct buffer_cg_dev_state *state)
{
	struct buffer_cg_pool *pool = pool_lookup(cg, state->id);

	if (!pool || !atomic_long_inc_not_zero(&pool->holders))
		return NULL;
	if (unlikely(pool->dev != state)) {
		pool_put_holders(pool, 1);
		return NULL;
	}
	return pool;
}

/*
 * @cg's pool for @dev, with a holder added for the caller, who keeps @cg
 * and @dev alive meanwhile.
 */
static struct buffer_cg_pool *pool_hold(struct buffer_cg *cg,
					struct buffer_cg_dev_state *dev)
{
	struct buffer_cg_pool *pool;

	rcu_read_lock();
	pool = pool_tryhold(cg, dev);
	rcu_read_unlock();
	if (likely(pool))
		return pool;

	mutex_lock(&buffer_cg_mutex);
	pool = pool_create(cg, dev);
	if (!IS_ERR(pool))
		pool_hold_locked(pool);
	mutex_unlock(&buffer_cg_mutex);
	return pool;
}

/*
 * @cg's pool for the device @dev, with a holder for the caller, who keeps
 * @cg alive; -ENODEV if @dev is not registered. A concurrent unregistration
 * may retire the pool right after: a charge to it is released as usual.
 */
static struct buffer_cg_pool *pool_hold_device(struct buffer_cg *cg,
					       struct buffer_cg_device *dev)
{
	struct buffer_cg_dev_state *state;
	struct buffer_cg_pool *pool;

	rcu_read_lock();
	state = rcu_dereference(dev->state);
	if (!state || !percpu_ref_tryget_live(&state->ref)) {
		rcu_read_unlock();
		return ERR_PTR(-ENODEV);
	}
	rcu_read_unlock();
	pool = pool_hold(cg, state);
	percpu_ref_put(&state->ref);
	return pool;
}

static void pool_record_refusal(struct buffer_cg_pool *limited)
{
	struct buffer_cg_pool *pool;

	atomic64_inc(&limited->events_max_local);
	cgroup_file_notify(&limited->cg->events_local_file);
	for (pool = limited; pool; pool = pool->parent) {
		atomic64_inc(&pool->events_max);
		cgroup_file_notify(&pool->cg->events_file);
	}
}

/*
 * Charge @size to the counters of @pool and its ancestors up to, not
 * including, @stop (NULL for all of them): a transfer must not count twice
 * in the ancestors that its source and target share. As in
 * page_counter_try_charge(), concurrent charges may each see the other's
 * bytes and both be refused, never both accepted beyond a limit.
 * Return: NULL, or the pool whose limit refused the charge.
 */
static struct buffer_cg_pool *pool_try_charge(struct buffer_cg_pool *pool,
					      struct buffer_cg_pool *stop,
					      u64 size)
{
	struct buffer_cg_pool *p, *failed;

	for (p = pool; p != stop; p = p->parent) {
		long new = atomic_long_add_return(size, &p->usage);

		/* Both are at most LONG_MAX: a sum past it wraps negative. */
		if (new < 0 || new > READ_ONCE(p->max)) {
			atomic_long_sub(size, &p->usage);
			failed = p;
			goto refused;
		}
		/* Racy like page_counter's watermark: a peak, not a ledger. */
		if (new > READ_ONCE(p->peak))
			WRITE_ONCE(p->peak, new);
	}
	return NULL;

refused:
	for (p = pool; p != failed; p = p->parent)
		atomic_long_sub(size, &p->usage);
	return failed;
}

static void pool_uncharge(struct buffer_cg_pool *pool,
			  struct buffer_cg_pool *stop, u64 size)
{
	struct buffer_cg_pool *p;

	for (p = pool; p != stop; p = p->parent)
		WARN_ON_ONCE(atomic_long_sub_return(size, &p->usage) < 0);
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
	pool_put_holders(pool, stock->holders + 1);
	WRITE_ONCE(stock->bytes, 0);
	WRITE_ONCE(stock->holders, 0);
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
static bool stocks_drain(struct buffer_cg *cg, struct buffer_cg_dev_state *state,
			 bool wait)
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
 * @cg's pool for @state with @size bytes and a holder taken from this
 * CPU's stock, or NULL if the stock cannot serve the charge.
 */
static struct buffer_cg_pool *stock_take(struct buffer_cg *cg,
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
	    stock->holders) {
		WRITE_ONCE(stock->bytes, stock->bytes - size);
		WRITE_ONCE(stock->holders, stock->holders - 1);
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
	/* Its own holder keeps the pool while bytes stay without records. */
	if (!atomic_long_inc_not_zero(&pool->holders))
		return false;
	stock->cg = pool->cg;
	stock->state = pool->dev;
	WRITE_ONCE(stock->pool, pool);
	/*
	 * Pairs with stocks_drain(): either a limit writer or retirer finds
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
 * Keep a released record's @size bytes and its holder of @pool in this
 * CPU's stock. Return: whether it did; if not, the caller releases them.
 */
static bool stock_put(struct buffer_cg_pool *pool, u64 size)
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
		WRITE_ONCE(stock->holders, stock->holders + 1);
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
static struct buffer_cg_pool *pool_try_charge_drained(struct buffer_cg_pool *pool,
						      struct buffer_cg_pool *stop,
						      u64 size)
{
	struct buffer_cg_stock *stock;
	struct buffer_cg_pool *failed;

	if (!in_task())
		return pool_try_charge(pool, stop, size);
	local_lock(&buffer_cg_stock.lock);
	stock = this_cpu_ptr(&buffer_cg_stock);
	if (stock->pool && stock->state == pool->dev)
		stock_drain(stock);
	failed = pool_try_charge(pool, stop, size);
	local_unlock(&buffer_cg_stock.lock);
	return failed;
}

/*
 * Charge @size to @pool and its ancestors up to @stop (see pool_try_charge()).
 * Before a limit refuses the charge, the stocks below it give back what they
 * keep; only a refusal that stands counts in buffer.events.
 *
 * Context: Process context; sleeps if a limit is hit.
 */
static int pool_charge(struct buffer_cg_pool *pool, struct buffer_cg_pool *stop,
		       u64 size)
{
	struct buffer_cg_pool *failed;

	/* More than any counter holds: as if the pool's own limit refused. */
	if (size > BUFFER_CG_MAX) {
		failed = pool;
		goto refused;
	}
	failed = pool_try_charge_drained(pool, stop, size);
	if (failed && stocks_drain(failed->cg, failed->dev, true))
		failed = pool_try_charge_drained(pool, stop, size);
	if (!failed)
		return 0;
refused:
	pool_record_refusal(failed);
	trace_buffer_cg_charge_failed(pool, failed, size, -ENOMEM);
	return -ENOMEM;
}

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
 * buffer_cg_try_charge() - charge bytes of a device to a cgroup
 * @cg: the cgroup to charge, from buffer_cg_get_current() or
 *	buffer_cg_get_task(); NULL (controller disabled) charges nothing
 * @dev: a registered device
 * @usage: bytes to charge
 *
 * The charge succeeds only if @cg and every ancestor stay at or under their
 * buffer.max for @dev; otherwise nothing is charged and the refusal counts in
 * buffer.events of the cgroup whose limit was hit. Charges made this way
 * keep nothing alive and record nothing: the caller keeps its reference on
 * @cg until it has uncharged them, in any grouping, with
 * buffer_cg_uncharge(), and does so before buffer_cg_unregister_device(),
 * which otherwise uncharges them itself and says so in the kernel log, as
 * freeing @cg does.
 * Exporters whose buffers can outlive their device want buffer_cg_charge(),
 * which records the charge in the buffer.
 *
 * Context: Process context. May sleep: the first charge of a (cgroup,
 * device) pair allocates, and a charge that a limit would refuse first waits
 * for the CPUs to give back what they keep of released buffers. Other
 * charges take no lock and allocate nothing.
 * Return: 0 on success, -ENOMEM if a limit refused the charge, -ENODEV if
 * @dev is not registered.
 */
int buffer_cg_try_charge(struct buffer_cg *cg, struct buffer_cg_device *dev,
			 u64 usage)
{
	struct buffer_cg_pool *pool;
	int ret;

	if (!cg)
		return 0;
	pool = pool_hold_device(cg, dev);
	if (IS_ERR(pool))
		return PTR_ERR(pool);
	ret = pool_charge(pool, NULL, usage);
	/*
	 * Fully ordered, as unregistration's xchg() after it clears the
	 * device: one of the two finds the bytes it must uncharge.
	 */
	if (!ret && atomic_long_add_return(usage, &pool->raw) &&
	    unlikely(!READ_ONCE(pool->dev->dev))) {
		pool_uncharge(pool, NULL, atomic_long_xchg(&pool->raw, 0));
		ret = -ENODEV;
	}
	trace_buffer_cg_charge(pool, usage, ret);
	pool_put_holders(pool, 1);
	return ret;
}
EXPORT_SYMBOL_GPL(buffer_cg_try_charge);

/*
 * Take @usage bytes out of what buffer_cg_try_charge() charged to @pool,
 * never more than it holds: a driver that uncharges after unregistering
 * and registering its device again must not uncharge others' bytes.
 */
static bool pool_take_raw(struct buffer_cg_pool *pool, u64 usage)
{
	long raw = atomic_long_read(&pool->raw);

	do {
		if (raw < usage) {
			pr_warn_ratelimited("buffer_cg: %s: %llu bytes uncharged, %ld charged\n",
					    pool->dev->name, usage, raw);
			return false;
		}
	} while (!atomic_long_try_cmpxchg(&pool->raw, &raw, raw - usage));
	return true;
}

/**
 * buffer_cg_uncharge() - undo buffer_cg_try_charge()
 * @cg: the cgroup that was charged
 * @dev: the device that was charged
 * @usage: bytes to uncharge
 *
 * Does nothing once @dev is unregistered: unregistration uncharged what was
 * left. Never uncharges more than buffer_cg_try_charge() charged to @cg.
 *
 * Context: Any context.
 */
void buffer_cg_uncharge(struct buffer_cg *cg, struct buffer_cg_device *dev,
			u64 usage)
{
	struct buffer_cg_dev_state *state;
	struct buffer_cg_pool *pool;

	if (!cg)
		return;

	rcu_read_lock();
	state = rcu_dereference(dev->state);
	pool = state ? pool_lookup(cg, state->id) : NULL;
	if (pool && pool_take_raw(pool, usage)) {
		pool_uncharge(pool, NULL, usage);
		trace_buffer_cg_uncharge(pool, usage, 0);
	}
	rcu_read_unlock();
}
EXPORT_SYMBOL_GPL(buffer_cg_uncharge);

/* Fill @charge, which takes over a holder of @pool. */
static void charge_fill(struct buffer_cg_charge *charge,
			struct buffer_cg_pool *pool, u64 size)
{
	charge->size = size;
	/* Pairs with smp_load_acquire() in transfer and fdinfo: size first. */
	smp_store_release(&charge->pool, pool);
}

/* Fill @charge from this CPU's stock of @cg's pool for @state, if it can. */
static bool charge_from_stock(struct buffer_cg_charge *charge,
			      struct buffer_cg *cg,
			      struct buffer_cg_dev_state *state, u64 size)
{
	struct buffer_cg_pool *pool = stock_take(cg, state, size);

	if (!pool)
		return false;
	trace_buffer_cg_charge(pool, size, 0);
	charge_fill(charge, pool, size);
	return true;
}

/* Charge @pool and fill @charge, which takes over the caller's holder. */
static int charge_record(struct buffer_cg_charge *charge,
			 struct buffer_cg_pool *pool, u64 size)
{
	int ret = pool_charge(pool, NULL, size);

	trace_buffer_cg_charge(pool, size, ret);
	if (ret) {
		pool_put_holders(pool, 1);
		return ret;
	}
	charge_fill(charge, pool, size);
	return 0;
}

/*
 * Charge @cg, or the current task's cgroup if NULL, and fill @charge.
 * Lock-free while the pair's pool is in use: the device's state, the
 * current task's css and the pool stay valid under RCU, and only the pool's
 * holders count.
 */
static int charge_cgroup(struct buffer_cg_charge *charge, struct buffer_cg *cg,
			 struct buffer_cg_device *dev, u64 size)
{
	struct buffer_cg_dev_state *state;
	struct buffer_cg_pool *pool = NULL;
	struct buffer_cg *target;

	rcu_read_lock();
	state = rcu_dereference(dev->state);
	if (state) {
		target = cg ?: css_buffer_cg(task_css(current, buffer_cgrp_id));
		if (charge_from_stock(charge, target, state, size)) {
			rcu_read_unlock();
			return 0;
		}
		pool = pool_tryhold(target, state);
	}
	rcu_read_unlock();

	if (unlikely(!pool)) {
		target = cg ?: buffer_cg_get_current();
		pool = pool_hold_device(target, dev);
		if (!cg)
			buffer_cg_put(target);
		if (IS_ERR(pool))
			return PTR_ERR(pool);
	}
	return charge_record(charge, pool, size);
}

/**
 * buffer_cg_charge() - charge a buffer and record the charge in it
 * @charge: the record embedded in the buffer; overwritten
 * @cg: the cgroup to charge; NULL (controller disabled) charges nothing
 * @dev: a registered device
 * @size: the buffer's size in bytes
 *
 * Like buffer_cg_try_charge(), and on success fills @charge so that
 * buffer_cg_charge_release() and buffer_cg_charge_transfer() work in O(1),
 * even after @dev is unregistered. The record keeps @cg and @dev alive
 * through its pool; the caller's reference on @cg stays the caller's. To
 * charge the current task, buffer_cg_charge_current() needs none.
 *
 * Context: Process context; see buffer_cg_try_charge().
 * Return: 0 on success (@charge is left uncharged when @cg is NULL), -ENOMEM
 * if a limit refused the charge, -ENODEV if @dev is not registered.
 */
int buffer_cg_charge(struct buffer_cg_charge *charge, struct buffer_cg *cg,
		     struct buffer_cg_device *dev, u64 size)
{
	memset(charge, 0, sizeof(*charge));
	return cg ? charge_cgroup(charge, cg, dev, size) : 0;
}
EXPORT_SYMBOL_GPL(buffer_cg_charge);

/**
 * buffer_cg_charge_current() - charge a buffer to the current task's cgroup
 * @charge: the record embedded in the buffer; overwritten
 * @dev: a registered device
 * @size: the buffer's size in bytes
 *
 * buffer_cg_charge() of the cgroup buffer_cg_get_current() returns, for the
 * common case of a task allocating for itself, without taking a reference on
 * that cgroup: once the pair has a pool in use, a charge updates no
 * reference count but the pool's own.
 *
 * Context: Process context; see buffer_cg_try_charge().
 * Return: see buffer_cg_charge(); @charge is left uncharged when the
 * controller is disabled.
 */
int buffer_cg_charge_current(struct buffer_cg_charge *charge,
			     struct buffer_cg_device *dev, u64 size)
{
	memset(charge, 0, sizeof(*charge));
	if (!cgroup_subsys_enabled(buffer_cgrp_subsys))
		return 0;
	return charge_cgroup(charge, NULL, dev, size);
}
EXPORT_SYMBOL_GPL(buffer_cg_charge_current);

/**
 * buffer_cg_charge_release() - release the charge recorded in a buffer
 * @charge: the record; left uncharged, so a second call does nothing
 *
 * Called when the buffer is freed. Stays correct after the device was
 * unregistered; the last release of an unregistered device removes it. In
 * task context the bytes may stay charged, out of the cgroup's buffer.current,
 * for the next buffer of the same cgroup and device charged on this CPU.
 *
 * Context: Any context.
 */
void buffer_cg_charge_release(struct buffer_cg_charge *charge)
{
	struct buffer_cg_pool *pool = charge->pool;
	u64 size = charge->size;

	if (!pool)
		return;

	memset(charge, 0, sizeof(*charge));
	trace_buffer_cg_uncharge(pool, size, 0);
	if (stock_put(pool, size))
		return;
	pool_uncharge(pool, NULL, size);
	pool_put_holders(pool, 1);
}
EXPORT_SYMBOL_GPL(buffer_cg_charge_release);

/**
 * buffer_cg_charge_transfer() - move a buffer's whole charge to another cgroup
 * @charge: the record of a charged buffer
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
 * Return: 0 on success, -EOPNOTSUPP if @charge holds no charge, -ENOMEM if a
 * limit refused it.
 */
int buffer_cg_charge_transfer(struct buffer_cg_charge *charge,
			      struct buffer_cg *to)
{
	struct buffer_cg_pool *from, *target, *shared;
	int ret;

	if (!to)
		return -EOPNOTSUPP;
again:
	/*
	 * Pin the source cgroup, and with it the pool: a concurrent transfer
	 * may drop the record's holder, the last one if the cgroup was removed.
	 */
	rcu_read_lock();
	/* Pairs with charge_fill(): the size of a record just charged. */
	from = smp_load_acquire(&charge->pool);
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
	target = pool_hold(to, from->dev);
	if (IS_ERR(target)) {
		ret = PTR_ERR(target);
		goto out;
	}

	shared = pool_common_ancestor(from, target);
	ret = pool_charge(target, shared, charge->size);
	if (ret) {
		trace_buffer_cg_transfer(from, target, charge->size, ret);
		pool_put_holders(target, 1);
		goto out;
	}
	if (cmpxchg(&charge->pool, from, target) != from) {
		/* Another transfer moved it first: start over from there. */
		pool_uncharge(target, shared, charge->size);
		pool_put_holders(target, 1);
		css_put(&from->cg->css);
		goto again;
	}
	pool_uncharge(from, shared, charge->size);

	atomic64_inc(&target->transfers_in);
	atomic64_inc(&from->transfers_out);
	trace_buffer_cg_transfer(from, target, charge->size, 0);
	/* The record's holder, which @target has taken over. */
	pool_put_holders(from, 1);
out:
	css_put(&from->cg->css);
	return ret;
}
EXPORT_SYMBOL_GPL(buffer_cg_charge_transfer);

/**
 * buffer_cg_charge_show_fdinfo() - print a charge for /proc/<pid>/fdinfo
 * @m: the fdinfo seq_file
 * @charge: the buffer's record, which must not be released meanwhile
 *
 * Prints ``charge_device:`` and ``charge_cgroup:`` (the path as seen from the
 * reader's cgroup namespace); prints nothing for an uncharged buffer.
 *
 * Context: Process context.
 */
void buffer_cg_charge_show_fdinfo(struct seq_file *m,
				  const struct buffer_cg_charge *charge)
{
	struct buffer_cg_pool *pool;
	char *path;

	/* Pin the cgroup: a concurrent transfer may drop the record's holder. */
	rcu_read_lock();
	/* Pairs with charge_fill(), as in buffer_cg_charge_transfer(). */
	pool = smp_load_acquire(&charge->pool);
	if (pool && !css_tryget(&pool->cg->css))
		pool = NULL;
	rcu_read_unlock();
	if (!pool)
		return;

	seq_printf(m, "charge_device:\t%s\n", pool->dev->name);
	path = kmalloc(PATH_MAX, GFP_KERNEL);
	if (path && cgroup_path_ns(pool->cg->css.cgroup, path, PATH_MAX,
				   current->nsproxy->cgroup_ns) >= 0)
		seq_printf(m, "charge_cgroup:\t%s\n", path);
	kfree(path);
	css_put(&pool->cg->css);
}
EXPORT_SYMBOL_GPL(buffer_cg_charge_show_fdinfo);

/**
 * buffer_cg_get_task() - get a reference on the cgroup a task charges to
 * @task: the task
 *
 * Return: the cgroup, to be put with buffer_cg_put(), or NULL if the
 * controller is disabled (cgroup_disable=buffer); all charge functions accept
 * NULL and charge nothing.
 */
struct buffer_cg *buffer_cg_get_task(struct task_struct *task)
{
	if (!cgroup_subsys_enabled(buffer_cgrp_subsys))
		return NULL;
	return css_buffer_cg(task_get_css(task, buffer_cgrp_id));
}
EXPORT_SYMBOL_GPL(buffer_cg_get_task);

/**
 * buffer_cg_get_current() - get a reference on the current task's cgroup
 *
 * Return: see buffer_cg_get_task().
 */
struct buffer_cg *buffer_cg_get_current(void)
{
	return buffer_cg_get_task(current);
}
EXPORT_SYMBOL_GPL(buffer_cg_get_current);

/**
 * buffer_cg_put() - drop a reference taken by buffer_cg_get_*()
 * @cg: the cgroup, or NULL
 */
void buffer_cg_put(struct buffer_cg *cg)
{
	if (cg)
		css_put(&cg->css);
}
EXPORT_SYMBOL_GPL(buffer_cg_put);

/*
 * An internal cgroup2 mount. A pidfd names a cgroup through no mount, but
 * cgroup_may_migrate_current() checks cgroup.procs files as inodes of a
 * superblock, for the LSMs' sake: this one serves for pidfds. Mounted at
 * boot, before userspace mounts cgroup2: every cgroup2 mount applies its
 * options (nsdelegate, ...) to the hierarchy, and a later one would clear
 * the user's.
 */
static struct vfsmount *buffer_cg_mnt;

static int __init buffer_cg_mount(void)
{
	struct file_system_type *type = get_fs_type("cgroup2");
	struct vfsmount *mnt;

	if (!type)
		return -ENODEV;
	mnt = kern_mount(type);
	put_filesystem(type);
	if (IS_ERR(mnt))
		return PTR_ERR(mnt);
	buffer_cg_mnt = mnt;
	return 0;
}
late_initcall(buffer_cg_mount);

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

/*
 * May current charge @dst, named through @sb? Its own cgroup; any cgroup
 * with CAP_SYS_RESOURCE; or a cgroup it could move a process from its own
 * into (cgroup core's rule for writing cgroup.procs), inside its cgroup
 * namespace. The capability is asked without audit: an allocator that
 * charges the clients delegated to it must not log a denial per buffer,
 * and the files' permissions, which cost an inode each, are asked last.
 */
static int buffer_cg_may_charge(struct cgroup *dst, struct super_block *sb)
{
	struct cgroup_namespace *ns = current->nsproxy->cgroup_ns;
	bool own;
	int ret;

	rcu_read_lock();
	own = task_dfl_cgroup(current) == dst;
	rcu_read_unlock();
	if (own || ns_capable_noaudit(&init_user_ns, CAP_SYS_RESOURCE))
		return 0;
	if (!sb || !cgroup_is_descendant(dst, ns->root_cset->dfl_cgrp))
		return -EPERM;
	ret = cgroup_may_migrate_current(dst, sb);
	/* Removed meanwhile, as if removed before the fd was resolved. */
	if (ret == -ENODEV)
		return -ESRCH;
	return ret == -ENOMEM ? ret : ret ? -EPERM : 0;
}

/*
 * The cgroup of a pidfd's process: of a live thread, as the leader may
 * have exited before the others, and may not have followed them since.
 */
static struct cgroup *buffer_cg_pid_cgroup(struct pid *pid)
{
	struct task_struct *leader, *task;
	struct cgroup *cgrp;

	rcu_read_lock();
	leader = pid_task(pid, PIDTYPE_PID);
	if (leader) {
		for_each_thread(leader, task) {
			if (task->flags & PF_EXITING)
				continue;
			/* As cgroup_sk_alloc(): a migration may put the last reference. */
			do {
				cgrp = task_dfl_cgroup(task);
			} while (!cgroup_tryget(cgrp));
			rcu_read_unlock();
			return cgrp;
		}
	}
	rcu_read_unlock();
	return ERR_PTR(-ESRCH);
}

/*
 * The cgroup named by a pidfd or by a cgroup2 directory fd, which may be
 * O_PATH as CLONE_INTO_CGROUP takes it, and the superblock to check
 * permissions through.
 */
static struct cgroup *buffer_cg_fd_cgroup(struct file *file,
					  struct super_block **sb)
{
	struct cgroup_subsys_state *css;
	struct pid *pid;

	pid = pidfd_pid(file);
	if (!IS_ERR(pid)) {
		*sb = buffer_cg_mnt ? buffer_cg_mnt->mnt_sb : NULL;
		return buffer_cg_pid_cgroup(pid);
	}

	css = css_tryget_online_from_dir(file->f_path.dentry, NULL);
	if (IS_ERR(css))
		return PTR_ERR(css) == -ENOENT ? ERR_PTR(-ESRCH) : ERR_PTR(-EINVAL);
	if (css->cgroup->root != &cgrp_dfl_root) {
		css_put(css);
		return ERR_PTR(-EINVAL);
	}
	*sb = file->f_path.dentry->d_sb;
	return css->cgroup;
}

/**
 * buffer_cg_get_charge_target() - get the cgroup a charge_fd names
 * @charge_fd: a pidfd (its process's cgroup) or a cgroup2 directory fd,
 *	which may be opened O_PATH
 *
 * Resolves the cgroup that an allocator or a transfer names and checks that
 * the caller may charge it: its own cgroup; a cgroup it could move a process
 * from its own cgroup into, by cgroup core's rule for writing cgroup.procs
 * (write access to the cgroup.procs of the target and of the nearest common
 * ancestor), inside its cgroup namespace; or any cgroup with
 * CAP_SYS_RESOURCE. The charge lands on the nearest cgroup with the
 * controller enabled, as it would for a process in it.
 *
 * Context: Process context.
 * Return: a reference to put with buffer_cg_put(), NULL if the controller
 * is disabled, or ERR_PTR(): -EBADF if @charge_fd is not open, -EINVAL if it
 * is neither a pidfd nor a cgroup2 directory, -ESRCH if the process exited
 * (or the cgroup was removed), -EPERM if the caller may not charge it,
 * -ENOMEM.
 */
struct buffer_cg *buffer_cg_get_charge_target(int charge_fd)
{
	struct cgroup_subsys_state *css;
	struct super_block *sb = NULL;
	struct cgroup *cgrp;
	int ret;

	CLASS(fd_raw, f)(charge_fd);
	if (fd_empty(f))
		return ERR_PTR(-EBADF);

	cgrp = buffer_cg_fd_cgroup(fd_file(f), &sb);
	if (IS_ERR(cgrp))
		return ERR_CAST(cgrp);
	ret = buffer_cg_may_charge(cgrp, sb);
	if (ret) {
		cgroup_put(cgrp);
		return ERR_PTR(ret);
	}
	css = cgroup_subsys_enabled(buffer_cgrp_subsys) ?
	      cgroup_get_e_css(cgrp, &buffer_cgrp_subsys) : NULL;
	cgroup_put(cgrp);
	return css_buffer_cg(css);
}
EXPORT_SYMBOL_GPL(buffer_cg_get_charge_target);

static bool buffer_cg_device_name_valid(const char *name)
{
	size_t len = name ? strnlen(name, BUFFER_CG_DEVICE_NAME_MAX + 1) : 0;
	size_t i;

	if (!len || len > BUFFER_CG_DEVICE_NAME_MAX)
		return false;
	/* isalnum() takes Latin-1 letters too: names are ASCII. */
	for (i = 0; i < len; i++)
		if (!isascii(name[i]) || (!isalnum(name[i]) &&
					  !strchr("_.,:@+/-", name[i])))
			return false;
	return true;
}

static struct buffer_cg_dev_state *dev_state_find(const char *name)
{
	struct buffer_cg_dev_state *state;

	lockdep_assert_held(&buffer_cg_mutex);
	list_for_each_entry(state, &buffer_cg_devices, node)
		if (!dev_state_gone(state) && !strcmp(state->name, name))
			return state;
	return NULL;
}

static void dev_state_teardown(struct work_struct *work)
{
	struct buffer_cg_dev_state *state =
		container_of(work, struct buffer_cg_dev_state, release_work);
	struct buffer_cg_pool *pool, *tmp;

	mutex_lock(&buffer_cg_mutex);
	/* Re-registered, or unregistered again, since the work was queued. */
	if (!dev_state_gone(state)) {
		mutex_unlock(&buffer_cg_mutex);
		return;
	}
	list_del(&state->node);
	list_for_each_entry_safe(pool, tmp, &state->pools, dev_node) {
		/* Left by a driver that unregistered before uncharging. */
		WARN_ONCE(!pool->parent && atomic_long_read(&pool->usage),
			  "buffer_cg: %s unregistered with %ld bytes charged\n",
			  state->name, atomic_long_read(&pool->usage));

		RCU_INIT_POINTER(*pool_slot(pool->cg, state->id), NULL);
		list_del(&pool->dev_node);
		kfree_rcu(pool, rcu);
	}
	ida_free(&buffer_cg_ids, state->id);
	mutex_unlock(&buffer_cg_mutex);

	percpu_ref_exit(&state->ref);
	kfree_rcu(state, rcu);
}

static void dev_state_release(struct percpu_ref *ref)
{
	struct buffer_cg_dev_state *state =
		container_of(ref, struct buffer_cg_dev_state, ref);

	/* May run in RCU callback context: tear down where we may sleep. */
	schedule_work(&state->release_work);
}

/**
 * buffer_cg_register_device() - make a device's buffers chargeable
 * @dev: the device, with @dev->name and @dev->capacity set
 *
 * The device appears in every buffer.* file, after those registered before
 * it. Registering the name of a device that was unregistered while its
 * buffers are still charged takes that device back, with its limits.
 *
 * Context: Process context.
 * Return: 0 on success, -EINVAL for a bad name, -EEXIST if the name is
 * registered already, -ENOMEM.
 */
int buffer_cg_register_device(struct buffer_cg_device *dev)
{
	struct buffer_cg_dev_state *state;
	struct buffer_cg_pool *pool;
	int ret;

	if (!buffer_cg_device_name_valid(dev->name))
		return -EINVAL;

	mutex_lock(&buffer_cg_mutex);
	state = dev_state_find(dev->name);
	if (state && state->dev) {
		ret = -EEXIST;
		goto out;
	}
	/*
	 * Unregistered with buffers still charged: take it back, unless its
	 * last reference went meanwhile, which makes it as good as gone.
	 */
	if (state && percpu_ref_tryget(&state->ref)) {
		percpu_ref_resurrect(&state->ref);
		percpu_ref_put(&state->ref);
		goto bind;
	}

	state = kzalloc(sizeof(*state), GFP_KERNEL);
	if (!state) {
		ret = -ENOMEM;
		goto out;
	}
	/* Re-registration resurrects the reference: allow it to go percpu. */
	ret = percpu_ref_init(&state->ref, dev_state_release,
			      PERCPU_REF_ALLOW_REINIT, GFP_KERNEL);
	if (ret)
		goto free_state;
	ret = ida_alloc(&buffer_cg_ids, GFP_KERNEL);
	if (ret < 0)
		goto exit_ref;
	state->id = ret;
	strscpy(state->name, dev->name);
	INIT_LIST_HEAD(&state->pools);
	INIT_WORK(&state->release_work, dev_state_teardown);
	list_add_tail(&state->node, &buffer_cg_devices);
bind:
	state->capacity = dev->capacity;
	WRITE_ONCE(state->dev, dev);
	list_for_each_entry(pool, &state->pools, dev_node)
		pool_set_live(pool, pool->cg->online);
	rcu_assign_pointer(dev->state, state);
	ret = 0;
	goto out;

exit_ref:
	percpu_ref_exit(&state->ref);
free_state:
	kfree(state);
out:
	mutex_unlock(&buffer_cg_mutex);
	return ret;
}
EXPORT_SYMBOL_GPL(buffer_cg_register_device);

/*
 * Uncharge what buffer_cg_try_charge() left in @pool once no
 * buffer_cg_uncharge() can reach it: at unregistration, or when the
 * cgroup is freed, its caller having broken the contract by putting its
 * reference on the cgroup first.
 */
static void pool_drop_raw_locked(struct buffer_cg_pool *pool, const char *why)
{
	long raw = atomic_long_xchg(&pool->raw, 0);

	lockdep_assert_held(&buffer_cg_mutex);

	if (!raw)
		return;
	pr_warn("buffer_cg: %s: %ld bytes charged by buffer_cg_try_charge() when %s; uncharged\n",
		pool->dev->name, raw, why);
	pool_uncharge(pool, NULL, raw);
	trace_buffer_cg_uncharge(pool, raw, 0);
}

/**
 * buffer_cg_unregister_device() - stop charging a device
 * @dev: a registered device
 *
 * New charges against @dev fail with -ENODEV; a charge racing with the
 * unregistration either fails so or is recorded and released as usual.
 * Buffers still charged keep their charge until released through their
 * records; the device leaves the buffer.* files with the last of them.
 * Charges made with buffer_cg_try_charge() are uncharged here. The driver
 * may free @dev on return.
 *
 * Context: Process context.
 */
void buffer_cg_unregister_device(struct buffer_cg_device *dev)
{
	struct buffer_cg_dev_state *state;
	struct buffer_cg_pool *pool;

	mutex_lock(&buffer_cg_mutex);
	state = rcu_dereference_protected(dev->state,
					  lockdep_is_held(&buffer_cg_mutex));
	if (WARN_ON_ONCE(!state || state->dev != dev)) {
		mutex_unlock(&buffer_cg_mutex);
		return;
	}
	/* Read by buffer_cg_try_charge(): see there. */
	WRITE_ONCE(state->dev, NULL);
	RCU_INIT_POINTER(dev->state, NULL);
	list_for_each_entry(pool, &state->pools, dev_node) {
		pool_drop_raw_locked(pool, "its device was unregistered");
		pool_set_live(pool, false);
	}
	/* See struct buffer_cg_dev_state: under the mutex. */
	percpu_ref_kill(&state->ref);
	mutex_unlock(&buffer_cg_mutex);

	/* The stocks' holders keep the state until they are given back. */
	stocks_drain(NULL, state, false);
}
EXPORT_SYMBOL_GPL(buffer_cg_unregister_device);

/* Interface files */

enum buffer_cg_file {
	BUFFER_CG_CURRENT,
	BUFFER_CG_MAX_FILE,
	BUFFER_CG_PEAK,
	BUFFER_CG_EVENTS,
	BUFFER_CG_EVENTS_LOCAL,
	BUFFER_CG_STAT,
	BUFFER_CG_CAPACITY,
};

static void buffer_cg_show_pool(struct seq_file *sf, enum buffer_cg_file file,
				struct buffer_cg_dev_state *dev,
				struct buffer_cg_pool *pool)
{
	unsigned long max;

	switch (file) {
	case BUFFER_CG_CURRENT:
		seq_printf(sf, "%s %ld\n", dev->name,
			   pool ? pool_current(pool) : 0);
		break;
	case BUFFER_CG_MAX_FILE:
		max = pool ? READ_ONCE(pool->max) : BUFFER_CG_MAX;
		if (max == BUFFER_CG_MAX)
			seq_printf(sf, "%s max\n", dev->name);
		else
			seq_printf(sf, "%s %lu\n", dev->name, max);
		break;
	case BUFFER_CG_PEAK:
		seq_printf(sf, "%s %lu\n", dev->name,
			   pool ? READ_ONCE(pool->peak) : 0);
		break;
	case BUFFER_CG_EVENTS:
		seq_printf(sf, "%s max=%lld\n", dev->name,
			   pool ? atomic64_read(&pool->events_max) : 0);
		break;
	case BUFFER_CG_EVENTS_LOCAL:
		seq_printf(sf, "%s max=%lld\n", dev->name,
			   pool ? atomic64_read(&pool->events_max_local) : 0);
		break;
	case BUFFER_CG_STAT:
		seq_printf(sf, "%s buffers=%ld transfers_in=%lld transfers_out=%lld\n",
			   dev->name,
			   pool ? pool_buffers(pool) : 0,
			   pool ? atomic64_read(&pool->transfers_in) : 0,
			   pool ? atomic64_read(&pool->transfers_out) : 0);
		break;
	case BUFFER_CG_CAPACITY:
		if (dev->capacity)
			seq_printf(sf, "%s %llu\n", dev->name, dev->capacity);
		break;
	}
}

static int buffer_cg_show(struct seq_file *sf, void *v)
{
	struct buffer_cg *cg = css_buffer_cg(seq_css(sf));
	enum buffer_cg_file file = seq_cft(sf)->private;
	struct buffer_cg_dev_state *dev;

	mutex_lock(&buffer_cg_mutex);
	list_for_each_entry(dev, &buffer_cg_devices, node)
		if (!dev_state_gone(dev))
			buffer_cg_show_pool(sf, file, dev,
					    pool_lookup(cg, dev->id));
	mutex_unlock(&buffer_cg_mutex);
	return 0;
}

/**
 * buffer_cg_parse_value() - parse a limit: bytes with optional K/M/G/T, or max
 * @s: the value, NUL-terminated, without surrounding blanks
 * @value: the result in bytes; BUFFER_CG_MAX for "max" or anything larger
 *
 * Return: 0, or -EINVAL for anything but decimal digits with at most one
 * binary suffix, or a value that does not fit in 64 bits.
 */
static int buffer_cg_parse_value(const char *s, u64 *value)
{
	static const char suffixes[] = "KMGT";
	unsigned int shift = 0;
	const char *p;
	u64 bytes = 0;

	if (!strcmp(s, "max")) {
		*value = BUFFER_CG_MAX;
		return 0;
	}
	if (!isdigit(*s))
		return -EINVAL;
	for (p = s; isdigit(*p); p++)
		if (check_mul_overflow(bytes, 10ULL, &bytes) ||
		    check_add_overflow(bytes, (u64)(*p - '0'), &bytes))
			return -EINVAL;
	if (*p) {
		const char *suffix = strchr(suffixes, toupper(*p));

		if (!suffix || p[1])
			return -EINVAL;
		shift = 10 * (suffix - suffixes + 1);
		if (check_shl_overflow(bytes, shift, &bytes))
			return -EINVAL;
	}
	*value = min_t(u64, bytes, BUFFER_CG_MAX);
	return 0;
}

struct buffer_cg_limit {
	struct buffer_cg_pool *pool;
	u64 max;
};

/*
 * Parse one "<device> <value>" line. Errors name the first bad thing found,
 * in the order syntax, device, value.
 */
static int buffer_cg_parse_limit(struct buffer_cg *cg, char *line,
				 struct buffer_cg_limit *limit)
{
	struct buffer_cg_dev_state *dev;
	char *name, *value;
	u64 max;
	int ret;

	name = strsep(&line, " \t");
	if (!line)
		return -EINVAL;
	value = skip_spaces(line);
	if (!*value || strpbrk(value, " \t"))
		return -EINVAL;
	if (!buffer_cg_device_name_valid(name))
		return -EINVAL;
	ret = buffer_cg_parse_value(value, &max);
	if (ret)
		return ret;

	dev = dev_state_find(name);
	if (!dev)
		return -ENODEV;
	limit->pool = pool_create(cg, dev);
	if (IS_ERR(limit->pool))
		return PTR_ERR(limit->pool);
	limit->max = max;
	return 0;
}

/*
 * Apply "<device> <value>" lines to @cg's buffer.max. Every line is checked
 * before any is applied, so a bad write changes nothing.
 */
static int buffer_cg_set_limits(struct buffer_cg *cg, char *buf)
{
	struct buffer_cg_limit *limits;
	unsigned int nr = 0, lines = 1, i;
	char *line;
	int ret = 0;

	for (line = buf; (line = strchr(line, '\n')); line++)
		lines++;
	limits = kcalloc(lines, sizeof(*limits), GFP_KERNEL);
	if (!limits)
		return -ENOMEM;

	mutex_lock(&buffer_cg_mutex);
	while ((line = strsep(&buf, "\n"))) {
		line = strim(line);
		if (!*line)
			continue;
		ret = buffer_cg_parse_limit(cg, line, &limits[nr]);
		if (ret)
			break;
		nr++;
	}
	if (!ret && !nr)
		ret = -EINVAL;
	for (i = 0; !ret && i < nr; i++)
		WRITE_ONCE(limits[i].pool->max, limits[i].max);
	mutex_unlock(&buffer_cg_mutex);
	/* Charges from a stock check no limit: none below may keep older bytes. */
	if (!ret)
		stocks_drain(cg, NULL, true);

	kfree(limits);
	return ret;
}

static ssize_t buffer_cg_max_write(struct kernfs_open_file *of, char *buf,
				   size_t nbytes, loff_t off)
{
	/* kernfs NUL-terminates; an embedded NUL would hide the rest. */
	if (strlen(buf) != nbytes)
		return -EINVAL;
	return buffer_cg_set_limits(css_buffer_cg(of_css(of)), buf) ?: nbytes;
}

static struct cftype buffer_cg_files[] = {
	{
		.name = "current",
		.seq_show = buffer_cg_show,
		.private = BUFFER_CG_CURRENT,
	},
	{
		.name = "max",
		.seq_show = buffer_cg_show,
		.write = buffer_cg_max_write,
		.private = BUFFER_CG_MAX_FILE,
		.flags = CFTYPE_NOT_ON_ROOT,
	},
	{
		.name = "peak",
		.seq_show = buffer_cg_show,
		.private = BUFFER_CG_PEAK,
		.flags = CFTYPE_NOT_ON_ROOT,
	},
	{
		.name = "events",
		.seq_show = buffer_cg_show,
		.private = BUFFER_CG_EVENTS,
		.file_offset = offsetof(struct buffer_cg, events_file),
		.flags = CFTYPE_NOT_ON_ROOT,
	},
	{
		.name = "events.local",
		.seq_show = buffer_cg_show,
		.private = BUFFER_CG_EVENTS_LOCAL,
		.file_offset = offsetof(struct buffer_cg, events_local_file),
		.flags = CFTYPE_NOT_ON_ROOT,
	},
	{
		.name = "stat",
		.seq_show = buffer_cg_show,
		.private = BUFFER_CG_STAT,
	},
	{
		.name = "capacity",
		.seq_show = buffer_cg_show,
		.private = BUFFER_CG_CAPACITY,
		.flags = CFTYPE_ONLY_ON_ROOT,
	},
	{ }	/* terminate */
};

static struct cgroup_subsys_state *
buffer_cg_css_alloc(struct cgroup_subsys_state *parent_css)
{
	struct buffer_cg *cg = kzalloc(sizeof(*cg), GFP_KERNEL);

	return cg ? &cg->css : ERR_PTR(-ENOMEM);
}

static int buffer_cg_css_online(struct cgroup_subsys_state *css)
{
	mutex_lock(&buffer_cg_mutex);
	css_buffer_cg(css)->online = true;
	mutex_unlock(&buffer_cg_mutex);
	return 0;
}

/* Retire the pools: each lets its cgroup go with its last buffer. */
static void buffer_cg_css_offline(struct cgroup_subsys_state *css)
{
	struct buffer_cg *cg = css_buffer_cg(css);
	struct buffer_cg_pool *pool;
	unsigned int id;

	mutex_lock(&buffer_cg_mutex);
	cg->online = false;
	for (id = 0; pool_slot(cg, id); id++) {
		pool = pool_lookup(cg, id);
		if (pool)
			pool_set_live(pool, false);
	}
	mutex_unlock(&buffer_cg_mutex);
	/* A stock would keep the retired pools' bytes in the parent's usage. */
	stocks_drain(cg, NULL, false);
}

/*
 * Pools with holders hold css references, so a cgroup is freed only after
 * its last buffer, and after its children, whose pools point at its own.
 */
static void buffer_cg_css_free(struct cgroup_subsys_state *css)
{
	struct buffer_cg *cg = css_buffer_cg(css);
	struct buffer_cg_pool *pool;
	unsigned int id;

	mutex_lock(&buffer_cg_mutex);
	for (id = 0; pool_slot(cg, id); id++) {
		pool = pool_lookup(cg, id);
		if (pool) {
			WARN_ON_ONCE(atomic_long_read(&pool->holders));
			pool_drop_raw_locked(pool, "its cgroup was freed");
			list_del(&pool->dev_node);
			kfree(pool);
		}
	}
	kfree(rcu_dereference_protected(cg->pools, true));
	mutex_unlock(&buffer_cg_mutex);
	kfree(cg);
}

struct cgroup_subsys buffer_cgrp_subsys = {
	.css_alloc = buffer_cg_css_alloc,
	.css_online = buffer_cg_css_online,
	.css_offline = buffer_cg_css_offline,
	.css_free = buffer_cg_css_free,
	/* cgroup v2 only: charge targets are named on the default hierarchy. */
	.dfl_cftypes = buffer_cg_files,
};

#ifdef CONFIG_CGROUP_BUFFER_KUNIT_TEST
#include "buffer_cg_test.c"
#endif
