// -v/--volume, --mount and --tmpfs: podman's spellings, turned into the OCI
// mounts entries a container's spec gets (container/bundle.cpp).
#include <sys/stat.h>

#include <algorithm>
#include <map>
#include <optional>
#include <set>

#include "cli/cli.hpp"
#include "common/error.hpp"
#include "common/parse.hpp"
#include "state/volumes.hpp"

namespace minirt::cli {

namespace {

const std::set<std::string, std::less<>> kPropagations{"private", "rprivate", "shared", "rshared",
                                                       "slave",   "rslave",   "unbindable", "runbindable"};

// Files under /proc that may be mounted over (runc's list: what lxcfs
// provides); anything else under /proc is the kernel's.
const std::set<std::string, std::less<>> kProcFiles{"/proc/cpuinfo", "/proc/diskstats", "/proc/meminfo",
                                                    "/proc/stat",    "/proc/swaps",     "/proc/uptime",
                                                    "/proc/loadavg", "/proc/slabinfo",  "/proc/net/dev",
                                                    "/proc/sys/kernel/ns_last_pid"};

// A container-side path: absolute, made canonical lexically (the image's
// symlinks are resolved later, inside its root), and not one that would
// take the kernel's filesystems away.
std::string destination(std::string_view text, const std::string& flag) {
    std::string shown = "invalid " + flag + " destination " + quote_for_message(text);
    if (text.empty() || text[0] != '/') throw Error(shown + ": must be an absolute path");
    std::string d = fs::path(text).lexically_normal().string();
    if (d.size() > 1 && d.back() == '/') d.pop_back();
    if (d == "/") throw Error(shown + ": cannot mount over the root");
    if (d == "/proc" || d == "/sys") throw Error(shown + ": cannot replace " + d + " as a whole");
    if (d.starts_with("/proc/") && !kProcFiles.contains(d))
        throw Error(shown + ": only lxcfs's files may be mounted under /proc (cpuinfo, meminfo, stat, ...)");
    return d;
}

// A host path for a bind: it must exist (as podman, nothing is created).
std::string host_source(std::string_view text, const std::string& flag) {
    std::error_code ec;
    fs::path abs = fs::absolute(std::string(text), ec).lexically_normal();
    struct stat st {};
    std::string shown = "invalid " + flag + " source " + quote_for_message(text);
    if (ec) throw Error(ec.value(), shown);
    if (::stat(abs.c_str(), &st) < 0) {
        if (errno == ENOENT) throw Error(shown + ": no such file or directory");  // podman's words
        throw_errno(shown);
    }
    std::string s = abs.string();
    if (s.size() > 1 && s.back() == '/') s.pop_back();
    return s;
}

// Options shared by -v and --mount binds, and --tmpfs: each at most once in
// meaning (ro with rw, or two propagations, is refused).
class Options {
public:
    Options(std::string flag, std::string value) : flag_(std::move(flag)), value_(std::move(value)) {}

    void read_only(bool ro) { set("ro", ro ? "ro" : "rw"); }
    // exec/noexec, suid/nosuid, dev/nodev.
    void flag(const std::string& name, bool enable) { set(name, enable ? name : "no" + name); }
    void propagation(std::string_view p) {
        if (!kPropagations.contains(p)) bad("unknown propagation " + quote_for_message(p));
        set("propagation", std::string(p));
    }
    void recursive(bool r) { set("bind", r ? "rbind" : "bind"); }
    void copy(bool c) { set("copy", c ? "copy" : "nocopy"); }
    // tmpfs: start with the image's files there (podman's default).
    void tmp_copy(bool c) { set("tmpcopy", c ? "tmpcopyup" : "notmpcopyup"); }
    // U (chown the source to the container's user), idmap.
    void marker(const std::string& name) { set(name, name); }
    void data(const std::string& key, const std::string& value) { set("data:" + key, key + "=" + value); }

