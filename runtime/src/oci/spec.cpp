#include "oci/spec.hpp"

#include <linux/mount.h>
#include <sched.h>
#include <sys/mount.h>
#include <sys/personality.h>
#include <sys/stat.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstring>
#include <map>

#include "common/error.hpp"
#include "linux/capabilities.hpp"

namespace minirt::oci {

using nlohmann::json;

namespace {

[[noreturn]] void bad(const std::string& field, const std::string& why) {
    throw Error("config.json: " + field + ": " + why);
}

// Typed getters: absent is fine (nullopt / default), a wrong type is not.
const json* member(const json& obj, const char* key) {
    auto it = obj.find(key);
    if (it == obj.end() || it->is_null()) return nullptr;
    return &*it;
}

std::string get_string(const json& obj, const char* key, const std::string& where, std::string def = {}) {
    const json* v = member(obj, key);
    if (!v) return def;
    if (!v->is_string()) bad(where + "." + key, "must be a string");
    return v->get<std::string>();
}

bool get_bool(const json& obj, const char* key, const std::string& where) {
    const json* v = member(obj, key);
    if (!v) return false;
    if (!v->is_boolean()) bad(where + "." + key, "must be true or false");
    return v->get<bool>();
}

std::optional<int64_t> get_int(const json& obj, const char* key, const std::string& where) {
    const json* v = member(obj, key);
    if (!v) return std::nullopt;
    if (!v->is_number_integer()) bad(where + "." + key, "must be an integer");
    return v->get<int64_t>();
}

std::optional<uint64_t> get_uint(const json& obj, const char* key, const std::string& where) {
    // Above INT64_MAX (RLIM_INFINITY, 2^64-1) json holds it unsigned.
    if (const json* u = member(obj, key); u && u->is_number_unsigned()) return u->get<uint64_t>();
    auto v = get_int(obj, key, where);
    if (!v) return std::nullopt;
    if (*v < 0) bad(where + "." + key, "must not be negative");
    return static_cast<uint64_t>(*v);
}

std::vector<std::string> get_strings(const json& obj, const char* key, const std::string& where) {
    std::vector<std::string> out;
    const json* v = member(obj, key);
    if (!v) return out;
    if (!v->is_array()) bad(where + "." + key, "must be an array of strings");
    for (const auto& s : *v) {
        if (!s.is_string()) bad(where + "." + key, "must be an array of strings");
        out.push_back(s.get<std::string>());
    }
    return out;
}

const json& get_object(const json& obj, const char* key, const std::string& where) {
    static const json empty = json::object();
    const json* v = member(obj, key);
    if (!v) return empty;
    if (!v->is_object()) bad(where + "." + key, "must be an object");
    return *v;
}

const json& get_array(const json& obj, const char* key, const std::string& where) {
    static const json empty = json::array();
    const json* v = member(obj, key);
    if (!v) return empty;
    if (!v->is_array()) bad(where + "." + key, "must be an array");
    return *v;
}

uint32_t get_id(const json& obj, const char* key, const std::string& where) {
    auto v = get_int(obj, key, where);
    if (!v) return 0;
    if (*v < 0 || *v > UINT32_MAX - 1) bad(where + "." + key, "must be a valid id");
    return static_cast<uint32_t>(*v);
}

CapMask caps_of(const json& caps, const char* key, const std::string& where) {
    CapMask mask = 0;
    for (const auto& name : get_strings(caps, key, where)) {
        auto cap = capability_from_name(name);
        // A capability newer than this build cannot be granted by it; the
        // spec says an unknown one is an error, runc warns. Refuse clearly.
        if (!cap) bad(where + "." + key, "unknown capability \"" + name + "\"");
        mask |= CapMask{1} << *cap;
    }
    return mask;
}

std::string lower(std::string s) {
    std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return std::tolower(c); });
    return s;
}

std::vector<RlimitSetting> rlimits_of(const json& process) {
    std::vector<RlimitSetting> out;
    const json& arr = get_array(process, "rlimits", "process");
    for (size_t i = 0; i < arr.size(); ++i) {
        std::string where = "process.rlimits[" + std::to_string(i) + "]";
        const json& r = arr[i];
        if (!r.is_object()) bad(where, "must be an object");
        std::string type = get_string(r, "type", where);
        if (!type.starts_with("RLIMIT_")) bad(where + ".type", "\"" + type + "\" is not an RLIMIT_ name");
        RlimitSetting s;
        s.name = lower(type.substr(7));
        s.resource = rlimit_resource(s.name);
        if (s.resource < 0) bad(where + ".type", "unknown limit \"" + type + "\"");
        auto hard = get_uint(r, "hard", where), soft = get_uint(r, "soft", where);
        if (!hard || !soft) bad(where, "needs both soft and hard");
        // RLIM_INFINITY is 2^64-1, beyond int64: json stores it as unsigned.
        auto value = [&](const char* key) -> int64_t {
            uint64_t v = r.at(key).get<uint64_t>();
            return v >= static_cast<uint64_t>(INT64_MAX) ? kRlimUnlimited : static_cast<int64_t>(v);
        };
        s.soft = value("soft");
        s.hard = value("hard");
        if (s.hard != kRlimUnlimited && (s.soft == kRlimUnlimited || s.soft > s.hard))
            bad(where, "the soft limit is above the hard limit");
        out.push_back(s);
    }
    return out;
}

std::vector<IdMapping> mappings_of(const json& parent, const char* key, const std::string& parent_where = "linux");

