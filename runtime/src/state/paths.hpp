// Where everything lives. Runtime state (tmpfs, lost on reboot) under root;
// what must survive a reboot (config, overlay layers, logs, images) under
// storage. See docs/architecture.md.
#pragma once

#include <filesystem>
#include <string>

namespace minirt {

namespace fs = std::filesystem;

struct Paths {
    fs::path root;     // --root / MINIRT_ROOT, default /run/minirt
    fs::path storage;  // --storage / MINIRT_STORAGE, default /var/lib/minirt

    fs::path state_dir(const std::string& id) const { return root / id; }
    fs::path state_file(const std::string& id) const { return root / id / "state.json"; }
    fs::path lock_file(const std::string& id) const { return root / "locks" / (id + ".lock"); }
    // The exit codes of removed containers (--rm), kept a few minutes for
    // a `wait` that comes late: "CODE NAME" in exits/<id>.
    fs::path removed_exits_dir() const { return root / "exits"; }
    fs::path names_lock() const { return root / "locks" / "names.lock"; }
    // The event journal (state/events.hpp): JSON lines, and the file it
    // rotated to. Appends and rotation lock the journal file itself.
    fs::path events_file() const { return root / "events.log"; }
    fs::path events_rotated() const { return root / "events.log.1"; }

    fs::path containers_dir() const { return storage / "containers"; }
    fs::path container_dir(const std::string& id) const { return containers_dir() / id; }
    // Where a removal moves the container's directory before deleting it.
    fs::path trash_dir(const std::string& id) const { return containers_dir() / (".trash-" + id); }
    // minirt's own record of the container (what `run` was asked: name,
    // image, flags); the OCI runtime spec its shim runs is config.json
    // beside it. Containers made before the spec existed have only their
    // own record, under config.json (see Store::load_config).
    fs::path config_file(const std::string& id) const { return container_dir(id) / "minirt.json"; }
    fs::path oci_config_file(const std::string& id) const { return container_dir(id) / "config.json"; }
    fs::path log_file(const std::string& id) const { return container_dir(id) / "ctr.log"; }
    // There while the user's stop (or kill) is the last word on the
    // container: a start removes it. Under --storage, so that a boot can tell
    // an unless-stopped container the user stopped (start --all).
    // One empty file per container that joins this one's namespaces
    // (--network/--pid/--ipc/--uts container:ID), named by its id; stale
    // ones (of containers gone) are ignored.
    fs::path dependents_dir(const std::string& id) const { return container_dir(id) / "dependents"; }
    fs::path user_stopped_file(const std::string& id) const { return container_dir(id) / "user-stopped"; }
    // The shim's exit record when state.json could not take it (a full
    // --root): the same JSON as state.json, read in its place.
    fs::path exit_fallback(const std::string& id) const { return container_dir(id) / "exit-state.json"; }
    fs::path upper_dir(const std::string& id) const { return container_dir(id) / "upper"; }
    fs::path work_dir(const std::string& id) const { return container_dir(id) / "work"; }
    fs::path merged_dir(const std::string& id) const { return container_dir(id) / "merged"; }
    fs::path names_dir() const { return storage / "names"; }
    // Every cgroup parent (MINIRT_CGROUP_PARENT) containers of this storage
    // were put under, one a line: what cleanup.sh sweeps.
    fs::path cgroup_parents_file() const { return storage / "cgroup-parents"; }
    fs::path name_link(const std::string& name) const { return names_dir() / name; }

    fs::path images_dir() const { return storage / "images"; }
    // Layered images (image/store.hpp) and their layers (image/layers.hpp);
    // images_dir() keeps the single-directory images of `image import`.
    fs::path layers_dir() const { return storage / "layers"; }
    fs::path oci_images_dir() const { return storage / "oci-images"; }
    // The layers' blobs as they came (compressed): what save and push send.
    fs::path blobs_dir() const { return storage / "blobs" / "sha256"; }
    fs::path image_dir(const std::string& name) const { return images_dir() / name; }
    fs::path image_rootfs(const std::string& name) const { return image_dir(name) / "rootfs"; }
    fs::path image_file(const std::string& name) const { return image_dir(name) / "image.json"; }

    // Named and anonymous volumes: <name>/volume.json and <name>/_data.
    fs::path volumes_dir() const { return storage / "volumes"; }
    fs::path volume_dir(const std::string& name) const { return volumes_dir() / name; }
    fs::path volume_data(const std::string& name) const { return volume_dir(name) / "_data"; }
    fs::path volume_file(const std::string& name) const { return volume_dir(name) / "volume.json"; }
    // Held while volumes are made, removed, or taken into a new container.
    fs::path volumes_lock() const { return root / "locks" / "volumes.lock"; }
    // Networks: netavark's description of each, and its address leases.
    fs::path networks_dir() const { return storage / "networks"; }
    fs::path network_file(const std::string& name) const { return networks_dir() / (name + ".json"); }
    // A directory of empty files named ADDRESS-ID (state/networks.cpp).
    fs::path network_lease_dir(const std::string& name) const { return networks_dir() / (name + ".leases"); }
    // Where a store kept them before: one JSON file.
    fs::path network_leases_json(const std::string& name) const { return networks_dir() / (name + ".leases.json"); }
    fs::path networks_lock() const { return root / "locks" / "networks.lock"; }
    // A container's network as set up: its namespace (bind-mounted, so it
    // outlives the container until torn down) and netavark's description
    // of it (see engine/network.hpp); netavark's own state (aardvark-dns).
    fs::path netns_dir() const { return root / "netns"; }
    fs::path netns_file(const std::string& id) const { return netns_dir() / id; }
    fs::path netns_record(const std::string& id) const { return netns_dir() / (id + ".json"); }
    fs::path netavark_config() const { return root / "netavark"; }

    // Resolves --root/--storage against the environment and defaults.
    static Paths from(const std::string& root_flag, const std::string& storage_flag);
};

}  // namespace minirt
