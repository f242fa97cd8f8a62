#include "shim/launch.hpp"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/signalfd.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <vector>

#include "common/error.hpp"
#include "common/file.hpp"
#include "common/parse.hpp"
#include "linux/process.hpp"

namespace minirt {

namespace {

constexpr int kShimReportFd = 3;
constexpr int kShimLockFd = 4;

// The shim binary, installed beside ours (build/runtime/, /usr/local/bin/).
std::string shim_executable() {
    char buf[4096];
    ssize_t n = ::readlink("/proc/self/exe", buf, sizeof buf - 1);
    if (n <= 0) throw_errno("readlink /proc/self/exe");
    std::string path(buf, static_cast<size_t>(n));
    path.erase(path.rfind('/') + 1);
    path += "minirt-shim";
    if (::access(path.c_str(), X_OK) < 0)
        throw Error("cannot start the container's shim: " + path + ": " + std::strerror(errno) +
                    " (minirt-shim must be installed beside minirt)");
    return path;
}

// Runs in the forked child: detaches, arranges the descriptors minirt-shim
// expects (see shim_main.cpp) and execs it. Its argv is built before the
// fork, so nothing here allocates.
[[noreturn]] void become_shim(const char* shim, char* const* argv, int report_w, int lock_fd,
                              LaunchMode mode) noexcept {
    ::setsid();
    pid_t pid = ::fork();
    if (pid != 0) _exit(pid < 0 ? 1 : 0);
    // Keep only stdio, the report pipe and the lock: a stray descriptor of
    // the CLI's (another lock, a socket) must not live as long as the shim.
    int r = ::fcntl(report_w, F_DUPFD, 10);
    int l = ::fcntl(lock_fd, F_DUPFD, 10);
    ::dup2(r, kShimReportFd);
    ::dup2(l, kShimLockFd);
    ::close_range(kShimLockFd + 1, ~0U, 0);
    int devnull = ::open("/dev/null", O_RDWR);
    if (!mode.pass_stdin) ::dup2(devnull, 0);
    if (!mode.attached) {
        ::dup2(devnull, 1);
        ::dup2(devnull, 2);
    }
    if (devnull > kShimLockFd) ::close(devnull);
    ::execv(shim, argv);
    int err = errno;
    char msg[512];
    int len = std::snprintf(msg, sizeof msg, "failed 125 exec %s: %s\n", shim, std::strerror(err));
    if (len > 0) write_all_nothrow(kShimReportFd, std::string_view(msg, std::min<size_t>(static_cast<size_t>(len), sizeof msg - 1)));
    _exit(1);
}

}  // namespace

Launched launch_container(const Store& store, const std::string& id, FileLock& lock, LaunchMode mode) {
    std::string shim = shim_executable();
    std::vector<std::string> args{"minirt-shim", store.paths().root.string(), store.paths().storage.string(), id};
    if (mode.attached) args.emplace_back("--attached");
    if (mode.pass_stdin) args.emplace_back("--pass-stdin");
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    Pipe report = make_pipe();
    pid_t mid = ::fork();
    if (mid < 0) throw_errno("fork shim");
    if (mid == 0) become_shim(shim.c_str(), argv.data(), report.write.get(), lock.fd(), mode);
    report.write.reset();
    // The shim's verdict first; the intermediate child (it exits right after
    // forking the shim) is reaped after, off the path to it.
    std::string line = read_line(report.read.get());
    int status;
    while (::waitpid(mid, &status, 0) < 0 && errno == EINTR) {
    }
    if (line.starts_with("started ")) {
        Launched l;
        unsigned long long start = 0;
        std::sscanf(line.c_str(), "started %d %llu", &l.pid, &start);
        l.start = start;
        l.report = std::move(report.read);
        return l;
    }
    if (line.starts_with("failed ")) {
        std::string rest = line.substr(7);
        auto space = rest.find(' ');
        int code = static_cast<int>(parse_int(rest.substr(0, space), "exit code", 1, 255));
        throw Error(space == std::string::npos ? "" : rest.substr(space + 1), code);
    }
    throw Error("the shim of " + id.substr(0, 12) + " died while starting the container");
}

int wait_attached(Launched& launched, const std::string& id) {
    // Signals to us go to the container (Ctrl-C, SIGTERM from a supervisor).
    sigset_t mask;
    sigemptyset(&mask);
    for (int s : {SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2}) sigaddset(&mask, s);
    ::sigprocmask(SIG_BLOCK, &mask, nullptr);
    UniqueFd sigfd(::signalfd(-1, &mask, SFD_CLOEXEC));
    UniqueFd target = open_pidfd(launched.pid, launched.start);
    std::string buf;
    for (;;) {
        pollfd fds[2] = {{launched.report.get(), POLLIN, 0}, {sigfd.get(), POLLIN, 0}};
        if (::poll(fds, 2, -1) < 0) {
            if (errno == EINTR) continue;
            throw_errno("poll");
        }
        if (fds[1].revents & POLLIN) {
            signalfd_siginfo si{};
            if (::read(sigfd.get(), &si, sizeof si) == sizeof si && target)
                signal_pidfd(target.get(), static_cast<int>(si.ssi_signo));
        }
        if (fds[0].revents & (POLLIN | POLLHUP)) {
            std::string line = read_line(launched.report.get());
            if (line.starts_with("exited ")) return static_cast<int>(parse_int(line.substr(7), "exit code", 0, 255));
            throw Error("the shim of " + id.substr(0, 12) + " died; the exit status is unknown");
        }
    }
}

}  // namespace minirt

namespace minirt {

int wait_reported_exit(Launched& launched, const std::string& id) {
    std::string line = read_line(launched.report.get());
    if (line.starts_with("exited ")) return static_cast<int>(parse_int(line.substr(7), "exit code", 0, 255));
    throw Error("the shim of " + id.substr(0, 12) + " died; the exit status is unknown");
}

}  // namespace minirt
