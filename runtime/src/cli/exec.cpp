// minirt exec: run a command inside a running container, through the
// bridge every exec uses (engine/exec.hpp), as the container's own process
// (its spec's confinement) with what the flags change; the terminal, if
// any, is relayed here.
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

#include "image/image.hpp"
#include "cli/attach.hpp"
#include "cli/cli.hpp"
#include "state/events.hpp"
#include "linux/fd_passing.hpp"
#include "common/file.hpp"
#include "common/parse.hpp"
#include "container/ops.hpp"
#include "linux/cgroup.hpp"
#include "linux/process.hpp"
#include "linux/security.hpp"
#include "engine/exec.hpp"
#include "oci/spec.hpp"
#include "linux/terminal.hpp"

namespace minirt::cli {

namespace {

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

// exec -d: a helper of its own session (podman runs a conmon per detached
// exec session) starts the command and stays its parent, reaping it when
// it ends; we return once it has started, or with its error.
int exec_detached(const engine::ExecRequest& r, const sigset_t& handled) {
    int fds[2];
    if (::pipe2(fds, O_CLOEXEC) < 0) throw_errno("pipe");
    UniqueFd read_end(fds[0]), write_end(fds[1]);
    pid_t pid = ::fork();
    if (pid < 0) throw_errno("fork");
    if (pid == 0) {
        read_end.reset();
        ::setsid();
        int null = ::open("/dev/null", O_RDWR);
        for (int fd : {0, 1, 2}) ::dup2(null, fd);
        std::string report = "ok";
        pid_t bridge = -1;
        try {
            bridge = engine::start_exec(r, handled).bridge.release();
        } catch (const Error& e) {
            report = std::to_string(e.exit_code()) + " " + e.message();
        }
        write_all_nothrow(write_end.get(), report);
        write_end.reset();
        if (bridge < 0) _exit(kExitMinirtError);
        // Its exit is nobody's to hear: reaped, and the helper goes.
        int status;
        while (::waitpid(bridge, &status, 0) < 0 && errno == EINTR) {
        }
        _exit(0);
    }
    write_end.reset();
    std::string report;
    char buf[4096];
    for (ssize_t n; (n = ::read(read_end.get(), buf, sizeof buf)) != 0;) {
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) throw_errno("exec -d: read the helper's report");
        report.append(buf, static_cast<size_t>(n));
    }
    if (report == "ok") return 0;
    if (report.empty()) throw Error("exec -d: the helper that starts the command died");
    auto space = report.find(' ');
    int code = std::atoi(report.substr(0, space).c_str());
    throw Error(space == std::string::npos ? report : report.substr(space + 1), code ? code : kExitMinirtError);
}

}  // namespace

