// SPDX-License-Identifier: GPL-2.0
/*
 * container_monitor: the ioctls of /dev/container_monitor.
 *
 * Nothing read from user memory is trusted: every structure is copied in
 * whole, its size field checked, reserved fields must be zero and ids must
 * be terminated and printable before anything looks at them.
 */
#define pr_fmt(fmt) "container_monitor: " fmt

#include <linux/capability.h>
#include <linux/fs.h>
#include <linux/pid.h>
#include <linux/pid_namespace.h>
#include <linux/ratelimit.h>
#include <linux/sched.h>
#include <linux/sched/signal.h>
#include <linux/slab.h>
#include <linux/string.h>
#include <linux/uaccess.h>

#include "cm_internal.h"

/*
 * REGISTER/UNREGISTER lines are informational and a runtime under stress
 * can register thousands of containers a second: limit them so the log
 * (and a slow serial console) is not flooded.  Limit lines are never
 * limited; there is at most one of each per container.
 */
static DEFINE_RATELIMIT_STATE(cm_reg_rs, 5 * HZ, 200);

void cm_container_free(struct cm_container *c)
{
	put_pid(c->pid);
	kfree(c);
}

/* 1..63 printable characters without spaces, NUL-terminated in the array. */
static int cm_check_id(const char *id)
{
	size_t len = strnlen(id, CM_ID_LEN);
	size_t i;

	if (len == 0 || len == CM_ID_LEN)
		return -EINVAL;
	/* ids go into the log and /proc as words: no spaces, no control bytes */
	for (i = 0; i < len; i++)
		if (id[i] <= ' ' || id[i] > '~')
			return -EINVAL;
	return 0;
}

static struct cm_container *cm_find(const char *id)
{
	struct cm_container *c;

	lockdep_assert_held(&cm_lock);
	list_for_each_entry(c, &cm_containers, node)
		if (!strcmp(c->id, id))
			return c;
	return NULL;
}

static void cm_fill_entry(struct cm_entry *e, const struct cm_container *c)
{
	memset(e, 0, sizeof(*e));
	strscpy(e->id, c->id, sizeof(e->id));
	e->pid = c->user_pid;
	e->flags = c->flags;
	e->soft_limit = c->soft_limit;
	e->hard_limit = c->hard_limit;
	e->rss = c->rss;
	e->nr_procs = c->nr_procs;
}

static int cm_ioc_version(void __user *uarg)
{
	struct cm_version v;

	if (copy_from_user(&v, uarg, sizeof(v)))
		return -EFAULT;
	if (v.size != sizeof(v))
		return -EINVAL;
	memset(&v, 0, sizeof(v));
	v.size = sizeof(v);
	v.abi_version = CM_ABI_VERSION;
	v.scan_interval_ms = READ_ONCE(cm_scan_interval_ms);
	v.max_entries = CM_MAX_ENTRIES;
	v.queue_len = CM_QUEUE_LEN;
	v.event_size = sizeof(struct cm_event);
	return copy_to_user(uarg, &v, sizeof(v)) ? -EFAULT : 0;
}

/*
 * Resolve @nr in the caller's PID namespace to a referenced struct pid of a
 * live user process.  Sets *pidns when it is PID 1 of its own namespace.
 */
static int cm_get_target(pid_t nr, struct pid **out, bool *pidns)
{
	struct task_struct *task;
	struct pid *pid;
	int ret = 0;

	if (nr <= 0)
		return -EINVAL;
	pid = find_get_pid(nr);
	if (!pid)
		return -ESRCH;

	rcu_read_lock();
	task = pid_task(pid, PIDTYPE_TGID);
	if (!task || !atomic_read(&task->signal->live))
		ret = -ESRCH;	/* a thread id, or the process is exiting */
	else if (task->flags & PF_KTHREAD)
		ret = -EINVAL;	/* no memory of its own, cannot be killed */
	rcu_read_unlock();
	if (ret)
		goto fail;

	*pidns = pid_nr_ns(pid, ns_of_pid(pid)) == 1;
	/*
	 * The host's init "contains" every process: a hard limit on it would
	 * kill the machine.  It is never a container.
	 */
	if (*pidns && ns_of_pid(pid) == &init_pid_ns) {
		ret = -EINVAL;
		goto fail;
	}
	*out = pid;
	return 0;
fail:
	put_pid(pid);
	return ret;
}

