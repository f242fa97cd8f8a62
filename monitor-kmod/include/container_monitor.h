/* SPDX-License-Identifier: (GPL-2.0 WITH Linux-syscall-note) OR MIT */
/*
 * container_monitor: user-space ABI of minirt's kernel memory monitor.
 *
 * This is the only definition of the ABI.  It is included unchanged by the
 * kernel module (monitor-kmod/), by its test tool (cmctl, C) and by the
 * minirt runtime (C++).  Every structure has fixed-size fields, explicit
 * padding, no pointers and the same layout on 32- and 64-bit user space;
 * each starts with a size field that must equal sizeof() of the structure
 * (anything else is -EINVAL), so a later version can grow a structure
 * without breaking older binaries.  See docs/kernel-monitor.md.
 */
#ifndef _UAPI_CONTAINER_MONITOR_H
#define _UAPI_CONTAINER_MONITOR_H

#include <linux/ioctl.h>
#include <linux/types.h>

/* /dev/container_monitor (misc device, mode 0600) and /proc/container_monitor */
#define CM_DEVICE_NAME		"container_monitor"
#define CM_DEVICE_PATH		"/dev/container_monitor"
#define CM_PROC_PATH		"/proc/container_monitor"

/* Bumped on any incompatible change; reported by CM_IOC_VERSION. */
#define CM_ABI_VERSION		1

/*
 * Container id: 1..63 printable non-space ASCII characters (0x21..0x7e),
 * NUL-terminated within the 64 bytes.  Unique among registered containers.
 */
#define CM_ID_LEN		64

/* struct cm_version: CM_IOC_VERSION, filled by the kernel. */
struct cm_version {
	__u32 size;		/* in: sizeof(struct cm_version) */
	__u32 abi_version;	/* out: CM_ABI_VERSION */
	__u32 scan_interval_ms;	/* out: current scan period */
	__u32 max_entries;	/* out: most containers registrable at once */
	__u32 queue_len;	/* out: events each open file can hold */
	__u32 event_size;	/* out: sizeof(struct cm_event) */
};

/*
 * struct cm_register: CM_IOC_REGISTER.
 *
 * @pid is a process id in the caller's PID namespace.  If it is PID 1 of its
 * own (non-initial) PID namespace, the container is that namespace: every
 * process whose PID namespace is it or one of its descendants.  Otherwise the
 * container is that process and all of its descendants (process tree).
 * Limits are RSS in bytes summed over the container; 0 means no limit.
 */
struct cm_register {
	__u32 size;		/* sizeof(struct cm_register) */
	__s32 pid;		/* container init, caller's PID namespace */
	char id[CM_ID_LEN];	/* NUL-terminated container id */
	__u64 soft_limit;	/* bytes, 0 = none: log + CM_EVENT_SOFT */
	__u64 hard_limit;	/* bytes, 0 = none: SIGKILL + CM_EVENT_HARD */
};

/* struct cm_unregister: CM_IOC_UNREGISTER. */
struct cm_unregister {
	__u32 size;		/* sizeof(struct cm_unregister) */
	__u32 reserved;		/* must be 0 */
	char id[CM_ID_LEN];	/* NUL-terminated container id */
};

/* cm_entry.flags */
#define CM_ENTRY_SOFT_CROSSED	0x00000001U /* RSS above soft limit (warned) */
#define CM_ENTRY_PIDNS		0x00000002U /* container = PID namespace */

/* One registered container, as of the last scan. */
struct cm_entry {
	char id[CM_ID_LEN];
	__s32 pid;		/* as given at registration */
	__u32 flags;		/* CM_ENTRY_* */
	__u64 soft_limit;	/* bytes, 0 = none */
	__u64 hard_limit;	/* bytes, 0 = none */
	__u64 rss;		/* bytes, summed at the last scan */
	__u32 nr_procs;		/* processes counted at the last scan */
	__u32 reserved;		/* 0 */
};

/*
 * struct cm_query: CM_IOC_QUERY and CM_IOC_LIST.
 *
 * QUERY: in entry.id, out the whole entry (-ENOENT if not registered).
 * LIST:  in index, out the index-th entry in registration order; -ENOENT
 *        when index >= total.  total is set in both cases, so a lister
 *        loops index = 0, 1, ... until -ENOENT.  Entries registered or
 *        removed while listing may be skipped or seen twice.
 */
struct cm_query {
	__u32 size;		/* sizeof(struct cm_query) */
	__u32 index;		/* LIST: in */
	__u32 total;		/* out: number of registered containers */
	__u32 reserved;		/* must be 0 */
	struct cm_entry entry;
};

/* cm_event.type */
#define CM_EVENT_SOFT		1 /* RSS crossed the soft limit */
#define CM_EVENT_HARD		2 /* RSS crossed the hard limit: killed, removed */
#define CM_EVENT_EXIT		3 /* init exited: entry removed */

/*
 * struct cm_event: what read() on the device returns, whole structures only.
 * Every open file has its own bounded queue of all events that happen after
 * it was opened; when it is full the oldest event is dropped, and the next
 * event read carries in @dropped how many were lost before it.
 */
struct cm_event {
	__u32 size;		/* sizeof(struct cm_event) */
	__u32 type;		/* CM_EVENT_* */
	char id[CM_ID_LEN];	/* container id */
	__s32 pid;		/* as given at registration */
	__u32 dropped;		/* events lost just before this one */
	__u64 rss;		/* bytes at the scan that raised the event */
	__u64 limit;		/* bytes: soft or hard limit, 0 for EXIT */
	__u64 timestamp_ns;	/* CLOCK_MONOTONIC */
	__u64 seq;		/* module-wide event number, from 1 */
};

#define CM_IOC_MAGIC		0xCE

#define CM_IOC_VERSION		_IOWR(CM_IOC_MAGIC, 0x00, struct cm_version)
#define CM_IOC_REGISTER		_IOW(CM_IOC_MAGIC, 0x01, struct cm_register)
#define CM_IOC_UNREGISTER	_IOW(CM_IOC_MAGIC, 0x02, struct cm_unregister)
#define CM_IOC_QUERY		_IOWR(CM_IOC_MAGIC, 0x03, struct cm_query)
#define CM_IOC_LIST		_IOWR(CM_IOC_MAGIC, 0x04, struct cm_query)

#endif /* _UAPI_CONTAINER_MONITOR_H */