Mount mount_of(const json& m, const std::string& where) {
    if (!m.is_object()) bad(where, "must be an object");
    Mount out;
    out.destination = get_string(m, "destination", where);
    if (out.destination.empty() || out.destination[0] != '/')
        bad(where + ".destination", "must be an absolute path, got \"" + out.destination + "\"");
    out.type = get_string(m, "type", where);
    out.source = get_string(m, "source", where);
    parse_mount_options(get_strings(m, "options", where), out);
    if (out.type == "bind") out.bind = true;
    if (out.type.empty() && !out.bind) bad(where + ".type", "is missing (and the options do not say bind)");
    if (out.bind && out.source.empty()) bad(where + ".source", "a bind mount needs a source");
    out.uid_mappings = mappings_of(m, "uidMappings", where);
    out.gid_mappings = mappings_of(m, "gidMappings", where);
    if (out.uid_mappings.empty() != out.gid_mappings.empty())
        bad(where + ".uidMappings", "an idmapped mount needs both uidMappings and gidMappings");
    if (!out.uid_mappings.empty() && !out.idmap) bad(where + ".uidMappings", "id mappings need the idmap option");
    if (out.idmap && !out.bind) bad(where + ".options", "idmap is for bind mounts");
    if (out.tmpcopyup && out.type != "tmpfs") bad(where + ".options", "tmpcopyup is for tmpfs mounts");
    return out;
}

Namespace namespace_of(const json& n, const std::string& where) {
    if (!n.is_object()) bad(where, "must be an object");
    Namespace ns{get_string(n, "type", where), get_string(n, "path", where)};
    if (namespace_flag(ns.type) == 0)
        bad(where + ".type", "unknown namespace type \"" + ns.type + "\"");
    if (!ns.path.empty() && ns.path[0] != '/') bad(where + ".path", "must be absolute");
    return ns;
}

std::vector<IdMapping> mappings_of(const json& parent, const char* key, const std::string& parent_where) {
    std::vector<IdMapping> out;
    const json& arr = get_array(parent, key, parent_where);
    for (size_t i = 0; i < arr.size(); ++i) {
        std::string where = parent_where + "." + key + "[" + std::to_string(i) + "]";
        if (!arr[i].is_object()) bad(where, "must be an object");
        // A size may cover every id (4294967295 from 0: the full range).
        auto size = get_uint(arr[i], "size", where).value_or(0);
        if (size == 0 || size > UINT32_MAX) bad(where + ".size", "must be 1..4294967295");
        IdMapping m{get_id(arr[i], "containerID", where), get_id(arr[i], "hostID", where),
                    static_cast<uint32_t>(size)};
        out.push_back(m);
    }
    return out;
}

Hook hook_of(const json& h, const std::string& where) {
    if (!h.is_object()) bad(where, "must be an object");
    Hook hook{get_string(h, "path", where), get_strings(h, "args", where), get_strings(h, "env", where), {}};
    if (hook.path.empty() || hook.path[0] != '/') bad(where + ".path", "must be an absolute path");
    if (auto t = get_int(h, "timeout", where)) {
        if (*t <= 0) bad(where + ".timeout", "must be greater than zero");
        hook.timeout = static_cast<int>(std::min<int64_t>(*t, INT32_MAX));
    }
    return hook;
}

std::vector<Hook> hooks_of(const json& hooks, const char* key) {
    std::vector<Hook> out;
    const json& arr = get_array(hooks, key, "hooks");
    for (size_t i = 0; i < arr.size(); ++i)
        out.push_back(hook_of(arr[i], std::string("hooks.") + key + "[" + std::to_string(i) + "]"));
    return out;
}

std::string device_number(const json& d, const char* key, const std::string& where) {
    auto v = get_int(d, key, where);
    return v ? std::to_string(*v) : "";
}

void parse_block_io(const json& blkio, Spec& spec) {
    const std::string where = "linux.resources.blockIO";
    // 0 is "not set", as runc reads it (Docker always writes it).
    if (auto w = get_uint(blkio, "weight", where); w && *w != 0) {
        if (*w < 10 || *w > 1000) bad(where + ".weight", "must be 10..1000");
        spec.resources.blkio_weight = *w;
    }
    auto throttles = [&](const char* key, std::vector<IoLimit>* bps, const char* iops_key) {
        const json& arr = get_array(blkio, key, where);
        for (size_t i = 0; i < arr.size(); ++i) {
            std::string w = where + "." + key + "[" + std::to_string(i) + "]";
            if (!arr[i].is_object()) bad(w, "must be an object");
            std::string dev = device_number(arr[i], "major", w) + ":" + device_number(arr[i], "minor", w);
            if (dev.front() == ':' || dev.back() == ':') bad(w, "needs major and minor");
            auto rate = get_uint(arr[i], "rate", w);
            if (!rate) bad(w + ".rate", "is missing");
            if (bps) bps->push_back({dev, *rate});
            else spec.extra_writes.push_back({"io.max", dev + " " + iops_key + "=" + std::to_string(*rate), "io", w});
        }
    };
    throttles("throttleReadBpsDevice", &spec.resources.io_read_bps, nullptr);
    throttles("throttleWriteBpsDevice", &spec.resources.io_write_bps, nullptr);
    throttles("throttleReadIOPSDevice", nullptr, "riops");
    throttles("throttleWriteIOPSDevice", nullptr, "wiops");
}

