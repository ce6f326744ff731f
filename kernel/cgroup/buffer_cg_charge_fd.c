// SPDX-License-Identifier: GPL-2.0
/*
 * Buffer cgroup controller: charging another cgroup
 *
 * An allocator names the cgroup to charge with a pidfd or a cgroup2
 * directory fd, and may charge it only where it could move a process to:
 * cgroup core's rule for writing cgroup.procs.
 *
 * Copyright (C) 2026 The buffer_cg authors
 */

#include <kunit/visibility.h>
#include <linux/capability.h>
#include <linux/cgroup.h>
#include <linux/cred.h>
#include <linux/file.h>
#include <linux/fs.h>
#include <linux/kernfs.h>
#include <linux/nsproxy.h>
#include <linux/pid.h>
#include <linux/rcupdate.h>
#include <linux/sched/signal.h>
#include <linux/security.h>
#include <linux/slab.h>

#include "buffer_cg_internal.h"

/* Grows after every LSM policy change that the LSMs announce. */
static atomic64_t buffer_cg_policy_seq;

VISIBLE_IF_KUNIT int buffer_cg_policy_changed(struct notifier_block *nb,
					      unsigned long event, void *data)
{
	/* Pairs with the acquire in buffer_cg_grant_basis(). */
	if (event == LSM_POLICY_CHANGE)
		atomic64_inc_return_release(&buffer_cg_policy_seq);
	return NOTIFY_DONE;
}

static struct notifier_block buffer_cg_policy_nb = {
	.notifier_call = buffer_cg_policy_changed,
};

/*
 * An internal cgroup2 mount. A pidfd names a cgroup through no mount, but
 * cgroup_may_migrate_current() checks cgroup.procs files as inodes of a
 * superblock, for the LSMs' sake: this one serves for pidfds. Mounted at
 * boot, before userspace mounts cgroup2: every cgroup2 mount applies its
 * options (nsdelegate, ...) to the hierarchy, and a later one would clear
 * the user's.
 */
VISIBLE_IF_KUNIT struct vfsmount *buffer_cg_mnt;

static int __init buffer_cg_charge_fd_init(void)
{
	struct file_system_type *type;
	struct vfsmount *mnt;
	int ret;

	/* Grants are kept for cgroup fds whether or not the mount works. */
	ret = register_blocking_lsm_notifier(&buffer_cg_policy_nb);
	if (ret)
		return ret;
	type = get_fs_type("cgroup2");
	if (!type)
		return -ENODEV;
	mnt = kern_mount(type);
	put_filesystem(type);
	if (IS_ERR(mnt))
		return PTR_ERR(mnt);
	buffer_cg_mnt = mnt;
	return 0;
}
late_initcall(buffer_cg_charge_fd_init);

/*
 * A yes of cgroup core's rule that let a caller charge a cgroup (a grant),
 * kept in the buffer controller's state of the cgroup the charge lands in,
 * which has a few: an allocator that charges the clients delegated to it
 * asks cgroup core about a client once a second, not once per buffer. A
 * grant is the rule's answer while its inputs stay the same: the caller's
 * credentials and cgroup, the two cgroups, the cgroup.procs files' owners,
 * modes and labels (kernfs_attr_seq()) and the LSMs' policy
 * (buffer_cg_policy_seq).
 * Its lifetime bounds what no count sees: an LSM policy change that is not
 * announced (Smack's rule loads, a BPF LSM program). A yes that a
 * capability may have given (CAP_DAC_OVERRIDE over the files' modes) is
 * not kept: capability LSMs do not announce their changes either.
 *
 * Immutable once published; freed after a grace period. It holds the
 * caller's credentials, so that no other can take their address, until it
 * is replaced or its cgroup is freed.
 */
struct buffer_cg_grant {
	const struct cred *cred;	/* a reference */
	u64 src_id;
	u64 dst_id;
	struct buffer_cg_grant_basis basis;
	struct rcu_head rcu;
};

static void buffer_cg_grant_free(struct buffer_cg_grant *grant)
{
	put_cred(grant->cred);
	kfree(grant);
}

static void buffer_cg_grant_free_rcu(struct rcu_head *rcu)
{
	buffer_cg_grant_free(container_of(rcu, struct buffer_cg_grant, rcu));
}

/* From css_free: no reader or writer is left. */
void buffer_cg_grant_release(struct buffer_cg *cg)
{
	struct buffer_cg_grant *grant;
	int i;

	for (i = 0; i < BUFFER_CG_GRANTS; i++) {
		grant = rcu_dereference_protected(cg->grants[i], true);
		if (grant)
			buffer_cg_grant_free(grant);
	}
}

/*
 * What a grant cannot hold, asked on every use: both cgroups inside
 * current's cgroup namespace (which the rule asks for when namespaces
 * delegate) and a writable superblock.
 */
static bool buffer_cg_grant_applies(struct cgroup *src, struct cgroup *dst,
				    struct super_block *sb)
{
	struct cgroup *ns_root = current->nsproxy->cgroup_ns->root_cset->dfl_cgrp;

