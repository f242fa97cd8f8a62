// minirt-shim: the per-container shim as a program of its own. The CLI spawns
// this beside its own binary, with these descriptors:
//
//   fd 0-2  stdio (the CLI's when attached, else /dev/null)
//   fd 3    the report pipe to the CLI (Started, Failed, Exited: common/protocol.hpp)
//   fd 4    the CLI's lock on the container (shared open file description)
//   fd 5    with --netns: a socket that brings the container's network
//           namespace, loopback up (see NetnsMaker in launch.hpp)
//   argv    minirt-shim ROOT STORAGE ID [--attached] [--pass-stdin] [--netns] [--tty-client]
//           [--restarted=DELAY_MS]
//
// --restarted: the container's shim starts it again after it exited
// (--restart), having waited DELAY_MS; it execs this program with the
// container's lock at fd 4 and no report pipe (nobody waits for a report).
// Its exit status is the container's exit code (as conmon's), so that a
// systemd unit whose main process it is sees the container fail.
//
// It is a separate, statically linked executable rather than a fork of the
// CLI because one shim lives as long as each container: a fork would keep
// the CLI's heap and every library it maps (boost, libarchive and theirs)
// for the container's whole life. Not meant to be run by hand.
#include <fcntl.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

#include "shim/shim.hpp"
#include "state/store.hpp"

namespace {

constexpr int kReportFd = 3;
constexpr int kLockFd = 4;
constexpr int kNetnsFd = 5;

int usage(const char* why) {
    std::fprintf(stderr,
                 "minirt-shim: %s\n"
                 "minirt-shim is started by minirt for each container; it is not meant to be run by hand.\n",
                 why);
    return 125;
}

}  // namespace

int main(int argc, char** argv) {
    if (argc < 4) return usage("missing arguments (ROOT STORAGE ID)");
    minirt::ShimArgs args;
    for (int i = 4; i < argc; ++i) {
        if (std::strncmp(argv[i], "--restarted=", 12) == 0) {
            args.restarted = true;
            args.restart_delay_ms = std::atoi(argv[i] + 12);
        } else if (std::strcmp(argv[i], "--attached") == 0) args.attached = true;
        else if (std::strcmp(argv[i], "--pass-stdin") == 0) args.pass_stdin = true;
        else if (std::strcmp(argv[i], "--netns") == 0) args.netns_fd = kNetnsFd;
        else if (std::strcmp(argv[i], "--tty-client") == 0) args.tty_client = true;
        else return usage((std::string("unknown flag ") + argv[i]).c_str());
    }
    // The CLI resolved --root/--storage and the environment already: the
    // paths arrive absolute and are used as they are.
    minirt::Paths paths;
    paths.root = argv[1];
    paths.storage = argv[2];
    const minirt::Store store(paths);
    args.store = &store;
    args.id = argv[3];
    if ((!args.restarted && ::fcntl(kReportFd, F_GETFD) < 0) || ::fcntl(kLockFd, F_GETFD) < 0)
        return usage("no report pipe (fd 3) or container lock (fd 4)");
    args.report_fd = args.restarted ? -1 : kReportFd;
    args.lock_fd = kLockFd;
    if (args.netns_fd >= 0 && ::fcntl(args.netns_fd, F_SETFD, FD_CLOEXEC) < 0)
        return usage("--netns without its socket (fd 5)");
    minirt::run_shim(args);
}
