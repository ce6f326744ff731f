/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Buffer cgroup controller: what its files share. Exporters use
 * include/linux/buffer_cg.h instead.
 *
 * Copyright (C) 2026 The buffer_cg authors
 */
#ifndef _BUFFER_CG_INTERNAL_H
#define _BUFFER_CG_INTERNAL_H

#include <linux/atomic.h>
#include <linux/buffer_cg.h>
#include <linux/cgroup.h>
#include <linux/list.h>
#include <linux/mutex.h>
#include <linux/page_counter.h>
#include <linux/percpu-refcount.h>
#include <linux/rcupdate.h>
#include <linux/workqueue.h>
#ifdef SERIES_STOCK
#include <linux/local_lock.h>
#include <linux/percpu.h>
#include <linux/sizes.h>
#endif

/*
 * Counters hold bytes. The bound of page_counter, whose arithmetic this is,
 * means "no limit": 2 PiB with 4 KiB pages.
 */
#define BUFFER_CG_MAX PAGE_COUNTER_MAX

struct buffer_cg_pool {
	/*
	 * A charge or release touches the first four in the pool and every
	 * ancestor, and the reference count in the pool: they share one
	 * cache line, where page_counter spreads its usage, watermark and
	 * limit over three for the memory controller's sake.
	 */
	atomic_long_t usage;
	unsigned long max;
	unsigned long peak;
	struct buffer_cg_pool *parent;
	/*
	 * Charge records naming this pool, plus one while the pool is live.
	 * Dropping to zero puts the references on the cgroup and the device.
	 */
	atomic_long_t refcnt;

	struct buffer_cg *cg;
	struct buffer_cg_dev_state *state;
	/* The cgroup is online and the device registered; buffer_cg_mutex. */
	bool live;
	/* In state->pools, under buffer_cg_mutex. */
	struct list_head state_node;
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
#ifdef SERIES_CHARGE_FD

/*
 * The charge_fd grants a cgroup keeps (see buffer_cg_charge_fd.c): an
 * allocator's threads share one; a few allocators, or clients whose charges
 * land in one cgroup, get one each.
 */
#define BUFFER_CG_GRANTS 4

/* How long a grant serves, at most, in jiffies from the question. */
#define BUFFER_CG_GRANT_LIFETIME HZ

/* What a grant was decided on, read before the rule was asked. */
struct buffer_cg_grant_basis {
	u64 attr_seq;		/* kernfs_attr_seq() of the hierarchy */
	u64 policy_seq;		/* the LSMs' announced policy changes */
	u64 asked;		/* jiffies64 */
};
#endif

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
	 * The ids from BUFFER_CG_INLINE_POOLS on. The table is replaced,
	 * never resized in place, when a larger id needs a slot.
	 */
	struct buffer_cg_pool_table __rcu *pools;
#ifdef SERIES_CHARGE_FD
	/* Callers allowed to charge it by permissions: see charge_fd.c. */
	struct buffer_cg_grant __rcu *grants[BUFFER_CG_GRANTS];
#endif
};

/*
 * The controller's side of a device. It outlives the driver's struct
 * buffer_cg_device while charges remain: every pool with references holds a
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

#ifdef SERIES_STOCK
/*
 * The most a stock keeps: what usage may exceed the bytes actually in
 * buffers by, per CPU. The batch of memcg's stock.
 */
#define BUFFER_CG_STOCK_MAX SZ_256K

/*
 * A CPU's stock: bytes of buffers released on this CPU that are still
 * charged to one pool and its ancestors, and the released records' references
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
	/*
	 * Protects every field below but drain_work against the CPU's other
	 * tasks; readers on other CPUs take none and use READ_ONCE().
	 */
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
	/* References on the pool, one per record released into the stock. */
	long nr_refs;
	struct work_struct drain_work;
};

DECLARE_PER_CPU(struct buffer_cg_stock, buffer_cg_stock);

#endif
/* See their definitions in buffer_cg.c. */
extern struct mutex buffer_cg_mutex;
extern struct list_head buffer_cg_devices;

static inline struct buffer_cg *css_buffer_cg(struct cgroup_subsys_state *css)
{
	return css ? container_of(css, struct buffer_cg, css) : NULL;
}

static inline struct buffer_cg *parent_buffer_cg(struct buffer_cg *cg)
{
	return css_buffer_cg(cg->css.parent);
}

static inline bool buffer_cg_is_root(struct buffer_cg *cg)
{
	return !cg->css.parent;
}

