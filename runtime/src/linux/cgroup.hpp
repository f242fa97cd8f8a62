// cgroup v2, through plain files. The v2 mount is found in mountinfo (on
// hybrid hosts it is /sys/fs/cgroup/unified); even with no controllers its
// core files give freeze (cgroup.freeze), kill-all (cgroup.kill) and cpu.stat.
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

namespace minirt {

namespace fs = std::filesystem;

// The first cgroup2 mount in /proc/self/mountinfo, if any. `mountinfo` is a
// parameter so tests can feed their own text.
std::optional<fs::path> find_cgroup2_mount(const std::string& mountinfo);
std::optional<fs::path> find_cgroup2_mount();

// The parent group minirt puts containers under: env MINIRT_CGROUP_PARENT
// (relative to the v2 mount), default "minirt". Tests use their own.
std::string cgroup_parent_name();

struct Resources;
// A controller something needs (empty: only cgroup v2 itself), and what,
// as an error message names it ("--mem", "config.json: linux.resources.unified.io.max").
struct ControllerNeed {
    std::string controller;
    std::string what;
};
// The one controller check: refuses (Error 125, naming what needs it and
// the controller) limits this host's cgroup v2 hierarchy cannot enforce,
// before anything is created.
void check_controllers(const Resources& r, const std::vector<ControllerNeed>& more = {});
// Enables in every ancestor's cgroup.subtree_control, from the v2 root down
// to (not including) `leaf`, the controllers `r` needs.
void enable_controllers(const fs::path& mount, const fs::path& leaf, const Resources& r);
// Writes the limits into the group; errors name the flag and the file.
void apply_resources(const fs::path& group, const Resources& r);

class Cgroup;
// The group of container `id`: <v2 mount>/<parent>/<id>, or nullopt on a
// host without cgroup v2. Derived, so it is known even when state is lost.
std::optional<Cgroup> container_cgroup(const std::string& id);

class Cgroup {
public:
    explicit Cgroup(fs::path path) : path_(std::move(path)) {}
    const fs::path& path() const { return path_; }

    bool exists() const;
    // Creates the group (and the minirt parent, with the controllers `r`
    // needs enabled on the way down), tolerating a racing rmdir of the empty
    // parent by a concurrent remove.
    void create(const Resources& r);
    void add_process(int pid);
    // Every process in the group gets SIGKILL (cgroup.kill); false if the
    // kernel has no cgroup.kill.
    bool kill_all();
    void set_frozen(bool frozen);
    bool frozen() const;
    // Waits up to timeout_ms for cgroup.events to report the wanted state.
    bool wait_frozen(bool frozen, int timeout_ms) const;
    bool populated() const;
    std::vector<int> pids() const;
    // The one way a container's group goes: every process left in it is
    // killed (cgroup.kill), then rmdir with bounded retries (the kernel may
    // still be tearing down the last tasks), then the parent if it became
    // empty (unless told not to: a group an engine named lives under its own
    // parent). A group that does not exist is no error.
    void teardown(bool remove_empty_parent = true);
    // One "key value" from a flat keyed file (cpu.stat, memory.events).
    std::optional<uint64_t> read_key(const std::string& file, const std::string& key) const;
    std::optional<uint64_t> read_number(const std::string& file) const;

private:
    fs::path path_;
};

}  // namespace minirt