// A linux.devices entry. The path is checked here, lexically; the init
// resolves it inside the root, so no symlink of the image's leads out.
DeviceNode device_node_of(const json& d, const std::string& where) {
    if (!d.is_object()) bad(where, "must be an object");
    DeviceNode n;
    n.path = get_string(d, "path", where);
    if (auto why = device_path_problem(n.path); !why.empty()) bad(where + ".path", "\"" + n.path + "\" " + why);
    n.path = fs::path(n.path).lexically_normal().string();
    if (n.path.back() == '/') n.path.pop_back();
    std::string type = get_string(d, "type", where);
    if (type != "c" && type != "b" && type != "u" && type != "p") bad(where + ".type", "must be c, b, u or p");
    n.type = type[0];
    // Linux's device numbers: 12 bits of major, 20 of minor.
    auto number = [&](const char* key, int64_t max) -> int64_t {
        auto v = get_int(d, key, where);
        // A fifo has no device number; every other node needs both.
        if (!v && n.type != 'p') bad(where + "." + key, "is missing");
        if (v && (*v < 0 || *v > max)) bad(where + "." + key, "must be 0.." + std::to_string(max));
        return v.value_or(0);
    };
    n.major = number("major", 4095);
    n.minor = number("minor", 1048575);
    // Engines write the permission bits, some with the file type's above
    // them (S_IFCHR | 0666): only the bits below S_IFMT are a mode.
    if (auto mode = get_int(d, "fileMode", where)) {
        if (*mode < 0 || *mode > 0177777) bad(where + ".fileMode", "must be a file mode (0..0177777)");
        n.file_mode = static_cast<uint32_t>(*mode) & 07777;
    }
    n.uid = get_id(d, "uid", where);
    n.gid = get_id(d, "gid", where);
    return n;
}

void parse_devices(const json& arr, Spec& spec) {
    spec.has_device_rules = !arr.empty();
    for (size_t i = 0; i < arr.size(); ++i) {
        std::string where = "linux.resources.devices[" + std::to_string(i) + "]";
        if (!arr[i].is_object()) bad(where, "must be an object");
        DeviceAccessRule r;
        r.allow = get_bool(arr[i], "allow", where);
        std::string type = get_string(arr[i], "type", where, "a");
        if (type != "a" && type != "c" && type != "b") bad(where + ".type", "must be a, c or b");
        r.type = type[0];
        r.major = get_int(arr[i], "major", where).value_or(-1);
        r.minor = get_int(arr[i], "minor", where).value_or(-1);
        r.access = get_string(arr[i], "access", where, "rwm");
        if (r.access.empty() || r.access.find_first_not_of("rwm") != std::string::npos)
            bad(where + ".access", "must be made of r, w and m");
        spec.devices.push_back(r);
    }
}

// unified files minirt has fields for (what `run` writes there for its
// flags) go into those fields: applied in their order, and best effort for
// cpu.weight.nice as with --nice. Anything else is written as given.
bool unified_field(const std::string& file, const std::string& value, Resources& r) {
    if (value.empty() || value.size() > 19 || value.find_first_not_of("-0123456789") != std::string::npos ||
        value.find('-', 1) != std::string::npos)
        return false;
    int64_t v = std::stoll(value);
    if (file == "memory.high" && v > 0) r.memory_high = static_cast<uint64_t>(v);
    else if (file == "memory.swap.max" && v >= 0) r.memory_swap_max = static_cast<uint64_t>(v);
    else if (file == "cpu.weight" && v >= 1 && v <= 10000) r.cpu_weight = static_cast<uint64_t>(v);
    else if (file == "cpu.weight.nice" && v >= -20 && v <= 19) r.nice = static_cast<int>(v);
    else return false;
    return true;
}

}  // namespace

