// An OCI runtime-spec bundle's config.json, read into what minirt's own
// building blocks take (SecuritySpec, Resources, rootfs mounts). Parsing is
// pure, so it is unit-tested without root. Unknown fields are ignored, as
// the spec requires; a known field with a wrong type or value is refused
// with an Error that names it ("config.json: process.args: ...").
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "linux/device_filter.hpp"
#include "linux/devices.hpp"
#include "linux/resources.hpp"
#include "linux/security.hpp"

namespace minirt::oci {

namespace fs = std::filesystem;

inline constexpr const char* kOciVersion = "1.0.2";

// minirt's own annotations: the overlay a native container's root is
// assembled from, inside its mount namespace, at root.path (other runtimes
// ignore them; whoever runs such a bundle with another runtime mounts the
// overlay at root.path first, as podman does).
inline constexpr const char* kOverlayLowerAnnotation = "org.minirt.overlay.lowerdir";
inline constexpr const char* kOverlayUpperAnnotation = "org.minirt.overlay.upperdir";
inline constexpr const char* kOverlayWorkAnnotation = "org.minirt.overlay.workdir";

// The SCHED_RR priority --pin-cpu runs the command at.
inline constexpr int kPinnedRtPriority = 10;

struct Mount {
    std::string destination;  // absolute, inside the container
    std::string type;         // "bind", "proc", "tmpfs", ... (bind if options say so)
    std::string source;
    unsigned long flags = 0;          // MS_* to set
    unsigned long propagation = 0;    // MS_PRIVATE/MS_SLAVE/MS_SHARED (+MS_REC)
    bool bind = false;
    bool recursive = false;  // rbind
    uint64_t recursive_attrs = 0;  // MOUNT_ATTR_* of "rro", "rnosuid", "rnodev", "rnoexec"
    std::string data;        // filesystem-specific options, comma-separated
    // "idmap"/"ridmap": the bind shows its files through an id mapping:
    // the mount's own uidMappings/gidMappings, or the container's.
    bool idmap = false;
    std::vector<IdMapping> uid_mappings, gid_mappings;
    // "tmpcopyup": a tmpfs starts with what the image has at its place.
    bool tmpcopyup = false;
    // Not from config.json: a detached mount (open_tree) the runtime found
    // for this bind, moved there in place of binding `source`.
    int tree_fd = -1;
};

struct Namespace {
    std::string type;  // pid, network, mount, ipc, uts, user, cgroup
    std::string path;  // empty: a new one
};

struct Hook {
    std::string path;
    std::vector<std::string> args;
    std::vector<std::string> env;
    std::optional<int> timeout;  // seconds
};

struct Hooks {
    std::vector<Hook> prestart, create_runtime, create_container, start_container, poststart, poststop;
};

// cgroup files with no field in minirt's Resources: unified, memory.low,
// cpuset.mems, io.weight, iops, hugetlb.
struct ExtraWrite {
    std::string file, value, controller, field;
};

struct Process {
    bool terminal = false;
    std::vector<std::string> args;
    std::vector<std::string> env;
    std::string cwd = "/";
    uint32_t uid = 0, gid = 0;
    std::vector<uint32_t> additional_gids;
    std::optional<uint32_t> umask;
    CapSets caps;  // each set as given
    // What the process can ever hold: what a seccomp profile's "caps"
    // conditions are judged against (the bounding set, as podman judges them).
    CapMask capabilities() const { return caps.bounding; }
    bool no_new_privileges = false;
    std::vector<RlimitSetting> rlimits;
    std::optional<int> oom_score_adj;
    // process.scheduler: the nice value (also the autogroup's and, through
    // linux.resources.unified cpu.weight.nice, the group's), and a policy.
    std::optional<int> nice;
    std::optional<int> sched_policy;  // SCHED_*
    int sched_priority = 0;
    std::string cpu_affinity;  // process.execCPUAffinity.final: "0-3,6"
    // An AppArmor profile to exec into ("" or "unconfined": none), as runc does.
    std::string apparmor_profile;
    std::optional<int> io_priority;  // process.ioPriority as ioprio_set takes it (class << 13 | level)
    // linux.personality's domain (PER_LINUX or PER_LINUX32), for every
    // process of the container: set by parse_spec, not parse_process.
    std::optional<unsigned long> personality;
};

struct Overlay {
    std::string lower, upper, work;  // lower: one or more directories, ':' between
    std::vector<std::string> lowers() const {
        std::vector<std::string> out;
        for (size_t start = 0;;) {
            size_t end = lower.find(':', start);
            out.push_back(lower.substr(start, end == std::string::npos ? std::string::npos : end - start));
            if (end == std::string::npos) return out;
            start = end + 1;
        }
    }
};

struct Spec {
    std::string oci_version;
    Process process;
    fs::path root;  // absolute (resolved against the bundle)
    bool root_readonly = false;
    std::string hostname;
    std::vector<Mount> mounts;
    std::vector<Namespace> namespaces;
    std::vector<IdMapping> uid_mappings, gid_mappings;
    std::string cgroups_path;
    Resources resources;
    std::vector<ExtraWrite> extra_writes;
    std::vector<DeviceAccessRule> devices;  // linux.resources.devices, in order
    bool has_device_rules = false;
    std::vector<DeviceNode> device_nodes;  // linux.devices: made in the root after /dev's own
    std::optional<nlohmann::json> seccomp;  // linux.seccomp, as given
    std::vector<std::string> masked_paths, readonly_paths;
    std::vector<std::pair<std::string, std::string>> sysctl;
    std::string rootfs_propagation;  // "", "slave", "private", "shared", ...
    Hooks hooks;
    nlohmann::json annotations = nlohmann::json::object();
    std::optional<Overlay> overlay;  // from minirt's annotations

