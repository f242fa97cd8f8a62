// A process joining a running container: `minirt exec` and `minirt oci
// exec` alike. A bridge enters the container's cgroup and then all its
// namespaces at once (setns on a pidfd of its init), and forks the
// process, which is thereby inside the container's PID namespace and gets
// the container's confinement (capabilities, user, rlimits, no_new_privs,
// the seccomp filter of its spec). The bridge reports the process's PID
// (common/protocol.hpp's Started), passes signals on to it and mirrors its
// exit status, or (detach) leaves it to the caller's subreaper.
#pragma once

#include <signal.h>
#include <sys/types.h>

#include <string>

#include "linux/process.hpp"
#include "linux/seccomp_cache.hpp"
#include "oci/spec.hpp"

namespace minirt::engine {

struct ExecRequest {
    oci::Process process;          // what runs, and as whom
    const oci::Spec* spec = nullptr;  // the container's: namespaces, seccomp
    SeccompCache seccomp_cache;    // of the container's state root
    int pidfd = -1;                // the container's init
    std::string cgroup;            // the group to join first; empty: none
    int console = -1;              // with process.terminal: where the pty master goes
    int preserve_fds = 0;          // fds 3 .. 3+N-1 pass through to the process
    std::vector<int> vacant_fds;   // ... except these, which the caller left closed
    bool stdin_null = false;       // the process's stdin is /dev/null, not ours
    int output_fd = -1;            // >= 0: the process's stdout and stderr, not ours
    bool detach = false;           // the bridge leaves once the process runs
};

struct ExecStarted {
    Child bridge;  // its exit status is the process's (or 0 after detach)
    pid_t process = 0;  // as seen from here
};

// The process an exec into a container of `spec` runs unless told
// otherwise: the container's own (user, capabilities, rlimits, env, cwd,
// no_new_privs, nice value), without its command's CPU pinning and
// real-time policy (--pin-cpu), which an exec'd one does not share.
oci::Process exec_process(const oci::Spec& spec);

// Forks the bridge and returns once the process has exec'd; throws Error
// with 125, 126 or 127 if it could not. The signals in `blocked` must be
// blocked by the caller (they stay so here; the bridge unblocks them).
ExecStarted start_exec(const ExecRequest& r, const sigset_t& blocked);

// The namespaces a process joins to enter a container of `spec` (CLONE_NEW*,
// the user namespace apart: it is joined last, as the init did).
int exec_namespaces(const oci::Spec& spec, bool& join_user, bool has_cgroup);

}  // namespace minirt::engine
