// A native container as an OCI bundle: `run` and `create` turn the flags
// and the image's config (a ContainerConfig) into the runtime spec its shim
// runs, written as config.json in the container's directory. The same
// engine runs it that runs `minirt oci create`'s bundles, so whatever the
// spec can say (mounts, devices, sysctls, rlimits, ...) is one code path.
//
// What the spec cannot say is in annotations minirt's engine reads (and
// other runtimes ignore): the overlay the root is assembled from
// (org.minirt.overlay.*; the root.path is its mount point).
#pragma once

#include <string>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "linux/devices.hpp"
#include "state/paths.hpp"
#include "state/records.hpp"
#include "state/store.hpp"

namespace minirt {

// What of the host the spec depends on, read once when it is written.
struct BundleHost {
    bool cgroup2 = true;             // a cgroup v2 mount exists (device filter, cgroup namespace)
    std::string cgroup_parent;       // MINIRT_CGROUP_PARENT, relative to the v2 mount
    uint64_t nofile_hard = 1 << 20;  // the hard RLIMIT_NOFILE the container inherits
    // The host's /dev, for a --privileged container (privileged_host_devices).
    std::vector<DeviceNode> devices;
    static BundleHost current();
};

nlohmann::json oci_spec_for(const ContainerConfig& c, const Paths& paths, const BundleHost& host);
// The spec's text, as written to config.json.
std::string oci_config_text(const ContainerConfig& c, const Paths& paths);

// Before a start, under the container's lock: the spec is there. A
// container made by a minirt before the spec has only its own record, as
// config.json: it moves to minirt.json and the spec is written in its
// place (in that order, each file whole: a crash between the two leaves a
// container this migrates again). A spec that a crash left empty (only
// minirt.json is made durable) is made again from minirt.json.
void prepare_bundle(const Store& store, const std::string& id);

}  // namespace minirt
