// SPDX-License-Identifier: GPL-2.0-only
/*
 * `minirt trace`: what the processes of chosen containers do, as the
 * kernel sees it. Each trace session loads its own copy (no pins, no
 * sharing): its maps, its ring buffer, its links, all gone with its fds.
 *
 * Filtering happens here: an event is kept only when the cgroup v2 group
 * of the current task, at one of the session's `levels`, is one of its
 * `targets` (a container's group, or for --all the cgroup parent of every
 * container). A task of the rest of the host pays that check and nothing
 * else. Records go to one ring buffer; a full ring drops the event and
 * counts it (`dropped`), never blocking the kernel.
 *
 * Only tracepoints and BTF tracepoints (tp_btf): no kprobes, which the
 * development host lacks. Paths and socket addresses of the syscalls are
 * read at the syscall's exit, when the kernel has copied them in already
 * (so their pages are present) and the result is known.
 */
#include "vmlinux.h"
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

#include "trace_abi.h"

char LICENSE[] SEC("license") = "GPL";

#define AF_UNIX 1
#define AF_INET 2
#define AF_INET6 10
#define AT_REMOVEDIR 0x200
#define SIGKILL 9
#define SIGCHLD 17
#define SI_USER 0
#define SI_QUEUE -1
#define SI_TKILL -6
#define SIGNAL_GROUP_EXIT 0x4
#define S_IFMT 0170000
#define S_IFSOCK 0140000
#define O_CREAT_WRONLY_TRUNC 01101

/* Set by the session before load. */
const volatile __u32 events_mask = 0;
/* The kernel's mark_victim names only a thread id (before 6.8): the OOM
 * victim is known by the SIGKILL sent to it just before. */
const volatile __u32 oom_by_kill = 0;

/* Set by the session (the skeleton maps .bss); read by it. */
__u32 levels[MT_MAX_LEVELS];
__u64 dropped;

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, MT_MAX_TARGETS);
	__type(key, __u64);
	__type(value, struct mt_target);
} targets SEC(".maps");

/* What is known of a traced task that is not the current one. */
struct mt_task {
	__u64 cgid;
	__u32 tgid;
	__u32 ns_pid;  /* the process's, in its own PID namespace */
	char comm[MT_COMM_LEN];
};

/*
 * With oom_by_kill, the last SIGKILL the kernel sent a traced task from
 * this CPU. The OOM killer sends it and marks the victim at once, under
 * the victim's task lock (so on one CPU); a kill of another kind is
 * overwritten by the next, and a note older than a second is stale.
 */
struct mt_kill {
	__u64 ts_ns;
	__u32 tid;
	__u32 pad;
	struct mt_task task;
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct mt_kill);
} last_kill SEC(".maps");

/* A traced syscall between its entry and its exit, by pid_tgid. */
struct mt_pending {
	__u64 cgid;
	__u64 a0;
	__u64 a1;
	__u64 a2;
	__u32 type;
	__u32 arg;
	__u32 flags;
	__u32 pad;
};

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 16384);
	__type(key, __u64);
	__type(value, struct mt_pending);
} pending SEC(".maps");

/* Processes of several threads whose exit was reported: thread group id
 * -> the group leader's start time (which tells a reused id apart).
 */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 16384);
	__type(key, __u32);
	__type(value, __u64);
} exited SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, MT_RING_BYTES);
} ring SEC(".maps");

static __always_inline int wanted(__u32 type)
{
	return events_mask & (1u << type);
}

/* The id of `cg`'s ancestor at `level` (itself at its own), 0 above it.
 * With no `cg`, the current task's group: the helper is the faster way.
 */
static __always_inline __u64 ancestor_id(struct cgroup *cg, int top, __u32 level)
{
	struct cgroup *a = 0;

	if (!cg)
		return bpf_get_current_ancestor_cgroup_id(level);
	if (level > top)
		return 0;
	bpf_core_read(&a, sizeof(a), &cg->ancestors[level]);
	return a ? BPF_CORE_READ(a, kn, id) : 0;
}

