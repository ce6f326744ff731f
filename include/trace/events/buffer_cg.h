/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Trace events of the buffer cgroup controller. Defined by
 * kernel/cgroup/buffer_cg.c, which provides the pool helpers used below;
 * its other files only call them.
 */
#undef TRACE_SYSTEM
#define TRACE_SYSTEM buffer_cg

#if !defined(_TRACE_BUFFER_CG_H) || defined(TRACE_HEADER_MULTI_READ)
#define _TRACE_BUFFER_CG_H

#include <linux/tracepoint.h>

struct buffer_cg_pool;

DECLARE_EVENT_CLASS(buffer_cg_charge_class,
		    TP_PROTO(struct buffer_cg_pool *pool, u64 size, int result),
		    TP_ARGS(pool, size, result),
		    TP_STRUCT__entry(__field(u64, cgroup_id)
				     __string(device, pool_device_name(pool))
				     __field(u64, size)
				     __field(int, result)),
		    TP_fast_assign(__entry->cgroup_id = pool_cgroup_id(pool);
				   __assign_str(device);
				   __entry->size = size;
				   __entry->result = result;),
		    TP_printk("cgroup=%llu device=%s size=%llu result=%d",
			      __entry->cgroup_id, __get_str(device),
			      __entry->size, __entry->result));

/* Every charge attempt, refused ones included (result -ENOMEM). */
DEFINE_EVENT(buffer_cg_charge_class, buffer_cg_charge,
	     TP_PROTO(struct buffer_cg_pool *pool, u64 size, int result),
	     TP_ARGS(pool, size, result));

DEFINE_EVENT(buffer_cg_charge_class, buffer_cg_uncharge,
	     TP_PROTO(struct buffer_cg_pool *pool, u64 size, int result),
	     TP_ARGS(pool, size, result));

/* A refusal, naming the cgroup whose buffer.max refused it. */
TRACE_EVENT(buffer_cg_charge_failed,
	    TP_PROTO(struct buffer_cg_pool *pool, struct buffer_cg_pool *limited,
		     u64 size, int result),
	    TP_ARGS(pool, limited, size, result),
	    TP_STRUCT__entry(__field(u64, cgroup_id)
			     __field(u64, limited_id)
			     __string(device, pool_device_name(pool))
			     __field(u64, size)
			     __field(int, result)),
	    TP_fast_assign(__entry->cgroup_id = pool_cgroup_id(pool);
			   __entry->limited_id = pool_cgroup_id(limited);
			   __assign_str(device);
			   __entry->size = size;
			   __entry->result = result;),
	    TP_printk("cgroup=%llu limited_by=%llu device=%s size=%llu result=%d",
		      __entry->cgroup_id, __entry->limited_id,
		      __get_str(device), __entry->size, __entry->result));
#ifdef SERIES_TRANSFER

TRACE_EVENT(buffer_cg_transfer,
	    TP_PROTO(struct buffer_cg_pool *from, struct buffer_cg_pool *to,
		     u64 size, int result),
	    TP_ARGS(from, to, size, result),
	    TP_STRUCT__entry(__field(u64, cgroup_id)
			     __field(u64, to_id)
			     __string(device, pool_device_name(from))
			     __field(u64, size)
			     __field(int, result)),
	    TP_fast_assign(__entry->cgroup_id = pool_cgroup_id(from);
			   __entry->to_id = pool_cgroup_id(to);
			   __assign_str(device);
			   __entry->size = size;
			   __entry->result = result;),
	    TP_printk("cgroup=%llu to=%llu device=%s size=%llu result=%d",
		      __entry->cgroup_id, __entry->to_id, __get_str(device),
		      __entry->size, __entry->result));
#endif

#endif /* _TRACE_BUFFER_CG_H */

/* This part must be outside protection */
#include <trace/define_trace.h>
