// The shim's watch of its container by the memory monitor (kernel module
// or eBPF, linux/monitor.hpp): registering the init, reading the events
// (soft crossings are recorded in state.json at once, a hard kill is kept
// for the exit record), and leaving at the end.
#pragma once

#include <sys/types.h>

#include <memory>
#include <optional>
#include <string>

#include "linux/monitor.hpp"
#include "state/records.hpp"
#include "state/store.hpp"

namespace minirt {

class LogWriter;

class MonitorWatch {
public:
    MonitorWatch(const Store& store, std::string id) : store_(store), id_(std::move(id)) {}
    // Registers `pid` with the container's limits. With limits asked for,
    // running unwatched would break a promise: any failure is an Error.
    // Without, the container runs and the log says why it is unwatched.
    void add(pid_t pid, const ContainerConfig& c, LogWriter& log);
    int event_fd() const { return monitor_ ? monitor_->event_fd() : -1; }
    void drain(LogWriter& log);
    void leave() noexcept;
    const std::optional<MonitorRecord>& record() const { return record_; }

private:
    void record_soft_crossing(const MonitorEvent& ev, LogWriter& log);
    const Store& store_;
    std::string id_;
    std::unique_ptr<Monitor> monitor_;
    std::optional<MonitorRecord> record_;
};

// Soft or hard RSS limits for the memory monitor to enforce.
inline bool memory_limited(const ContainerConfig& c) { return c.monitor_soft || c.monitor_hard; }

}  // namespace minirt
