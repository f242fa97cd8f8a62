// What `minirt oci` keeps per container under its --root (default
// /run/minirt-oci/<id>/): state.json, the config.json it was created from,
// and exec.fifo while the container is created but not started. There is no
// shim: the container's init is a descendant of the caller (conmon, the
// containerd shim), and its status is derived from the kernel each time.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/fd.hpp"
#include "common/status.hpp"

namespace minirt::oci {

namespace fs = std::filesystem;

inline constexpr const char* kDefaultRoot = "/run/minirt-oci";


struct State {
    std::string id;
    pid_t pid = 0;
    uint64_t pid_start = 0;  // /proc/PID/stat start time: a recycled PID is not ours
    fs::path bundle;
    fs::path rootfs;
    std::string created;  // RFC 3339
    fs::path cgroup;      // absolute path of its cgroup v2 group
    bool owns_cgroup = true;  // we created the group (delete removes it)
    bool default_cgroup = false;  // under our own parent (removed when empty)
    // A config without a mount namespace of its own has its mounts made in
    // the caller's, below the rootfs: these are the ids of the mounts that
    // were there before, and `delete` unmounts the others below the rootfs.
    std::optional<std::vector<int>> mounts_before;
    nlohmann::json annotations = nlohmann::json::object();
};

class StateDir {
public:
    StateDir(fs::path root, std::string id);
    const fs::path& dir() const { return dir_; }
    fs::path state_file() const { return dir_ / "state.json"; }
    fs::path config_file() const { return dir_ / "config.json"; }
    fs::path fifo() const { return dir_ / "exec.fifo"; }
    bool exists() const;
    // Creates the directory exclusively; Error "already exists" otherwise.
    void create() const;
    // Serialises create/start/delete of one container (flock on the dir).
    UniqueFd lock() const;
    // Whether another command holds lock() now (a create under way).
    bool busy() const;
    State load() const;  // Error "does not exist" if there is no state
    void save(const State& s) const;
    void remove() const;

private:
    fs::path root_;
    std::string id_;
    fs::path dir_;
};

// Derived from the kernel: the init's liveness (PID + start time), the fifo
// (present until `start`) and cgroup.freeze. An ended container is Exited
// (OCI's "stopped", see common/status.hpp).
Status live_status(const StateDir& dir, const State& s);
// Unmounts what the container mounted below its rootfs in our namespace
// (State::mounts_before): nothing that was there before it.
void unmount_container_mounts(const State& s);
// The runtime-spec state object (`minirt oci state`, and hooks' stdin).
nlohmann::json state_json(const State& s, Status status);

}  // namespace minirt::oci
