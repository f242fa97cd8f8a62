#include "shim/exit_record.hpp"

#include <unistd.h>

#include "common/error.hpp"
#include "common/parse.hpp"
#include "state/log.hpp"
#include "state/lock.hpp"

namespace minirt {

void ShimRecords::note_log_drops(ContainerState& st) const {
    if (!log_) return;
    LogWriter::Dropped d = log_->dropped();
    st.log_dropped_lines = d.lines;
    st.log_dropped_bytes = d.bytes;
}

void ShimRecords::failed_start(ContainerState st, int code, const std::string& message) const {
    st.status = Status::Exited;
    st.exit_code = code;
    st.exit_signal = 0;
    st.reason = "exec-failed";
    st.restarting = false;
    st.error = message;
    st.finished_ns = now_ns();
    st.pid = 0;
    st.shim_pid = 0;
    store_.save_state(st);
}

ContainerState ShimRecords::exit_record(const ExitFacts& f) const {
    std::optional<ContainerState> loaded;
    try {
        loaded = store_.load_state(id_);
    } catch (const Error&) {
        // Damaged: rebuilt from what we know.
    }
    ContainerState st = loaded.value_or(ContainerState{});
    if (!loaded) {
        // /run was emptied under us: what we know is the truth.
        st.pid = f.pid;
        st.shim_pid = ::getpid();
        st.cgroup = f.cgroup;
    }
    st.id = id_;
    st.status = Status::Exited;
    st.exit_code = f.code;
    st.exit_signal = f.signal;
    st.finished_ns = now_ns();
    st.monitor = f.monitor;
    note_log_drops(st);
    if (f.monitor && f.monitor->hard_killed) st.reason = "memory hard limit";
    else if (f.oom) st.reason = "oom-killed";
    else if (st.stop_requested) st.reason = "stopped";
    else if (f.signal) st.reason = "killed";
    else st.reason = "exited";
    st.runs.push_back({st.started_ns, st.finished_ns, st.exit_code, st.reason});
    if (st.runs.size() > ContainerState::kRunsKept)
        st.runs.erase(st.runs.begin(), st.runs.end() - ContainerState::kRunsKept);
    st.restarting = restart_wanted(f.restart, f.code, st.restart_count, st.stop_requested);
    return st;
}

// The exit is what every later command asks about: it must not be lost to
// a full --root.
bool ShimRecords::save_exit(const ExitFacts& facts, UniqueFd& alive) const noexcept {
    std::optional<ContainerState> st;
    // No restart from a record that did not reach state.json at once (a full --root).
    bool may_restart = true;
    // Read, changed and written under the container's lock, as every update.
    auto save = [&] {
        try {
            // Removed meanwhile (rm -f while we tore down): nobody to tell,
            // and nothing of it may be made again, not even its lock file.
            if (!store_.exists(id_)) return true;
            FileLock lock = store_.lock(id_);
            if (lock.stale()) return true;
            if (!store_.exists(id_)) {
                lock.unlink_and_release();
                return true;
            }
            if (!st) st = exit_record(facts);
            if (!may_restart) st->restarting = false;
            store_.save_state(*st);
            return true;
        } catch (const Error& e) {
            if (log_) log_->note("minirt: recording the exit: " + e.message());
            return false;
        }
    };
    if (save()) return st && st->restarting;
    may_restart = false;
    fs::path fallback = store_.paths().exit_fallback(id_);
    try {
        if (!st) st = exit_record(facts);
        st->restarting = false;
        store_.save_exit_fallback(*st);
    } catch (const Error& e) {
        if (log_) log_->note("minirt: recording the exit under --storage: " + e.message());
    }
    // The record stands: readers no longer take this shim for a running
    // container's while it tries state.json again.
    alive.reset();
    for (int delay_ms = 50; delay_ms <= 800; delay_ms *= 2) {
        ::usleep(static_cast<useconds_t>(delay_ms) * 1000);
        if (save()) {
            ::unlink(fallback.c_str());
            return false;
        }
    }
    return false;
}

void ShimRecords::cancel_restart() const noexcept {
    try {
        FileLock lock = store_.lock(id_);
        if (lock.stale()) return;
        auto st = store_.load_state(id_);
        if (!st || !st->restarting) return;
        st->restarting = false;
        store_.save_state(*st);
    } catch (const Error& e) {
        if (log_) log_->note("minirt: --restart: " + e.message());
    }
}

void ShimRecords::rewrite_lost(const std::optional<MonitorRecord>& monitor, UniqueFd& alive) const noexcept {
    try {
        // Not yet started (nothing recorded to rewrite), or removed.
        if (running_.id.empty() || !store_.exists(id_)) return;
        FileLock lock = store_.lock(id_);
        if (lock.stale() || store_.load_state(id_)) return;  // there after all
        ContainerState st = running_;
        st.monitor = monitor;
        note_log_drops(st);
        store_.save_state(st);
        // The old mark is on the lost directory: list would not see it.
        alive = hold_shim_mark(store_.paths().state_dir(id_));
    } catch (const Error&) {
        // Asked again by the next command that finds the record missing.
    }
}

void ShimRecords::log_drops() const noexcept {
    try {
        FileLock lock = store_.lock(id_);
        if (lock.stale()) return;
        auto st = store_.load_state(id_);
        if (!st) return;
        note_log_drops(*st);
        store_.save_state(*st);
    } catch (const Error&) {
        // Counted again at the exit.
    }
}

}  // namespace minirt
