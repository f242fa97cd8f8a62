// minirt oci exec: a process joins a running container. As in `minirt
// exec`, a bridge enters the container's cgroup and all its namespaces at
// once (setns on a pidfd) and forks the process, which gets the same
// confinement as the container's own (seccomp from config.json, the
// process's capabilities, user and rlimits). With --detach the process is
// left to the caller (conmon reaps it); otherwise its exit code is ours.
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstring>

#include "cli/oci.hpp"
#include "linux/fd_passing.hpp"
#include "common/error.hpp"
#include "common/file.hpp"
#include "common/parse.hpp"
#include "linux/capabilities.hpp"
#include "linux/process.hpp"
#include "engine/init.hpp"
#include "oci/spec.hpp"
#include "oci/state.hpp"
#include "shim/attach.hpp"
#include "linux/terminal.hpp"

namespace minirt::oci {

using engine::pass_preserved_fds;
using engine::process_security;
using engine::resolve_executable;

namespace {

struct ExecPlan {
    Process process;
    const Spec* spec = nullptr;
    int ns_flags = 0;
    bool join_user = false;
    std::string cgroup;
    int preserve_fds = 0;
};

[[noreturn]] void fail(int error_fd, int code, const std::string& msg) noexcept {
    write_all_nothrow(error_fd, std::to_string(code) + " " + msg);
    _exit(code);
}

[[noreturn]] void exec_process(const ExecPlan& plan, int error_fd, int console) noexcept {
    try {
        const Process& p = plan.process;
        if (::chdir(p.cwd.c_str()) < 0) throw_errno("chdir to " + p.cwd);
        if (p.terminal) {
            Pty pty = open_pty();
            adopt_terminal(pty.slave.get());
            if (!send_fd(console, pty.master.get())) throw_errno("send the terminal to the console socket");
        }
        if (console >= 0) ::close(console);
        ::umask(p.umask.value_or(022));
        int keep_from = 3 + plan.preserve_fds;
        pass_preserved_fds(plan.preserve_fds);
        if (keep_from < error_fd) ::close_range(static_cast<unsigned>(keep_from), static_cast<unsigned>(error_fd - 1), 0);
        ::close_range(static_cast<unsigned>(error_fd + 1), ~0U, 0);
        int code = 0;
        std::string error;
        std::string exe = resolve_executable(p.args, p.env, code, error);
        if (exe.empty()) fail(error_fd, code, error);
        apply_security(process_security(p, *plan.spec));
        std::vector<char*> argv = exec_vector(p.args), envp = exec_vector(p.env);
        sigset_t none;
        sigemptyset(&none);
        ::sigprocmask(SIG_SETMASK, &none, nullptr);
        ::execve(exe.c_str(), argv.data(), envp.data());
        fail(error_fd, errno == ENOENT ? kExitNotFound : kExitCannotInvoke,
             "exec: \"" + p.args[0] + "\": " + std::strerror(errno));
    } catch (const Error& e) {
        fail(error_fd, e.exit_code(), e.message());
    }
}

pid_t g_process = -1;
void forward(int sig) {
    if (g_process > 0) ::kill(g_process, sig);
}

// Joins, forks the process, tells the caller its PID; then either leaves
// (--detach) or mirrors its exit status.
[[noreturn]] void bridge(const ExecPlan& plan, int pidfd, bool detach, int report_fd, int error_fd,
                         int console) noexcept {
    try {
        if (!plan.cgroup.empty()) write_control_file(fs::path(plan.cgroup) / "cgroup.procs", "0");
        if (::setns(pidfd, plan.ns_flags) < 0) throw_errno("join the container's namespaces");
        if (plan.join_user && ::setns(pidfd, CLONE_NEWUSER) < 0) throw_errno("join the container's user namespace");
        pid_t child = ::fork();
        if (child < 0) throw_errno("fork");
        if (child == 0) exec_process(plan, error_fd, console);
        write_all(report_fd, std::to_string(child) + "\n");
        if (detach) _exit(0);
        g_process = child;
        for (int s : {SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2, SIGWINCH}) ::signal(s, forward);
        ::close(error_fd);
        int status = 0;
        while (::waitpid(child, &status, 0) < 0 && errno == EINTR) {
        }
        _exit(WIFSIGNALED(status) ? 128 + WTERMSIG(status) : WEXITSTATUS(status));
    } catch (const Error& e) {
        fail(error_fd, e.exit_code(), e.message());
    }
}

Process process_from_flags(const Flags& f, const Spec& spec) {
    if (f.has("process")) {
        std::string text = read_file(f.value("process"));
        nlohmann::json j;
        try {
            j = nlohmann::json::parse(text);
        } catch (const nlohmann::json::exception& e) {
            throw Error("--process " + f.value("process") + ": not valid JSON: " + e.what());
        }
        return with_context("--process " + f.value("process"), [&] { return parse_process(j, "process"); });
    }
    if (f.positional().size() < 2) throw Error("exec: give a command, or --process FILE");
    Process p = spec.process;
    p.terminal = f.has("tty");
    p.args.assign(f.positional().begin() + 1, f.positional().end());
    for (const auto& e : f.values("env")) {
        auto [k, v] = parse_env(e);
        std::erase_if(p.env, [&](const std::string& x) { return x.starts_with(k + "="); });
        p.env.push_back(k + "=" + v);
    }
    if (f.has("cwd")) p.cwd = f.value("cwd");
    if (p.cwd.empty() || p.cwd[0] != '/') throw Error("exec: --cwd must be an absolute path");
    if (f.has("user")) {
        auto [uid, gid] = parse_user(f.value("user"));
        p.uid = uid;
        p.gid = gid.value_or(0);
    }
    for (const auto& g : f.values("additional-gids"))
        p.additional_gids.push_back(static_cast<uint32_t>(parse_int(g, "--additional-gids", 0, UINT32_MAX - 1)));
    if (!f.values("cap").empty()) p.capabilities |= capability_mask(f.values("cap"), "--cap");
    if (f.has("no-new-privs")) p.no_new_privileges = true;
    return p;
}

}  // namespace

int cmd_exec(const Globals& g, const std::vector<std::string>& args) {
    Flags f("exec",
            {{{"process", "p"}, true},
             {{"detach", "d"}},
             {{"pid-file"}, true},
             {{"console-socket"}, true},
             {{"tty", "t"}},
             {{"cwd"}, true},
             {{"env", "e"}, true},
             {{"user", "u"}, true},
             {{"additional-gids", "g"}, true},
             {{"cap", "c"}, true},
             {{"no-new-privs"}},
             {{"preserve-fds"}, true},
             {{"process-label"}, true},
             {{"apparmor"}, true},
             {{"ignore-paused"}}},
            args);
    f.expect(1, SIZE_MAX, "minirt oci exec [FLAGS] ID [COMMAND [ARG...]] (or --process FILE)");
    if (!f.value("process-label").empty()) throw Error("exec: --process-label: SELinux is not supported");
    if (!f.value("apparmor").empty()) throw Error("exec: --apparmor: AppArmor is not supported");
    const std::string& id = f.positional()[0];
    validate_container_id(id);
    StateDir dir(g.root, id);
    State s = dir.load();
    Status st = live_status(dir, s);
    if (st == Status::Stopped) throw Error("cannot exec in container \"" + id + "\": it is stopped");
    if (st == Status::Paused && !f.has("ignore-paused"))
        throw Error("cannot exec in container \"" + id + "\": it is paused (resume it first)");
    Spec spec = parse_spec(read_file(dir.config_file()), s.bundle);

    ExecPlan plan;
    plan.spec = &spec;
    plan.process = process_from_flags(f, spec);
    plan.cgroup = s.cgroup.string();
    plan.preserve_fds = static_cast<int>(parse_int(f.value("preserve-fds", "0"), "--preserve-fds", 0, 1024));
    // The user namespace is joined last, as the init did (see linux/userns.hpp).
    for (const auto& n : spec.namespaces) {
        if (n.type == "user") plan.join_user = true;
        else plan.ns_flags |= namespace_flag(n.type);
    }
    std::string console_path = f.value("console-socket");
    if (plan.process.terminal && console_path.empty())
        throw Error("exec: a terminal (--tty or process.terminal) needs --console-socket");
    if (!plan.process.terminal && !console_path.empty())
        throw Error("exec: --console-socket given, but the process gets no terminal (--tty)");

    UniqueFd pidfd = open_pidfd(s.pid, s.pid_start);
    if (!pidfd) throw Error("cannot exec in container \"" + id + "\": it is stopped");
    UniqueFd console;
    if (!console_path.empty()) console = connect_console(console_path);
    Pipe errors = make_pipe(O_CLOEXEC), report = make_pipe(O_CLOEXEC);
    bool detach = f.has("detach");
    sigset_t handled, previous;
    sigemptyset(&handled);
    for (int sig : {SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2, SIGWINCH, SIGCHLD}) sigaddset(&handled, sig);
    ::sigprocmask(SIG_BLOCK, &handled, &previous);
    pid_t bridge_pid = ::fork();
    if (bridge_pid < 0) throw_errno("fork");
    if (bridge_pid == 0) {
        ::sigprocmask(SIG_SETMASK, &previous, nullptr);
        errors.read.reset();
        report.read.reset();
        bridge(plan, pidfd.get(), detach, report.write.release(), errors.write.release(), console.release());
    }
    errors.write.reset();
    report.write.reset();
    console.reset();
    std::string pid_line;
    char c;
    while (::read(report.read.get(), &c, 1) == 1 && c != '\n') pid_line += c;
    std::string failure;
    char buf[4096];
    ssize_t n;
    while ((n = ::read(errors.read.get(), buf, sizeof buf)) > 0) failure.append(buf, static_cast<size_t>(n));
    if (!failure.empty() || pid_line.empty()) {
        int status;
        while (::waitpid(bridge_pid, &status, 0) < 0 && errno == EINTR) {
        }
        if (failure.empty()) throw Error("exec: the process could not be started");
        auto space = failure.find(' ');
        int code = static_cast<int>(parse_int(failure.substr(0, space), "exit code", 1, 255));
        throw Error(failure.substr(space + 1), code);
    }
    if (f.has("pid-file")) write_file_atomic(fs::absolute(f.value("pid-file")), pid_line, 0644, false);
    if (detach) {
        int status;
        while (::waitpid(bridge_pid, &status, 0) < 0 && errno == EINTR) {
        }
        return 0;
    }
    return wait_forwarding_signals(bridge_pid, handled);
}

}  // namespace minirt::oci