static int cm_ioc_register(void __user *uarg)
{
	struct cm_register req;
	struct cm_container *c;
	bool pidns;
	int ret;

	if (!capable(CAP_SYS_ADMIN))
		return -EPERM;
	if (copy_from_user(&req, uarg, sizeof(req)))
		return -EFAULT;
	if (req.size != sizeof(req))
		return -EINVAL;
	ret = cm_check_id(req.id);
	if (ret)
		return ret;
	if (req.soft_limit && req.hard_limit && req.soft_limit > req.hard_limit)
		return -EINVAL;

	c = kzalloc(sizeof(*c), GFP_KERNEL);
	if (!c)
		return -ENOMEM;
	ret = cm_get_target(req.pid, &c->pid, &pidns);
	if (ret) {
		kfree(c);
		return ret;
	}
	strscpy(c->id, req.id, sizeof(c->id));
	c->ns = ns_of_pid(c->pid);
	c->user_pid = req.pid;
	c->flags = pidns ? CM_ENTRY_PIDNS : 0;
	c->soft_limit = req.soft_limit;
	c->hard_limit = req.hard_limit;

	mutex_lock(&cm_lock);
	if (cm_find(c->id)) {
		ret = -EEXIST;
	} else if (cm_nr_containers >= CM_MAX_ENTRIES) {
		ret = -ENOSPC;
	} else {
		list_add_tail(&c->node, &cm_containers);
		cm_nr_containers++;
		if (__ratelimit(&cm_reg_rs))
			pr_info("REGISTER container=%s pid=%d soft=%llu hard=%llu\n",
				c->id, pid_nr(c->pid), c->soft_limit,
				c->hard_limit);
		cm_scan_kick();
	}
	mutex_unlock(&cm_lock);

	if (ret)
		cm_container_free(c);
	return ret;
}

static int cm_ioc_unregister(void __user *uarg)
{
	struct cm_unregister req;
	struct cm_container *c;
	int ret;

	if (!capable(CAP_SYS_ADMIN))
		return -EPERM;
	if (copy_from_user(&req, uarg, sizeof(req)))
		return -EFAULT;
	if (req.size != sizeof(req) || req.reserved)
		return -EINVAL;
	ret = cm_check_id(req.id);
	if (ret)
		return ret;

	mutex_lock(&cm_lock);
	c = cm_find(req.id);
	if (c) {
		list_del(&c->node);
		cm_nr_containers--;
		if (__ratelimit(&cm_reg_rs))
			pr_info("UNREGISTER container=%s pid=%d rss=%llu\n",
				c->id, pid_nr(c->pid), c->rss);
	}
	mutex_unlock(&cm_lock);

	if (!c)
		return -ENOENT;
	cm_container_free(c);
	return 0;
}

/* QUERY (by id) and LIST (by index) share struct cm_query. */
static int cm_ioc_query(void __user *uarg, bool by_index)
{
	struct cm_query q;
	struct cm_container *c, *found = NULL;
	u32 i = 0;
	int ret;

	if (copy_from_user(&q, uarg, sizeof(q)))
		return -EFAULT;
	if (q.size != sizeof(q) || q.reserved)
		return -EINVAL;
	if (!by_index) {
		ret = cm_check_id(q.entry.id);
		if (ret)
			return ret;
	}

	mutex_lock(&cm_lock);
	list_for_each_entry(c, &cm_containers, node) {
		if (by_index ? i == q.index : !strcmp(c->id, q.entry.id)) {
			found = c;
			break;
		}
		i++;
	}
	q.total = cm_nr_containers;
	if (found)
		cm_fill_entry(&q.entry, found);
	mutex_unlock(&cm_lock);

	/* total is reported even when nothing matched */
	if (copy_to_user(uarg, &q, sizeof(q)))
		return -EFAULT;
	return found ? 0 : -ENOENT;
}

long cm_ioctl(struct file *file, unsigned int cmd, unsigned long arg)
{
	void __user *uarg = (void __user *)arg;

	switch (cmd) {
	case CM_IOC_VERSION:
		return cm_ioc_version(uarg);
	case CM_IOC_REGISTER:
		return cm_ioc_register(uarg);
	case CM_IOC_UNREGISTER:
		return cm_ioc_unregister(uarg);
	case CM_IOC_QUERY:
		return cm_ioc_query(uarg, false);
	case CM_IOC_LIST:
		return cm_ioc_query(uarg, true);
	default:
		return -ENOTTY;
	}
}
