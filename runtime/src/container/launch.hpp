// The CLI's side of starting a container: spawn the shim and wait for its
// verdict. `run` and `start` share this.
#pragma once

#include <sys/types.h>

#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <optional>
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

class NetnsMaker;

struct LaunchMode {
    bool attached = false;    // the shim relays output to our stdout/stderr
    bool pass_stdin = false;  // our stdin becomes the container's (run -i)
    bool tty_client = false;  // the CLI attaches to the terminal (run -t)
    NetnsMaker* netns = nullptr;  // the shim's network namespace comes from here
};

// A network namespace for the container, made (loopback up) on a thread of
// the CLI's while the CLI writes the container's files and the shim starts:
// the millisecond of kernel work this costs overlaps both. The thread
// sends the namespace at once over a socket whose other end the shim gets
// as fd 5 (--netns); for a bridge container, once it exists (go()) and its
// shim is spawned, it goes on to set the network up and hands that over
// too (engine/network_handoff.hpp). If the thread fails, or the rest never
// comes, the shim reads EOF and does it all itself.
class NetnsMaker {
public:
    // `bridge`: the container may be on a bridge network (its config is
    // not built yet); else the thread only makes the namespace.
    NetnsMaker(Paths paths, bool bridge);
    ~NetnsMaker();
    NetnsMaker(const NetnsMaker&) = delete;
    NetnsMaker& operator=(const NetnsMaker&) = delete;
    // Whether `c` takes its namespace from here: a bridge network, or
    // --network none outside a user namespace (the init makes that one).
    static bool wanted_for(const ContainerConfig& c);
    // The container exists: carry on with its namespace and network.
    void go(const ContainerConfig& c);
    int shim_end() const { return shim_end_.get(); }
    // The shim has its copy: ours goes, so that the thread learns when the
    // shim is gone (EOF) and tears down what the shim did not take over;
    // and the bridge's setup may begin (not before: see run()).
    void shim_spawned();

private:
    void run() noexcept;
    void set_up_bridge(const ContainerConfig& c, int netns) noexcept;
    Paths paths_;
    bool bridge_;
    UniqueFd shim_end_, thread_end_;
    std::mutex mutex_;
    std::condition_variable changed_;
    std::optional<ContainerConfig> config_;
    bool spawned_ = false, dropped_ = false;
    std::thread thread_;
};

// Spawns the shim (in a session of its own; it outlives us) while we hold
// `lock`; returns once the command has been exec'd. Throws Error with
// the container's exit code (125/126/127) if it could not be started.
Launched launch_container(const Store& store, const std::string& id, FileLock& lock, const LaunchMode& mode = {});

// `start`: launches a container that is not running (one that is, is left
// alone, as podman does: nullopt); Error if a start or stop is in progress.
// `mode`: attached (start -a), else detached.
std::optional<Launched> start_container(const Store& store, const std::string& id, LaunchMode mode = {});
// podman's: the containers whose namespaces `c` joins (container:ID) are
// started first, detached, when they are not running (and theirs before
// them). Error naming the one that would not start.
void start_namespace_peers(const Store& store, const ContainerConfig& c);

// Waits for the shim's Exited on the report pipe (no signal forwarding).
int wait_reported_exit(Launched& launched, const std::string& id);

// Attached mode: forwards our signals to the container until the shim
// reports the exit; returns the container's exit code.
int wait_attached(Launched& launched, const std::string& id);

}  // namespace minirt
