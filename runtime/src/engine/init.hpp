// The container's first process, for every container minirt runs: native
// ones (cloned by their shim) and `minirt oci create`'s. It joins or makes
// the namespaces config.json asks for, builds the root (the overlay of a
// native container first, then the mounts list) and enters it, applies the
// process's confinement and execs the command, now or once `start` writes
// exec.fifo. It talks to its parent in common/protocol.hpp's messages.
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "common/fd.hpp"
#include "linux/security.hpp"
#include "oci/spec.hpp"

namespace minirt::engine {

struct InitOptions {
    const oci::Spec* spec = nullptr;
    int sync = -1;  // the init's end of the sync socketpair
    // Descriptors that become the init's stdio; -1: keep the one inherited.
    int stdin_fd = -1, stdout_fd = -1, stderr_fd = -1;
    int console = -1;  // with process.terminal: where the pty master goes (a socket)
    int userns = -1;   // a user namespace made by the parent, or -1
    int netns = -1;    // a network namespace to join instead of making one (loopback up), or -1
    // Namespaces joined by path: (CLONE_NEW* flag, fd), opened by the parent.
    std::vector<std::pair<int, int>> join;
    int fifo = -1;  // exec.fifo (oci create): exec once `start` writes it; -1: at once
    int preserve_fds = 0;  // fds 3 .. 3+N-1 pass through to the process
    std::vector<int> vacant_fds;  // ... except these, which the caller left closed
    bool no_pivot = false;
    // The runtime-spec state (its pid aside) createContainer and
    // startContainer hooks are given.
    std::string hook_state;
    // SIGKILL when the parent dies (a shim's init); not for `oci create`,
    // which returns while its init waits.
    bool die_with_parent = false;
};

[[noreturn]] void container_init(const InitOptions& o) noexcept;

// Mounts one config.json mounts[] entry below `root_fd`. cgroup mounts
// become cgroup2 (the container's own group when it has a cgroup namespace).
// `userns`: the container's user namespace (or -1), the mapping an idmapped
// bind uses when it names none of its own (or the same as `spec`'s).
void mount_entry(int root_fd, const oci::Mount& m, int userns = -1, const oci::Spec* spec = nullptr);

// A native container's root: its overlay (minirt's annotations) mounted at
// `root`, the image's layer seen through the id mapping of `userns` (-1:
// none).
void mount_overlay(const oci::Overlay& o, const std::string& root, int userns);
// Finds args[0] as runc does and words the failure as runc does (podman maps
// "executable file not found" to 127 and "permission denied" to 126).
std::string resolve_executable(const std::vector<std::string>& args, const std::vector<std::string>& env, int& exit_code,
                               std::string& error);
// PATH lookup as execvp does it, but with the container's PATH and reporting
// which errno (ENOENT vs EACCES) decides 127 vs 126.
std::string find_executable(const std::string& name, const std::string& path_env, int& err);

// `env`, with HOME added when it has none, as runc adds it: the user's
// home in the container's /etc/passwd, or "/".
std::vector<std::string> with_home(const std::vector<std::string>& env, uint32_t uid);

// --preserve-fds N: fds 3 .. 3+N-1 stay open across the exec.
void pass_preserved_fds(int count);

// What apply_security needs for a process of this container.
SecuritySpec process_security(const oci::Process& p, const oci::Spec& spec);
// process.apparmorProfile, as runc applies it: the calling thread's
// attr/exec (on a verified procfs; none for "" or "unconfined"), then the
// profile its next exec enters written there. Whether AppArmor is enabled
// at all is the caller's check (apparmor_enabled).
bool wants_apparmor(const std::string& profile);
UniqueFd open_apparmor_exec_attr(const std::string& profile);
void apply_apparmor(int attr, const std::string& profile);
// process.scheduler, execCPUAffinity and ioPriority, and linux.personality,
// applied to the calling process.
void apply_scheduling(const oci::Process& p);

// Right before execve: an empty signal mask and every disposition back to
// the default (an ignored SIGPIPE of ours must not survive into the command).
void reset_signals();
// chdir to the command's working directory, creating it if missing (as podman does).
void enter_workdir(const std::string& workdir);

}  // namespace minirt::engine
