#include "state/store.hpp"

#include <sys/stat.h>
#include <unistd.h>

#include <nlohmann/json.hpp>

#include "common/error.hpp"
#include "common/file.hpp"
#include "common/parse.hpp"

namespace minirt {

namespace {

bool looks_like_id_prefix(const std::string& s) {
    if (s.empty() || s.size() > 64) return false;
    for (char c : s)
        if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
    return true;
}

std::optional<std::string> read_name_link(const fs::path& link) {
    std::error_code ec;
    fs::path target = fs::read_symlink(link, ec);
    if (ec) return std::nullopt;
    return target.string();
}

}  // namespace

bool Store::exists(const std::string& id) const {
    return ::access(paths_.config_file(id).c_str(), F_OK) == 0;
}

std::string Store::resolve(const std::string& handle) const {
    if (handle.empty()) throw Error("empty container name or id");
    if (is_full_id(handle) && exists(handle)) return handle;
    // Names are validated before they become paths; an invalid name is never
    // looked up as a path (no "../x" tricks).
    bool valid_name = true;
    try {
        validate_container_name(handle);
    } catch (const Error&) {
        valid_name = false;
    }
    if (valid_name) {
        if (auto id = read_name_link(paths_.name_link(handle)); id && is_full_id(*id) && exists(*id))
            return *id;
    }
    if (looks_like_id_prefix(handle)) {
        std::vector<std::string> matches;
        for (const auto& id : list_ids())
            if (id.compare(0, handle.size(), handle) == 0) matches.push_back(id);
        if (matches.size() == 1) return matches[0];
        if (matches.size() > 1)
            throw Error("container id prefix \"" + handle + "\" is ambiguous (" +
                        std::to_string(matches.size()) + " containers match)");
    }
    std::string shown = valid_name ? handle : std::string("(invalid name)");
    throw Error("no such container \"" + shown + "\"");
}

std::vector<std::string> Store::list_ids() const {
    std::vector<std::string> ids;
    std::error_code ec;
    for (fs::directory_iterator it(paths_.containers_dir(), ec), end; !ec && it != end; it.increment(ec)) {
        std::string name = it->path().filename().string();
        if (is_full_id(name)) ids.push_back(std::move(name));
    }
    return ids;
}

bool Store::name_taken(const std::string& name) const {
    auto id = read_name_link(paths_.name_link(name));
    return id && is_full_id(*id) && exists(*id);
}

ContainerConfig Store::load_config(const std::string& id) const {
    fs::path file = paths_.config_file(id);
    ContainerConfig c = config_from_json(read_file(file, 1 << 20), file);
    if (c.id != id) throw Error("corrupt " + file.string() + ": id does not match its directory");
    return c;
}

std::optional<ContainerState> Store::load_state(const std::string& id) const {
    fs::path file = paths_.state_file(id);
    auto text = read_file_if_exists(file, 1 << 20);
    if (!text) return std::nullopt;
    ContainerState s = state_from_json(*text, file);
    if (s.id != id) throw Error("corrupt " + file.string() + ": id does not match its directory");
    return s;
}

void Store::save_state(const ContainerState& state) const {
    make_dirs(paths_.state_dir(state.id), 0700);
    write_file_atomic(paths_.state_file(state.id), to_json(state).dump(2) + "\n", 0600);
}

FileLock Store::lock(const std::string& id) const { return FileLock::acquire(paths_.lock_file(id)); }

void Store::create(const ContainerConfig& config) const {
    const std::string& id = config.id;
    FileLock names = FileLock::acquire(paths_.names_lock());
    make_dirs(paths_.names_dir(), 0700);
    fs::path link = paths_.name_link(config.name);
    if (auto old = read_name_link(link)) {
        if (is_full_id(*old) && exists(*old))
            throw Error("the container name \"" + config.name + "\" is already in use by " +
                        old->substr(0, 12) + "; remove that container or choose another name");
        ::unlink(link.c_str());  // left by a removal that was interrupted
    }
    fs::path dir = paths_.container_dir(id);
    try {
        make_dirs(paths_.containers_dir(), 0700);
        if (::mkdir(dir.c_str(), 0700) < 0) throw_errno("create " + dir.string());
        make_dirs(paths_.upper_dir(id), 0755);
        make_dirs(paths_.work_dir(id), 0700);
        make_dirs(paths_.merged_dir(id), 0755);
        ContainerState state;
        state.id = id;
        save_state(state);
        // config.json last: a container exists once its config does.
        write_file_atomic(paths_.config_file(id), to_json(config).dump(2) + "\n", 0600);
        if (::symlink(id.c_str(), link.c_str()) < 0) throw_errno("create " + link.string());
    } catch (...) {
        std::error_code ec;
        fs::remove_all(dir, ec);
        fs::remove_all(paths_.state_dir(id), ec);
        throw;
    }
}

void Store::remove(const std::string& id, FileLock& lock) const {
    std::string name;
    try {
        name = load_config(id).name;
    } catch (const Error&) {
        // A corrupt config must still be removable; find its name link instead.
    }
    {
        FileLock names = FileLock::acquire(paths_.names_lock());
        std::error_code ec;
        for (fs::directory_iterator it(paths_.names_dir(), ec), end; !ec && it != end; it.increment(ec)) {
            if (!name.empty() && it->path().filename() != name) continue;
            auto target = read_name_link(it->path());
            if (target && *target == id) ::unlink(it->path().c_str());
        }
        // Rename first so a half-removed container is never listed.
        fs::path dir = paths_.container_dir(id);
        fs::path trash = paths_.containers_dir() / (".trash-" + id);
        if (::rename(dir.c_str(), trash.c_str()) < 0 && errno != ENOENT)
            throw_errno("remove " + dir.string());
    }
    remove_tree(paths_.containers_dir() / (".trash-" + id));
    remove_tree(paths_.state_dir(id));
    lock.unlink_and_release();
}

}  // namespace minirt
