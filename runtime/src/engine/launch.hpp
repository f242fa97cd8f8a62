// The parent's side of starting a container's init, shared by the shim and
// `minirt oci create`: the container's cgroup (one controller check, one
// way to make and limit it), the clone of the init straight into that
// group, and the steps of common/protocol.hpp's protocol.
#pragma once

#include <sys/types.h>

#include <filesystem>
#include <functional>
#include <optional>
#include <vector>

#include "common/error.hpp"
#include "common/fd.hpp"
#include "engine/init.hpp"
#include "common/protocol.hpp"
#include "linux/cgroup.hpp"
#include "linux/process.hpp"
#include "linux/seccomp_cache.hpp"
#include "oci/spec.hpp"

namespace minirt::engine {

namespace fs = std::filesystem;

// The init reported that it could not start the command: `exit_code` is
// the container's (125, or 126/127 for the command), the message its words.
class InitFailure : public Error {
public:
    using Error::Error;
};

// Refuses (Error 125) a spec whose limits this host's cgroup v2 hierarchy
// cannot enforce: no cgroup2 mount, or a missing controller. Before anything
// is created. Messages name the resource the way Resources' writes do
// (the native flags); `oci create` words them in config.json's terms.
void check_controllers(const oci::Spec& spec);

struct ContainerCgroup {
    Cgroup group;
    bool owned = true;          // made here: removed with the container
    bool remove_parent = true;  // its parent too, once empty (minirt's own parents)
};

enum class Leftover {
    Replace,      // a group of an earlier run of the container is removed and made anew (native)
    ReuseEmpty,   // an existing empty group is used as it is, a populated one refused (OCI)
};

// <v2 mount>/<rel>: a spec's linux.cgroupsPath is relative to the mount, a
// leading '/' or not. Throws (125) for the root group itself.
fs::path group_dir(const fs::path& mount, std::string rel);

// The group at <v2 mount>/<spec.cgroups_path or default_rel>, made (with its
// ancestors' controllers enabled) and limited as the spec says; nullopt on
// a host without cgroup v2 when the spec asks for no limits.
std::optional<ContainerCgroup> setup_cgroup(const oci::Spec& spec, const std::string& default_rel, Leftover leftover);
// The limits of `spec` (resources and the files it names) written into an
// existing group: what `oci update` changes (the device rules excepted).
void apply_limits(const fs::path& group, const oci::Spec& spec);
// ... after the controller check, with the controllers enabled above it.
void update_limits(const fs::path& group, const oci::Spec& spec);

// A container's init on its way: cloned (PID 1 of its own namespace when
// the spec asks for one) straight into its cgroup, then driven through the
// sync protocol. Killed and reaped if dropped before the command runs.
class InitProcess {
public:
    struct Params {
        InitOptions init;                // .sync is filled in here
        fs::path cgroup;                 // empty: ours
        int pidns = -1;                  // a PID namespace to be born in (another container's), or -1
        std::vector<int> close_in_child;  // the parent's own descriptors the init must not hold
    };
    static InitProcess spawn(const Params& p);

    pid_t pid() const { return child_.pid(); }
    Child& child() { return child_; }

    // Namespaces made (what the createRuntime hooks wait for).
    void wait_namespaces();
    // Lets it build its root. False if it is already gone (its reason is
    // then read by wait_ready/wait_exec).
    bool go();
    // Attaches the device filter (if the spec has device rules and there is a
    // group) and sends the seccomp program of the spec (from `seccomp`'s
    // cache or compiled): the init runs nothing of the user's before both.
    void confine(const oci::Spec& spec, const fs::path& cgroup, const SeccompCache& seccomp);
    // Until Ready: the init is confined and about to exec or wait on
    // exec.fifo. False if it died without a word (killed during its setup:
    // by the memory monitor, `kill`, the OOM killer); InitFailure if it
    // reported why it could not start.
    bool wait_ready();
    // After Ready, until the exec: EOF means it succeeded (or the init died
    // there); InitFailure if the exec failed.
    void wait_exec();

private:
    InitProcess(Child child, UniqueFd sync) : child_(std::move(child)), sync_(std::move(sync)) {}
    std::optional<Message> next();
    Child child_;
    UniqueFd sync_;
    bool ns_seen_ = false;
};

}  // namespace minirt::engine