static inline void pool_put_many(struct buffer_cg_pool *pool, long nr)
{
	struct buffer_cg_dev_state *state;

	if (!nr || !atomic_long_sub_and_test(nr, &pool->refcnt))
		return;
	/* Either put may free the pool: read what the second needs first. */
	state = pool->state;
	css_put(&pool->cg->css);
	percpu_ref_put(&state->ref);
}

static inline void pool_put(struct buffer_cg_pool *pool)
{
	pool_put_many(pool, 1);
}

/*
 * Charge @size to the counters of @pool and its ancestors up to, not
 * including, @stop (NULL for all of them): a transfer must not count twice
 * in the ancestors that its source and target share. As in
 * page_counter_try_charge(), concurrent charges may each see the other's
 * bytes and both be refused, never both accepted beyond a limit.
 * Return: NULL, or the pool whose limit refused the charge.
 */
static inline struct buffer_cg_pool *pool_try_charge(struct buffer_cg_pool *pool,
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

static inline void pool_uncharge(struct buffer_cg_pool *pool,
				 struct buffer_cg_pool *stop, u64 size)
{
	struct buffer_cg_pool *p;

	for (p = pool; p != stop; p = p->parent)
		WARN_ON_ONCE(atomic_long_sub_return(size, &p->usage) < 0);
}

struct buffer_cg_pool *buffer_cg_pool_lookup(struct buffer_cg *cg,
					     unsigned int id);
struct buffer_cg_pool *buffer_cg_pool_create_locked(struct buffer_cg *cg,
						    struct buffer_cg_dev_state *state);
struct buffer_cg_pool *buffer_cg_pool_tryget(struct buffer_cg *cg,
					     struct buffer_cg_dev_state *state);
struct buffer_cg_pool *buffer_cg_pool_get(struct buffer_cg *cg,
					  struct buffer_cg_dev_state *state);
struct buffer_cg_pool *buffer_cg_pool_get_device(struct buffer_cg *cg,
						 struct buffer_cg_device *dev);
int buffer_cg_pool_charge(struct buffer_cg_pool *pool,
			  struct buffer_cg_pool *stop, u64 size);
bool buffer_cg_device_name_valid(const char *name);
bool buffer_cg_dev_state_gone_locked(struct buffer_cg_dev_state *state);
struct buffer_cg_dev_state *buffer_cg_dev_state_find_locked(const char *name);
#ifdef SERIES_FILES

extern struct cftype buffer_cg_files[];
#endif
#ifdef SERIES_CHARGE_FD

void buffer_cg_grant_release(struct buffer_cg *cg);
#endif
#ifdef SERIES_STOCK

void buffer_cg_stock_kept(struct buffer_cg_pool *pool, long *bytes, long *refs);
bool buffer_cg_stock_drain_all(struct buffer_cg *cg,
			       struct buffer_cg_dev_state *state, bool wait);
struct buffer_cg_pool *buffer_cg_stock_consume(struct buffer_cg *cg,
					       struct buffer_cg_dev_state *state,
					       u64 size);
bool buffer_cg_stock_refill(struct buffer_cg_pool *pool, u64 size);
struct buffer_cg_pool *buffer_cg_stock_try_charge(struct buffer_cg_pool *pool,
						  struct buffer_cg_pool *stop,
						  u64 size);
#endif
#if IS_ENABLED(CONFIG_KUNIT)

/* For the KUnit suite: see kunit/visibility.h. */
struct cgroup_subsys_state *
buffer_cg_css_alloc(struct cgroup_subsys_state *parent_css);
int buffer_cg_css_online(struct cgroup_subsys_state *css);
void buffer_cg_css_offline(struct cgroup_subsys_state *css);
void buffer_cg_css_free(struct cgroup_subsys_state *css);
#ifdef SERIES_FILES
long buffer_cg_pool_current_locked(struct buffer_cg_pool *pool);
long buffer_cg_pool_buffers_locked(struct buffer_cg_pool *pool);
int buffer_cg_parse_value(const char *s, u64 *value);
int buffer_cg_set_limits(struct buffer_cg *cg, char *buf);
#endif
#ifdef SERIES_CHARGE_FD
struct notifier_block;
struct super_block;
struct vfsmount;
extern struct vfsmount *buffer_cg_mnt;
void buffer_cg_grant_basis(struct cgroup *dst,
			   struct buffer_cg_grant_basis *basis);
int buffer_cg_policy_changed(struct notifier_block *nb, unsigned long event,
			     void *data);
bool buffer_cg_granted(struct cgroup *src, struct cgroup *dst,
		       struct super_block *sb);
void buffer_cg_grant(struct cgroup *src, struct cgroup *dst,
		     struct super_block *sb,
		     const struct buffer_cg_grant_basis *basis);
#endif
#endif

#endif /* _BUFFER_CG_INTERNAL_H */