/* The container group of a task in the cgroup v2 group `cg` (0: the
 * current task), or 0 when the task is not traced.
 */
static __always_inline __u64 traced_group(struct cgroup *cg)
{
	int top = cg ? BPF_CORE_READ(cg, level) : 0;

	for (int i = 0; i < MT_MAX_LEVELS; i++) {
		__u32 lvl = levels[i];
		struct mt_target *t;
		__u64 id;

		if (!lvl)
			break;
		id = ancestor_id(cg, top, lvl);
		t = bpf_map_lookup_elem(&targets, &id);
		if (!t)
			continue;
		if (!t->child_level)
			return id;
		/* 0 for a task of the parent itself, which is no container's. */
		return ancestor_id(cg, top, t->child_level);
	}
	return 0;
}

static __always_inline __u64 traced_task(struct task_struct *t)
{
	struct cgroup *cg = BPF_CORE_READ(t, cgroups, dfl_cgrp);

	return cg ? traced_group(cg) : 0;
}

static __always_inline __u64 traced_cgroup(void)
{
	return traced_group(0);
}

static __always_inline __u32 ns_tgid(struct task_struct *t)
{
	struct pid *p = BPF_CORE_READ(t, group_leader, thread_pid);
	unsigned int level = BPF_CORE_READ(p, level);
	struct upid up = {};

	bpf_core_read(&up, sizeof(up), &p->numbers[level]);
	return up.nr;
}

static __always_inline struct mt_event *reserve(void)
{
	struct mt_event *e = bpf_ringbuf_reserve(&ring, sizeof(*e), 0);

	if (!e) {
		__sync_fetch_and_add(&dropped, 1);
		return 0;
	}
	__builtin_memset(e, 0, sizeof(*e));
	return e;
}

/* A record without the paths (MT_SMALL_EVENT bytes): most events have
 * none, and a fifth of the record is cheaper to clear and to queue.
 */
static __always_inline struct mt_event *reserve_small(void)
{
	struct mt_event *e = bpf_ringbuf_reserve(&ring, MT_SMALL_EVENT, 0);

	if (!e) {
		__sync_fetch_and_add(&dropped, 1);
		return 0;
	}
	__builtin_memset(e, 0, MT_SMALL_EVENT);
	return e;
}

/* The fields every event has, from the current task. */
static __always_inline void fill(struct mt_event *e, __u64 cgid, __u32 type)
{
	struct task_struct *t = (struct task_struct *)bpf_get_current_task();
	__u64 id = bpf_get_current_pid_tgid();

	e->ts_ns = bpf_ktime_get_ns();
	e->cgid = cgid;
	e->type = type;
	e->host_pid = id >> 32;
	e->host_tid = (__u32)id;
	e->ns_pid = ns_tgid(t);
	bpf_get_current_comm(e->comm, sizeof(e->comm));
}

/*
 * Whether the exit of the process `tgid`, found dead by one of its
 * threads, is this thread's to report. Threads dying together (an
 * exit_group) may each find it dead; the first reports it. A process of
 * one thread needs no note, only a look for one left by a thread that
 * died with it and was released first.
 */
static __always_inline int first_to_report(struct task_struct *t, __u32 tid, __u32 tgid)
{
	__u64 start = BPF_CORE_READ(t, group_leader, start_time);
	/* Read before the note: a thread that died with this one and left
	 * it alone (released) had written its note by then. */
	int alone = tid == tgid && BPF_CORE_READ(t, signal, nr_threads) == 1;
	__u64 *seen = bpf_map_lookup_elem(&exited, &tgid);
	__u64 old;

	if (alone)
		return !seen || *seen != start;
	if (!seen) {
		if (bpf_map_update_elem(&exited, &tgid, &start, BPF_NOEXIST) == 0)
			return 1;
		seen = bpf_map_lookup_elem(&exited, &tgid);
		if (!seen)
			return 1;
	}
	old = *seen;
	if (old == start)
		return 0;
	/* A note of an older process that had the id. */
	return __sync_val_compare_and_swap(seen, old, start) == old;
}

