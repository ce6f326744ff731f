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
 * A charge record points at its pool and holds one of the pool's
 * references; the pool, while it has any, holds a reference on its cgroup
 * and one on its device. A live pool (cgroup online, device registered)
 * holds one on itself too, so charging and releasing a buffer touch no
 * reference count but the pool's own: the cgroup and device references
 * change hands only when a pool is retired (rmdir, unregistration) and when
 * its last buffer goes after that.
 *
 * Copyright (C) 2026 The buffer_cg authors
 */

#include <kunit/visibility.h>
#include <linux/ctype.h>
#include <linux/idr.h>
#include <linux/printk.h>
#include <linux/slab.h>
#include <linux/string.h>

#include "buffer_cg_internal.h"

/*
 * Protects the device list and registration, pool creation and retirement,
 * the pool tables and limits. Charges and releases do not take it.
 */
DEFINE_MUTEX(buffer_cg_mutex);
/* The registered devices' states, in registration order; buffer_cg_mutex. */
LIST_HEAD(buffer_cg_devices);
/* Device ids, which index the pools of a cgroup. */
static DEFINE_IDA(buffer_cg_ids);

bool buffer_cg_dev_state_gone_locked(struct buffer_cg_dev_state *state)
{
	lockdep_assert_held(&buffer_cg_mutex);

	return !state->dev && percpu_ref_is_zero(&state->ref);
}
#ifdef SERIES_TRACE

/*
 * For the tracepoints, which CONFIG_TRACEPOINTS=n compiles out, leaving
 * these two unused.
 */
static __maybe_unused const char *pool_device_name(struct buffer_cg_pool *pool)
{
	return pool->state->name;
}

/* The cgroup's id; 0 for the bare test cgroups of the KUnit suite. */
static __maybe_unused u64 pool_cgroup_id(struct buffer_cg_pool *pool)
{
	struct cgroup *cgrp = pool->cg->css.cgroup;

	return cgrp ? cgroup_id(cgrp) : 0;
}

#define CREATE_TRACE_POINTS
#include <trace/events/buffer_cg.h>
#endif

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
struct buffer_cg_pool *buffer_cg_pool_lookup(struct buffer_cg *cg,
					     unsigned int id)
{
	struct buffer_cg_pool __rcu **slot = pool_slot(cg, id);

	return slot ? rcu_dereference_check(*slot,
					    lockdep_is_held(&buffer_cg_mutex)) :
		      NULL;
}

/*
 * Take a reference even on a pool that has none, taking its own references
 * on the cgroup and the device back;
 * the caller keeps the cgroup and the device alive meanwhile. Off the mutex,
 * the reference count only ever leaves zero through here.
 */
static void pool_get_locked(struct buffer_cg_pool *pool)
{
	lockdep_assert_held(&buffer_cg_mutex);

	if (atomic_long_inc_not_zero(&pool->refcnt))
		return;
	css_get(&pool->cg->css);
	percpu_ref_get(&pool->state->ref);
	atomic_long_set(&pool->refcnt, 1);
}

static void pool_set_live_locked(struct buffer_cg_pool *pool, bool live)
{
	lockdep_assert_held(&buffer_cg_mutex);

	if (pool->live == live)
		return;
#ifdef SERIES_STOCK
	/* Read by buffer_cg_stock_refill() without the mutex. */
#endif
	WRITE_ONCE(pool->live, live);
	if (live)
		pool_get_locked(pool);
	else
		pool_put(pool);
}

