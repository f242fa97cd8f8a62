#include "state/volumes.hpp"

#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <nlohmann/json.hpp>

#include "common/error.hpp"
#include "common/file.hpp"
#include "common/file_lock.hpp"
#include "common/parse.hpp"

namespace minirt {

using nlohmann::json;

namespace {

std::string volume_json(const Volume& v) {
    json j{{"schema_version", 1},
           {"name", v.name},
           {"driver", "local"},
           {"created", format_rfc3339(v.created_ns)},
           {"labels", v.labels},
           {"anonymous", v.anonymous},
           {"needs_copy", v.needs_copy}};
    if (!v.options.empty()) j["options"] = v.options;
    return j.dump(2) + "\n";
}

Volume volume_from_json(const std::string& text, const fs::path& file) {
    try {
        json j = json::parse(text);
        Volume v;
        v.name = j.at("name").get<std::string>();
        validate_volume_name(v.name);
        v.created_ns = parse_time_spec(j.at("created").get<std::string>(), "created");
        v.labels = j.value("labels", std::map<std::string, std::string>{});
        v.anonymous = j.value("anonymous", false);
        v.needs_copy = j.value("needs_copy", false);
        v.options = j.value("options", std::map<std::string, std::string>{});
        return v;
    } catch (const json::exception& e) {
        throw Error(file.string() + ": " + e.what());
    } catch (const Error& e) {
        throw e.wrap(file.string());
    }
}

}  // namespace

void Volumes::collect_garbage() const {
    // Called with the volumes lock held, under which every creation and
    // removal runs: a ".new-" or ".trash-" entry is one whose process died.
    std::error_code ec;
    std::vector<fs::path> dead;
    for (fs::directory_iterator it(paths_.volumes_dir(), ec), end; !ec && it != end; it.increment(ec)) {
        std::string n = it->path().filename().string();
        if (n.starts_with(".new-") || n.starts_with(".trash-")) dead.push_back(it->path());
    }
    for (const auto& p : dead) remove_tree(p);
}

VolumeOwner validate_volume_options(const std::map<std::string, std::string>& options) {
    auto bad = [](const std::string& why) -> Error { return Error("invalid --opt: " + why); };
    for (const auto& [k, v] : options)
        if (k != "type" && k != "device" && k != "o")
            throw bad("unknown option " + quote_for_message(k) + " (the local driver takes type, device and o)");
    auto get = [&](const char* k) {
        auto it = options.find(k);
        return it == options.end() ? std::string() : it->second;
    };
    std::string type = get("type"), device = get("device"), o = get("o");
    VolumeOwner owner;
    if (type.empty()) {
        if (!device.empty()) throw bad("device needs a type");
        // Without a type, o may only say who owns the data.
        for (std::string_view item : split(o, ',')) {
            if (item.empty()) continue;
            auto eq = item.find('=');
            std::string key(item.substr(0, eq));
            if ((key != "uid" && key != "gid") || eq == std::string_view::npos)
                throw bad("o=" + std::string(item) + ": without a type, o takes only uid=N and gid=N");
            auto id = static_cast<uint32_t>(parse_int(item.substr(eq + 1), "--opt o=" + key, 0, 4294967294));
            (key == "uid" ? owner.uid : owner.gid) = id;
        }
        return owner;
    }
    if (type.find_first_not_of("abcdefghijklmnopqrstuvwxyz0123456789._-") != std::string::npos)
        throw bad("type " + quote_for_message(type) + " is not a filesystem type");
    if (device.empty()) throw bad("type " + type + " needs a device");
    if (type == "none" || type == "bind") {
        bool bind = false;
        for (std::string_view item : split(o, ',')) bind = bind || item == "bind" || item == "rbind";
        if (!bind) throw bad("type " + type + " needs o=bind (or rbind)");
        struct stat st {};
        if (device[0] != '/' || ::stat(device.c_str(), &st) < 0 || !S_ISDIR(st.st_mode))
            throw bad("device " + quote_for_message(device) + ": an existing directory, by its absolute path");
        return owner;
    }
    auto known = read_file_if_exists("/proc/filesystems");
    bool found = false;
    if (known)
        for (std::string_view line : split(*known, '\n')) {
            auto tab = line.rfind('\t');
            if (tab != std::string_view::npos && line.substr(tab + 1) == type) found = true;
        }
    if (!found) throw bad("type " + quote_for_message(type) + ": the kernel has no such filesystem");
    return owner;
}

Volume Volumes::create(const std::string& name, const std::map<std::string, std::string>& labels,
                       bool anonymous, const std::map<std::string, std::string>& options) const {
    validate_volume_name(name);
    VolumeOwner owner = validate_volume_options(options);
    make_dirs(paths_.volumes_dir(), 0700);
    collect_garbage();
    if (::access(paths_.volume_dir(name).c_str(), F_OK) == 0)
        throw Error("volume " + quote_for_message(name) + " already exists");
    Volume v;
    v.name = name;
    v.created_ns = now_ns();
    v.labels = labels;
    v.anonymous = anonymous;
    v.options = options;
    fs::path building = paths_.volumes_dir() / (".new-" + name);
    remove_tree(building);
    try {
        if (::mkdir(building.c_str(), 0700) < 0) throw_errno("create " + building.string());
        if (::mkdir((building / "_data").c_str(), 0755) < 0) throw_errno("create " + (building / "_data").string());
        if ((owner.uid || owner.gid) &&
            ::chown((building / "_data").c_str(), owner.uid ? *owner.uid : static_cast<uid_t>(-1),
                    owner.gid ? *owner.gid : static_cast<gid_t>(-1)) < 0)
            throw_errno("give volume " + quote_for_message(name) + " to o=uid/gid");
        write_new_file(building / "volume.json", volume_json(v), 0600);
        make_durable(building / "volume.json");
        if (::rename(building.c_str(), paths_.volume_dir(name).c_str()) < 0)
            throw_errno("create volume " + quote_for_message(name));
        make_durable(paths_.volume_dir(name));
    } catch (...) {
        remove_tree(building);
        throw;
    }
    return v;
}

std::optional<Volume> Volumes::find(const std::string& name) const {
    validate_volume_name(name);
    auto text = read_file_if_exists(paths_.volume_file(name), 1 << 20);
    if (!text) return std::nullopt;
    return volume_from_json(*text, paths_.volume_file(name));
}

Volume Volumes::load(const std::string& name) const {
    auto v = find(name);
    if (!v) throw Error("no such volume " + quote_for_message(name));
    return *v;
}

std::vector<Volume> Volumes::list() const {
    std::vector<Volume> out;
    std::error_code ec;
    for (fs::directory_iterator it(paths_.volumes_dir(), ec), end; !ec && it != end; it.increment(ec)) {
        std::string n = it->path().filename().string();
        if (n.empty() || n[0] == '.') continue;
        auto text = read_file_if_exists(paths_.volume_file(n), 1 << 20);
        if (text) out.push_back(volume_from_json(*text, paths_.volume_file(n)));
    }
    std::sort(out.begin(), out.end(), [](const Volume& a, const Volume& b) { return a.name < b.name; });
    return out;
}

void Volumes::mark_copied(const std::string& name) const {
    Volume v = load(name);
    if (!v.needs_copy) return;
    v.needs_copy = false;
    write_file_atomic(paths_.volume_file(name), volume_json(v), 0600, true);
}

FileLock Volumes::lock() const {
    make_dirs(paths_.root / "locks", 0700);
    return FileLock::acquire(paths_.volumes_lock());
}

void Volumes::remove_anonymous_of(const ContainerConfig& c) const noexcept {
    try {
        std::optional<FileLock> held;
        for (const auto& m : c.mounts) {
            if (m.type != "volume" || m.source.empty()) continue;
            if (!held) held = lock();
            auto v = find(m.source);
            if (v && v->anonymous) remove(m.source);
        }
    } catch (const Error&) {
    }
}

void Volumes::remove(const std::string& name) const {
    validate_volume_name(name);
    fs::path dir = paths_.volume_dir(name);
    fs::path trash = paths_.volumes_dir() / (".trash-" + name + "." + std::to_string(::getpid()));
    // Out of sight in one step; the slow delete follows.
    if (::rename(dir.c_str(), trash.c_str()) < 0) {
        if (errno == ENOENT) throw Error("no such volume " + quote_for_message(name));
        throw_errno("remove volume " + quote_for_message(name));
    }
    remove_tree(trash);
}

}  // namespace minirt