/* --- exec, exit, fork, clone ------------------------------------------ */

SEC("tp_btf/sched_process_exec")
int BPF_PROG(on_exec, struct task_struct *p, pid_t old_pid, struct linux_binprm *bprm)
{
	__u64 cgid = traced_cgroup();
	struct mt_event *e;
	unsigned long start, end, len;

	if (!cgid)
		return 0;
	e = reserve();
	if (!e)
		return 0;
	fill(e, cgid, MT_EXEC);
	bpf_probe_read_kernel_str(e->path, sizeof(e->path), BPF_CORE_READ(bprm, filename));
	start = BPF_CORE_READ(p, mm, arg_start);
	end = BPF_CORE_READ(p, mm, arg_end);
	len = end > start ? end - start : 0;
	if (len > sizeof(e->path2))
		len = sizeof(e->path2);
	if (len && bpf_probe_read_user(e->path2, len, (void *)start) == 0)
		e->args_len = len;
	bpf_ringbuf_submit(e, 0);
	return 0;
}

SEC("tracepoint/sched/sched_process_exit")
int on_exit(void *ctx)
{
	struct task_struct *t = (struct task_struct *)bpf_get_current_task();
	__u64 cgid = traced_cgroup();
	__u64 id = bpf_get_current_pid_tgid();
	__u32 tid = (__u32)id, tgid = id >> 32;
	struct mt_event *e;

	if (!cgid)
		return 0;
	/* The process ends with its last thread. */
	if (BPF_CORE_READ(t, signal, live.counter) != 0)
		return 0;
	if (!first_to_report(t, tid, tgid))
		return 0;
	e = reserve_small();
	if (!e)
		return 0;
	fill(e, cgid, MT_EXIT);
	/* A group exit's status (exit_group, a fatal signal) is the group's. */
	if (BPF_CORE_READ(t, signal, flags) & SIGNAL_GROUP_EXIT)
		e->ret = BPF_CORE_READ(t, signal, group_exit_code);
	else
		e->ret = BPF_CORE_READ(t, exit_code);
	bpf_ringbuf_submit(e, 0);
	return 0;
}

SEC("tp_btf/sched_process_fork")
int BPF_PROG(on_fork, struct task_struct *parent, struct task_struct *child)
{
	__u32 pid = BPF_CORE_READ(child, pid);
	__u32 tgid = BPF_CORE_READ(child, tgid);
	__u32 type = pid == tgid ? MT_FORK : MT_CLONE;
	__u64 cgid = traced_cgroup();
	struct mt_event *e;

	if (!cgid || !wanted(type))
		return 0;
	e = reserve_small();
	if (!e)
		return 0;
	fill(e, cgid, type);
	e->other_host_pid = pid;
	e->other_ns_pid = type == MT_FORK ? ns_tgid(child) : 0;
	if (type == MT_CLONE) {
		struct pid *tp = BPF_CORE_READ(child, thread_pid);
		unsigned int level = BPF_CORE_READ(tp, level);
		struct upid up = {};

		bpf_core_read(&up, sizeof(up), &tp->numbers[level]);
		e->other_ns_pid = up.nr;
	}
	bpf_ringbuf_submit(e, 0);
	return 0;
}

/* --- the kernel's OOM kill and signals -------------------------------- */

static __always_inline void describe(struct task_struct *t, __u64 cgid, struct mt_task *v)
{
	v->cgid = cgid;
	v->tgid = BPF_CORE_READ(t, tgid);
	v->ns_pid = ns_tgid(t);
	BPF_CORE_READ_STR_INTO(&v->comm, t, comm);
}