void parse_resources(const json& res, Spec& spec) {
    const std::string where = "linux.resources";
    if (!res.is_object()) bad(where, "must be an object");
    Resources& r = spec.resources;
    const json& memory = get_object(res, "memory", where);
    // As runc reads them: 0 is "not set", -1 is "no limit".
    auto mem_value = [&](const char* key) -> std::optional<int64_t> {
        auto v = get_int(memory, key, where + ".memory");
        if (v && *v < -1) bad(where + ".memory." + key, "must be positive, 0 (not set) or -1 (no limit)");
        if (v && *v == 0) return std::nullopt;
        return v;
    };
    // A limit alone leaves swap as it is, and -1 lifts a limit (runc's
    // reading; minirt's own --mem means no swap, which run writes out).
    r.swap_as_given = true;
    auto mem_limit = mem_value("limit"), swap = mem_value("swap");
    if (mem_limit) r.memory_max = *mem_limit == -1 ? kNoLimit : static_cast<uint64_t>(*mem_limit);
    if ((swap && *swap == -1) || (!swap && mem_limit && *mem_limit == -1)) {
        // -1 for both, or a lifted limit alone, lifts swap's too (runc's reading).
        r.memory_swap_max = kNoLimit;
    } else if (swap) {
        // OCI's swap is memory+swap (cgroup v1's memsw); v2 counts swap alone.
        if (!mem_limit || *mem_limit == -1) bad(where + ".memory.swap", "needs a memory limit");
        if (*swap < *mem_limit) bad(where + ".memory.swap", "must be at least the memory limit");
        r.memory_swap_max = static_cast<uint64_t>(*swap - *mem_limit);
    }
    if (auto low = mem_value("reservation")) r.memory_low = *low == -1 ? kNoLimit : static_cast<uint64_t>(*low);
    // Kernel memory limits have no cgroup v2 file: ignored, as runc does;
    // so are swappiness and disableOOMKiller.

    const json& cpu = get_object(res, "cpu", where);
    // 0 is "not set" for shares, quota, period and the real-time pair.
    if (auto shares = get_uint(cpu, "shares", where + ".cpu"); shares && *shares != 0) {
        if (*shares < 2 || *shares > 262144) bad(where + ".cpu.shares", "must be 2..262144");
        // 1024 is cgroup v1's default share (containerd always sends it):
        // the group's default weight already means exactly that.
        if (*shares != 1024) r.cpu_weight = shares_to_weight(*shares);
    }
    auto quota = get_int(cpu, "quota", where + ".cpu");
    if (auto period = get_uint(cpu, "period", where + ".cpu"); period && *period != 0) {
        if (*period < 1000 || *period > 1000000) bad(where + ".cpu.period", "must be 1000..1000000 µs");
        r.cpu_period_us = *period;
    }
    if (quota && *quota > 0) {
        if (*quota < 1000) bad(where + ".cpu.quota", "must be at least 1000 µs");
        r.cpu_quota_us = static_cast<uint64_t>(*quota);
    } else if (quota && *quota < 0) {
        r.cpu_quota_us = kNoLimit;
    }
    if (get_int(cpu, "realtimeRuntime", where + ".cpu").value_or(0) != 0 ||
        get_uint(cpu, "realtimePeriod", where + ".cpu").value_or(0) != 0)
        bad(where + ".cpu.realtimeRuntime", "real-time bandwidth is not a cgroup v2 setting");
    if (auto idle = get_int(cpu, "idle", where + ".cpu")) {
        if (*idle != 0 && *idle != 1) bad(where + ".cpu.idle", "must be 0 or 1");
        spec.extra_writes.push_back({"cpu.idle", std::to_string(*idle), "cpu", where + ".cpu.idle"});
    }
    if (auto burst = get_uint(cpu, "burst", where + ".cpu"))
        spec.extra_writes.push_back({"cpu.max.burst", std::to_string(*burst), "cpu", where + ".cpu.burst"});
    std::string cpus = get_string(cpu, "cpus", where + ".cpu");
    if (!cpus.empty()) r.cpuset_cpus = cpus;
    std::string mems = get_string(cpu, "mems", where + ".cpu");
    if (!mems.empty()) r.cpuset_mems = mems;

    const json& pids = get_object(res, "pids", where);
    // 0: not set; -1 (or below): no limit.
    if (auto limit = get_int(pids, "limit", where + ".pids"); limit && *limit != 0)
        r.pids_max = *limit < 0 ? kNoLimit : static_cast<uint64_t>(*limit);

    parse_block_io(get_object(res, "blockIO", where), spec);
    parse_devices(get_array(res, "devices", where), spec);

    // rdma: per device, "<device> hca_handle=N hca_object=M".
    for (const auto& [device, limits] : get_object(res, "rdma", where).items()) {
        std::string w = where + ".rdma." + device;
        if (!limits.is_object()) bad(w, "must be an object");
        if (device.empty() || device.find_first_of(" \n=") != std::string::npos) bad(w, "is not a device name");
        std::string line = device;
        if (auto h = get_uint(limits, "hcaHandles", w)) line += " hca_handle=" + std::to_string(*h);
        if (auto o = get_uint(limits, "hcaObjects", w)) line += " hca_object=" + std::to_string(*o);
        if (line != device) spec.extra_writes.push_back({"rdma.max", line, "rdma", w});
    }
    const json& huge = get_array(res, "hugepageLimits", where);
    for (size_t i = 0; i < huge.size(); ++i) {
        std::string w = where + ".hugepageLimits[" + std::to_string(i) + "]";
        if (!huge[i].is_object()) bad(w, "must be an object");
        std::string size = get_string(huge[i], "pageSize", w);
        auto limit = get_uint(huge[i], "limit", w);
        if (size.empty() || size.find_first_of("/.") != std::string::npos || !limit) bad(w, "needs pageSize and limit");
        spec.extra_writes.push_back({"hugetlb." + size + ".max", std::to_string(*limit), "hugetlb", w});
    }
    const json& unified = get_object(res, "unified", where);
    for (const auto& [file, value] : unified.items()) {
        std::string w = where + ".unified." + file;
        auto dot = file.find('.');
        if (file.find('/') != std::string::npos || dot == 0 || dot == std::string::npos)
            bad(w, "is not a cgroup v2 file name");
        if (!value.is_string()) bad(w, "must be a string");
        std::string controller = file.substr(0, dot);
        if (controller == "cgroup") controller.clear();  // core files: no controller needed
        if (unified_field(file, value.get<std::string>(), r)) continue;
        spec.extra_writes.push_back({file, value.get<std::string>(), controller, w});
    }
}

