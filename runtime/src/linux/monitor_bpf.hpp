// The eBPF backend of the memory monitor (runtime/bpf/monitor.bpf.c on the
// kmem/rss_stat tracepoint, pinned under /sys/fs/bpf/minirt/). Selection
// between the backends is open_monitor() in monitor.hpp.
#pragma once

#include <memory>
#include <optional>
#include <string>

#include "linux/monitor.hpp"

namespace minirt {

// Where the program and its maps are pinned while any container uses them.
inline constexpr const char* kBpfPinRoot = "/sys/fs/bpf/minirt";
// Serialises loading, pinning, registering and unpinning across shims.
inline constexpr const char* kBpfLockPath = "/run/minirt-bpf.lock";

// Why this host cannot run the eBPF backend, or nullopt if it can. Cheap:
// no program is loaded (one map-type probe at most).
std::optional<std::string> bpf_monitor_unsupported_reason();

// The eBPF monitor, or nullptr if this host cannot run it. Nothing is
// loaded until the first add() with a limit.
std::unique_ptr<Monitor> open_bpf_monitor();

// For `minirt info`: whether the program is loaded (pinned) now, and how
// many containers it watches.
struct BpfMonitorStatus {
    bool pinned = false;
    size_t containers = 0;
    uint64_t lost_events = 0;
};
BpfMonitorStatus bpf_monitor_status();

}  // namespace minirt