static __always_inline int report_oom(__u32 victim, struct mt_task *v)
{
	struct mt_event *e = reserve_small();

	if (!e)
		return 0;
	e->ts_ns = bpf_ktime_get_ns();
	e->cgid = v->cgid;
	e->type = MT_OOM;
	e->host_pid = v->tgid;
	e->host_tid = victim;
	e->ns_pid = v->ns_pid;
	__builtin_memcpy(e->comm, v->comm, sizeof(e->comm));
	bpf_ringbuf_submit(e, 0);
	return 0;
}

/* 6.8 and later: the tracepoint names the victim's task. */
SEC("tp_btf/mark_victim")
int BPF_PROG(on_mark_victim_task, struct task_struct *task)
{
	__u64 cgid = traced_task(task);
	struct mt_task v = {};

	if (!cgid)
		return 0;
	describe(task, cgid, &v);
	return report_oom(BPF_CORE_READ(task, pid), &v);
}

/*
 * Before 6.8 it names only the thread id: the victim is the target of the
 * SIGKILL just noted (oom_by_kill), or, when the victim was exiting
 * already and got none, the task that ran out of memory itself.
 */
SEC("tracepoint/oom/mark_victim")
int on_mark_victim(struct trace_event_raw_mark_victim *ctx)
{
	__u32 victim = BPF_CORE_READ(ctx, pid);
	__u32 zero = 0;
	struct mt_kill *k = bpf_map_lookup_elem(&last_kill, &zero);
	struct mt_task v = {};

	if (k && k->tid == victim && bpf_ktime_get_ns() - k->ts_ns < 1000000000ull) {
		v = k->task;
		k->tid = 0;
	} else if (victim == (__u32)bpf_get_current_pid_tgid()) {
		__u64 cgid = traced_cgroup();

		if (!cgid)
			return 0;
		describe((struct task_struct *)bpf_get_current_task(), cgid, &v);
	} else {
		return 0;
	}
	return report_oom(victim, &v);
}

static __always_inline void note_kill(__u32 tid, struct mt_task *v)
{
	__u32 zero = 0;
	struct mt_kill *k = bpf_map_lookup_elem(&last_kill, &zero);

	if (!k)
		return;
	k->ts_ns = bpf_ktime_get_ns();
	k->tid = tid;
	k->task = *v;
}

/*
 * Who sent a signal is the current task only for kill, tgkill, sigqueue
 * and the SIGCHLD of an exiting child: timers, SIGIO and the like are
 * generated from interrupts, where the current task is whoever ran. A
 * signal to a traced task is its event (sent from anywhere); one from a
 * traced task to an untraced one is the sender's.
 */
SEC("tp_btf/signal_generate")
int BPF_PROG(on_signal, int sig, struct kernel_siginfo *info, struct task_struct *task,
	     int group, int result)
{
	__u32 target = BPF_CORE_READ(task, pid);
	__u64 target_cgid = traced_task(task);
	int code = SI_USER;
	int known;
	struct mt_task v = {};
	struct mt_event *e;
	__u64 cgid = 0;

	/* SEND_SIG_NOINFO (0) is kill's, SEND_SIG_PRIV (1) the kernel's. */
	if ((unsigned long)info == 1)
		code = 0x80;
	else if (info)
		code = BPF_CORE_READ(info, si_code);
	known = code == SI_USER || code == SI_QUEUE || code == SI_TKILL ||
		(sig == SIGCHLD && code > 0);
	if (target_cgid) {
		describe(task, target_cgid, &v);
		if (oom_by_kill && sig == SIGKILL && code == 0x80)
			note_kill(target, &v);
	}
	if (!wanted(MT_SIGNAL))
		return 0;
	if (!target_cgid) {
		if (!known)
			return 0;
		cgid = traced_cgroup();
		if (!cgid)
			return 0;
	}
	e = reserve_small();
	if (!e)
		return 0;
	if (target_cgid) {
		e->ts_ns = bpf_ktime_get_ns();
		e->cgid = v.cgid;
		e->type = MT_SIGNAL;
		e->flags = MT_F_TARGET;
		e->host_pid = v.tgid;
		e->host_tid = target;
		e->ns_pid = v.ns_pid;
		__builtin_memcpy(e->comm, v.comm, sizeof(e->comm));
		if (known) {
			e->other_host_pid = bpf_get_current_pid_tgid() >> 32;
			bpf_get_current_comm(e->extra, sizeof(e->extra));
		}
	} else {
		fill(e, cgid, MT_SIGNAL);
		e->other_host_pid = BPF_CORE_READ(task, tgid);
	}
	e->arg = sig;
	e->ret = result;
	bpf_ringbuf_submit(e, 0);
	return 0;
}

