// podman's `inspect` shape for the fields scripts read ({{.State.Pid}},
// {{.Config.Env}}, {{.NetworkSettings.IPAddress}}, ...), beside minirt's
// own keys in the same object; docs/cli.md lists the mapping.
#include "cli/inspect_podman.hpp"

#include <algorithm>
#include <cstdio>

#include "common/parse.hpp"
#include "common/ports.hpp"
#include "image/layers.hpp"

namespace minirt::cli {

using nlohmann::json;

namespace {

// Go's time.Time in JSON (RFC 3339, the fraction without trailing zeros);
// the zero time where there is none, as podman prints it.
std::string go_json_time(int64_t ns) {
    if (ns == 0) return "0001-01-01T00:00:00Z";
    std::string s = format_rfc3339(ns);  // ...:SS.NNNNNNNNNZ
    s.pop_back();
    while (s.back() == '0') s.pop_back();
    if (s.back() == '.') s.pop_back();
    return s + "Z";
}

std::string podman_status(const ContainerView& v) {
    switch (v.status) {
        case Status::Creating:
        case Status::Created: return "created";
        case Status::Running: return "running";
        case Status::Paused: return "paused";
        case Status::Stopping: return "stopping";
        case Status::Exited: return "exited";
        default: return "unknown";
    }
}

json state_json(const ContainerView& v, const json& health) {
    bool live = v.status == Status::Running || v.status == Status::Paused;
    const ContainerState* st = v.state ? &*v.state : nullptr;
    json h{{"Status", ""}, {"FailingStreak", 0}, {"Log", nullptr}};
    if (health.is_object()) {
        h["Status"] = health.value("status", "");
        h["FailingStreak"] = health.value("failing_streak", 0);
        json log = json::array();
        auto entries = health.find("log");
        if (entries != health.end() && entries->is_array())
            for (const auto& r : *entries)
            log.push_back({{"Start", r.value("start", "")},
                           {"End", r.value("end", "")},
                           {"ExitCode", r.value("exit_code", 0)},
                           {"Output", r.value("output", "")}});
        h["Log"] = log;
    }
    bool exited = v.status == Status::Exited;
    return json{{"Status", podman_status(v)},
                {"Running", v.status == Status::Running},
                {"Paused", v.status == Status::Paused},
                {"Restarting", v.waiting_to_restart()},
                {"OOMKilled", st && st->reason == "oom-killed"},
                {"Dead", false},
                {"Pid", live ? st->pid : 0},
                {"ConmonPid", live && v.shim_alive ? st->shim_pid : 0},
                {"ExitCode", st && exited && st->exit_code && v.reason != "shim-lost" ? *st->exit_code : 0},
                {"Error", st ? st->error : ""},
                {"StartedAt", go_json_time(st ? st->started_ns : 0)},
                {"FinishedAt", go_json_time(st && exited ? st->finished_ns : 0)},
                {"Health", h},
                {"CgroupPath", st ? st->cgroup : ""}};
}

json config_json(const ContainerConfig& c) {
    std::vector<std::string> entrypoint, cmd = c.command;
    if (c.entrypoint && c.entrypoint->size() <= cmd.size()) {
        entrypoint = *c.entrypoint;
        cmd.erase(cmd.begin(), cmd.begin() + static_cast<long>(entrypoint.size()));
    }
    std::string user;
    if (c.security.uid) user = std::to_string(*c.security.uid) + (c.security.gid ? ":" + std::to_string(*c.security.gid) : "");
    return json{{"Hostname", c.hostname},
                {"Domainname", ""},
                {"User", user},
                {"Env", c.env},
                {"Cmd", cmd},
                {"Entrypoint", entrypoint.empty() ? json("") : json(entrypoint)},
                {"Image", c.image},
                {"WorkingDir", c.workdir},
                {"Labels", c.labels},
                {"Annotations", c.annotations},
                {"Tty", c.tty},
                {"OpenStdin", c.interactive},
                {"StopSignal", c.stop_signal ? c.stop_signal : 15},
                {"StopTimeout", c.stop_timeout},
                {"CreateCommand", c.create_command}};
}

json restart_json(const RestartPolicy& r) {
    // podman's names: "" for none, "on-failure", "always", "unless-stopped".
    std::string name = r.none() ? "" : to_string(r);
    if (auto colon = name.find(':'); colon != std::string::npos) name.resize(colon);
    return json{{"Name", name}, {"MaximumRetryCount", r.max_retries}};
}

json host_config_json(const Paths& paths, const ContainerConfig& c) {
    const Resources& r = c.resources;
    uint64_t memory = r.memory_max.value_or(0);
    json binds = json::array();
    for (const auto& m : c.mounts) {
        if (m.type != "bind" && m.type != "volume") continue;
        std::string opts;
        for (const auto& o : m.options) opts += (opts.empty() ? "" : ",") + o;
        binds.push_back(m.source + ":" + m.destination + (opts.empty() ? "" : ":" + opts));
    }
    json bindings = json::object();
    for (const auto& p : c.ports)
        for (uint16_t i = 0; i < p.range; ++i)
            bindings[std::to_string(p.container_port + i) + "/" + p.protocol].push_back(
                {{"HostIp", p.host_ip}, {"HostPort", p.host_port ? std::to_string(p.host_port + i) : ""}});
    std::string network_mode = c.network == "bridge" ? "bridge" : c.network;
    return json{{"Memory", memory},
                {"MemorySwap", memory ? memory + r.memory_swap_max.value_or(0) : 0},
                {"MemoryReservation", r.memory_low.value_or(0)},
                {"NanoCpus", r.cpu_quota_us ? *r.cpu_quota_us * 1000000000ULL / r.cpu_period_us : 0},
                {"CpuQuota", r.cpu_quota_us.value_or(0)},
                {"CpuPeriod", r.cpu_quota_us ? r.cpu_period_us : 0},
                {"CpusetCpus", r.cpuset_cpus.value_or("")},
                {"PidsLimit", r.pids_max.value_or(0)},
                {"RestartPolicy", restart_json(c.restart)},
                {"AutoRemove", c.auto_remove},
                {"NetworkMode", network_mode},
                {"PidMode", c.pid_mode.empty() ? "private" : c.pid_mode},
                {"IpcMode", c.share_ipc ? "host" : !c.ipc_mode.empty() ? c.ipc_mode : "shareable"},
                {"UTSMode", c.uts_mode.empty() ? "private" : c.uts_mode},
                {"Privileged", c.security.privileged},
                {"ReadonlyRootfs", c.security.read_only},
                {"Binds", binds},
                {"PortBindings", bindings},
                {"LogConfig", {{"Type", "k8s-file"}, {"Path", paths.log_file(c.id).string()}}}};
}

json mounts_json(const Paths& paths, const ContainerConfig& c) {
    json out = json::array();
    for (const auto& m : c.mounts) {
        bool volume = m.type == "volume";
        json options = json::array();
        std::string propagation;
        bool rw = true;
        for (const auto& o : m.options) {
            if (o == "ro") rw = false;
            else if (o == "rw") continue;
            else if (o == "rprivate" || o == "private" || o == "rshared" || o == "shared" || o == "rslave" || o == "slave")
                propagation = o;
            else
                options.push_back(o);
        }
        out.push_back({{"Type", m.type},
                       {"Name", volume ? m.source : ""},
                       {"Source", volume ? paths.volume_data(m.source).string() : m.source},
                       {"Destination", m.destination},
                       {"Driver", volume ? "local" : ""},
                       {"Mode", ""},
                       {"Options", options},
                       {"RW", rw},
                       {"Propagation", propagation}});
    }
    return out;
}

json network_json(const Paths& paths, const ContainerConfig& c, const json& settings) {
    json n{{"IPAddress", ""}, {"IPPrefixLen", 0}, {"Gateway", ""}, {"MacAddress", ""},
           {"Ports", json::object()}, {"SandboxKey", ""}};
    json nets = json::object();
    bool first = true;
    if (settings.is_object()) {
        n["SandboxKey"] = paths.netns_file(c.id).string();
        // In eth0, eth1 order: the first is podman's top-level address.
        std::vector<std::pair<std::string, json>> ordered;
        if (auto nets_in = settings.find("networks"); nets_in != settings.end() && nets_in->is_object())
            for (const auto& [name, e] : nets_in->items()) ordered.emplace_back(name, e);
        std::sort(ordered.begin(), ordered.end(), [](const auto& a, const auto& b) {
            return a.second.value("interface", "") < b.second.value("interface", "");
        });
        for (const auto& [name, e] : ordered) {
            json net{{"NetworkID", name},
                     {"IPAddress", e.value("ip_address", "")},
                     {"IPPrefixLen", e.value("prefix_len", 0)},
                     {"Gateway", e.value("gateway", "")},
                     {"MacAddress", e.value("mac_address", "")},
                     {"Aliases", e.value("aliases", json::array())}};
            if (first) {
                for (const char* k : {"IPAddress", "IPPrefixLen", "Gateway", "MacAddress"}) n[k] = net[k];
                first = false;
            }
            nets[name] = net;
        }
        json ports = json::object();
        auto ports_in = settings.find("ports");
        std::vector<PortRequest> published;
        if (ports_in != settings.end() && ports_in->is_array()) published = ports_from_json(*ports_in);
        for (const auto& p : published)
            for (uint16_t i = 0; i < p.range; ++i)
                ports[std::to_string(p.container_port + i) + "/" + p.protocol].push_back(
                    {{"HostIp", p.host_ip}, {"HostPort", std::to_string(p.host_port + i)}});
        n["Ports"] = ports;
    }
    n["Networks"] = nets;
    return n;
}

}  // namespace

void add_podman_fields(json& j, const Paths& paths, const ContainerView& v, const json& network_settings,
                       const json& health) {
    const ContainerConfig& c = *v.config;
    fs::path dir = paths.state_dir(c.id);
    std::string image_id = digest_hex(c.image_id);
    j["Id"] = c.id;
    j["Name"] = c.name;
    j["Created"] = go_json_time(c.created_ns);
    j["Path"] = c.command.empty() ? "" : c.command[0];
    j["Args"] = c.command.size() > 1 ? json(std::vector<std::string>(c.command.begin() + 1, c.command.end())) : json::array();
    j["Image"] = image_id.empty() ? c.image : image_id;
    j["ImageName"] = c.image;
    j["RestartCount"] = v.state ? v.state->restart_count : 0;
    j["Driver"] = "overlay";
    j["LogPath"] = paths.log_file(c.id).string();
    j["HostnamePath"] = (dir / "hostname").string();
    j["HostsPath"] = c.no_hosts ? "" : (dir / "hosts").string();
    j["ResolvConfPath"] = (dir / "resolv.conf").string();
    j["State"] = state_json(v, health);
    j["Config"] = config_json(c);
    j["HostConfig"] = host_config_json(paths, c);
    j["Mounts"] = mounts_json(paths, c);
    j["NetworkSettings"] = network_json(paths, c, network_settings);
}

const std::set<std::string, std::less<>>& podman_map_fields() {
    static const std::set<std::string, std::less<>> names{"Labels", "Annotations", "Ports", "Networks", "PortBindings",
                                                          "labels", "options"};
    return names;
}

}  // namespace minirt::cli
