#include "container/diff.hpp"

#include <fcntl.h>
#include <linux/openat2.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <algorithm>

#include "common/error.hpp"
#include "common/fd.hpp"
#include "common/file.hpp"
#include "linux/copy_tree.hpp"
#include "linux/rootfs.hpp"
#include "oci/spec.hpp"

namespace minirt {

namespace {

// The lower layer's directory at `rel`, through no symlink (what the image
// has at a path the container made a directory of is hidden anyway).
UniqueFd lower_dir(int lower_root, const std::string& rel) {
    return open_resolved(lower_root, rel, O_RDONLY | O_DIRECTORY, RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS);
}

bool is_whiteout(const struct stat& st) { return S_ISCHR(st.st_mode) && st.st_rdev == makedev(0, 0); }

bool is_opaque(int dir_fd) {
    char v[2] = {};
    ssize_t n = ::fgetxattr(dir_fd, "trusted.overlay.opaque", v, sizeof v);
    return n == 1 && v[0] == 'y';
}

class Differ {
public:
    Differ(int lower_root, std::vector<Change>& out) : lower_root_(lower_root), out_(out) {}

    // `upper` is the upper layer's directory at `rel`; `lower` the lower's
    // (invalid where the image has none visible there).
    void directory(int upper, const std::string& rel, int lower) {
        for (const auto& name : dir_entries(upper)) {
            std::string path = rel + "/" + name;
            struct stat st {};
            if (::fstatat(upper, name.c_str(), &st, AT_SYMLINK_NOFOLLOW) < 0) throw_errno("stat " + path);
            struct stat below {};
            bool in_lower = lower >= 0 && ::fstatat(lower, name.c_str(), &below, AT_SYMLINK_NOFOLLOW) == 0;
            if (is_whiteout(st)) {
                if (in_lower) out_.push_back({'D', path});  // a whole directory is one D, as podman shows it
                continue;
            }
            out_.push_back({in_lower ? 'C' : 'A', path});
            if (!S_ISDIR(st.st_mode)) continue;
            UniqueFd sub(::openat(upper, name.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
            if (!sub) throw_errno("open " + path);
            UniqueFd sub_lower;
            if (in_lower && S_ISDIR(below.st_mode)) sub_lower = lower_dir(lower_root_, path.substr(1));
            if (sub_lower && is_opaque(sub.get())) {
                // What the image had here is hidden: deleted, unless made again.
                for (const auto& old : dir_entries(sub_lower.get())) {
                    struct stat mine {};
                    if (::fstatat(sub.get(), old.c_str(), &mine, AT_SYMLINK_NOFOLLOW) < 0)
                        out_.push_back({'D', path + "/" + old});
                }
                sub_lower.reset();
            }
            directory(sub.get(), path, sub_lower ? sub_lower.get() : -1);
        }
    }

private:
    int lower_root_;
    std::vector<Change>& out_;
};

}  // namespace

std::vector<Change> layer_changes(const std::string& upper, const std::string& lower) {
    UniqueFd up(::open(upper.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    if (!up) throw_errno("open the container's layer " + upper);
    UniqueFd low(::open(lower.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    if (!low) throw_errno("open the image's layer " + lower);
    std::vector<Change> out;
    Differ(low.get(), out).directory(up.get(), "", low.get());
    std::sort(out.begin(), out.end(), [](const Change& a, const Change& b) { return a.path < b.path; });
    return out;
}

std::vector<Change> container_changes(const Store& store, const std::string& id) {
    auto text = read_file_if_exists(store.paths().oci_config_file(id));
    if (!text) throw Error("container " + id.substr(0, 12) + " has no config.json");
    oci::Spec spec = oci::parse_spec(*text, store.paths().container_dir(id));
    if (!spec.overlay) throw Error("container " + id.substr(0, 12) + " has no layer of its own to compare");
    return layer_changes(spec.overlay->upper, spec.overlay->lower);
}

}  // namespace minirt
