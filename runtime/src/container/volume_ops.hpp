// Volumes as containers use them: made and filled for a new container,
// kept from removal while any container (running or not) mounts them.
#pragma once

#include <optional>
#include <set>
#include <string>
#include <vector>

#include "common/file_lock.hpp"
#include "state/store.hpp"
#include "state/volumes.hpp"

namespace minirt {

// What prepare_volumes did: the lock to hold until the container exists
// (so no `volume rm` slips in between), and the anonymous volumes it made
// (removed again if the container is not made after all).
struct PreparedVolumes {
    std::optional<FileLock> lock;
    std::vector<std::string> made;
};

// For the volume mounts of a container about to be created: names and
// makes anonymous ones, makes named ones that do not exist yet (as podman
// does), and fills each volume mounted for the first time, while still
// empty, with what the image has at its destination (copy-up; `nocopy`
// skips it). The image's path is resolved inside the image's root.
PreparedVolumes prepare_volumes(const Store& store, ContainerConfig& c);
// Undoes what prepare_volumes made, when the container was not created.
void undo_volumes(const Store& store, PreparedVolumes& prepared) noexcept;

// The ids of the containers whose mounts include volume `name`.
std::vector<std::string> containers_using(const Store& store, const std::string& name);
// The names of the volumes any container mounts (one pass over the
// containers, for questions about many volumes: ls --filter dangling, prune).
std::set<std::string> volumes_in_use(const Store& store);
// Removes volume `name`; one in use is refused unless `force`, which
// removes its containers first (as podman's volume rm -f).
void remove_volume(const Store& store, const std::string& name, bool force);

}  // namespace minirt
