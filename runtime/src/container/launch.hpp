// The CLI's side of starting a container: spawn the shim and wait for its
// verdict. `run` and `start` share this.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <string>
#include <thread>

#include "common/fd.hpp"
#include "state/lock.hpp"
#include "state/store.hpp"

namespace minirt {

struct Launched {
    pid_t pid = 0;
    uint64_t start = 0;
    UniqueFd report;  // still open when attached: the Exited message arrives here
};

struct LaunchMode {
    bool attached = false;    // the shim relays output to our stdout/stderr
    bool pass_stdin = false;  // our stdin becomes the container's (run -i)
    bool tty_client = false;  // the CLI attaches to the terminal (run -t)
    int netns = -1;           // NetnsMaker::shim_end(), or -1
};

// A network namespace for the container, made (loopback up) on a thread of
// the CLI's while the CLI writes the container's files and the shim starts:
// the millisecond of kernel work this costs overlaps both. The thread sends
// the namespace over a socket whose other end the shim gets as fd 5
// (--netns), and which the shim reads right before it clones the init. If
// the thread fails, the shim reads EOF and the init makes its own.
class NetnsMaker {
public:
    NetnsMaker();
    ~NetnsMaker();
    NetnsMaker(const NetnsMaker&) = delete;
    NetnsMaker& operator=(const NetnsMaker&) = delete;
    int shim_end() const { return shim_end_.get(); }

private:
    UniqueFd shim_end_, thread_end_;
    std::thread thread_;
};

// Spawns the shim (in a session of its own; it outlives us) while we hold
// `lock`; returns once the command has been exec'd. Throws Error with
// the container's exit code (125/126/127) if it could not be started.
Launched launch_container(const Store& store, const std::string& id, FileLock& lock, LaunchMode mode = {});

// `start`: launches a container that is not running (one that is, is left
// alone, as podman does); Error if a start or stop is in progress.
void start_container(const Store& store, const std::string& id);

// Waits for the shim's Exited on the report pipe (no signal forwarding).
int wait_reported_exit(Launched& launched, const std::string& id);

// Attached mode: forwards our signals to the container until the shim
// reports the exit; returns the container's exit code.
int wait_attached(Launched& launched, const std::string& id);

}  // namespace minirt