/* --- syscalls: remembered at entry, reported at exit ------------------ */

static __always_inline int enter(__u32 type, __u64 a0, __u64 a1, __u64 a2, __u32 arg, __u32 flags)
{
	__u64 cgid = traced_cgroup();
	__u64 id = bpf_get_current_pid_tgid();
	struct mt_pending p = {};

	if (!cgid)
		return 0;
	p.cgid = cgid;
	p.type = type;
	p.a0 = a0;
	p.a1 = a1;
	p.a2 = a2;
	p.arg = arg;
	p.flags = flags;
	bpf_map_update_elem(&pending, &id, &p, BPF_ANY);
	return 0;
}

static __always_inline void read_sockaddr(struct mt_event *e, __u64 uaddr, __u64 len)
{
	__u16 family = 0;

	if (!uaddr || bpf_probe_read_user(&family, sizeof(family), (void *)uaddr))
		return;
	e->family = family;
	if (family == AF_INET && len >= sizeof(struct sockaddr_in)) {
		struct sockaddr_in sin = {};

		bpf_probe_read_user(&sin, sizeof(sin), (void *)uaddr);
		e->port = __builtin_bswap16(sin.sin_port);
		__builtin_memcpy(e->addr, &sin.sin_addr, 4);
	} else if (family == AF_INET6 && len >= sizeof(struct sockaddr_in6)) {
		struct sockaddr_in6 sin6 = {};

		bpf_probe_read_user(&sin6, sizeof(sin6), (void *)uaddr);
		e->port = __builtin_bswap16(sin6.sin6_port);
		__builtin_memcpy(e->addr, &sin6.sin6_addr, 16);
	} else if (family == AF_UNIX) {
		/* Abstract names start with NUL: shown as '@' by the runtime. */
		bpf_probe_read_user(e->path, 108, (void *)(uaddr + 2));
	}
}

static __always_inline int leave(long ret)
{
	__u64 id = bpf_get_current_pid_tgid();
	struct mt_pending *p = bpf_map_lookup_elem(&pending, &id);
	struct mt_pending c;
	struct mt_event *e;

	if (!p)
		return 0;
	c = *p;
	bpf_map_delete_elem(&pending, &id);
	e = reserve();
	if (!e)
		return 0;
	fill(e, c.cgid, c.type);
	e->ret = ret;
	e->arg = c.arg;
	e->flags = c.flags;
	switch (c.type) {
	case MT_CONNECT:
		read_sockaddr(e, c.a0, c.a1);
		break;
	case MT_RENAME:
		bpf_probe_read_user_str(e->path, sizeof(e->path), (void *)c.a0);
		bpf_probe_read_user_str(e->path2, sizeof(e->path2), (void *)c.a1);
		break;
	case MT_MOUNT:
		if (c.a0)
			bpf_probe_read_user_str(e->path2, sizeof(e->path2), (void *)c.a0);
		if (c.a1)
			bpf_probe_read_user_str(e->path, sizeof(e->path), (void *)c.a1);
		if (c.a2)
			bpf_probe_read_user_str(e->extra, sizeof(e->extra), (void *)c.a2);
		break;
	default:
		bpf_probe_read_user_str(e->path, sizeof(e->path), (void *)c.a0);
	}
	bpf_ringbuf_submit(e, 0);
	return 0;
}