/* Give device @id a slot in @cg. */
static int pool_slot_reserve_locked(struct buffer_cg *cg, unsigned int id)
{
	struct buffer_cg_pool_table *old, *new;
	unsigned int size, i;

	lockdep_assert_held(&buffer_cg_mutex);

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

static struct buffer_cg_pool *pool_create_one_locked(struct buffer_cg *cg,
						     struct buffer_cg_dev_state *state,
						     struct buffer_cg_pool *parent)
{
	struct buffer_cg_pool *pool;

	lockdep_assert_held(&buffer_cg_mutex);

	if (pool_slot_reserve_locked(cg, state->id))
		return ERR_PTR(-ENOMEM);

	pool = kzalloc(sizeof(*pool), GFP_KERNEL);
	if (!pool)
		return ERR_PTR(-ENOMEM);
	pool->max = BUFFER_CG_MAX;
	pool->parent = parent;
	pool->cg = cg;
	pool->state = state;
	list_add_tail(&pool->state_node, &state->pools);
	pool_set_live_locked(pool, cg->online && state->dev);
	rcu_assign_pointer(*pool_slot(cg, state->id), pool);
	return pool;
}

/*
 * A pool points at its parent, so pools are created top-down:
 * each round creates the highest missing one.
 */
struct buffer_cg_pool *buffer_cg_pool_create_locked(struct buffer_cg *cg,
						    struct buffer_cg_dev_state *state)
{
	struct buffer_cg_pool *pool;

	lockdep_assert_held(&buffer_cg_mutex);

	for (;;) {
		struct buffer_cg *missing = cg, *parent;
		struct buffer_cg_pool *above = NULL;

		pool = buffer_cg_pool_lookup(cg, state->id);
		if (pool)
			return pool;

		while ((parent = parent_buffer_cg(missing)) &&
		       !buffer_cg_pool_lookup(parent, state->id))
			missing = parent;

		if (parent && !buffer_cg_is_root(parent))
			above = buffer_cg_pool_lookup(parent, state->id);
		pool = pool_create_one_locked(missing, state, above);
		if (IS_ERR(pool))
			return pool;
	}
}

/*
 * @cg's pool for @state with a reference taken, without a lock; NULL if there
 * is none yet or it is retired and empty. Under rcu_read_lock(), which keeps
 * @state's memory valid even if the device is gone and its id taken by
 * another: the pool found must be @state's.
 */
struct buffer_cg_pool *buffer_cg_pool_tryget(struct buffer_cg *cg,
					     struct buffer_cg_dev_state *state)
{
	struct buffer_cg_pool *pool = buffer_cg_pool_lookup(cg, state->id);

	if (!pool || !atomic_long_inc_not_zero(&pool->refcnt))
		return NULL;
	if (unlikely(pool->state != state)) {
		pool_put(pool);
		return NULL;
	}
	return pool;
}

/*
 * @cg's pool for @state, with a reference taken for the caller, who keeps @cg
 * and @state alive meanwhile.
 */
struct buffer_cg_pool *buffer_cg_pool_get(struct buffer_cg *cg,
					  struct buffer_cg_dev_state *state)
{
	struct buffer_cg_pool *pool;

	rcu_read_lock();
	pool = buffer_cg_pool_tryget(cg, state);
	rcu_read_unlock();
	if (likely(pool))
		return pool;

	mutex_lock(&buffer_cg_mutex);
	pool = buffer_cg_pool_create_locked(cg, state);
	if (!IS_ERR(pool))
		pool_get_locked(pool);
	mutex_unlock(&buffer_cg_mutex);
	return pool;
}

/*
 * @cg's pool for the device @dev, with a reference for the caller, who keeps
 * @cg alive; -ENODEV if @dev is not registered. A concurrent unregistration
 * may retire the pool right after: a charge to it is released as usual.
 */
struct buffer_cg_pool *buffer_cg_pool_get_device(struct buffer_cg *cg,
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
	pool = buffer_cg_pool_get(cg, state);
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
 * Charge @size to @pool and its ancestors up to @stop (see pool_try_charge()).
#ifdef SERIES_STOCK
 * Before a limit refuses the charge, the stocks below it give back what they
 * keep; only a refusal that stands counts in buffer.events.
 *
 * Context: Process context; sleeps if a limit is hit.
#else
 * A refusal counts in buffer.events.
#endif
 */
int buffer_cg_pool_charge(struct buffer_cg_pool *pool,
			  struct buffer_cg_pool *stop, u64 size)
{
	struct buffer_cg_pool *failed;

	/* More than any counter holds: as if the pool's own limit refused. */
	if (size > BUFFER_CG_MAX) {
		failed = pool;
		goto refused;
	}
#ifdef SERIES_STOCK
	failed = buffer_cg_stock_try_charge(pool, stop, size);
	if (failed && buffer_cg_stock_drain_all(failed->cg, failed->state, true))
		failed = buffer_cg_stock_try_charge(pool, stop, size);
#else
	failed = pool_try_charge(pool, stop, size);
#endif
	if (!failed)
		return 0;
refused:
	pool_record_refusal(failed);
#ifdef SERIES_TRACE
	trace_buffer_cg_charge_failed(pool, failed, size, -ENOMEM);
#endif
	return -ENOMEM;
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
#ifdef SERIES_RECORD
 * Exporters whose buffers can outlive their device want buffer_cg_charge(),
 * which records the charge in the buffer.
#endif
 *
#ifdef SERIES_STOCK
 * Context: Process context. May sleep: the first charge of a (cgroup,
 * device) pair allocates, and a charge that a limit would refuse first waits
 * for the CPUs to give back what they keep of released buffers. Other
 * charges take no lock and allocate nothing.
#else
 * Context: Process context. May sleep: the first charge of a (cgroup,
 * device) pair allocates. Other charges take no lock and allocate nothing.
#endif
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
	pool = buffer_cg_pool_get_device(cg, dev);
	if (IS_ERR(pool))
		return PTR_ERR(pool);
	ret = buffer_cg_pool_charge(pool, NULL, usage);
	/*
	 * Fully ordered, as unregistration's xchg() after it clears the
	 * device: one of the two finds the bytes it must uncharge.
	 */
	if (!ret && atomic_long_add_return(usage, &pool->raw) &&
	    unlikely(!READ_ONCE(pool->state->dev))) {
		pool_uncharge(pool, NULL, atomic_long_xchg(&pool->raw, 0));
		ret = -ENODEV;
	}
#ifdef SERIES_TRACE
	trace_buffer_cg_charge(pool, usage, ret);
#endif
	pool_put(pool);
	return ret;
}

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
					    pool->state->name, usage, raw);
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
	pool = state ? buffer_cg_pool_lookup(cg, state->id) : NULL;
#ifdef SERIES_TRACE
	if (pool && pool_take_raw(pool, usage)) {
		pool_uncharge(pool, NULL, usage);
		trace_buffer_cg_uncharge(pool, usage, 0);
	}
#else
	if (pool && pool_take_raw(pool, usage))
		pool_uncharge(pool, NULL, usage);
#endif
	rcu_read_unlock();
}

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
 * buffer_cg_put() - drop a reference taken by buffer_cg_get_*()
 * @cg: the cgroup, or NULL
 */
