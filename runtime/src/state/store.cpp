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
    write_file_atomic(paths_.state_file(state.id), to_json(state).dump(2) + "\n", 0600, /*durable=*/false);
}

FileLock Store::lock(const std::string& id) const { return FileLock::acquire(paths_.lock_file(id)); }

void Store::collect_garbage() const {
    std::error_code ec;
    for (fs::directory_iterator it(paths_.containers_dir(), ec), end; !ec && it != end; it.increment(ec)) {
        const fs::path& p = it->path();
        std::string name = p.filename().string();
        std::optional<FileLock> remover_gone;
        if (name.starts_with(".trash-") && is_full_id(name.substr(7))) {
            // Its remover holds the container's lock until the trash is gone:
            // if we can take that lock, the remover died half-way.
            remover_gone = FileLock::try_acquire(paths_.lock_file(name.substr(7)));
            if (!remover_gone) continue;
        } else if (!name.starts_with(".new-") && !(is_full_id(name) && !exists(name))) {
            continue;
        }
        fs::path claimed = p;
        claimed += ".gc-" + std::to_string(::getpid());
        if (::rename(p.c_str(), claimed.c_str()) == 0) remove_tree(claimed);
        if (remover_gone) remover_gone->unlink_and_release();
    }
    for (fs::directory_iterator it(paths_.root, ec), end; !ec && it != end; it.increment(ec)) {
        std::string name = it->path().filename().string();
        if (is_full_id(name) && !fs::exists(paths_.container_dir(name))) remove_tree(it->path());
    }
    for (fs::directory_iterator it(paths_.root / "locks", ec), end; !ec && it != end; it.increment(ec)) {
        std::string name = it->path().stem().string();
        if (!is_full_id(name) || fs::exists(paths_.container_dir(name)) ||
            fs::exists(paths_.containers_dir() / (".trash-" + name)))
            continue;
        if (auto orphan = FileLock::try_acquire(it->path())) orphan->unlink_and_release();
    }
}

void Store::create(const ContainerConfig& config) const {
    const std::string& id = config.id;
    FileLock names = FileLock::acquire(paths_.names_lock());
    make_dirs(paths_.names_dir(), 0700);
    make_dirs(paths_.containers_dir(), 0700);
    collect_garbage();
    fs::path link = paths_.name_link(config.name);
    if (auto old = read_name_link(link)) {
        if (is_full_id(*old) && exists(*old))
            throw Error("the container name \"" + config.name + "\" is already in use by " +
                        old->substr(0, 12) + "; remove that container or choose another name");
        ::unlink(link.c_str());  // left by a removal that was interrupted
    }
    // Built under a temporary name and renamed into place complete, so a
    // CLI killed half-way never leaves a half-made container behind.
    fs::path building = paths_.containers_dir() / (".new-" + id);
    fs::path dir = paths_.container_dir(id);
    try {
        if (::mkdir(building.c_str(), 0700) < 0) throw_errno("create " + building.string());
        make_dirs(building / "upper", 0755);
        make_dirs(building / "work", 0700);
        make_dirs(building / "merged", 0755);
        write_file_atomic(building / "config.json", to_json(config).dump(2) + "\n", 0600);
        ContainerState state;
        state.id = id;
        save_state(state);
        if (::rename(building.c_str(), dir.c_str()) < 0) throw_errno("create " + dir.string());
        if (::symlink(id.c_str(), link.c_str()) < 0) throw_errno("create " + link.string());
    } catch (...) {
        std::error_code ec;
        fs::remove_all(building, ec);
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
        collect_garbage();
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
