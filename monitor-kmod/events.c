// SPDX-License-Identifier: GPL-2.0
/*
 * container_monitor: per-open-file event queues, read() and poll().
 *
 * Every open file gets its own ring of the events raised after it was
 * opened, for all containers: a shim filters by its id, a supervisor sees
 * everything, and no reader can steal another's events.  A full ring drops
 * its oldest event and the event then at its head counts the loss in
 * cm_event.dropped, so the scan never waits for a slow reader.
 */
#define pr_fmt(fmt) "container_monitor: " fmt

#include <linux/fs.h>
#include <linux/poll.h>
#include <linux/slab.h>
#include <linux/spinlock.h>
#include <linux/string.h>
#include <linux/timekeeping.h>
#include <linux/uaccess.h>
#include <linux/wait.h>

#include "cm_internal.h"

struct cm_reader {
	struct list_head node;		/* in cm_readers */
	wait_queue_head_t wait;
	unsigned int head;		/* oldest queued event */
	unsigned int count;		/* events queued */
	struct cm_event ring[CM_QUEUE_LEN];
};

/*
 * cm_event_lock protects cm_readers, cm_event_seq and every reader's ring.
 * A spinlock, not cm_lock: read() must not wait behind a whole scan, and
 * emitting (from the scan, under cm_lock) only copies a structure.
 */
static DEFINE_SPINLOCK(cm_event_lock);
static LIST_HEAD(cm_readers);
static u64 cm_event_seq;

void cm_event_emit(u32 type, const struct cm_container *c, u64 rss, u64 limit)
{
	struct cm_reader *r;
	struct cm_event ev = {
		.size = sizeof(ev),
		.type = type,
		.pid = c->user_pid,
		.rss = rss,
		.limit = limit,
		.timestamp_ns = ktime_get_ns(),
	};

	strscpy(ev.id, c->id, sizeof(ev.id));

	spin_lock(&cm_event_lock);
	ev.seq = ++cm_event_seq;
	list_for_each_entry(r, &cm_readers, node) {
		if (r->count == CM_QUEUE_LEN) {
			u32 lost = r->ring[r->head].dropped + 1;

			r->head = (r->head + 1) % CM_QUEUE_LEN;
			r->count--;
			r->ring[r->head].dropped += lost;
		}
		r->ring[(r->head + r->count) % CM_QUEUE_LEN] = ev;
		r->count++;
		wake_up_interruptible(&r->wait);
	}
	spin_unlock(&cm_event_lock);
}

static int cm_open(struct inode *inode, struct file *file)
{
	struct cm_reader *r;

	r = kvzalloc(sizeof(*r), GFP_KERNEL);
	if (!r)
		return -ENOMEM;
	init_waitqueue_head(&r->wait);
	file->private_data = r;

	spin_lock(&cm_event_lock);
	list_add_tail(&r->node, &cm_readers);
	spin_unlock(&cm_event_lock);
	return stream_open(inode, file);
}

static int cm_release(struct inode *inode, struct file *file)
{
	struct cm_reader *r = file->private_data;

	spin_lock(&cm_event_lock);
	list_del(&r->node);
	spin_unlock(&cm_event_lock);
	kvfree(r);
	return 0;
}

/* Pop the oldest event into @ev; false when the ring is empty. */
static bool cm_pop(struct cm_reader *r, struct cm_event *ev)
{
	bool got = false;

	spin_lock(&cm_event_lock);
	if (r->count) {
		*ev = r->ring[r->head];
		r->head = (r->head + 1) % CM_QUEUE_LEN;
		r->count--;
		got = true;
	}
	spin_unlock(&cm_event_lock);
	return got;
}

/* Whole events only: as many as fit in @len, blocking for the first one. */
static ssize_t cm_read(struct file *file, char __user *buf, size_t len,
		       loff_t *ppos)
{
	struct cm_reader *r = file->private_data;
	struct cm_event ev;
	size_t done = 0;
	int ret;

	if (len < sizeof(ev))
		return -EINVAL;

	while (len - done >= sizeof(ev)) {
		if (!cm_pop(r, &ev)) {
			if (done)
				break;
			if (file->f_flags & O_NONBLOCK)
				return -EAGAIN;
			ret = wait_event_interruptible(r->wait, READ_ONCE(r->count));
			if (ret)
				return ret;
			continue;
		}
		/* copy outside the spinlock: this may fault and sleep */
		if (copy_to_user(buf + done, &ev, sizeof(ev)))
			return done ? done : -EFAULT;
		done += sizeof(ev);
	}
	return done;
}

static __poll_t cm_poll(struct file *file, poll_table *wait)
{
	struct cm_reader *r = file->private_data;

	poll_wait(file, &r->wait, wait);
	return READ_ONCE(r->count) ? EPOLLIN | EPOLLRDNORM : 0;
}

const struct file_operations cm_fops = {
	.owner = THIS_MODULE,
	.open = cm_open,
	.release = cm_release,
	.read = cm_read,
	.poll = cm_poll,
	.unlocked_ioctl = cm_ioctl,
	/* every structure has the same layout for 32-bit user space */
	.compat_ioctl = compat_ptr_ioctl,
	/*
	 * No .llseek: cm_open() calls stream_open(), which clears FMODE_LSEEK,
	 * so lseek() fails with ESPIPE on every kernel (no_llseek, the old way
	 * to say so, was removed in 6.12).
	 */
};
