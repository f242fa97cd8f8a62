// --device and --device-cgroup-rule: podman's spellings, turned into the
// linux.devices entries and device filter rules of a container's spec
// (container/bundle.cpp). The host's nodes are read here, once: the record
// keeps what each was when the container was made.
#include <sys/stat.h>

#include <algorithm>
#include <set>

#include "cdi/cdi.hpp"
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
         "every device below it); PERMISSIONS r, w, m (default rwm). Or a CDI device: vendor.com/class=name (or =all)")
        ("device-cgroup-rule", po::value<std::vector<std::string>>(),
         "'TYPE MAJOR:MINOR ACCESS' (e.g. 'c 42:* rmw'): also allow these devices, for nodes made inside");
}

std::vector<DeviceRequest> devices_from_flags(const po::variables_map& vm) {
    std::vector<DeviceRequest> out;
    std::set<std::string> seen;
    for (const auto& text : flag_values(vm, "device"))
        for (auto& r : cdi::is_qualified_name(text) ? std::vector<DeviceRequest>{} : requests_for(text)) {
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

namespace {

void add_cdi_device_node(const cdi::DeviceNodeEdit& n, ContainerConfig& c) {
    std::string shown = "CDI device node " + n.path;
    if (auto problem = device_path_problem(n.path); !problem.empty()) throw Error(shown + ": " + problem);
    DeviceRequest r = request(cdi::host_node_of(n), n.path, n.permissions.empty() ? "rwm" : n.permissions);
    if (n.file_mode) r.node.file_mode = *n.file_mode & 0777;
    if (n.uid) r.node.uid = *n.uid;
    if (n.gid) r.node.gid = *n.gid;
    for (const auto& d : c.devices)
        if (d.node.path == n.path) throw Error(shown + ": --device gives " + n.path + " already");
    c.devices.push_back(std::move(r));
}

void add_cdi_mount(const cdi::MountEdit& m, ContainerConfig& c) {
    std::string shown = "CDI mount on " + m.container_path;
    MountRequest r;
    r.destination = m.container_path;
    r.options = m.options;
    bool bind = m.type.empty() || m.type == "bind" || r.has_option("bind") || r.has_option("rbind");
    if (bind) {
        r.type = "bind";
        r.source = m.host_path;
        struct stat st{};
        if (::stat(m.host_path.c_str(), &st) < 0) throw_errno(shown + ": " + m.host_path);
        if (!r.has_option("bind") && !r.has_option("rbind")) r.options.push_back("rbind");
    } else if (m.type == "tmpfs") {
        r.type = "tmpfs";
    } else {
        throw Error(shown + ": mounts of type " + quote_for_message(m.type) + " are not supported (bind or tmpfs)");
    }
    for (const auto& existing : c.mounts)
        if (existing.destination == m.container_path) throw Error(shown + ": another mount goes there already");
    c.mounts.push_back(std::move(r));
}

}  // namespace

void apply_cdi_devices(const po::variables_map& vm, const std::vector<std::string>& dirs, ContainerConfig& c) {
    std::vector<std::string> names;
    for (const auto& text : flag_values(vm, "device"))
        if (cdi::is_qualified_name(text) && std::find(names.begin(), names.end(), text) == names.end())
            names.push_back(text);
    if (names.empty()) return;
    std::vector<fs::path> where(dirs.begin(), dirs.end());
    if (where.empty()) where = cdi::default_spec_dirs();
    cdi::ContainerEdits e = cdi::Registry::load(where).resolve(names);
    for (const auto& n : e.device_nodes) add_cdi_device_node(n, c);
    for (const auto& m : e.mounts) add_cdi_mount(m, c);
    for (const auto& kv : e.env) {
        std::string key = kv.substr(0, kv.find('=') + 1);
        std::erase_if(c.env, [&](const std::string& x) { return x.starts_with(key); });
        c.env.push_back(kv);
    }
    for (uint32_t g : e.additional_gids)
        if (std::find(c.group_add.begin(), c.group_add.end(), g) == c.group_add.end()) c.group_add.push_back(g);
    for (const auto& h : e.hooks) c.hooks.push_back({h.hook_name, h.path, h.args, h.env, h.timeout});
    c.cdi_devices = names;
}

}  // namespace minirt::cli