namespace {

void parse_linux(const json& linux, Spec& spec) {
    const json& ns = get_array(linux, "namespaces", "linux");
    for (size_t i = 0; i < ns.size(); ++i) {
        Namespace n = namespace_of(ns[i], "linux.namespaces[" + std::to_string(i) + "]");
        if (spec.has_namespace(n.type)) bad("linux.namespaces", "\"" + n.type + "\" is listed twice");
        spec.namespaces.push_back(n);
    }
    spec.uid_mappings = mappings_of(linux, "uidMappings");
    spec.gid_mappings = mappings_of(linux, "gidMappings");
    const Namespace* user = spec.find_namespace("user");
    if (user && user->path.empty()) {
        if (spec.uid_mappings.empty() || spec.gid_mappings.empty())
            bad("linux.uidMappings", "a new user namespace needs uidMappings and gidMappings");
        with_context("config.json: linux.uidMappings", [&] { validate_id_maps(spec.uid_mappings, "uidMappings"); });
        with_context("config.json: linux.gidMappings", [&] { validate_id_maps(spec.gid_mappings, "gidMappings"); });
    } else if (!spec.uid_mappings.empty() || !spec.gid_mappings.empty()) {
        bad("linux.uidMappings", "id mappings need a new user namespace in linux.namespaces");
    }
    spec.cgroups_path = get_string(linux, "cgroupsPath", "linux");
    if (spec.cgroups_path.find("..") != std::string::npos) bad("linux.cgroupsPath", "must not contain \"..\"");
    if (spec.cgroups_path.find(':') != std::string::npos)
        bad("linux.cgroupsPath", "\"" + spec.cgroups_path + "\" is a systemd slice:unit path; minirt manages cgroupfs paths only");
    parse_resources(get_object(linux, "resources", "linux"), spec);
    if (const json* sc = member(linux, "seccomp")) {
        if (!sc->is_object()) bad("linux.seccomp", "must be an object");
        if (member(*sc, "listenerPath")) bad("linux.seccomp.listenerPath", "seccomp notification is not supported");
        spec.seccomp = *sc;
    }
    spec.masked_paths = get_strings(linux, "maskedPaths", "linux");
    spec.readonly_paths = get_strings(linux, "readonlyPaths", "linux");
    for (const auto& [key, value] : get_object(linux, "sysctl", "linux").items()) {
        if (!value.is_string()) bad("linux.sysctl." + key, "must be a string");
        if (key.empty() || key.find("..") != std::string::npos || key.find('/') != std::string::npos)
            bad("linux.sysctl", "invalid name \"" + key + "\"");
        spec.sysctl.emplace_back(key, value.get<std::string>());
    }
    spec.rootfs_propagation = get_string(linux, "rootfsPropagation", "linux");
    static const std::vector<std::string> props{"", "private", "rprivate", "slave", "rslave", "shared", "rshared", "unbindable", "runbindable"};
    if (std::find(props.begin(), props.end(), spec.rootfs_propagation) == props.end())
        bad("linux.rootfsPropagation", "unknown value \"" + spec.rootfs_propagation + "\"");
    if (member(linux, "intelRdt")) bad("linux.intelRdt", "Intel RDT is not supported");
    const json& personality = get_object(linux, "personality", "linux");
    if (!personality.empty()) {
        std::string domain = get_string(personality, "domain", "linux.personality");
        if (domain == "LINUX") spec.process.personality = PER_LINUX;
        else if (domain == "LINUX32") spec.process.personality = PER_LINUX32;
        else bad("linux.personality.domain", "\"" + domain + "\" is not LINUX or LINUX32");
    }
    const json& devices = get_array(linux, "devices", "linux");
    for (size_t i = 0; i < devices.size(); ++i)
        spec.device_nodes.push_back(device_node_of(devices[i], "linux.devices[" + std::to_string(i) + "]"));
}

}  // namespace

namespace {

bool same_namespace(const std::string& path, const char* own) {
    struct stat a {}, b {};
    if (::stat(path.c_str(), &a) < 0) bad("linux.namespaces", "cannot read " + path + ": " + std::strerror(errno));
    return ::stat(own, &b) == 0 && a.st_dev == b.st_dev && a.st_ino == b.st_ino;
}

}  // namespace

// A sysctl is only written where it touches the container alone: in a
// namespace of its own (runc's rule: the host's is refused, and one that
// no namespace holds, like kernel.printk, always is).
std::string sysctl_namespace(const std::string& key) {
    static const char* const ipc_keys[] = {"kernel.msgmax", "kernel.msgmnb", "kernel.msgmni", "kernel.sem",
                                           "kernel.shmall", "kernel.shmmax", "kernel.shmmni", "kernel.shm_rmid_forced"};
    if (key.starts_with("fs.mqueue.") || std::find(std::begin(ipc_keys), std::end(ipc_keys), key) != std::end(ipc_keys))
        return "ipc";
    if (key.starts_with("net.")) return "network";
    if (key == "kernel.domainname") return "uts";
    if (key.starts_with("user.")) return "user";
    return "";
}

void check_sysctl_namespaces(const Spec& spec) {
    auto own = [&](const char* type, const char* self) {
        const Namespace* n = spec.find_namespace(type);
        return n && (n->path.empty() || !same_namespace(n->path, self));
    };
    for (const auto& [key, value] : spec.sysctl) {
        std::string where = "linux.sysctl." + key;
        std::string ns = sysctl_namespace(key);
        if (key == "kernel.hostname") {
            bad(where, "is not allowed: it conflicts with the \"hostname\" field");
        } else if (ns == "ipc") {
            if (!own("ipc", "/proc/self/ns/ipc")) bad(where, "is not allowed in the host's ipc namespace");
        } else if (ns == "network") {
            if (!own("network", "/proc/self/ns/net")) bad(where, "is not allowed in the host's network namespace");
        } else if (ns == "uts") {
            if (!own("uts", "/proc/self/ns/uts")) bad(where, "is not allowed in the host's uts namespace");
        } else if (ns == "user") {
            if (!spec.has_namespace("user")) bad(where, "needs a user namespace (it would change the host's limits)");
        } else {
            bad(where, "is not in a namespace of the container's own (it would change the host)");
        }
    }
}


int namespace_flag(const std::string& type) {
    static const std::map<std::string, int> flags{
        {"pid", CLONE_NEWPID},   {"network", CLONE_NEWNET}, {"mount", CLONE_NEWNS}, {"ipc", CLONE_NEWIPC},
        {"uts", CLONE_NEWUTS},   {"user", CLONE_NEWUSER},   {"cgroup", CLONE_NEWCGROUP},
    };
    auto it = flags.find(type);
    return it == flags.end() ? 0 : it->second;
}

bool Spec::has_namespace(const std::string& type) const { return find_namespace(type) != nullptr; }

const Namespace* Spec::find_namespace(const std::string& type) const {
    for (const auto& n : namespaces)
        if (n.type == type) return &n;
    return nullptr;
}

uint64_t shares_to_weight(uint64_t shares) { return 1 + ((shares - 2) * 9999) / 262142; }

