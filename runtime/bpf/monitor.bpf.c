// SPDX-License-Identifier: GPL-2.0-only
/*
 * minirt's eBPF memory monitor: the event-driven twin of monitor.ko.
 *
 * kmem/rss_stat fires whenever one of an mm's RSS counters changes (with
 * the counter's new value). Each change is turned into a delta against
 * the last value seen for that mm and added to the total of the container
 * the mm belongs to; the container is the cgroup v2 group of the task that
 * makes the change (its children are in the same group), so every process
 * of the container counts. Crossing the soft limit queues one SOFT event;
 * crossing the hard limit SIGKILLs the faulting process at once
 * (bpf_send_signal), and every later fault of a process of the container,
 * and queues one HARD event, on which the runtime kills the rest through
 * cgroup.kill. Events go to the container's own ring buffer (an inner map
 * of `rings`, created by its shim), so shims never read each other's.
 *
 * Built with clang -target bpf against a vmlinux.h generated from the
 * build host's BTF; CO-RE relocates the tracepoint record's fields on the
 * running kernel.
 */
#include "vmlinux.h"
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_helpers.h>

#include "monitor_abi.h"

char LICENSE[] SEC("license") = "GPL";

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, MINIRT_BPF_MAX_CONTAINERS);
	__type(key, __u64);
	__type(value, struct mb_container);
} containers SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, MINIRT_BPF_MAX_MMS);
	__type(key, __u32);
	__type(value, struct mb_mm);
} mms SEC(".maps");

struct ring {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, MINIRT_BPF_RING_BYTES);
};

struct {
	__uint(type, BPF_MAP_TYPE_HASH_OF_MAPS);
	__uint(max_entries, MINIRT_BPF_MAX_CONTAINERS);
	__type(key, __u64);
	__array(values, struct ring);
} rings SEC(".maps");

/* Events that found no ring or a full one (read by `minirt info`). */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} lost SEC(".maps");

#define SIGKILL 9

static __always_inline void emit(__u64 cgid, struct mb_container *c, __u32 type, __u64 rss, __u64 limit)
{
	struct mb_event ev = {};
	__u32 zero = 0;
	__u64 *nlost;
	void *rb;

	ev.type = type;
	ev.pid = c->pid;
	ev.cgid = cgid;
	ev.rss = rss;
	ev.limit = limit;
	ev.timestamp_ns = bpf_ktime_get_ns();
	ev.host_tgid = bpf_get_current_pid_tgid() >> 32;
	rb = bpf_map_lookup_elem(&rings, &cgid);
	if (rb && bpf_ringbuf_output(rb, &ev, sizeof(ev), 0) == 0)
		return;
	nlost = bpf_map_lookup_elem(&lost, &zero);
	if (nlost)
		__sync_fetch_and_add(nlost, 1);
}

static __always_inline __s64 mm_total(struct mb_mm *m)
{
	return m->size[0] + m->size[1] + m->size[3];
}

SEC("tracepoint/kmem/rss_stat")
int rss_stat(struct trace_event_raw_rss_stat *ctx)
{
	__u32 mm_id = BPF_CORE_READ(ctx, mm_id);
	int member = BPF_CORE_READ(ctx, member);
	__s64 size = BPF_CORE_READ(ctx, size);
	unsigned int curr = BPF_CORE_READ(ctx, curr);
	__u64 cgid = bpf_get_current_cgroup_id();
	struct mb_container *c;
	struct mb_mm *m;
	__s64 old, delta, total;

	/* Swap entries are not resident. */
	if (member < 0 || member > 3 || member == 2)
		return 0;

	m = bpf_map_lookup_elem(&mms, &mm_id);
	if (!m) {
		/* A new mm (fork, exec) or one first seen since registration:
		 * it belongs to the faulting task's container, if any. The
		 * fast path for every process of the host is this one lookup. */
		c = bpf_map_lookup_elem(&containers, &cgid);
		if (!c)
			return 0;
		struct mb_mm fresh = { .cgid = cgid };
		if (bpf_map_update_elem(&mms, &mm_id, &fresh, BPF_NOEXIST) == 0)
			__sync_fetch_and_add(&c->nr_mms, 1);
		m = bpf_map_lookup_elem(&mms, &mm_id);
		if (!m)
			return 0;
	} else if (curr && m->cgid != cgid) {
		/* Its task moved to another group: move what it counted. */
		__s64 moved = mm_total(m);
		c = bpf_map_lookup_elem(&containers, &m->cgid);
		if (c) {
			__sync_fetch_and_add(&c->rss, -moved);
			__sync_fetch_and_add(&c->nr_mms, -1);
		}
		c = bpf_map_lookup_elem(&containers, &cgid);
		if (!c) {
			bpf_map_delete_elem(&mms, &mm_id);
			return 0;
		}
		m->cgid = cgid;
		__sync_fetch_and_add(&c->rss, moved);
		__sync_fetch_and_add(&c->nr_mms, 1);
	}

	c = bpf_map_lookup_elem(&containers, &m->cgid);
	if (!c) {
		/* Its container was unregistered. */
		bpf_map_delete_elem(&mms, &mm_id);
		return 0;
	}

	if (member == 0)
		old = __sync_lock_test_and_set(&m->size[0], size);
	else if (member == 1)
		old = __sync_lock_test_and_set(&m->size[1], size);
	else
		old = __sync_lock_test_and_set(&m->size[3], size);
	delta = size - old;
	total = __sync_fetch_and_add(&c->rss, delta) + delta;

	/* The mm is torn down (exit_mmap runs with current->mm already
	 * gone): forget it once every counter is back to zero. */
	if (!curr && size == 0 && mm_total(m) == 0) {
		if (bpf_map_delete_elem(&mms, &mm_id) == 0)
			__sync_fetch_and_add(&c->nr_mms, -1);
	}

	if (delta <= 0 || total <= 0)
		return 0;

	if (c->soft_limit && (__u64)total > c->soft_limit && !(c->flags & MB_SOFT_CROSSED)) {
		__u32 f = c->flags;
		if (!(f & MB_SOFT_CROSSED) &&
		    __sync_val_compare_and_swap(&c->flags, f, f | MB_SOFT_CROSSED) == f) {
			c->soft_rss = total;
			emit(m->cgid, c, MB_EVENT_SOFT, total, c->soft_limit);
		}
	}
	if (c->hard_limit && (__u64)total > c->hard_limit) {
		/* Only a task of the container itself is killed here (an event
		 * from elsewhere, say ptrace or reclaim, is not its fault). */
		if (cgid == m->cgid)
			bpf_send_signal(SIGKILL);
		__u32 f = c->flags;
		if (!(f & MB_HARD_KILLED) &&
		    __sync_val_compare_and_swap(&c->flags, f, f | MB_HARD_KILLED) == f) {
			c->hard_rss = total;
			emit(m->cgid, c, MB_EVENT_HARD, total, c->hard_limit);
		}
	}
	return 0;
}