    // The entry's options: what was given, with the defaults for `type`.
    std::vector<std::string> finish(const std::string& type) const {
        std::vector<std::string> out;
        auto get = [&](const std::string& k, const std::string& def) {
            auto it = chosen_.find(k);
            return it == chosen_.end() ? def : it->second;
        };
        bool bind = type == "bind" || type == "volume";
        if (bind) out.push_back(get("bind", "rbind"));
        std::string propagation = get("propagation", bind ? "rprivate" : "");
        if (!propagation.empty()) out.push_back(propagation);
        std::string ro = get("ro", "rw");
        out.push_back(ro);
        // Read-only all the way down, as crun does: a mount under the
        // source must not stay writable.
        if (bind && ro == "ro" && out[0] == "rbind") out.push_back("rro");
        // podman's defaults (what it mounts, not what its manual says): a
        // tmpfs is nosuid and nodev, a devpts noexec and nosuid (its nodes
        // must open); a bind keeps what its source has.
        for (const char* f : {"exec", "suid", "dev"}) {
            // A volume, as podman mounts one: nosuid and nodev.
            bool off = (type == "tmpfs" && std::string_view(f) != "exec") ||
                       (type == "devpts" && std::string_view(f) != "dev") ||
                       (type == "volume" && std::string_view(f) != "exec");
            std::string v = get(f, off ? std::string("no") + f : "");
            if (!v.empty()) out.push_back(v);
        }
        for (const auto& [k, v] : chosen_)
            if (k.starts_with("data:")) out.push_back(v);
        if (get("copy", "copy") == "nocopy") out.push_back("nocopy");
        if (type == "tmpfs" && get("tmpcopy", "tmpcopyup") == "tmpcopyup") out.push_back("tmpcopyup");
        for (const char* m : {"U", "idmap"})
            if (chosen_.contains(m)) out.push_back(m);
        return out;
    }

