/* io_hog: I/O-bound workload with wake-up latency measurement, plus a
 * one-shot write mode for I/O throttling tests.
 *
 * Latency modes (stdout, one flushed line):
 *   latency_us p50=<us> p90=<us> p99=<us> max=<us> samples=<N>
 *   sleep: per period, busy-spin B us, then clock_nanosleep(TIMER_ABSTIME) to
 *          the next deadline (start + k*P ms); latency = wake time - deadline.
 *   fsync: per period, pwrite one block (--bytes) to --file and fsync it;
 *          latency = duration of pwrite+fsync. P = 0 runs back to back.
 * Write mode:
 *   write bytes=<N> elapsed_ms=<ms> rate_kib_s=<KiB/s>
 */
#define _GNU_SOURCE
#include "wl_common.h"

#include <fcntl.h>
#include <stdbool.h>
#include <sys/stat.h>
#include <unistd.h>

#define ALIGN 4096u
#define MAX_BLOCK (1u << 20)
#define FSYNC_WRAP (64ull << 20) /* fsync mode rewrites the first 64 MiB */

static void usage(FILE *f)
{
    fputs(
        "usage: io_hog [--seconds S] [--period-ms P] [--burst-us B]\n"
        "              [--mode sleep|fsync] [--file PATH] [--bytes SIZE] [--direct]\n"
        "       io_hog --write PATH --bytes SIZE [--direct] [--block SIZE] [--unlink]\n"
        "\n"
        "latency modes (run for --seconds, default 10):\n"
        "  --mode sleep    (default) each period: busy-spin --burst-us B (default 500),\n"
        "                  then sleep to the absolute deadline start + k*P;\n"
        "                  latency = actual wake-up time - deadline\n"
        "  --mode fsync    each period: pwrite a block of --bytes (default 4K) to\n"
        "                  --file and fsync it; latency = pwrite+fsync duration\n"
        "                  (--period-ms 0 = back to back)\n"
        "  --period-ms P   period in ms (default 10)\n"
        "  --file PATH     fsync mode file (default /tmp/io_hog.<pid>, removed at\n"
        "                  exit); a given PATH is created/truncated and kept\n"
        "  --direct        open with O_DIRECT (SIZE must be a multiple of 4096)\n"
        "  output: latency_us p50=<us> p90=<us> p99=<us> max=<us> samples=<N>\n"
        "\n"
        "write mode:\n"
        "  --write PATH    create/truncate PATH, write --bytes SIZE in blocks of\n"
        "                  --block (default 1M, multiple of 4096, <= 1M) from a\n"
        "                  4 KiB-aligned buffer, fsync, close\n"
        "  --unlink        remove PATH afterwards\n"
        "  output: write bytes=<N> elapsed_ms=<ms> rate_kib_s=<KiB/s>\n"
        "          (elapsed includes open, writes, fsync and close)\n"
        "\n"
        "SIZE: bytes, or K/M/G suffix (binary: 1M = 1048576).\n"
        "SIGTERM/SIGINT end a latency run early and still print the summary.\n",
        f);
}

static void *alloc_buf(size_t n)
{
    void *p = NULL;
    size_t sz = (n + ALIGN - 1) / ALIGN * ALIGN;
    if (posix_memalign(&p, ALIGN, sz ? sz : ALIGN))
        wl_die_errno("posix_memalign");
    /* Non-zero, non-repeating-ish pattern (defeat zero/dedup detection). */
    uint64_t x = 0x243f6a8885a308d3ULL ^ (uint64_t)getpid();
    for (size_t i = 0; i + 8 <= sz; i += 8) {
        x ^= x << 13; x ^= x >> 7; x ^= x << 17;
        memcpy((char *)p + i, &x, 8);
    }
    return p;
}

static int open_out(const char *path, bool direct)
{
    int flags = O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC;
    if (direct)
        flags |= O_DIRECT;
    int fd = open(path, flags, 0644);
    if (fd < 0) {
        fprintf(stderr, "io_hog: open %s%s: %s\n", path,
                direct ? " (O_DIRECT)" : "", strerror(errno));
        exit(1);
    }
    return fd;
}