void validate_container_id(const std::string& id) {
    if (id.empty() || id.size() > 1024 || id == "." || id == ".." ||
        !std::all_of(id.begin(), id.end(), [](unsigned char c) {
            return std::isalnum(c) || c == '_' || c == '+' || c == '-' || c == '.';
        }))
        throw Error("invalid container id \"" + id + "\": use letters, digits and _ + - . only");
}

void parse_mount_options(const std::vector<std::string>& options, Mount& m) {
    struct Flag {
        const char* name;
        bool clear;
        unsigned long flag;
    };
    static const Flag flags[] = {
        {"ro", false, MS_RDONLY},       {"rw", true, MS_RDONLY},        {"nosuid", false, MS_NOSUID},
        {"suid", true, MS_NOSUID},      {"nodev", false, MS_NODEV},     {"dev", true, MS_NODEV},
        {"noexec", false, MS_NOEXEC},   {"exec", true, MS_NOEXEC},      {"sync", false, MS_SYNCHRONOUS},
        {"async", true, MS_SYNCHRONOUS}, {"dirsync", false, MS_DIRSYNC}, {"remount", false, MS_REMOUNT},
        {"mand", false, MS_MANDLOCK},   {"nomand", true, MS_MANDLOCK},  {"atime", true, MS_NOATIME},
        {"noatime", false, MS_NOATIME}, {"diratime", true, MS_NODIRATIME}, {"nodiratime", false, MS_NODIRATIME},
        {"relatime", false, MS_RELATIME}, {"norelatime", true, MS_RELATIME}, {"strictatime", false, MS_STRICTATIME},
        {"nostrictatime", true, MS_STRICTATIME},
    };
    static const std::map<std::string, unsigned long> propagation{
        {"private", MS_PRIVATE},     {"rprivate", MS_PRIVATE | MS_REC},   {"shared", MS_SHARED},
        {"rshared", MS_SHARED | MS_REC}, {"slave", MS_SLAVE},             {"rslave", MS_SLAVE | MS_REC},
        {"unbindable", MS_UNBINDABLE}, {"runbindable", MS_UNBINDABLE | MS_REC},
    };
    std::string data;
    for (const auto& o : options) {
        if (o == "bind" || o == "rbind") {
            m.bind = true;
            m.recursive = m.recursive || o == "rbind";
            continue;
        }
        static const std::map<std::string, uint64_t> recursive{
            {"rro", MOUNT_ATTR_RDONLY}, {"rnosuid", MOUNT_ATTR_NOSUID}, {"rnodev", MOUNT_ATTR_NODEV},
            {"rnoexec", MOUNT_ATTR_NOEXEC}};
        if (auto r = recursive.find(o); r != recursive.end()) {
            m.recursive_attrs |= r->second;
            continue;
        }
        if (auto p = propagation.find(o); p != propagation.end()) {
            m.propagation = p->second;
            continue;
        }
        const Flag* f = std::find_if(std::begin(flags), std::end(flags), [&](const Flag& x) { return o == x.name; });
        if (f != std::end(flags)) {
            if (f->clear) m.flags &= ~f->flag;
            else m.flags |= f->flag;
            continue;
        }
        if (o == "idmap" || o == "ridmap") {
            m.idmap = true;
            continue;
        }
        if (o == "tmpcopyup" || o == "notmpcopyup") {
            m.tmpcopyup = o == "tmpcopyup";
            continue;
        }
        if (o == "defaults") continue;
        data += (data.empty() ? "" : ",") + o;
    }
    m.data = data;
}

namespace {

void parse_scheduler(const json& p, const std::string& where, Process& out) {
    const json& sched = get_object(p, "scheduler", where);
    std::string w = where + ".scheduler";
    if (!sched.empty()) {
        static const std::map<std::string, int> policies{
            {"SCHED_OTHER", SCHED_OTHER}, {"SCHED_BATCH", SCHED_BATCH}, {"SCHED_IDLE", SCHED_IDLE},
            {"SCHED_FIFO", SCHED_FIFO},   {"SCHED_RR", SCHED_RR}};
        std::string policy = get_string(sched, "policy", w);
        auto it = policies.find(policy);
        if (it == policies.end()) bad(w + ".policy", "\"" + policy + "\" is not one of SCHED_OTHER, SCHED_BATCH, SCHED_IDLE, SCHED_FIFO, SCHED_RR");
        out.sched_policy = it->second;
        if (auto nice = get_int(sched, "nice", w)) {
            if (*nice < -20 || *nice > 19) bad(w + ".nice", "must be -20..19");
            out.nice = static_cast<int>(*nice);
        }
        auto prio = get_int(sched, "priority", w).value_or(0);
        bool realtime = it->second == SCHED_FIFO || it->second == SCHED_RR;
        if (realtime ? prio < 1 || prio > 99 : prio != 0)
            bad(w + ".priority", realtime ? "must be 1..99 for a real-time policy" : "must be 0 unless the policy is real-time");
        out.sched_priority = static_cast<int>(prio);
        if (member(sched, "flags") || member(sched, "runtime") || member(sched, "deadline") || member(sched, "period"))
            bad(w, "SCHED_DEADLINE settings (flags, runtime, deadline, period) are not supported");
    }
    const json& affinity = get_object(p, "execCPUAffinity", where);
    if (!get_string(affinity, "initial", where + ".execCPUAffinity").empty())
        bad(where + ".execCPUAffinity.initial", "is not supported (final is)");
    out.cpu_affinity = get_string(affinity, "final", where + ".execCPUAffinity");
    if (!out.cpu_affinity.empty()) parse_cpu_list(out.cpu_affinity, "config.json: " + where + ".execCPUAffinity.final");
}

std::optional<Overlay> overlay_of(const json& annotations) {
    auto get = [&](const char* key) -> std::string {
        const json* v = member(annotations, key);
        if (!v) return {};
        if (!v->is_string()) bad(std::string("annotations.") + key, "must be a string");
        return v->get<std::string>();
    };
    Overlay o{get(kOverlayLowerAnnotation), get(kOverlayUpperAnnotation), get(kOverlayWorkAnnotation)};
    if (o.lower.empty() && o.upper.empty() && o.work.empty()) return std::nullopt;
    for (const auto* dir : {&o.lower, &o.upper, &o.work})
        if (dir->empty() || (*dir)[0] != '/' || dir->find(',') != std::string::npos)
            bad("annotations", "the org.minirt.overlay.* annotations need three absolute paths without commas");
    // The lower may be several, ':' between them (a layered image's, top first).
    for (const auto& l : o.lowers())
        if (l.empty() || l[0] != '/') bad("annotations", "org.minirt.overlay.lowerdir: every lower must be an absolute path");
    return o;
}

}  // namespace

