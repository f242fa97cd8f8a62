#include "state/store.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <ctime>

#include <array>
#include <unordered_set>

#include <nlohmann/json.hpp>

#include "common/error.hpp"
#include "common/file.hpp"
#include "common/parse.hpp"
#include "linux/cgroup.hpp"

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
    // config.json: every container has one (the spec, or a record made
    // before minirt.json existed).
    return ::access(paths_.oci_config_file(id).c_str(), F_OK) == 0;
}

std::vector<std::string> Store::dependents(const std::string& id) const {
    std::vector<std::string> ids;
    std::error_code ec;
    for (fs::directory_iterator it(paths_.dependents_dir(id), ec), end; !ec && it != end; it.increment(ec)) {
        std::string name = it->path().filename().string();
        if (is_full_id(name) && exists(name)) ids.push_back(std::move(name));
    }
    return ids;
}

std::optional<std::string> Store::find(const std::string& handle) const {
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
    if (!valid_name) throw Error("no such container \"(invalid name)\"");
    return std::nullopt;
}

void Store::save_config(const ContainerConfig& config) const {
    write_file_atomic(paths_.config_file(config.id), to_json(config).dump(2) + "\n", 0600);
}

std::string Store::resolve(const std::string& handle) const {
    if (auto id = find(handle)) return *id;
    throw Error("no such container \"" + handle + "\"");
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

namespace {

// A name link's container still bears that name (a rename killed half-way
// leaves its old link behind, pointing at it).
bool bears_name(const Store& store, const std::string& id, const std::string& name) {
    try {
        return store.load_config(id).name == name;
    } catch (const Error&) {
        return true;  // damaged: its link stays its
    }
}

}  // namespace

bool Store::name_taken(const std::string& name) const {
    auto id = read_name_link(paths_.name_link(name));
    return id && is_full_id(*id) && exists(*id);
}

ContainerConfig Store::load_config(const std::string& id) const {
    fs::path file = paths_.config_file(id);
    std::optional<std::string> text = read_file_if_exists(file);
    if (!text) {
        // Made by a minirt before the OCI spec: its record is config.json
        // (moved to minirt.json, and the spec written, at its next start).
        fs::path legacy = paths_.oci_config_file(id);
        text = read_file(legacy, 1 << 20);
        if (text->find("\"ociVersion\"") != std::string::npos)
            throw Error("corrupt container " + id + ": " + file.string() + " is missing");
        file = legacy;
    }
    ContainerConfig c = config_from_json(*text, file);
    if (c.id != id) throw Error("corrupt " + file.string() + ": id does not match its directory");
    return c;
}

std::optional<ContainerState> Store::load_state(const std::string& id) const { return load_state(id, AT_FDCWD); }

std::optional<ContainerState> Store::load_state(const std::string& id, int root_fd) const {
    std::string rel = id + "/state.json";
    std::optional<std::string> text;
    if (root_fd != AT_FDCWD) {
        // Many files (list): one read of a state file (about 1 KiB, written
        // whole and renamed into place) instead of a second one to see EOF;
        // a read that fills the buffer, or fails, goes the general way.
        UniqueFd fd(::openat(root_fd, rel.c_str(), O_RDONLY | O_CLOEXEC));
        if (!fd && errno == ENOENT) return std::nullopt;
        if (fd) {
            char buf[16384];
            ssize_t n = ::read(fd.get(), buf, sizeof buf);
            if (n >= 0 && static_cast<size_t>(n) < sizeof buf) {
                std::string_view read(buf, static_cast<size_t>(n));
                if (auto s = quick_state_from_json(read); s && s->id == id) return s;
                text.emplace(read);
            }
        }
    }
    fs::path file = paths_.state_file(id);
    if (!text) text = read_file_at(root_fd, root_fd == AT_FDCWD ? file.c_str() : rel.c_str(), file, 1 << 20);
    if (!text) return std::nullopt;
    ContainerState s = state_from_json(*text, file);
    if (s.id != id) throw Error("corrupt " + file.string() + ": id does not match its directory");
    return s;
}

UniqueFd Store::open_root() const { return UniqueFd(::open(paths_.root.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC)); }

void Store::save_state(const ContainerState& state) const {
    make_dirs(paths_.state_dir(state.id), 0700);
    std::string text;
    if (state.summary.empty()) {
        ContainerState full = state;
        try {
            full.summary = ContainerSummary::of(load_config(state.id));
        } catch (const Error&) {
            // Without it, `list` reads config.json (and reports its damage).
        }
        text = to_json(full).dump(2);
    } else {
        text = to_json(state).dump(2);
    }
    write_file_atomic(paths_.state_file(state.id), text + "\n", 0600, /*durable=*/false);
}

namespace {
// How long a removed container's exit code is kept (podman keeps its own
// for five minutes too).
constexpr time_t kRemovedExitKeepSeconds = 300;
}  // namespace

void Store::note_cgroup_parent() const {
    std::string parent = cgroup_parent_name();
    fs::path file = paths_.cgroup_parents_file();
    auto known = read_file_if_exists(file, 1 << 20);
    if (known && ("\n" + *known).find("\n" + parent + "\n") != std::string::npos) return;
    // One short O_APPEND write: whole even if two storages' creates race
    // (the names lock serialises this storage's own).
    UniqueFd fd(::open(file.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600));
    if (!fd || !write_all_nothrow(fd.get(), parent + "\n")) throw_errno("record the cgroup parent in " + file.string());
}

void Store::forget_old_removed_exits() const {
    // Swept at most once a minute (a stamp file's age says when it last
    // was), so a loop of `run --rm` does not list them all at every create.
    fs::path stamp = paths_.removed_exits_dir() / ".swept";
    struct stat last{};
    time_t now = ::time(nullptr);
    if (::stat(stamp.c_str(), &last) < 0) {
        if (errno != ENOENT || ::access(paths_.removed_exits_dir().c_str(), F_OK) < 0) return;
    } else if (now - last.st_mtime < 60) {
        return;
    }
    UniqueFd touched(::open(stamp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600));
    std::error_code ec;
    for (fs::directory_iterator it(paths_.removed_exits_dir(), ec), end; !ec && it != end; it.increment(ec)) {
        struct stat st{};
        if (is_full_id(it->path().filename().string()) && ::lstat(it->path().c_str(), &st) == 0 &&
            now - st.st_mtime > kRemovedExitKeepSeconds)
            ::unlink(it->path().c_str());
    }
}

void Store::record_removed_exit(const std::string& id, const std::string& name, int code) const {
    make_dirs(paths_.removed_exits_dir(), 0700);
    write_file_atomic(paths_.removed_exits_dir() / id, std::to_string(code) + " " + name + "\n", 0600, false);
}

std::optional<int> Store::removed_exit_code(const std::string& handle) const {
    std::error_code ec;
    std::optional<int> found;
    time_t newest = 0;
    for (fs::directory_iterator it(paths_.removed_exits_dir(), ec), end; !ec && it != end; it.increment(ec)) {
        std::string id = it->path().filename().string();
        if (!is_full_id(id)) continue;
        auto text = read_file_if_exists(it->path(), 256);
        if (!text) continue;
        auto space = text->find(' ');
        std::string name = space == std::string::npos ? "" : text->substr(space + 1);
        while (!name.empty() && name.back() == '\n') name.pop_back();
        if (id != handle && name != handle && !(looks_like_id_prefix(handle) && id.starts_with(handle))) continue;
        struct stat st{};
        if (::stat(it->path().c_str(), &st) < 0 || st.st_mtime < newest ||
            ::time(nullptr) - st.st_mtime > kRemovedExitKeepSeconds)
            continue;
        try {
            found = static_cast<int>(parse_int(text->substr(0, space), "exit code", 0, 255));
            newest = st.st_mtime;
        } catch (const Error&) {
        }
    }
    return found;
}

void Store::save_exit_fallback(const ContainerState& state) const {
    write_file_atomic(paths_.exit_fallback(state.id), to_json(state).dump(2) + "\n", 0600, /*durable=*/true);
}

std::optional<ContainerState> Store::load_exit_fallback(const std::string& id) const {
    fs::path path = paths_.exit_fallback(id);
    if (::access(path.c_str(), F_OK) < 0) return std::nullopt;
    auto st = state_from_json(read_file(path), path);
    if (st.id != id || st.status != Status::Exited) return std::nullopt;
    return st;
}

FileLock Store::lock(const std::string& id) const { return FileLock::acquire(paths_.lock_file(id)); }

namespace {

void remove_orphan_cgroup(const std::string& id) noexcept {
    try {
        if (auto cg = container_cgroup(id); cg && cg->exists()) {
            cg->teardown();
        }
    } catch (const Error&) {
        // Left for `cleanup.sh`; the container itself is gone either way.
    }
}

}  // namespace

void Store::collect_garbage() const {
    forget_old_removed_exits();
    // Only dotted entries are looked at (no stat per container), and the lock
    // files are checked against the names read here, so this stays cheap with
    // thousands of containers. Removal and creation are ordered so that every
    // interrupted one leaves such an entry behind (see unlist()).
    std::error_code ec;
    std::unordered_set<std::string> present;  // containers and trash, by id
    for (fs::directory_iterator it(paths_.containers_dir(), ec), end; !ec && it != end; it.increment(ec)) {
        const fs::path& p = it->path();
        std::string name = p.filename().string();
        if (name.starts_with(".trash-")) present.insert(name.substr(7));
        else if (name[0] != '.') present.insert(name);
        std::string id;
        if (name.starts_with(".new-")) id = name.substr(5);
        else if (name.starts_with(".trash-")) id = name.substr(7);
        if (!is_full_id(id)) continue;
        // Whoever made the entry holds the container's lock while it works
        // (a creation holds the names lock, which we have): if we can take
        // the lock, its owner died half-way. A trash without a lock file is
        // only taken once it has sat for a minute (a lost /run, say).
        bool creation = name.starts_with(".new-");  // its creator held the names lock we hold
        std::optional<FileLock> owner_gone = FileLock::try_acquire_existing(paths_.lock_file(id));
        if (!owner_gone && !creation) {
            struct stat st{};
            bool lock_exists = ::access(paths_.lock_file(id).c_str(), F_OK) == 0;
            if (lock_exists || ::lstat(p.c_str(), &st) < 0 || ::time(nullptr) - st.st_mtime < 60) continue;
        }
        fs::path claimed = p;
        claimed += ".gc-" + std::to_string(::getpid());
        if (::rename(p.c_str(), claimed.c_str()) == 0) remove_tree(claimed);
        if (!fs::exists(paths_.container_dir(id))) {
            remove_tree(paths_.state_dir(id));
            // A --rm shim killed after unlisting left its cgroup too.
            if (!creation) remove_orphan_cgroup(id);
        }
        if (owner_gone) owner_gone->unlink_and_release();
    }
    // A removal killed between deleting its trash and unlinking its lock
    // leaves only the lock file: drop locks of containers that are gone.
    // `present` must be the whole directory, or live containers would lose
    // their lock files.
    if (ec) return;
    for (fs::directory_iterator it(paths_.root / "locks", ec), end; !ec && it != end; it.increment(ec)) {
        std::string id = it->path().stem().string();
        // A container being created has no directory yet, but its creator
        // holds the names lock we hold: it is not in flight now.
        if (!is_full_id(id) || present.contains(id)) continue;
        if (auto orphan = FileLock::try_acquire_existing(it->path())) orphan->unlink_and_release();
    }
}

std::string Store::free_random_name() const {
    static constexpr std::array<const char*, 24> adjectives{
        "brave", "calm", "eager", "fancy", "gentle", "happy", "jolly", "kind", "lively", "nimble", "proud", "quiet",
        "silly", "swift", "witty", "zen", "bold", "bright", "clever", "cosmic", "daring", "keen", "merry", "sunny"};
    static constexpr std::array<const char*, 24> nouns{
        "turing", "hopper", "lovelace", "ritchie", "thompson", "knuth", "dijkstra", "lamport",
        "liskov", "torvalds", "kernighan", "pike", "wirth", "hoare", "backus", "mccarthy",
        "allen", "babbage", "cerf", "engelbart", "hamilton", "kay", "milner", "shannon"};
    std::string rnd = generate_id();
    auto pick = [&](size_t i, size_t n) { return std::stoul(rnd.substr(i * 4, 4), nullptr, 16) % n; };
    for (size_t i = 0; i < 8; ++i) {
        std::string name = adjectives[pick(2 * i, adjectives.size())];
        name.append(1, '_').append(nouns[pick(2 * i + 1, nouns.size())]);
        if (i >= 4) name.append(1, '_').append(rnd, 48 + i, 4);
        if (!name_taken(name)) return name;
    }
    return std::string("ctr_").append(rnd, 0, 12);
}

FileLock Store::create(ContainerConfig& config, const std::function<std::string(const ContainerConfig&)>& oci_spec) const {
    const std::string& id = config.id;
    FileLock names = FileLock::acquire(paths_.names_lock());
    make_dirs(paths_.names_dir(), 0700);
    make_dirs(paths_.containers_dir(), 0700);
    collect_garbage();
    note_cgroup_parent();
    if (config.name.empty()) config.name = free_random_name();
    if (config.hostname.empty()) config.hostname = config.name;
    std::erase_if(config.env, [](const std::string& e) { return e.starts_with("HOSTNAME="); });
    config.env.insert(config.env.begin(), "HOSTNAME=" + config.hostname);
    fs::path link = paths_.name_link(config.name);
    if (auto old = read_name_link(link)) {
        if (is_full_id(*old) && exists(*old) && bears_name(*this, *old, config.name))
            throw Error("the container name \"" + config.name + "\" is already in use by " +
                        old->substr(0, 12) + "; remove that container or choose another name");
        ::unlink(link.c_str());  // left by a removal that was interrupted
    }
    // Built under a temporary name and renamed into place complete, so a
    // CLI killed half-way never leaves a half-made container behind.
    fs::path building = paths_.containers_dir() / (".new-" + id);
    fs::path dir = paths_.container_dir(id);
    FileLock lock;
    try {
        lock = this->lock(id);
        if (::mkdir(building.c_str(), 0700) < 0) throw_errno("create " + building.string());
        make_dirs(building / "upper", 0755);
        make_dirs(building / "work", 0700);
        make_dirs(building / "merged", 0755);
        // Made durable by the shim once the container runs (off the start
        // path); a --rm container never needs it.
        write_new_file(building / "minirt.json", to_json(config).dump(2) + "\n", 0600);
        write_new_file(building / "config.json", oci_spec(config), 0600);
        // Marked in each container whose namespaces it joins, which rm
        // then refuses to remove first.
        for (const auto& peer : config.namespace_peers()) {
            fs::path deps = paths_.dependents_dir(peer);
            if (::mkdir(deps.c_str(), 0700) < 0 && errno != EEXIST) {
                if (errno == ENOENT) throw Error("no such container " + peer.substr(0, 12) + " (removed meanwhile)");
                throw_errno("create " + deps.string());
            }
            write_file_atomic(deps / id, "", 0600, false);
        }
        ContainerState state;
        state.id = id;
        state.summary = ContainerSummary::of(config);
        save_state(state);
        if (::rename(building.c_str(), dir.c_str()) < 0) throw_errno("create " + dir.string());
        if (::symlink(id.c_str(), link.c_str()) < 0) throw_errno("create " + link.string());
    } catch (...) {
        std::error_code ec;
        fs::remove_all(building, ec);
        fs::remove_all(dir, ec);
        fs::remove_all(paths_.state_dir(id), ec);
        if (lock.held()) lock.unlink_and_release();
        throw;
    }
    return lock;
}

void Store::rename(const std::string& id, FileLock& lock, const std::string& new_name) const {
    validate_container_name(new_name);
    if (lock.stale()) throw Error("no such container " + id.substr(0, 12), kExitNoSuchContainer);
    FileLock names = FileLock::acquire(paths_.names_lock());
    ContainerConfig config = load_config(id);
    if (config.name == new_name) return;
    fs::path link = paths_.name_link(new_name);
    if (auto old = read_name_link(link)) {
        if (is_full_id(*old) && exists(*old) && bears_name(*this, *old, new_name))
            throw Error("the container name \"" + new_name + "\" is already in use by " + old->substr(0, 12) +
                        "; remove that container or choose another name");
        ::unlink(link.c_str());  // left by a removal that was interrupted
    }
    if (::symlink(id.c_str(), link.c_str()) < 0) throw_errno("create " + link.string());
    std::string old_name = config.name;
    config.name = new_name;
    try {
        write_file_atomic(paths_.config_file(id), to_json(config).dump(2) + "\n", 0600);
        if (auto st = load_state(id)) {
            st->summary = ContainerSummary::of(config);
            save_state(*st);
        }
    } catch (...) {
        ::unlink(link.c_str());
        throw;
    }
    // A crash before this leaves the old name leading to it as well, until
    // a new container takes that name (create sees the link is stale: its
    // container bears another name now).
    fs::path old_link = paths_.name_link(old_name);
    if (auto target = read_name_link(old_link); target && *target == id) ::unlink(old_link.c_str());
}

void Store::unlist(const std::string& id, std::string name) const {
    if (name.empty()) {
        try {
            name = load_config(id).name;
        } catch (const Error&) {
            // A corrupt config must still be removable; find its name link instead.
        }
    }
    FileLock names = FileLock::acquire(paths_.names_lock());
    // The name link first, into the container's own directory: the name is
    // free at once, and a removal killed right after leaves what it always
    // left, a container without its link. Unlinking it on the spot would
    // make ext4 evict its inode here, half a millisecond before the exit
    // report of a --rm container.
    fs::path dir = paths_.container_dir(id);
    auto drop_if_ours = [&](const fs::path& link) {
        auto target = read_name_link(link);
        if (!target || *target != id) return;
        if (::rename(link.c_str(), (dir / ".name").c_str()) < 0) ::unlink(link.c_str());
    };
    if (!name.empty()) {
        drop_if_ours(paths_.name_link(name));
    } else {
        std::error_code ec;
        for (fs::directory_iterator it(paths_.names_dir(), ec), end; !ec && it != end; it.increment(ec))
            drop_if_ours(it->path());
    }
    // Then the directory, so a half-removed container is never listed; from
    // here on, the .trash entry marks anything an interrupted removal left.
    if (::rename(dir.c_str(), paths_.trash_dir(id).c_str()) < 0 && errno != ENOENT)
        throw_errno("remove " + dir.string());
}

void Store::purge(const std::string& id, FileLock& lock) const {
    // The lock is held until the trash is gone: a garbage collector that can
    // take it knows this removal died half-way.
    remove_tree(paths_.state_dir(id));
    remove_tree(paths_.trash_dir(id));
    lock.unlink_and_release();
}

}  // namespace minirt
