/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * `minirt trace`'s ABI: the records of its ring buffer and the values of
 * its maps, shared by trace.bpf.c and the runtime (runtime/src/linux/
 * trace_bpf.cpp). Fixed-size fields only. Nothing is pinned: each trace
 * session loads its own copy, so the layout may change freely between
 * versions.
 */
#ifndef MINIRT_TRACE_ABI_H
#define MINIRT_TRACE_ABI_H

#define MT_PATH_LEN 256
#define MT_COMM_LEN 16
/* Distinct cgroup levels a session filters at (ancestor lookups per event). */
#define MT_MAX_LEVELS 4
#define MT_MAX_TARGETS 1024
#define MT_RING_BYTES (1u << 22)

/* struct mt_event.type; the bit (1 << type) selects it in `events_mask`. */
#define MT_EXEC 1u
#define MT_EXIT 2u
#define MT_FORK 3u
#define MT_CLONE 4u
#define MT_OPEN 5u
#define MT_MKDIR 6u
#define MT_UNLINK 7u
#define MT_RENAME 8u
#define MT_CONNECT 9u
#define MT_ACCEPT 10u
#define MT_OOM 11u
#define MT_SIGNAL 12u
#define MT_MOUNT 13u
#define MT_LAST MT_MOUNT

/* struct mt_event.flags */
#define MT_F_DIR 0x1u       /* unlink: a directory (rmdir, AT_REMOVEDIR) */
#define MT_F_TARGET 0x2u    /* signal: the traced task is the target, not the sender */
#define MT_F_PIVOT 0x4u     /* mount: pivot_root(new, put_old) */
#define MT_F_UMOUNT 0x8u    /* mount: umount2(target) */
#define MT_F_MOVE 0x10u     /* mount: move_mount(to path) */

/*
 * targets: cgroup id -> this. An event is traced when the cgroup of the
 * task at one of `levels` is a key; its container is that group, or with
 * child_level (a cgroup parent, for --all) the group below it there.
 */
struct mt_target {
	__u32 child_level;
	__u32 pad;
};

/* One event. Unused fields are zero. */
struct mt_event {
	__u64 ts_ns;          /* CLOCK_MONOTONIC */
	__u64 cgid;           /* the container's cgroup id */
	__u32 type;           /* MT_* */
	__u32 flags;          /* MT_F_* */
	__u32 host_pid;       /* thread group id, in the host's PID namespace */
	__u32 host_tid;
	__u32 ns_pid;         /* thread group id, in the task's own PID namespace */
	__u32 other_host_pid; /* fork/clone: the child; signal: the target (sender with MT_F_TARGET) */
	__u32 other_ns_pid;   /* fork/clone: the child, as seen in the container */
	__u32 arg;            /* open: flags; mkdir: mode; signal: number; rename: renameat2 flags */
	__s64 ret;            /* the syscall's result (-errno); exit: the wait status */
	__u16 family;         /* connect/accept: AF_INET, AF_INET6, AF_UNIX */
	__u16 port;           /* remote port, host order */
	__u16 local_port;     /* accept: the local port */
	__u16 args_len;       /* exec: bytes of argv in path2 */
	__u8 addr[16];        /* remote address, network order */
	char comm[MT_COMM_LEN];
	char extra[MT_COMM_LEN];  /* mount: the filesystem type; signal with MT_F_TARGET: the sender's comm */
	/* A record of an event without paths ends here (MT_SMALL_EVENT). */
	char path[MT_PATH_LEN];  /* exec: filename; open/mkdir/unlink/mount: the path; rename: old */
	char path2[MT_PATH_LEN]; /* exec: argv, NUL-separated; rename: new; mount: source or put_old */
};

#define MT_SMALL_EVENT __builtin_offsetof(struct mt_event, path)

#endif
