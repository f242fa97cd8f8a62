// The memory monitor: per-container RSS watching with a soft (warn) and a
// hard (kill) limit. One interface, two backends behind it: the kernel
// module (/dev/container_monitor, monitor_kmod.cpp) and eBPF on the
// kmem/rss_stat tracepoint (monitor_bpf.cpp).
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>

namespace minirt {

struct MonitorEvent {
    enum class Type { Soft, Hard, Exit } type;
    std::string id;
    int pid = 0;
    uint64_t rss = 0;
    uint64_t limit = 0;
};

struct MonitorEntry {
    std::string id;
    int pid = 0;
    uint64_t soft_limit = 0, hard_limit = 0, rss = 0;
    uint32_t processes = 0;
    bool soft_crossed = false;
};

class Monitor {
public:
    virtual ~Monitor() = default;
    virtual const char* backend() const = 0;
    // Watches `pid` (a container's init) as `id`; 0 = no such limit.
    // Throws Error with the kernel's errno (EEXIST for a duplicate id).
    virtual void add(int pid, const std::string& id, uint64_t soft, uint64_t hard) = 0;
    virtual void remove(const std::string& id) = 0;
    // Readable when events are queued (for epoll).
    virtual int event_fd() const = 0;
    // The next queued event, without blocking.
    virtual std::optional<MonitorEvent> next_event() = 0;
    virtual std::optional<MonitorEntry> query(const std::string& id) = 0;
};

// The monitor this host offers: the module when /dev/container_monitor
// exists, else eBPF when the kernel supports it, else nullptr.
std::unique_ptr<Monitor> open_monitor();
bool monitor_available();
// Why neither backend is available (names both), for error messages.
std::string monitor_unavailable_reason();
// The backends themselves (nullptr when that one is unavailable).
std::unique_ptr<Monitor> open_kmod_monitor();
bool kmod_monitor_available();
// The longest id the monitor takes.
inline constexpr size_t kMonitorIdMax = 63;

}  // namespace minirt