    [[noreturn]] void bad(const std::string& why) const {
        throw Error("invalid " + flag_ + " " + quote_for_message(value_) + ": " + why);
    }

private:
    void set(const std::string& key, const std::string& v) {
        auto [it, fresh] = chosen_.emplace(key, v);
        if (!fresh && it->second != v) bad("conflicting options " + it->second + " and " + v);
    }
    std::string flag_, value_;
    std::map<std::string, std::string> chosen_;
};

// An option of a bind or volume (-v's third field, or --mount's flags), or
// of a tmpfs.
void bind_option(Options& o, std::string_view opt, bool volume = false) {
    if (opt == "ro" || opt == "rw") o.read_only(opt == "ro");
    else if (opt == "z" || opt == "Z") {
        // SELinux relabelling: this host has no SELinux; nothing to do.
    } else if (opt == "noexec" || opt == "exec") o.flag("exec", opt == "exec");
    else if (opt == "nosuid" || opt == "suid") o.flag("suid", opt == "suid");
    else if (opt == "nodev" || opt == "dev") o.flag("dev", opt == "dev");
    else if (opt == "rbind" || opt == "bind") o.recursive(opt == "rbind");
    else if (kPropagations.contains(opt)) o.propagation(opt);
    else if (volume && (opt == "copy" || opt == "nocopy")) o.copy(opt == "copy");
    else if (opt == "U" || opt == "idmap") o.marker(std::string(opt));
    else if (opt.starts_with("idmap="))
        o.bad("idmap with mappings of its own is not supported (plain idmap shows the source through the "
              "container's mapping)");
    else if (opt == "O") o.bad("overlay volumes (O) are not supported");
    else o.bad("unknown option " + quote_for_message(opt));
}

void tmpfs_option(Options& o, std::string_view opt) {
    auto eq = opt.find('=');
    std::string key(opt.substr(0, eq));
    if (eq != std::string_view::npos) {
        std::string value(opt.substr(eq + 1));
        if (key == "size") {
            // The kernel takes k, m, g and %; podman's "64m" is that too.
            if (value.empty() || value.find_first_not_of("0123456789kKmMgG%") != std::string::npos)
                o.bad("size " + quote_for_message(value) + ": a number with k, m or g, or a percentage");
        } else if (key == "mode") {
            if (value.empty() || value.size() > 4 || value.find_first_not_of("01234567") != std::string::npos)
                o.bad("mode " + quote_for_message(value) + ": an octal mode such as 1777");
        } else if (key == "uid" || key == "gid" || key == "nr_inodes") {
            if (value.empty() || value.find_first_not_of("0123456789") != std::string::npos)
                o.bad(key + " " + quote_for_message(value) + ": a number");
        } else {
            o.bad("unknown option " + quote_for_message(opt));
        }
        o.data(key, value);
        return;
    }
    if (opt == "tmpcopyup" || opt == "notmpcopyup") return o.tmp_copy(opt == "tmpcopyup");
    if (opt == "rbind" || opt == "bind" || opt == "z" || opt == "Z" || opt == "U" || opt == "idmap")
        o.bad("unknown option " + quote_for_message(opt));
    bind_option(o, opt);
}


bool bool_value(Options& o, std::string_view key, std::string_view v) {
    if (auto b = bool_word(v)) return *b;
    o.bad(std::string(key) + "=" + quote_for_message(v) + ": true or false");
}

MountRequest parse_mount(const std::string& text) {
    Options o("--mount", text);
    std::string type, src, dst;
    // The other keys, with their value (none: a bare flag such as "ro").
    std::vector<std::pair<std::string, std::optional<std::string>>> rest;
    for (std::string_view field : split(text, ',')) {
        auto eq = field.find('=');
        std::string key(field.substr(0, eq));
        std::optional<std::string> value;
        if (eq != std::string_view::npos) value = std::string(field.substr(eq + 1));
        if (key == "type") type = value.value_or("");
        else if (key == "src" || key == "source") src = value.value_or("");
        else if (key == "dst" || key == "destination" || key == "target") dst = value.value_or("");
        else rest.emplace_back(key, value);
    }
    if (type.empty()) o.bad("type= is required (bind, volume, tmpfs or devpts)");
    if (type == "image" || type == "glob" || type == "ramfs") o.bad("type=" + type + " is not supported yet");
    if (type != "bind" && type != "volume" && type != "tmpfs" && type != "devpts")
        o.bad("unknown type " + quote_for_message(type));
    if (dst.empty()) o.bad("destination= is required");
    MountRequest m;
    m.type = type;
    m.destination = destination(dst, "--mount");
    for (const auto& [key, given] : rest) {
        bool bare = !given;
        std::string value = given.value_or("");
        if (key == "ro" || key == "readonly" || key == "rw") {
            bool ro = bare || bool_value(o, key, value);
            o.read_only(key == "rw" ? !ro : ro);
        } else if ((type == "bind" || type == "volume") && key == "bind-propagation") {
            o.propagation(value);
        } else if (type == "volume" && key == "volume-nocopy") {
            o.copy(!(bare || bool_value(o, key, value)));
        } else if (type == "volume" && (key == "volume-opt" || key == "volume-label")) {
            // KEY=VALUE each (a label may be KEY alone), for the volume this mount makes.
            auto eq = value.find('=');
            auto& into = key == "volume-opt" ? m.volume_options : m.volume_labels;
            if (value.empty() || eq == 0 || (key == "volume-opt" && eq == std::string::npos))
                o.bad(key + "=" + quote_for_message(value) + ": expected KEY=VALUE");
            if (!into.emplace(value.substr(0, eq), eq == std::string::npos ? "" : value.substr(eq + 1)).second)
                o.bad(key + " " + quote_for_message(value.substr(0, eq)) + " given twice");
        } else if (type == "volume" && key == "volume-driver") {
            if (value != "local") o.bad("volume-driver " + quote_for_message(value) + ": only local");
        } else if (type == "bind" && key == "bind-nonrecursive") {
            o.recursive(!(bare || bool_value(o, key, value)));
        } else if (type == "bind" && (key == "relabel" || key == "z" || key == "Z")) {
            // SELinux: nothing to do on this host.
        } else if (type == "tmpfs" && key == "tmpfs-size") {
            tmpfs_option(o, "size=" + value);
        } else if (type == "tmpfs" && key == "tmpfs-mode") {
            tmpfs_option(o, "mode=" + value);
        } else if (type == "tmpfs" && (key == "tmpcopyup" || key == "notmpcopyup")) {
            tmpfs_option(o, key);
        } else if (bare && (key == "noexec" || key == "exec" || key == "nosuid" || key == "suid" || key == "nodev" ||
                            key == "dev")) {
            bind_option(o, key);
        } else {
            o.bad("unknown option " + quote_for_message(key) + " for type=" + type);
        }
    }
    if (type == "bind") {
        if (src.empty()) o.bad("source= is required for type=bind");
        m.source = host_source(src, "--mount");
        m.options = o.finish("bind");
    } else if (type == "volume") {
        // No source: an anonymous volume.
        if (!src.empty()) with_context("invalid --mount " + quote_for_message(text), [&] { validate_volume_name(src); });
        m.source = src;
        m.options = o.finish("volume");
        with_context("invalid --mount " + quote_for_message(text), [&] { validate_volume_options(m.volume_options); });
    } else {
        if (!src.empty()) o.bad("type=" + type + " takes no source");
        m.options = o.finish(type);
        if (type == "devpts") {
            // A devpts instance of its own, as the container's /dev/pts is.
            for (const char* d : {"newinstance", "ptmxmode=0666", "mode=0620", "gid=5"}) m.options.push_back(d);
        }
    }
    return m;
}

MountRequest parse_tmpfs(const std::string& text) {
    auto colon = text.find(':');
    Options o("--tmpfs", text);
    MountRequest m;
    m.type = "tmpfs";
    m.destination = destination(text.substr(0, colon), "--tmpfs");
    if (colon != std::string::npos)
        for (std::string_view opt : split(std::string_view(text).substr(colon + 1), ',')) tmpfs_option(o, opt);
    m.options = o.finish("tmpfs");
    return m;
}

}  // namespace

MountRequest parse_volume(const std::string& text) {
    // SRC:DST[:OPTIONS] with SRC a host path (/ or . first) or a volume's
    // name, or DST alone: an anonymous volume.
    auto parts = split(text, ':');
    if (parts.size() > 3 || parts[0].empty())
        throw Error("invalid -v " + quote_for_message(text) + ": expected [SOURCE:]DESTINATION[:OPTIONS]");
    MountRequest m;
    Options o("-v", text);
    if (parts.size() == 1) {
        m.type = "volume";
        m.destination = destination(parts[0], "-v");
        m.options = o.finish("volume");
        return m;
    }
    bool path = parts[0][0] == '/' || parts[0][0] == '.';
    m.type = path ? "bind" : "volume";
    if (path) {
        m.source = host_source(parts[0], "-v");
    } else {
        m.source = std::string(parts[0]);
        with_context("invalid -v " + quote_for_message(text), [&] { validate_volume_name(m.source); });
    }
    m.destination = destination(parts[1], "-v");
    if (parts.size() == 3)
        for (std::string_view opt : split(parts[2], ',')) bind_option(o, opt, m.type == "volume");
    m.options = o.finish(m.type);
    return m;
}

void add_mount_options(po::options_description& desc) {
    desc.add_options()
        ("volume,v", po::value<std::vector<std::string>>(),
         "HOST-PATH:DEST[:OPTIONS] (a bind), VOLUME:DEST[:OPTIONS] or DEST (an anonymous volume); OPTIONS: ro, rw, "
         "noexec, nosuid, nodev, bind, rbind, a propagation, nocopy; z/Z: no-op")
        ("mount", po::value<std::vector<std::string>>(),
         "type=bind|volume|tmpfs|devpts,source=..,destination=..[,ro][,bind-propagation=..][,volume-nocopy]"
         "[,tmpfs-size=..][,tmpfs-mode=..]")
        ("tmpfs", po::value<std::vector<std::string>>(), "mount a tmpfs at DEST[:size=..,mode=..,uid=..,gid=..,...]")
        ("read-only-tmpfs", po::value<std::string>()->implicit_value("true"),
         "with --read-only: tmpfs on /tmp, /var/tmp and /run (default true)");
}

std::vector<MountRequest> mounts_from_flags(const po::variables_map& vm) {
    std::vector<MountRequest> out;
    for (const auto& v : flag_values(vm, "volume")) out.push_back(parse_volume(v));
    for (const auto& v : flag_values(vm, "mount")) out.push_back(parse_mount(v));
    for (const auto& v : flag_values(vm, "tmpfs")) out.push_back(parse_tmpfs(v));
    std::set<std::string> seen;
    for (const auto& m : out)
        if (!seen.insert(m.destination).second)
            throw Error("invalid mounts: " + quote_for_message(m.destination) + " is the destination of two of them");
    return out;
}

bool read_only_tmpfs_from_flags(const po::variables_map& vm) {
    if (!vm.count("read-only-tmpfs")) return true;
    const auto& v = vm["read-only-tmpfs"].as<std::string>();
    if (auto b = bool_word(v)) return *b;
    throw Error("invalid --read-only-tmpfs " + quote_for_message(v) + ": true or false");
}

}  // namespace minirt::cli
