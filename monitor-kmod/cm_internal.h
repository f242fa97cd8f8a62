/* SPDX-License-Identifier: GPL-2.0 */
/*
 * container_monitor: definitions shared by the module's source files.
 * The user-space ABI is include/container_monitor.h.
 */
#ifndef CM_INTERNAL_H
#define CM_INTERNAL_H

#include <linux/list.h>
#include <linux/mutex.h>
#include <linux/types.h>

#include "container_monitor.h"

#define CM_MAX_ENTRIES		1024	/* registered containers at once */
#define CM_QUEUE_LEN		256	/* events queued per open file */

struct pid;
struct pid_namespace;
struct task_struct;

/*
 * One registered container.  Everything here is protected by cm_lock; the
 * scan_* fields are scratch space of one scan and mean something only inside
 * that scan's RCU read-side section.
 */
struct cm_container {
	struct list_head node;		/* in cm_containers */
	char id[CM_ID_LEN];
	struct pid *pid;		/* reference held; pins ->ns too */
	struct pid_namespace *ns;	/* ns_of_pid(pid) */
	pid_t user_pid;			/* the pid as given at registration */
	u32 flags;			/* CM_ENTRY_* */
	u64 soft_limit;
	u64 hard_limit;
	u64 rss;			/* bytes, at the last scan */
	u32 nr_procs;			/* processes, at the last scan */

	struct task_struct *scan_leader; /* init's task, NULL if it exited */
	u64 scan_rss;
	u32 scan_procs;
};

extern struct mutex cm_lock;		/* cm_containers and everything in it */
extern struct list_head cm_containers;	/* in registration order */
extern unsigned int cm_nr_containers;
extern unsigned int cm_scan_interval_ms;

/* scan.c */
void cm_scan_kick(void);
void cm_scan_stop(void);
u64 cm_scan_count(void);
u64 cm_scan_last_ns(void);

/* events.c */
extern const struct file_operations cm_fops;
void cm_event_emit(u32 type, const struct cm_container *c, u64 rss, u64 limit);

/* dev.c */
long cm_ioctl(struct file *file, unsigned int cmd, unsigned long arg);
void cm_container_free(struct cm_container *c);

#endif /* CM_INTERNAL_H */
