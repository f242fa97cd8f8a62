#include "container/ops.hpp"

#include <fcntl.h>
#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <set>
#include <system_error>
#include <thread>

#include "common/diagnostics.hpp"
#include "common/error.hpp"
#include "common/parse.hpp"
#include "engine/network.hpp"
#include "linux/cgroup.hpp"
#include "linux/process.hpp"
#include "state/events.hpp"
#include "state/lock.hpp"
#include "state/volumes.hpp"

namespace minirt {

namespace {

// How long we wait for a shim to record an exit it has certainly seen.
constexpr int kShimGraceMs = 15000;

bool is_live(Status s) { return s == Status::Running || s == Status::Paused || s == Status::Stopping; }

void wait_for_shim(const Store& store, const ContainerState& st) {
    auto too_slow = [&] {
        return Error("the shim (pid " + std::to_string(st.shim_pid) + ") of " + st.id.substr(0, 12) +
                     " did not finish within " + std::to_string(kShimGraceMs / 1000) + " s");
    };
    if (UniqueFd shim = open_pidfd(st.shim_pid, st.shim_start)) {
        if (!wait_pidfd(shim.get(), kShimGraceMs)) throw too_slow();
        return;
    }
    // Gone already; or a shim the record does not name (an edited record,
    // see reconcile_with_kernel): its mark on the state directory lasts as
    // long as it does. Not for a named one that is gone: the mark may be a
    // new start's by now.
    if (st.shim_pid != 0) return;
    std::string dir = store.paths().state_dir(st.id).string();
    for (int waited = 0; shim_mark_held(AT_FDCWD, dir.c_str()); waited += 10) {
        if (waited >= kShimGraceMs) throw too_slow();
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
}

// The user stopped it (see Paths::user_stopped_file). Best effort: a boot
// without it starts an unless-stopped container the user had stopped.
void note_user_stop(const Store& store, const std::string& id) noexcept {
    int fd = ::open(store.paths().user_stopped_file(id).c_str(), O_WRONLY | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
    if (fd >= 0) ::close(fd);
}

// Kills every process of the container: the cgroup when there is one, else
// the init (whose death takes the whole PID namespace with it).
void kill_everything(const ContainerState& st) {
    if (!st.cgroup.empty()) {
        Cgroup cg(st.cgroup);
        try {
            if (cg.exists() && cg.kill_all()) return;
        } catch (const Error&) {
        }
    }
    if (UniqueFd init = open_pidfd(st.pid, st.pid_start)) signal_pidfd(init.get(), SIGKILL);
}

}  // namespace

namespace {

// The live status: from the record, checked against the kernel (processes
// by PID and start time, the cgroup's freezer). `root`: the state root's
// descriptor when listing, which may then trust a running record whose shim
// shows its sign of life: the shim records the exit itself once it has
// drained the container's output (so a container in that moment, up to two
// seconds for one whose pipes stay full, is listed as running rather than
// stopping).
// The status of a container whose init is alive. `freeze` records Paused
// before it freezes and `thaw` Running after it thaws: only a container
// recorded as Paused can be frozen, and only then is cgroup.freeze read.
Status live_status(const ContainerState& st) {
    bool frozen = st.status == Status::Paused && !st.cgroup.empty() && Cgroup(st.cgroup).frozen();
    return frozen ? Status::Paused : Status::Running;
}

void derive_status(ContainerView& v, int root = -1) {
    if (!v.state) {
        // /run was emptied (reboot): whatever ran is gone; it can be started again.
        v.status = Status::Exited;
        v.reason = "runtime state lost (host rebooted?)";
        return;
    }
    const ContainerState& st = *v.state;
    v.reason = st.reason;
    if (st.status == Status::Exited) {
        // Recorded by the shim after it reaped the init: nothing to ask the
        // kernel (the shim may still be tearing down; it owns nothing live),
        // unless it said it would start it again (--restart): only while
        // it lives.
        v.status = Status::Exited;
        if (st.restarting) {
            v.shim_alive = process_alive(st.shim_pid, st.shim_start);
            v.state->restarting = v.shim_alive;
        }
        return;
    }
    if (root >= 0 && (st.status == Status::Running || st.status == Status::Paused) && shim_mark_held(root, st.id.c_str())) {
        v.init_alive = v.shim_alive = true;
        v.status = live_status(st);
        return;
    }
    pid_t init_parent = 0;
    v.init_alive = st.pid > 0 && process_alive(st.pid, st.pid_start, init_parent);
    // The init is the shim's child, and a dying process's children are
    // reparented before it is gone: while the init names the shim as its
    // parent, the shim is alive. Saves a read of /proc per container.
    // A live init's parent is its shim, or the shim is gone (the init was
    // reparented): a live recorded "shim" that is not the parent is not it.
    v.shim_alive = st.shim_pid > 0 &&
                   (v.init_alive ? init_parent == st.shim_pid : process_alive(st.shim_pid, st.shim_start));
    switch (st.status) {
        case Status::Created:
            v.status = Status::Created;
            break;
        case Status::Running:
        case Status::Paused:
        case Status::Stopping:
            if (v.init_alive) {
                v.status = live_status(st);
                if (!v.shim_alive) v.reason = "shim lost; container unowned";
            } else if (v.shim_alive) {
                v.status = Status::Stopping;
            } else {
                v.status = Status::Exited;
                v.reason = "shim-lost";
            }
            break;
        default:
            v.status = st.status;
    }
}

// The group's path as /proc/PID/cgroup names it (relative to the v2 root).
std::string group_as_seen(const Cgroup& cg) {
    auto mount = find_cgroup2_mount();
    if (!mount) return {};
    return "/" + cg.path().lexically_relative(*mount).string();
}

// The container as its cgroup shows it: its init (PID 1 of a namespace one
// level below ours, in the group, past its pivot_root) and the shim that is
// the init's parent (outside the group: nothing inside can pose as it). The
// group's path follows from the id alone, so this holds when state.json is
// gone (a lost /run) or says something untrue.
std::optional<ContainerState> live_state_from_cgroup(const std::string& id) {
    auto cg = container_cgroup(id);
    if (!cg || !cg->exists() || !cg->populated()) return std::nullopt;
    std::string group = group_as_seen(*cg);
    for (int pid : cg->pids()) {
        auto init = process_info(pid);
        if (!init) continue;
        // Pinned by a pidfd while it is checked: the PID cannot be reused
        // for another process meanwhile.
        UniqueFd pinned = open_pidfd(pid, init->start);
        if (!pinned || !is_namespace_init(pid) || cgroup_v2_of(pid) != group || !has_own_root(pid)) continue;
        ContainerState st;
        st.id = id;
        st.status = Status::Running;
        st.pid = init->pid;
        st.pid_start = init->start;
        st.started_ns = start_time_ns(init->start);
        st.cgroup = cg->path().string();
        if (auto shim = process_info(init->ppid);
            shim && shim->comm == "minirt-shim" && cgroup_v2_of(shim->pid) != group) {
            st.shim_pid = shim->pid;
            st.shim_start = shim->start;
        }
        return st;
    }
    return std::nullopt;
}

// A recorded init that is alive but not in the container's own group is
// not the container's (an edited state.json naming a host process).
bool init_outside_its_group(const ContainerView& v) {
    if (!v.init_alive || !v.state) return false;
    auto cg = container_cgroup(v.id);
    if (!cg || !cg->exists()) return false;
    return cgroup_v2_of(v.state->pid) != group_as_seen(*cg);
}

// When the record and the kernel disagree, the kernel wins: a recorded
// process that is not there (or a record that is missing) is checked
// against the exit record the shim may have left under --storage and
// against the container's cgroup. Only for views that need it (a lost
// shim, a lost record, an init that is not where the record says), so
// listing the usual containers costs nothing more.
// `thorough`: also check that a live recorded init is in the container's
// group (one more read of /proc, so not for each container of `list`,
// whose running records are vouched for by their shims' marks).
void reconcile_with_kernel(const Store& store, ContainerView& v, bool thorough) {
    bool record_lost = !v.state;
    bool shim_lost = v.status == Status::Exited && v.reason == "shim-lost";
    bool init_missing = v.status == Status::Stopping && !v.init_alive;
    bool init_foreign = thorough && !record_lost && !shim_lost && !init_missing && init_outside_its_group(v);
    if (!record_lost && !shim_lost && !init_missing && !init_foreign) return;
    if (init_foreign) {
        // Nothing the record names is the container's: never signalled.
        v.state->pid = v.state->shim_pid = 0;
        v.state->pid_start = v.state->shim_start = 0;
        v.init_alive = v.shim_alive = false;
        v.status = Status::Exited;
        v.reason = "shim-lost";
    }
    try {
        // Only the exit of the run the record describes (or of any, when
        // the record is gone): an older one was removed when this run began.
        auto exited = store.load_exit_fallback(v.id);
        if (exited && v.state && (exited->pid != v.state->pid || exited->shim_pid != v.state->shim_pid))
            exited.reset();
        if (exited) {
            if (v.state) exited->summary = v.state->summary;
            v.state = std::move(*exited);
            v.status = Status::Exited;
            v.reason = v.state->reason;
            v.init_alive = v.shim_alive = false;
            return;
        }
    } catch (const Error&) {
        // A damaged exit record says nothing; the cgroup still may.
    }
    auto live = live_state_from_cgroup(v.id);
    if (!live) {
        // The init is gone but a shim of the container still holds its mark:
        // it is writing the exit down (a record that named the wrong
        // processes is rewritten then), so the container is stopping, not lost.
        if ((shim_lost || init_foreign) &&
            shim_mark_held(AT_FDCWD, store.paths().state_dir(v.id).c_str())) {
            v.status = Status::Stopping;
            v.reason.clear();
            v.shim_alive = true;
        }
        return;
    }
    if (v.state) {
        // What the record knew of the start and the user's wishes stays.
        if (v.state->started_ns) live->started_ns = v.state->started_ns;
        live->stop_requested = v.state->stop_requested;
        live->summary = v.state->summary;
        live->monitor = v.state->monitor;
        if (v.state->status == Status::Paused) live->status = Status::Paused;
    }
    if (record_lost && live->shim_pid > 0)
        if (UniqueFd shim = open_pidfd(live->shim_pid, live->shim_start))
            signal_pidfd(shim.get(), rewrite_state_signal());  // see state/lock.hpp
    v.state = std::move(*live);
    v.init_alive = true;
    v.shim_alive = v.state->shim_pid > 0;
    v.status = live_status(*v.state);
    v.reason = v.shim_alive ? "" : "shim lost; container unowned";
}

void read_live_health(const Store& store, ContainerView& v) {
    if (v.summary.healthcheck && (v.status == Status::Running || v.status == Status::Paused))
        v.health = read_health_status(store.paths(), v.id);
}

}  // namespace

ContainerView view_container(const Store& store, const std::string& id) {
    ContainerView v;
    v.id = id;
    try {
        v.config = store.load_config(id);
        v.state = store.load_state(id);
    } catch (const Error& e) {
        v.load_error = e.message();
        v.status = Status::Unknown;
        return v;
    }
    v.summary = ContainerSummary::of(*v.config);
    derive_status(v);
    reconcile_with_kernel(store, v, true);
    read_live_health(store, v);
    return v;
}

std::vector<ContainerView> view_all(const Store& store) {
    std::vector<std::string> ids = store.list_ids();
    std::vector<ContainerView> views(ids.size());
    UniqueFd root = store.open_root();
    auto view_range = [&](size_t begin, size_t end) {
        for (size_t i = begin; i < end; ++i) {
            ContainerView& v = views[i];
            v.id = std::move(ids[i]);
            try {
                if (root) v.state = store.load_state(v.id, root.get());
                if (v.state && !v.state->summary.empty()) v.summary = std::move(v.state->summary);
                else v.summary = ContainerSummary::of(store.load_config(v.id));
            } catch (const Error& e) {
                v.load_error = e.message();
                v.status = Status::Unknown;
                continue;
            }
            try {
                derive_status(v, root.get());
                reconcile_with_kernel(store, v, false);
                read_live_health(store, v);
            } catch (const std::exception& e) {  // never out of a helper thread
                v.load_error = e.what();
                v.status = Status::Unknown;
            }
        }
    };
    // Each container costs a few file reads and a parse, all independent:
    // with many, they are shared out over the CPUs (each thread fills its
    // own slice of `views`).
    constexpr size_t kPerThread = 128;
    size_t threads = std::min<size_t>({std::max(1u, std::thread::hardware_concurrency()), 8,
                                       (views.size() + kPerThread - 1) / kPerThread});
    if (threads <= 1) {
        view_range(0, views.size());
        return views;
    }
    std::vector<std::thread> helpers;
    size_t slice = (views.size() + threads - 1) / threads;
    try {
        for (size_t t = 1; t < threads; ++t)
            helpers.emplace_back(view_range, t * slice, std::min(views.size(), (t + 1) * slice));
    } catch (const std::system_error&) {
        // No thread to be had: this one does the rest.
        view_range(helpers.size() * slice + slice, views.size());
    }
    view_range(0, std::min(views.size(), slice));
    for (auto& h : helpers) h.join();
    return views;
}

std::string status_text(const ContainerView& v, int64_t now) {
    if (!v.load_error.empty()) return "Error";
    auto cap = [](std::string s) {
        if (!s.empty()) s[0] = static_cast<char>(std::toupper(static_cast<unsigned char>(s[0])));
        return s;
    };
    std::string s = cap(to_string(v.status));
    const auto& st = v.state;
    if (v.status == Status::Running || v.status == Status::Paused) {
        if (st && st->started_ns)
            s = (v.status == Status::Paused ? "Paused, up " : "Up ") + human_duration(now - st->started_ns);
        if (!v.health.empty()) s += " (" + v.health + ")";
    } else if (v.waiting_to_restart()) {
        // Docker's words for a container in its restart backoff.
        s = "Restarting (" + (st->exit_code ? std::to_string(*st->exit_code) : std::string("?")) + ")";
        if (st->finished_ns) s += " " + human_age(st->finished_ns, now);
    } else if (v.status == Status::Exited) {
        s += " (" + (st && st->exit_code && v.reason != "shim-lost" ? std::to_string(*st->exit_code) : std::string("?")) + ")";
        if (st && st->finished_ns) s += " " + human_age(st->finished_ns, now);
        if (!v.reason.empty() && v.reason != "exited") s += " [" + v.reason + "]";
    }
    return s;
}

void call_off_restart(const Store& store, FileLock& lock, const ContainerView& v) {
    // Its shim reads this under the lock before it starts it again, and is
    // woken to read it now.
    ContainerState st = *v.state;
    st.stop_requested = true;
    store.save_state(st);
    lock.release();
    if (UniqueFd shim = open_pidfd(st.shim_pid, st.shim_start)) signal_pidfd(shim.get(), SIGTERM);
    wait_for_shim(store, st);
}

void stop_container(const Store& store, const std::string& id, int timeout_s, int signal) {
    ContainerState st;
    bool paused = false;
    {
        FileLock lock = store.lock(id);
        if (lock.stale()) return;  // removed meanwhile: nothing left to stop
        ContainerView v = view_container(store, id);
        if (!v.load_error.empty()) throw Error(v.load_error);
        if (v.status == Status::Created && v.state && v.state->shim_pid == 0) return;
        if (v.waiting_to_restart()) {
            note_user_stop(store, id);
            call_off_restart(store, lock, v);
            return;
        }
        if (!is_live(v.status)) return;
        st = *v.state;
        paused = v.status == Status::Paused;
        if (signal == 0) signal = v.config && v.config->stop_signal ? v.config->stop_signal : SIGTERM;
        if (timeout_s < 0) timeout_s = v.config ? v.config->stop_timeout : 10;
        if (v.config) record_container_event(store.paths(), *v.config, "stop");
        if (!st.stop_requested) {
            st.stop_requested = true;
            store.save_state(st);
        }
        note_user_stop(store, id);
    }
    UniqueFd init = open_pidfd(st.pid, st.pid_start);
    if (init) {
        bool exited = false;
        if (timeout_s > 0) {
            log_debug("container " + id.substr(0, 12) + ": signal " + std::to_string(signal) + " to process " +
                      std::to_string(st.pid) + ", then SIGKILL after " + std::to_string(timeout_s) + " s");
            signal_pidfd(init.get(), signal);
            // A frozen container must thaw to handle the signal.
            if (paused) Cgroup(st.cgroup).set_frozen(false);
            exited = wait_pidfd(init.get(), timeout_s * 1000);
        }
        if (!exited) {
            log_debug("container " + id.substr(0, 12) + ": SIGKILL to every process");
            kill_everything(st);
            if (!wait_pidfd(init.get(), kShimGraceMs))
                throw Error("container " + id.substr(0, 12) + " did not die after SIGKILL");
        }
    }
    wait_for_shim(store, st);
    log_info("container " + id.substr(0, 12) + " stopped");
}

namespace {

// Docker's rule for kill and --restart: a signal that would end the
// container turns its restart policy off until the next start; one that
// programs take as a request (reload, rotate logs) or that does not end a
// process leaves it on. The container's stop signal always ends it.
bool ends_the_container(int sig, int stop_signal) {
    if (sig == (stop_signal ? stop_signal : SIGTERM)) return true;
    for (int kept : {SIGHUP, SIGUSR1, SIGUSR2, SIGWINCH, SIGCHLD, SIGCONT, SIGURG, SIGSTOP, SIGTSTP, SIGTTIN, SIGTTOU})
        if (sig == kept) return false;
    return true;
}

void mark_stop_requested(const Store& store, const std::string& id) {
    FileLock lock = store.lock(id);
    if (lock.stale()) return;
    auto st = store.load_state(id);
    if (!st || st->stop_requested || (st->status != Status::Running && st->status != Status::Paused)) return;
    st->stop_requested = true;
    store.save_state(*st);
    note_user_stop(store, id);
}

}  // namespace

void kill_container(const Store& store, const std::string& id, int sig) {
    ContainerView v = view_container(store, id);
    if (!v.load_error.empty()) throw Error(v.load_error);
    if (v.status != Status::Running && v.status != Status::Paused)
        throw Error("container " + id.substr(0, 12) + " is not running");
    if (v.config && !v.config->restart.none() && ends_the_container(sig, v.config->stop_signal))
        mark_stop_requested(store, id);
    if (v.config) record_container_event(store.paths(), *v.config, "kill", {{"signal", std::to_string(sig)}});
    const ContainerState& st = *v.state;
    UniqueFd init = open_pidfd(st.pid, st.pid_start);
    if (!init || !signal_pidfd(init.get(), sig))
        throw Error("container " + id.substr(0, 12) + " is not running");
    // SIGKILL cannot be caught: as with podman, the exit is recorded by the
    // time we return, so `kill C; rm C` never finds it still running.
    if (sig != SIGKILL) return;
    if (!wait_pidfd(init.get(), kShimGraceMs))
        throw Error("container " + id.substr(0, 12) + " did not die after SIGKILL");
    wait_for_shim(store, st);
}

std::optional<int> wait_container(const Store& store, const std::string& id) {
    for (;;) {
        if (!store.exists(id)) {
            // Removed (by --rm, say): its shim left the exit code behind.
            if (auto code = store.removed_exit_code(id)) return code;
            throw Error("container " + id.substr(0, 12) + " was removed while waiting");
        }
        ContainerView v = view_container(store, id);
        if (!v.load_error.empty()) throw Error(v.load_error);
        if (v.status == Status::Exited) {
            if (v.reason == "shim-lost" || !v.state || !v.state->exit_code) return std::nullopt;
            return v.state->exit_code;
        }
        if (v.status == Status::Created && !v.shim_alive) {
            // A start in progress holds the container's lock until the
            // command runs (or fails): wait for it and look again. Nobody
            // holding it means nobody is starting it.
            auto idle = FileLock::try_acquire_existing(store.paths().lock_file(id));
            if (!idle) {
                store.lock(id).release();
                continue;
            }
            // A start may have finished between the look above and the lock:
            // look again while nobody can start it.
            ContainerView again = view_container(store, id);
            if (again.status != Status::Created || again.shim_alive || !store.exists(id)) continue;
            throw Error("container " + id.substr(0, 12) + " has not been started");
        }
        UniqueFd shim = v.shim_alive ? open_pidfd(v.state->shim_pid, v.state->shim_start) : UniqueFd{};
        if (shim) wait_pidfd(shim.get(), -1);
        else std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
}

std::vector<std::string> removal_order(const Store& store, const std::vector<std::string>& ids) {
    std::set<std::string> pending(ids.begin(), ids.end());
    std::vector<std::string> out;
    while (!pending.empty()) {
        bool progress = false;
        for (const auto& id : ids) {
            if (!pending.count(id)) continue;
            auto deps = store.dependents(id);
            if (std::any_of(deps.begin(), deps.end(), [&](const std::string& d) { return d != id && pending.count(d); }))
                continue;
            out.push_back(id);
            pending.erase(id);
            progress = true;
        }
        if (!progress) break;  // never for real records: a container joins only older ones
    }
    for (const auto& id : ids)
        if (pending.count(id)) out.push_back(id);
    return out;
}

std::string names_of(const Store& store, const std::vector<std::string>& ids) {
    std::string names;
    for (const auto& id : ids) {
        std::string shown = id.substr(0, 12);
        try {
            shown = store.load_config(id).name;
        } catch (const Error&) {
        }
        names += (names.empty() ? "" : ", ") + shown;
    }
    return names;
}

void remove_container(const Store& store, const std::string& id, bool force, bool volumes) {
    for (int attempt = 0;; ++attempt) {
        FileLock lock = store.lock(id);
        if (lock.stale() || !store.exists(id)) {
            // A concurrent rm got there first, or a killed `run` left pieces:
            // with -f, whatever is left of the id goes.
            if (force) {
                if (!lock.stale()) store.remove(id, lock);
                return;
            }
            throw Error("no such container " + id.substr(0, 12));
        }
        if (auto deps = store.dependents(id); !deps.empty())
            throw Error("container " + id.substr(0, 12) + " has dependent containers which must be removed before it: " +
                        names_of(store, deps) + " (or use rm --depend)");
        ContainerView v = view_container(store, id);
        bool busy = is_live(v.status) || (v.status == Status::Created && v.shim_alive) || v.waiting_to_restart();
        if (busy) {
            if (!force)
                throw Error("container " + (v.config ? v.config->name : id.substr(0, 12)) + " is " +
                                (v.waiting_to_restart() ? "restarting" : "running") + "; stop it first or use rm -f",
                            kExitStateImproper);
            if (attempt > 3) throw Error("container " + id.substr(0, 12) + " keeps running; cannot remove it");
            ContainerState st = *v.state;
            lock.release();
            if (v.status == Status::Created) {
                if (UniqueFd shim = open_pidfd(st.shim_pid, st.shim_start)) {
                    signal_pidfd(shim.get(), SIGKILL);
                    wait_pidfd(shim.get(), kShimGraceMs);
                }
            } else {
                stop_container(store, id, 0);
            }
            continue;
        }
        // Whatever its files say, or cannot say when they are damaged, the
        // container's processes are in its cgroup.
        if (auto cg = container_cgroup(id); cg && cg->exists()) {
            if (cg->populated() && !force)
                throw Error("container " + id.substr(0, 12) + " still has running processes; use rm -f",
                            kExitStateImproper);
            cg->teardown();
        }
        if (v.state && v.init_alive) kill_everything(*v.state);  // an unowned leftover
        // What a lost shim left of its networks, and the addresses it held.
        engine::collect_network_garbage(store.paths(), id);
        if (v.config) engine::release_addresses(store.paths(), *v.config);
        store.remove(id, lock);
        if (volumes && v.config) Volumes(store.paths()).remove_anonymous_of(*v.config);
        if (v.config) record_container_event(store.paths(), *v.config, "remove");
        log_info("container " + id.substr(0, 12) + " removed");
        return;
    }
}

namespace {

constexpr int kFreezeTimeoutMs = 5000;

}  // namespace

void set_frozen(const Store& store, const std::string& id, bool frozen) {
    FileLock lock = store.lock(id);
    if (lock.stale()) throw Error("container was removed");
    ContainerView v = view_container(store, id);
    if (!v.load_error.empty()) throw Error(v.load_error);
    if (frozen && v.status == Status::Paused) throw Error("container is already paused");
    if (!frozen && v.status == Status::Running) throw Error("container is not paused");
    if (v.status != Status::Running && v.status != Status::Paused) throw Error("container is not running");
    if (v.state->cgroup.empty()) throw Error("container has no cgroup v2 group (this host has no cgroup2 mount)");
    Cgroup cg(v.state->cgroup);
    // The record says "may be frozen" whenever it can be (Paused before the
    // freeze, Running after the thaw): readers look at cgroup.freeze only
    // for containers recorded as Paused (see view_container).
    auto record = [&](Status s) {
        ContainerState st = *v.state;
        st.status = s;
        store.save_state(st);
    };
    if (frozen) record(Status::Paused);
    cg.set_frozen(frozen);
    // cgroup.freeze only asks; cgroup.events says when every task is frozen.
    if (!cg.wait_frozen(frozen, kFreezeTimeoutMs))
        throw Error(std::string("the kernel did not report the container ") + (frozen ? "frozen" : "thawed") +
                    " within 5 s");
    if (!frozen) record(Status::Running);
    if (v.config) record_container_event(store.paths(), *v.config, frozen ? "pause" : "unpause");
}


}  // namespace minirt
