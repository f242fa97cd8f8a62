// minirt exec: run a command inside a running container. A bridge process
// joins the container's cgroup and namespaces (setns on a pidfd, all at
// once) and forks the command, which is then PID-namespaced like the rest
// of the container; the bridge mirrors its exit status to us.
#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <grp.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstring>
#include <optional>
#include <iostream>

#include "cli/attach.hpp"
#include "cli/cli.hpp"
#include "linux/fd_passing.hpp"
#include "common/file.hpp"
#include "common/parse.hpp"
#include "container/ops.hpp"
#include "linux/cgroup.hpp"
#include "linux/process.hpp"
#include "linux/security.hpp"
#include "shim/attach.hpp"
#include "engine/init.hpp"
#include "linux/terminal.hpp"

namespace minirt::cli {

using engine::find_executable;

namespace {

struct ExecSpec {
    std::vector<std::string> argv, env;
    std::string workdir;
    bool tty = false, interactive = false;
    SecuritySpec security;  // the container's restrictions, applied before exec
    bool join_userns = false;
    int ns_flags = 0;
    std::optional<int> nice;  // the container's --nice
};

pid_t g_command = -1;  // the bridge forwards signals to it
void forward_to_command(int sig) {
    if (g_command > 0) ::kill(g_command, sig);
}

[[noreturn]] void fail_child(int error_fd, int code, const std::string& msg) noexcept {
    write_all_nothrow(error_fd, std::to_string(code) + " " + msg);
    _exit(code);
}

// In the command process, inside every namespace of the container.
[[noreturn]] void exec_command(const ExecSpec& spec, int error_fd, int console) noexcept {
    try {
        if (::chdir(spec.workdir.c_str()) < 0) throw_errno("chdir to " + spec.workdir);
        if (spec.tty) {
            Pty pty = open_pty();
            adopt_terminal(pty.slave.get());
            if (!send_fd(console, pty.master.get())) throw_errno("hand over the terminal");
        }
        ::close(console);
        if (spec.nice) {
            // The container's priority: its nice value, and an autogroup of
            // the same nice (the caller's session would put the command in
            // the caller's autogroup, which competes at the caller's weight).
            if (::setpriority(PRIO_PROCESS, 0, *spec.nice) < 0) throw_errno("--nice: setpriority");
            if (!spec.tty && ::setsid() < 0) throw_errno("setsid");
            set_autogroup_nice(*spec.nice);
        }
        // Only stdio and the error pipe (close-on-exec) reach the command: a
        // descriptor of the caller's (a shell's `exec 7</etc`) would hand the
        // container a way out through /proc/self/fd/7/.. (CVE-2024-21626).
        // Before the seccomp filter, which a custom profile may make refuse
        // close_range.
        close_fds_from(3, error_fd);
        // The same capabilities, seccomp filter, no_new_privs, user and
        // rlimits as the container's own command.
        apply_security(spec.security);
        std::string path;
        for (const auto& e : spec.env)
            if (e.starts_with("PATH=")) path = e.substr(5);
        int err = 0;
        std::string exe = find_executable(spec.argv[0], path, err);
        if (exe.empty())
            fail_child(error_fd, err == ENOENT ? kExitNotFound : kExitCannotInvoke,
                       "executable file `" + spec.argv[0] + "`" +
                           (err == ENOENT ? " not found in $PATH" : std::string(": ") + std::strerror(err)));
        std::vector<char*> argv = exec_vector(spec.argv), envp = exec_vector(spec.env);
        sigset_t none;
        sigemptyset(&none);
        ::sigprocmask(SIG_SETMASK, &none, nullptr);
        ::execve(exe.c_str(), argv.data(), envp.data());
        fail_child(error_fd, errno == ENOENT ? kExitNotFound : kExitCannotInvoke,
                   "exec " + spec.argv[0] + ": " + std::strerror(errno));
    } catch (const Error& e) {
        fail_child(error_fd, e.exit_code(), e.message());
    }
}

// The bridge: joins, forks the command, mirrors its status.
[[noreturn]] void bridge(const ExecSpec& spec, int pidfd, const std::string& cgroup, int error_fd,
                         int console) noexcept {
    try {
        // Nothing of the caller's beyond stdio enters the container's
        // namespaces, not even in this bridge, which any root of the
        // container could look at through /proc before its exec.
        close_fds_from(3, error_fd, console, pidfd);
        // The cgroup first: its path is only visible from the host's mounts.
        if (!cgroup.empty()) write_control_file(fs::path(cgroup) / "cgroup.procs", "0");
        if (::setns(pidfd, spec.ns_flags) < 0) throw_errno("join the container's namespaces");
        // A user namespace is joined last, as the container's init does: its
        // mount and PID namespaces belong to the host's user namespace.
        if (spec.join_userns && ::setns(pidfd, CLONE_NEWUSER) < 0) throw_errno("join the container's user namespace");
        pid_t child = ::fork();
        if (child < 0) throw_errno("fork");
        if (child == 0) exec_command(spec, error_fd, console);
        g_command = child;
        for (int s : {SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2}) ::signal(s, forward_to_command);
        ::close(error_fd);
        ::close(console);
        int status = 0;
        while (::waitpid(child, &status, 0) < 0 && errno == EINTR) {
        }
        _exit(WIFSIGNALED(status) ? 128 + WTERMSIG(status) : WEXITSTATUS(status));
    } catch (const Error& e) {
        fail_child(error_fd, e.exit_code(), e.message());
    }
}

int relay_terminal(int master, bool interactive, pid_t bridge_pid) {
    RawTerminal raw(0);
    if (auto ws = window_size(0)) set_window_size(master, *ws);
    sigset_t mask;
    sigemptyset(&mask);
    for (int s : {SIGWINCH, SIGCHLD, SIGTERM, SIGHUP, SIGQUIT}) sigaddset(&mask, s);
    ::sigprocmask(SIG_BLOCK, &mask, nullptr);
    UniqueFd sigfd(::signalfd(-1, &mask, SFD_CLOEXEC));
    bool in_open = interactive;
    for (;;) {
        pollfd fds[3] = {{master, POLLIN, 0}, {sigfd.get(), POLLIN, 0}, {in_open ? 0 : -1, POLLIN, 0}};
        if (::poll(fds, 3, -1) < 0 && errno != EINTR) break;
        if (fds[0].revents & (POLLIN | POLLHUP | POLLERR)) {
            char buf[65536];
            ssize_t n = ::read(master, buf, sizeof buf);
            if (n <= 0) break;  // EIO: the command and everything on its terminal ended
            write_all_nothrow(1, std::string_view(buf, static_cast<size_t>(n)));
        }
        if (fds[1].revents & POLLIN) {
            signalfd_siginfo si{};
            if (::read(sigfd.get(), &si, sizeof si) == sizeof si) {
                if (si.ssi_signo == SIGWINCH) {
                    if (auto ws = window_size(0)) set_window_size(master, *ws);
                } else if (si.ssi_signo != SIGCHLD) {
                    ::kill(bridge_pid, static_cast<int>(si.ssi_signo));  // passed on to the command
                }
            }
        }
        if (in_open && (fds[2].revents & (POLLIN | POLLHUP))) {
            char buf[4096];
            ssize_t n = ::read(0, buf, sizeof buf);
            if (n <= 0) {
                write_all_nothrow(master, "\x04");
                in_open = false;
            } else {
                write_all_nothrow(master, std::string_view(buf, static_cast<size_t>(n)));
            }
        }
    }
    int status = 0;
    while (::waitpid(bridge_pid, &status, 0) < 0 && errno == EINTR) {
    }
    return WIFSIGNALED(status) ? 128 + WTERMSIG(status) : WEXITSTATUS(status);
}

}  // namespace

int cmd_exec(Context& ctx, const Args& args) {
    const char* usage = "minirt exec [-i] [-t] [-e K=V]... [-w DIR] [-u UID[:GID]] NAME COMMAND [ARG...]";
    po::options_description desc("Options");
    desc.add_options()
        ("interactive,i", "keep stdin open")
        ("tty,t", "give the command a pseudo-terminal")
        ("env,e", po::value<std::vector<std::string>>(), "set KEY=VALUE")
        ("workdir,w", po::value<std::string>(), "working directory (default: the container's)")
        ("user,u", po::value<std::string>(), "run as UID[:GID]");
    Parsed p = parse(desc, args, usage, true);
    require_positional(p, 2, SIZE_MAX, usage);
    std::string id = ctx.store.resolve(p.positional[0]);
    ContainerView v = view_container(ctx.store, id);
    if (!v.load_error.empty()) throw Error(v.load_error);
    const std::string shown = v.config->name.empty() ? id.substr(0, 12) : v.config->name;
    if (v.status == Status::Paused)
        throw Error("container " + shown + " is paused; thaw it first", kExitExecNotRunning);
    if (v.status != Status::Running)
        throw Error("can only exec into a running container: " + shown + " is " + to_string(v.status),
                    kExitExecNotRunning);

    ExecSpec spec;
    spec.argv.assign(p.positional.begin() + 1, p.positional.end());
    spec.env = v.config->env;
    if (p.vm.count("env"))
        for (const auto& e : p.vm["env"].as<std::vector<std::string>>()) {
            auto [k, val] = parse_env(e);
            std::erase_if(spec.env, [&](const std::string& x) { return x.starts_with(k + "="); });
            spec.env.push_back(k + "=" + val);
        }
    spec.workdir = p.vm.count("workdir") ? p.vm["workdir"].as<std::string>() : v.config->workdir;
    if (spec.workdir.empty() || spec.workdir[0] != '/') throw Error("invalid --workdir: must be absolute");
    spec.tty = p.vm.count("tty") > 0;
    spec.interactive = p.vm.count("interactive") > 0;
    spec.security = security_spec(v.config->security);
    spec.join_userns = v.config->security.userns();
    spec.nice = v.config->resources.nice;
    if (p.vm.count("user")) {
        auto [uid, gid] = parse_user(p.vm["user"].as<std::string>());
        spec.security.uid = uid;
        spec.security.gid = gid.value_or(uid);
    }
    spec.ns_flags = CLONE_NEWNS | CLONE_NEWUTS | CLONE_NEWPID;
    if (!v.config->share_ipc) spec.ns_flags |= CLONE_NEWIPC;
    if (v.config->network != "host") spec.ns_flags |= CLONE_NEWNET;
    // Joined after the cgroup (the bridge moves itself there first), so the
    // command sees the container's group as / like every other process in it.
    if (v.config->cgroupns == "private" && !v.state->cgroup.empty()) spec.ns_flags |= CLONE_NEWCGROUP;

    // The group the command joins: the recorded one, or (for a record that
    // names none) the one the container's id gives. Never none while the
    // container has one: its limits and device filter live there.
    std::string group = v.state->cgroup;
    if (group.empty())
        if (auto cg = container_cgroup(id); cg && cg->exists()) group = cg->path().string();
    UniqueFd pidfd = open_pidfd(v.state->pid, v.state->pid_start);
    if (!pidfd) throw Error("can only exec into a running container: " + shown + " has exited", kExitExecNotRunning);
    Pipe errors = make_pipe();
    int sv[2];
    if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0) throw_errno("socketpair");
    UniqueFd console_parent(sv[0]), console_child(sv[1]);
    // Block the signals we handle before forking: a bridge that exits at
    // once must leave its SIGCHLD pending for our signalfd, not lost.
    sigset_t handled, previous;
    sigemptyset(&handled);
    for (int s : {SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGCHLD}) sigaddset(&handled, s);
    ::sigprocmask(SIG_BLOCK, &handled, &previous);
    pid_t pid = ::fork();
    if (pid < 0) throw_errno("fork");
    if (pid == 0) {
        ::sigprocmask(SIG_SETMASK, &previous, nullptr);
        errors.read.reset();
        console_parent.reset();
        if (!spec.interactive && !spec.tty) {
            int devnull = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
            ::dup2(devnull, 0);
        }
        bridge(spec, pidfd.get(), group, errors.write.release(), console_child.release());
    }
    errors.write.reset();
    console_child.reset();
    UniqueFd master;
    if (spec.tty) master = recv_fd(console_parent.get());
    console_parent.reset();
    std::string failure;
    char buf[4096];
    ssize_t n;
    while ((n = ::read(errors.read.get(), buf, sizeof buf)) > 0) failure.append(buf, static_cast<size_t>(n));
    if (!failure.empty()) {
        int status;
        ::waitpid(pid, &status, 0);
        auto space = failure.find(' ');
        int code = static_cast<int>(parse_int(failure.substr(0, space), "exit code", 1, 255));
        throw Error(failure.substr(space + 1), code);
    }
    if (master) return relay_terminal(master.get(), spec.interactive, pid);
    // Without a terminal the command writes to our stdout/stderr itself;
    // forward signals to the bridge, which passes them on.
    return wait_forwarding_signals(pid, handled);
}

}  // namespace minirt::cli
