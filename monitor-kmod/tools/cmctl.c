// SPDX-License-Identifier: GPL-2.0
/*
 * cmctl: drive /dev/container_monitor from the command line and tests.
 *
 *   cmctl version
 *   cmctl register ID PID SOFT HARD        sizes in bytes or with K/M/G
 *   cmctl unregister ID
 *   cmctl query ID
 *   cmctl list
 *   cmctl events [--count N] [--timeout MS] [--id ID] [--ready FILE]
 *                [--wait-file FILE]
 *   cmctl stress [--procs N] [--cycles N]
 *   cmctl garbage
 *   cmctl hog [--size S] [--step S] [--step-ms MS] [--children N]
 *             [--pidfile FILE] [--wait-usr1] [--exit]
 *
 * Built static (make tools) so it runs in the test VM's initramfs.
 * Exit status: 0 success, 1 failure, 2 usage.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "container_monitor.h"

static const char *progname = "cmctl";

static void die(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "%s: ", progname);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(1);
}

static void print_usage(void)
{
	fprintf(stderr,
		"usage: cmctl version | register ID PID SOFT HARD | unregister ID |\n"
		"             query ID | list |\n"
		"             events [--count N] [--timeout MS] [--id ID] [--ready FILE]\n"
		"                    [--wait-file FILE] |\n"
		"             stress [--procs N] [--cycles N] | garbage |\n"
		"             hog [--size S] [--step S] [--step-ms MS] [--children N]\n"
		"                 [--pidfile FILE] [--wait-usr1] [--exit]\n");
	exit(2);
}

static int open_dev(int flags)
{
	int fd = open(CM_DEVICE_PATH, flags | O_CLOEXEC);

	if (fd < 0)
		die("open %s: %s", CM_DEVICE_PATH, strerror(errno));
	return fd;
}

/* "123", "10K", "10M", "1G" (binary multiples) */
static uint64_t parse_size(const char *s)
{
	char *end;
	unsigned long long v;

	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno || end == s)
		die("bad size: %s", s);
	switch (*end) {
	case 'k': case 'K':
		v <<= 10, end++;
		break;
	case 'm': case 'M':
		v <<= 20, end++;
		break;
	case 'g': case 'G':
		v <<= 30, end++;
		break;
	}
	if (*end == 'i' && end[1] == 'B')
		end += 2;
	else if (*end == 'B')
		end++;
	if (*end)
		die("bad size: %s", s);
	return v;
}

static long parse_num(const char *s)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (errno || end == s || *end)
		die("bad number: %s", s);
	return v;
}

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void set_id(char *dst, const char *id)
{
	if (strlen(id) >= CM_ID_LEN)
		die("id too long (max %d): %s", CM_ID_LEN - 1, id);
	memset(dst, 0, CM_ID_LEN);
	memcpy(dst, id, strlen(id));
}

static int do_register(int fd, const char *id, int pid, uint64_t soft,
		       uint64_t hard)
{
	struct cm_register r;

	memset(&r, 0, sizeof(r));
	r.size = sizeof(r);
	r.pid = pid;
	set_id(r.id, id);
	r.soft_limit = soft;
	r.hard_limit = hard;
	return ioctl(fd, CM_IOC_REGISTER, &r) ? -errno : 0;
}

static int do_unregister(int fd, const char *id)
{
	struct cm_unregister u;

	memset(&u, 0, sizeof(u));
	u.size = sizeof(u);
	set_id(u.id, id);
	return ioctl(fd, CM_IOC_UNREGISTER, &u) ? -errno : 0;
}

static int do_query(int fd, const char *id, struct cm_query *q)
{
	memset(q, 0, sizeof(*q));
	q->size = sizeof(*q);
	set_id(q->entry.id, id);
	return ioctl(fd, CM_IOC_QUERY, q) ? -errno : 0;
}

