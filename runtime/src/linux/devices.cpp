#include "linux/devices.hpp"

#include <sys/stat.h>
#include <sys/sysmacros.h>

#include <algorithm>
#include <filesystem>

#include "common/error.hpp"
#include "common/parse.hpp"

namespace minirt {

namespace fs = std::filesystem;

namespace {

bool is_access(std::string_view s) {
    return !s.empty() && s.size() <= 3 && s.find_first_not_of("rwm") == std::string_view::npos;
}

std::optional<DeviceNode> node_of(const std::string& path, const struct stat& st) {
    if (!S_ISCHR(st.st_mode) && !S_ISBLK(st.st_mode)) return std::nullopt;
    DeviceNode d;
    d.path = path;
    d.type = S_ISBLK(st.st_mode) ? 'b' : 'c';
    d.major = major(st.st_rdev);
    d.minor = minor(st.st_rdev);
    d.file_mode = st.st_mode & 07777;
    // The host node's owner, as runc's DeviceFromPath takes it (/dev/tty*
    // belong to group tty, disks to group disk: the same ids in images).
    d.uid = st.st_uid;
    d.gid = st.st_gid;
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

}  // namespace

std::string device_path_problem(const std::string& path) {
    if (path.empty() || path[0] != '/') return "must be an absolute path";
    fs::path p(path);
    if (std::any_of(p.begin(), p.end(), [](const fs::path& part) { return part == ".."; }))
        return "must not contain \"..\"";
    std::string normal = normal_path(path);
    if (normal == "/") return "must name a file below /";
    if (path_is_under(normal, "/proc") || path_is_under(normal, "/sys")) return "must not be under /proc or /sys";
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
        if (std::any_of(skip.begin(), skip.end(), [&](const std::string& s) { return path_is_under(path, s); })) {
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

}  // namespace minirt