int cmd_exec(Context& ctx, const Args& args) {
    const char* usage = "minirt exec [-d] [-i] [-t] [-e K=V]... [-w DIR] [-u UID[:GID]] NAME COMMAND [ARG...]";
    po::options_description desc("Options");
    desc.add_options()
        ("detach,d", "start the command and return: a helper of its own reaps it")
        ("interactive,i", "keep stdin open")
        ("tty,t", "give the command a pseudo-terminal")
        ("env,e", po::value<std::vector<std::string>>(), "set KEY=VALUE")
        ("env-file", po::value<std::vector<std::string>>(), "read KEY=VALUE lines from a file (before -e)")
        ("workdir,w", po::value<std::string>(), "working directory (default: the container's)")
        ("user,u", po::value<std::string>(), "run as USER[:GROUP] (names from the container's /etc/passwd and /etc/group, or numbers)");
    Parsed p = parse(desc, args, usage, true);
    require_positional(p, 2, SIZE_MAX, usage);
    ContainerView v = view_named(ctx, p.positional[0]);
    const std::string& id = v.id;
    const std::string shown = v.config->name.empty() ? id.substr(0, 12) : v.config->name;
    if (v.status == Status::Paused)
        throw Error("container " + shown + " is paused; thaw it first", kExitExecNotRunning);
    if (v.status != Status::Running)
        throw Error("can only exec into a running container: " + shown + " is " + to_string(v.status),
                    kExitExecNotRunning);

    // The container's own process, as its spec says (capabilities, rlimits,
    // no_new_privs, user, its nice value), with what the flags change.
    auto spec_text = read_file_if_exists(ctx.store.paths().oci_config_file(id));
    if (!spec_text) throw Error("container " + shown + " has no config.json");
    oci::Spec spec = oci::parse_spec(*spec_text, ctx.store.paths().container_dir(id));
    engine::ExecRequest r;
    r.spec = &spec;
    r.seccomp_cache = SeccompCache::in_root(ctx.store.paths().root);
    oci::Process& proc = r.process;
    proc = engine::exec_process(spec);
    proc.args.assign(p.positional.begin() + 1, p.positional.end());
    std::vector<std::string> env = env_file_entries(flag_values(p.vm, "env-file"));
    for (const auto& e : flag_values(p.vm, "env")) env.push_back(e);
    for (const auto& e : env) {
        auto [k, val] = parse_env(e);
        std::erase_if(proc.env, [&](const std::string& x) { return x.starts_with(k + "="); });
        proc.env.push_back(k + "=" + val);
    }
    if (p.vm.count("workdir")) proc.cwd = p.vm["workdir"].as<std::string>();
    if (proc.cwd.empty() || proc.cwd[0] != '/') throw Error("invalid --workdir: must be absolute");
    proc.terminal = p.vm.count("tty") > 0;
    bool interactive = p.vm.count("interactive") > 0;
    bool detach = p.vm.count("detach") > 0;
    if (detach && (interactive || proc.terminal))
        throw Error("exec --detach with -i or -t: nothing would be attached to its stdin or terminal");
    r.stdin_null = !interactive && !proc.terminal;
    if (p.vm.count("user")) {
        const std::string& user = p.vm["user"].as<std::string>();
        if (numeric_user(user)) {
            auto [uid, gid] = parse_user(user);
            proc.uid = uid;
            proc.gid = gid.value_or(uid);
        } else {
            // A name: as the running container's own /etc/passwd says it.
            UserIds ids = with_context("invalid --user", [&] {
                return resolve_user({"/proc/" + std::to_string(v.state->pid) + "/root"}, user);
            });
            proc.uid = ids.uid;
            proc.gid = ids.gid.value_or(ids.uid);
        }
    }
    proc.caps = CapSets::for_user(proc.caps.bounding, proc.uid);

    // The group the command joins: the recorded one, or (for a record that
    // names none) the one the container's id gives. Never none while the
    // container has one: its limits and device filter live there.
    r.cgroup = v.state->cgroup;
    if (r.cgroup.empty())
        if (auto cg = container_cgroup(id); cg && cg->exists()) r.cgroup = cg->path().string();
    UniqueFd pidfd = open_pidfd(v.state->pid, v.state->pid_start);
    if (!pidfd) throw Error("can only exec into a running container: " + shown + " has exited", kExitExecNotRunning);
    r.pidfd = pidfd.get();
    int sv[2];
    if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0) throw_errno("socketpair");
    UniqueFd console_parent(sv[0]), console_child(sv[1]);
    if (proc.terminal) r.console = console_child.get();
    // Block the signals we handle before forking: a bridge that exits at
    // once must leave its SIGCHLD pending for our signalfd, not lost.
    sigset_t handled;
    sigemptyset(&handled);
    for (int s : {SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGCHLD}) sigaddset(&handled, s);
    ::sigprocmask(SIG_BLOCK, &handled, nullptr);
    if (detach) {
        r.stdin_null = true;
        int rc = exec_detached(r, handled);
        record_container_event(ctx.store.paths(), *v.config, "exec", {{"command", proc.args[0]}});
        return rc;
    }
    engine::ExecStarted started = engine::start_exec(r, handled);
    record_container_event(ctx.store.paths(), *v.config, "exec", {{"command", proc.args[0]}});
    console_child.reset();
    UniqueFd master;
    if (proc.terminal) {
        master = recv_fd(console_parent.get());
        if (!master) throw Error("exec: no terminal came from the command");
    }
    console_parent.reset();
    pid_t bridge_pid = started.bridge.release();
    if (master) return relay_terminal(master.get(), interactive, bridge_pid);
    // Without a terminal the command writes to our stdout/stderr itself;
    // forward signals to the bridge, which passes them on.
    return wait_forwarding_signals(bridge_pid, handled);
}

}  // namespace minirt::cli