static void print_entry(const struct cm_entry *e)
{
	printf("container=%s pid=%d soft=%llu hard=%llu rss=%llu procs=%u flags=%s%s%s\n",
	       e->id, e->pid, (unsigned long long)e->soft_limit,
	       (unsigned long long)e->hard_limit, (unsigned long long)e->rss,
	       e->nr_procs,
	       e->flags & CM_ENTRY_PIDNS ? "pidns" : "tree",
	       e->flags & CM_ENTRY_SOFT_CROSSED ? "," : "",
	       e->flags & CM_ENTRY_SOFT_CROSSED ? "soft" : "");
}

static const char *event_name(uint32_t type)
{
	switch (type) {
	case CM_EVENT_SOFT:
		return "SOFT";
	case CM_EVENT_HARD:
		return "HARD";
	case CM_EVENT_EXIT:
		return "EXIT";
	default:
		return "UNKNOWN";
	}
}

static int cmd_version(void)
{
	struct cm_version v;
	int fd = open_dev(O_RDONLY);

	memset(&v, 0, sizeof(v));
	v.size = sizeof(v);
	if (ioctl(fd, CM_IOC_VERSION, &v))
		die("version: %s", strerror(errno));
	printf("abi=%u scan_interval_ms=%u max_entries=%u queue_len=%u event_size=%u\n",
	       v.abi_version, v.scan_interval_ms, v.max_entries, v.queue_len,
	       v.event_size);
	return 0;
}

static int cmd_register(int argc, char **argv)
{
	int fd, ret;

	if (argc != 5)
		print_usage();
	fd = open_dev(O_RDWR);
	ret = do_register(fd, argv[1], (int)parse_num(argv[2]),
			  parse_size(argv[3]), parse_size(argv[4]));
	if (ret)
		die("register %s: %s", argv[1], strerror(-ret));
	return 0;
}

static int cmd_unregister(int argc, char **argv)
{
	int fd, ret;

	if (argc != 2)
		print_usage();
	fd = open_dev(O_RDWR);
	ret = do_unregister(fd, argv[1]);
	if (ret)
		die("unregister %s: %s", argv[1], strerror(-ret));
	return 0;
}

static int cmd_query(int argc, char **argv)
{
	struct cm_query q;
	int fd, ret;

	if (argc != 2)
		print_usage();
	fd = open_dev(O_RDONLY);
	ret = do_query(fd, argv[1], &q);
	if (ret)
		die("query %s: %s", argv[1], strerror(-ret));
	print_entry(&q.entry);
	return 0;
}

static int cmd_list(void)
{
	struct cm_query q;
	int fd = open_dev(O_RDONLY);
	uint32_t i;

	for (i = 0;; i++) {
		memset(&q, 0, sizeof(q));
		q.size = sizeof(q);
		q.index = i;
		if (ioctl(fd, CM_IOC_LIST, &q)) {
			if (errno == ENOENT)
				break;
			die("list: %s", strerror(errno));
		}
		print_entry(&q.entry);
	}
	return 0;
}

