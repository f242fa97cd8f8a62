#include "container/bundle.hpp"

#include <sys/resource.h>
#include <sys/stat.h>

#include <algorithm>
#include <set>

#include <nlohmann/json.hpp>

#include "common/file.hpp"
#include "common/parse.hpp"
#include "linux/capabilities.hpp"
#include "linux/cgroup.hpp"
#include "linux/rootfs.hpp"
#include "linux/seccomp.hpp"
#include "linux/security.hpp"
#include "oci/spec.hpp"
#include "state/volumes.hpp"

namespace minirt {

using nlohmann::json;

namespace {

json mount(const std::string& dest, const std::string& type, const std::string& source,
           std::vector<std::string> options) {
    return json{{"destination", dest}, {"type", type}, {"source", source}, {"options", std::move(options)}};
}

json id_mappings(const std::vector<IdMapping>& maps) {
    json a = json::array();
    for (const auto& m : maps) a.push_back({{"containerID", m.container_id}, {"hostID", m.host_id}, {"size", m.size}});
    return a;
}

// A volume made with --opt type=T,device=D,o=O: its own filesystem mounted
// in the container (or for type none with o=bind, a bind of D), with the
// flags the mount asked for (ro, nosuid, ...).
json device_volume_mount(const MountRequest& r, const Volume& v, std::vector<std::string> flags) {
    const std::string& type = v.options.at("type");
    const std::string& device = v.options.at("device");
    auto o = v.options.contains("o") ? split(v.options.at("o"), ',') : std::vector<std::string_view>{};
    bool bind = type == "none" || type == "bind";
    std::erase_if(flags, [&](const std::string& f) { return f == "rbind" || f == "bind" || (!bind && f == "rro"); });
    for (std::string_view item : o)
        if (!item.empty() && (!bind || (item != "bind" && item != "rbind"))) flags.emplace_back(item);
    if (bind) {
        bool recursive = std::find(o.begin(), o.end(), "rbind") != o.end();
        flags.insert(flags.begin(), recursive ? "rbind" : "bind");
        return mount(r.destination, "bind", device, flags);
    }
    return mount(r.destination, type, device, flags);
}

// The devices every container gets on its /dev (populate_dev makes them);
// on a host where no device filter can guard them, the host's own nodes
// are bound over them on a nodev /dev instead.
constexpr const char* kDevNodes[] = {"null", "zero", "full", "random", "urandom", "tty"};

// Where --init's catatonit is bound inside (podman's is /run/podman-init).
constexpr const char* kInitPath = "/run/minirt-init";

json mounts_for(const ContainerConfig& c, const Paths& paths, const BundleHost& host) {
    const Security& sec = c.security;
    // Without a cgroup there is no device filter: every writable mount is
    // nodev, and the usable devices are bind mounts of the host's.
    bool dev_nodev = !sec.privileged && !host.cgroup2;
    std::vector<std::string> sys{"nosuid", "noexec", "nodev"};
    if (!sec.privileged) sys.push_back("ro");
    std::vector<std::string> dev{"nosuid", "noexec", "strictatime", "mode=755", "size=65536k"};
    if (dev_nodev) dev.insert(dev.begin(), "nodev");
    json m = json::array({
        mount("/proc", "proc", "proc", {"nosuid", "noexec", "nodev"}),
        mount("/sys", "sysfs", "sysfs", sys),
        mount("/dev", "tmpfs", "tmpfs", dev),
        mount("/dev/pts", "devpts", "devpts", {"nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620", "gid=5"}),
        // podman's default --shm-size, 64m in its units; the host's with
        // --ipc host. (--ipc container:ID: the shim binds that container's.)
        c.share_ipc ? mount("/dev/shm", "bind", "/dev/shm", {"rbind", "nosuid", "nodev", "noexec"})
                    : mount("/dev/shm", "tmpfs", "shm",
                            {"nosuid", "nodev", "noexec", "mode=1777",
                             c.shm_size ? "size=" + std::to_string(c.shm_size) : std::string("size=64000k")}),
    });
    if (dev_nodev)
        for (const char* node : kDevNodes)
            m.push_back(mount(std::string("/dev/") + node, "bind", std::string("/dev/") + node, {"bind"}));
    // Read-only: the limits are the host's to set. The init is in its own
    // cgroup namespace by then, so the mount shows its group as the root.
    if (c.cgroupns == "private" && host.cgroup2)
        m.push_back(mount("/sys/fs/cgroup", "cgroup", "cgroup", {"ro", "nosuid", "nodev", "noexec"}));
    auto asked_for = [&](const std::string& dest) {
        return std::any_of(c.mounts.begin(), c.mounts.end(), [&](const MountRequest& r) { return r.destination == dest; });
    };
    // /etc/hostname, /etc/hosts and /etc/resolv.conf, which the shim writes
    // at each start (engine/network_files.hpp); on another container's
    // network, that container's hosts and resolv.conf (as podman does).
    // A mount of the user's there (or of /etc) wins.
    std::string peer = c.network.starts_with("container:") ? c.network.substr(10) : c.id;
    for (const char* name : {"hostname", "hosts", "resolv.conf"}) {
        std::string dest = std::string("/etc/") + name;
        if (asked_for(dest) || asked_for("/etc") || (c.no_hosts && dest == "/etc/hosts")) continue;
        std::string owner = dest == "/etc/hostname" ? c.id : peer;
        m.push_back(mount(dest, "bind", (paths.state_dir(owner) / name).string(), {"bind", "nosuid", "noexec", "nodev"}));
    }
    // Host mounts made under these later must appear inside: a recursive
    // bind whose propagation is slave receives them.
    for (const auto& dir : c.propagate_mounts) {
        std::vector<std::string> o{"rbind", "rslave"};
        if (dev_nodev) o.push_back("rnodev");
        m.push_back(mount(dir, "bind", dir, o));
    }
    if (sec.read_only && sec.read_only_tmpfs) {
        // Programs expect somewhere to write; podman gives the same three
        // (unless a mount of the user's goes there).
        for (const char* dir : {"/tmp", "/var/tmp", "/run"})
            if (!asked_for(dir))
                m.push_back(mount(dir, "tmpfs", "tmpfs",
                                  {"rw", "nosuid", "nodev", "mode=1777"}));
    }
    // The user's, parents before what is mounted under them (podman sorts
    // the same way), each after the container's own /dev, /proc, ...
    std::vector<const MountRequest*> mine;
    for (const auto& r : c.mounts) mine.push_back(&r);
    auto depth = [](const std::string& p) { return std::count(p.begin(), p.end(), '/'); };
    std::stable_sort(mine.begin(), mine.end(),
                     [&](const MountRequest* a, const MountRequest* b) { return depth(a->destination) < depth(b->destination); });
    for (const MountRequest* r : mine) {
        std::vector<std::string> o = r->options;
        // minirt's, done before the start
        std::erase(o, "nocopy");
        std::erase(o, "U");
        bool bind = r->type == "bind" || r->type == "volume";
        // No device filter: no device node may be reached through a mount.
        if (dev_nodev && bind) o.push_back("rnodev");
        if (dev_nodev && r->type == "tmpfs") o.push_back("nodev");
        // A volume is a bind of its data directory, or (--opt type=...) its
        // device's filesystem.
        std::string source = r->type == "volume" ? paths.volume_data(r->source).string() : r->source;
        json entry = mount(r->destination, bind ? "bind" : r->type, bind ? source : r->type, o);
        if (r->type == "volume")
            if (auto v = Volumes(paths).find(r->source); v && v->mounts_device()) entry = device_volume_mount(*r, *v, o);
        // idmap: the source's files through the container's own mapping.
        if (r->has_option("idmap")) {
            entry["uidMappings"] = id_mappings(sec.uid_map);
            entry["gidMappings"] = id_mappings(sec.gid_map);
        }
        m.push_back(entry);
    }
    // --init: catatonit, bound last (over a --read-only's /run tmpfs).
    if (!c.init_path.empty()) m.push_back(mount(kInitPath, "bind", c.init_path, {"bind", "ro", "nosuid", "nodev"}));
    return m;
}

json rlimit_entry(const std::string& name, int64_t soft, int64_t hard) {
    auto value = [](int64_t v) { return v == kRlimUnlimited ? json(uint64_t{RLIM_INFINITY}) : json(v); };
    std::string type = "RLIMIT_";
    for (char ch : name) type += static_cast<char>(std::toupper(static_cast<unsigned char>(ch)));
    return json{{"type", type}, {"soft", value(soft)}, {"hard", value(hard)}};
}

// With --init the command runs under catatonit, podman's init, as its
// PID 1 (it reaps what the command orphans and passes signals on).
std::vector<std::string> process_args(const ContainerConfig& c) {
    if (c.init_path.empty()) return c.command;
    std::vector<std::string> args{kInitPath, "--"};
    args.insert(args.end(), c.command.begin(), c.command.end());
    return args;
}

json process_for(const ContainerConfig& c, const BundleHost& host) {
    const Security& sec = c.security;
    CapSets caps = CapSets::for_user(sec.privileged ? all_known_capabilities() : sec.capabilities, sec.uid.value_or(0));
    json names = capability_names(caps.bounding), held = capability_names(caps.permitted);
    json rlimits = json::array();
    bool nofile = false;
    for (const auto& u : sec.ulimits) {
        rlimits.push_back(rlimit_entry(u.name, u.soft, u.hard));
        nofile = nofile || u.name == "nofile";
    }
    // podman's default for rootful containers, never above the host's.
    if (!nofile) {
        auto n = static_cast<int64_t>(std::min<uint64_t>(1 << 20, host.nofile_hard));
        rlimits.push_back(rlimit_entry("nofile", n, n));
    }
    json p{{"terminal", c.tty},
           {"user", {{"uid", sec.uid.value_or(0)}, {"gid", sec.gid.value_or(0)}, {"umask", 022}}},
           {"oomScoreAdj", c.oom_score_adj.value_or(0)},
           {"args", process_args(c)},
           {"env", c.env},
           {"cwd", c.workdir},
           {"capabilities", {{"bounding", names}, {"effective", held}, {"permitted", held}}},
           {"noNewPrivileges", sec.no_new_privileges},
           {"rlimits", rlimits}};
    const Resources& r = c.resources;
    if (r.nice || r.pin_cpu) {
        // --pin-cpu runs the command real-time (round robin) on its CPU.
        json sched{{"policy", r.pin_cpu ? "SCHED_RR" : "SCHED_OTHER"}};
        if (r.nice) sched["nice"] = *r.nice;
        if (r.pin_cpu) sched["priority"] = oci::kPinnedRtPriority;
        p["scheduler"] = sched;
    }
    if (r.pin_cpu) p["execCPUAffinity"] = {{"final", std::to_string(*r.pin_cpu)}};
    if (!c.group_add.empty()) p["user"]["additionalGids"] = c.group_add;
    if (!c.oom_score_adj) p.erase("oomScoreAdj");
    return p;
}

json throttles(const std::vector<IoLimit>& limits) {
    json a = json::array();
    for (const auto& l : limits) {
        auto colon = l.device.find(':');
        a.push_back({{"major", std::stoll(l.device.substr(0, colon))},
                     {"minor", std::stoll(l.device.substr(colon + 1))},
                     {"rate", l.bytes_per_sec}});
    }
    return a;
}

json device_rule(const DeviceAccessRule& r) {
    json j{{"allow", r.allow}, {"type", std::string(1, r.type)}, {"access", r.access}};
    if (r.major >= 0) j["major"] = r.major;
    if (r.minor >= 0) j["minor"] = r.minor;
    return j;
}

// The device filter, as an eBPF program on the container's group: deny
// everything, then what --device and --device-cgroup-rule allow (runc's
// default allow-list follows; the engine adds it).
json device_rules(const ContainerConfig& c) {
    json rules = json::array({json{{"allow", false}, {"access", "rwm"}}});
    for (const auto& d : c.devices)
        rules.push_back(device_rule({true, d.node.type, d.node.major, d.node.minor, d.permissions}));
    for (const auto& text : c.device_cgroup_rules) rules.push_back(device_rule(parse_device_cgroup_rule(text)));
    return rules;
}

json device_entry(const DeviceNode& d) {
    return json{{"path", d.path},   {"type", std::string(1, d.type)}, {"major", d.major}, {"minor", d.minor},
                {"fileMode", d.file_mode}, {"uid", d.uid}, {"gid", d.gid}};
}

// linux.devices: the --device nodes, and for --privileged the host's /dev
// (a --device at the same path wins: it may be the host's under another
// name, or with other permissions).
json device_entries(const ContainerConfig& c, const BundleHost& host) {
    json out = json::array();
    std::set<std::string> taken;
    for (const auto& d : c.devices) {
        out.push_back(device_entry(d.node));
        taken.insert(d.node.path);
    }
    if (c.security.privileged)
        for (const auto& d : host.devices)
            if (!taken.contains(d.path)) out.push_back(device_entry(d));
    return out;
}

// Resources in OCI terms; what has no field of its own goes to `unified`
// (cgroup v2 files), which minirt's parser reads back into the same fields.
json resources_for(const ContainerConfig& c, const BundleHost& host) {
    const Resources& r = c.resources;
    json res = json::object();
    json unified = json::object();
    if (r.memory_max) {
        res["memory"]["limit"] = *r.memory_max;
        // OCI's swap is memory+swap (cgroup v1's memsw). Always given: a
        // limited container does not swap unless asked (--mem-swap), and
        // another runtime must not read its absence as "unlimited".
        res["memory"]["swap"] = *r.memory_max + r.memory_swap_max.value_or(0);
    } else if (r.memory_swap_max) {
        unified["memory.swap.max"] = std::to_string(*r.memory_swap_max);
    }
    if (r.memory_high) unified["memory.high"] = std::to_string(*r.memory_high);
    if (r.memory_low) res["memory"]["reservation"] = *r.memory_low == kNoLimit ? -1 : static_cast<int64_t>(*r.memory_low);
    if (r.cpu_quota_us) {
        res["cpu"]["quota"] = *r.cpu_quota_us;
        res["cpu"]["period"] = r.cpu_period_us;
    }
    if (r.cpuset_cpus) res["cpu"]["cpus"] = *r.cpuset_cpus;
    if (r.cpuset_mems) res["cpu"]["mems"] = *r.cpuset_mems;
    if (r.blkio_weight) res["blockIO"]["weight"] = *r.blkio_weight;
    if (r.cpu_weight) unified["cpu.weight"] = std::to_string(*r.cpu_weight);
    if (r.nice) unified["cpu.weight.nice"] = std::to_string(*r.nice);
    if (r.pids_max) res["pids"]["limit"] = *r.pids_max == kNoLimit ? -1 : static_cast<int64_t>(*r.pids_max);
    if (!r.io_read_bps.empty()) res["blockIO"]["throttleReadBpsDevice"] = throttles(r.io_read_bps);
    if (!r.io_write_bps.empty()) res["blockIO"]["throttleWriteBpsDevice"] = throttles(r.io_write_bps);
    if (!unified.empty()) res["unified"] = unified;
    if (!c.security.privileged && host.cgroup2) res["devices"] = device_rules(c);
    return res;
}


json linux_for(const ContainerConfig& c, const BundleHost& host) {
    const Security& sec = c.security;
    json namespaces = json::array({json{{"type", "mount"}}});
    // Another container's (container:ID) are listed as the container's own:
    // the shim joins them at each start instead of making new ones, as
    // for --network container:ID.
    if (c.pid_mode != "host") namespaces.push_back({{"type", "pid"}});
    if (c.uts_mode != "host") namespaces.push_back({{"type", "uts"}});
    if (!c.share_ipc) namespaces.push_back({{"type", "ipc"}});
    if (c.network != "host") namespaces.push_back({{"type", "network"}});
    if (c.cgroupns == "private" && host.cgroup2) namespaces.push_back({{"type", "cgroup"}});
    json l{{"namespaces", namespaces}, {"resources", resources_for(c, host)}};
    if (!c.sysctls.empty()) l["sysctl"] = c.sysctls;
    if (sec.userns()) {
        l["namespaces"].push_back({{"type", "user"}});
        l["uidMappings"] = id_mappings(sec.uid_map);
        l["gidMappings"] = id_mappings(sec.gid_map);
    }
    if (host.cgroup2) l["cgroupsPath"] = "/" + host.cgroup_parent + "/" + c.id;
    if (json devices = device_entries(c, host); !devices.empty()) l["devices"] = devices;
    if (!sec.privileged) {
        if (sec.seccomp == "default") l["seccomp"] = default_seccomp_profile(sec.capabilities);
        else if (sec.seccomp == "custom") l["seccomp"] = json::parse(sec.seccomp_profile);
        l["maskedPaths"] = default_masked_paths();
        l["readonlyPaths"] = default_readonly_paths();
    }
    return l;
}

}  // namespace

BundleHost BundleHost::current() {
    BundleHost h;
    h.cgroup2 = find_cgroup2_mount().has_value();
    h.cgroup_parent = cgroup_parent_name();
    ::rlimit nofile{};
    if (::getrlimit(RLIMIT_NOFILE, &nofile) == 0) h.nofile_hard = nofile.rlim_max;
    return h;
}

namespace {

// overlayfs's lowerdir: a layered image's layers, top first, or the rootfs
// of an imported image.
std::string image_lowers(const ContainerConfig& c, const Paths& paths) {
    if (c.image_layers.empty()) return paths.image_rootfs(c.image).string();
    std::string out;
    for (const auto& l : c.image_layers) out += (out.empty() ? "" : ":") + l;
    return out;
}

// --annotation's, then minirt's own (which run refuses as a key).
json annotations_for(const ContainerConfig& c, const Paths& paths) {
    json a = c.annotations;
    a[oci::kOverlayLowerAnnotation] = image_lowers(c, paths);
    a[oci::kOverlayUpperAnnotation] = paths.upper_dir(c.id).string();
    a[oci::kOverlayWorkAnnotation] = paths.work_dir(c.id).string();
    return a;
}

// A CDI device's hooks, as config.json's (the init runs both stages).
json hooks_for(const ContainerConfig& c) {
    json hooks = json::object();
    for (const auto& h : c.hooks) {
        json e{{"path", h.path}};
        if (!h.args.empty()) e["args"] = h.args;
        if (!h.env.empty()) e["env"] = h.env;
        if (h.timeout) e["timeout"] = *h.timeout;
        hooks[h.stage].push_back(e);
    }
    return hooks;
}

}  // namespace

json oci_spec_for(const ContainerConfig& c, const Paths& paths, const BundleHost& host) {
    json spec{
        {"ociVersion", oci::kOciVersion},
        {"process", process_for(c, host)},
        {"root", {{"path", paths.merged_dir(c.id).string()}, {"readonly", c.security.read_only}}},
        {"hostname", c.uts_mode.empty() ? c.hostname : ""},  // the host's (or a peer's) is not ours to set
        {"mounts", mounts_for(c, paths, host)},
        {"linux", linux_for(c, host)},
        {"annotations", annotations_for(c, paths)},
    };
    if (!c.hooks.empty()) spec["hooks"] = hooks_for(c);
    return spec;
}

std::string oci_config_text(const ContainerConfig& c, const Paths& paths) {
    BundleHost host = BundleHost::current();
    if (c.security.privileged) host.devices = privileged_host_devices();
    // Compact, as engines write it: read by a program on every start.
    return oci_spec_for(c, paths, host).dump() + "\n";
}

void prepare_bundle(const Store& store, const std::string& id) {
    const Paths& p = store.paths();
    if (::access(p.config_file(id).c_str(), F_OK) == 0) {
        // Only minirt.json is made durable: a crash can leave config.json
        // empty (or without its name), and the spec is made from it again.
        struct stat st{};
        if (::stat(p.oci_config_file(id).c_str(), &st) == 0 && st.st_size > 0) return;
        write_file_atomic(p.oci_config_file(id), oci_config_text(store.load_config(id), p), 0600);
        return;
    }
    ContainerConfig c = store.load_config(id);  // from the old config.json
    write_file_atomic(p.config_file(id), to_json(c).dump(2) + "\n", 0600);
    write_file_atomic(p.oci_config_file(id), oci_config_text(c, p), 0600);
}

}  // namespace minirt
