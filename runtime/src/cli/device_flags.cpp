// --device and --device-cgroup-rule: podman's spellings, turned into the
// linux.devices entries and device filter rules of a container's spec
// (container/bundle.cpp). The host's nodes are read here, once: the record
// keeps what each was when the container was made.
#include <sys/stat.h>

#include <set>

#include "cli/cli.hpp"
#include "common/error.hpp"
#include "common/parse.hpp"
#include "linux/devices.hpp"

namespace minirt::cli {

namespace {

DeviceRequest request(const DeviceNode& host, const std::string& container, const std::string& permissions) {
    DeviceRequest r;
    r.host = host.path;
    r.node = host;
    r.node.path = container;
    r.permissions = permissions;
    return r;
}

// One --device: its node, or with a directory (podman's /dev/snd) each
// node below it at the same place below CONTAINER.
std::vector<DeviceRequest> requests_for(const std::string& text) {
    DeviceFlag f = parse_device_flag(text);
    std::string shown = "invalid --device " + quote_for_message(text);
    struct stat st{};
    if (::stat(f.host.c_str(), &st) < 0) {
        if (errno == ENOENT) throw Error(shown + ": " + f.host + ": no such file or directory");
        throw_errno(shown + ": " + f.host);
    }
    if (!S_ISDIR(st.st_mode)) {
        auto node = host_device_node(f.host);
        if (!node) throw Error(shown + ": " + f.host + " is not a character or block device");
        return {request(*node, f.container, f.permissions)};
    }
    std::vector<DeviceRequest> out;
    for (const auto& node : host_devices_under(f.host))
        out.push_back(request(node, f.container + node.path.substr(f.host.size()), f.permissions));
    if (out.empty()) throw Error(shown + ": the directory " + f.host + " holds no device nodes");
    return out;
}

}  // namespace

void add_device_options(po::options_description& desc) {
    desc.add_options()
        ("device", po::value<std::vector<std::string>>(),
         "HOST[:CONTAINER][:PERMISSIONS]: give the container the host's character or block device (a directory: "
         "every device below it); PERMISSIONS r, w, m (default rwm)")
        ("device-cgroup-rule", po::value<std::vector<std::string>>(),
         "'TYPE MAJOR:MINOR ACCESS' (e.g. 'c 42:* rmw'): also allow these devices, for nodes made inside");
}

std::vector<DeviceRequest> devices_from_flags(const po::variables_map& vm) {
    std::vector<DeviceRequest> out;
    std::set<std::string> seen;
    for (const auto& text : flag_values(vm, "device"))
        for (auto& r : requests_for(text)) {
            if (!seen.insert(r.node.path).second)
                throw Error("invalid --device " + quote_for_message(text) + ": " + r.node.path +
                            " is given twice in the container");
            out.push_back(std::move(r));
        }
    return out;
}

std::vector<std::string> device_cgroup_rules_from_flags(const po::variables_map& vm) {
    std::vector<std::string> out = flag_values(vm, "device-cgroup-rule");
    for (const auto& r : out) parse_device_cgroup_rule(r);
    return out;
}

}  // namespace minirt::cli