static int cmd_events(int argc, char **argv)
{
	long count = -1, timeout = -1, seen = 0;
	const char *id = NULL, *ready = NULL, *wait_file = NULL;
	uint64_t deadline = 0;
	struct cm_event ev[8];
	int fd, i;

	for (i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--count") && i + 1 < argc)
			count = parse_num(argv[++i]);
		else if (!strcmp(argv[i], "--timeout") && i + 1 < argc)
			timeout = parse_num(argv[++i]);
		else if (!strcmp(argv[i], "--id") && i + 1 < argc)
			id = argv[++i];
		else if (!strcmp(argv[i], "--ready") && i + 1 < argc)
			ready = argv[++i];
		else if (!strcmp(argv[i], "--wait-file") && i + 1 < argc)
			wait_file = argv[++i];
		else
			print_usage();
	}
	fd = open_dev(O_RDONLY | O_NONBLOCK);
	if (ready) {
		int rfd = open(ready, O_WRONLY | O_CREAT | O_TRUNC, 0644);

		if (rfd < 0)
			die("%s: %s", ready, strerror(errno));
		close(rfd);
	}
	/* queue events without reading them until WAIT_FILE appears */
	while (wait_file && access(wait_file, F_OK))
		usleep(10000);
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (timeout >= 0)
		deadline = now_ms() + timeout;

	while (count < 0 || seen < count) {
		struct pollfd pfd = { .fd = fd, .events = POLLIN };
		int wait = -1;
		ssize_t n;

		if (timeout >= 0) {
			uint64_t now = now_ms();

			if (now >= deadline)
				break;
			wait = (int)(deadline - now);
		}
		n = poll(&pfd, 1, wait);
		if (n < 0 && errno != EINTR)
			die("poll: %s", strerror(errno));
		if (n <= 0)
			continue;
		n = read(fd, ev, sizeof(ev));
		if (n < 0) {
			if (errno == EAGAIN || errno == EINTR)
				continue;
			die("read: %s", strerror(errno));
		}
		if (n % sizeof(ev[0]))
			die("read returned %zd bytes, not whole events", n);
		for (i = 0; i < n / (ssize_t)sizeof(ev[0]); i++) {
			if (ev[i].size != sizeof(ev[0]))
				die("event size %u, expected %zu", ev[i].size,
				    sizeof(ev[0]));
			if (id && strcmp(ev[i].id, id))
				continue;
			printf("event type=%s container=%s pid=%d ",
			       event_name(ev[i].type), ev[i].id, ev[i].pid);
			printf("rss=%llu limit=%llu seq=%llu dropped=%u ts=%llu\n",
			       (unsigned long long)ev[i].rss,
			       (unsigned long long)ev[i].limit,
			       (unsigned long long)ev[i].seq, ev[i].dropped,
			       (unsigned long long)ev[i].timestamp_ns);
			seen++;
		}
	}
	if (count >= 0 && seen < count) {
		fprintf(stderr, "%s: events: %ld of %ld before the timeout\n",
			progname, seen, count);
		return 1;
	}
	return 0;
}

/* --- stress ------------------------------------------------------------- */

static int stress_child(int n, long cycles)
{
	struct cm_query q;
	long i, errors = 0;
	char id[CM_ID_LEN];
	int fd = open_dev(O_RDWR);
	int ret;

	for (i = 0; i < cycles; i++) {
		snprintf(id, sizeof(id), "stress-%d-%ld", n, i);
		/* a 4 KiB soft limit: scans that catch the entry emit events too */
		ret = do_register(fd, id, getpid(), 4096, 0);
		if (ret) {
			fprintf(stderr, "stress %d: register %s: %s\n", n, id, strerror(-ret));
			errors++;
			continue;
		}
		ret = do_register(fd, id, getpid(), 0, 0);
		if (ret != -EEXIST) {
			fprintf(stderr, "stress %d: duplicate %s: %s\n", n, id, strerror(-ret));
			errors++;
		}
		ret = do_query(fd, id, &q);
		if (ret || q.entry.pid != getpid()) {
			fprintf(stderr, "stress %d: query %s: %s\n", n, id, strerror(-ret));
			errors++;
		}
		if (i % 64 == 0) {
			memset(&q, 0, sizeof(q));
			q.size = sizeof(q);
			q.index = (uint32_t)i % 8;
			if (ioctl(fd, CM_IOC_LIST, &q) && errno != ENOENT) {
				fprintf(stderr, "stress %d: list: %s\n", n, strerror(errno));
				errors++;
			}
			/* open/release racing with event emission */
			close(open_dev(O_RDONLY));
		}
		ret = do_unregister(fd, id);
		if (ret) {
			fprintf(stderr, "stress %d: unregister %s: %s\n", n, id, strerror(-ret));
			errors++;
		}
		if (errors > 20)
			break;
	}
	close(fd);
	return errors ? 1 : 0;
}

