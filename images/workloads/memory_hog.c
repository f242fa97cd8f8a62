/* memory_hog: allocate anonymous memory in steps, touch every page, report RSS,
 * then hold it. With --children N the parent forks N children that each do
 * the allocation (parent allocates nothing and waits for them).
 *
 * Output (stdout, one flushed line each; " child=<i>" appended in children):
 *   rss bytes=<RSS bytes> target=<SIZE> allocated=<bytes touched so far>
 *   reached bytes=<RSS bytes> target=<SIZE> allocated=<SIZE>
 *   alloc_failed bytes=<allocated so far> errno=<n> err=<name>  (exit 1)
 * Parent with --children:
 *   child_started child=<i> pid=<pid>
 *   child_exit child=<i> pid=<pid> status=<exit code|-1> signal=<signo|0>
 */
#define _GNU_SOURCE
#include "wl_common.h"

#include <stdbool.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#define DEFAULT_STEP (16ull << 20)

static int child_idx = -1;
static char child_tag[32] = "";

static void usage(FILE *f)
{
    fputs(
        "usage: memory_hog --size SIZE [--rate SIZE_PER_SEC] [--step SIZE]\n"
        "                  [--hold-seconds S] [--children N]\n"
        "\n"
        "  --size SIZE        total anonymous memory to allocate and touch (required)\n"
        "  --step SIZE        allocate (mmap) and touch this much per step\n"
        "                     (default 16M, or rate/10 when --rate is given)\n"
        "  --rate SIZE        limit allocation speed to SIZE bytes per second\n"
        "  --hold-seconds S   after reaching SIZE sleep S seconds, then exit 0\n"
        "                     (default: hold until killed; 0 = exit at once)\n"
        "  --children N       fork N children that each allocate SIZE; the parent\n"
        "                     allocates nothing and waits for all of them\n"
        "\n"
        "SIZE: bytes, or K/M/G suffix (binary: 1M = 1048576). RSS is read from\n"
        "/proc/self/statm.\n"
        "\n"
        "output (children append ' child=<i>'):\n"
        "  rss bytes=<rss> target=<SIZE> allocated=<bytes>   after each step\n"
        "  reached bytes=<rss> target=<SIZE> allocated=<bytes>\n"
        "  alloc_failed bytes=<allocated> errno=<n> err=<NAME>   (exit 1)\n"
        "parent with --children:\n"
        "  child_started child=<i> pid=<pid>\n"
        "  child_exit child=<i> pid=<pid> status=<code|-1> signal=<signo|0>\n"
        "  exit status 0 if every child exited 0, else 1\n",
        f);
}

static long page_size;

static uint64_t read_rss(void)
{
    FILE *f = fopen("/proc/self/statm", "re");
    if (!f)
        return 0;
    unsigned long long size = 0, res = 0;
    int n = fscanf(f, "%llu %llu", &size, &res);
    fclose(f);
    return n == 2 ? (uint64_t)res * (uint64_t)page_size : 0;
}

