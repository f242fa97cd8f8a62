/* Shared helpers for minirt test workloads (header-only, C11, libc only). */
#ifndef MINIRT_WL_COMMON_H
#define MINIRT_WL_COMMON_H

#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define WL_EXIT_USAGE 2

static const char *wl_prog __attribute__((unused)) = "workload";

/* Print "prog: message" on stderr and exit with status 2 (bad arguments). */
static void wl_usage_error(const char *fmt, ...)
    __attribute__((format(printf, 1, 2), noreturn, unused));
static void wl_usage_error(const char *fmt, ...)
{
    va_list ap;
    fprintf(stderr, "%s: ", wl_prog);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fprintf(stderr, " (try --help)\n");
    exit(WL_EXIT_USAGE);
}

/* Print "prog: message: strerror" on stderr and exit with status 1. */
static void wl_die_errno(const char *what) __attribute__((noreturn, unused));
static void wl_die_errno(const char *what)
{
    fprintf(stderr, "%s: %s: %s\n", wl_prog, what, strerror(errno));
    exit(1);
}

/* Make stdout line buffered: each output line reaches the pipe at once. */
static inline void wl_init(const char *prog)
{
    wl_prog = prog;
    setvbuf(stdout, NULL, _IOLBF, 0);
}

/* Fetch the value of option argv[*i]; exits 2 when missing. */
static inline const char *wl_optarg(int argc, char **argv, int *i)
{
    if (*i + 1 >= argc)
        wl_usage_error("option %s requires an argument", argv[*i]);
    return argv[++*i];
}

/* Parse an unsigned integer (decimal). Returns 0 on success. */
static inline int wl_parse_u64(const char *s, uint64_t *out)
{
    if (!s || !*s || *s == '-' || *s == '+')
        return -1;
    errno = 0;
    char *end = NULL;
    unsigned long long v = strtoull(s, &end, 10);
    if (errno || end == s || *end)
        return -1;
    *out = (uint64_t)v;
    return 0;
}

/* Parse a size: plain bytes or a K/M/G/T suffix (binary, 1M = 1048576),
 * optional trailing "B"/"iB" (e.g. 4M, 4MB, 4MiB, 512k). Returns 0 on success. */
static inline int wl_parse_size(const char *s, uint64_t *out)
{
    if (!s || !*s || *s == '-' || *s == '+')
        return -1;
    errno = 0;
    char *end = NULL;
    unsigned long long v = strtoull(s, &end, 10);
    if (errno || end == s)
        return -1;
    uint64_t mult = 1;
    switch (*end) {
    case '\0': break;
    case 'k': case 'K': mult = 1ULL << 10; end++; break;
    case 'm': case 'M': mult = 1ULL << 20; end++; break;
    case 'g': case 'G': mult = 1ULL << 30; end++; break;
    case 't': case 'T': mult = 1ULL << 40; end++; break;
    case 'b': case 'B': break;
    default: return -1;
    }
    if (mult != 1 && (*end == 'i' || *end == 'I'))
        end++;
    if (*end == 'b' || *end == 'B')
        end++;
    if (*end)
        return -1;
    if (v > UINT64_MAX / mult)
        return -1;
    *out = (uint64_t)v * mult;
    return 0;
}

/* Parse a non-negative decimal number of seconds (fractions allowed). */
static inline int wl_parse_seconds(const char *s, double *out)
{
    if (!s || !*s || *s == '-' || *s == '+')
        return -1;
    errno = 0;
    char *end = NULL;
    double v = strtod(s, &end);
    if (errno || end == s || *end || !(v >= 0.0) || v > 1e9)
        return -1;
    *out = v;
    return 0;
}

static inline uint64_t wl_opt_u64(int argc, char **argv, int *i, uint64_t min)
{
    const char *opt = argv[*i];
    const char *v = wl_optarg(argc, argv, i);
    uint64_t r;
    if (wl_parse_u64(v, &r) || r < min)
        wl_usage_error("invalid value for %s: '%s' (integer >= %llu expected)",
                       opt, v, (unsigned long long)min);
    return r;
}

static inline uint64_t wl_opt_size(int argc, char **argv, int *i, uint64_t min)
{
    const char *opt = argv[*i];
    const char *v = wl_optarg(argc, argv, i);
    uint64_t r;
    if (wl_parse_size(v, &r) || r < min)
        wl_usage_error("invalid size for %s: '%s' (bytes or K/M/G suffix, >= %llu)",
                       opt, v, (unsigned long long)min);
    return r;
}

static inline double wl_opt_seconds(int argc, char **argv, int *i)
{
    const char *opt = argv[*i];
    const char *v = wl_optarg(argc, argv, i);
    double r;
    if (wl_parse_seconds(v, &r))
        wl_usage_error("invalid seconds for %s: '%s'", opt, v);
    return r;
}

static inline int64_t wl_ts_ns(const struct timespec *ts)
{
    return (int64_t)ts->tv_sec * 1000000000LL + ts->tv_nsec;
}

static inline int64_t wl_clock_ns(clockid_t clk)
{
    struct timespec ts;
    clock_gettime(clk, &ts);
    return wl_ts_ns(&ts);
}

static inline int64_t wl_now_ns(void) { return wl_clock_ns(CLOCK_MONOTONIC); }

static inline struct timespec wl_ns_to_ts(int64_t ns)
{
    struct timespec ts;
    ts.tv_sec = (time_t)(ns / 1000000000LL);
    ts.tv_nsec = (long)(ns % 1000000000LL);
    return ts;
}

/* Set by SIGTERM/SIGINT/SIGHUP once wl_install_stop_handler() was called. */
static volatile sig_atomic_t wl_stop __attribute__((unused)) = 0;

static void __attribute__((unused)) wl_on_stop_signal(int sig)
{
    wl_stop = sig;
}

/* SIGTERM/SIGINT/SIGHUP set wl_stop (no SA_RESTART: blocking calls get EINTR). */
static inline void wl_install_stop_handler(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = wl_on_stop_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGHUP, &sa, NULL);
}

/* Sleep until the absolute CLOCK_MONOTONIC time dl_ns; returns early (-1)
 * if wl_stop gets set by a signal, 0 otherwise. */
static inline int wl_sleep_until_ns(int64_t dl_ns)
{
    struct timespec dl = wl_ns_to_ts(dl_ns);
    while (!wl_stop) {
        int rc = clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &dl, NULL);
        if (rc == 0)
            return 0;
        if (rc != EINTR)
            return 0;
    }
    return -1;
}

/* Sleep for ns nanoseconds (see wl_sleep_until_ns). */
static inline int wl_sleep_ns(int64_t ns)
{
    if (ns <= 0)
        return wl_stop ? -1 : 0;
    return wl_sleep_until_ns(wl_now_ns() + ns);
}

/* Sleep for S seconds; S < 0 means forever. Returns early on wl_stop. */
static inline void wl_hold(double seconds)
{
    if (seconds < 0) {
        while (!wl_stop)
            wl_sleep_ns(3600LL * 1000000000LL);
        return;
    }
    wl_sleep_ns((int64_t)(seconds * 1e9));
}

#endif