	return cgroup_subsys_enabled(buffer_cgrp_subsys) && sb && !sb_rdonly(sb) &&
	       cgroup_is_descendant(src, ns_root) &&
	       cgroup_is_descendant(dst, ns_root);
}

/* Nothing changed since @grant was decided, and it has not expired. */
static bool buffer_cg_grant_current(struct buffer_cg_grant *grant,
				    struct cgroup *dst)
{
	return grant->basis.attr_seq == kernfs_attr_seq(dst->kn) &&
	       grant->basis.policy_seq == atomic64_read(&buffer_cg_policy_seq) &&
	       time_before64(get_jiffies_64(),
			     grant->basis.asked + BUFFER_CG_GRANT_LIFETIME);
}

/* Does @grant still say what the rule would, for current? */
static bool buffer_cg_grant_valid(struct buffer_cg_grant *grant,
				  struct cgroup *src, struct cgroup *dst)
{
	return grant && grant->cred == current_cred() &&
	       grant->src_id == cgroup_id(src) &&
	       grant->dst_id == cgroup_id(dst) &&
	       buffer_cg_grant_current(grant, dst);
}

/* Does a grant let current charge @dst from @src? Under RCU. */
VISIBLE_IF_KUNIT bool buffer_cg_granted(struct cgroup *src, struct cgroup *dst,
					struct super_block *sb)
{
	struct buffer_cg *cg;
	int i;

	if (!buffer_cg_grant_applies(src, dst, sb))
		return false;
	cg = css_buffer_cg(cgroup_e_css(dst, &buffer_cgrp_subsys));
	for (i = 0; i < BUFFER_CG_GRANTS; i++)
		if (buffer_cg_grant_valid(rcu_dereference(cg->grants[i]), src, dst))
			return true;
	return false;
}

/*
 * What a grant's validity is read from, read before the rule is asked: a
 * change the rule did not see then voids the grant, and its lifetime runs
 * from the question.
 */
VISIBLE_IF_KUNIT void buffer_cg_grant_basis(struct cgroup *dst,
					    struct buffer_cg_grant_basis *basis)
{
	basis->asked = get_jiffies_64();
	basis->attr_seq = kernfs_attr_seq(dst->kn);
	/* Pairs with the release in buffer_cg_policy_changed(). */
	basis->policy_seq = atomic64_read_acquire(&buffer_cg_policy_seq);
}

/*
 * A slot of @cg for current's new grant to charge @dst: an empty
 * one, or one whose grant serves nobody any more (stale, expired, or its
 * credentials held by grants alone); -1 if current has one already (kept
 * by another of its threads meanwhile) or none is free. A grant that may
 * still serve its caller is left alone, so that callers beyond the slots
 * do not take turns at allocating grants: they ask the rule, as without
 * grants. Under RCU.
 */
static int buffer_cg_grant_slot(struct buffer_cg *cg, struct cgroup *src,
				struct cgroup *dst, struct buffer_cg_grant **old)
{
	struct buffer_cg_grant *grant;
	int i, slot = -1;

	for (i = 0; i < BUFFER_CG_GRANTS; i++) {
		grant = rcu_dereference(cg->grants[i]);
		if (buffer_cg_grant_valid(grant, src, dst))
			return -1;
		if (slot < 0 && (!grant || !buffer_cg_grant_current(grant, dst) ||
				 atomic_long_read(&grant->cred->usage) == 1)) {
			slot = i;
			*old = grant;
		}
	}
	return slot;
}

/*
 * Keep the rule's yes that current may charge @dst from @src, with the
 * basis buffer_cg_grant_basis() read before the rule was asked. Nothing
 * kept (the rule is asked next time) if the grant could not serve, the
 * capability may have answered, no slot is free, or the allocation fails.
 */
VISIBLE_IF_KUNIT void buffer_cg_grant(struct cgroup *src, struct cgroup *dst,
				      struct super_block *sb,
				      const struct buffer_cg_grant_basis *basis)
{
	struct buffer_cg_grant *grant, *old = NULL;
	struct cgroup_subsys_state *css;
	struct buffer_cg *cg;
	int slot;

	if (cap_raised(current_cred()->cap_effective, CAP_DAC_OVERRIDE) ||
	    !buffer_cg_grant_applies(src, dst, sb))
		return;
	/* A caller beyond the slots allocates nothing. */
	rcu_read_lock();
	cg = css_buffer_cg(cgroup_e_css(dst, &buffer_cgrp_subsys));
	slot = buffer_cg_grant_slot(cg, src, dst, &old);
	rcu_read_unlock();
	if (slot < 0)
		return;
	grant = kmalloc(sizeof(*grant), GFP_KERNEL);
	if (!grant)
		return;
	grant->cred = get_current_cred();
	grant->src_id = cgroup_id(src);
	grant->dst_id = cgroup_id(dst);
	grant->basis = *basis;

	/* The css reference keeps css_free() from the slots until we are done. */
	css = cgroup_get_e_css(dst, &buffer_cgrp_subsys);
	cg = css_buffer_cg(css);
	rcu_read_lock();
	slot = buffer_cg_grant_slot(cg, src, dst, &old);
	/* Another CPU took the slot first: ask again next time. */
	if (slot >= 0 && unrcu_pointer(cmpxchg(&cg->grants[slot],
					       RCU_INITIALIZER(old),
					       RCU_INITIALIZER(grant))) != old)
		slot = -1;
	rcu_read_unlock();
	css_put(css);
	if (slot < 0)
		buffer_cg_grant_free(grant);
	else if (old)
		call_rcu(&old->rcu, buffer_cg_grant_free_rcu);
}

