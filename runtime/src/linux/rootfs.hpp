// Building a container's root filesystem inside its own mount namespace:
// overlay, /proc, /sys, a minimal /dev and the spec's device nodes,
// propagated mounts, then pivot_root.
// Every target is resolved inside the new root (openat2 RESOLVE_IN_ROOT), so
// a symlink in an image can never redirect one of our mounts to the host.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "common/fd.hpp"
#include "linux/devices.hpp"

namespace minirt {

struct RootfsSpec {
    std::string lower, upper, work, merged;
    std::vector<std::string> propagate_mounts;  // host dirs, slave propagation
    bool read_only_sys = true;
    // Where no eBPF device filter can guard the container (no cgroup v2
    // group): /dev is mounted nodev too, and its nodes are the host's own,
    // bind-mounted, so every writable mount is nodev and only those open.
    bool dev_nodev = false;
    // A private cgroup namespace: the container's own group, read-only, at
    // /sys/fs/cgroup (podman's --cgroupns=private).
    bool mount_cgroup = false;
    // Defences (docs/security.md). Paths are inside the container.
    std::vector<std::string> masked_paths;    // /dev/null or an empty read-only tmpfs over each
    std::vector<std::string> readonly_paths;  // bound read-only over themselves
    bool read_only_root = false;              // --read-only: tmpfs /tmp and /run stay writable
    // A user namespace whose id mapping the image's (lower) layer is shown
    // through (an idmapped mount), so container root owns what host root
    // owns in the image. -1: no user namespace.
    int idmap_userns_fd = -1;
};

// Overlay options string; exposed for unit tests.
std::string overlay_options(const std::string& lower, const std::string& upper, const std::string& work);

// Opens (creating directories as needed) `path` below `root_fd` without ever
// leaving it: ".." and absolute symlinks stay inside the root.
UniqueFd open_dir_in_root(int root_fd, const std::string& path, bool create);
// openat2 of `path` ("" is `dir_fd` itself) with these RESOLVE_* flags
// (RESOLVE_NO_MAGICLINKS always); invalid on error (errno set).
UniqueFd open_resolved(int dir_fd, const std::string& path, int flags, uint64_t resolve);
// openat2 of `path` below `root_fd` with RESOLVE_IN_ROOT; invalid on error (errno set).
UniqueFd open_in_root(int root_fd, const std::string& path, int flags);
// `path` (absolute, inside the root) with every symlink on it followed as
// the container will see it: an absolute target from the root, ".." never
// above it; as far as it exists, the rest kept as written. What a mount on
// `path` must cover, as runc resolves a destination (securejoin).
std::string resolve_in_root(int root_fd, const std::string& path);
// "/proc/self/fd/N": how a mount(2) target or source opened as an fd is named.
std::string fd_path(int fd);
// The device nodes every container gets on its /dev (null, zero, full,
// random, urandom, tty) and the /dev/fd, stdio and ptmx links; existing
// ones are kept.
// bind_host: bind-mount the host's nodes instead (for a nodev /dev).
void populate_dev(int root_fd, bool bind_host = false);
// Makes a linux.devices node inside the root at `root_fd` (its parents
// created, resolved inside the root: no symlink leads out). A node is made
// with mknod where it can work; with a user namespace, or on a nodev
// mount, the host's own node is bind-mounted there instead.
void make_device_node(int root_fd, const DeviceNode& d, bool userns);

// Makes the mount tree private to this namespace (slave: host mounts still
// arrive, ours never leak out) and assembles the rootfs at spec.merged.
void build_rootfs(const RootfsSpec& spec);
// True if the mount holding `dir` (longest mount-point prefix in
// `mountinfo`) propagates events (has a "shared:N" tag): only then do later
// host mounts under it reach a slave bind in a container.
bool on_shared_mount(const std::string& dir, const std::string& mountinfo);
// A mount as mountinfo lists it: its id and where it is.
struct MountPoint {
    int id = 0;
    std::string path;
    bool operator==(const MountPoint&) const = default;
};
// The mounts strictly below `dir` in a mountinfo text, in its order (a
// parent before what is mounted on it); octal escapes decoded.
std::vector<MountPoint> mounts_below(const std::string& dir, const std::string& mountinfo);
// ... in the calling process's mount namespace now.
std::vector<MountPoint> mounts_below(const std::string& dir);
// Detaches those of `mounts` that are still there as they were (same id at
// the same place), the last first. Best effort: what is gone is no error.
void unmount(const std::vector<MountPoint>& mounts);
// Refuses (Error 125) a --propagate-mount source that cannot propagate.
void validate_propagation_source(const std::string& dir);

// A detached copy of the mount tree at `dir` whose file owners appear
// through the id mapping of `userns_fd` (mount_setattr MOUNT_ATTR_IDMAP).
// recursive: the mounts below `dir` too.
UniqueFd idmapped_tree(const std::string& dir, int userns_fd, bool recursive = true);

// The union of `lowers` (top first), read-only, as a detached overlay mount
// (fsopen/fsmount: nothing is mounted anywhere, and it goes with the last
// descriptor); one lower is opened as it is. What an image looks like to a
// container, for reading its files from the host.
UniqueFd overlay_view(const std::vector<std::string>& lowers);

// Hides each existing path: a file under /dev/null, a directory under an
// empty read-only tmpfs (runc's masked paths). Missing paths are skipped.
void mask_paths(int root_fd, const std::vector<std::string>& paths);
// Bind-mounts each existing path read-only over itself.
void make_paths_readonly(int root_fd, const std::vector<std::string>& paths);

// The flags a bind remount of the mount holding `fd` must keep (nosuid,
// nodev, noexec): MS_REMOUNT may add restrictions, never drop these.
unsigned long locked_mount_flags(int fd);

// pivot_root into `new_root`, detaching the old root entirely.
// `old_root_shared`: some mount of the old root may still share
// propagation with the host's (a shared or non-recursive
// rootfsPropagation); it is made a slave first, or detaching it here would
// unmount the host's own mounts too.
void enter_rootfs(const std::string& new_root, bool old_root_shared = false);

}  // namespace minirt
