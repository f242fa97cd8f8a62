/* cpu_hog: pure CPU loop that counts units of work.
 *
 * One unit of work = CPU_HOG_UNIT_ITERS iterations of an integer hash whose
 * result feeds a volatile sink, so the compiler cannot drop or fold it.
 * Output (stdout, one flushed line each):
 *   tick t_ms=<ms since start> work=<units so far> rate=<units/s over last interval>
 *   total work=<units> elapsed_ms=<wall ms> cpu_ms=<process CPU ms> rate=<units/s overall>
 */
#define _GNU_SOURCE
#include "wl_common.h"

#include <pthread.h>
#include <stdbool.h>

#define CPU_HOG_UNIT_ITERS 1000000u

static volatile uint64_t sink;
static volatile uint64_t seed = 0x9e3779b97f4a7c15ULL;

static void usage(FILE *f)
{
    fprintf(f,
        "usage: cpu_hog [--seconds S | --work N] [--report-ms MS] [--threads N]\n"
        "\n"
        "Burn CPU in a tight loop, counting units of work (1 unit = %u\n"
        "iterations of an integer hash).\n"
        "\n"
        "  --seconds S     stop after S seconds of wall time (fractions allowed)\n"
        "  --work N        stop after N units of work (N >= 1)\n"
        "                  (neither: run until SIGTERM/SIGINT)\n"
        "  --report-ms MS  print a tick line every MS ms (default 1000, 0 = off)\n"
        "  --threads N     burn N CPUs: N-1 more threads run the same loop, uncounted,\n"
        "                  until the process exits (all its threads end together)\n"
        "  --help          show this help\n"
        "\n"
        "output:\n"
        "  tick t_ms=<ms> work=<units> rate=<units/s in last interval>\n"
        "  total work=<units> elapsed_ms=<ms> cpu_ms=<ms> rate=<units/s>\n",
        CPU_HOG_UNIT_ITERS);
}

/* One unit of work: splitmix64-style mixing, serially dependent. */
static uint64_t do_unit(uint64_t x)
{
    for (uint32_t i = 0; i < CPU_HOG_UNIT_ITERS; i++) {
        x += 0x9e3779b97f4a7c15ULL;
        uint64_t z = x;
        z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
        z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
        x ^= z ^ (z >> 31);
    }
    return x;
}

static void *burn(void *arg)
{
    uint64_t x = (uint64_t)(uintptr_t)arg;

    for (;;)
        x = do_unit(x);
    return NULL;
}

int main(int argc, char **argv)
{
    wl_init("cpu_hog");
    double seconds = -1;
    uint64_t work_limit = 0;
    uint64_t report_ms = 1000;
    uint64_t threads = 1;
    bool have_seconds = false, have_work = false;

    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
            usage(stdout);
            return 0;
        } else if (!strcmp(a, "--seconds")) {
            seconds = wl_opt_seconds(argc, argv, &i);
            have_seconds = true;
        } else if (!strcmp(a, "--work")) {
            work_limit = wl_opt_u64(argc, argv, &i, 1);
            have_work = true;
        } else if (!strcmp(a, "--report-ms")) {
            report_ms = wl_opt_u64(argc, argv, &i, 0);
        } else if (!strcmp(a, "--threads")) {
            threads = wl_opt_u64(argc, argv, &i, 1);
            if (threads > 1024)
                wl_usage_error("--threads: at most 1024");
        } else {
            wl_usage_error("unknown argument '%s'", a);
        }
    }
    if (have_seconds && have_work)
        wl_usage_error("--seconds and --work are mutually exclusive");

    wl_install_stop_handler();
    for (uint64_t t = 1; t < threads; t++) {
        pthread_t id;
        int err = pthread_create(&id, NULL, burn, (void *)(uintptr_t)t);
        if (err) {
            fprintf(stderr, "cpu_hog: pthread_create: %s\n", strerror(err));
            return 1;
        }
    }

    const int64_t start = wl_now_ns();
    const int64_t cpu_start = wl_clock_ns(CLOCK_PROCESS_CPUTIME_ID);
    const int64_t report_ns = (int64_t)report_ms * 1000000LL;
    const int64_t end = have_seconds ? start + (int64_t)(seconds * 1e9) : INT64_MAX;
    int64_t next_tick = report_ns > 0 ? start + report_ns : INT64_MAX;
    int64_t last_tick_t = start;
    uint64_t last_tick_work = 0;
    uint64_t work = 0;
    uint64_t x = seed;

    for (;;) {
        int64_t now = wl_now_ns();
        if (now >= next_tick) {
            int64_t dt = now - last_tick_t;
            uint64_t dw = work - last_tick_work;
            uint64_t rate = dt > 0 ? (uint64_t)((double)dw * 1e9 / (double)dt) : 0;
            printf("tick t_ms=%lld work=%llu rate=%llu\n",
                   (long long)((now - start) / 1000000LL),
                   (unsigned long long)work, (unsigned long long)rate);
            last_tick_t = now;
            last_tick_work = work;
            /* Stay on the start + k*MS grid; after a freeze skip missed ticks. */
            while (next_tick <= now)
                next_tick += report_ns;
        }
        if (wl_stop || now >= end || (have_work && work >= work_limit))
            break;
        x = do_unit(x);
        sink = x;
        work++;
    }

    int64_t elapsed = wl_now_ns() - start;
    int64_t cpu = wl_clock_ns(CLOCK_PROCESS_CPUTIME_ID) - cpu_start;
    uint64_t rate = elapsed > 0 ? (uint64_t)((double)work * 1e9 / (double)elapsed) : 0;
    printf("total work=%llu elapsed_ms=%lld cpu_ms=%lld rate=%llu\n",
           (unsigned long long)work, (long long)(elapsed / 1000000LL),
           (long long)(cpu / 1000000LL), (unsigned long long)rate);
    return 0;
}
