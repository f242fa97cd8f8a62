#include "image/layers.hpp"

#include <fcntl.h>
#include <linux/openat2.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <set>

#include "common/archive_lib.hpp"
#include "common/error.hpp"
#include "common/fd.hpp"
#include "common/file.hpp"
#include "common/parse.hpp"
#include "common/sha256.hpp"

namespace minirt {

namespace {

const ArchiveLib& lib() { return archive_lib(); }

constexpr const char* kWhiteoutPrefix = ".wh.";
constexpr const char* kOpaqueMarker = ".wh..wh..opq";

bool is_hex64(std::string_view s) {
    return s.size() == 64 && std::all_of(s.begin(), s.end(), [](char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); });
}

// The uncompressed bytes of a blob, as libarchive's raw format gives them,
// hashed (and counted) on their way to the tar reader.
struct HashedStream {
    archive* raw = nullptr;
    Sha256 hash;
    uint64_t bytes = 0;
    uint64_t max_bytes = 0;
    std::string error;
    char buf[1 << 16];
};

la_ssize_t read_hashed(archive*, void* data, const void** out) {
    auto* s = static_cast<HashedStream*>(data);
    la_ssize_t n = lib().archive_read_data(s->raw, s->buf, sizeof s->buf);
    if (n < 0) {
        s->error = archive_error(s->raw);
        return -1;
    }
    s->hash.update(s->buf, static_cast<size_t>(n));
    s->bytes += static_cast<uint64_t>(n);
    if (s->max_bytes && s->bytes > s->max_bytes) {
        s->error = "it is larger than the limit of " + std::to_string(s->max_bytes) + " bytes uncompressed";
        return -1;
    }
    *out = s->buf;
    return n;
}

// An entry's path inside the layer, "./" and trailing slashes gone; Error
// if it would leave the layer.
std::string layer_path(const std::string& raw, const std::string& what) {
    std::string p = raw;
    while (p.starts_with("./")) p.erase(0, 2);
    while (!p.empty() && p.back() == '/') p.pop_back();
    if (!p.empty() && p[0] == '/') throw Error(what + " " + quote_for_message(raw) + " is an absolute path");
    for (const auto& part : fs::path(p))
        if (part == "..") throw Error(what + " " + quote_for_message(raw) + " leaves the layer (..)");
    return p == "." ? "" : p;
}

// The directory `rel` inside `root`, made where missing (0755), never
// through a symlink.
UniqueFd open_layer_dir(int root, const std::string& rel) {
    UniqueFd dir(::fcntl(root, F_DUPFD_CLOEXEC, 0));
    for (const auto& part : fs::path(rel)) {
        std::string name = part.string();
        if (name.empty() || name == ".") continue;
        if (::mkdirat(dir.get(), name.c_str(), 0755) < 0 && errno != EEXIST) throw_errno("create " + rel);
        open_how how{};
        how.flags = O_PATH | O_DIRECTORY | O_CLOEXEC;
        how.resolve = RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS;
        int fd = static_cast<int>(::syscall(SYS_openat2, dir.get(), name.c_str(), &how, sizeof how));
        if (fd < 0) throw_errno("open " + rel + " in the layer (a symlink on the way?)");
        dir.reset(fd);
    }
    return dir;
}

void apply_whiteout(int root, const std::string& path) {
    fs::path p(path);
    std::string parent = p.parent_path().string(), base = p.filename().string();
    UniqueFd dir = open_layer_dir(root, parent);
    if (base == kOpaqueMarker) {
        // setxattr needs a real fd, not O_PATH.
        UniqueFd d(::openat(dir.get(), ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC));
        if (!d || ::fsetxattr(d.get(), "trusted.overlay.opaque", "y", 1, 0) < 0)
            throw_errno("mark " + (parent.empty() ? std::string("/") : parent) + " opaque");
        return;
    }
    std::string name = base.substr(std::strlen(kWhiteoutPrefix));
    if (name.starts_with(kWhiteoutPrefix)) return;  // .wh..wh.plnk and the like: AUFS's bookkeeping
    if (name.empty() || name == "." || name == "..") throw Error("a whiteout " + quote_for_message(path) + " names no file");
    // A file the layer itself had at that name goes: the whiteout is the later word.
    if (::unlinkat(dir.get(), name.c_str(), 0) < 0 && errno == EISDIR) remove_tree(fs::path("/proc/self/fd") / std::to_string(dir.get()) / name);
    UniqueFd real(::openat(dir.get(), ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    if (!real || ::mknodat(real.get(), name.c_str(), S_IFCHR | 0, makedev(0, 0)) < 0)
        throw_errno("make the whiteout of " + path);
}

// overlayfs reads its own trusted.overlay.* xattrs in lower layers
// (redirects, opaque, metacopy): only the whiteouts above may set them.
void drop_overlay_xattrs(archive_entry* entry) {
    struct Kept {
        std::string name;
        std::string value;
    };
    std::vector<Kept> kept;
    bool dropped = false;
    lib().archive_entry_xattr_reset(entry);
    const char* name;
    const void* value;
    size_t size;
    while (lib().archive_entry_xattr_next(entry, &name, &value, &size) == ARCHIVE_OK) {
        if (std::string_view(name).starts_with("trusted.")) {
            dropped = true;
            continue;
        }
        kept.push_back({name, std::string(static_cast<const char*>(value), size)});
    }
    if (!dropped) return;
    lib().archive_entry_xattr_clear(entry);
    for (const auto& k : kept) lib().archive_entry_xattr_add_entry(entry, k.name.c_str(), k.value.data(), k.value.size());
}

struct Unpacked {
    std::string diff_id;
    uint64_t size = 0;
};

Unpacked unpack(const fs::path& blob, const fs::path& root_path, const LayerLimits& limits) {
    make_dirs(root_path, 0755);
    UniqueFd root(::open(root_path.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    if (!root) throw_errno("open " + root_path.string());
    ArchivePtr raw(lib().archive_read_new(), lib().archive_read_free);
    // The compressions images use, each by a library: not filter_all, which
    // would run external programs (lrzip, lzop, ...) on a hostile blob.
    lib().archive_read_support_filter_gzip(raw.get());
    lib().archive_read_support_filter_zstd(raw.get());
    lib().archive_read_support_filter_xz(raw.get());
    lib().archive_read_support_filter_bzip2(raw.get());
    lib().archive_read_support_format_raw(raw.get());
    if (lib().archive_read_open_filename(raw.get(), blob.c_str(), 1 << 16) != ARCHIVE_OK)
        throw Error("open " + blob.string() + ": " + archive_error(raw.get()));
    archive_entry* whole = nullptr;
    if (lib().archive_read_next_header(raw.get(), &whole) != ARCHIVE_OK)
        throw Error("read " + blob.string() + ": " + archive_error(raw.get()));
    auto stream = std::make_unique<HashedStream>();
    stream->raw = raw.get();
    stream->max_bytes = limits.max_bytes;
    ArchivePtr tar(lib().archive_read_new(), lib().archive_read_free);
    lib().archive_read_support_format_tar(tar.get());
    if (lib().archive_read_open(tar.get(), stream.get(), nullptr, read_hashed, nullptr) != ARCHIVE_OK)
        throw Error("read the layer: " + (stream->error.empty() ? archive_error(tar.get()) : stream->error));

    WorkingDirectory cwd(root.get());  // the disk writer works relative to it
    ArchivePtr out(lib().archive_write_disk_new(), lib().archive_write_free);
    // Numeric owners, as the image says them: no lookup of names on the host.
    lib().archive_write_disk_set_options(
        out.get(), ARCHIVE_EXTRACT_TIME | ARCHIVE_EXTRACT_PERM | ARCHIVE_EXTRACT_OWNER | ARCHIVE_EXTRACT_XATTR |
                       ARCHIVE_EXTRACT_SECURE_SYMLINKS | ARCHIVE_EXTRACT_SECURE_NODOTDOT |
                       ARCHIVE_EXTRACT_SECURE_NOABSOLUTEPATHS | ARCHIVE_EXTRACT_UNLINK);
    Unpacked u;
    std::vector<std::string> whiteouts;
    std::set<std::string> written;  // a whiteout hides lower layers' files, never this layer's own
    for (;;) {
        archive_entry* entry = nullptr;
        int r = lib().archive_read_next_header(tar.get(), &entry);
        if (r == ARCHIVE_EOF) break;
        if (r < ARCHIVE_WARN)
            throw Error("read the layer: " + (stream->error.empty() ? archive_error(tar.get()) : stream->error));
        std::string path = layer_path(lib().archive_entry_pathname(entry), "an entry");
        if (path.empty()) continue;  // the layer's own root
        std::string base = fs::path(path).filename().string();
        if (base.starts_with(kWhiteoutPrefix)) {
            // After the entries: a whiteout must not be undone by a later
            // entry of the same directory being written over it.
            whiteouts.push_back(path);
            continue;
        }
        mode_t type = lib().archive_entry_filetype(entry);
        if (type == AE_IFCHR || type == AE_IFBLK) continue;  // containers get their own /dev
        if (const char* link = lib().archive_entry_hardlink(entry))
            lib().archive_entry_set_hardlink(entry, layer_path(link, "a hard link to").c_str());
        lib().archive_entry_set_pathname(entry, path.c_str());
        written.insert(path);
        lib().archive_entry_set_perm(entry, lib().archive_entry_perm(entry) & ~static_cast<mode_t>(S_ISUID | S_ISGID));
        drop_overlay_xattrs(entry);
        r = lib().archive_write_header(out.get(), entry);
        if (r < ARCHIVE_WARN) throw Error("unpack " + quote_for_message(path) + ": " + archive_error(out.get()));
        if (type == AE_IFREG && lib().archive_entry_size(entry) > 0) {
            u.size += static_cast<uint64_t>(lib().archive_entry_size(entry));
            const void* buf;
            size_t size;
            la_int64_t offset;
            while ((r = lib().archive_read_data_block(tar.get(), &buf, &size, &offset)) == ARCHIVE_OK)
                if (lib().archive_write_data_block(out.get(), buf, size, offset) < ARCHIVE_OK)
                    throw Error("write " + quote_for_message(path) + ": " + archive_error(out.get()));
            if (r != ARCHIVE_EOF)
                throw Error("read the layer: " + (stream->error.empty() ? archive_error(tar.get()) : stream->error));
        }
        if (lib().archive_write_finish_entry(out.get()) < ARCHIVE_WARN)
            throw Error("write " + quote_for_message(path) + ": " + archive_error(out.get()));
    }
    if (lib().archive_write_close(out.get()) != ARCHIVE_OK) throw Error("unpack: " + archive_error(out.get()));
    for (const auto& w : whiteouts) {
        fs::path wp(w);
        std::string base = wp.filename().string();
        std::string target = (wp.parent_path() / base.substr(std::strlen(kWhiteoutPrefix))).string();
        if (base != kOpaqueMarker && written.contains(target)) continue;
        apply_whiteout(root.get(), w);
    }
    // The digest covers the whole stream, the tar's padding after its end too.
    const void* rest;
    la_ssize_t n;
    while ((n = read_hashed(nullptr, stream.get(), &rest)) > 0) {
    }
    if (n < 0) throw Error("read the layer: " + stream->error);
    u.diff_id = stream->hash.digest();
    return u;
}

UniqueFd lock_layer(const Paths& paths, const std::string& hex, bool wait) {
    fs::path dir = paths.root / "locks";
    make_dirs(dir, 0700);
    fs::path path = dir / ("layer-" + hex + ".lock");
    UniqueFd fd(::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600));
    if (!fd) throw_errno("open " + path.string());
    while (::flock(fd.get(), LOCK_EX | (wait ? 0 : LOCK_NB)) < 0) {
        if (errno == EINTR) continue;
        if (errno == EWOULDBLOCK) return UniqueFd();
        throw_errno("lock " + path.string());
    }
    return fd;
}

}  // namespace

LayerLimits layer_limits() {
    LayerLimits l;
    if (const char* v = std::getenv("MINIRT_MAX_LAYER_SIZE")) l.max_bytes = parse_size(v, "MINIRT_MAX_LAYER_SIZE");
    else l.max_bytes = 64ULL << 30;
    return l;
}

void validate_digest(const std::string& digest, const std::string& what) {
    if (!digest.starts_with("sha256:") || !is_hex64(std::string_view(digest).substr(7)))
        throw Error(what + " " + quote_for_message(digest) + " is not a sha256 digest");
}

std::string digest_hex(const std::string& digest) { return digest.substr(digest.find(':') + 1); }

fs::path layer_dir(const Paths& paths, const std::string& diff_id) { return paths.layers_dir() / digest_hex(diff_id); }
fs::path layer_root(const Paths& paths, const std::string& diff_id) { return layer_dir(paths, diff_id) / "diff"; }

LayerHold ensure_layer(const Paths& paths, const fs::path& blob, const std::string& diff_id, const LayerLimits& limits) {
    validate_digest(diff_id, "the layer diff_id");
    std::string hex = digest_hex(diff_id);
    fs::path dir = layer_dir(paths, diff_id);
    LayerHold hold;
    hold.lock = lock_layer(paths, hex, true);
    if (auto text = read_file_if_exists(dir / "size", 64)) {  // there already (another pull's, maybe)
        hold.size = std::strtoull(text->c_str(), nullptr, 10);
        return hold;
    }
    make_dirs(paths.layers_dir(), 0700);
    fs::path tmp = paths.layers_dir() / (".tmp-" + hex);
    remove_tree(tmp);  // a crashed unpack's (we hold its lock)
    try {
        Unpacked u = unpack(blob, tmp / "diff", limits);
        if (u.diff_id != diff_id)
            throw Error("the layer's content does not match its diff_id: it is " + u.diff_id + ", the image says " + diff_id);
        write_new_file(tmp / "size", std::to_string(u.size) + "\n", 0600);
        if (::rename(tmp.c_str(), dir.c_str()) < 0) throw_errno("rename into " + dir.string());
        hold.size = u.size;
        return hold;
    } catch (...) {
        remove_tree(tmp);
        throw;
    }
}

void remove_unused_layers(const Paths& paths, const std::set<std::string>& used) {
    std::set<std::string> keep;
    for (const auto& d : used) keep.insert(digest_hex(d));
    std::vector<std::string> names;
    std::error_code ec;
    for (fs::directory_iterator it(paths.layers_dir(), ec), end; !ec && it != end; it.increment(ec))
        names.push_back(it->path().filename().string());
    for (const auto& name : names) {
        std::string hex = name.starts_with(".tmp-") ? name.substr(5) : name;
        if (!is_hex64(hex) || (name == hex && keep.contains(hex))) continue;
        // A pull holds the lock from the unpack until its image is written.
        UniqueFd lock = lock_layer(paths, hex, false);
        if (!lock) continue;
        // Its lock file stays: one waiting on it must lock the same file.
        // Renamed aside first: a removal cut short must not leave a layer
        // that looks whole (its size file there, files of it gone).
        fs::path aside = paths.layers_dir() / (".tmp-" + hex);
        if (name == hex) {
            remove_tree(aside);
            if (::rename((paths.layers_dir() / name).c_str(), aside.c_str()) < 0) throw_errno("remove the layer " + hex);
        }
        remove_tree(aside);
    }
}

}  // namespace minirt