static int allocate(uint64_t size, uint64_t step, uint64_t rate, double hold)
{
    const int64_t start = wl_now_ns();
    uint64_t allocated = 0;
    uint64_t pattern = 0x9e3779b97f4a7c15ULL ^ (uint64_t)getpid();

    while (allocated < size && !wl_stop) {
        uint64_t n = size - allocated < step ? size - allocated : step;
        void *p = mmap(NULL, (size_t)n, PROT_READ | PROT_WRITE,
                       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        if (p == MAP_FAILED) {
            int e = errno;
            printf("alloc_failed bytes=%llu errno=%d err=%s%s\n",
                   (unsigned long long)allocated, e, strerrorname_np(e), child_tag);
            return 1;
        }
        /* Touch every page with a distinct value (no zero page / KSM merge). */
        for (uint64_t off = 0; off < n; off += (uint64_t)page_size) {
            pattern = pattern * 6364136223846793005ULL + 1442695040888963407ULL;
            *(volatile uint64_t *)((char *)p + off) = pattern;
        }
        allocated += n;
        printf("rss bytes=%llu target=%llu allocated=%llu%s\n",
               (unsigned long long)read_rss(), (unsigned long long)size,
               (unsigned long long)allocated, child_tag);
        if (rate && allocated < size)
            wl_sleep_until_ns(start + (int64_t)((double)allocated / (double)rate * 1e9));
    }
    if (wl_stop)
        return 0;
    printf("reached bytes=%llu target=%llu allocated=%llu%s\n",
           (unsigned long long)read_rss(), (unsigned long long)size,
           (unsigned long long)allocated, child_tag);
    wl_hold(hold);
    return 0;
}

int main(int argc, char **argv)
{
    wl_init("memory_hog");
    page_size = sysconf(_SC_PAGESIZE);
    if (page_size <= 0)
        page_size = 4096;

    uint64_t size = 0, rate = 0, step = 0, children = 0;
    double hold = -1;
    bool have_size = false;

    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
            usage(stdout);
            return 0;
        } else if (!strcmp(a, "--size")) {
            size = wl_opt_size(argc, argv, &i, 1);
            have_size = true;
        } else if (!strcmp(a, "--rate")) {
            rate = wl_opt_size(argc, argv, &i, 1);
        } else if (!strcmp(a, "--step")) {
            step = wl_opt_size(argc, argv, &i, 1);
        } else if (!strcmp(a, "--hold-seconds")) {
            hold = wl_opt_seconds(argc, argv, &i);
        } else if (!strcmp(a, "--children")) {
            children = wl_opt_u64(argc, argv, &i, 1);
            if (children > 100000)
                wl_usage_error("--children must be <= 100000");
        } else {
            wl_usage_error("unknown argument '%s'", a);
        }
    }
    if (!have_size)
        wl_usage_error("--size SIZE is required");
    if (!step) {
        step = rate ? rate / 10 : DEFAULT_STEP;
        if (step > DEFAULT_STEP * 4)
            step = DEFAULT_STEP * 4;
    }
    /* Round the step up to whole pages. */
    step = (step + (uint64_t)page_size - 1) / (uint64_t)page_size * (uint64_t)page_size;
    if (step > size)
        step = size;

    wl_install_stop_handler();

    if (!children)
        return allocate(size, step, rate, hold);

    pid_t *pids = calloc((size_t)children, sizeof *pids);
    if (!pids)
        wl_die_errno("calloc");
    pid_t parent = getpid();
    uint64_t started = 0;
    int rc = 0;
    for (uint64_t i = 0; i < children; i++) {
        pid_t pid = fork();
        if (pid == 0) {
            prctl(PR_SET_PDEATHSIG, SIGKILL);
            if (getppid() != parent)
                _exit(1);
            child_idx = (int)i;
            snprintf(child_tag, sizeof child_tag, " child=%d", child_idx);
            free(pids);
            fflush(stdout);
            _exit(allocate(size, step, rate, hold));
        }
        if (pid < 0) {
            int e = errno;
            printf("fork_failed child=%llu errno=%d err=%s\n",
                   (unsigned long long)i, e, strerrorname_np(e));
            rc = 1;
            continue;
        }
        pids[i] = pid;
        started++;
        printf("child_started child=%llu pid=%ld\n", (unsigned long long)i, (long)pid);
    }

    bool forwarded = false;
    while (started > 0) {
        if (wl_stop && !forwarded) {
            for (uint64_t i = 0; i < children; i++)
                if (pids[i] > 0)
                    kill(pids[i], SIGTERM);
            forwarded = true;
        }
        int st;
        pid_t w = waitpid(-1, &st, 0);
        if (w < 0) {
            if (errno == EINTR)
                continue;
            break;
        }
        for (uint64_t i = 0; i < children; i++) {
            if (pids[i] != w)
                continue;
            int code = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
            int sig = WIFSIGNALED(st) ? WTERMSIG(st) : 0;
            printf("child_exit child=%llu pid=%ld status=%d signal=%d\n",
                   (unsigned long long)i, (long)w, code, sig);
            if (code != 0)
                rc = 1;
            pids[i] = 0;
            started--;
            break;
        }
    }
    free(pids);
    return rc;
}