static void write_full(int fd, const char *buf, size_t n, uint64_t off)
{
    size_t done = 0;
    while (done < n) {
        ssize_t w = pwrite(fd, buf + done, n - done, (off_t)(off + done));
        if (w < 0) {
            if (errno == EINTR)
                continue;
            wl_die_errno("write");
        }
        if (w == 0) {
            errno = EIO;
            wl_die_errno("write");
        }
        done += (size_t)w;
    }
}

static int run_write(const char *path, uint64_t bytes, uint64_t block, bool direct,
                     bool do_unlink)
{
    char *buf = alloc_buf((size_t)block);
    int64_t t0 = wl_now_ns();
    int fd = open_out(path, direct);
    uint64_t off = 0;
    while (off < bytes) {
        uint64_t n = bytes - off < block ? bytes - off : block;
        write_full(fd, buf, (size_t)n, off);
        off += n;
    }
    if (fsync(fd))
        wl_die_errno("fsync");
    if (close(fd))
        wl_die_errno("close");
    int64_t el = wl_now_ns() - t0;
    if (do_unlink && unlink(path))
        wl_die_errno("unlink");
    uint64_t rate = el > 0 ? (uint64_t)((double)bytes / 1024.0 * 1e9 / (double)el) : 0;
    printf("write bytes=%llu elapsed_ms=%lld rate_kib_s=%llu\n",
           (unsigned long long)bytes, (long long)(el / 1000000LL),
           (unsigned long long)rate);
    free(buf);
    return 0;
}

/* Growable array of latency samples in ns. */
static int64_t *samples;
static size_t nsamples, capsamples;

static void add_sample(int64_t ns)
{
    if (nsamples == capsamples) {
        capsamples = capsamples ? capsamples * 2 : 4096;
        int64_t *p = realloc(samples, capsamples * sizeof *samples);
        if (!p)
            wl_die_errno("realloc");
        samples = p;
    }
    samples[nsamples++] = ns < 0 ? 0 : ns;
}

static int cmp_i64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

/* Nearest-rank percentile, in microseconds. */
static long long pct_us(double p)
{
    if (!nsamples)
        return 0;
    size_t rank = (size_t)(p / 100.0 * (double)nsamples + 0.999999);
    if (rank < 1)
        rank = 1;
    if (rank > nsamples)
        rank = nsamples;
    return (long long)(samples[rank - 1] / 1000);
}

static void print_latency(void)
{
    qsort(samples, nsamples, sizeof *samples, cmp_i64);
    printf("latency_us p50=%lld p90=%lld p99=%lld max=%lld samples=%zu\n",
           pct_us(50), pct_us(90), pct_us(99),
           nsamples ? (long long)(samples[nsamples - 1] / 1000) : 0LL, nsamples);
}

static void busy_us(uint64_t us)
{
    int64_t end = wl_now_ns() + (int64_t)us * 1000;
    while (wl_now_ns() < end && !wl_stop)
        ;
}

