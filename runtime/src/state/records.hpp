// The records minirt keeps per container, and their JSON forms
// (schemas: state-schema/config.schema.json, state-schema/state.schema.json).
#pragma once

#include <cstdint>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "common/ports.hpp"
#include "common/restart_policy.hpp"
#include "common/status.hpp"
#include "state/health.hpp"
#include "linux/devices.hpp"
#include "linux/resources.hpp"
#include "linux/security.hpp"

namespace minirt {

// A mount the user asked for (-v, --mount, --tmpfs): one OCI `mounts` entry
// of the container's spec, in OCI's terms.
struct MountRequest {
    std::string type;         // "bind", "volume", "tmpfs" or "devpts"
    // bind: an absolute host path; volume: its name (empty in a request
    // for an anonymous one, named when it is made); otherwise empty.
    std::string source;
    std::string destination;  // an absolute path inside the container
    std::vector<std::string> options;  // ro, nosuid, rbind, rprivate, size=64m, mode=1777, ...; nocopy (a volume's)
    // --mount type=volume's volume-opt and volume-label: what a volume this
    // mount makes (an anonymous one, or a named one not there yet) is made
    // with; an existing volume keeps its own, as podman's does.
    std::map<std::string, std::string> volume_options, volume_labels;
    bool has_option(std::string_view o) const {
        for (const auto& x : options)
            if (x == o) return true;
        return false;
    }
};

// A host device given to the container (--device): the linux.devices
// entry its spec gets (node.path is where the container sees it; type,
// numbers and mode are the host node's when the container was made) and
// what the device filter lets the container do with it.
struct DeviceRequest {
    std::string host;        // the host's node (podman's PathOnHost)
    DeviceNode node;         // node.path: podman's PathInContainer
    std::string permissions = "rwm";  // podman's CgroupPermissions
};

// A hook the container's spec runs (a CDI device's): stage is the OCI
// hook's name (the init runs createContainer and startContainer, the shim
// the others).
struct HookRequest {
    std::string stage, path;
    std::vector<std::string> args, env;
    std::optional<int> timeout;
};

// A network the container joins (--network NAME, and the --ip,
// --mac-address and --network-alias given with it).
struct NetworkRequest {
    std::string name;
    std::string ip;   // empty: the lowest free address of the network
    std::string mac;  // empty: netavark picks one
    std::vector<std::string> aliases;
};

// What `run` was asked for. Written once at creation; `start` replays it.
struct ContainerConfig {
    std::string id;
    std::string name;
    std::string image;
    // A layered image's id, and its layers as the overlay stacks them (top
    // first); empty for an imported image (its rootfs is the one lower).
    std::string image_id;
    std::vector<std::string> image_layers;
    int64_t created_ns = 0;
    std::vector<std::string> command;  // argv; resolved against the image default
    // What of `command` is the entrypoint (--entrypoint or the image's), for
    // commit; nullopt in configs of older versions.
    std::optional<std::vector<std::string>> entrypoint;
    std::vector<std::string> env;      // KEY=VALUE, image env then -e flags
    std::string workdir = "/";
    std::string hostname;
    bool share_ipc = false;  // --ipc host
    // --pid, --uts: "" (its own), "host" or "container:ID"; --ipc:
    // "container:ID" (host is share_ipc). Another container's namespaces are
    // found when it starts, like --network container:ID.
    std::string pid_mode, uts_mode, ipc_mode;
    // The containers whose namespaces this one joins (ids, no repeats).
    std::vector<std::string> namespace_peers() const;
    // "private": a cgroup namespace of its own with its group mounted at
    // /sys/fs/cgroup; "host": neither (configs older than the field).
    std::string cgroupns = "private";
    // "none" (own namespace, loopback), "host", "bridge" (the networks
    // below), "container:ID" (another container's namespace) or "ns:PATH".
    std::string network = "none";
    std::vector<NetworkRequest> networks;  // bridge: in order, eth0 first
    std::vector<PortRequest> ports;        // bridge: -p and -P
    // /etc/resolv.conf and /etc/hosts (--dns, --dns-search, --dns-option,
    // --add-host NAME:IP, --no-hosts).
    std::vector<std::string> dns_servers, dns_search, dns_options, add_hosts;
    bool no_hosts = false;
    std::vector<std::string> propagate_mounts;
    std::vector<MountRequest> mounts;  // in the order given; the spec mounts parents first
    std::vector<DeviceRequest> devices;  // --device, a directory's nodes one by one
    std::vector<std::string> device_cgroup_rules;  // --device-cgroup-rule, as given ("c 1:3 rwm")
    // --device vendor.com/class=name: the CDI devices asked for (their
    // edits are in the fields above and below: devices, mounts, env,
    // group_add, hooks), kept for inspect.
    std::vector<std::string> cdi_devices;
    std::vector<HookRequest> hooks;  // CDI devices' hooks
    // run --trace FILE: the shim traces the container from before its init
    // is born (docs/trace.md), appending to FILE (absolute) each start.
    std::string trace_file;
    std::string trace_events;  // a list `minirt trace --events` takes
    std::string trace_format;  // text or json
    bool auto_remove = false;
    // The image's Labels, then --label's (podman's container labels).
    std::map<std::string, std::string> labels;
    // --annotation: the OCI spec's annotations besides minirt's own.
    std::map<std::string, std::string> annotations;
    // --sysctl: kernel settings of the container's own namespaces.
    std::map<std::string, std::string> sysctls;
    uint64_t shm_size = 0;              // --shm-size in bytes; 0: podman's 64000k
    std::optional<int> oom_score_adj;   // --oom-score-adj -1000..1000
    std::vector<uint32_t> group_add;    // --group-add, resolved: supplementary gids
    std::string init_path;              // --init: the host's catatonit, the command's PID 1 (empty: none)
    int stop_signal = 0;  // what stop sends first (--stop-signal, the image's StopSignal); 0: SIGTERM
    RestartPolicy restart;  // --restart: what the shim does when the command exits
    int stop_timeout = 10;  // --stop-timeout: what stop waits after its signal, unless told (-t)
    std::optional<Healthcheck> healthcheck;  // --health-*, or the image's HEALTHCHECK
    // "run" or "create" and the arguments after it, as given (podman's
    // CreateCommand: `generate systemd --new`); empty in older configs.
    std::vector<std::string> create_command;
    bool tty = false;          // -t: the command gets a pseudo-terminal
    bool interactive = false;  // -i: its stdin stays open (attachable)
    uint64_t log_max_size = 16 << 20;  // rotate ctr.log at this size
    Resources resources;
    // The memory monitor's limits in bytes (0 = none): --soft-mib/--hard-mib.
    uint64_t monitor_soft = 0;
    uint64_t monitor_hard = 0;
    // Capabilities, seccomp, user, user namespace, rlimits (docs/security.md).
    Security security;
};

// What the memory monitor said about a container.
struct MonitorRecord {
    std::string backend;
    std::string id;  // the id it is registered under
    uint64_t soft_limit = 0, hard_limit = 0;
    struct Crossing {
        uint64_t rss = 0, limit = 0;
        int64_t at_ns = 0;
    };
    std::optional<Crossing> soft_crossed;
    std::optional<Crossing> hard_killed;
};

// What `list` shows of a container's config. A copy is kept in state.json,
// so listing reads one file per container, not two.
struct ContainerSummary {
    std::string name;
    std::string image;
    std::vector<std::string> command;
    int64_t created_ns = 0;
    bool healthcheck = false;  // it has one: `list` reads health.json of only these
    bool empty() const { return name.empty(); }
    static ContainerSummary of(const ContainerConfig& c) {
        return {c.name, c.image, c.command, c.created_ns, c.healthcheck.has_value()};
    }
};


// What happened to the container, as recorded by its shim. Status here is
// only what was last written; the live status is derived (see status.hpp).
struct ContainerState {
    std::string id;
    Status status = Status::Created;
    int pid = 0;
    uint64_t pid_start = 0;  // /proc/PID/stat field 22: guards against PID reuse
    int shim_pid = 0;
    uint64_t shim_start = 0;
    int64_t started_ns = 0;
    int64_t finished_ns = 0;
    std::optional<int> exit_code;
    int exit_signal = 0;
    std::string reason;  // exited, stopped, killed, oom-killed, exec-failed, shim-lost
    std::string error;   // why it failed to start, if it did
    bool stop_requested = false;
    std::string cgroup;  // absolute path of its cgroup v2 group, if any
    int restart_count = 0;  // restarts by the policy since the last start by the user
    // The exit is recorded and the shim will start it again (--restart),
    // once its backoff wait is over.
    bool restarting = false;
    // The last kRunsKept runs, oldest first: how each ended.
    struct Run {
        int64_t started_ns = 0, finished_ns = 0;
        std::optional<int> exit_code;
        std::string reason;
    };
    static constexpr size_t kRunsKept = 5;
    std::vector<Run> runs;
    // Log output lost to a full disk (the log itself says when and why).
    uint64_t log_dropped_lines = 0, log_dropped_bytes = 0;
    // The ports its last start published, as `ps` shows them
    // ("127.0.0.1:8080->80/tcp, ..."; a picked host port as picked).
    std::string ports;
    std::optional<MonitorRecord> monitor;  // set while registered with the monitor
    // Copied from config.json (Store::save_state fills it in). Empty in
    // state files of older versions: readers then use config.json.
    ContainerSummary summary;
};

nlohmann::json to_json(const ContainerConfig& c);
// Published ports as minirt.json and the network record keep them (which
// are netavark's port_mappings); the reader throws Error on a bad one.
nlohmann::json ports_json(const std::vector<PortRequest>& ports);
std::vector<PortRequest> ports_from_json(const nlohmann::json& a);
nlohmann::json to_json(const ContainerState& s);
// Both throw Error naming `source` when the JSON is malformed or mistyped.
ContainerConfig config_from_json(const std::string& text, const std::filesystem::path& source);
ContainerState state_from_json(const std::string& text, const std::filesystem::path& source);
// The same for a well-formed state file of the usual shape, without a DOM
// and without building any error message: nullopt for anything else (then
// state_from_json() decides). What `list` reads for each container.
std::optional<ContainerState> quick_state_from_json(std::string_view text);

}  // namespace minirt