#define ARG(n) (ctx->args[n])

SEC("tracepoint/syscalls/sys_enter_open")
int enter_open(struct trace_event_raw_sys_enter *ctx)
{
	return enter(MT_OPEN, ARG(0), 0, 0, ARG(1), 0);
}

SEC("tracepoint/syscalls/sys_enter_creat")
int enter_creat(struct trace_event_raw_sys_enter *ctx)
{
	return enter(MT_OPEN, ARG(0), 0, 0, O_CREAT_WRONLY_TRUNC, 0);
}

SEC("tracepoint/syscalls/sys_enter_openat")
int enter_openat(struct trace_event_raw_sys_enter *ctx)
{
	return enter(MT_OPEN, ARG(1), 0, 0, ARG(2), 0);
}

SEC("tracepoint/syscalls/sys_enter_openat2")
int enter_openat2(struct trace_event_raw_sys_enter *ctx)
{
	struct open_how how = {};

	bpf_probe_read_user(&how, sizeof(how), (void *)ARG(2));
	return enter(MT_OPEN, ARG(1), 0, 0, how.flags, 0);
}

SEC("tracepoint/syscalls/sys_enter_mkdir")
int enter_mkdir(struct trace_event_raw_sys_enter *ctx)
{
	return enter(MT_MKDIR, ARG(0), 0, 0, ARG(1), 0);
}

SEC("tracepoint/syscalls/sys_enter_mkdirat")
int enter_mkdirat(struct trace_event_raw_sys_enter *ctx)
{
	return enter(MT_MKDIR, ARG(1), 0, 0, ARG(2), 0);
}

SEC("tracepoint/syscalls/sys_enter_unlink")
int enter_unlink(struct trace_event_raw_sys_enter *ctx)
{
	return enter(MT_UNLINK, ARG(0), 0, 0, 0, 0);
}

SEC("tracepoint/syscalls/sys_enter_unlinkat")
int enter_unlinkat(struct trace_event_raw_sys_enter *ctx)
{
	return enter(MT_UNLINK, ARG(1), 0, 0, 0, (ARG(2) & AT_REMOVEDIR) ? MT_F_DIR : 0);
}

SEC("tracepoint/syscalls/sys_enter_rmdir")
int enter_rmdir(struct trace_event_raw_sys_enter *ctx)
{
	return enter(MT_UNLINK, ARG(0), 0, 0, 0, MT_F_DIR);
}

SEC("tracepoint/syscalls/sys_enter_rename")
int enter_rename(struct trace_event_raw_sys_enter *ctx)
{
	return enter(MT_RENAME, ARG(0), ARG(1), 0, 0, 0);
}

SEC("tracepoint/syscalls/sys_enter_renameat")
int enter_renameat(struct trace_event_raw_sys_enter *ctx)
{
	return enter(MT_RENAME, ARG(1), ARG(3), 0, 0, 0);
}

SEC("tracepoint/syscalls/sys_enter_renameat2")
int enter_renameat2(struct trace_event_raw_sys_enter *ctx)
{
	return enter(MT_RENAME, ARG(1), ARG(3), 0, ARG(4), 0);
}

SEC("tracepoint/syscalls/sys_enter_connect")
int enter_connect(struct trace_event_raw_sys_enter *ctx)
{
	return enter(MT_CONNECT, ARG(1), ARG(2), 0, 0, 0);
}

SEC("tracepoint/syscalls/sys_enter_mount")
int enter_mount(struct trace_event_raw_sys_enter *ctx)
{
	return enter(MT_MOUNT, ARG(0), ARG(1), ARG(2), ARG(3), 0);
}

