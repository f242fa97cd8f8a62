// Resource limits of a container and how they map onto cgroup v2 files.
// The mapping is pure (no I/O) so it is unit-tested without root.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <nlohmann/json_fwd.hpp>

namespace minirt {

struct IoLimit {
    std::string device;  // "MAJ:MIN"
    uint64_t bytes_per_sec = 0;
};

// A limit lifted: "max" in the cgroup file (OCI's -1).
inline constexpr uint64_t kNoLimit = UINT64_MAX;

struct Resources {
    std::optional<uint64_t> memory_max;       // --mem
    std::optional<uint64_t> memory_high;      // --mem-soft
    std::optional<uint64_t> memory_swap_max;  // --mem-swap (default 0 when --mem is set)
    std::optional<uint64_t> memory_low;       // --memory-reservation (memory.low)
    std::optional<uint64_t> cpu_quota_us;     // --cpus / --cpu, per cpu_period_us
    uint64_t cpu_period_us = 100000;
    std::optional<uint64_t> cpu_weight;  // --cpu-weight 1..10000
    std::optional<int> nice;             // --nice -20..19
    std::optional<std::string> cpuset_cpus;
    std::optional<std::string> cpuset_mems;  // --cpuset-mems
    std::optional<uint64_t> blkio_weight;    // --blkio-weight 10..1000 (io.weight, by runc's map)
    std::optional<int> pin_cpu;  // --pin-cpu[=N]: affinity to one CPU + SCHED_RR
    std::vector<IoLimit> io_read_bps, io_write_bps;
    std::optional<uint64_t> pids_max;  // --pids-limit
    // false (minirt's flags): a memory limit without --mem-swap means no
    // swap. true (an OCI config, `oci update`): swap only as given.
    bool swap_as_given = false;

    bool empty() const;
};

struct ControlWrite {
    std::string file;
    std::string value;
    std::string flag;        // which flag asked for it, for error messages
    std::string controller;  // the controller the file belongs to
};

// The cgroup files to write, in order (memory.max before memory.swap.max ...).
std::vector<ControlWrite> cgroup_writes(const Resources& r);

// The CPUs of a list like "0,1" or "0-3,6" (the kernel's cpuset format), in
// ascending order; throws Error naming `what` if it is not such a list.
std::vector<int> parse_cpu_list(std::string_view text, const std::string& what);
// The same validated against CPUs 0..ncpus-1: the list itself is returned.
std::string parse_cpuset(const std::string& text, int ncpus, const std::string& flag);
// "1.5" CPUs → quota µs per 100 ms period.
uint64_t parse_cpus(const std::string& text, int ncpus);

nlohmann::json to_json(const Resources& r);
Resources resources_from_json(const nlohmann::json& j);

}  // namespace minirt
