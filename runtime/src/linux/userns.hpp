// User namespaces: container root mapped to an unprivileged host range.
//
// minirt builds the root filesystem as host root in namespaces the host
// owns, then the container's init joins the user namespace right before it
// drops privileges, and re-creates its UTS, network and IPC namespaces
// inside it (so its root is root there: it may bind port 80 or set its
// hostname). The mount and PID namespaces stay owned by the host: the
// container's root can never mount, even with CAP_SYS_ADMIN. The image's
// layer is seen through an idmapped mount of the same mapping, so files
// host root owns in the image belong to container root; the upper layer is
// owned by the mapped root and everything written lands in the host range.
#pragma once

#include <string>
#include <vector>

#include "common/fd.hpp"
#include "linux/security.hpp"

namespace minirt {

// The text of a /proc/PID/{uid,gid}_map for `maps` ("C H S" lines).
std::string id_map_text(const std::vector<IdMapping>& maps);

// Ids through a mapping: a container id to the host's, and back. An id
// the mapping leaves out comes out as the overflow id (65534, what the
// kernel shows for it), to the host as the container's own overflow id
// where the mapping has one (so nothing lands outside its range); with no
// mapping at all both are the identity.
inline constexpr uint32_t kOverflowId = 65534;
uint32_t host_id_of(const std::vector<IdMapping>& maps, uint32_t container_id);
uint32_t container_id_of(const std::vector<IdMapping>& maps, uint32_t host_id);

// Creates a user namespace with these mappings (we must be root in the
// parent namespace) and returns a descriptor of it; no process stays in it.
UniqueFd make_userns(const std::vector<IdMapping>& uid_map, const std::vector<IdMapping>& gid_map);

struct UsernsJoin {
    int userns_fd = -1;
    std::string hostname;
    bool new_net = true;
    bool new_ipc = true;
};
// In the container's init, after pivot_root: joins the user namespace,
// becomes its root, and makes new UTS (and network, IPC unless shared)
// namespaces owned by it.
void join_userns(const UsernsJoin& j);

// --userns=auto: the size of the range each container gets, and the first
// host id handed out (above any regular account or subuid default).
inline constexpr uint32_t kAutoUsernsSize = 65536;
inline constexpr uint32_t kAutoUsernsBase = 1u << 20;
// The lowest free range of kAutoUsernsSize at or above kAutoUsernsBase that
// overlaps none of `taken` (host ranges in use by other containers).
uint32_t pick_auto_range(const std::vector<IdMapping>& taken);

}  // namespace minirt
