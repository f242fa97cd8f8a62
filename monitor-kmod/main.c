// SPDX-License-Identifier: GPL-2.0
/*
 * container_monitor: minirt's kernel memory monitor.
 *
 * Module entry points, the scan_interval_ms parameter, the misc device
 * /dev/container_monitor and the text view /proc/container_monitor.
 * See docs/kernel-monitor.md for the design.
 */
#define pr_fmt(fmt) "container_monitor: " fmt

#include <linux/fs.h>
#include <linux/miscdevice.h>
#include <linux/module.h>
#include <linux/moduleparam.h>
#include <linux/proc_fs.h>
#include <linux/seq_file.h>

#include "cm_internal.h"

/* serialises registration, queries, the scan and unload; see cm_internal.h */
DEFINE_MUTEX(cm_lock);
LIST_HEAD(cm_containers);
unsigned int cm_nr_containers;
unsigned int cm_scan_interval_ms = 100;

/* Below 10 ms the scan would eat a CPU on a busy host; above a minute it is useless. */
static int cm_set_interval(const char *val, const struct kernel_param *kp)
{
	return param_set_uint_minmax(val, kp, 10, 60000);
}

static const struct kernel_param_ops cm_interval_ops = {
	.set = cm_set_interval,
	.get = param_get_uint,
};

module_param_cb(scan_interval_ms, &cm_interval_ops, &cm_scan_interval_ms, 0644);
MODULE_PARM_DESC(scan_interval_ms, "RSS scan period in milliseconds (10..60000, default 100)");

static int cm_proc_show(struct seq_file *m, void *v)
{
	struct cm_container *c;

	mutex_lock(&cm_lock);
	seq_printf(m, "# interval_ms=%u scans=%llu last_scan_ns=%llu containers=%u\n",
		   READ_ONCE(cm_scan_interval_ms), cm_scan_count(),
		   cm_scan_last_ns(), cm_nr_containers);
	seq_puts(m, "ID PID SOFT HARD RSS PROCS FLAGS\n");
	list_for_each_entry(c, &cm_containers, node) {
		seq_printf(m, "%s %d %llu %llu %llu %u ", c->id, c->user_pid,
			   c->soft_limit, c->hard_limit, c->rss, c->nr_procs);
		if (!(c->flags & (CM_ENTRY_PIDNS | CM_ENTRY_SOFT_CROSSED)))
			seq_puts(m, "-");
		if (c->flags & CM_ENTRY_PIDNS)
			seq_puts(m, "pidns");
		if (c->flags & CM_ENTRY_SOFT_CROSSED)
			seq_printf(m, "%ssoft", c->flags & CM_ENTRY_PIDNS ? "," : "");
		seq_putc(m, '\n');
	}
	mutex_unlock(&cm_lock);
	return 0;
}

static struct miscdevice cm_miscdev = {
	.minor = MISC_DYNAMIC_MINOR,
	.name = CM_DEVICE_NAME,
	.fops = &cm_fops,
	/* root only: registering sets kill limits on arbitrary processes */
	.mode = 0600,
};

static int __init cm_init(void)
{
	int ret;

	/* The ABI's layout is fixed; catch an accidental change at build time. */
	BUILD_BUG_ON(sizeof(struct cm_version) != 24);
	BUILD_BUG_ON(sizeof(struct cm_register) != 88);
	BUILD_BUG_ON(sizeof(struct cm_unregister) != 72);
	BUILD_BUG_ON(sizeof(struct cm_entry) != 104);
	BUILD_BUG_ON(sizeof(struct cm_query) != 120);
	BUILD_BUG_ON(sizeof(struct cm_event) != 112);

	/* root only, like the device: container ids are not everyone's business */
	if (!proc_create_single(CM_DEVICE_NAME, 0400, NULL, cm_proc_show))
		return -ENOMEM;

	ret = misc_register(&cm_miscdev);
	if (ret) {
		remove_proc_entry(CM_DEVICE_NAME, NULL);
		return ret;
	}
	pr_info("loaded, scan_interval_ms=%u\n", cm_scan_interval_ms);
	return 0;
}

static void __exit cm_exit(void)
{
	struct cm_container *c, *tmp;
	unsigned int n = 0;

	/*
	 * Open files hold a module reference, so no ioctl can run by now:
	 * only the scan can still be queued or running.
	 */
	misc_deregister(&cm_miscdev);
	remove_proc_entry(CM_DEVICE_NAME, NULL);
	cm_scan_stop();

	mutex_lock(&cm_lock);
	list_for_each_entry_safe(c, tmp, &cm_containers, node) {
		list_del(&c->node);
		cm_container_free(c);
		n++;
	}
	cm_nr_containers = 0;
	mutex_unlock(&cm_lock);
	pr_info("unloaded, %u container(s) dropped\n", n);
}

module_init(cm_init);
module_exit(cm_exit);

MODULE_LICENSE("GPL");
MODULE_AUTHOR("minirt");
MODULE_DESCRIPTION("Per-container RSS monitor with soft and hard limits");
