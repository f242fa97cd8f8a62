// Volumes: directories in storage that outlive containers, as podman's
// "local" driver keeps them: <storage>/volumes/<name>/_data, beside its
// record volume.json (schema: state-schema/volume.schema.json). A volume is
// made whole under a temporary name and renamed into place, and removed by
// renaming it aside first, so a kill -9 never leaves half of one visible.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "common/file_lock.hpp"
#include "state/paths.hpp"
#include "state/records.hpp"

namespace minirt {

struct Volume {
    std::string name;
    int64_t created_ns = 0;
    std::map<std::string, std::string> labels;
    bool anonymous = false;  // made by -v DST for one container; rm -v and --rm remove it
    bool needs_copy = true;  // not yet mounted: the first mount copies the image's files in
    // The local driver's --opt: type, device, o. With a type the volume is
    // that filesystem (device mounted in each container that uses it, or
    // with type none and o=bind a bind of the device directory), not _data.
    std::map<std::string, std::string> options;
    bool mounts_device() const { return options.contains("type"); }
};

// Refuses (Error 125, one line) --opt values the local driver does not
// take; returns the uid and gid o=uid=N,gid=N asks _data to be given.
struct VolumeOwner {
    std::optional<uint32_t> uid, gid;
};
VolumeOwner validate_volume_options(const std::map<std::string, std::string>& options);

class Volumes {
public:
    explicit Volumes(Paths paths) : paths_(std::move(paths)) {}

    // Makes it (Error 125 if the name is taken or invalid).
    Volume create(const std::string& name, const std::map<std::string, std::string>& labels, bool anonymous,
                  const std::map<std::string, std::string>& options = {}) const;
    std::optional<Volume> find(const std::string& name) const;
    Volume load(const std::string& name) const;  // Error if missing
    std::vector<Volume> list() const;
    // The copy-up is done (or not wanted): later mounts leave the data alone.
    void mark_copied(const std::string& name) const;
    // Deletes it and its data (the caller holds lock() and checked that no
    // container uses it).
    void remove(const std::string& name) const;
    // The anonymous volumes `c` mounts, when it goes with rm -v or --rm
    // (takes the lock; best effort: one already gone is no error).
    void remove_anonymous_of(const ContainerConfig& c) const noexcept;

    // Serialises making, removing and taking volumes into a new container.
    FileLock lock() const;

private:
    // Leftovers of creations and removals a kill -9 interrupted.
    void collect_garbage() const;
    Paths paths_;
};

}  // namespace minirt
