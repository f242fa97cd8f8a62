// One health check: the container's check command run as an exec into it
// (engine/exec.hpp: its namespaces, cgroup and confinement), its output
// kept, killed with its process group at the check's timeout. Run by the
// shim's timer (in a child of the shim) and by `minirt healthcheck run`.
#pragma once

#include <signal.h>

#include <cstdint>
#include <string>

#include "state/health.hpp"
#include "state/paths.hpp"
#include "state/store.hpp"

namespace minirt::engine {

// The running container a check enters.
struct HealthTarget {
    std::string id;
    int pid = 0;  // its init
    uint64_t pid_start = 0;
    std::string cgroup;  // empty: none
    int shim_pid = 0;  // its shim, which restarts it (--health-on-failure=restart)
    uint64_t shim_start = 0;
    int64_t started_ns = 0;  // when its command started: the start period counts from here
};

// Never throws for the check's own failure (not found, not started, timed
// out: a result saying so); throws Error where the container is not
// running or its config.json cannot be read. The signals in `blocked` are
// blocked by the caller (start_exec's rule).
HealthResult run_health_check(const Paths& paths, const HealthTarget& target, const Healthcheck& check,
                              const sigset_t& blocked);

// One check as the shim's timer and `healthcheck run` make it: run,
// folded into health.json, journaled (health_status) when the status
// changes, and acted on (--health-on-failure) while it is unhealthy.
// Returns the health after it and the check's own result.
std::pair<Health, HealthResult> check_health(const Store& store, const ContainerConfig& config,
                                             const HealthTarget& target, const sigset_t& blocked);

}  // namespace minirt::engine