void buffer_cg_put(struct buffer_cg *cg)
{
	if (cg)
		css_put(&cg->css);
}
EXPORT_SYMBOL_GPL(buffer_cg_put);

bool buffer_cg_device_name_valid(const char *name)
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

struct buffer_cg_dev_state *buffer_cg_dev_state_find_locked(const char *name)
{
	struct buffer_cg_dev_state *state;

	lockdep_assert_held(&buffer_cg_mutex);
	list_for_each_entry(state, &buffer_cg_devices, node)
		if (!buffer_cg_dev_state_gone_locked(state) && !strcmp(state->name, name))
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
	if (!buffer_cg_dev_state_gone_locked(state)) {
		mutex_unlock(&buffer_cg_mutex);
		return;
	}
	list_del(&state->node);
	list_for_each_entry_safe(pool, tmp, &state->pools, state_node) {
		/* Left by a driver that unregistered before uncharging. */
		WARN_ONCE(!pool->parent && atomic_long_read(&pool->usage),
			  "buffer_cg: %s unregistered with %ld bytes charged\n",
			  state->name, atomic_long_read(&pool->usage));

		RCU_INIT_POINTER(*pool_slot(pool->cg, state->id), NULL);
		list_del(&pool->state_node);
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
	state = buffer_cg_dev_state_find_locked(dev->name);
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
	list_for_each_entry(pool, &state->pools, state_node)
		pool_set_live_locked(pool, pool->cg->online);
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
	long raw;

	lockdep_assert_held(&buffer_cg_mutex);

	raw = atomic_long_xchg(&pool->raw, 0);
	if (!raw)
		return;
	pr_warn("buffer_cg: %s: %ld bytes charged by buffer_cg_try_charge() when %s; uncharged\n",
		pool->state->name, raw, why);
	pool_uncharge(pool, NULL, raw);
#ifdef SERIES_TRACE
	trace_buffer_cg_uncharge(pool, raw, 0);
#endif
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
	list_for_each_entry(pool, &state->pools, state_node) {
		pool_drop_raw_locked(pool, "its device was unregistered");
		pool_set_live_locked(pool, false);
	}
	/* See struct buffer_cg_dev_state: under the mutex. */
	percpu_ref_kill(&state->ref);
	mutex_unlock(&buffer_cg_mutex);
#ifdef SERIES_STOCK

	/* The stocks' references keep the state until they are given back. */
	buffer_cg_stock_drain_all(NULL, state, false);
#endif
}
EXPORT_SYMBOL_GPL(buffer_cg_unregister_device);

VISIBLE_IF_KUNIT struct cgroup_subsys_state *
buffer_cg_css_alloc(struct cgroup_subsys_state *parent_css)
{
	struct buffer_cg *cg = kzalloc(sizeof(*cg), GFP_KERNEL);

	return cg ? &cg->css : ERR_PTR(-ENOMEM);
}

VISIBLE_IF_KUNIT int buffer_cg_css_online(struct cgroup_subsys_state *css)
{
	mutex_lock(&buffer_cg_mutex);
	css_buffer_cg(css)->online = true;
	mutex_unlock(&buffer_cg_mutex);
	return 0;
}

/* Retire the pools: each lets its cgroup go with its last buffer. */
VISIBLE_IF_KUNIT void buffer_cg_css_offline(struct cgroup_subsys_state *css)
{
	struct buffer_cg *cg = css_buffer_cg(css);
	struct buffer_cg_pool *pool;
	unsigned int id;

	mutex_lock(&buffer_cg_mutex);
	cg->online = false;
	for (id = 0; pool_slot(cg, id); id++) {
		pool = buffer_cg_pool_lookup(cg, id);
		if (pool)
			pool_set_live_locked(pool, false);
	}
	mutex_unlock(&buffer_cg_mutex);
#ifdef SERIES_STOCK
	/* A stock would keep the retired pools' bytes in the parent's usage. */
	buffer_cg_stock_drain_all(cg, NULL, false);
#endif
}

/*
 * Pools with references hold css references, so a cgroup is freed only after
 * its last buffer, and after its children, whose pools point at its own.
 */
VISIBLE_IF_KUNIT void buffer_cg_css_free(struct cgroup_subsys_state *css)
{
	struct buffer_cg *cg = css_buffer_cg(css);
	struct buffer_cg_pool *pool;
	unsigned int id;

	mutex_lock(&buffer_cg_mutex);
	for (id = 0; pool_slot(cg, id); id++) {
		pool = buffer_cg_pool_lookup(cg, id);
		if (pool) {
			WARN_ON_ONCE(atomic_long_read(&pool->refcnt));
			pool_drop_raw_locked(pool, "its cgroup was freed");
			list_del(&pool->state_node);
			kfree(pool);
		}
	}
	kfree(rcu_dereference_protected(cg->pools, true));
	mutex_unlock(&buffer_cg_mutex);
#ifdef SERIES_CHARGE_FD
	buffer_cg_grant_release(cg);
#endif
	kfree(cg);
}

struct cgroup_subsys buffer_cgrp_subsys = {
	.css_alloc = buffer_cg_css_alloc,
	.css_online = buffer_cg_css_online,
	.css_offline = buffer_cg_css_offline,
	.css_free = buffer_cg_css_free,
	/* cgroup v2 only: charge targets are named on the default hierarchy. */
#ifdef SERIES_FILES
	.dfl_cftypes = buffer_cg_files,
#endif
};

