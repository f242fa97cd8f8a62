// Processes are identified by PID plus start time (/proc/PID/stat field 22),
// never by a bare PID, and signalled through pidfds, so a recycled PID is
// never mistaken for the container.
#pragma once

#include <signal.h>
#include <spawn.h>
#include <sys/types.h>

#include <cstdint>
#include <initializer_list>
#include <optional>
#include <string>
#include <vector>

#include "common/fd.hpp"

namespace minirt {

// Start time in clock ticks since boot, or nullopt if the process is gone.
std::optional<uint64_t> process_start_time(pid_t pid);
// True if `pid` exists, is not a zombie, and started at `start`.
bool process_alive(pid_t pid, uint64_t start);
// Same, and sets `ppid` to its parent's pid (as seen from our namespace)
// when it is alive: one read of /proc/PID/stat answers both.
bool process_alive(pid_t pid, uint64_t start, pid_t& ppid);

// Sets the nice value of the calling process's autogroup (sched(7): with
// kernel.sched_autogroup_enabled=1 the CPU is shared between sessions
// first, and nice orders tasks only inside one). Without autogroup support
// (no /proc/self/autogroup) it does nothing; a refusal is an Error.
void set_autogroup_nice(int nice);

// A /proc start time (clock ticks since boot) as wall-clock nanoseconds.
int64_t start_time_ns(uint64_t ticks);

// True if `pid` is PID 1 of a PID namespace one level below ours (its
// NSpid line in /proc/PID/status reads "N 1"): a container's init.
bool is_namespace_init(pid_t pid);
// True if `pid` has a root directory other than ours (a container's init
// after its pivot_root; before it, the host's tree is still its root).
bool has_own_root(pid_t pid);
// The cgroup v2 path of `pid` as /proc/PID/cgroup's "0::" line shows it
// (relative to the v2 root of our cgroup namespace), or empty.
std::string cgroup_v2_of(pid_t pid);

// What /proc says of a live process (nullopt: gone, or a zombie).
struct ProcessInfo {
    pid_t pid = 0, ppid = 0;
    uint64_t start = 0;
    std::string comm;
};
std::optional<ProcessInfo> process_info(pid_t pid);

// A pidfd for pid if it is still the process that started at `start`;
// an invalid fd if it has gone (or was replaced).
UniqueFd open_pidfd(pid_t pid, uint64_t start);
// A pidfd for a child of ours not yet reaped (its PID cannot be reused),
// empty on failure (errno set).
UniqueFd child_pidfd(pid_t pid);
// pidfd_send_signal; returns false if the process has already exited.
bool signal_pidfd(int pidfd, int sig);
// Waits until the process behind pidfd exits; false on timeout.
// timeout_ms < 0 waits forever.
bool wait_pidfd(int pidfd, int timeout_ms);

// Waits for our child `pid`, passing it every signal in `handled` (which
// the caller blocked before forking it) but SIGCHLD; returns its exit code
// the shell way (128+N for signal N).
int wait_forwarding_signals(pid_t pid, const sigset_t& handled);

// The NULL-terminated pointer array execve takes, pointing into `strings`
// (which must outlive it).
std::vector<char*> exec_vector(const std::vector<std::string>& strings);

// Closes every descriptor from `first` up, except those in `keep` (which
// may be in any order; negative ones are ignored): what a process about to
// enter or exec into a container does, so nothing of ours leaks there.
void close_fds_from(int first, std::initializer_list<int> keep = {});
template <typename... Fds>
void close_fds_from(int first, Fds... keep) {
    close_fds_from(first, {keep...});
}

// A child process that is killed (SIGKILL) and reaped when its owner lets
// go of it without release(): no error path leaves a half-made container's
// init running or a zombie behind (crun's cleanup_pid, runc's deferred kill).
class Child {
public:
    Child() = default;
    explicit Child(pid_t pid) noexcept : pid_(pid) {}
    Child(Child&& o) noexcept : pid_(o.release()) {}
    Child& operator=(Child&& o) noexcept {
        if (this != &o) {
            kill_and_reap();
            pid_ = o.release();
        }
        return *this;
    }
    Child(const Child&) = delete;
    Child& operator=(const Child&) = delete;
    ~Child() { kill_and_reap(); }

    pid_t pid() const noexcept { return pid_; }
    explicit operator bool() const noexcept { return pid_ > 0; }
    // Hands the process over (it is reaped elsewhere, or not ours to reap).
    pid_t release() noexcept {
        pid_t p = pid_;
        pid_ = -1;
        return p;
    }
    // Waits for it; its wait status. The Child is empty afterwards.
    int wait() noexcept;
    void kill_and_reap() noexcept;

private:
    pid_t pid_ = -1;
};

// posix_spawn's file actions and attributes, made together and destroyed
// with the object.
class SpawnSetup {
public:
    SpawnSetup();
    ~SpawnSetup();
    SpawnSetup(const SpawnSetup&) = delete;
    SpawnSetup& operator=(const SpawnSetup&) = delete;
    posix_spawn_file_actions_t* actions() { return &actions_; }
    posix_spawnattr_t* attr() { return &attr_; }

private:
    posix_spawn_file_actions_t actions_;
    posix_spawnattr_t attr_;
};

// Monotonic milliseconds, for timeouts.
int64_t monotonic_ms();

}  // namespace minirt
