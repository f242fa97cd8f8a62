// The shim's records of its container, beyond the start: a start that
// failed, the exit (never lost to a full --root), the log's drop counts,
// and the running record again after /run was emptied under it.
#pragma once

#include <sys/types.h>

#include <optional>
#include <string>

#include "common/fd.hpp"
#include "state/records.hpp"
#include "state/store.hpp"

namespace minirt {

class LogWriter;

struct ExitFacts {
    int code = 0;
    int signal = 0;
    bool oom = false;
    pid_t pid = 0;       // the init's, for a record rebuilt from nothing
    std::string cgroup;  // the same
    std::optional<MonitorRecord> monitor;
    RestartPolicy restart;  // decides, with the record's stop_requested, whether it runs again
};

class ShimRecords {
public:
    ShimRecords(const Store& store, std::string id) : store_(store), id_(std::move(id)) {}
    void set_log(LogWriter* log) { log_ = log; }
    // The record written at the start, for rewrite_lost().
    void set_running(const ContainerState& st) { running_ = st; }

    // The command could not be started: exited, reason exec-failed.
    void failed_start(ContainerState st, int code, const std::string& message) const;
    // To state.json if it can, else to exit-state.json under --storage
    // (read in its place; the shim's mark `alive` is then let go, as the
    // record stands), and state.json is tried again a few times, briefly.
    // True when state.json says the container is restarting.
    bool save_exit(const ExitFacts& facts, UniqueFd& alive) const noexcept;
    // The restart is off (a stop, a start or an rm came): not restarting.
    void cancel_restart() const noexcept;
    // The running record again, after a command found it lost (and told us).
    void rewrite_lost(const std::optional<MonitorRecord>& monitor, UniqueFd& alive) const noexcept;
    // What the log lost to a full disk so far.
    void log_drops() const noexcept;

private:
    ContainerState exit_record(const ExitFacts& facts) const;
    void note_log_drops(ContainerState& st) const;
    const Store& store_;
    std::string id_;
    LogWriter* log_ = nullptr;
    ContainerState running_;
};

}  // namespace minirt