static int cmd_stress(int argc, char **argv)
{
	long procs = 4, cycles = 10000, i, failed = 0;
	uint64_t start = now_ms();
	int status;

	for (i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--procs") && i + 1 < argc)
			procs = parse_num(argv[++i]);
		else if (!strcmp(argv[i], "--cycles") && i + 1 < argc)
			cycles = parse_num(argv[++i]);
		else
			print_usage();
	}
	if (procs < 1 || procs > 256 || cycles < 1)
		print_usage();
	fflush(stdout);
	for (i = 0; i < procs; i++) {
		pid_t pid = fork();

		if (pid < 0)
			die("fork: %s", strerror(errno));
		if (pid == 0)
			_exit(stress_child((int)i, cycles));
	}
	for (i = 0; i < procs; i++) {
		if (wait(&status) < 0)
			die("wait: %s", strerror(errno));
		if (!WIFEXITED(status) || WEXITSTATUS(status))
			failed++;
	}
	printf("stress: procs=%ld cycles=%ld registrations=%ld failed_procs=%ld elapsed_ms=%llu\n",
	       procs, cycles, procs * cycles, failed,
	       (unsigned long long)(now_ms() - start));
	return failed ? 1 : 0;
}

/* --- garbage ------------------------------------------------------------ */

static int garbage_failures;

static void expect_errno(const char *what, int ret, int want)
{
	int got = ret < 0 ? errno : 0;

	if (got == want) {
		printf("ok   %-40s %s\n", what, want ? strerror(want) : "success");
	} else {
		printf("FAIL %-40s want %s, got %s\n", what,
		       want ? strerror(want) : "success",
		       got ? strerror(got) : "success");
		garbage_failures++;
	}
}

static void init_reg(struct cm_register *r, const char *id, int pid)
{
	memset(r, 0, sizeof(*r));
	r->size = sizeof(*r);
	r->pid = pid;
	set_id(r->id, id);
}

/* A pid no process has: the highest free one below pid_max. */
static int unused_pid(void)
{
	FILE *f = fopen("/proc/sys/kernel/pid_max", "r");
	int max = 32768, pid;

	if (f) {
		if (fscanf(f, "%d", &max) != 1)
			max = 32768;
		fclose(f);
	}
	for (pid = max - 1; pid > 1; pid--)
		if (kill(pid, 0) && errno == ESRCH)
			return pid;
	die("no free pid");
	return -1;
}

static pid_t sleeper_tid;

static void *sleeper(void *arg)
{
	(void)arg;
	__atomic_store_n(&sleeper_tid, (pid_t)syscall(SYS_gettid), __ATOMIC_RELEASE);
	pause();
	return NULL;
}

static int list_total(int fd)
{
	struct cm_query q;

	memset(&q, 0, sizeof(q));
	q.size = sizeof(q);
	q.index = UINT32_MAX;
	if (!ioctl(fd, CM_IOC_LIST, &q) || errno != ENOENT)
		die("list past the end did not fail with ENOENT");
	return (int)q.total;
}

