#include "image/image.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <algorithm>
#include <memory>
#include <nlohmann/json.hpp>

#include "common/archive_lib.hpp"
#include "common/error.hpp"
#include "common/file.hpp"
#include "common/parse.hpp"
#include "common/ports.hpp"
#include "image/image_store.hpp"
#include "state/lock.hpp"
#include "state/store.hpp"

namespace minirt {

using nlohmann::json;

namespace {

json image_json(const Image& img) {
    return json{{"schema_version", 1},     {"name", img.name}, {"created", format_rfc3339(img.created_ns)},
                {"cmd", img.cmd},          {"env", img.env},   {"workdir", img.workdir},
                {"source", img.source}, {"exposed_ports", img.exposed_ports}};
}

Image parse_image(const std::string& text, const fs::path& source) {
    try {
        json j = json::parse(text);
        Image img;
        img.name = j.at("name").get<std::string>();
        img.created_ns = parse_time_spec(j.at("created").get<std::string>(), "created");
        img.cmd = j.at("cmd").get<std::vector<std::string>>();
        img.env = j.value("env", std::vector<std::string>{});
        img.workdir = j.value("workdir", std::string("/"));
        img.source = j.value("source", std::string());
        img.exposed_ports = j.value("exposed_ports", std::vector<std::string>{});
        for (const auto& e : img.exposed_ports) parse_exposed(e);
        return img;
    } catch (const json::exception& e) {
        throw Error("corrupt " + source.string() + ": " + e.what());
    } catch (const Error& e) {
        throw Error("corrupt " + source.string() + ": " + e.message());
    }
}

const ArchiveLib& lib() { return archive_lib(); }

// Copies every entry from `in` to the secure disk writer `out`.
void copy_entries(archive* in, archive* out, const std::string& source, bool from_disk) {
    for (;;) {
        archive_entry* entry = nullptr;
        int r = lib().archive_read_next_header(in, &entry);
        if (r == ARCHIVE_EOF) break;
        if (r < ARCHIVE_WARN) throw Error("read " + source + ": " + archive_error(in));
        if (from_disk) lib().archive_read_disk_descend(in);
        mode_t type = lib().archive_entry_filetype(entry);
        if (type == AE_IFCHR || type == AE_IFBLK) continue;  // containers get their own /dev
        lib().archive_entry_set_perm(entry, lib().archive_entry_perm(entry) & ~static_cast<mode_t>(S_ISUID | S_ISGID));
        if (from_disk) {
            // Paths from the disk walker are absolute; make them rootfs-relative.
            std::string path = lib().archive_entry_pathname(entry);
            if (path.compare(0, source.size(), source) == 0) path.erase(0, source.size());
            while (!path.empty() && path[0] == '/') path.erase(0, 1);
            if (path.empty()) continue;
            lib().archive_entry_set_pathname(entry, path.c_str());
        }
        r = lib().archive_write_header(out, entry);
        if (r < ARCHIVE_WARN)
            throw Error("import " + std::string(lib().archive_entry_pathname(entry)) + ": " + archive_error(out));
        if (lib().archive_entry_size(entry) > 0 && type == AE_IFREG) {
            const void* buf;
            size_t size;
            la_int64_t offset;
            while ((r = lib().archive_read_data_block(in, &buf, &size, &offset)) == ARCHIVE_OK) {
                if (lib().archive_write_data_block(out, buf, size, offset) < ARCHIVE_OK)
                    throw Error("write " + std::string(lib().archive_entry_pathname(entry)) + ": " + archive_error(out));
            }
            if (r != ARCHIVE_EOF) throw Error("read " + source + ": " + archive_error(in));
        }
        if (lib().archive_write_finish_entry(out) < ARCHIVE_WARN)
            throw Error("write " + std::string(lib().archive_entry_pathname(entry)) + ": " + archive_error(out));
    }
}

void unpack_into(const std::string& source, const fs::path& rootfs) {
    make_dirs(rootfs, 0755);
    UniqueFd dir(::open(rootfs.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    if (!dir) throw_errno("open " + rootfs.string());
    WorkingDirectory cwd(dir.get());  // the disk writer works relative to it

    ArchivePtr out(lib().archive_write_disk_new(), lib().archive_write_free);
    lib().archive_write_disk_set_options(
        out.get(), ARCHIVE_EXTRACT_TIME | ARCHIVE_EXTRACT_PERM | ARCHIVE_EXTRACT_OWNER | ARCHIVE_EXTRACT_ACL |
                       ARCHIVE_EXTRACT_XATTR | ARCHIVE_EXTRACT_SECURE_SYMLINKS |
                       ARCHIVE_EXTRACT_SECURE_NODOTDOT | ARCHIVE_EXTRACT_SECURE_NOABSOLUTEPATHS |
                       ARCHIVE_EXTRACT_UNLINK);
    lib().archive_write_disk_set_standard_lookup(out.get());

    struct stat st{};
    if (::stat(source.c_str(), &st) < 0) throw_errno("import " + source);
    bool from_disk = S_ISDIR(st.st_mode);
    ArchivePtr in(from_disk ? lib().archive_read_disk_new() : lib().archive_read_new(), lib().archive_read_free);
    if (from_disk) {
        lib().archive_read_disk_set_symlink_physical(in.get());
        lib().archive_read_disk_set_standard_lookup(in.get());
        if (lib().archive_read_disk_open(in.get(), source.c_str()) != ARCHIVE_OK)
            throw Error("open " + source + ": " + archive_error(in.get()));
    } else {
        lib().archive_read_support_filter_all(in.get());
        lib().archive_read_support_format_all(in.get());
        if (lib().archive_read_open_filename(in.get(), source.c_str(), 1 << 16) != ARCHIVE_OK)
            throw Error("open " + source + ": " + archive_error(in.get()));
    }
    copy_entries(in.get(), out.get(), source, from_disk);
    if (lib().archive_write_close(out.get()) != ARCHIVE_OK) throw Error("import: " + archive_error(out.get()));
}

}  // namespace

namespace {

std::vector<std::string> strings_of(const json& j, const char* key) {
    if (!j.contains(key) || !j[key].is_array()) return {};
    std::vector<std::string> out;
    for (const auto& v : j[key])
        if (v.is_string()) out.push_back(v.get<std::string>());
    return out;
}

Image from_stored(const ImageStore& store, const StoredImage& s) {
    Image img;
    img.name = s.names.empty() ? digest_hex(s.id).substr(0, 12) : s.names.front();
    img.id = s.id;
    img.created_ns = s.created_ns;
    img.lowers = store.lowers(s);
    img.source = s.digest;
    json c = s.config.value("config", json::object());
    if (!c.is_object()) c = json::object();
    img.entrypoint = strings_of(c, "Entrypoint");
    img.cmd = strings_of(c, "Cmd");
    img.env = strings_of(c, "Env");
    auto text = [&](const char* key) { return c.contains(key) && c[key].is_string() ? c[key].get<std::string>() : ""; };
    img.workdir = text("WorkingDir");
    if (img.workdir.empty() || img.workdir[0] != '/') img.workdir = "/";
    img.user = text("User");
    img.stop_signal = text("StopSignal");
    try {
        img.healthcheck = healthcheck_from_image(c);
    } catch (const Error& e) {
        img.healthcheck_error = e.message();
    }
    if (c.contains("Labels") && c["Labels"].is_object())
        for (const auto& [k, v] : c["Labels"].items())
            if (v.is_string()) img.labels[k] = v.get<std::string>();
    // A path each, and nothing else: a key is never read as -v's SRC:DST
    // (an image saying "/:/host" must not bind the host's root).
    if (c.contains("Volumes") && c["Volumes"].is_object())
        for (const auto& [path, _] : c["Volumes"].items()) {
            if (path.empty() || path[0] != '/' || path.find_first_of(":,") != std::string::npos) continue;
            std::string normal = fs::path(path).lexically_normal().string();
            while (normal.size() > 1 && normal.back() == '/') normal.pop_back();
            if (std::find(img.volumes.begin(), img.volumes.end(), normal) == img.volumes.end()) img.volumes.push_back(normal);
        }
    if (c.contains("ExposedPorts") && c["ExposedPorts"].is_object())
        for (const auto& [port, _] : c["ExposedPorts"].items()) {
            try {
                parse_exposed(port);
                img.exposed_ports.push_back(port.find('/') == std::string::npos ? port + "/tcp" : port);
            } catch (const Error&) {
                // A port this engine cannot publish is not offered to -P.
            }
        }
    return img;
}

bool is_legacy_name(const std::string& name) {
    try {
        validate_image_name(name);
        return true;
    } catch (const Error&) {
        return false;
    }
}

}  // namespace

std::optional<Image> find_image(const Paths& paths, const std::string& name) {
    // An imported image by its name, also as podman would spell it
    // (`images` lists it as NAME, tag latest): NAME:latest, localhost/NAME.
    // A plain name is an imported image's first (as before layered images
    // were); a reference with a registry or a tag is a layered image's first.
    auto imported = [&](const std::string& n) -> std::optional<Image> {
        if (!is_legacy_name(n)) return std::nullopt;
        auto text = read_file_if_exists(paths.image_file(n), 1 << 20);
        if (!text) return std::nullopt;
        Image img = parse_image(*text, paths.image_file(n));
        img.name = n;  // its directory's name is what containers name it by
        return img;
    };
    if (auto img = imported(name)) return img;
    ImageStore store(paths);
    if (auto s = store.find(name)) return from_stored(store, *s);
    std::string legacy = name;
    if (legacy.starts_with("localhost/")) legacy.erase(0, 10);
    if (legacy.ends_with(":latest")) legacy.erase(legacy.size() - 7);
    return imported(legacy);
}

Image load_image(const Paths& paths, const std::string& name) {
    if (auto img = find_image(paths, name)) return *img;
    throw Error("no such image " + quote_for_message(name) + " (see `minirt images`)");
}

namespace {

bool all_digits(const std::string& s) {
    return !s.empty() && s.size() <= 10 && std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

}  // namespace

bool numeric_user(const std::string& spec) {
    auto colon = spec.find(':');
    std::string user = spec.substr(0, colon);
    std::string group = colon == std::string::npos ? "0" : spec.substr(colon + 1);
    return all_digits(user) && all_digits(group);
}

std::vector<std::string> image_roots(const Paths& paths, const Image& image) {
    if (!image.lowers.empty()) return image.lowers;
    return {paths.image_rootfs(image.name).string()};
}

UserIds resolve_user(const std::vector<std::string>& roots, const std::string& spec) {
    std::string user = spec.substr(0, spec.find(':'));
    std::string group = spec.find(':') == std::string::npos ? "" : spec.substr(spec.find(':') + 1);
    if (user.empty() || (spec.find(':') != std::string::npos && group.empty()))
        throw Error("invalid user " + quote_for_message(spec) + ": USER[:GROUP]");
    auto id = [](const std::string& text, const char* what) {
        return static_cast<uint32_t>(parse_int(text, what, 0, 4294967294));
    };
    UserIds ids;
    std::optional<std::vector<std::string>> pw;
    if (auto passwd = read_image_file(roots, "etc/passwd")) pw = colon_entry(*passwd, user, all_digits(user));
    if (all_digits(user)) {
        ids.uid = id(user, "the uid");
    } else {
        if (!pw || !all_digits((*pw)[2])) throw Error("user " + quote_for_message(user) + " is not in the container's /etc/passwd");
        ids.uid = id((*pw)[2], "a uid in /etc/passwd");
    }
    if (pw && pw->size() >= 4 && all_digits((*pw)[3])) ids.gid = id((*pw)[3], "a gid in /etc/passwd");
    if (!group.empty()) {
        if (all_digits(group)) {
            ids.gid = id(group, "the gid");
        } else {
            auto groups = read_image_file(roots, "etc/group");
            auto gr = groups ? colon_entry(*groups, group, false) : std::nullopt;
            if (!gr || !all_digits((*gr)[2])) throw Error("group " + quote_for_message(group) + " is not in the container's /etc/group");
            ids.gid = id((*gr)[2], "a gid in /etc/group");
        }
    }
    return ids;
}

uint32_t resolve_group(const std::vector<std::string>& roots, const std::string& group) {
    if (group.empty()) throw Error("invalid group \"\": a name or a number");
    if (all_digits(group)) return static_cast<uint32_t>(parse_int(group, "the gid", 0, 4294967294));
    auto groups = read_image_file(roots, "etc/group");
    auto gr = groups ? colon_entry(*groups, group, false) : std::nullopt;
    if (!gr || !all_digits((*gr)[2])) throw Error("group " + quote_for_message(group) + " is not in the container's /etc/group");
    return static_cast<uint32_t>(parse_int((*gr)[2], "a gid in /etc/group", 0, 4294967294));
}

std::optional<std::string> read_image_file(const std::vector<std::string>& lowers, const std::string& path) {
    std::vector<std::string> parts;
    for (const auto& p : fs::path(path))
        if (!p.empty() && p != "/" && p != ".") parts.push_back(p.string());
    if (parts.empty() || std::find(parts.begin(), parts.end(), "..") != parts.end()) return std::nullopt;
    auto whiteout = [](const struct stat& st) { return S_ISCHR(st.st_mode) && st.st_rdev == 0; };
    for (const auto& lower : lowers) {
        UniqueFd dir(::open(lower.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
        if (!dir) continue;
        // Never a symlink: the layer's own names only, as overlayfs stacks them.
        bool opaque = false, missing = false;
        for (size_t i = 0; i + 1 < parts.size() && !missing; ++i) {
            struct stat st{};
            if (::fstatat(dir.get(), parts[i].c_str(), &st, AT_SYMLINK_NOFOLLOW) < 0) {
                missing = true;
                break;
            }
            if (whiteout(st) || !S_ISDIR(st.st_mode)) return std::nullopt;  // deleted, or not a directory here
            dir.reset(::openat(dir.get(), parts[i].c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
            if (!dir) return std::nullopt;
            char v[2] = {};
            if (::fgetxattr(dir.get(), "trusted.overlay.opaque", v, sizeof v) == 1 && v[0] == 'y') opaque = true;
        }
        if (!missing) {
            struct stat st{};
            if (::fstatat(dir.get(), parts.back().c_str(), &st, AT_SYMLINK_NOFOLLOW) == 0) {
                if (!S_ISREG(st.st_mode)) return std::nullopt;  // a whiteout, or no plain file
                // Non-blocking, and checked again once open: a running
                // container could have swapped a FIFO in meanwhile.
                UniqueFd f(::openat(dir.get(), parts.back().c_str(), O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC));
                if (!f || ::fstat(f.get(), &st) < 0 || !S_ISREG(st.st_mode)) return std::nullopt;
                return read_file("/proc/self/fd/" + std::to_string(f.get()), 16 << 20);
            }
        }
        if (opaque) return std::nullopt;  // what lies below is hidden
    }
    return std::nullopt;
}

std::vector<Image> list_images(const Paths& paths) {
    std::vector<Image> out;
    std::error_code ec;
    for (fs::directory_iterator it(paths.images_dir(), ec), end; !ec && it != end; it.increment(ec)) {
        std::string name = it->path().filename().string();
        if (name.starts_with(".")) continue;
        try {
            out.push_back(load_image(paths, name));
        } catch (const Error&) {
            // A damaged image is listed by name only.
            Image img;
            img.name = name;
            img.source = "(corrupt image.json)";
            out.push_back(img);
        }
    }
    return out;
}

Image import_image(const Paths& paths, const ImportOptions& opts) {
    validate_image_name(opts.name);
    FileLock lock = FileLock::acquire(paths.root / "locks" / "images.lock");
    fs::path final_dir = paths.image_dir(opts.name);
    if (fs::exists(final_dir) && !opts.replace)
        throw Error("image \"" + opts.name + "\" already exists (use --replace)");
    std::string source = fs::absolute(opts.source).lexically_normal().string();
    if (source.size() > 1 && source.back() == '/') source.pop_back();
    fs::path tmp = paths.images_dir() / (".import-" + opts.name + "-" + std::to_string(::getpid()));
    remove_tree(tmp);
    try {
        make_dirs(tmp, 0755);
        unpack_into(source, tmp / "rootfs");
        Image img;
        img.name = opts.name;
        img.created_ns = now_ns();
        if (!opts.cmd.empty()) img.cmd = opts.cmd;
        img.env = opts.env;
        img.workdir = opts.workdir;
        img.exposed_ports = opts.exposed_ports;
        img.source = source;
        write_file_atomic(tmp / "image.json", image_json(img).dump(2) + "\n");
        if (fs::exists(final_dir)) remove_image(paths, opts.name);
        if (::rename(tmp.c_str(), final_dir.c_str()) < 0) throw_errno("rename into " + final_dir.string());
        return img;
    } catch (...) {
        std::error_code ec;
        fs::remove_all(tmp, ec);
        throw;
    }
}

void remove_image(const Paths& paths, const std::string& name) {
    load_image(paths, name);  // refuses unknown names
    Store store(paths);
    for (const auto& id : store.list_ids()) {
        std::string used;
        try {
            used = store.load_config(id).image;
        } catch (const Error&) {
            continue;  // a corrupt config names no image we could honour
        }
        if (used == name)
            throw Error("image \"" + name + "\" is in use by container " + id.substr(0, 12), kExitStateImproper);
    }
    fs::path trash = paths.images_dir() / (".trash-" + name + "-" + std::to_string(::getpid()));
    if (::rename(paths.image_dir(name).c_str(), trash.c_str()) < 0) throw_errno("remove image " + name);
    remove_tree(trash);
}

uint64_t directory_size(const std::string& path) {
    uint64_t total = 0;
    std::error_code ec;
    for (fs::recursive_directory_iterator it(path, fs::directory_options::skip_permission_denied, ec), end;
         !ec && it != end; it.increment(ec)) {
        if (it->is_regular_file(ec) && !it->is_symlink(ec)) total += it->file_size(ec);
    }
    return total;
}

}  // namespace minirt
