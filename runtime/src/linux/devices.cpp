#include "linux/devices.hpp"

#include <fcntl.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>

#include "common/error.hpp"
#include "common/parse.hpp"
#include "linux/rootfs.hpp"

namespace minirt {

namespace fs = std::filesystem;

namespace {

bool is_access(std::string_view s) {
    return !s.empty() && s.size() <= 3 && s.find_first_not_of("rwm") == std::string_view::npos;
}

bool under(const std::string& path, const std::string& dir) {
    return path == dir || path.starts_with(dir + "/");
}

std::optional<DeviceNode> node_of(const std::string& path, const struct stat& st) {
    if (!S_ISCHR(st.st_mode) && !S_ISBLK(st.st_mode)) return std::nullopt;
    DeviceNode d;
    d.path = path;
    d.type = S_ISBLK(st.st_mode) ? 'b' : 'c';
    d.major = major(st.st_rdev);
    d.minor = minor(st.st_rdev);
    d.file_mode = st.st_mode & 07777;
    return d;
}

// MAJOR or MINOR of a cgroup rule: a number, or * for any (-1).
int64_t rule_number(std::string_view text, const std::string& shown) {
    if (text == "*") return -1;
    if (text.empty() || text.size() > 9 || text.find_first_not_of("0123456789") != std::string_view::npos)
        throw Error(shown + ": major and minor must be numbers or *");
    return std::stoll(std::string(text));
}

// "/dev//snd/" as "/dev/snd": a directory's nodes are named below it.
std::string normal_path(const std::string& path) {
    std::string n = fs::path(path).lexically_normal().string();
    if (n.size() > 1 && n.back() == '/') n.pop_back();
    return n;
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

std::string device_path_problem(const std::string& path) {
    if (path.empty() || path[0] != '/') return "must be an absolute path";
    fs::path p(path);
    if (std::any_of(p.begin(), p.end(), [](const fs::path& part) { return part == ".."; }))
        return "must not contain \"..\"";
    std::string normal = normal_path(path);
    if (normal == "/") return "must name a file below /";
    if (under(normal, "/proc") || under(normal, "/sys")) return "must not be under /proc or /sys";
    return "";
}

DeviceFlag parse_device_flag(const std::string& text) {
    std::string shown = "invalid --device " + quote_for_message(text);
    auto parts = split(text, ':');
    if (parts.size() > 3) throw Error(shown + ": expected HOST[:CONTAINER][:PERMISSIONS]");
    DeviceFlag f;
    f.host = std::string(parts[0]);
    if (f.host.empty() || f.host[0] != '/') throw Error(shown + ": the host path must be absolute");
    if (parts.size() == 3 || (parts.size() == 2 && is_access(parts[1]))) {
        f.permissions = std::string(parts.back());
        if (!is_access(f.permissions)) throw Error(shown + ": permissions must be made of r, w and m");
    }
    if (parts.size() == 3 || (parts.size() == 2 && !is_access(parts[1]))) f.container = std::string(parts[1]);
    if (f.container.empty()) f.container = f.host;
    if (auto why = device_path_problem(f.container); !why.empty())
        throw Error(shown + ": the container path " + quote_for_message(f.container) + " " + why);
    f.host = normal_path(f.host);
    f.container = normal_path(f.container);
    return f;
}

DeviceAccessRule parse_device_cgroup_rule(const std::string& text) {
    std::string shown = "invalid --device-cgroup-rule " + quote_for_message(text);
    auto w = words(text);
    if (w.size() != 3) throw Error(shown + ": expected \"TYPE MAJOR:MINOR ACCESS\", e.g. \"c 1:3 rwm\"");
    if (w[0] != "a" && w[0] != "b" && w[0] != "c") throw Error(shown + ": the type must be a, b or c");
    auto numbers = split(w[1], ':');
    if (numbers.size() != 2) throw Error(shown + ": expected MAJOR:MINOR, e.g. 1:3 or 7:*");
    if (!is_access(w[2])) throw Error(shown + ": the access must be made of r, w and m");
    DeviceAccessRule r;
    r.allow = true;
    r.type = w[0][0];
    r.major = rule_number(numbers[0], shown);
    r.minor = rule_number(numbers[1], shown);
    r.access = std::string(w[2]);
    return r;
}

std::optional<DeviceNode> host_device_node(const std::string& path) {
    struct stat st{};
    if (::stat(path.c_str(), &st) < 0) throw_errno(path);
    return node_of(path, st);
}

std::vector<DeviceNode> host_devices_under(const std::string& dir, const std::vector<std::string>& skip) {
    std::vector<DeviceNode> out;
    std::error_code ec;
    fs::recursive_directory_iterator it(dir, fs::directory_options::skip_permission_denied, ec), end;
    // A node that vanishes while we walk is just not there: udev renames.
    for (; !ec && it != end; it.increment(ec)) {
        std::string path = it->path().string();
        if (std::any_of(skip.begin(), skip.end(), [&](const std::string& s) { return under(path, s); })) {
            it.disable_recursion_pending();
            continue;
        }
        struct stat st{};
        if (::lstat(path.c_str(), &st) < 0) continue;
        if (auto d = node_of(path, st)) out.push_back(*d);
    }
    std::sort(out.begin(), out.end(), [](const DeviceNode& a, const DeviceNode& b) { return a.path < b.path; });
    return out;
}

std::vector<DeviceNode> privileged_host_devices() {
    return host_devices_under("/dev", {"/dev/pts", "/dev/mqueue", "/dev/shm", "/dev/console", "/dev/ptmx",
                                       "/dev/fd", "/dev/null", "/dev/zero", "/dev/full", "/dev/random",
                                       "/dev/urandom", "/dev/tty"});
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

}  // namespace minirt