Process parse_process(const json& p, const std::string& where) {
    if (!p.is_object()) bad(where, "must be an object");
    Process out;
    out.terminal = get_bool(p, "terminal", where);
    out.args = get_strings(p, "args", where);
    if (out.args.empty() || out.args[0].empty()) bad(where + ".args", "must name a program to run");
    out.env = get_strings(p, "env", where);
    for (const auto& e : out.env)
        if (e.find('=') == std::string::npos || e[0] == '=') bad(where + ".env", "\"" + e + "\" is not KEY=VALUE");
    out.cwd = get_string(p, "cwd", where, "/");
    if (out.cwd.empty() || out.cwd[0] != '/') bad(where + ".cwd", "must be an absolute path");
    const json& user = get_object(p, "user", where);
    out.uid = get_id(user, "uid", where + ".user");
    out.gid = get_id(user, "gid", where + ".user");
    if (member(user, "username")) bad(where + ".user.username", "user names are not supported; give uid and gid");
    for (const auto& g : get_array(user, "additionalGids", where + ".user")) {
        if (!g.is_number_unsigned()) bad(where + ".user.additionalGids", "must be an array of ids");
        out.additional_gids.push_back(g.get<uint32_t>());
    }
    if (auto umask = get_int(user, "umask", where + ".user")) {
        if (*umask < 0 || *umask > 0777) bad(where + ".user.umask", "must be 0..0777");
        out.umask = static_cast<uint32_t>(*umask);
    }
    const json& caps = get_object(p, "capabilities", where);
    std::string cw = where + ".capabilities";
    // Each set as given, as runc sets them.
    out.caps = {caps_of(caps, "bounding", cw), caps_of(caps, "effective", cw), caps_of(caps, "permitted", cw),
                caps_of(caps, "inheritable", cw), caps_of(caps, "ambient", cw)};
    out.no_new_privileges = get_bool(p, "noNewPrivileges", where);
    out.rlimits = rlimits_of(p);
    if (auto adj = get_int(p, "oomScoreAdj", where)) {
        if (*adj < -1000 || *adj > 1000) bad(where + ".oomScoreAdj", "must be -1000..1000");
        out.oom_score_adj = static_cast<int>(*adj);
    }
    parse_scheduler(p, where, out);
    const json& io = get_object(p, "ioPriority", where);
    if (!io.empty()) {
        // IOPRIO_CLASS_RT, _BE and _IDLE are 1, 2 and 3; a level 0..7.
        static const std::map<std::string, int> classes{
            {"IOPRIO_CLASS_RT", 1}, {"IOPRIO_CLASS_BE", 2}, {"IOPRIO_CLASS_IDLE", 3}};
        std::string cls = get_string(io, "class", where + ".ioPriority");
        auto c = classes.find(cls);
        if (c == classes.end()) bad(where + ".ioPriority.class", "\"" + cls + "\" is not IOPRIO_CLASS_RT, _BE or _IDLE");
        auto level = get_int(io, "priority", where + ".ioPriority").value_or(0);
        if (level < 0 || level > 7) bad(where + ".ioPriority.priority", "must be 0..7");
        out.io_priority = c->second << 13 | static_cast<int>(level);
    }
    if (member(p, "selinuxLabel") && !get_string(p, "selinuxLabel", where).empty())
        bad(where + ".selinuxLabel", "SELinux is not supported");
    out.apparmor_profile = get_string(p, "apparmorProfile", where);
    if (out.apparmor_profile.find_first_of("\n\0", 0, 2) != std::string::npos)
        bad(where + ".apparmorProfile", "is not a profile name");
    return out;
}

