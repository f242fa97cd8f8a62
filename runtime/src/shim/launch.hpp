// The CLI's side of starting a container: fork the shim and wait for its
// verdict. `run` and `start` share this.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <string>

#include "common/fd.hpp"
#include "state/lock.hpp"
#include "state/store.hpp"

namespace minirt {

struct Launched {
    pid_t pid = 0;
    uint64_t start = 0;
    UniqueFd report;  // still open when attached: "exited N" arrives here
};

// Forks the shim (twice, so it is not our child and outlives us) while we
// hold `lock`; returns once the command has been exec'd. Throws Error with
// the container's exit code (125/126/127) if it could not be started.
Launched launch_container(const Store& store, const std::string& id, FileLock& lock, bool attached);

// Attached mode: forwards our signals to the container until the shim
// reports the exit; returns the container's exit code.
int wait_attached(Launched& launched, const std::string& id);

}  // namespace minirt
