/*
 * timeit: the benchmark's clock. bench/run compiles it with gcc at run time.
 *
 *   timeit [-n N] [-o FILE] [-a] [-e] [-t SECS] -- CMD [ARG...]
 *       Runs CMD N times (default 1), one after the other, and prints the
 *       wall time of each run in nanoseconds, one per line. The clock
 *       (CLOCK_MONOTONIC) is read right before vfork+exec and right after
 *       waitpid returns, so the figure is what a shell script calling CMD
 *       waits for. CMD's stdout goes to FILE (appended with -a) or /dev/null;
 *       stderr is inherited. Exits 1 if a run fails, unless -e. With -t, a run
 *       still going after SECS seconds is SIGKILLed and timeit exits 3.
 *   timeit --stats [SCALE]
 *       Reads numbers (one a line) on stdin and prints "median min max count",
 *       each divided by SCALE (default 1e6: nanoseconds to milliseconds).
 *   timeit --overhead N
 *       Prints the median cost, in ns, of one clock read and of timing a
 *       run of `timeit --noop` (vfork + exec + exit + waitpid of a tiny
 *       program): the floor every figure includes.
 *   timeit --noop
 *       Does nothing (the target of --overhead).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <poll.h>
#include <signal.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static int64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

static double median(double *v, size_t n)
{
	qsort(v, n, sizeof *v, cmp_double);
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

static int timeout_ms = -1;

/* Runs argv once; returns its wait status, -1 if it could not start, -2 if
 * it ran longer than timeout_ms (it is then killed). */
static int run_once(char **argv, int out_fd, int64_t *elapsed)
{
	int64_t t0 = now_ns();
	pid_t pid = vfork();
	if (pid == 0) {
		if (out_fd >= 0)
			dup2(out_fd, 1);
		execvp(argv[0], argv);
		_exit(127);
	}
	if (pid < 0)
		return -1;
	if (timeout_ms >= 0) {
		int pfd = (int)syscall(SYS_pidfd_open, pid, 0);
		struct pollfd p = {.fd = pfd, .events = POLLIN};
		if (pfd >= 0 && poll(&p, 1, timeout_ms) == 0) {
			kill(pid, SIGKILL);
			waitpid(pid, NULL, 0);
			close(pfd);
			return -2;
		}
		if (pfd >= 0)
			close(pfd);
	}
	int status;
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR)
			return -1;
	*elapsed = now_ns() - t0;
	return status;
}

static int stats(double scale)
{
	size_t cap = 1024, n = 0;
	double *v = malloc(cap * sizeof *v), x;
	while (v && scanf("%lf", &x) == 1) {
		if (n == cap)
			v = realloc(v, (cap *= 2) * sizeof *v);
		if (v)
			v[n++] = x / scale;
	}
	if (!v || n == 0) {
		fprintf(stderr, "timeit --stats: no numbers\n");
		return 1;
	}
	double med = median(v, n);
	printf("%.3f %.3f %.3f %zu\n", med, v[0], v[n - 1], n);
	return 0;
}

static int overhead(int n, const char *self)
{
	double *clk = calloc((size_t)n, sizeof *clk), *spawn = calloc((size_t)n, sizeof *spawn);
	char *argv[] = {(char *)self, "--noop", NULL};
	int devnull = open("/dev/null", O_WRONLY | O_CLOEXEC);
	if (!clk || !spawn)
		return 1;
	for (int i = 0; i < n; i++) {
		int64_t a = now_ns();
		int64_t b = now_ns();
		clk[i] = (double)(b - a);
		int64_t e = 0;
		if (run_once(argv, devnull, &e) != 0)
			return 1;
		spawn[i] = (double)e;
	}
	printf("clock_read_ns %.0f\nspawn_noop_ns %.0f\n", median(clk, (size_t)n), median(spawn, (size_t)n));
	return 0;
}

int main(int argc, char **argv)
{
	int n = 1, append = 0, allow_fail = 0, i = 1;
	const char *out = NULL;

	if (argc >= 2 && strcmp(argv[1], "--noop") == 0)
		return 0;
	if (argc >= 2 && strcmp(argv[1], "--stats") == 0)
		return stats(argc >= 3 ? atof(argv[2]) : 1e6);
	if (argc >= 2 && strcmp(argv[1], "--overhead") == 0)
		return overhead(argc >= 3 ? atoi(argv[2]) : 200, "/proc/self/exe");
	for (; i < argc; i++) {
		if (strcmp(argv[i], "--") == 0) {
			i++;
			break;
		} else if (strcmp(argv[i], "-n") == 0 && i + 1 < argc) {
			n = atoi(argv[++i]);
		} else if (strcmp(argv[i], "-o") == 0 && i + 1 < argc) {
			out = argv[++i];
		} else if (strcmp(argv[i], "-a") == 0) {
			append = 1;
		} else if (strcmp(argv[i], "-t") == 0 && i + 1 < argc) {
			timeout_ms = (int)(atof(argv[++i]) * 1000);
		} else if (strcmp(argv[i], "-e") == 0) {
			allow_fail = 1;
		} else {
			fprintf(stderr, "timeit: unknown argument %s\n", argv[i]);
			return 2;
		}
	}
	if (i >= argc || n < 1) {
		fprintf(stderr, "usage: timeit [-n N] [-o FILE] [-a] [-e] [-t SECS] -- CMD [ARG...]\n");
		return 2;
	}
	int out_fd = open(out ? out : "/dev/null",
			  O_WRONLY | O_CREAT | O_CLOEXEC | (append ? O_APPEND : O_TRUNC), 0644);
	if (out_fd < 0) {
		perror(out);
		return 2;
	}
	for (int r = 0; r < n; r++) {
		int64_t e = 0;
		int status = run_once(argv + i, out_fd, &e);
		if (status == -2) {
			fprintf(stderr, "timeit: %s timed out after %d ms (killed)\n", argv[i], timeout_ms);
			return 3;
		}
		if (status != 0 && !allow_fail) {
			fprintf(stderr, "timeit: %s failed (wait status %d)\n", argv[i], status);
			return 1;
		}
		printf("%lld\n", (long long)e);
		fflush(stdout);
	}
	return 0;
}