SEC("tracepoint/syscalls/sys_enter_umount")
int enter_umount(struct trace_event_raw_sys_enter *ctx)
{
	return enter(MT_MOUNT, 0, ARG(0), 0, ARG(1), MT_F_UMOUNT);
}

SEC("tracepoint/syscalls/sys_enter_pivot_root")
int enter_pivot_root(struct trace_event_raw_sys_enter *ctx)
{
	return enter(MT_MOUNT, ARG(1), ARG(0), 0, 0, MT_F_PIVOT);
}

SEC("tracepoint/syscalls/sys_enter_move_mount")
int enter_move_mount(struct trace_event_raw_sys_enter *ctx)
{
	return enter(MT_MOUNT, 0, ARG(3), 0, ARG(4), MT_F_MOVE);
}

/* One exit program serves every syscall above: `pending` says which. */
#define EXIT_PROG(call)							\
	SEC("tracepoint/syscalls/sys_exit_" #call)			\
	int exit_##call(struct trace_event_raw_sys_exit *ctx)		\
	{								\
		return leave(ctx->ret);					\
	}

EXIT_PROG(open)
EXIT_PROG(creat)
EXIT_PROG(openat)
EXIT_PROG(openat2)
EXIT_PROG(mkdir)
EXIT_PROG(mkdirat)
EXIT_PROG(unlink)
EXIT_PROG(unlinkat)
EXIT_PROG(rmdir)
EXIT_PROG(rename)
EXIT_PROG(renameat)
EXIT_PROG(renameat2)
EXIT_PROG(connect)
EXIT_PROG(mount)
EXIT_PROG(umount)
EXIT_PROG(pivot_root)
EXIT_PROG(move_mount)

/* accept: no entry half; the new socket's peer is read from its fd. */
static __always_inline int accepted(long ret)
{
	struct task_struct *t = (struct task_struct *)bpf_get_current_task();
	__u64 cgid = traced_cgroup();
	struct file **fds;
	struct file *f = 0;
	struct socket *sock;
	struct sock *sk;
	struct mt_event *e;

	if (!cgid)
		return 0;
	e = reserve_small();
	if (!e)
		return 0;
	fill(e, cgid, MT_ACCEPT);
	e->ret = ret;
	/* The fd may be closed or replaced by another thread already: only
	 * a socket's file is read as one.
	 */
	if (ret >= 0 && ret < BPF_CORE_READ(t, files, fdt, max_fds)) {
		fds = BPF_CORE_READ(t, files, fdt, fd);
		bpf_core_read(&f, sizeof(f), &fds[ret]);
		if (f && (BPF_CORE_READ(f, f_inode, i_mode) & S_IFMT) != S_IFSOCK)
			f = 0;
		sock = f ? BPF_CORE_READ(f, private_data) : 0;
		sk = sock ? BPF_CORE_READ(sock, sk) : 0;
		if (sk) {
			e->family = BPF_CORE_READ(sk, __sk_common.skc_family);
			e->port = __builtin_bswap16(BPF_CORE_READ(sk, __sk_common.skc_dport));
			e->local_port = BPF_CORE_READ(sk, __sk_common.skc_num);
			if (e->family == AF_INET)
				bpf_core_read(e->addr, 4, &sk->__sk_common.skc_daddr);
			else if (e->family == AF_INET6)
				bpf_core_read(e->addr, 16, &sk->__sk_common.skc_v6_daddr);
		}
	}
	bpf_ringbuf_submit(e, 0);
	return 0;
}

SEC("tracepoint/syscalls/sys_exit_accept")
int exit_accept(struct trace_event_raw_sys_exit *ctx)
{
	return accepted(ctx->ret);
}

SEC("tracepoint/syscalls/sys_exit_accept4")
int exit_accept4(struct trace_event_raw_sys_exit *ctx)
{
	return accepted(ctx->ret);
}
