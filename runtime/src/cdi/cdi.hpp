// The Container Device Interface (CDI): vendors' spec files (under /etc/cdi
// and /var/run/cdi, JSON or YAML) that name devices such as
// nvidia.com/gpu=0, each a set of edits to a container's spec: device
// nodes, mounts, environment, hooks, supplementary groups. Read here,
// resolved by name and merged (conflicts refused); container/ applies the
// edits to a container's config.
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "linux/devices.hpp"

namespace minirt::cdi {

namespace fs = std::filesystem;

struct DeviceNodeEdit {
    std::string path;       // in the container
    std::string host_path;  // empty: the same as path
    std::optional<char> type;
    std::optional<int64_t> major, minor;
    std::optional<uint32_t> file_mode, uid, gid;
    std::string permissions;  // the cgroup's r, w, m; empty: rwm
};

struct MountEdit {
    std::string host_path, container_path, type;  // type empty: a bind
    std::vector<std::string> options;
};

struct HookEdit {
    std::string hook_name;  // createRuntime, createContainer, startContainer, prestart, poststart, poststop
    std::string path;
    std::vector<std::string> args, env;
    std::optional<int> timeout;
};

struct ContainerEdits {
    std::vector<std::string> env;  // KEY=VALUE
    std::vector<DeviceNodeEdit> device_nodes;
    std::vector<MountEdit> mounts;
    std::vector<HookEdit> hooks;
    std::vector<uint32_t> additional_gids;
};

struct Device {
    std::string name;
    ContainerEdits edits;
};

struct Spec {
    std::string version;  // cdiVersion
    std::string kind;     // vendor/class
    std::string file;     // where it was read
    ContainerEdits edits; // applied with any of its devices
    std::vector<Device> devices;
};

// The spec in `text`, YAML unless `file` ends in .json (YAML reads JSON
// too). Error naming the file and the field for anything the CDI spec of
// its cdiVersion (0.3.0 to 0.8.0) does not allow, unknown fields included.
Spec parse_spec(const std::string& text, const std::string& file);

// vendor.com/class=name (the device's name may be "all").
bool is_qualified_name(std::string_view name);

// The directories podman reads, lowest priority first.
std::vector<fs::path> default_spec_dirs();

// Every spec file of some directories. A device defined in two files of
// one directory is a conflict; one in a later directory overrides an
// earlier one's (CDI's priorities).
class Registry {
public:
    static Registry load(const std::vector<fs::path>& dirs);

    // The edits of these devices (each spec's own edits once), merged in
    // order. Error (125) naming the device and the file for an unknown
    // device (with the first file that could not be read, which may be
    // the one defining it: such files are left out, as CDI's cache does),
    // or edits that conflict.
    // "KIND=all" is the spec's device named all, or else all its devices.
    ContainerEdits resolve(const std::vector<std::string>& names) const;
    // Every device's qualified name, sorted.
    std::vector<std::string> device_names() const;
    const std::vector<std::string>& broken_files() const { return broken_; }

private:
    struct Found {
        const Spec* spec;
        const Device* device;
    };
    std::optional<Found> find(const std::string& kind, const std::string& name) const;

    std::vector<Spec> specs_;            // in priority order, lowest first
    std::vector<size_t> priority_;       // per spec: its directory's index
    std::vector<std::string> broken_;    // "FILE: why" for files that could not be read
    std::vector<fs::path> dirs_;
};

// The host's node a device node edit gives (its hostPath, else its path),
// with the type and numbers the host's node has: the spec may only repeat
// them. Error naming the node when there is none, or the spec disagrees.
DeviceNode host_node_of(const DeviceNodeEdit& n);

// The annotation prefix engines and Kubernetes' device plugins use to name
// CDI devices in an OCI spec ("cdi.k8s.io/KEY": "vendor.com/class=a,...").
inline constexpr std::string_view kAnnotationPrefix = "cdi.k8s.io/";

// `minirt oci create`: the edits of the CDI devices the spec's annotations
// name, made to the spec (config.json's JSON), as nvidia-container-runtime
// does. What is there already (an engine applied the device: a node at the
// same path, the same mount, variable or hook) is not made twice; a node
// or mount at the same path from another source is refused. False when no
// annotation names a device (nothing is read then).
bool apply_annotated_devices(nlohmann::json& spec, const std::vector<fs::path>& dirs);

}  // namespace minirt::cdi
