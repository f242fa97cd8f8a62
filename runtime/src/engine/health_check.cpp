#include "engine/health_check.hpp"

#include <fcntl.h>
#include <poll.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstring>

#include "common/error.hpp"
#include "common/file.hpp"
#include "common/parse.hpp"
#include "engine/exec.hpp"
#include "linux/process.hpp"
#include "oci/spec.hpp"
#include "state/events.hpp"
#include "state/lock.hpp"

namespace minirt::engine {

namespace {

// Reads what is there; false at EOF (or an error).
bool read_output(int fd, std::string& kept) {
    char buf[4096];
    for (;;) {
        ssize_t n = ::read(fd, buf, sizeof buf);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) return errno == EAGAIN;
        if (n == 0) return false;
        size_t room = kHealthOutputMax - std::min(kHealthOutputMax, kept.size());
        kept.append(buf, std::min(room, static_cast<size_t>(n)));
    }
}

// --health-on-failure=stop: as `minirt stop` would, but not as the user
// (no user-stopped mark: an unless-stopped container comes back at boot);
// its restart policy is off until the next start.
void stop_unhealthy(const Store& store, const ContainerConfig& c, const HealthTarget& t) {
    {
        FileLock lock = store.lock(t.id);
        if (lock.stale()) return;
        auto st = store.load_state(t.id);
        if (!st || st->pid != t.pid || st->status != Status::Running) return;
        if (!st->stop_requested) {
            st->stop_requested = true;
            store.save_state(*st);
        }
    }
    record_container_event(store.paths(), c, "stop", {{"reason", "unhealthy"}});
    UniqueFd init = open_pidfd(t.pid, t.pid_start);
    if (!init) return;
    if (c.stop_timeout > 0) {
        signal_pidfd(init.get(), c.stop_signal ? c.stop_signal : SIGTERM);
        if (wait_pidfd(init.get(), c.stop_timeout * 1000)) return;
    }
    // The init's end ends its PID namespace; its shim empties the cgroup.
    signal_pidfd(init.get(), SIGKILL);
}

void act_on_unhealthy(const Store& store, const ContainerConfig& c, const HealthTarget& t) {
    switch (c.healthcheck->on_failure) {
    case HealthAction::None:
        return;
    case HealthAction::Kill:
        // A failure like any other: its restart policy applies.
        record_container_event(store.paths(), c, "kill", {{"signal", std::to_string(SIGKILL)}, {"reason", "unhealthy"}});
        if (UniqueFd init = open_pidfd(t.pid, t.pid_start)) signal_pidfd(init.get(), SIGKILL);
        return;
    case HealthAction::Restart:
        // Only while the run it checked lives: its shim outlives it (the
        // same PID runs the next run), and must not kill that one.
        if (UniqueFd init = open_pidfd(t.pid, t.pid_start))
            if (UniqueFd shim = open_pidfd(t.shim_pid, t.shim_start)) signal_pidfd(shim.get(), health_restart_signal());
        return;
    case HealthAction::Stop:
        stop_unhealthy(store, c, t);
        return;
    }
}

constexpr int kReapAfterKillMs = 2000;

std::string seconds_text(int64_t ns) {
    return ns % 1'000'000'000 == 0 ? std::to_string(ns / 1'000'000'000) + "s" : std::to_string(ns / 1'000'000) + "ms";
}

}  // namespace

HealthResult run_health_check(const Paths& paths, const HealthTarget& t, const Healthcheck& check,
                              const sigset_t& blocked) {
    auto text = read_file_if_exists(paths.oci_config_file(t.id));
    if (!text) throw Error("container " + t.id.substr(0, 12) + " has no config.json");
    oci::Spec spec = oci::parse_spec(*text, paths.container_dir(t.id));
    UniqueFd pidfd = open_pidfd(t.pid, t.pid_start);
    if (!pidfd) throw Error("container " + t.id.substr(0, 12) + " is not running", kExitMinirtError);

    ExecRequest r;
    r.spec = &spec;
    r.seccomp_cache = SeccompCache::in_root(paths.root);
    r.process = exec_process(spec);
    r.process.args = check.command;
    r.process.terminal = false;
    r.pidfd = pidfd.get();
    r.cgroup = t.cgroup;
    r.stdin_null = true;
    Pipe out = make_pipe(O_NONBLOCK);
    r.output_fd = out.write.get();

    HealthResult result;
    result.start_ns = now_ns();
    ExecStarted started;
    try {
        started = start_exec(r, blocked);
    } catch (const Error& e) {
        // Not found, not runnable: a failed check, as podman's.
        result.end_ns = now_ns();
        result.exit_code = e.exit_code();
        result.output = e.message().substr(0, kHealthOutputMax);
        return result;
    }
    out.write.reset();
    UniqueFd bridge = child_pidfd(started.bridge.pid());
    if (!bridge) throw_errno("pidfd_open");
    int64_t deadline = monotonic_ms() + check.timeout_ns / 1'000'000;
    bool out_open = true, timed_out = false;
    for (;;) {
        int64_t left = deadline - monotonic_ms();
        if (left <= 0) {
            timed_out = true;
            break;
        }
        pollfd fds[2] = {{bridge.get(), POLLIN, 0}, {out_open ? out.read.get() : -1, POLLIN, 0}};
        if (::poll(fds, 2, static_cast<int>(left)) < 0 && errno != EINTR) throw_errno("poll");
        if (fds[1].revents) out_open = read_output(out.read.get(), result.output);
        if (fds[0].revents) break;
    }
    int status = 0;
    if (timed_out) {
        // Its session's group, which is its own (the exec's setsid), then
        // the bridge waiting for it. In a container paused meanwhile they
        // are frozen, and die only when it thaws: the bridge is then left
        // to whoever reaps our orphans (the shim, a subreaper), not waited for.
        ::kill(-started.process, SIGKILL);
        ::kill(started.process, SIGKILL);
        pollfd p{bridge.get(), POLLIN, 0};
        if (::poll(&p, 1, kReapAfterKillMs) == 1) status = started.bridge.wait();
        else started.bridge.release();
    } else {
        status = started.bridge.wait();
    }
    // What it wrote before it ended; a child it left in the background
    // and still holding the pipe is not waited for.
    if (out_open) read_output(out.read.get(), result.output);
    result.end_ns = now_ns();
    if (timed_out) {
        result.exit_code = -1;
        result.output = "health check exceeded its timeout of " + seconds_text(check.timeout_ns);
    } else {
        result.exit_code = WIFSIGNALED(status) ? 128 + WTERMSIG(status) : WEXITSTATUS(status);
    }
    return result;
}

std::pair<Health, HealthResult> check_health(const Store& store, const ContainerConfig& config,
                                             const HealthTarget& target, const sigset_t& blocked) {
    const Healthcheck& check = *config.healthcheck;
    HealthResult result = run_health_check(store.paths(), target, check, blocked);
    // Counted only for the run it checked, and only if that run was
    // running all along: paused meanwhile, a check times out for nothing.
    auto st = store.load_state(target.id);
    auto recorded = st && st->status == Status::Running && st->pid == target.pid
                        ? record_health_result(store.paths(), target.id, result, check, target.started_ns)
                        : std::nullopt;
    if (!recorded)
        throw Error("container " + target.id.substr(0, 12) +
                    " was paused, stopped or removed during its health check: the check is not counted");
    auto& [health, changed] = *recorded;
    if (changed) record_container_event(store.paths(), config, "health_status", {{"health_status", health.status}});
    if (health.status == "unhealthy") act_on_unhealthy(store, config, target);
    return {std::move(health), std::move(result)};
}

}  // namespace minirt::engine