static int cmd_garbage(void)
{
	int fd = open_dev(O_RDWR | O_NONBLOCK);
	struct cm_register r;
	struct cm_unregister u;
	struct cm_query q;
	struct cm_version v;
	struct cm_event ev;
	char small[8];
	int before = list_total(fd);
	pthread_t th;
	pid_t tid = -1;

	expect_errno("unknown ioctl number", ioctl(fd, _IO(CM_IOC_MAGIC, 0x7f), 0), ENOTTY);
	expect_errno("foreign ioctl (TCGETS)", ioctl(fd, 0x5401, &r), ENOTTY);
	expect_errno("register, size in cmd wrong",
		     ioctl(fd, _IOW(CM_IOC_MAGIC, 0x01, struct cm_unregister), &r), ENOTTY);

	init_reg(&r, "garbage-a", getpid());
	r.size = 0;
	expect_errno("register, size field 0", ioctl(fd, CM_IOC_REGISTER, &r), EINVAL);
	r.size = sizeof(r) + 8;
	expect_errno("register, size field too big", ioctl(fd, CM_IOC_REGISTER, &r), EINVAL);
	expect_errno("register, NULL argument", ioctl(fd, CM_IOC_REGISTER, NULL), EFAULT);
	expect_errno("register, bad pointer", ioctl(fd, CM_IOC_REGISTER, (void *)16), EFAULT);

	init_reg(&r, "garbage-a", unused_pid());
	expect_errno("register, pid that does not exist", ioctl(fd, CM_IOC_REGISTER, &r), ESRCH);
	init_reg(&r, "garbage-a", 0);
	expect_errno("register, pid 0", ioctl(fd, CM_IOC_REGISTER, &r), EINVAL);
	init_reg(&r, "garbage-a", -42);
	expect_errno("register, negative pid", ioctl(fd, CM_IOC_REGISTER, &r), EINVAL);
	if (getpid() != 1) {
		init_reg(&r, "garbage-a", 1);
		/* only meaningful when we share the host's PID namespace */
		if (access("/proc/1/ns/pid", F_OK) == 0) {
			char a[64] = "", b[64] = "";

			if (readlink("/proc/1/ns/pid", a, sizeof(a) - 1) > 0 &&
			    readlink("/proc/self/ns/pid", b, sizeof(b) - 1) > 0 &&
			    !strcmp(a, b))
				expect_errno("register, the host's init",
					     ioctl(fd, CM_IOC_REGISTER, &r), EINVAL);
		}
	}
	if (!pthread_create(&th, NULL, sleeper, NULL)) {
		for (int i = 0; i < 500 && !__atomic_load_n(&sleeper_tid, __ATOMIC_ACQUIRE); i++)
			usleep(10000);
		tid = __atomic_load_n(&sleeper_tid, __ATOMIC_ACQUIRE);
		if (tid > 0) {
			init_reg(&r, "garbage-a", tid);
			expect_errno("register, a thread id (not a process)",
				     ioctl(fd, CM_IOC_REGISTER, &r), ESRCH);
		}
	}

	init_reg(&r, "", getpid());
	expect_errno("register, empty id", ioctl(fd, CM_IOC_REGISTER, &r), EINVAL);
	init_reg(&r, "x", getpid());
	memset(r.id, 'x', sizeof(r.id));
	expect_errno("register, unterminated id", ioctl(fd, CM_IOC_REGISTER, &r), EINVAL);
	init_reg(&r, "has space", getpid());
	expect_errno("register, id with a space", ioctl(fd, CM_IOC_REGISTER, &r), EINVAL);
	init_reg(&r, "bad\nid", getpid());
	expect_errno("register, id with a newline", ioctl(fd, CM_IOC_REGISTER, &r), EINVAL);
	init_reg(&r, "garbage-a", getpid());
	r.soft_limit = 2 << 20;
	r.hard_limit = 1 << 20;
	expect_errno("register, soft > hard", ioctl(fd, CM_IOC_REGISTER, &r), EINVAL);

	init_reg(&r, "garbage-a", getpid());
	r.soft_limit = 1 << 30;
	expect_errno("register, valid (soft only)", ioctl(fd, CM_IOC_REGISTER, &r), 0);
	expect_errno("register, duplicate id", ioctl(fd, CM_IOC_REGISTER, &r), EEXIST);
	init_reg(&r, "garbage-b", getpid());
	r.hard_limit = 1 << 30;
	expect_errno("register, same pid, other id", ioctl(fd, CM_IOC_REGISTER, &r), 0);

	memset(&q, 0, sizeof(q));
	q.size = sizeof(q);
	set_id(q.entry.id, "garbage-a");
	expect_errno("query, registered id", ioctl(fd, CM_IOC_QUERY, &q), 0);
	if (q.entry.pid != getpid() || q.entry.soft_limit != 1 << 30 ||
	    q.total != (uint32_t)before + 2) {
		printf("FAIL query returned pid=%d soft=%llu total=%u\n", q.entry.pid,
		       (unsigned long long)q.entry.soft_limit, q.total);
		garbage_failures++;
	}
	set_id(q.entry.id, "garbage-nope");
	expect_errno("query, unknown id", ioctl(fd, CM_IOC_QUERY, &q), ENOENT);
	memset(&q, 0, sizeof(q));
	q.size = sizeof(q);
	expect_errno("query, empty id", ioctl(fd, CM_IOC_QUERY, &q), EINVAL);
	q.size = 1;
	expect_errno("list, size field wrong", ioctl(fd, CM_IOC_LIST, &q), EINVAL);
	q.size = sizeof(q);
	q.reserved = 1;
	expect_errno("list, reserved field set", ioctl(fd, CM_IOC_LIST, &q), EINVAL);
	memset(&v, 0, sizeof(v));
	expect_errno("version, size field 0", ioctl(fd, CM_IOC_VERSION, &v), EINVAL);

	memset(&u, 0, sizeof(u));
	u.size = sizeof(u);
	set_id(u.id, "garbage-never-registered");
	expect_errno("unregister, unknown id", ioctl(fd, CM_IOC_UNREGISTER, &u), ENOENT);
	u.reserved = 7;
	expect_errno("unregister, reserved field set", ioctl(fd, CM_IOC_UNREGISTER, &u), EINVAL);
	memset(&u, 0, sizeof(u));
	u.size = sizeof(u);
	memset(u.id, 'y', sizeof(u.id));
	expect_errno("unregister, unterminated id", ioctl(fd, CM_IOC_UNREGISTER, &u), EINVAL);
	u.size = sizeof(u) - 1;
	set_id(u.id, "garbage-a");
	expect_errno("unregister, size field wrong", ioctl(fd, CM_IOC_UNREGISTER, &u), EINVAL);
	u.size = sizeof(u);
	expect_errno("unregister garbage-a", ioctl(fd, CM_IOC_UNREGISTER, &u), 0);
	expect_errno("unregister garbage-a again", ioctl(fd, CM_IOC_UNREGISTER, &u), ENOENT);
	set_id(u.id, "garbage-b");
	expect_errno("unregister garbage-b", ioctl(fd, CM_IOC_UNREGISTER, &u), 0);

	expect_errno("read, buffer smaller than an event", (int)read(fd, small, sizeof(small)),
		     EINVAL);
	expect_errno("read, nothing queued (O_NONBLOCK)", (int)read(fd, &ev, sizeof(ev)), EAGAIN);
	expect_errno("write (not supported)", (int)write(fd, &ev, sizeof(ev)), EINVAL);

	if (list_total(fd) != before) {
		printf("FAIL %d entries before, %d after\n", before, list_total(fd));
		garbage_failures++;
	}
	printf("garbage: %d failure(s)\n", garbage_failures);
	return garbage_failures ? 1 : 0;
}

