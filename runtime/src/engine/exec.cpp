#include "engine/exec.hpp"

#include <fcntl.h>
#include <sched.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstring>

#include "common/error.hpp"
#include "common/file.hpp"
#include "common/protocol.hpp"
#include "engine/init.hpp"
#include "linux/fd_passing.hpp"
#include "linux/seccomp.hpp"
#include "linux/security.hpp"
#include "linux/terminal.hpp"

namespace minirt::engine {

namespace {

[[noreturn]] void fail(int sync, int code, const std::string& message) noexcept {
    send_message(sync, Message::failed(code, message));
    _exit(code);
}

// In the process, inside every namespace of the container.
[[noreturn]] void exec_process(const ExecRequest& r, const SeccompProgram& program, int sync) noexcept {
    try {
        const oci::Process& p = r.process;
        if (::chdir(p.cwd.c_str()) < 0) throw_errno("chdir to " + p.cwd);
        if (p.terminal) {
            Pty pty = open_pty();
            adopt_terminal(pty.slave.get());
            if (!send_fd(r.console, pty.master.get())) throw_errno("hand over the terminal");
        } else if (::setsid() < 0) {
            // Its own session and process group, as runc gives it: a group
            // outside the container would read as 0 inside (getpgrp), and
            // the autogroup is then the container's nice, not the caller's.
            throw_errno("setsid");
        }
        if (r.console >= 0) ::close(r.console);
        ::umask(p.umask.value_or(022));
        apply_scheduling(p);
        // Only stdio, the preserved fds and the sync socket (close-on-exec)
        // reach the process: a descriptor of the caller's (a shell's `exec
        // 7</etc`) would hand the container a way out through
        // /proc/self/fd/7/.. (CVE-2024-21626). Before the seccomp filter,
        // which a custom profile may make refuse close_range.
        apply_apparmor(open_apparmor_exec_attr(p.apparmor_profile).get(), p.apparmor_profile);
        close_fds_from(3 + r.preserve_fds, sync);
        for (int fd : r.vacant_fds) ::close(fd);
        pass_preserved_fds(r.preserve_fds);
        int code = 0;
        std::string error;
        std::string exe = resolve_executable(p.args, p.env, code, error);
        if (exe.empty()) fail(sync, code, error);
        apply_security(process_security(p, *r.spec), program);
        std::vector<std::string> env = with_home(p.env, p.uid);
        std::vector<char*> argv = exec_vector(p.args), envp = exec_vector(env);
        reset_signals();
        ::execve(exe.c_str(), argv.data(), envp.data());
        int e = errno;
        fail(sync, e == ENOENT ? kExitNotFound : kExitCannotInvoke, "exec \"" + p.args[0] + "\": " + std::strerror(e));
    } catch (const Error& e) {
        fail(sync, e.exit_code(), e.message());
    }
}

pid_t g_process = -1;  // the bridge passes signals on to it
void forward(int sig) {
    if (g_process > 0) ::kill(g_process, sig);
}

// Joins, forks the process, reports its PID; then leaves (detach) or
// mirrors its exit status.
[[noreturn]] void bridge(const ExecRequest& r, const SeccompProgram& program, int ns_flags, bool join_user,
                         int sync, const sigset_t& blocked) noexcept {
    try {
        // Nothing of the caller's beyond stdio and the preserved fds enters
        // the container's namespaces, not even in this bridge, which any
        // root of the container could look at through /proc before its exec.
        if (r.output_fd >= 0 && (::dup2(r.output_fd, 1) < 0 || ::dup2(r.output_fd, 2) < 0))
            throw_errno("redirect the output");
        close_fds_from(3 + r.preserve_fds, sync, r.console, r.pidfd);
        if (r.stdin_null) {
            int devnull = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
            if (devnull < 0 || ::dup2(devnull, 0) < 0) throw_errno("open /dev/null as stdin");
            ::close(devnull);
        }
        // The cgroup first: its path is only visible from the host's mounts
        // (and a cgroup namespace joined next is then rooted above us).
        if (!r.cgroup.empty()) write_control_file(fs::path(r.cgroup) / "cgroup.procs", "0");
        if (::setns(r.pidfd, ns_flags) < 0) throw_errno("join the container's namespaces");
        // A user namespace is joined last, as the container's init does: its
        // mount and PID namespaces belong to the host's user namespace.
        if (join_user && ::setns(r.pidfd, CLONE_NEWUSER) < 0) throw_errno("join the container's user namespace");
        pid_t child = ::fork();
        if (child < 0) throw_errno("fork");
        if (child == 0) {
            ::sigprocmask(SIG_UNBLOCK, &blocked, nullptr);
            exec_process(r, program, sync);
        }
        g_process = child;
        for (int s : {SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2, SIGWINCH}) ::signal(s, forward);
        ::sigprocmask(SIG_UNBLOCK, &blocked, nullptr);
        send_message(sync, Message::started(child, 0));
        // The process's own copy is close-on-exec: EOF once it has exec'd.
        ::close(sync);
        if (r.console >= 0) ::close(r.console);
        if (r.detach) _exit(0);
        int status = 0;
        while (::waitpid(child, &status, 0) < 0 && errno == EINTR) {
        }
        _exit(WIFSIGNALED(status) ? 128 + WTERMSIG(status) : WEXITSTATUS(status));
    } catch (const Error& e) {
        fail(sync, e.exit_code(), e.message());
    }
}

}  // namespace

oci::Process exec_process(const oci::Spec& spec) {
    oci::Process p = spec.process;
    p.sched_policy.reset();
    p.sched_priority = 0;
    p.cpu_affinity.clear();
    return p;
}

int exec_namespaces(const oci::Spec& spec, bool& join_user, bool has_cgroup) {
    int flags = 0;
    join_user = false;
    for (const auto& n : spec.namespaces) {
        if (n.type == "user") join_user = true;
        else if (n.type != "cgroup" || has_cgroup) flags |= oci::namespace_flag(n.type);
    }
    return flags;
}

ExecStarted start_exec(const ExecRequest& r, const sigset_t& blocked) {
    bool join_user = false;
    int ns_flags = exec_namespaces(*r.spec, join_user, !r.cgroup.empty());
    // Compiled here, where an error is simply reported.
    SeccompProgram program;
    if (r.spec->seccomp)
        program = with_context("config.json: linux.seccomp", [&] {
            return r.seccomp_cache.program(*r.spec->seccomp, r.process.capabilities());
        });
    auto [ours, theirs] = message_socketpair();
    UniqueFd sync(ours), child_end(theirs);
    pid_t pid = ::fork();
    if (pid < 0) throw_errno("fork");
    if (pid == 0) {
        ::close(sync.release());
        bridge(r, program, ns_flags, join_user, child_end.release(), blocked);
    }
    ExecStarted started{Child(pid), 0};
    child_end.reset();
    std::optional<Message> m = receive_message(sync.get());
    if (m && m->type == MessageType::Started) {
        started.process = m->code;
        m = receive_message(sync.get());  // EOF: it exec'd
    }
    if (m) {
        if (m->type == MessageType::Failed) throw Error(m->payload, m->code);
        throw Error(std::string("exec: \"") + to_string(m->type) + "\" from the bridge");
    }
    if (!started.process) throw Error("exec: the process could not be started");
    return started;
}

}  // namespace minirt::engine
