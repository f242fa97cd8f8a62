// The container's first process: it runs inside the new namespaces, waits
// for the shim to place it in its cgroup, builds the root filesystem and
// execs the command. It never returns; failures travel to the shim over
// `error_fd` as "<exit code> <message>", so the CLI can say exactly what broke.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "common/fd.hpp"
#include "linux/rootfs.hpp"
#include "linux/security.hpp"

namespace minirt {

struct InitSpec {
    RootfsSpec rootfs;
    std::string hostname;
    std::vector<std::string> argv;
    std::vector<std::string> env;  // KEY=VALUE
    std::string workdir = "/";
    bool new_ipc = true;
    bool new_net = true;
    bool new_cgroupns = true;  // entered once the shim has put us in our group
    std::optional<int> nice;
    std::optional<int> pin_cpu;  // affinity to this CPU and SCHED_RR
    bool tty = false;
    // Capabilities, seccomp, user, rlimits: applied last, before execve.
    SecuritySpec security;
    // The container's user namespace (made by the shim), or null: init
    // joins it after pivot_root (see linux/userns.hpp).
    std::shared_ptr<UniqueFd> userns;
};

// The SCHED_RR priority --pin-cpu runs the command at.
inline constexpr int kPinnedRtPriority = 10;

struct InitFds {
    int go = -1;      // read: one byte from the shim when the cgroup is joined
    int error = -1;   // write, close-on-exec: EOF at exec means success
    int stdout_w = -1;
    int stderr_w = -1;
    int stdin_r = -1;    // -1: /dev/null
    int console = -1;    // with a tty: the pty master goes back to the shim here
    // read: the compiled seccomp filter (maybe empty), sent by the shim after
    // the go and after it attached the device filter: nothing of the user's
    // runs before both hold.
    int seccomp = -1;
    int netns = -1;      // the network namespace to join, lo up (else: unshare one)
};

[[noreturn]] void container_init(const InitSpec& spec, const InitFds& fds) noexcept;

// Right before execve: an empty signal mask and every disposition back to
// the default (an ignored SIGPIPE of ours must not survive into the command).
void reset_signals();
// chdir to the command's working directory, creating it if missing (as podman does).
void enter_workdir(const std::string& workdir);

// PATH lookup as execvp does it, but with the container's PATH and reporting
// which errno (ENOENT vs EACCES) decides 127 vs 126.
std::string find_executable(const std::string& name, const std::string& path_env, int& err);

}  // namespace minirt