/* --- hog ---------------------------------------------------------------- */

static int hog_alloc(uint64_t size, uint64_t step, long step_ms)
{
	uint64_t done = 0;

	while (done < size) {
		uint64_t n = size - done < step ? size - done : step;
		char *p = mmap(NULL, n, PROT_READ | PROT_WRITE,
			       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

		if (p == MAP_FAILED)
			die("hog: mmap %llu: %s", (unsigned long long)n, strerror(errno));
		/* touch every page: RSS, not just address space */
		memset(p, 0x5a, n);
		done += n;
		if (step_ms > 0)
			usleep(step_ms * 1000);
	}
	fprintf(stderr, "hog: pid %d holds %llu bytes\n", getpid(),
		(unsigned long long)done);
	return 0;
}

/*
 * The pid of /proc/self as the mounter of /proc sees it: the host's pid even
 * inside "unshare --pid --fork" (without --mount-proc).
 */
static void write_pidfile(const char *path)
{
	char buf[32];
	ssize_t n;
	FILE *f;

	n = readlink("/proc/self", buf, sizeof(buf) - 1);
	if (n <= 0)
		die("readlink /proc/self: %s", strerror(errno));
	buf[n] = '\0';
	f = fopen(path, "w");
	if (!f || fprintf(f, "%s\n", buf) < 0 || fclose(f))
		die("%s: %s", path, strerror(errno));
}

static int cmd_hog(int argc, char **argv)
{
	uint64_t size = 40ULL << 20, step = 1 << 20;
	long step_ms = 20, children = 0, i;
	const char *pidfile = NULL;
	int wait_usr1 = 0, exit_after = 0, sig;
	sigset_t usr1;

	for (i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--size") && i + 1 < argc)
			size = parse_size(argv[++i]);
		else if (!strcmp(argv[i], "--step") && i + 1 < argc)
			step = parse_size(argv[++i]);
		else if (!strcmp(argv[i], "--step-ms") && i + 1 < argc)
			step_ms = parse_num(argv[++i]);
		else if (!strcmp(argv[i], "--children") && i + 1 < argc)
			children = parse_num(argv[++i]);
		else if (!strcmp(argv[i], "--pidfile") && i + 1 < argc)
			pidfile = argv[++i];
		else if (!strcmp(argv[i], "--wait-usr1"))
			wait_usr1 = 1;
		else if (!strcmp(argv[i], "--exit"))
			exit_after = 1;
		else
			print_usage();
	}
	if (step == 0 || children < 0 || children > 1024)
		print_usage();

	if (wait_usr1) {
		/* blocked before the pidfile appears, so no signal is lost */
		sigemptyset(&usr1);
		sigaddset(&usr1, SIGUSR1);
		sigprocmask(SIG_BLOCK, &usr1, NULL);
	}
	if (pidfile)
		write_pidfile(pidfile);
	if (wait_usr1 && sigwait(&usr1, &sig))
		die("sigwait failed");

	if (children == 0) {
		hog_alloc(size, step, step_ms);
		if (exit_after)
			return 0;
		for (;;)
			pause();
	}
	for (i = 0; i < children; i++) {
		pid_t pid = fork();

		if (pid < 0)
			die("fork: %s", strerror(errno));
		if (pid == 0) {
			hog_alloc(size, step, step_ms);
			if (exit_after)
				_exit(0);
			for (;;)
				pause();
		}
	}
	/* as a PID namespace's init we also reap whatever is reparented to us */
	while (wait(NULL) > 0 || errno == EINTR)
		;
	return 0;
}

int main(int argc, char **argv)
{
	const char *cmd;

	if (argc < 2)
		print_usage();
	cmd = argv[1];
	argc--;
	argv++;
	if (!strcmp(cmd, "version"))
		return cmd_version();
	if (!strcmp(cmd, "register"))
		return cmd_register(argc, argv);
	if (!strcmp(cmd, "unregister"))
		return cmd_unregister(argc, argv);
	if (!strcmp(cmd, "query"))
		return cmd_query(argc, argv);
	if (!strcmp(cmd, "list"))
		return cmd_list();
	if (!strcmp(cmd, "events"))
		return cmd_events(argc, argv);
	if (!strcmp(cmd, "stress"))
		return cmd_stress(argc, argv);
	if (!strcmp(cmd, "garbage"))
		return cmd_garbage();
	if (!strcmp(cmd, "hog"))
		return cmd_hog(argc, argv);
	print_usage();
	return 2;
}
