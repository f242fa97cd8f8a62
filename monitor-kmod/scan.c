// SPDX-License-Identifier: GPL-2.0
/*
 * container_monitor: the periodic RSS scan and limit enforcement.
 *
 * A delayed work item, not a timer: the scan takes cm_lock (a mutex, since
 * ioctls sleep in copy_from_user and kzalloc under it) and may walk every
 * process on the host, which is too long for softirq context.  The walk
 * itself runs under rcu_read_lock() and takes only spinlocks (task_lock,
 * the sighand lock inside send_sig()); task pointers never outlive it.
 * Between scans the module holds only struct pid references.
 */
#define pr_fmt(fmt) "container_monitor: " fmt

#include <linux/jiffies.h>
#include <linux/mm.h>
#include <linux/pid.h>
#include <linux/pid_namespace.h>
#include <linux/rcupdate.h>
#include <linux/sched.h>
#include <linux/sched/signal.h>
#include <linux/sched/task.h>
#include <linux/sort.h>
#include <linux/timekeeping.h>
#include <linux/workqueue.h>

#include "cm_internal.h"

static void cm_scan_fn(struct work_struct *work);
static DECLARE_DELAYED_WORK(cm_scan_work, cm_scan_fn);

static bool cm_stopping;	/* under cm_lock: module is going away */
static u64 cm_scans;		/* under cm_lock */
static u64 cm_last_scan_ns;	/* under cm_lock: duration of the last scan */

/*
 * An mm shared by several processes (CLONE_VM without CLONE_THREAD, vfork)
 * is counted once per scan.  Such mms are rare, so a small array suffices;
 * when it overflows the extra ones are counted again (over-, never
 * under-estimating).  Only the scan work uses it and a work item never runs
 * concurrently with itself.
 */
#define CM_SHARED_MM_MAX 64
static struct mm_struct *cm_shared_mm[CM_SHARED_MM_MAX];
static unsigned int cm_nr_shared_mm;

/*
 * The live entries of one scan, split by kind: PID-namespace entries sorted
 * by namespace, so each process finds the containers that hold it by looking
 * up its own namespace and each ancestor (O(depth * log n)), and the rare
 * process-tree entries, which are checked one by one.  Scan work only.
 */
static struct cm_container *cm_by_ns[CM_MAX_ENTRIES];
static unsigned int cm_nr_by_ns;
static struct cm_container *cm_by_tree[CM_MAX_ENTRIES];
static unsigned int cm_nr_by_tree;

u64 cm_scan_count(void)
{
	lockdep_assert_held(&cm_lock);
	return cm_scans;
}

u64 cm_scan_last_ns(void)
{
	lockdep_assert_held(&cm_lock);
	return cm_last_scan_ns;
}

/* Called with cm_lock held after a registration: make sure a scan is due. */
void cm_scan_kick(void)
{
	lockdep_assert_held(&cm_lock);
	if (!cm_stopping)
		queue_delayed_work(system_unbound_wq, &cm_scan_work,
				   msecs_to_jiffies(READ_ONCE(cm_scan_interval_ms)));
}

void cm_scan_stop(void)
{
	mutex_lock(&cm_lock);
	cm_stopping = true;
	mutex_unlock(&cm_lock);
	/* also waits for a running scan, which cannot requeue itself now */
	cancel_delayed_work_sync(&cm_scan_work);
}

static bool cm_mm_seen(struct mm_struct *mm)
{
	unsigned int i;

	for (i = 0; i < cm_nr_shared_mm; i++)
		if (cm_shared_mm[i] == mm)
			return true;
	if (cm_nr_shared_mm < CM_SHARED_MM_MAX)
		cm_shared_mm[cm_nr_shared_mm++] = mm;
	return false;
}

#ifdef SPLIT_RSS_COUNTING
/*
 * Up to TASK_RSS_EVENTS_THRESH (64) page faults per thread sit in the
 * thread's own cache (task->rss_stat) before reaching the mm: add them, or
 * a small process looks almost empty.  Read racily; they are only a hint.
 */
