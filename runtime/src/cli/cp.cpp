// minirt cp, export and diff: files in and out of a container's filesystem.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <functional>
#include <iostream>
#include <optional>

#include <nlohmann/json.hpp>

#include "cli/cli.hpp"
#include "common/error.hpp"
#include "common/file.hpp"
#include "common/parse.hpp"
#include "container/container_root.hpp"
#include "container/diff.hpp"
#include "linux/copy_tree.hpp"
#include "linux/rootfs.hpp"
#include "linux/tar_stream.hpp"
#include "linux/userns.hpp"

namespace minirt::cli {

namespace {

// SRC or DST of cp: "-" (a tar stream), CONTAINER:PATH, or a host path (one
// with a colon is written ./a:b, as for podman).
struct Location {
    bool stream = false;
    std::string container;
    std::string path;
};

Location parse_location(const std::string& arg) {
    if (arg == "-") return {true, "", ""};
    auto colon = arg.find(':');
    if (colon != std::string::npos && colon > 0) {
        std::string head = arg.substr(0, colon);
        if (head.find('/') == std::string::npos && head[0] != '.') {
            std::string path = arg.substr(colon + 1);
            if (path.empty()) throw Error("cp: " + quote_for_message(arg) + " names no path in the container");
            return {false, head, path};
        }
    }
    if (arg.empty()) throw Error("cp: an empty path");
    return {false, "", arg};
}

// "DIR/." asks for what is in DIR, not DIR itself.
bool strip_contents_marker(std::string& path) {
    if (path == "." || path.ends_with("/.")) {
        path.resize(path.size() - 1);
        if (path.empty()) path = ".";
        return true;
    }
    return false;
}

// A path's directory and last name, trailing slashes aside ("/" and "."
// for a bare name: its directory is the root's or the current one).
std::pair<std::string, std::string> parent_and_name(const std::string& path) {
    std::string p = path;
    while (p.size() > 1 && p.back() == '/') p.pop_back();
    auto [dir, name] = split_parent(p);
    if (dir.empty()) dir = p.starts_with("/") ? "/" : ".";
    return {dir, name};
}
std::string base_name(const std::string& path) { return parent_and_name(path).second; }
std::string parent_of(const std::string& path) { return parent_and_name(path).first; }

// A container path made absolute against its working directory, then
// relative to its root (as openat2 below the root wants it).
std::string in_container(const ContainerRoot& r, const std::string& path) {
    std::string abs = path.starts_with("/") ? path : r.workdir + "/" + path;
    auto first = abs.find_first_not_of('/');
    return first == std::string::npos ? "" : abs.substr(first);
}

// Where a path stands on one side of the copy: a container's root and the
// path inside it, or the host.
struct Side {
    const ContainerRoot* root = nullptr;  // null: the host
    std::string path;                     // as given (the host's), or relative to the root
    std::string shown;                    // for messages