int main(int argc, char **argv)
{
    wl_init("io_hog");
    double seconds = 10;
    uint64_t period_ms = 10, burst_us = 500;
    uint64_t bytes = 0, block = MAX_BLOCK;
    bool have_bytes = false, have_block = false, direct = false, do_unlink = false;
    bool have_latency_opt = false;
    const char *mode = "sleep";
    const char *file = NULL, *write_path = NULL;

    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
            usage(stdout);
            return 0;
        } else if (!strcmp(a, "--seconds")) {
            seconds = wl_opt_seconds(argc, argv, &i);
            have_latency_opt = true;
        } else if (!strcmp(a, "--period-ms")) {
            period_ms = wl_opt_u64(argc, argv, &i, 0);
            have_latency_opt = true;
        } else if (!strcmp(a, "--burst-us")) {
            burst_us = wl_opt_u64(argc, argv, &i, 0);
            have_latency_opt = true;
        } else if (!strcmp(a, "--mode")) {
            mode = wl_optarg(argc, argv, &i);
            if (strcmp(mode, "sleep") && strcmp(mode, "fsync"))
                wl_usage_error("invalid --mode '%s' (sleep or fsync)", mode);
            have_latency_opt = true;
        } else if (!strcmp(a, "--file")) {
            file = wl_optarg(argc, argv, &i);
            have_latency_opt = true;
        } else if (!strcmp(a, "--bytes")) {
            bytes = wl_opt_size(argc, argv, &i, 1);
            have_bytes = true;
        } else if (!strcmp(a, "--block")) {
            block = wl_opt_size(argc, argv, &i, ALIGN);
            have_block = true;
        } else if (!strcmp(a, "--direct")) {
            direct = true;
        } else if (!strcmp(a, "--unlink")) {
            do_unlink = true;
        } else if (!strcmp(a, "--write")) {
            write_path = wl_optarg(argc, argv, &i);
            if (!*write_path)
                wl_usage_error("--write needs a non-empty PATH");
        } else {
            wl_usage_error("unknown argument '%s'", a);
        }
    }

    if (write_path) {
        if (have_latency_opt)
            wl_usage_error("--write cannot be combined with latency-mode options");
        if (!have_bytes)
            wl_usage_error("--write requires --bytes SIZE");
        if (block % ALIGN || block > MAX_BLOCK)
            wl_usage_error("--block must be a multiple of 4096 and <= 1M");
        if (direct && bytes % ALIGN)
            wl_usage_error("--direct requires --bytes to be a multiple of 4096");
        return run_write(write_path, bytes, block, direct, do_unlink);
    }
    if (have_block || do_unlink)
        wl_usage_error("--block/--unlink are only valid with --write");

    bool fsync_mode = !strcmp(mode, "fsync");
    if (!fsync_mode && (file || have_bytes || direct))
        wl_usage_error("--file/--bytes/--direct need --mode fsync (or --write)");
    if (!fsync_mode && period_ms == 0)
        wl_usage_error("--period-ms must be >= 1 in sleep mode");
    if (!fsync_mode && burst_us >= period_ms * 1000)
        fprintf(stderr, "io_hog: warning: burst (%llu us) >= period (%llu ms); "
                "every deadline will be missed\n",
                (unsigned long long)burst_us, (unsigned long long)period_ms);
    if (!have_bytes)
        bytes = 4096;
    if (fsync_mode && direct && bytes % ALIGN)
        wl_usage_error("--direct requires --bytes to be a multiple of 4096");
    if (fsync_mode && bytes > FSYNC_WRAP)
        wl_usage_error("--bytes must be <= 64M in fsync mode");

    wl_install_stop_handler();

    char defpath[64];
    bool remove_file = false;
    int fd = -1;
    char *buf = NULL;
    if (fsync_mode) {
        if (!file) {
            snprintf(defpath, sizeof defpath, "/tmp/io_hog.%ld", (long)getpid());
            file = defpath;
            remove_file = true;
        }
        fd = open_out(file, direct);
        buf = alloc_buf((size_t)bytes);
    }

    const int64_t period_ns = (int64_t)period_ms * 1000000LL;
    const int64_t start = wl_now_ns();
    const int64_t end = start + (int64_t)(seconds * 1e9);
    int64_t deadline = start;
    uint64_t off = 0;

    while (!wl_stop) {
        if (fsync_mode) {
            if (wl_now_ns() >= end)
                break;
            int64_t t0 = wl_now_ns();
            write_full(fd, buf, (size_t)bytes, off);
            if (fsync(fd))
                wl_die_errno("fsync");
            add_sample(wl_now_ns() - t0);
            off += bytes;
            if (off + bytes > FSYNC_WRAP)
                off = 0;
            if (period_ns > 0) {
                deadline += period_ns;
                if (deadline >= end)
                    break;
                wl_sleep_until_ns(deadline);
            }
        } else {
            busy_us(burst_us);
            deadline += period_ns;
            if (deadline > end)
                break;
            if (wl_sleep_until_ns(deadline))
                break;
            add_sample(wl_now_ns() - deadline);
        }
    }

    if (fd >= 0)
        close(fd);
    if (remove_file)
        unlink(file);
    print_latency();
    free(buf);
    free(samples);
    return 0;
}
