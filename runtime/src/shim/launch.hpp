// The CLI's side of starting a container: spawn the shim and wait for its
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

struct LaunchMode {
    bool attached = false;    // the shim relays output to our stdout/stderr
    bool pass_stdin = false;  // our stdin becomes the container's (run -i)
    int netns = -1;           // a network namespace for the container (NetnsMaker), or -1
};

// Spawns the shim (in a session of its own; it outlives us) while we hold
// `lock`; returns once the command has been exec'd. Throws Error with
// the container's exit code (125/126/127) if it could not be started.
Launched launch_container(const Store& store, const std::string& id, FileLock& lock, LaunchMode mode = {});

// Waits for the shim's "exited N" on the report pipe (no signal forwarding).
int wait_reported_exit(Launched& launched, const std::string& id);

// Attached mode: forwards our signals to the container until the shim
// reports the exit; returns the container's exit code.
int wait_attached(Launched& launched, const std::string& id);

}  // namespace minirt
