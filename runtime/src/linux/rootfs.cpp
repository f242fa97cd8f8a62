#include "linux/rootfs.hpp"

#include <fcntl.h>
#include <sched.h>
#include <linux/openat2.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <climits>
#include <vector>
#include <filesystem>
#include <thread>

#include "common/error.hpp"
#include "common/file.hpp"
#include "common/parse.hpp"
#include "linux/devices.hpp"

namespace minirt {

std::string fd_path(int fd) { return "/proc/self/fd/" + std::to_string(fd); }

UniqueFd open_resolved(int dir_fd, const std::string& path, int flags, uint64_t resolve) {
    open_how how{};
    how.flags = static_cast<__u64>(flags | O_CLOEXEC);  // O_* bits: never negative
    how.resolve = resolve | RESOLVE_NO_MAGICLINKS;
    const char* p = path.empty() ? "." : path.c_str();
    return UniqueFd(static_cast<int>(::syscall(SYS_openat2, dir_fd, p, &how, sizeof how)));
}

namespace {

void do_mount(const char* source, const std::string& target, const char* fstype, unsigned long flags,
              const char* data, const std::string& what) {
    if (::mount(source, target.c_str(), fstype, flags, data) < 0) throw_errno("mount " + what);
}

int openat2_in_root(int dirfd, const char* path, int flags) {
    return open_resolved(dirfd, path, flags, RESOLVE_IN_ROOT).release();
}

// Mounts fstype at `path` inside the root.
void mount_in_root(int root_fd, const std::string& path, const char* fstype, unsigned long flags,
                   const char* data) {
    UniqueFd target = open_dir_in_root(root_fd, path, true);
    do_mount(fstype, fd_path(target.get()), fstype, flags, data, std::string(fstype) + " on " + path);
}

// The nodes every container has on its /dev.
struct OwnNode {
    const char* name;
    unsigned major, minor;
};
constexpr std::array<OwnNode, 6> kDevices{{
    {"null", 1, 3}, {"zero", 1, 5}, {"full", 1, 7}, {"random", 1, 8}, {"urandom", 1, 9}, {"tty", 5, 0},
}};

void setup_dev(int root_fd, bool nodev) {
    mount_in_root(root_fd, "dev", "tmpfs", MS_NOSUID | MS_NOEXEC | MS_STRICTATIME | (nodev ? MS_NODEV : 0),
                  "mode=755,size=65536k");
    mount_in_root(root_fd, "dev/pts", "devpts", MS_NOSUID | MS_NOEXEC,
                  "newinstance,ptmxmode=0666,mode=0620,gid=5");
    mount_in_root(root_fd, "dev/shm", "tmpfs", MS_NOSUID | MS_NODEV | MS_NOEXEC, "mode=1777,size=65536k");
    populate_dev(root_fd, nodev);
}

// The host's /dev/NAME bound over an empty file of the same name: how a
// device stays usable on a nodev /dev (a bind keeps its source's flags).
void bind_host_device(int dev_fd, const char* name) {
    UniqueFd file(::openat(dev_fd, name, O_CREAT | O_EXCL | O_WRONLY | O_CLOEXEC | O_NOFOLLOW, 0666));
    if (!file) {
        if (errno == EEXIST) return;
        throw_errno(std::string("create /dev/") + name);
    }
    std::string host = std::string("/dev/") + name;
    do_mount(host.c_str(), fd_path(file.get()), nullptr, MS_BIND, nullptr, "bind " + host);
}

// Host mounts made under `host_dir` after the start must appear inside: a
// recursive bind whose propagation is slave receives them (the host side
// must be a shared mount for that; the shim makes it one if needed).
void bind_propagating(int root_fd, const std::string& host_dir, bool nodev) {
    UniqueFd target = open_dir_in_root(root_fd, host_dir, true);
    std::string t = fd_path(target.get());
    do_mount(host_dir.c_str(), t, nullptr, MS_BIND | MS_REC, nullptr, "bind " + host_dir);
    // Re-open: the fd above still points at the covered directory.
    UniqueFd mounted = open_dir_in_root(root_fd, host_dir, false);
    do_mount(nullptr, fd_path(mounted.get()), nullptr, MS_REC | MS_SLAVE, nullptr,
             "make " + host_dir + " a slave");
    if (nodev) {
        // Without a device filter every writable mount must be nodev (see
        // RootfsSpec::dev_nodev), this one and all below it included.
        mount_attr attr{};
        attr.attr_set = MOUNT_ATTR_NODEV;
        if (::mount_setattr(mounted.get(), "", AT_EMPTY_PATH | AT_RECURSIVE, &attr, sizeof attr) < 0)
            throw_errno("make " + host_dir + " nodev");
    }
}

bool same_device(const struct stat& st, const DeviceNode& d) {
    bool block = S_ISBLK(st.st_mode), chr = S_ISCHR(st.st_mode);
    return (d.type == 'b' ? block : chr) && major(st.st_rdev) == d.major && minor(st.st_rdev) == d.minor;
}

std::string describe(const DeviceNode& d) {
    return std::string(1, d.type) + " " + std::to_string(d.major) + ":" + std::to_string(d.minor);
}

// An O_PATH descriptor of the host's node for `d`: the one at the same
// path if it is that device, else any under the host's /dev that is (an
// engine names the node as the container sees it: podman's
// --device /dev/null:/dev/mynull says /dev/mynull).
UniqueFd host_node_for(const DeviceNode& d) {
    UniqueFd same(::open(d.path.c_str(), O_PATH | O_CLOEXEC));
    struct stat st{};
    if (same && ::fstat(same.get(), &st) == 0 && same_device(st, d)) return same;
    for (const auto& h : host_devices_under("/dev")) {
        if (h.type != (d.type == 'b' ? 'b' : 'c') || h.major != d.major || h.minor != d.minor) continue;
        UniqueFd found(::open(h.path.c_str(), O_PATH | O_CLOEXEC));
        if (found && ::fstat(found.get(), &st) == 0 && same_device(st, d)) return found;
    }
    throw Error("the host has no node of " + describe(d) + " to bind-mount");
}

// Whatever is at `name` makes way for the node: a file or node of the
// image's or of populate_dev's (runc keeps what it finds, so
// --device /dev/zero:/dev/null would quietly give /dev/null). unlinkat
// removes a symlink itself, never what it points at.
void remove_existing(int dir, const std::string& name, const std::string& path) {
    struct stat st{};
    if (::fstatat(dir, name.c_str(), &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISDIR(st.st_mode))
        throw Error(path + " is a directory in the container");
    if (::unlinkat(dir, name.c_str(), 0) < 0 && errno != ENOENT) throw_errno("remove what is at " + path);
}

void mknod_node(int dir, const std::string& name, const DeviceNode& d) {
    mode_t kind = d.type == 'b' ? S_IFBLK : d.type == 'p' ? S_IFIFO : S_IFCHR;
    dev_t dev = d.type == 'p' ? 0 : makedev(static_cast<unsigned>(d.major), static_cast<unsigned>(d.minor));
    if (::mknodat(dir, name.c_str(), kind | d.file_mode, dev) < 0) {
        if (errno != EEXIST) throw_errno("mknod " + d.path);
        remove_existing(dir, name, d.path);
        if (::mknodat(dir, name.c_str(), kind | d.file_mode, dev) < 0) throw_errno("mknod " + d.path);
    }
    // mknod obeys the umask; the spec's mode and owner are what it asked for.
    if (::fchmodat(dir, name.c_str(), d.file_mode, AT_SYMLINK_NOFOLLOW) < 0) throw_errno("chmod " + d.path);
    if (::fchownat(dir, name.c_str(), d.uid, d.gid, AT_SYMLINK_NOFOLLOW) < 0) throw_errno("chown " + d.path);
}

// The mount point for a bound node: what is there already (a file, a
// node), or a new empty file. A symlink is replaced, never followed, so it
// cannot aim the bind at the host.
UniqueFd bind_target(int dir, const std::string& name, const std::string& path) {
    struct stat st{};
    if (::fstatat(dir, name.c_str(), &st, AT_SYMLINK_NOFOLLOW) == 0 && (S_ISLNK(st.st_mode) || S_ISDIR(st.st_mode)))
        remove_existing(dir, name, path);
    UniqueFd file(::openat(dir, name.c_str(), O_CREAT | O_EXCL | O_WRONLY | O_NOFOLLOW | O_CLOEXEC, 0600));
    if (!file && errno != EEXIST) throw_errno("create the mount point " + path);
    UniqueFd target(::openat(dir, name.c_str(), O_PATH | O_NOFOLLOW | O_CLOEXEC));
    if (!target) throw_errno("open the mount point " + path);
    return target;
}

void bind_host_node(int dir, const std::string& name, const DeviceNode& d) {
    UniqueFd source = host_node_for(d);
    UniqueFd target = bind_target(dir, name, d.path);
    if (::mount(fd_path(source.get()).c_str(), fd_path(target.get()).c_str(), nullptr, MS_BIND, nullptr) < 0)
        throw_errno("bind the host's " + describe(d) + " on " + d.path);
}

}  // namespace

std::string overlay_options(const std::string& lower, const std::string& upper, const std::string& work) {
    return "lowerdir=" + lower + ",upperdir=" + upper + ",workdir=" + work;
}

UniqueFd open_dir_in_root(int root_fd, const std::string& path, bool create) {
    std::filesystem::path rel = std::filesystem::path(path).relative_path();
    UniqueFd dir(::fcntl(root_fd, F_DUPFD_CLOEXEC, 0));
    if (!dir) throw_errno("dup root fd");
    // Walk component by component so each mkdir happens in a directory we
    // already resolved inside the root. Each step resolves the whole path so
    // far from the root, so an absolute symlink met on the way (Debian's
    // /var/run -> /run) means the container's path, not one below `dir`.
    std::string walked;
    for (const auto& part : rel) {
        std::string name = part.string();
        if (name.empty() || name == ".") continue;
        std::string next = walked.empty() ? name : walked + "/" + name;
        int fd = openat2_in_root(root_fd, next.c_str(), O_PATH | O_DIRECTORY);
        if (fd < 0 && errno == ENOENT && create) {
            if (::mkdirat(dir.get(), name.c_str(), 0755) < 0 && errno != EEXIST)
                throw_errno("mkdir " + path);
            fd = openat2_in_root(root_fd, next.c_str(), O_PATH | O_DIRECTORY);
        }
        if (fd < 0) throw_errno("open " + path + " in the container root");
        dir.reset(fd);
        walked = std::move(next);
    }
    return dir;
}

UniqueFd open_in_root(int root_fd, const std::string& path, int flags) {
    std::string rel = std::filesystem::path(path).relative_path().string();
    return UniqueFd(openat2_in_root(root_fd, rel.empty() ? "." : rel.c_str(), flags));
}

std::string resolve_in_root(int root_fd, const std::string& path) {
    std::vector<std::string> todo;  // components still to walk, the next at the back
    auto push = [&](const std::string& p) {
        std::vector<std::string> parts;
        for (const auto& c : std::filesystem::path(p).relative_path()) parts.push_back(c.string());
        todo.insert(todo.end(), parts.rbegin(), parts.rend());
    };
    push(path);
    std::string done;  // resolved so far, relative to the root, no symlink on it
    int links = 0;
    while (!todo.empty()) {
        std::string c = std::move(todo.back());
        todo.pop_back();
        if (c.empty() || c == ".") continue;
        if (c == "..") {
            auto slash = done.rfind('/');
            done.resize(slash == std::string::npos ? 0 : slash);
            continue;
        }
        std::string next = done.empty() ? c : done + "/" + c;
        struct stat st {};
        if (::fstatat(root_fd, next.c_str(), &st, AT_SYMLINK_NOFOLLOW) < 0 || !S_ISLNK(st.st_mode)) {
            done = std::move(next);
            continue;
        }
        if (++links > 40) throw Error(ELOOP, "resolve " + path + " in the container root");
        char target[PATH_MAX];
        ssize_t n = ::readlinkat(root_fd, next.c_str(), target, sizeof target);
        if (n < 0) throw_errno("read the symlink " + next + " in the container root");
        if (n == static_cast<ssize_t>(sizeof target)) throw Error(ENAMETOOLONG, "read the symlink " + next + " in the container root");
        std::string t(target, static_cast<size_t>(n));
        if (t.starts_with('/')) done.clear();
        push(t);
    }
    return "/" + done;
}

void populate_dev(int root_fd, bool bind_host) {
    UniqueFd dev = open_dir_in_root(root_fd, "dev", false);
    for (const auto& d : kDevices) {
        if (bind_host) {
            bind_host_device(dev.get(), d.name);
            continue;
        }
        // An existing node (from a bind mount or the image) is kept.
        if (::mknodat(dev.get(), d.name, S_IFCHR | 0666, makedev(d.major, d.minor)) < 0) {
            if (errno == EEXIST) continue;
            throw_errno(std::string("mknod /dev/") + d.name);
        }
        // mknod obeys the umask; the nodes must be world-usable like on a host.
        ::fchmodat(dev.get(), d.name, 0666, 0);
    }
    const std::array<std::pair<const char*, const char*>, 5> links{{
        {"pts/ptmx", "ptmx"},
        {"/proc/self/fd", "fd"},
        {"/proc/self/fd/0", "stdin"},
        {"/proc/self/fd/1", "stdout"},
        {"/proc/self/fd/2", "stderr"},
    }};
    for (const auto& [target, name] : links)
        if (::symlinkat(target, dev.get(), name) < 0 && errno != EEXIST)
            throw_errno(std::string("symlink /dev/") + name);
}

// runc's choice: with a user namespace in the spec the host's node is
// bound, as runc must (it makes the nodes inside the namespace, where
// mknod is refused); minirt's init could mknod there as host root, but the
// same spec then means the same under both runtimes. A node on a nodev
// mount (the overlay, or /dev itself where no device filter guards the
// container) would open nothing: the host's node, bound, keeps the host
// /dev's flags. A fifo is no device: mknod serves it everywhere.
void make_device_node(int root_fd, const DeviceNode& d, bool userns) {
    fs::path path(d.path);
    UniqueFd parent = open_dir_in_root(root_fd, path.parent_path().string(), true);
    std::string name = path.filename().string();
    bool nodev = (locked_mount_flags(parent.get()) & MS_NODEV) != 0;
    if (d.type != 'p' && (userns || nodev)) bind_host_node(parent.get(), name, d);
    else mknod_node(parent.get(), name, d);
}

void build_rootfs(const RootfsSpec& spec) {
    // Nothing we mount may propagate back to the host.
    do_mount(nullptr, "/", nullptr, MS_REC | MS_SLAVE, nullptr, "make / a slave");
    std::string lower = spec.lower;
    UniqueFd idmapped;
    if (spec.idmap_userns_fd >= 0) {
        idmapped = idmapped_tree(spec.lower, spec.idmap_userns_fd);
        lower = fd_path(idmapped.get());
    }
    std::string opts = overlay_options(lower, spec.upper, spec.work);
    // nodev: a device node in an image (or one made in the upper layer by
    // a container given CAP_MKNOD) opens nothing; the only usable devices
    // are the ones setup_dev puts on /dev's own tmpfs.
    do_mount("overlay", spec.merged, "overlay", MS_NODEV, opts.c_str(), "overlay on " + spec.merged);
    UniqueFd root(::open(spec.merged.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC));
    if (!root) throw_errno("open " + spec.merged);
    mount_in_root(root.get(), "proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, nullptr);
    mount_in_root(root.get(), "sys", "sysfs",
                  MS_NOSUID | MS_NODEV | MS_NOEXEC | (spec.read_only_sys ? MS_RDONLY : 0), nullptr);
    setup_dev(root.get(), spec.dev_nodev);
    if (spec.mount_cgroup) {
        // Read-only: the limits are the host's to set. The init entered its
        // cgroup namespace already, so the mount shows the container's group
        // as its root.
        mount_in_root(root.get(), "sys/fs/cgroup", "cgroup2",
                      MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC, nullptr);
    }
    for (const auto& dir : spec.propagate_mounts) bind_propagating(root.get(), dir, spec.dev_nodev);
    mask_paths(root.get(), spec.masked_paths);
    make_paths_readonly(root.get(), spec.readonly_paths);
    if (spec.read_only_root) {
        // Programs expect somewhere to write; podman gives the same two.
        mount_in_root(root.get(), "tmp", "tmpfs", MS_NOSUID | MS_NODEV, "mode=1777");
        mount_in_root(root.get(), "run", "tmpfs", MS_NOSUID | MS_NODEV, "mode=755");
        // Only this mount of the overlay turns read-only (MS_BIND): the
        // mounts on top of it keep their own flags.
        do_mount(nullptr, spec.merged, nullptr, MS_REMOUNT | MS_BIND | MS_RDONLY | MS_NODEV, nullptr,
                 "read-only root " + spec.merged);
    }
}

UniqueFd overlay_view(const std::vector<std::string>& lowers) {
    if (lowers.empty()) throw Error("an image without layers");
    if (lowers.size() == 1) {
        UniqueFd dir(::open(lowers[0].c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
        if (!dir) throw_errno("open " + lowers[0]);
        return dir;
    }
    // The lowers by descriptor, relative to /proc/self/fd as the working
    // directory (of a thread of its own: the process's stays): mount
    // options fit in one page.
    UniqueFd view;
    std::string failure;
    int failure_errno = 0;
    std::thread t([&] {
        std::vector<UniqueFd> held;
        std::string lowerdir;
        for (const auto& l : lowers) {
            UniqueFd fd(::open(l.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC));
            if (!fd) {
                failure_errno = errno;
                failure = "open the image layer " + l;
                return;
            }
            lowerdir += (lowerdir.empty() ? "" : ":") + std::to_string(fd.get());
            held.push_back(std::move(fd));
        }
        auto fail = [&](const std::string& what) {
            failure_errno = errno;
            failure = what;
        };
        if (::unshare(CLONE_FS) < 0 || ::chdir("/proc/self/fd") < 0) return fail("chdir /proc/self/fd");
        UniqueFd fs(::fsopen("overlay", FSOPEN_CLOEXEC));
        if (!fs) return fail("fsopen overlay");
        if (::fsconfig(fs.get(), FSCONFIG_SET_STRING, "lowerdir", lowerdir.c_str(), 0) < 0 ||
            ::fsconfig(fs.get(), FSCONFIG_CMD_CREATE, nullptr, nullptr, 0) < 0)
            return fail("an overlay of " + std::to_string(lowers.size()) + " layers");
        UniqueFd mnt(::fsmount(fs.get(), FSMOUNT_CLOEXEC, MOUNT_ATTR_RDONLY | MOUNT_ATTR_NODEV | MOUNT_ATTR_NOSUID));
        if (!mnt) return fail("fsmount overlay");
        view = std::move(mnt);
    });
    t.join();
    if (!view) throw Error(failure_errno, failure);
    return view;
}

UniqueFd idmapped_tree(const std::string& dir, int userns_fd, bool recursive) {
    UniqueFd tree(::open_tree(AT_FDCWD, dir.c_str(), OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | (recursive ? AT_RECURSIVE : 0)));
    if (!tree) throw_errno("open_tree " + dir);
    mount_attr attr{};
    attr.attr_set = MOUNT_ATTR_IDMAP;
    attr.userns_fd = static_cast<__u64>(userns_fd);  // a descriptor (build_rootfs checked >= 0)
    if (::mount_setattr(tree.get(), "", AT_EMPTY_PATH | AT_RECURSIVE, &attr, sizeof attr) < 0)
        throw_errno("idmapped mount of " + dir + " (needs Linux 5.19+ and a filesystem that supports it)");
    return tree;
}

void mask_paths(int root_fd, const std::vector<std::string>& paths) {
    if (paths.empty()) return;
    UniqueFd null(openat2_in_root(root_fd, "dev/null", O_PATH | O_NOFOLLOW));
    if (!null) throw_errno("open /dev/null in the container root");
    for (const auto& path : paths) {
        std::string rel = std::filesystem::path(path).relative_path().string();
        UniqueFd target(openat2_in_root(root_fd, rel.c_str(), O_PATH | O_NOFOLLOW));
        if (!target) {
            if (errno == ENOENT || errno == ENOTDIR) continue;
            throw_errno("open " + path + " to mask it");
        }
        struct stat st{};
        if (::fstat(target.get(), &st) < 0) throw_errno("stat " + path);
        if (S_ISLNK(st.st_mode)) continue;  // proc and sysfs have none among these
        if (S_ISDIR(st.st_mode))
            do_mount("tmpfs", fd_path(target.get()), "tmpfs", MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC,
                     "size=0,mode=555", "mask " + path);
        else
            do_mount(fd_path(null.get()).c_str(), fd_path(target.get()), nullptr, MS_BIND, nullptr, "mask " + path);
    }
}

void make_paths_readonly(int root_fd, const std::vector<std::string>& paths) {
    for (const auto& path : paths) {
        std::string rel = std::filesystem::path(path).relative_path().string();
        UniqueFd target(openat2_in_root(root_fd, rel.c_str(), O_PATH | O_NOFOLLOW));
        if (!target) {
            if (errno == ENOENT || errno == ENOTDIR) continue;
            throw_errno("open " + path + " to make it read-only");
        }
        do_mount(fd_path(target.get()).c_str(), fd_path(target.get()), nullptr, MS_BIND | MS_REC, nullptr,
                 "bind " + path);
        // Re-open: the fd above still names the covered inode's mount.
        UniqueFd bound(openat2_in_root(root_fd, rel.c_str(), O_PATH | O_NOFOLLOW));
        if (!bound) throw_errno("reopen " + path);
        do_mount(nullptr, fd_path(bound.get()), nullptr,
                 MS_BIND | MS_REMOUNT | MS_RDONLY | locked_mount_flags(bound.get()), nullptr,
                 "make " + path + " read-only");
    }
}

unsigned long locked_mount_flags(int fd) {
    struct statvfs sv{};
    unsigned long keep = 0;
    if (::fstatvfs(fd, &sv) == 0) {
        if (sv.f_flag & ST_NOSUID) keep |= MS_NOSUID;
        if (sv.f_flag & ST_NODEV) keep |= MS_NODEV;
        if (sv.f_flag & ST_NOEXEC) keep |= MS_NOEXEC;
    }
    return keep;
}

bool on_shared_mount(const std::string& dir, const std::string& mountinfo) {
    size_t best_len = 0;
    bool best_shared = false;
    for (std::string_view line : split(mountinfo, '\n')) {
        // id parent maj:min root mountpoint options [optional fields...] - ...
        auto f = words(line);
        if (f.size() < 6) continue;
        std::string_view mountpoint = f[4];
        bool shared = false;
        for (size_t i = 6; i < f.size() && f[i] != "-"; ++i)
            if (f[i].starts_with("shared:")) shared = true;
        bool covers = mountpoint == "/" || dir == mountpoint ||
                      (dir.compare(0, mountpoint.size(), mountpoint) == 0 && dir.size() > mountpoint.size() &&
                       dir[mountpoint.size()] == '/');
        // Later lines stack on earlier ones at the same point: >= keeps the top.
        if (covers && mountpoint.size() >= best_len) {
            best_len = mountpoint.size();
            best_shared = shared;
        }
    }
    return best_shared;
}

std::vector<MountPoint> mounts_below(const std::string& dir, const std::string& mountinfo) {
    std::vector<MountPoint> out;
    std::string prefix = dir.ends_with('/') ? dir : dir + "/";
    for (std::string_view line : split(mountinfo, '\n')) {
        auto f = words(line);
        if (f.size() < 6) continue;
        // Spaces, tabs, newlines and backslashes in a path are written \ooo.
        std::string point;
        for (size_t i = 0; i < f[4].size(); ++i) {
            if (f[4][i] == '\\' && i + 3 < f[4].size()) {
                std::string oct(f[4].substr(i + 1, 3));
                if (oct.find_first_not_of("01234567") == std::string::npos) {
                    point += static_cast<char>(std::stoi(oct, nullptr, 8));
                    i += 3;
                    continue;
                }
            }
            point += f[4][i];
        }
        if (point.starts_with(prefix))
            out.push_back({static_cast<int>(parse_int(f[0], "mountinfo", 0, INT32_MAX)), std::move(point)});
    }
    return out;
}

std::vector<MountPoint> mounts_below(const std::string& dir) {
    auto text = read_file_if_exists("/proc/self/mountinfo");
    return text ? mounts_below(dir, *text) : std::vector<MountPoint>{};
}

void unmount(const std::vector<MountPoint>& mounts) {
    if (mounts.empty()) return;
    auto text = read_file_if_exists("/proc/self/mountinfo");
    if (!text) return;
    auto now = mounts_below("/", *text);
    for (auto it = mounts.rbegin(); it != mounts.rend(); ++it)
        if (std::find(now.begin(), now.end(), *it) != now.end())
            ::umount2(it->path.c_str(), MNT_DETACH | UMOUNT_NOFOLLOW);
}

void validate_propagation_source(const std::string& dir) {
    if (!on_shared_mount(dir, read_file("/proc/self/mountinfo")))
        throw Error("invalid --propagate-mount \"" + dir +
                    "\": it is not on a shared mount, so later mounts under it cannot propagate; make it one "
                    "first (mount --bind " + dir + " " + dir + " && mount --make-shared " + dir + ")");
}

void enter_rootfs(const std::string& new_root, bool old_root_shared) {
    // pivot_root(".", ".") stacks the old root on top of the new one; the
    // lazy unmount then drops the host's whole tree from our view.
    if (::chdir(new_root.c_str()) < 0) throw_errno("chdir " + new_root);
    if (::syscall(SYS_pivot_root, ".", ".") < 0) throw_errno("pivot_root " + new_root);
    if (old_root_shared && ::mount(nullptr, ".", nullptr, MS_SLAVE | MS_REC, nullptr) < 0)
        throw_errno("make the old root a slave");
    if (::umount2(".", MNT_DETACH) < 0) throw_errno("detach the old root");
    if (::chdir("/") < 0) throw_errno("chdir /");
}

}  // namespace minirt
