// Copying file trees: a source walks entries (a directory on disk, or a
// tar stream in linux/tar_stream.hpp) and hands each to a sink (a directory,
// or a tar stream). What `cp`, `export` and a volume's first mount (podman's
// copy-up) are made of.
//
// Neither side ever follows a symlink below where the copy starts: symlinks
// are copied as links. A sink resolves each entry's parent either inside a
// root (a container's: RESOLVE_IN_ROOT, so an absolute link in the
// container stays in it) or beneath its destination with no symlink at all
// (the host's: what a hostile archive or container could aim elsewhere).
// Owners, modes (setuid included) and times are kept; FIFOs are made anew;
// hard links stay links within one copy. Sockets, and device nodes on disk,
// are skipped (containers get their own /dev); extended attributes are not
// copied.
#pragma once

#include <sys/stat.h>

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "linux/security.hpp"

namespace minirt {

// Where a regular file's bytes come from.
class Content {
public:
    virtual ~Content() = default;
    // A descriptor to copy from (copy_file_range), or -1: use read().
    virtual int fd() const { return -1; }
    // Up to `size` bytes; 0 at the end. Throws Error.
    virtual size_t read(char* buf, size_t size) = 0;
};

struct TreeEntry {
    // Relative to where the copy starts, "" for that place itself; never
    // absolute, never with a ".." component.
    std::string path;
    struct stat st {};  // type, mode, owner (as the sink should see it), size, times, rdev
    std::string symlink;   // a symlink's target
    std::string hardlink;  // an earlier entry's path this one is a link to
    Content* content = nullptr;  // a regular file's bytes (not for hard links)
};

class TreeSink {
public:
    virtual ~TreeSink() = default;
    virtual void put(const TreeEntry& e) = 0;
    // After the last entry (directory times, the archive's end).
    virtual void finish() {}
};

// Owners as a sink writes them.
struct Owners {
    enum class Mode {
        keep,   // the entry's ids, through `to_host` (container ids to host ids)
        fixed,  // every entry owned by uid:gid (already host ids)
        none,   // no chown: the caller's
    } mode = Mode::keep;
    uint32_t uid = 0, gid = 0;
    std::vector<IdMapping> uid_map, gid_map;  // for keep; empty: the identity
};

// Walks `name` in the directory `dir_fd` (a file, a directory and all below
// it, a link) into `sink`: its entry first as path "", then the rest.
struct WalkOptions {
    // Host ids of the files are shown to the sink as ids inside this
    // mapping (a container's); empty: as they are.
    std::vector<IdMapping> uid_map, gid_map;
    // Do not descend into another mount below the start (export: the
    // container's /proc, volumes, ... are not its filesystem).
    bool skip_mounts = false;
    // Leave out the starting entry itself (cp's "DIR/.": only what is in it).
    bool contents_only = false;
    // An overlay's upper layer as an image layer says it (commit): a 0:0
    // character device is the whiteout file .wh.NAME, a directory marked
    // trusted.overlay.opaque is followed by its .wh..wh..opq.
    bool overlay_whiteouts = false;
};
void walk_tree(int dir_fd, const std::string& name, TreeSink& sink, const WalkOptions& o);

// A sink writing below the directory `base` (a path resolved from `root_fd`
// as said above; "" or "." for root_fd itself). The entry "" is `base`
// itself: a directory there is kept and takes the entry's owner and mode.
class DirSink : public TreeSink {
public:
    // in_root: resolve inside root_fd (a container's root); otherwise
    // beneath root_fd through no symlink.
    DirSink(int root_fd, std::string base, bool in_root, Owners owners);
    ~DirSink() override;
    void put(const TreeEntry& e) override;
    void finish() override;

private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

// copy-up: the contents of `src_dir` into the empty directory `dst_dir`,
// owners mapped by `owners`.
void copy_tree(int src_dir, int dst_dir, const Owners& owners = {});

// Gives `name` in `dir_fd` and everything below it to uid:gid, following
// no symlink (they are changed themselves); setuid bits are kept.
void chown_tree(int dir_fd, const std::string& name, uid_t uid, gid_t gid);

// The names in a directory but "." and "..", sorted: the same order every
// time (tar streams, diffs).
std::vector<std::string> dir_entries(int dir_fd);

// Splits "a/b/c" into "a/b" and "c" ("" and "c" for "c").
std::pair<std::string, std::string> split_parent(const std::string& path);

}  // namespace minirt
