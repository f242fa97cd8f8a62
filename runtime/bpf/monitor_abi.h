/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The eBPF memory monitor's ABI: the values of its pinned maps and the
 * records of its ring buffers, shared by monitor.bpf.c and the runtime
 * (runtime/src/linux/monitor_bpf.cpp). Fixed-size fields only.
 *
 * Bump MINIRT_BPF_ABI when a layout changes: the pins live under
 * /sys/fs/bpf/minirt/v<ABI>/, so an older minirt's pins are never
 * reused with another layout.
 */
#ifndef MINIRT_MONITOR_ABI_H
#define MINIRT_MONITOR_ABI_H

#define MINIRT_BPF_ABI 1
#define MINIRT_BPF_ID_LEN 64
#define MINIRT_BPF_MAX_CONTAINERS 1024
#define MINIRT_BPF_MAX_MMS 65536
/* Each container's own ring: a few events at most per registration. */
#define MINIRT_BPF_RING_BYTES 4096

/* struct mb_container.flags */
#define MB_SOFT_CROSSED 0x1u
#define MB_HARD_KILLED 0x2u

/* struct mb_event.type, the same numbers as the module's CM_EVENT_* */
#define MB_EVENT_SOFT 1u
#define MB_EVENT_HARD 2u

/* containers: cgroup id (the container cgroup's inode number) -> this. */
struct mb_container {
	__u64 soft_limit;   /* bytes, 0 = none */
	__u64 hard_limit;   /* bytes, 0 = none */
	__s64 rss;          /* bytes: file + anon + shmem over the container's mms */
	__s64 nr_mms;       /* address spaces counted (about: processes) */
	__u32 flags;        /* MB_* */
	__s32 pid;          /* as registered (the shim's view of the init) */
	__u64 init_start;   /* the init's start time (/proc/PID/stat field 22), for liveness */
	__u64 soft_rss;     /* rss when the soft limit was crossed */
	__u64 hard_rss;     /* rss when the hard limit was crossed */
	char id[MINIRT_BPF_ID_LEN];
};

/* mms: the tracepoint's mm_id -> the last counter values seen for it. */
struct mb_mm {
	__u64 cgid;         /* the container it counts for */
	__s64 size[4];      /* bytes, by member (MM_FILEPAGES .. MM_SHMEMPAGES) */
};

/* A record of a container's ring buffer. */
struct mb_event {
	__u32 type;         /* MB_EVENT_* */
	__s32 pid;          /* as registered */
	__u64 cgid;
	__u64 rss;
	__u64 limit;
	__u64 timestamp_ns; /* CLOCK_MONOTONIC */
	__u32 host_tgid;    /* the process whose fault crossed the limit */
	__u32 reserved;
};

#endif
