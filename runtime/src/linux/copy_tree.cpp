#include "linux/copy_tree.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <algorithm>
#include <map>
#include <utility>
#include <vector>

#include "common/error.hpp"
#include "common/fd.hpp"
#include "common/file.hpp"
#include "common/parse.hpp"
#include "linux/rootfs.hpp"
#include "linux/userns.hpp"

namespace minirt {

std::pair<std::string, std::string> split_parent(const std::string& path) {
    auto slash = path.rfind('/');
    if (slash == std::string::npos) return {"", path};
    return {path.substr(0, slash), path.substr(slash + 1)};
}

std::vector<std::string> dir_entries(int dir_fd) {
    int copy = ::openat(dir_fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (copy < 0) throw_errno("open a directory to list");
    DIR* d = ::fdopendir(copy);
    if (!d) {
        ::close(copy);
        throw_errno("list a directory");
    }
    std::vector<std::string> names;
    while (dirent* de = ::readdir(d)) {
        std::string_view n = de->d_name;
        if (n != "." && n != "..") names.emplace_back(n);
    }
    ::closedir(d);
    std::sort(names.begin(), names.end());
    return names;
}

namespace {

std::string join(const std::string& a, const std::string& b) {
    if (a.empty() || a == ".") return b;
    if (b.empty()) return a;
    return a.back() == '/' ? a + b : a + "/" + b;
}

// chmod of what an O_PATH descriptor holds (not of a name someone else may
// have swapped for a symlink since: chmod by name follows links).
void chmod_held(int fd, mode_t mode, const std::string& what) {
    if (::fchmodat(AT_FDCWD, fd_path(fd).c_str(), mode, 0) < 0) throw_errno("chmod " + what);
}

// `name` in `dir`, opened without following it (O_PATH), its stat in `st`,
// and checked to be of `type` (S_IFIFO, S_IFREG, ...; 0: any): Error if
// something else is there now. Whatever is done to it next is done to it.
UniqueFd hold(int dir, const std::string& name, mode_t type, const std::string& what, struct stat& st) {
    UniqueFd fd(::openat(dir, name.c_str(), O_PATH | O_NOFOLLOW | O_CLOEXEC));
    if (!fd) throw_errno("open " + what);
    if (::fstat(fd.get(), &st) < 0) throw_errno("stat " + what);
    if (type != 0 && (st.st_mode & S_IFMT) != type) throw Error(what + " changed while it was copied");
    return fd;
}

class FdContent : public Content {
public:
    explicit FdContent(int fd) : fd_(fd) {}
    int fd() const override { return fd_; }
    size_t read(char* buf, size_t size) override {
        for (;;) {
            ssize_t n = ::read(fd_, buf, size);
            if (n >= 0) return static_cast<size_t>(n);
            if (errno != EINTR) throw_errno("read");
        }
    }

private:
    int fd_;
};

// --- the disk walker ---

class Walker {
public:
    Walker(TreeSink& sink, const WalkOptions& o) : sink_(sink), o_(o) {}

    void entry(int dir_fd, const std::string& name, const std::string& rel, bool top) {
        TreeEntry e;
        e.path = rel;
        if (::fstatat(dir_fd, name.c_str(), &e.st, AT_SYMLINK_NOFOLLOW) < 0) throw_errno("stat " + shown(rel));
        struct stat host = e.st;
        e.st.st_uid = container_id_of(o_.uid_map, e.st.st_uid);
        e.st.st_gid = container_id_of(o_.gid_map, e.st.st_gid);
        mode_t type = e.st.st_mode & S_IFMT;
        if (type == S_IFDIR) return directory(dir_fd, name, e, top);
        if (type == S_IFSOCK) return;
        // Before the hard links: overlayfs makes every whiteout a link of one inode.
        if (o_.overlay_whiteouts && type == S_IFCHR && e.st.st_rdev == 0) return sink_.put(marker(rel, ".wh." + name));
        if (host.st_nlink > 1) {
            auto [it, first] = links_.try_emplace({host.st_dev, host.st_ino}, rel);
            if (!first) {
                e.hardlink = it->second;
                return sink_.put(e);
            }
        }
        if (type == S_IFLNK) {
            e.symlink = read_link(dir_fd, name, e.st.st_size, rel);
            return sink_.put(e);
        }
        if (type != S_IFREG) return sink_.put(e);  // FIFOs, device nodes: the sink decides
        UniqueFd f = open_regular(dir_fd, name, host, rel);
        FdContent content(f.get());
        e.content = &content;
        sink_.put(e);
    }

private:
    // Names come from the tree, which may be a hostile container's: never
    // echoed with control characters.
    static std::string shown(const std::string& rel) { return quote_for_message(rel.empty() ? "." : rel); }

    // The file stat() saw, opened for reading only once it is known to be
    // that regular file: a tree that changes under the walk (a hostile
    // container) cannot have us open a FIFO (and hang) or a device node.
    static UniqueFd open_regular(int dir_fd, const std::string& name, const struct stat& seen, const std::string& rel) {
        struct stat st {};
        UniqueFd path = hold(dir_fd, name, S_IFREG, shown(rel), st);
        if (st.st_ino != seen.st_ino || st.st_dev != seen.st_dev) throw Error(shown(rel) + " changed while it was copied");
        UniqueFd f(::open(fd_path(path.get()).c_str(), O_RDONLY | O_NOCTTY | O_CLOEXEC));
        if (!f) throw_errno("open " + shown(rel));
        return f;
    }

    static std::string read_link(int dir_fd, const std::string& name, off_t size, const std::string& rel) {
        std::string target(static_cast<size_t>(std::max<off_t>(size, 255)) + 1, '\0');
        ssize_t n = ::readlinkat(dir_fd, name.c_str(), target.data(), target.size());
        if (n < 0) throw_errno("read link " + shown(rel));
        target.resize(static_cast<size_t>(n));
        return target;
    }

    bool is_mount_root(int dir_fd, const std::string& name) const {
        struct statx sx {};
        if (::statx(dir_fd, name.c_str(), AT_SYMLINK_NOFOLLOW | AT_NO_AUTOMOUNT, 0, &sx) < 0) return false;
        return (sx.stx_attributes_mask & STATX_ATTR_MOUNT_ROOT) && (sx.stx_attributes & STATX_ATTR_MOUNT_ROOT);
    }

    // An empty regular file named `name` beside `rel`: a layer's whiteout.
    static TreeEntry marker(const std::string& rel, const std::string& name) {
        TreeEntry w;
        auto slash = rel.rfind('/');
        w.path = slash == std::string::npos ? name : rel.substr(0, slash + 1) + name;
        w.st.st_mode = S_IFREG | 0644;
        return w;
    }

    void directory(int dir_fd, const std::string& name, const TreeEntry& e, bool top) {
        if (!top || !o_.contents_only) sink_.put(e);
        if (!top && o_.skip_mounts && is_mount_root(dir_fd, name)) return;
        UniqueFd dir(::openat(dir_fd, name.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
        if (!dir) throw_errno("open " + shown(e.path));
        char opaque[2] = {};
        if (o_.overlay_whiteouts && ::fgetxattr(dir.get(), "trusted.overlay.opaque", opaque, sizeof opaque) == 1 &&
            opaque[0] == 'y')
            sink_.put(marker(join(e.path, ".wh..wh..opq"), ".wh..wh..opq"));
        auto children = with_context("list " + shown(e.path), [&] { return dir_entries(dir.get()); });
        for (const auto& child : children) entry(dir.get(), child, join(e.path, child), false);
    }

    TreeSink& sink_;
    const WalkOptions& o_;
    std::map<std::pair<dev_t, ino_t>, std::string> links_;
};

// [off, off + len) of `in` to the same place of `out`: in the kernel where
// it can (copy_file_range), else through a buffer.
void copy_range(int in, int out, off_t off, off_t len, const std::string& what) {
    loff_t from = off, to = off;
    off_t end = off + len;
    while (from < end) {
        ssize_t n = ::copy_file_range(in, &from, out, &to, static_cast<size_t>(end - from), 0);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0 && (errno == EXDEV || errno == EINVAL || errno == EOPNOTSUPP || errno == ENOSYS)) break;
        if (n < 0) throw_errno("copy " + what);
        if (n == 0) return;  // the file shrank meanwhile
    }
    std::vector<char> buf(256 * 1024);
    while (from < end) {
        ssize_t n = ::pread(in, buf.data(), static_cast<size_t>(std::min<off_t>(end - from, static_cast<off_t>(buf.size()))), from);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) throw_errno("read " + what);
        if (n == 0) return;
        for (ssize_t done = 0; done < n;) {
            ssize_t w = ::pwrite(out, buf.data() + done, static_cast<size_t>(n - done), to + done);
            if (w < 0 && errno == EINTR) continue;
            if (w < 0) throw_errno("write " + what);
            done += w;
        }
        from += n;
        to += n;
    }
}

// The data regions of a file (SEEK_DATA/SEEK_HOLE), so that a hole stays
// a hole: a container's 50 GiB sparse file is not 50 GiB of the host's
// disk. False where the filesystem cannot say (then nothing was written).
bool copy_data_regions(int in, int out, off_t size, const std::string& what) {
    off_t pos = 0;
    while (pos < size) {
        off_t data = ::lseek(in, pos, SEEK_DATA);
        if (data < 0 && errno == ENXIO) break;  // a hole to the end
        if (data < 0 && pos == 0) return false;
        if (data < 0) throw_errno("seek " + what);
        if (data >= size) break;
        off_t hole = ::lseek(in, data, SEEK_HOLE);
        if (hole < 0) throw_errno("seek " + what);
        hole = std::min(hole, size);
        copy_range(in, out, data, hole - data, what);
        pos = hole;
    }
    if (::ftruncate(out, size) < 0) throw_errno("write " + what);
    if (::lseek(in, size, SEEK_SET) < 0 || ::lseek(out, size, SEEK_SET) < 0) throw_errno("seek " + what);
    return true;
}

void copy_bytes(Content& from, int to, off_t size, const std::string& what) {
    // A file that says it is empty may not be (/proc's): read to its end.
    if (from.fd() >= 0 && size > 0) copy_data_regions(from.fd(), to, size, what);
    // Streams, what the file grew by meanwhile, and what seeking cannot
    // cover: plain reads, appended.
    std::vector<char> buf(256 * 1024);
    for (;;) {
        size_t n = with_context("read " + what, [&] { return from.read(buf.data(), buf.size()); });
        if (n == 0) return;
        write_all(to, std::string_view(buf.data(), n));
    }
}

}  // namespace

void walk_tree(int dir_fd, const std::string& name, TreeSink& sink, const WalkOptions& o) {
    Walker(sink, o).entry(dir_fd, name, "", true);
}

void chown_tree(int dir_fd, const std::string& name, uid_t uid, gid_t gid) {
    // Everything through a descriptor of the entry itself: the tree may be
    // a volume a running container changes meanwhile.
    std::string what = quote_for_message(name);
    struct stat st {};
    UniqueFd fd = hold(dir_fd, name, 0, what, st);
    if (S_ISDIR(st.st_mode)) {
        UniqueFd dir(::openat(fd.get(), ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC));
        if (!dir) throw_errno("open " + what);
        for (const auto& child : dir_entries(dir.get())) chown_tree(dir.get(), child, uid, gid);
    }
    if (st.st_uid == uid && st.st_gid == gid) return;
    if (::fchownat(fd.get(), "", uid, gid, AT_EMPTY_PATH) < 0) throw_errno("chown " + what);
    // A chown drops setuid and setgid from files; they stay what they were.
    if (S_ISREG(st.st_mode) && (st.st_mode & (S_ISUID | S_ISGID))) chmod_held(fd.get(), st.st_mode & 07777, what);
}

// --- the directory sink ---

struct DirSink::Impl {
    int root_fd;
    std::string base;
    bool in_root;
    Owners owners;
    std::string cached_dir;
    UniqueFd cached_fd;
    // Directories get their owner, mode and times after what is in them
    // (a read-only one must still take its files), deepest first.
    std::vector<std::pair<std::string, struct stat>> dirs;

    UniqueFd open_resolved(const std::string& path, int flags) const {
        return minirt::open_resolved(root_fd, path, flags,
                                     in_root ? RESOLVE_IN_ROOT : RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS);
    }

    int parent(const std::string& dir) {
        if (!cached_fd || cached_dir != dir) {
            cached_fd = open_resolved(dir, O_PATH | O_DIRECTORY);
            if (!cached_fd && errno == ENOENT && dir.size() > base.size()) cached_fd = make_parents(dir);
            if (!cached_fd) {
                if (errno == ELOOP || errno == EXDEV)
                    throw Error("copy into " + shown(dir) + ": it is reached through a symbolic link");
                throw_errno("open " + shown(dir));
            }
            cached_dir = dir;
        }
        return cached_fd.get();
    }

    static std::string shown(const std::string& p) { return quote_for_message(p.empty() ? "." : p); }

    // Directories an archive uses without listing them first (tar makes
    // them too): each missing one below `base`, 0755, in its resolved parent.
    UniqueFd make_parents(const std::string& dir) {
        UniqueFd at = open_resolved(base, O_PATH | O_DIRECTORY);
        size_t pos = base.empty() ? 0 : base.size() + 1;
        while (at) {
            size_t slash = dir.find('/', pos);
            std::string prefix = dir.substr(0, slash);
            UniqueFd next = open_resolved(prefix, O_PATH | O_DIRECTORY);
            if (!next && errno == ENOENT) {
                if (::mkdirat(at.get(), split_parent(prefix).second.c_str(), 0755) < 0 && errno != EEXIST) return {};
                next = open_resolved(prefix, O_PATH | O_DIRECTORY);
            }
            at = std::move(next);
            if (slash == std::string::npos) break;
            pos = slash + 1;
        }
        return at;
    }

    std::optional<std::pair<uid_t, gid_t>> owner_of(const struct stat& st) const {
        switch (owners.mode) {
        case Owners::Mode::keep:
            return std::pair{host_id_of(owners.uid_map, st.st_uid), host_id_of(owners.gid_map, st.st_gid)};
        case Owners::Mode::fixed:
            return std::pair{owners.uid, owners.gid};
        case Owners::Mode::none:
            break;
        }
        return std::nullopt;
    }

    // Owner first: a chown clears the setuid and setgid bits the mode restores.
    void set_attrs(int fd, const struct stat& st, const std::string& what) const {
        if (auto o = owner_of(st); o && ::fchown(fd, o->first, o->second) < 0) throw_errno("chown " + what);
        if (::fchmod(fd, st.st_mode & 07777) < 0) throw_errno("chmod " + what);
        const timespec times[2] = {st.st_atim, st.st_mtim};
        if (::futimens(fd, times) < 0) throw_errno("set the times of " + what);
    }

    void set_link_attrs(int dir, const char* name, const struct stat& st, const std::string& what) const {
        if (auto o = owner_of(st); o && ::fchownat(dir, name, o->first, o->second, AT_SYMLINK_NOFOLLOW) < 0)
            throw_errno("chown " + what);
        const timespec times[2] = {st.st_atim, st.st_mtim};
        ::utimensat(dir, name, times, AT_SYMLINK_NOFOLLOW);  // best effort, as tar does
    }

    // Clears the way for a new entry: a non-directory there is replaced, a
    // directory kept for a directory. Returns true when a directory stays.
    bool make_room(int dir, const std::string& name, bool want_dir, const std::string& what, bool keep = false) const {
        struct stat old {};
        if (::fstatat(dir, name.c_str(), &old, AT_SYMLINK_NOFOLLOW) < 0) {
            if (errno == ENOENT) return false;
            throw_errno("stat " + what);
        }
        if (S_ISDIR(old.st_mode)) {
            if (want_dir) return true;
            throw Error("cannot overwrite directory " + what + " with a non-directory");
        }
        if (want_dir) throw Error("cannot overwrite non-directory " + what + " with a directory");
        if (!keep && ::unlinkat(dir, name.c_str(), 0) < 0) throw_errno("replace " + what);
        return false;
    }

    void put(const TreeEntry& e) {
        std::string full = join(base, e.path);
        auto [dir_path, name] = split_parent(full);
        mode_t type = e.st.st_mode & S_IFMT;
        if (name.empty() || name == ".") {
            if (type == S_IFDIR) dirs.emplace_back(full, e.st);
            return;
        }
        const std::string what = quote_for_message(full);
        int dir = parent(dir_path);
        if (type == S_IFCHR || type == S_IFBLK || type == S_IFSOCK) return;
        // A regular file replaces what is there by a rename at its end.
        bool exists = make_room(dir, name, type == S_IFDIR, what, type == S_IFREG && e.hardlink.empty());
        if (!e.hardlink.empty()) {
            auto [link_dir, link_name] = split_parent(join(base, e.hardlink));
            UniqueFd from = open_resolved(link_dir, O_PATH | O_DIRECTORY);
            if (!from) throw_errno("open " + shown(link_dir));
            if (::linkat(from.get(), link_name.c_str(), dir, name.c_str(), 0) < 0) throw_errno("link " + what);
            return;
        }
        switch (type) {
        case S_IFDIR:
            if (!exists && ::mkdirat(dir, name.c_str(), 0700) < 0) throw_errno("create " + what);
            dirs.emplace_back(full, e.st);
            return;
        case S_IFREG:
            return write_file(dir, name, e, what);
        case S_IFLNK:
            if (::symlinkat(e.symlink.c_str(), dir, name.c_str()) < 0) throw_errno("create link " + what);
            set_link_attrs(dir, name.c_str(), e.st, what);
            return;
        case S_IFIFO: {
            if (::mknodat(dir, name.c_str(), S_IFIFO | 0600, 0) < 0) throw_errno("create " + what);
            struct stat made {};
            UniqueFd fifo = hold(dir, name, S_IFIFO, what, made);
            if (auto o = owner_of(e.st); o && ::fchownat(fifo.get(), "", o->first, o->second, AT_EMPTY_PATH) < 0)
                throw_errno("chown " + what);
            chmod_held(fifo.get(), e.st.st_mode & 07777, what);
            return;
        }
        default:
            return;
        }
    }

    // A regular file: written unnamed (O_TMPFILE) where the filesystem
    // can, else under a temporary name, then renamed over `name`, so a copy
    // cut short (kill -9, a full disk) leaves the file that was there.
    void write_file(int dir, const std::string& name, const TreeEntry& e, const std::string& what) {
        std::string temp = "." + name.substr(0, 200) + ".minirt-cp-" + std::to_string(::getpid());
        UniqueFd to(::openat(dir, ".", O_TMPFILE | O_WRONLY | O_CLOEXEC, 0600));
        bool unnamed = to.valid();
        if (!unnamed) {
            if (errno != EOPNOTSUPP && errno != EISDIR && errno != EINVAL) throw_errno("create " + what);
            ::unlinkat(dir, temp.c_str(), 0);  // a leftover of a copy killed before
            to = UniqueFd(::openat(dir, temp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600));
            if (!to) throw_errno("create " + what);
        }
        try {
            if (e.content) copy_bytes(*e.content, to.get(), e.st.st_size, what);
            set_attrs(to.get(), e.st, what);
            if (unnamed) {
                ::unlinkat(dir, temp.c_str(), 0);
                if (::linkat(to.get(), "", dir, temp.c_str(), AT_EMPTY_PATH) < 0) throw_errno("create " + what);
            }
            if (::renameat(dir, temp.c_str(), dir, name.c_str()) < 0) throw_errno("replace " + what);
        } catch (...) {
            ::unlinkat(dir, temp.c_str(), 0);
            throw;
        }
    }

    void finish() {
        for (auto it = dirs.rbegin(); it != dirs.rend(); ++it) {
            UniqueFd d = open_resolved(it->first, O_RDONLY | O_DIRECTORY | O_NOFOLLOW);
            if (!d) throw_errno("open " + shown(it->first));
            set_attrs(d.get(), it->second, shown(it->first));
        }
        dirs.clear();
    }
};

DirSink::DirSink(int root_fd, std::string base, bool in_root, Owners owners)
    : impl_(new Impl{root_fd, std::move(base), in_root, std::move(owners), {}, {}, {}}) {}
DirSink::~DirSink() = default;
void DirSink::put(const TreeEntry& e) { impl_->put(e); }
void DirSink::finish() { impl_->finish(); }

void copy_tree(int src_dir, int dst_dir, const Owners& owners) {
    DirSink sink(dst_dir, "", false, owners);
    WalkOptions o;
    o.contents_only = true;
    walk_tree(src_dir, ".", sink, o);
    sink.finish();
}

}  // namespace minirt
