// Linux capabilities by name and as bit masks, and how a process drops
// to a set before exec. Pure parts (names, masks, --cap-add/--cap-drop
// arithmetic) are unit-tested without root.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace minirt {

using CapMask = uint64_t;

// podman's default set: what a container's root keeps unless told otherwise.
// CHOWN, DAC_OVERRIDE, FOWNER, FSETID, KILL, NET_BIND_SERVICE, SETFCAP,
// SETGID, SETPCAP, SETUID, SYS_CHROOT.
CapMask default_capabilities();
// Every capability this runtime knows by name (0..CAP_CHECKPOINT_RESTORE).
CapMask all_known_capabilities();

// "CAP_SYS_ADMIN", "sys_admin", "SYS_ADMIN" → its number; nullopt if unknown.
std::optional<int> capability_from_name(std::string_view name);
// 21 → "CAP_SYS_ADMIN" (or "CAP_<n>" for a number this build has no name for).
std::string capability_name(int cap);

// Applies --cap-add/--cap-drop (names or "ALL", drops first, then adds, as
// podman does) to `base`; throws Error naming the flag on an unknown name.
CapMask apply_cap_flags(CapMask base, const std::vector<std::string>& add, const std::vector<std::string>& drop);

std::vector<std::string> capability_names(CapMask mask);
// Inverse of capability_names; throws Error naming `what` on an unknown name.
CapMask capability_mask(const std::vector<std::string>& names, std::string_view what);

inline bool has_cap(CapMask m, int cap) { return cap >= 0 && cap < 64 && (m & (CapMask{1} << cap)); }

// The highest capability the running kernel has (/proc/sys/kernel/cap_last_cap).
int kernel_last_cap();

// In the calling process, which must still hold CAP_SETPCAP: removes every
// capability outside `keep` from the bounding set, including those newer
// than this build knows (up to kernel_last_cap()), and clears the ambient set.
// `last_cap` < 0: read it now (callers that lower RLIMIT_NOFILE first pass it).
void drop_bounding_set(CapMask keep, int last_cap = -1);
// Sets permitted and effective to `set`, inheritable to empty (podman's
// post-CVE-2022-27652 choice: nothing is inherited across exec by accident)
// unless `ambient` asks for some: those become inheritable and ambient, so
// a non-root process keeps them across exec (OCI process.capabilities.ambient).
void set_capabilities(CapMask set, CapMask ambient = 0);

}  // namespace minirt