static long cm_cached_rss(struct task_struct *p)
{
	struct task_struct *t;
	long pages = 0;

	for_each_thread(p, t)
		pages += READ_ONCE(t->rss_stat.count[MM_FILEPAGES]) +
			 READ_ONCE(t->rss_stat.count[MM_ANONPAGES]) +
			 READ_ONCE(t->rss_stat.count[MM_SHMEMPAGES]);
	return pages;
}
#else
static long cm_cached_rss(struct task_struct *p)
{
	return 0;
}
#endif

/* RSS in bytes of the process led by @p; rcu_read_lock() held. */
static u64 cm_task_rss(struct task_struct *p)
{
	struct mm_struct *mm;
	long pages = 0;

	/* task_lock keeps p->mm from being released under us (exit_mm) */
	task_lock(p);
	mm = p->mm;
	if (mm) {
		/* more users than own threads: maybe shared with another process */
		if (atomic_read(&mm->mm_users) <= get_nr_threads(p) ||
		    !cm_mm_seen(mm))
			pages = get_mm_rss(mm) + cm_cached_rss(p);
	}
	task_unlock(p);
	return pages > 0 ? (u64)pages << PAGE_SHIFT : 0;
}

/* Is @ns @anc or one of its descendants? */
static bool cm_ns_within(struct pid_namespace *ns, struct pid_namespace *anc)
{
	if (!ns || ns->level < anc->level)
		return false;
	while (ns->level > anc->level)
		ns = ns->parent;
	return ns == anc;
}

/*
 * Does @p (a thread-group leader) belong to container @c?  rcu_read_lock()
 * held and c->scan_leader set by this scan.
 */
static bool cm_owns(const struct cm_container *c, struct task_struct *p,
		    struct pid_namespace *ns)
{
	struct task_struct *q;

	if (!c->scan_leader)
		return false;
	if (c->flags & CM_ENTRY_PIDNS)
		return cm_ns_within(ns, c->ns);

	/* process tree: @p is the registered process or descends from it */
	for (q = p; q != &init_task; q = rcu_dereference(q->real_parent)) {
		if (same_thread_group(q, c->scan_leader))
			return true;
		if (q == rcu_access_pointer(q->real_parent))
			break;
	}
	return false;
}

static int cm_cmp_ns(const void *a, const void *b)
{
	unsigned long x = (unsigned long)(*(struct cm_container * const *)a)->ns;
	unsigned long y = (unsigned long)(*(struct cm_container * const *)b)->ns;

	return x < y ? -1 : x > y;
}

