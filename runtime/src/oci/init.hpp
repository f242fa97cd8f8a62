// The container's first process under `minirt oci create`: it joins or
// makes the namespaces config.json asks for, builds the root filesystem
// from root.path and the mounts list with minirt's rootfs code, applies the
// process's confinement, and then waits on exec.fifo until `start`.
//
// It talks to `create` over a socket, one line each way:
//   init → create "ns"            namespaces made: run the createRuntime hooks
//   create → init "go"
//   init → create "ready"         all set up, the executable found; now waiting
//   init → create "error <code> <message>"
#pragma once

#include <vector>

#include "oci/spec.hpp"

namespace minirt::oci {

struct InitArgs {
    const Spec* spec = nullptr;
    int sync = -1;      // socket to create
    int fifo = -1;      // exec.fifo, opened O_RDONLY|O_NONBLOCK by create
    int console = -1;   // connected --console-socket, or -1
    int userns = -1;    // a new user namespace (made by create), or -1
    int preserve_fds = 0;  // fds 3 .. 3+N-1 pass through to the process
    bool no_pivot = false;
    // Namespaces joined by path: (CLONE_NEW* flag, fd), opened by create.
    std::vector<std::pair<int, int>> join;
};

[[noreturn]] void container_init(const InitArgs& args) noexcept;

// Mounts one config.json mounts[] entry below `root_fd`. cgroup mounts
// become cgroup2 (the container's own group when it has a cgroup namespace).
void mount_entry(int root_fd, const Mount& m);

// Finds args[0] as runc does and words the failure as runc does (podman maps
// "executable file not found" to 127 and "permission denied" to 126).
std::string resolve_executable(const std::vector<std::string>& args, const std::vector<std::string>& env, int& exit_code,
                               std::string& error);

// --preserve-fds N: fds 3 .. 3+N-1 stay open across the exec.
void pass_preserved_fds(int count);

// What apply_security needs for a process of this container.
SecuritySpec process_security(const Process& p, const Spec& spec);

}  // namespace minirt::oci
