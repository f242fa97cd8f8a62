#include "shim/container_init.hpp"

#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstring>

#include "common/error.hpp"
#include "linux/process.hpp"
#include "common/file.hpp"
#include "linux/namespaces.hpp"
#include "linux/security.hpp"
#include "linux/userns.hpp"
#include "shim/attach.hpp"
#include "shim/terminal.hpp"

namespace minirt {

namespace {

[[noreturn]] void fail(int error_fd, int exit_code, const std::string& message) noexcept {
    write_all_nothrow(error_fd, std::to_string(exit_code) + " " + message);
    _exit(exit_code);
}

}  // namespace

void reset_signals() {
    // The shim blocks and ignores signals for its own loop; the command must
    // start with the defaults, or e.g. an ignored SIGPIPE would survive exec.
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, nullptr);
    for (int sig = 1; sig < NSIG; ++sig) {
        if (sig == SIGKILL || sig == SIGSTOP) continue;
        signal(sig, SIG_DFL);
    }
}

namespace {

void setup_stdio(const InitFds& fds) {
    int in = fds.stdin_r >= 0 ? fds.stdin_r : ::open("/dev/null", O_RDONLY | O_CLOEXEC);
    if (in < 0) throw_errno("open /dev/null");
    if (::dup2(in, 0) < 0 || ::dup2(fds.stdout_w, 1) < 0 || ::dup2(fds.stderr_w, 2) < 0)
        throw_errno("dup2 stdio");
    if (in != fds.stdin_r) ::close(in);
}

// The terminal comes from the container's own devpts, so `tty` inside shows
// /dev/pts/0 and nothing of the host's terminals is reachable.
void setup_terminal(const InitFds& fds) {
    Pty pty = open_pty();
    adopt_terminal(pty.slave.get());
    if (!send_fd(fds.console, pty.master.get())) throw_errno("hand the terminal to the shim");
    ::close(fds.console);
}

std::string env_value(const std::vector<std::string>& env, const std::string& key) {
    for (const auto& kv : env)
        if (kv.size() > key.size() && kv.compare(0, key.size(), key) == 0 && kv[key.size()] == '=')
            return kv.substr(key.size() + 1);
    return {};
}

void apply_scheduling(const InitSpec& spec) {
    if (spec.nice) {
        if (::setpriority(PRIO_PROCESS, 0, *spec.nice) < 0) throw_errno("--nice: setpriority");
        set_autogroup_nice(*spec.nice);
    }
    if (spec.pin_cpu) {
        // The CLI took it in [0, host CPUs); config.json may have been edited since.
        if (*spec.pin_cpu < 0 || *spec.pin_cpu >= CPU_SETSIZE)
            throw Error(EINVAL, "--pin-cpu: no CPU " + std::to_string(*spec.pin_cpu));
        cpu_set_t set;
        CPU_ZERO(&set);
        CPU_SET(static_cast<size_t>(*spec.pin_cpu), &set);
        if (::sched_setaffinity(0, sizeof set, &set) < 0)
            throw_errno("--pin-cpu: pin to CPU " + std::to_string(*spec.pin_cpu));
        sched_param sp{};
        sp.sched_priority = kPinnedRtPriority;
        if (::sched_setscheduler(0, SCHED_RR, &sp) < 0) throw_errno("--pin-cpu: SCHED_RR");
    }
}

}  // namespace

void enter_workdir(const std::string& workdir) {
    if (::chdir(workdir.c_str()) == 0) return;
    // Like podman, a missing working directory is created.
    std::error_code ec;
    std::filesystem::create_directories(workdir, ec);
    if (::chdir(workdir.c_str()) < 0) throw_errno("chdir to working directory " + workdir);
}