/* The first index of cm_by_ns whose namespace is not below @ns. */
static unsigned int cm_ns_first(struct pid_namespace *ns)
{
	unsigned int lo = 0, hi = cm_nr_by_ns, mid;

	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		if ((unsigned long)cm_by_ns[mid]->ns < (unsigned long)ns)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

/* Adds process @p to @c; its RSS is read once, by the first container. */
static void cm_account(struct cm_container *c, struct task_struct *p,
		       bool *have_rss, u64 *rss)
{
	if (!*have_rss) {
		*rss = cm_task_rss(p);
		*have_rss = true;
	}
	c->scan_procs++;
	c->scan_rss += *rss;
}

/* Prepares the entries for one scan and indexes the live ones. */
static void cm_index_entries(void)
{
	struct cm_container *c;
	struct task_struct *p;

	cm_nr_by_ns = 0;
	cm_nr_by_tree = 0;
	list_for_each_entry(c, &cm_containers, node) {
		p = pid_task(c->pid, PIDTYPE_TGID);
		/* the init is gone once all its threads are in do_exit() */
		c->scan_leader = p && atomic_read(&p->signal->live) ? p : NULL;
		c->scan_rss = 0;
		c->scan_procs = 0;
		if (!c->scan_leader)
			continue;
		if (c->flags & CM_ENTRY_PIDNS)
			cm_by_ns[cm_nr_by_ns++] = c;
		else
			cm_by_tree[cm_nr_by_tree++] = c;
	}
	sort(cm_by_ns, cm_nr_by_ns, sizeof(cm_by_ns[0]), cm_cmp_ns, NULL);
}

/*
 * One walk over all processes: each entry's RSS and process count.  A
 * process counts towards every container that holds it, so a container
 * nested in another (a PID namespace below the other's) is part of both:
 * its own namespace and every ancestor are looked up.  The cost is
 * O(processes * namespace depth * log(containers)) for PID-namespace
 * entries, plus O(processes * process-tree entries).
 */
static void cm_measure(void)
{
	struct pid_namespace *ns, *anc;
	struct task_struct *p;
	unsigned int i;
	bool have_rss;
	u64 rss = 0;

	cm_nr_shared_mm = 0;
	rcu_read_lock();
	cm_index_entries();
	for_each_process(p) {
		if (p->flags & PF_KTHREAD)
			continue;
		ns = task_active_pid_ns(p);
		have_rss = false;
		for (anc = ns; anc && cm_nr_by_ns; anc = anc->parent)
			for (i = cm_ns_first(anc);
			     i < cm_nr_by_ns && cm_by_ns[i]->ns == anc; i++)
				cm_account(cm_by_ns[i], p, &have_rss, &rss);
		for (i = 0; i < cm_nr_by_tree; i++)
			if (cm_owns(cm_by_tree[i], p, ns))
				cm_account(cm_by_tree[i], p, &have_rss, &rss);
	}
	rcu_read_unlock();
}

/* SIGKILL every process of @c; cm_lock held. */
static unsigned int cm_kill(struct cm_container *c)
{
	struct task_struct *p;
	unsigned int n = 0;

	rcu_read_lock();
	p = pid_task(c->pid, PIDTYPE_TGID);
	c->scan_leader = p;
	if (!p) {
		rcu_read_unlock();
		return 0;
	}
	for_each_process(p) {
		if (p->flags & PF_KTHREAD)
			continue;
		/*
		 * SEND_SIG_PRIV (priv = 1): a kernel signal, so it is not
		 * ignored even by a PID namespace's init.
		 */
		if (cm_owns(c, p, task_active_pid_ns(p)) && !send_sig(SIGKILL, p, 1))
			n++;
	}
	rcu_read_unlock();
	return n;
}

static void cm_remove(struct cm_container *c)
{
	list_del(&c->node);
	cm_nr_containers--;
	cm_container_free(c);
}

static void cm_check_limits(struct cm_container *c)
{
	u64 rss = c->scan_rss;

	c->rss = rss;
	c->nr_procs = c->scan_procs;

	if (c->soft_limit) {
		if (rss > c->soft_limit && !(c->flags & CM_ENTRY_SOFT_CROSSED)) {
			c->flags |= CM_ENTRY_SOFT_CROSSED;
			pr_notice("SOFT LIMIT container=%s pid=%d rss=%llu limit=%llu\n",
				  c->id, pid_nr(c->pid), rss, c->soft_limit);
			cm_event_emit(CM_EVENT_SOFT, c, rss, c->soft_limit);
		} else if (rss <= c->soft_limit) {
			/* re-armed: warn again on the next crossing */
			c->flags &= ~CM_ENTRY_SOFT_CROSSED;
		}
	}

	if (c->hard_limit && rss > c->hard_limit) {
		unsigned int n = cm_kill(c);

		pr_warn("HARD LIMIT container=%s pid=%d rss=%llu limit=%llu\n",
			c->id, pid_nr(c->pid), rss, c->hard_limit);
		pr_info("killed %u process(es) of container=%s\n", n, c->id);
		cm_event_emit(CM_EVENT_HARD, c, rss, c->hard_limit);
		cm_remove(c);
	}
}

static void cm_scan_fn(struct work_struct *work)
{
	struct cm_container *c, *tmp;
	u64 start;

	mutex_lock(&cm_lock);
	if (cm_stopping)
		goto out;
	/* the scan's own time, not the wait for a reader of the list */
	start = ktime_get_ns();

	cm_measure();
	list_for_each_entry_safe(c, tmp, &cm_containers, node) {
		if (!c->scan_leader) {
			pr_info("EXIT container=%s pid=%d rss=%llu\n",
				c->id, pid_nr(c->pid), c->rss);
			cm_event_emit(CM_EVENT_EXIT, c, c->rss, 0);
			cm_remove(c);
			continue;
		}
		cm_check_limits(c);
	}

	cm_scans++;
	cm_last_scan_ns = ktime_get_ns() - start;
	if (!list_empty(&cm_containers))
		cm_scan_kick();
out:
	mutex_unlock(&cm_lock);
}
