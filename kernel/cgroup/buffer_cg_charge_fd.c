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

#include <linux/capability.h>
#include <linux/cgroup.h>
#include <linux/file.h>
#include <linux/fs.h>
#include <linux/nsproxy.h>
#include <linux/pid.h>
#include <linux/rcupdate.h>
#include <linux/sched/signal.h>

#include "buffer_cg_internal.h"

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
