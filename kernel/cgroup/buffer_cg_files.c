// SPDX-License-Identifier: GPL-2.0
/*
 * Buffer cgroup controller: the interface files
 *
 * buffer.current, buffer.max, buffer.peak, buffer.events,
 * buffer.events.local, buffer.stat and, on the root, buffer.capacity: one
 * "<device> <value>" line per registered device, in registration order.
 *
 * Copyright (C) 2026 The buffer_cg authors
 */

#include <kunit/visibility.h>
#include <linux/ctype.h>
#include <linux/kernfs.h>
#include <linux/overflow.h>
#include <linux/seq_file.h>
#include <linux/slab.h>
#include <linux/string.h>

#include "buffer_cg_internal.h"

/*
#ifdef SERIES_STOCK
 * buffer.current: the subtree's usage, which only the root adds up, less
 * what the stocks keep.
#else
 * buffer.current: the subtree's usage, which only the root adds up.
#endif
 */
VISIBLE_IF_KUNIT long buffer_cg_pool_current_locked(struct buffer_cg_pool *pool)
{
	long usage = atomic_long_read(&pool->usage);
	struct buffer_cg_pool *top;
#ifdef SERIES_STOCK
	long bytes, refs;
#endif

	lockdep_assert_held(&buffer_cg_mutex);

	if (buffer_cg_is_root(pool->cg))
		list_for_each_entry(top, &pool->state->pools, state_node)
			if (top->cg->css.parent == &pool->cg->css)
				usage += atomic_long_read(&top->usage);
#ifdef SERIES_STOCK
	buffer_cg_stock_kept(pool, &bytes, &refs);
	return usage - bytes;
#else
	return usage;
#endif
}

#ifdef SERIES_STOCK
/* Records naming the pool: its references but the pool's and the stocks'. */
#else
/* Records naming the pool: its references but the pool's own. */
#endif
VISIBLE_IF_KUNIT long buffer_cg_pool_buffers_locked(struct buffer_cg_pool *pool)
{
#ifdef SERIES_STOCK
	long bytes, refs;

	lockdep_assert_held(&buffer_cg_mutex);

	buffer_cg_stock_kept(pool, &bytes, &refs);
	return atomic_long_read(&pool->refcnt) - pool->live - refs;
#else
	lockdep_assert_held(&buffer_cg_mutex);

	return atomic_long_read(&pool->refcnt) - pool->live;
#endif
}

enum buffer_cg_file {
	BUFFER_CG_CURRENT,
	BUFFER_CG_MAX_FILE,
	BUFFER_CG_PEAK,
	BUFFER_CG_EVENTS,
	BUFFER_CG_EVENTS_LOCAL,
	BUFFER_CG_STAT,
	BUFFER_CG_CAPACITY,
};

static void buffer_cg_show_pool_locked(struct seq_file *sf,
				       enum buffer_cg_file file,
				       struct buffer_cg_dev_state *state,
				       struct buffer_cg_pool *pool)
{
	unsigned long max;

	lockdep_assert_held(&buffer_cg_mutex);

	switch (file) {
	case BUFFER_CG_CURRENT:
		seq_printf(sf, "%s %ld\n", state->name,
			   pool ? buffer_cg_pool_current_locked(pool) : 0);
		break;
	case BUFFER_CG_MAX_FILE:
		max = pool ? READ_ONCE(pool->max) : BUFFER_CG_MAX;
		if (max == BUFFER_CG_MAX)
			seq_printf(sf, "%s max\n", state->name);
		else
			seq_printf(sf, "%s %lu\n", state->name, max);
		break;
	case BUFFER_CG_PEAK:
		seq_printf(sf, "%s %lu\n", state->name,
			   pool ? READ_ONCE(pool->peak) : 0);
		break;
	case BUFFER_CG_EVENTS:
		seq_printf(sf, "%s max=%lld\n", state->name,
			   pool ? atomic64_read(&pool->events_max) : 0);
		break;
	case BUFFER_CG_EVENTS_LOCAL:
		seq_printf(sf, "%s max=%lld\n", state->name,
			   pool ? atomic64_read(&pool->events_max_local) : 0);
		break;
	case BUFFER_CG_STAT:
		seq_printf(sf, "%s buffers=%ld transfers_in=%lld transfers_out=%lld\n",
			   state->name,
			   pool ? buffer_cg_pool_buffers_locked(pool) : 0,
			   pool ? atomic64_read(&pool->transfers_in) : 0,
			   pool ? atomic64_read(&pool->transfers_out) : 0);
		break;
	case BUFFER_CG_CAPACITY:
		if (state->capacity)
			seq_printf(sf, "%s %llu\n", state->name, state->capacity);
		break;
	}
}

static int buffer_cg_show(struct seq_file *sf, void *v)
{
	struct buffer_cg *cg = css_buffer_cg(seq_css(sf));
	enum buffer_cg_file file = seq_cft(sf)->private;
	struct buffer_cg_dev_state *state;
	struct buffer_cg_pool *pool;

	mutex_lock(&buffer_cg_mutex);
	list_for_each_entry(state, &buffer_cg_devices, node) {
		if (buffer_cg_dev_state_gone_locked(state))
			continue;
		pool = buffer_cg_pool_lookup(cg, state->id);
		buffer_cg_show_pool_locked(sf, file, state, pool);
	}
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
VISIBLE_IF_KUNIT int buffer_cg_parse_value(const char *s, u64 *value)
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
static int buffer_cg_parse_limit_locked(struct buffer_cg *cg, char *line,
					struct buffer_cg_limit *limit)
{
	struct buffer_cg_dev_state *state;
	char *name, *value;
	u64 max;
	int ret;

	lockdep_assert_held(&buffer_cg_mutex);

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

	state = buffer_cg_dev_state_find_locked(name);
	if (!state)
		return -ENODEV;
	limit->pool = buffer_cg_pool_create_locked(cg, state);
	if (IS_ERR(limit->pool))
		return PTR_ERR(limit->pool);
	limit->max = max;
	return 0;
}

/*
 * Apply "<device> <value>" lines to @cg's buffer.max. Every line is checked
 * before any is applied, so a bad write changes nothing.
 */
VISIBLE_IF_KUNIT int buffer_cg_set_limits(struct buffer_cg *cg, char *buf)
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
		ret = buffer_cg_parse_limit_locked(cg, line, &limits[nr]);
		if (ret)
			break;
		nr++;
	}
	if (!ret && !nr)
		ret = -EINVAL;
	for (i = 0; !ret && i < nr; i++)
		WRITE_ONCE(limits[i].pool->max, limits[i].max);
	mutex_unlock(&buffer_cg_mutex);
#ifdef SERIES_STOCK
	/* Charges from a stock check no limit: none below may keep older bytes. */
	if (!ret)
		buffer_cg_stock_drain_all(cg, NULL, true);
#endif

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

struct cftype buffer_cg_files[] = {
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