std::string find_executable(const std::string& name, const std::string& path_env, int& err) {
    err = ENOENT;
    if (name.empty()) return {};
    if (name.find('/') != std::string::npos) {
        if (::access(name.c_str(), X_OK) == 0) {
            struct stat st{};
            if (::stat(name.c_str(), &st) == 0 && S_ISDIR(st.st_mode)) {
                err = EACCES;
                return {};
            }
            err = 0;
            return name;
        }
        err = errno;
        return {};
    }
    std::string path = path_env.empty() ? "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin" : path_env;
    bool saw_eacces = false;
    size_t start = 0;
    while (start <= path.size()) {
        size_t end = path.find(':', start);
        if (end == std::string::npos) end = path.size();
        std::string dir = path.substr(start, end - start);
        std::string candidate = (dir.empty() ? "." : dir) + "/" + name;
        struct stat st{};
        if (::stat(candidate.c_str(), &st) == 0 && !S_ISDIR(st.st_mode)) {
            if (::access(candidate.c_str(), X_OK) == 0) {
                err = 0;
                return candidate;
            }
            saw_eacces = true;
        }
        start = end + 1;
    }
    err = saw_eacces ? EACCES : ENOENT;
    return {};
}

void container_init(const InitSpec& spec, const InitFds& fds) noexcept {
    try {
        // If the shim dies, so does the container: nothing runs unowned.
        if (::prctl(PR_SET_PDEATHSIG, SIGKILL) < 0) throw_errno("prctl PDEATHSIG");
        int flags = CLONE_NEWNS | CLONE_NEWUTS;
        if (spec.new_ipc) flags |= CLONE_NEWIPC;
        // The CLI has usually made it already (not with a user namespace:
        // the one made here then only keeps the host's interfaces out of
        // /sys until join_userns makes the real one inside it).
        bool own_netns = spec.new_net && fds.netns < 0;
        if (own_netns) flags |= CLONE_NEWNET;
        if (fds.netns >= 0 && ::setns(fds.netns, CLONE_NEWNET) < 0) throw_errno("join the network namespace");
        if (::unshare(flags) < 0) throw_errno("unshare namespaces");
        // Wait until the shim has put us in our cgroup: nothing of the
        // container may run before its limits apply. EOF = the shim is gone.
        char go = 0;
        ssize_t n;
        do {
            n = ::read(fds.go, &go, 1);
        } while (n < 0 && errno == EINTR);
        if (n != 1) _exit(kExitMinirtError);
        ::close(fds.go);
        // Now in our cgroup: a namespace rooted there shows the container its
        // own group (/proc/self/cgroup reads 0::/, and /sys/fs/cgroup holds
        // its own limits, which runtimes such as the JVM size themselves by).
        if (spec.new_cgroupns && ::unshare(CLONE_NEWCGROUP) < 0) throw_errno("unshare cgroup namespace");

        setup_stdio(fds);
        set_hostname(spec.hostname);
        if (own_netns) bring_up_loopback();
        build_rootfs(spec.rootfs);
        enter_rootfs(spec.rootfs.merged);
        enter_workdir(spec.workdir);
        if (spec.tty) setup_terminal(fds);
        apply_scheduling(spec);
        if (spec.userns)
            join_userns({spec.userns->get(), spec.hostname, spec.new_net, spec.new_ipc});
        // The shim compiled the filter meanwhile (EOF without one: it failed
        // or died, and kills us anyway).
        SeccompProgram filter;
        if (fds.seccomp >= 0) {
            filter = receive_seccomp(fds.seccomp);
            ::close(fds.seccomp);
        }
        apply_security(spec.security, filter);

        int err = 0;
        std::string exe = find_executable(spec.argv[0], env_value(spec.env, "PATH"), err);
        if (exe.empty()) {
            if (err == ENOENT)
                fail(fds.error, kExitNotFound,
                     "executable file `" + spec.argv[0] + "` not found in $PATH: No such file or directory");
            fail(fds.error, kExitCannotInvoke, "executable file `" + spec.argv[0] + "`: " + std::strerror(err));
        }
        std::vector<char*> argv = exec_vector(spec.argv), envp = exec_vector(spec.env);
        // Close every inherited descriptor but stdio and the error pipe
        // (close-on-exec), so no host file leaks into the container.
        close_fds_from(3, fds.error);
        reset_signals();
        ::execve(exe.c_str(), argv.data(), envp.data());
        int e = errno;
        fail(fds.error, e == ENOENT ? kExitNotFound : kExitCannotInvoke,
             "exec " + spec.argv[0] + ": " + std::strerror(e));
    } catch (const Error& e) {
        fail(fds.error, e.exit_code(), e.message());
    } catch (const std::exception& e) {
        fail(fds.error, kExitMinirtError, e.what());
    }
}

}  // namespace minirt
