/* fork_hog: fork N idle children (for pids.max tests), report each fork,
 * then hold while the children live.
 *
 * Output (stdout, one flushed line each):
 *   forked n=<i> pid=<pid>
 *   fork_failed n=<i> errno=<n> err=<NAME>
 *   summary forked=<X> failed=<Y>
 * Exit status: 0 if all N forks succeeded, 1 if any failed.
 */
#define _GNU_SOURCE
#include "wl_common.h"

#include <stdbool.h>
#include <sys/prctl.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

static void usage(FILE *f)
{
    fputs(
        "usage: fork_hog --count N [--hold-seconds S] [--sleep]\n"
        "\n"
        "  --count N          fork N children (required, N >= 1); a failed fork is\n"
        "                     reported and the remaining forks are still attempted\n"
        "  --hold-seconds S   children exit after S seconds (default: live until\n"
        "                     killed); the parent reaps them, then exits\n"
        "  --sleep            children wait in clock_nanosleep instead of pause()\n"
        "\n"
        "output:\n"
        "  forked n=<i> pid=<pid>                    per successful fork (i from 0)\n"
        "  fork_failed n=<i> errno=<n> err=<NAME>    per failed fork (e.g. EAGAIN)\n"
        "  summary forked=<X> failed=<Y>\n"
        "exit status: 0 if all forked, 1 if any fork failed.\n"
        "SIGTERM/SIGINT to the parent are forwarded to the children.\n",
        f);
}

static void child_main(double hold, bool use_sleep)
{
    if (hold >= 0) {
        wl_hold(hold);
    } else if (use_sleep) {
        wl_hold(-1);
    } else {
        while (!wl_stop)
            pause();
    }
    _exit(0);
}

int main(int argc, char **argv)
{
    wl_init("fork_hog");
    uint64_t count = 0;
    double hold = -1;
    bool have_count = false, use_sleep = false;

    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
            usage(stdout);
            return 0;
        } else if (!strcmp(a, "--count")) {
            count = wl_opt_u64(argc, argv, &i, 1);
            if (count > 10000000)
                wl_usage_error("--count must be <= 10000000");
            have_count = true;
        } else if (!strcmp(a, "--hold-seconds")) {
            hold = wl_opt_seconds(argc, argv, &i);
        } else if (!strcmp(a, "--sleep")) {
            use_sleep = true;
        } else {
            wl_usage_error("unknown argument '%s'", a);
        }
    }
    if (!have_count)
        wl_usage_error("--count N is required");

    wl_install_stop_handler();

    pid_t parent = getpid();
    pid_t *pids = calloc((size_t)count, sizeof *pids);
    if (!pids)
        wl_die_errno("calloc");
    uint64_t forked = 0, failed = 0;

    for (uint64_t i = 0; i < count && !wl_stop; i++) {
        pid_t pid = fork();
        if (pid == 0) {
            prctl(PR_SET_PDEATHSIG, SIGKILL);
            if (getppid() != parent)
                _exit(1);
            child_main(hold, use_sleep);
        }
        if (pid < 0) {
            int e = errno;
            printf("fork_failed n=%llu errno=%d err=%s\n",
                   (unsigned long long)i, e, strerrorname_np(e));
            failed++;
            continue;
        }
        pids[i] = pid;
        forked++;
        printf("forked n=%llu pid=%ld\n", (unsigned long long)i, (long)pid);
    }
    if (wl_stop)
        failed += count - forked - failed; /* interrupted: unattempted = failed */
    printf("summary forked=%llu failed=%llu\n",
           (unsigned long long)forked, (unsigned long long)failed);

    /* Hold: wait for the children; forward a stop signal once. */
    bool forwarded = false;
    uint64_t alive = forked;
    while (alive > 0) {
        if (wl_stop && !forwarded) {
            for (uint64_t i = 0; i < count; i++)
                if (pids[i] > 0)
                    kill(pids[i], SIGTERM);
            forwarded = true;
        }
        pid_t w = waitpid(-1, NULL, 0);
        if (w < 0) {
            if (errno == EINTR)
                continue;
            break;
        }
        for (uint64_t i = 0; i < count; i++) {
            if (pids[i] == w) {
                pids[i] = 0;
                alive--;
                break;
            }
        }
    }
    free(pids);
    return failed ? 1 : 0;
}
