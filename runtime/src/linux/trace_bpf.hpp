// `minirt trace`'s kernel side: loads runtime/bpf/trace.bpf.c (a libbpf
// skeleton) for one trace session, attaches the programs of the events
// chosen, and hands the records of its ring buffer to a callback. Each
// session is its own copy; closing it detaches everything (nothing is
// pinned). See docs/trace.md.
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <linux/types.h>

#include "trace_abi.h"

namespace minirt::trace {

namespace fs = std::filesystem;

// The event names, in MT_* order (index 0 unused).
const std::vector<std::string>& event_names();
// A bit (1 << MT_*) per event of a comma-separated list ("all" for every
// one). Throws Error(EINVAL) naming a word it does not know.
uint32_t parse_events(const std::string& list);
inline constexpr const char* kDefaultEvents = "exec,exit,fork";
// The names of a mask's events, comma-separated, in MT_* order.
std::string event_list(uint32_t mask);

// Why this host cannot trace, or nullopt. Cheap: nothing is loaded.
std::optional<std::string> unsupported_reason();

// A cgroup v2 group as the kernel names it in BPF: its id (the inode of
// its directory) and its depth below the root.
struct Group {
    uint64_t id = 0;
    unsigned level = 0;
};
// Throws if `dir` (a directory of the cgroup v2 mount) cannot be read.
Group group_of(const fs::path& dir);

class Session {
public:
    using Sink = std::function<void(const mt_event&)>;
    // Loads and attaches the programs of `events` (a parse_events mask).
    Session(uint32_t events, Sink sink);
    ~Session();
    Session(const Session&) = delete;
    Session& operator=(const Session&) = delete;

    // Traces the tasks of `group` (a container's), or with `children` the
    // tasks of each group directly below it (a cgroup parent, --all).
    void add(const fs::path& group, bool children = false);
    // The fd to poll: readable when records wait (or a pause is over).
    // consume() hands every queued record to the sink, then leaves the
    // ring alone for a moment so that a busy container is read in batches.
    // A sink's exception comes out of consume().
    int fd() const;
    void consume();
    // Records the kernel could not queue (a full ring): counted, not kept.
    uint64_t dropped() const;

private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

}  // namespace minirt::trace