/*
 * May current charge @dst, named through @sb? Its own cgroup; any cgroup
 * with CAP_SYS_RESOURCE; or a cgroup it could move a process from its own
 * into (cgroup core's rule for writing cgroup.procs), inside its cgroup
 * namespace. The capability is asked without audit: an allocator that
 * charges the clients delegated to it must not log a denial per buffer.
 * The rule, which costs two inodes, is asked last, and its yes is kept.
 */
static int buffer_cg_may_charge(struct cgroup *dst, struct super_block *sb)
{
	struct cgroup_namespace *ns = current->nsproxy->cgroup_ns;
	struct buffer_cg_grant_basis basis;
	struct cgroup *src;
	bool allowed;
	int ret;

	rcu_read_lock();
	src = task_dfl_cgroup(current);
	allowed = src == dst || buffer_cg_granted(src, dst, sb);
	rcu_read_unlock();
	if (allowed || ns_capable_noaudit(&init_user_ns, CAP_SYS_RESOURCE))
		return 0;
	if (!sb || !cgroup_is_descendant(dst, ns->root_cset->dfl_cgrp))
		return -EPERM;

	buffer_cg_grant_basis(dst, &basis);
	rcu_read_lock();
	/* As cgroup_sk_alloc(): a migration may put the last reference. */
	do {
		src = task_dfl_cgroup(current);
	} while (!cgroup_tryget(src));
	rcu_read_unlock();
	ret = cgroup_may_migrate_current(src, dst, sb);
	if (!ret)
		buffer_cg_grant(src, dst, sb, &basis);
	cgroup_put(src);
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

#ifdef SERIES_MEMCG
/**
 * buffer_cg_get_charge_cgroup() - get the cgroup a charge_fd names
 * @charge_fd: a pidfd (its process's cgroup) or a cgroup2 directory fd,
 *	which may be opened O_PATH
 *
 * What buffer_cg_get_charge_target() resolves and checks, as a cgroup
 * rather than the buffer controller's state in it, so that a buffer also
 * charged elsewhere (memcg, with dma_heap.mem_accounting=1) charges one
 * cgroup in both, resolved once, whether or not the buffer controller is
 * enabled.
 *
 * Context: Process context.
 * Return: a reference to put with buffer_cg_put_cgroup(), or ERR_PTR() as
 * buffer_cg_get_charge_target() returns it.
 */
struct cgroup *buffer_cg_get_charge_cgroup(int charge_fd)
#else
static struct cgroup *buffer_cg_get_charge_cgroup(int charge_fd)
#endif
{
	struct super_block *sb = NULL;
	struct cgroup *cgrp;
	int ret;

	CLASS(fd_raw, f)(charge_fd);
	if (fd_empty(f))
		return ERR_PTR(-EBADF);

	cgrp = buffer_cg_fd_cgroup(fd_file(f), &sb);
	if (IS_ERR(cgrp))
		return cgrp;
	ret = buffer_cg_may_charge(cgrp, sb);
	if (ret) {
		cgroup_put(cgrp);
		return ERR_PTR(ret);
	}
	return cgrp;
}
#ifdef SERIES_MEMCG

/**
 * buffer_cg_put_cgroup() - put a cgroup that buffer_cg_get_charge_cgroup() got
 * @cgrp: the cgroup
 *
 * For callers that build without CONFIG_CGROUPS, where cgroup_put() does
 * not exist.
 */
void buffer_cg_put_cgroup(struct cgroup *cgrp)
{
	cgroup_put(cgrp);
}
#endif

#ifdef SERIES_MEMCG
/**
 * buffer_cg_get_cgroup() - get the buffer controller's state of a cgroup
 * @cgrp: a cgroup on the default hierarchy, which the caller holds
 *
 * The charge lands on the nearest cgroup with the controller enabled, as
 * it would for a process in @cgrp.
 *
 * Return: a reference to put with buffer_cg_put(), or NULL if the
 * controller is disabled.
 */
struct buffer_cg *buffer_cg_get_cgroup(struct cgroup *cgrp)
#else
static struct buffer_cg *buffer_cg_get_cgroup(struct cgroup *cgrp)
#endif
{
	if (!cgroup_subsys_enabled(buffer_cgrp_subsys))
		return NULL;
	return css_buffer_cg(cgroup_get_e_css(cgrp, &buffer_cgrp_subsys));
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
	struct buffer_cg *cg;
	struct cgroup *cgrp;

	cgrp = buffer_cg_get_charge_cgroup(charge_fd);
	if (IS_ERR(cgrp))
		return ERR_CAST(cgrp);
	cg = buffer_cg_get_cgroup(cgrp);
	cgroup_put(cgrp);
	return cg;
}