    bool has_namespace(const std::string& type) const;
    const Namespace* find_namespace(const std::string& type) const;
};

// runc's rule for linux.sysctl, checked by `create` (the namespaces it
// names by path exist then): each key only where the container has its
// own namespace for it; kernel.hostname and any key no namespace holds
// never. Error names the key.
void check_sysctl_namespaces(const Spec& spec);
// The namespace a sysctl belongs to ("ipc", "network", "uts", "user"), or ""
// for one that no namespace holds (it would change the host).
std::string sysctl_namespace(const std::string& key);

// A linux.resources object alone (runc update --resources), read into
// spec.resources and spec.extra_writes by the same rules as in config.json.
void parse_resources(const nlohmann::json& resources, Spec& spec);

// CLONE_NEW* for a linux.namespaces type ("network" → CLONE_NEWNET).
int namespace_flag(const std::string& type);

// Parses config.json text of the bundle at `bundle` (for a relative root.path).
Spec parse_spec(const std::string& text, const fs::path& bundle);
// A process object alone (runc exec --process FILE); same rules.
Process parse_process(const nlohmann::json& j, const std::string& where);
// "nosuid,ro,mode=755": flags, propagation and what is left as data.
void parse_mount_options(const std::vector<std::string>& options, Mount& m);
// runc's rule for container ids: letters, digits, and _ + - . ; 1..1024 chars.
void validate_container_id(const std::string& id);
// The config.json `minirt oci spec` writes: busybox sh, runc's defaults.
nlohmann::json default_spec(bool terminal);
// runc spec --rootless's changes to a spec: a user namespace mapping
// container root to `uid`/`gid`, no network namespace, /sys bound from the
// host, no uid=/gid= mount options, no resources.
nlohmann::json rootless_spec(nlohmann::json spec, uint32_t uid, uint32_t gid);
// cpu.shares (cgroup v1, 2..262144) to cpu.weight (1..10000), as crun does.
uint64_t shares_to_weight(uint64_t shares);

}  // namespace minirt::oci
