// minirt oci exec: a process joins a running container, through the same
// bridge as `minirt exec` (engine/exec.hpp), with the confinement of
// config.json and the process's own capabilities, user and rlimits. With
// --detach the process is left to the caller (conmon reaps it); otherwise
// its exit code is ours.
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
#include "engine/exec.hpp"
#include "oci/spec.hpp"
#include "oci/state.hpp"
#include "linux/terminal.hpp"

namespace minirt::oci {

namespace {

Process process_from_flags(const Flags& f, const Spec& spec) {
    if (f.has("process")) {
        std::string text = read_file(f.value("process"));
        nlohmann::json j;
        try {
            j = nlohmann::json::parse(text);
        } catch (const nlohmann::json::exception& e) {
            throw Error("--process " + f.value("process") + ": not valid JSON: " + e.what());
        }
        Process p = with_context("--process " + f.value("process"), [&] { return parse_process(j, "process"); });
        p.personality = spec.process.personality;  // the container's, not the process's
        return p;
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
    if (!f.values("cap").empty()) {
        // As runc's --cap: bounding, effective and permitted; ambient only
        // where the spec gives inheritable ones (else it could not hold).
        CapMask added = capability_mask(f.values("cap"), "--cap");
        p.caps.bounding |= added;
        p.caps.effective |= added;
        p.caps.permitted |= added;
        if (p.caps.inheritable) p.caps.ambient |= added;
    }
    if (f.has("no-new-privs")) p.no_new_privileges = true;
    if (f.has("apparmor")) p.apparmor_profile = f.value("apparmor");
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
    int preserve = static_cast<int>(parse_int(f.value("preserve-fds", "0"), "--preserve-fds", 0, 1024));
    std::vector<int> vacant = reserve_preserved_fds(preserve);
    if (!f.value("process-label").empty()) throw Error("exec: --process-label: SELinux is not supported");
    const std::string& id = f.positional()[0];
    validate_container_id(id);
    StateDir dir(g.root, id);
    State s = dir.load();
    Status st = live_status(dir, s);
    if (st == Status::Exited) throw Error("cannot exec in container \"" + id + "\": it is stopped");
    if (st == Status::Paused && !f.has("ignore-paused"))
        throw Error("cannot exec in container \"" + id + "\": it is paused (resume it first)");
    Spec spec = parse_spec(read_file(dir.config_file()), s.bundle);

    engine::ExecRequest r;
    r.spec = &spec;
    r.seccomp_cache = SeccompCache::in_root(g.root);
    r.process = process_from_flags(f, spec);
    check_bounding_set(r.process, "exec: the process's capabilities");
    check_apparmor(r.process);
    r.cgroup = s.cgroup.string();
    r.preserve_fds = preserve;
    r.vacant_fds = vacant;
    r.detach = f.has("detach");
    std::string console_path = f.value("console-socket");
    if (r.process.terminal && console_path.empty())
        throw Error("exec: a terminal (--tty or process.terminal) needs --console-socket");
    if (!r.process.terminal && !console_path.empty())
        throw Error("exec: --console-socket given, but the process gets no terminal (--tty)");

    UniqueFd pidfd = open_pidfd(s.pid, s.pid_start);
    if (!pidfd) throw Error("cannot exec in container \"" + id + "\": it is stopped");
    r.pidfd = pidfd.get();
    UniqueFd console;
    if (!console_path.empty()) console = connect_console(console_path);
    r.console = console.get();
    sigset_t handled;
    sigemptyset(&handled);
    for (int sig : {SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2, SIGWINCH, SIGCHLD}) sigaddset(&handled, sig);
    ::sigprocmask(SIG_BLOCK, &handled, nullptr);
    engine::ExecStarted started = engine::start_exec(r, handled);
    console.reset();
    if (f.has("pid-file"))
        write_file_atomic(fs::absolute(f.value("pid-file")), std::to_string(started.process), 0644, false);
    if (r.detach) {
        started.bridge.wait();
        return 0;
    }
    return wait_forwarding_signals(started.bridge.release(), handled);
}

}  // namespace minirt::oci
