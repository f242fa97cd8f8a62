// The on-disk store of containers: creation with name allocation, lookup by
// handle, locked updates, listing and removal.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "common/fd.hpp"
#include "state/lock.hpp"
#include "state/paths.hpp"
#include "state/records.hpp"

namespace minirt {

class Store {
public:
    explicit Store(Paths paths) : paths_(std::move(paths)) {}
    const Paths& paths() const { return paths_; }

    // Name, full id, or unique id prefix → full id; nullopt when no
    // container has that name or id. Throws Error (125) for an empty or
    // invalid handle and for an ambiguous prefix.
    std::optional<std::string> find(const std::string& handle) const;
    // Same, but "no such container" is an Error too.
    std::string resolve(const std::string& handle) const;
    // Every container id in storage, sorted by nothing in particular.
    std::vector<std::string> list_ids() const;
    bool exists(const std::string& id) const;
    bool name_taken(const std::string& name) const;
    // The containers (ids) that join this one's namespaces.
    std::vector<std::string> dependents(const std::string& id) const;

    ContainerConfig load_config(const std::string& id) const;
    // Rewrites minirt.json (network connect/disconnect); the caller holds
    // the container's lock.
    void save_config(const ContainerConfig& config) const;
    // nullopt when there is no state file (never started since /run was emptied).
    std::optional<ContainerState> load_state(const std::string& id) const;
    // Same, opening <id>/state.json relative to `root_fd` (from open_root()),
    // for reading the state of many containers.
    std::optional<ContainerState> load_state(const std::string& id, int root_fd) const;
    // The runtime root as a directory fd; invalid if it does not exist.
    UniqueFd open_root() const;
    // Writes state.json atomically. A state without its summary (one built
    // from nothing, after /run was emptied) gets it from config.json.
    void save_state(const ContainerState& state) const;

    FileLock lock(const std::string& id) const;

    // A removed container's exit code, kept for podman's `run -d --rm;
    // wait` (see Paths::removed_exits_dir). `handle`: an id, a unique id
    // prefix, or the name it had.
    void record_removed_exit(const std::string& id, const std::string& name, int code) const;
    std::optional<int> removed_exit_code(const std::string& handle) const;

    // The exit record a shim could not put in state.json (Paths::exit_fallback).
    void save_exit_fallback(const ContainerState& state) const;
    std::optional<ContainerState> load_exit_fallback(const std::string& id) const;

    // Allocates the name and writes config, overlay dirs and a "created" state.
    // An empty name gets a free random one (and an empty hostname the name);
    // HOSTNAME joins the environment. On any failure nothing is left behind.
    // Returns the container's lock, taken before it became visible: whoever
    // finds it "created" and locked knows a start is in progress.
    // `oci_spec` writes the container's config.json (the OCI runtime spec)
    // from the config as completed here (its name, hostname, environment).
    FileLock create(ContainerConfig& config, const std::function<std::string(const ContainerConfig&)>& oci_spec) const;
    // Deletes everything the container owns on disk. The caller holds `lock`,
    // which is released (and its file unlinked) here.
    void remove(const std::string& id, FileLock& lock) const {
        unlist(id);
        purge(id, lock);
    }
    // The two halves of remove(). unlist() frees the name and takes the
    // container out of every listing (one rename): from then on it is gone
    // for everyone. purge() deletes its files, the slow part, which a --rm
    // shim does after it has reported the exit. `name`: the container's,
    // when the caller knows it (else config.json says).
    void unlist(const std::string& id, std::string name = {}) const;
    void purge(const std::string& id, FileLock& lock) const;
    // Gives the container (whose lock the caller holds) a new name, under
    // the names lock: the new link, then minirt.json (durable) and the
    // state's summary, then the old link goes. Error (125) for a name that
    // is invalid or in use; nothing changed then.
    void rename(const std::string& id, FileLock& lock, const std::string& new_name) const;

private:
    // Removes what interrupted creations and removals left (kill -9 of the
    // CLI): .new-* and .trash-* dirs, containers without a config, state
    // dirs and locks of containers that no longer exist. Caller holds the
    // names lock, so no creation is in flight.
    void collect_garbage() const;
    void forget_old_removed_exits() const;
    void note_cgroup_parent() const;
    std::string free_random_name() const;
    Paths paths_;
};

}  // namespace minirt
