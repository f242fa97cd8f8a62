#include "linux/process.hpp"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <string>

#include "common/error.hpp"
#include "common/parse.hpp"
#include "common/file.hpp"

namespace minirt {

namespace {

struct ProcStat {
    char state;
    pid_t ppid;
    uint64_t start;
};

// Reads /proc/PID/stat: state (field 3), parent (4), start time (22).
std::optional<ProcStat> read_stat(pid_t pid) {
    char path[64];
    std::snprintf(path, sizeof path, "/proc/%d/stat", pid);
    UniqueFd fd(::open(path, O_RDONLY | O_CLOEXEC));
    if (!fd) return std::nullopt;
    char buf[1024];
    ssize_t n = ::read(fd.get(), buf, sizeof buf - 1);
    if (n <= 0) return std::nullopt;
    buf[n] = '\0';
    // The command name (field 2) may contain spaces and parentheses: parse
    // from the last ')'.
    char* p = std::strrchr(buf, ')');
    if (!p || p[1] != ' ') return std::nullopt;
    p += 2;  // now at field 3 (state)
    ProcStat st{};
    st.state = *p;
    // Skip fields 3..21 to reach field 22 (starttime).
    for (int field = 3; field < 22; ++field) {
        p = std::strchr(p, ' ');
        if (!p) return std::nullopt;
        ++p;
        if (field == 3) st.ppid = static_cast<pid_t>(std::strtol(p, nullptr, 10));
    }
    st.start = static_cast<uint64_t>(std::strtoull(p, nullptr, 10));
    return st;
}

}  // namespace

std::optional<uint64_t> process_start_time(pid_t pid) {
    if (pid <= 0) return std::nullopt;
    auto st = read_stat(pid);
    if (!st) return std::nullopt;
    return st->start;
}

bool process_alive(pid_t pid, uint64_t start, pid_t& ppid) {
    if (pid <= 0) return false;
    auto st = read_stat(pid);
    if (!st || st->start != start || st->state == 'Z' || st->state == 'X') return false;
    ppid = st->ppid;
    return true;
}

bool process_alive(pid_t pid, uint64_t start) {
    pid_t ppid;
    return process_alive(pid, start, ppid);
}

void set_autogroup_nice(int nice) {
    UniqueFd fd(::open("/proc/self/autogroup", O_WRONLY | O_CLOEXEC));
    if (!fd) {
        if (errno == ENOENT) return;  // CONFIG_SCHED_AUTOGROUP off
        throw_errno("--nice: open /proc/self/autogroup");
    }
    if (!write_all_nothrow(fd.get(), std::to_string(nice))) throw_errno("--nice: set the autogroup's nice");
}

int64_t start_time_ns(uint64_t ticks) {
    static const int64_t boot_s = [] {
        auto text = read_file_if_exists("/proc/stat");
        auto at = text ? text->find("\nbtime ") : std::string::npos;
        return at == std::string::npos ? int64_t{0} : std::atoll(text->c_str() + at + 7);
    }();
    long hz = ::sysconf(_SC_CLK_TCK);
    if (boot_s == 0 || hz <= 0) return 0;
    return boot_s * 1000000000LL + static_cast<int64_t>(ticks) * (1000000000LL / hz);
}

bool is_namespace_init(pid_t pid) {
    auto text = read_file_if_exists("/proc/" + std::to_string(pid) + "/status");
    if (!text) return false;
    auto at = text->find("\nNSpid:");
    if (at == std::string::npos) return false;
    auto end = text->find('\n', at + 1);
    std::string line = text->substr(at + 7, end == std::string::npos ? std::string::npos : end - at - 7);
    // Exactly two ids: ours, then 1 in a namespace one level below ours (a
    // namespace a container made inside its own would add a third).
    auto ids = words(line);
    return ids.size() == 2 && ids[1] == "1";
}

bool has_own_root(pid_t pid) {
    struct stat theirs{}, ours{};
    std::string root = "/proc/" + std::to_string(pid) + "/root/";
    if (::stat(root.c_str(), &theirs) < 0 || ::stat("/", &ours) < 0) return false;
    return theirs.st_dev != ours.st_dev || theirs.st_ino != ours.st_ino;
}

std::string cgroup_v2_of(pid_t pid) {
    auto text = read_file_if_exists("/proc/" + std::to_string(pid) + "/cgroup");
    if (!text) return {};
    std::string all = "\n" + *text;
    auto at = all.find("\n0::");
    if (at == std::string::npos) return {};
    auto end = all.find('\n', at + 1);
    return all.substr(at + 4, end == std::string::npos ? std::string::npos : end - at - 4);
}

std::optional<ProcessInfo> process_info(pid_t pid) {
    auto st = read_stat(pid);
    if (!st || st->state == 'Z' || st->state == 'X') return std::nullopt;
    ProcessInfo info;
    info.pid = pid;
    info.ppid = st->ppid;
    info.start = st->start;
    if (auto comm = read_file_if_exists("/proc/" + std::to_string(pid) + "/comm")) {
        info.comm = *comm;
        while (!info.comm.empty() && info.comm.back() == '\n') info.comm.pop_back();
    }
    return info;
}

UniqueFd child_pidfd(pid_t pid) { return UniqueFd(static_cast<int>(::syscall(SYS_pidfd_open, pid, 0))); }

UniqueFd open_pidfd(pid_t pid, uint64_t start) {
    if (pid <= 0) return {};
    UniqueFd fd = child_pidfd(pid);
    if (!fd) return {};
    // The pidfd pins the process we opened; if it is the one that started at
    // `start`, it is ours for good.
    if (!process_alive(pid, start)) return {};
    return fd;
}

bool signal_pidfd(int pidfd, int sig) {
    if (::syscall(SYS_pidfd_send_signal, pidfd, sig, nullptr, 0) == 0) return true;
    return false;
}

bool wait_pidfd(int pidfd, int timeout_ms) {
    int64_t deadline = timeout_ms < 0 ? -1 : monotonic_ms() + timeout_ms;
    for (;;) {
        pollfd p{pidfd, POLLIN, 0};
        int left = deadline < 0 ? -1 : static_cast<int>(std::max<int64_t>(0, deadline - monotonic_ms()));
        int r = ::poll(&p, 1, left);
        if (r > 0) return true;
        if (r == 0) return false;
        if (errno != EINTR) return false;
    }
}

int64_t monotonic_ms() {
    timespec ts{};
    ::clock_gettime(CLOCK_MONOTONIC, &ts);
    return static_cast<int64_t>(ts.tv_sec) * 1000 + ts.tv_nsec / 1000000;
}

int wait_forwarding_signals(pid_t pid, const sigset_t& handled) {
    UniqueFd sigfd(::signalfd(-1, &handled, SFD_CLOEXEC));
    if (!sigfd) throw_errno("signalfd");
    for (;;) {
        signalfd_siginfo si{};
        if (::read(sigfd.get(), &si, sizeof si) != sizeof si) continue;
        if (si.ssi_signo != SIGCHLD) {
            ::kill(pid, static_cast<int>(si.ssi_signo));
            continue;
        }
        int status;
        if (::waitpid(pid, &status, WNOHANG) == pid)
            return WIFSIGNALED(status) ? 128 + WTERMSIG(status) : WEXITSTATUS(status);
    }
}

std::vector<char*> exec_vector(const std::vector<std::string>& strings) {
    std::vector<char*> out;
    out.reserve(strings.size() + 1);
    for (const auto& s : strings) out.push_back(const_cast<char*>(s.c_str()));
    out.push_back(nullptr);
    return out;
}


void close_fds_from(int first, std::initializer_list<int> keep) {
    std::vector<int> kept;
    for (int fd : keep)
        if (fd >= first) kept.push_back(fd);
    std::sort(kept.begin(), kept.end());
    unsigned from = static_cast<unsigned>(first);
    auto close_from_to = [](unsigned lo, unsigned hi) {
        if (::close_range(lo, hi, 0) == 0) return;
        // No close_range (a kernel before 5.9, a seccomp profile refusing
        // it): one by one, up to the highest descriptor we may hold.
        rlimit lim{};
        unsigned top = ::getrlimit(RLIMIT_NOFILE, &lim) == 0 && lim.rlim_cur != RLIM_INFINITY
                           ? static_cast<unsigned>(std::min<rlim_t>(lim.rlim_cur, 1U << 20))
                           : 1U << 20;
        for (unsigned fd = lo; fd <= hi && fd < top; ++fd) ::close(static_cast<int>(fd));
    };
    for (int fd : kept) {
        if (static_cast<unsigned>(fd) > from) close_from_to(from, static_cast<unsigned>(fd) - 1);
        from = static_cast<unsigned>(fd) + 1;
    }
    close_from_to(from, ~0U);
}

int Child::wait() noexcept {
    int status = 0;
    if (pid_ <= 0) return status;
    while (::waitpid(pid_, &status, 0) < 0 && errno == EINTR) {
    }
    pid_ = -1;
    return status;
}

void Child::kill_and_reap() noexcept {
    if (pid_ <= 0) return;
    ::kill(pid_, SIGKILL);
    wait();
}

SpawnSetup::SpawnSetup() {
    if (int e = ::posix_spawn_file_actions_init(&actions_)) throw Error(e, "posix_spawn_file_actions_init");
    if (int e = ::posix_spawnattr_init(&attr_)) {
        ::posix_spawn_file_actions_destroy(&actions_);
        throw Error(e, "posix_spawnattr_init");
    }
}

SpawnSetup::~SpawnSetup() {
    ::posix_spawn_file_actions_destroy(&actions_);
    ::posix_spawnattr_destroy(&attr_);
}

}  // namespace minirt