Spec parse_spec(const std::string& text, const fs::path& bundle) {
    json j;
    try {
        j = json::parse(text);
    } catch (const json::exception& e) {
        throw Error("config.json: not valid JSON: " + std::string(e.what()));
    }
    if (!j.is_object()) bad("(top level)", "must be an object");
    Spec spec;
    spec.oci_version = get_string(j, "ociVersion", "(top level)");
    if (!spec.oci_version.starts_with("1.")) bad("ociVersion", "\"" + spec.oci_version + "\" is not a 1.x version");
    const json* process = member(j, "process");
    if (!process) bad("process", "is missing (this runtime starts a process)");
    spec.process = parse_process(*process, "process");
    const json& root = get_object(j, "root", "(top level)");
    std::string root_path = get_string(root, "path", "root");
    if (root_path.empty()) bad("root.path", "is missing");
    spec.root = fs::path(root_path).is_absolute() ? fs::path(root_path) : bundle / root_path;
    spec.root_readonly = get_bool(root, "readonly", "root");
    spec.hostname = get_string(j, "hostname", "(top level)");
    const json& mounts = get_array(j, "mounts", "(top level)");
    for (size_t i = 0; i < mounts.size(); ++i) spec.mounts.push_back(mount_of(mounts[i], "mounts[" + std::to_string(i) + "]"));
    parse_linux(get_object(j, "linux", "(top level)"), spec);
    if (!spec.hostname.empty() && !spec.has_namespace("uts"))
        bad("hostname", "setting a hostname needs a new uts namespace");
    const json& hooks = get_object(j, "hooks", "(top level)");
    spec.hooks.prestart = hooks_of(hooks, "prestart");
    spec.hooks.create_runtime = hooks_of(hooks, "createRuntime");
    spec.hooks.create_container = hooks_of(hooks, "createContainer");
    spec.hooks.start_container = hooks_of(hooks, "startContainer");
    spec.hooks.poststart = hooks_of(hooks, "poststart");
    spec.hooks.poststop = hooks_of(hooks, "poststop");
    spec.annotations = get_object(j, "annotations", "(top level)");
    spec.overlay = overlay_of(spec.annotations);
    if (!spec.has_namespace("mount")) {
        // Without one, the mounts are made in the caller's, as runc makes
        // them; what would hide or freeze the host's own paths is refused.
        if (!spec.masked_paths.empty() || !spec.readonly_paths.empty())
            bad("linux.maskedPaths", "masked and read-only paths need a new mount namespace in linux.namespaces");
        if (spec.root_readonly) bad("root.readonly", "a read-only root needs a new mount namespace in linux.namespaces");
        if (!spec.mounts.empty() && spec.root.lexically_normal() == "/")
            bad("root.path", "is the host's /: mounts without a mount namespace would cover the host's own");
        // They would be made in the bundle's own directory, on the host.
        if (!spec.device_nodes.empty())
            bad("linux.devices", "device nodes need a new mount namespace in linux.namespaces");
        if (spec.overlay) bad("annotations", "an overlay root needs a new mount namespace in linux.namespaces");
    }
    return spec;
}

json rootless_spec(json spec, uint32_t uid, uint32_t gid) {
    json namespaces = json::array();
    for (const auto& n : spec["linux"]["namespaces"])
        if (n["type"] != "network" && n["type"] != "user") namespaces.push_back(n);
    namespaces.push_back({{"type", "user"}});
    spec["linux"]["namespaces"] = namespaces;
    spec["linux"]["uidMappings"] = json::array({{{"containerID", 0}, {"hostID", uid}, {"size", 1}}});
    spec["linux"]["gidMappings"] = json::array({{{"containerID", 0}, {"hostID", gid}, {"size", 1}}});
    json mounts = json::array();
    for (json m : spec["mounts"]) {
        if (m["destination"] == "/sys") {
            mounts.push_back({{"destination", "/sys"}, {"type", "none"}, {"source", "/sys"},
                              {"options", {"rbind", "nosuid", "noexec", "nodev", "ro"}}});
            continue;
        }
        json options = json::array();
        for (const auto& o : m.value("options", json::array()))
            if (!o.get<std::string>().starts_with("uid=") && !o.get<std::string>().starts_with("gid=")) options.push_back(o);
        m["options"] = options;
        mounts.push_back(m);
    }
    spec["mounts"] = mounts;
    spec["linux"].erase("resources");
    return spec;
}

json default_spec(bool terminal) {
    json caps = json::array();
    for (const auto& c : capability_names(default_capabilities())) caps.push_back(c);
    auto mount = [](const char* dest, const char* type, const char* src, std::vector<std::string> opts) {
        return json{{"destination", dest}, {"type", type}, {"source", src}, {"options", opts}};
    };
    json masked = json::array(), readonly = json::array(), namespaces = json::array();
    for (const char* ns : {"pid", "network", "ipc", "uts", "mount", "cgroup"}) namespaces.push_back(json{{"type", ns}});
    for (const auto& p : default_masked_paths()) masked.push_back(p);
    for (const auto& p : default_readonly_paths()) readonly.push_back(p);
    return json{
        {"ociVersion", kOciVersion},
        {"process",
         {{"terminal", terminal},
          {"user", {{"uid", 0}, {"gid", 0}}},
          {"args", json::array({"sh"})},
          {"env", {"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "TERM=xterm"}},
          {"cwd", "/"},
          {"capabilities", {{"bounding", caps}, {"effective", caps}, {"permitted", caps}}},
          {"rlimits", json::array({json{{"type", "RLIMIT_NOFILE"}, {"hard", 1024}, {"soft", 1024}}})},
          {"noNewPrivileges", true}}},
        {"root", {{"path", "rootfs"}, {"readonly", true}}},
        {"hostname", "minirt"},
        {"mounts",
         {mount("/proc", "proc", "proc", {}),
          mount("/dev", "tmpfs", "tmpfs", {"nosuid", "strictatime", "mode=755", "size=65536k"}),
          mount("/dev/pts", "devpts", "devpts", {"nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620", "gid=5"}),
          mount("/dev/shm", "tmpfs", "shm", {"nosuid", "noexec", "nodev", "mode=1777", "size=65536k"}),
          mount("/dev/mqueue", "mqueue", "mqueue", {"nosuid", "noexec", "nodev"}),
          mount("/sys", "sysfs", "sysfs", {"nosuid", "noexec", "nodev", "ro"}),
          mount("/sys/fs/cgroup", "cgroup", "cgroup", {"nosuid", "noexec", "nodev", "relatime", "ro"})}},
        {"linux",
         {{"resources", {{"devices", json::array({json{{"allow", false}, {"access", "rwm"}}})}}},
          {"namespaces", namespaces},
          {"maskedPaths", masked},
          {"readonlyPaths", readonly}}},
    };
}

}  // namespace minirt::oci