    UniqueFd open(const std::string& p, int flags) const {
        if (root) return open_in_root(root->fd.get(), p.empty() ? "." : p, flags);
        return UniqueFd(::open(p.c_str(), flags | O_CLOEXEC));
    }
    // stat, following links (inside the container's root for a container).
    std::optional<struct stat> stat_of(const std::string& p) const {
        UniqueFd fd = open(p, O_PATH);
        if (!fd) {
            if (errno == ENOENT || errno == ENOTDIR) return std::nullopt;
            throw_errno("cp: " + shown);
        }
        struct stat st {};
        if (::fstat(fd.get(), &st) < 0) throw_errno("cp: stat " + shown);
        return st;
    }
};

Side side_of(const Location& l, const ContainerRoot* root) {
    Side s;
    s.root = root;
    if (root) {
        s.path = in_container(*root, l.path);
        s.shown = root->shown + ":" + l.path;
    } else {
        s.path = l.path;
        s.shown = l.path;
    }
    return s;
}

struct Source {
    std::function<void(TreeSink&, bool contents_only)> walk;
    bool is_dir = false;
    bool contents_only = false;
    std::string name;  // what the copy is called at a directory destination
};

Source host_or_container_source(const Side& s) {
    Source src;
    std::string path = s.path;
    src.contents_only = strip_contents_marker(path);
    bool whole_root = s.root && (path.empty() || path == ".");
    if (whole_root) src.contents_only = true;
    std::string parent = whole_root ? "" : parent_of(path);
    std::string name = whole_root ? "." : base_name(path);
    if (s.root && parent == ".") parent = "";
    if (name == "/" || name.empty()) name = ".";
    UniqueFd dir = s.open(parent, O_PATH | O_DIRECTORY);
    if (!dir) throw_errno("cp: " + s.shown);
    struct stat st {};
    if (::fstatat(dir.get(), name.c_str(), &st, AT_SYMLINK_NOFOLLOW) < 0) throw_errno("cp: " + s.shown);
    src.is_dir = S_ISDIR(st.st_mode);
    if (src.contents_only && !src.is_dir) throw Error("cp: " + s.shown + " is not a directory");
    src.name = name == "." ? "" : name;
    WalkOptions o;
    if (s.root) {
        o.uid_map = s.root->uid_map;
        o.gid_map = s.root->gid_map;
    }
    auto shared_dir = std::make_shared<UniqueFd>(std::move(dir));
    src.walk = [shared_dir, name, o](TreeSink& sink, bool contents_only) mutable {
        o.contents_only = contents_only;
        walk_tree(shared_dir->get(), name, sink, o);
    };
    return src;
}

// The whole copy: the source walked into the sink, and the sink finished
// (directory times, the archive's end); errors say where it went.
void pour(const Source& src, TreeSink& sink, bool contents_only, const std::string& context) {
    with_context(context, [&] {
        src.walk(sink, contents_only);
        sink.finish();
    });
}

// Who owns what lands in a container: its user (podman's --archive, the
// default), or (--archive=false) the ids the source had, as ids inside it.
Owners owners_in(const ContainerRoot& r, bool archive) {
    Owners o;
    if (archive) {
        o.mode = Owners::Mode::fixed;
        o.uid = host_id_of(r.uid_map, r.uid);
        o.gid = host_id_of(r.gid_map, r.gid);
    } else {
        o.uid_map = r.uid_map;
        o.gid_map = r.gid_map;
    }
    return o;
}

void copy_into(const Source& src, bool src_stream, const Side& dst, bool archive) {
    auto st = dst.stat_of(dst.path);
    std::string base;      // relative to `at`
    std::string at_path;   // the directory the sink works below
    bool contents_only = src.contents_only;
    if (src_stream && !(st && S_ISDIR(st->st_mode)))
        throw Error("cp: " + dst.shown + " must be an existing directory for an archive");
    if (st && S_ISDIR(st->st_mode)) {
        at_path = dst.path;
        base = src_stream || src.contents_only ? "" : src.name;
    } else if (st) {
        if (src.is_dir) throw Error("cp: cannot copy a directory onto the file " + dst.shown);
        at_path = parent_of(dst.path);
        base = base_name(dst.path);
    } else {
        if (dst.path.ends_with("/")) throw Error("cp: no such directory " + dst.shown);
        at_path = parent_of(dst.path);
        auto parent = dst.stat_of(at_path);
        if (!parent || !S_ISDIR(parent->st_mode)) throw Error("cp: no such directory for " + dst.shown);
        base = base_name(dst.path);
        contents_only = false;  // DIR/. to a new place: the place is made
    }
    if (dst.root && at_path == ".") at_path = "";
    UniqueFd at;  // the host directory the sink works below
    std::unique_ptr<TreeSink> sink;
    if (dst.root) {
        std::string full = at_path.empty() ? base : base.empty() ? at_path : at_path + "/" + base;
        sink = std::make_unique<DirSink>(dst.root->fd.get(), full, true, owners_in(*dst.root, archive));
    } else {
        at = UniqueFd(::open(at_path.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
        if (!at) throw_errno("cp: " + at_path);
        sink = std::make_unique<DirSink>(at.get(), base, false, Owners{});  // the ids it had in the container
    }
    pour(src, *sink, contents_only, "cp to " + dst.shown);
}

void refuse_terminal(int fd, const char* what) {
    if (::isatty(fd)) throw Error(std::string(what) + ": refusing to write an archive to a terminal (redirect it, or use -o FILE)");
}

}  // namespace

int cmd_cp(Context& ctx, const Args& args) {
    const char* usage = "minirt cp [--archive=false] SRC DST   (SRC, DST: CONTAINER:PATH, a host path, or - for a tar stream)";
    po::options_description desc("Options");
    desc.add_options()("archive,a", po::value<std::string>()->implicit_value("true")->default_value("true"),
                       "files copied into a container belong to its user (true) or keep their owners (false)");
    Parsed p = parse(desc, args, usage);
    require_positional(p, 2, 2, usage);
    auto archive = bool_word(p.vm["archive"].as<std::string>());
    if (!archive) throw Error("invalid --archive " + quote_for_message(p.vm["archive"].as<std::string>()) + ": true or false");
    Location from = parse_location(p.positional[0]), to = parse_location(p.positional[1]);
    if (from.stream && to.stream) throw Error("cp: SRC and DST cannot both be \"-\"");
    if (from.container.empty() && to.container.empty())
        throw Error("cp: SRC or DST must be a container's path (CONTAINER:PATH)");
    std::optional<ContainerRoot> from_root, to_root;
    std::string from_id, to_id;
    if (!from.container.empty()) {
        from_id = ctx.store.resolve(from.container);
        from_root = open_container_root(ctx.store, from_id, true);
    }
    if (!to.container.empty()) {
        to_id = ctx.store.resolve(to.container);
        if (to_id != from_id) to_root = open_container_root(ctx.store, to_id, true);
    }
    const ContainerRoot* dst_root = to.container.empty() ? nullptr : to_id == from_id ? &*from_root : &*to_root;

    Source src;
    if (from.stream) {
        src.walk = [](TreeSink& sink, bool) { read_tar(STDIN_FILENO, sink, "the archive on stdin"); };
        src.is_dir = true;
    } else {
        src = host_or_container_source(side_of(from, from_root ? &*from_root : nullptr));
    }
    if (to.stream) {
        refuse_terminal(STDOUT_FILENO, "cp");
        TarSink sink(STDOUT_FILENO, src.contents_only ? "" : src.name);
        pour(src, sink, src.contents_only, "cp");
        return 0;
    }
    copy_into(src, from.stream, side_of(to, dst_root), *archive);
    return 0;
}

int cmd_export(Context& ctx, const Args& args) {
    const char* usage = "minirt export [-o FILE] CONTAINER";
    po::options_description desc("Options");
    desc.add_options()("output,o", po::value<std::string>(), "write the archive to FILE (default: stdout)");
    Parsed p = parse(desc, args, usage);
    require_positional(p, 1, 1, usage);
    std::string id = ctx.store.resolve(p.positional[0]);
    std::optional<std::string> out;
    if (p.vm.count("output")) out = p.vm["output"].as<std::string>();
    if (!out) refuse_terminal(STDOUT_FILENO, "export");
    ContainerRoot root = open_container_root(ctx.store, id, false);
    // -o FILE: written beside it and renamed over it at the end, so a
    // failed export leaves what was there.
    UniqueFd file;
    std::string tmp;
    if (out) {
        tmp = *out + ".minirt-export-" + std::to_string(::getpid());
        file = UniqueFd(::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644));
        if (!file) throw_errno("export: create " + tmp);
    }
    try {
        TarSink sink(out ? file.get() : STDOUT_FILENO, "");
        WalkOptions o;
        o.uid_map = root.uid_map;
        o.gid_map = root.gid_map;
        o.skip_mounts = true;
        o.contents_only = true;
        with_context("export " + root.shown, [&] {
            walk_tree(root.fd.get(), ".", sink, o);
            sink.finish();
        });
        if (out) {
            if (::fsync(file.get()) < 0) throw_errno("export: write " + *out);
            if (::rename(tmp.c_str(), out->c_str()) < 0) throw_errno("export: rename " + tmp + " to " + *out);
        }
    } catch (...) {
        if (out) ::unlink(tmp.c_str());
        throw;
    }
    return 0;
}

int cmd_diff(Context& ctx, const Args& args) {
    const char* usage = "minirt diff [--format json] CONTAINER";
    po::options_description desc("Options");
    desc.add_options()("format", po::value<std::string>(), "json: {\"added\": [...], \"changed\": [...], \"deleted\": [...]}");
    Parsed p = parse(desc, args, usage);
    require_positional(p, 1, 1, usage);
    std::string format = p.vm.count("format") ? p.vm["format"].as<std::string>() : "";
    if (!format.empty() && format != "json") throw Error("diff: unknown --format " + quote_for_message(format) + " (json)");
    std::string id = ctx.store.resolve(p.positional[0]);
    auto changes = container_changes(ctx.store, id);
    if (format == "json") {
        nlohmann::json j = nlohmann::json::object();
        for (const auto& c : changes) j[c.kind == 'A' ? "added" : c.kind == 'C' ? "changed" : "deleted"].push_back(c.path);
        std::cout << j.dump() << "\n";
        return 0;
    }
    // One path a line, whatever a container named its files: control
    // characters (a newline would forge a line) and backslashes escaped.
    auto printable = [](const std::string& path) {
        std::string out;
        for (char ch : path) {
            auto c = static_cast<unsigned char>(ch);
            if (c < 0x20 || c == 0x7f || c == '\\') {
                char esc[8];
                std::snprintf(esc, sizeof esc, "\\x%02x", c);
                out += esc;
            } else {
                out += ch;
            }
        }
        return out;
    };
    std::string text;
    for (const auto& c : changes) text += std::string(1, c.kind) + " " + printable(c.path) + "\n";
    std::cout << text;
    return 0;
}

}  // namespace minirt::cli
