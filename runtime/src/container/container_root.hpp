// A container's filesystem as seen from the host, for `cp` and `export`.
// A running container's is its init's root (/proc/PID/root), mounts and
// all. A stopped one's is mounted again for the moment: its overlay (and,
// for cp, its bind mounts and volumes) in a mount namespace of the calling
// command's own, which the kernel takes down with it however it ends, so
// nothing is ever left mounted on the host. The container's lock is held
// meanwhile: it cannot start under the copy.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "common/fd.hpp"
#include "common/file_lock.hpp"
#include "linux/security.hpp"
#include "state/store.hpp"

namespace minirt {

struct ContainerRoot {
    std::string shown;  // its name, for messages
    UniqueFd fd;        // the root directory (O_PATH)
    bool running = false;
    std::string workdir = "/";
    uint32_t uid = 0, gid = 0;  // its process's user, inside it (--user)
    // Its user namespace's mappings (empty: none): host ids of its files
    // are these container ids.
    std::vector<IdMapping> uid_map, gid_map;
    FileLock lock;  // held for a stopped container
};

// with_mounts: a stopped container's bind mounts and volumes are mounted
// at their places too (cp); otherwise its root filesystem alone (export).
// Changes the calling process's mount namespace for a stopped container.
ContainerRoot open_container_root(const Store& store, const std::string& id, bool with_mounts);

}  // namespace minirt
