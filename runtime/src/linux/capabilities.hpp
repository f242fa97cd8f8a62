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
// A process's five sets, as OCI's process.capabilities names them.
struct CapSets {
    CapMask bounding = 0, effective = 0, permitted = 0, inheritable = 0, ambient = 0;
    CapMask all() const { return bounding | effective | permitted | inheritable | ambient; }
    // minirt's own containers: one set, nothing inherited (podman's
    // post-CVE-2022-27652 choice).
    static CapSets one(CapMask m) { return {m, m, m, 0, 0}; }
    // ... for a user: root holds the set; another user none, as podman and
    // docker do (the bounding set still limits what a setuid binary gives).
    static CapSets for_user(CapMask m, uint32_t uid) { return uid == 0 ? one(m) : CapSets{m, 0, 0, 0, 0}; }
    bool operator==(const CapSets&) const = default;
};

// The first capability in `wanted` that the kernel has but the calling
// process's bounding set lacks (what runc's capset would fail on), if any.
std::optional<int> first_outside_bounding(CapMask wanted);
// Sets permitted, effective and inheritable as given, then raises each
// ambient capability the kernel allows (permitted and inheritable; others
// are skipped, as runc only warns). Capabilities outside the bounding set
// or newer than the kernel are left out.
void set_capabilities(const CapSets& sets);

}  // namespace minirt
