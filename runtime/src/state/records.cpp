#include "state/records.hpp"

#include <nlohmann/json.hpp>

#include "common/error.hpp"
#include "common/parse.hpp"

namespace minirt {

using nlohmann::json;

const char* to_string(Status s) {
    switch (s) {
        case Status::Created: return "created";
        case Status::Running: return "running";
        case Status::Paused: return "paused";
        case Status::Stopping: return "stopping";
        case Status::Exited: return "exited";
        case Status::Unknown: break;
    }
    return "unknown";
}

namespace {

Status status_from_string(const std::string& s) {
    for (Status st : {Status::Created, Status::Running, Status::Paused, Status::Stopping, Status::Exited})
        if (s == to_string(st)) return st;
    throw Error("unknown status \"" + s + "\"");
}

int64_t time_field(const json& j, const char* key) {
    if (!j.contains(key) || j[key].is_null()) return 0;
    return parse_time_spec(j[key].get<std::string>(), key);
}

json time_value(int64_t ns) { return ns ? json(format_rfc3339(ns)) : json(nullptr); }

template <typename Fn>
auto parse_record(const std::string& text, const std::filesystem::path& source, Fn&& fn) {
    try {
        json j = json::parse(text);
        if (!j.is_object()) throw Error("not a JSON object");
        return fn(j);
    } catch (const json::exception& e) {
        throw Error("corrupt " + source.string() + ": " + e.what());
    } catch (const Error& e) {
        throw Error("corrupt " + source.string() + ": " + e.message());
    }
}

}  // namespace

json to_json(const ContainerConfig& c) {
    return json{{"schema_version", 1},
                {"id", c.id},
                {"name", c.name},
                {"image", c.image},
                {"created", format_rfc3339(c.created_ns)},
                {"command", c.command},
                {"env", c.env},
                {"workdir", c.workdir},
                {"hostname", c.hostname},
                {"share_ipc", c.share_ipc},
                {"network", c.network},
                {"propagate_mounts", c.propagate_mounts},
                {"auto_remove", c.auto_remove},
                {"tty", c.tty},
                {"interactive", c.interactive},
                {"log_max_size", c.log_max_size},
                {"resources", to_json(c.resources)},
                {"monitor_soft", c.monitor_soft},
                {"monitor_hard", c.monitor_hard},
                {"security", to_json(c.security)}};
}

ContainerConfig config_from_json(const std::string& text, const std::filesystem::path& source) {
    return parse_record(text, source, [](const json& j) {
        ContainerConfig c;
        c.id = j.at("id").get<std::string>();
        if (!is_full_id(c.id)) throw Error("bad id \"" + c.id + "\"");
        c.name = j.at("name").get<std::string>();
        validate_container_name(c.name);
        c.image = j.at("image").get<std::string>();
        validate_image_name(c.image);
        c.created_ns = time_field(j, "created");
        c.command = j.at("command").get<std::vector<std::string>>();
        if (c.command.empty()) throw Error("empty command");
        c.env = j.at("env").get<std::vector<std::string>>();
        c.workdir = j.at("workdir").get<std::string>();
        if (c.workdir.empty() || c.workdir[0] != '/') throw Error("workdir must be absolute");
        c.hostname = j.at("hostname").get<std::string>();
        c.share_ipc = j.value("share_ipc", false);
        c.network = j.value("network", std::string("none"));
        if (c.network != "none" && c.network != "host") throw Error("bad network \"" + c.network + "\"");
        c.propagate_mounts = j.value("propagate_mounts", std::vector<std::string>{});
        c.auto_remove = j.value("auto_remove", false);
        c.tty = j.value("tty", false);
        c.interactive = j.value("interactive", false);
        c.log_max_size = j.value("log_max_size", uint64_t{16} << 20);
        if (j.contains("resources")) c.resources = resources_from_json(j["resources"]);
        c.monitor_soft = j.value("monitor_soft", uint64_t{0});
        c.monitor_hard = j.value("monitor_hard", uint64_t{0});
        // Absent in configs written before it existed: the defaults apply.
        if (j.contains("security")) c.security = with_context("security", [&] { return security_from_json(j["security"]); });
        return c;
    });
}

json to_json(const ContainerState& s) {
    json j{{"schema_version", 1},
           {"id", s.id},
           {"status", to_string(s.status)},
           {"pid", s.pid},
           {"pid_start_time", s.pid_start},
           {"shim_pid", s.shim_pid},
           {"shim_start_time", s.shim_start},
           {"started_at", time_value(s.started_ns)},
           {"finished_at", time_value(s.finished_ns)},
           {"exit_code", s.exit_code ? json(*s.exit_code) : json(nullptr)},
           {"exit_signal", s.exit_signal},
           {"reason", s.reason},
           {"error", s.error},
           {"stop_requested", s.stop_requested},
           {"cgroup", s.cgroup},
           {"restart_count", s.restart_count},
           {"monitor", nullptr}};
    if (!s.summary.empty()) {
        j["name"] = s.summary.name;
        j["image"] = s.summary.image;
        j["command"] = s.summary.command;
        j["created"] = format_rfc3339(s.summary.created_ns);
    }
    if (s.monitor) {
        auto crossing = [](const std::optional<MonitorRecord::Crossing>& c) {
            return c ? json{{"rss", c->rss}, {"limit", c->limit}, {"at", format_rfc3339(c->at_ns)}} : json(nullptr);
        };
        const auto& m = *s.monitor;
        j["monitor"] = {{"backend", m.backend},       {"id", m.id},
                        {"soft_limit", m.soft_limit}, {"hard_limit", m.hard_limit},
                        {"soft_crossed", crossing(m.soft_crossed)}, {"hard_killed", crossing(m.hard_killed)}};
    }
    return j;
}

ContainerState state_from_json(const std::string& text, const std::filesystem::path& source) {
    return parse_record(text, source, [](const json& j) {
        ContainerState s;
        s.id = j.at("id").get<std::string>();
        if (!is_full_id(s.id)) throw Error("bad id \"" + s.id + "\"");
        s.status = status_from_string(j.at("status").get<std::string>());
        s.pid = j.value("pid", 0);
        s.pid_start = j.value("pid_start_time", uint64_t{0});
        s.shim_pid = j.value("shim_pid", 0);
        s.shim_start = j.value("shim_start_time", uint64_t{0});
        if (s.pid < 0 || s.shim_pid < 0) throw Error("negative pid");
        s.started_ns = time_field(j, "started_at");
        s.finished_ns = time_field(j, "finished_at");
        if (j.contains("exit_code") && !j["exit_code"].is_null()) s.exit_code = j["exit_code"].get<int>();
        s.exit_signal = j.value("exit_signal", 0);
        s.reason = j.value("reason", std::string());
        s.error = j.value("error", std::string());
        s.stop_requested = j.value("stop_requested", false);
        s.cgroup = j.value("cgroup", std::string());
        s.restart_count = j.value("restart_count", 0);
        if (j.contains("name")) {
            // Shown by `list`: held to the same rules as in config.json.
            s.summary.name = j.at("name").get<std::string>();
            validate_container_name(s.summary.name);
            s.summary.image = j.at("image").get<std::string>();
            validate_image_name(s.summary.image);
            s.summary.command = j.at("command").get<std::vector<std::string>>();
            if (s.summary.command.empty()) throw Error("empty command");
            s.summary.created_ns = time_field(j, "created");
        }
        if (j.contains("monitor") && !j["monitor"].is_null()) {
            const json& m = j["monitor"];
            MonitorRecord r;
            r.backend = m.value("backend", std::string());
            r.id = m.at("id").get<std::string>();
            r.soft_limit = m.value("soft_limit", uint64_t{0});
            r.hard_limit = m.value("hard_limit", uint64_t{0});
            auto crossing = [](const json& c) -> std::optional<MonitorRecord::Crossing> {
                if (c.is_null()) return std::nullopt;
                return MonitorRecord::Crossing{c.at("rss").get<uint64_t>(), c.at("limit").get<uint64_t>(),
                                               parse_time_spec(c.at("at").get<std::string>(), "at")};
            };
            if (m.contains("soft_crossed")) r.soft_crossed = crossing(m["soft_crossed"]);
            if (m.contains("hard_killed")) r.hard_killed = crossing(m["hard_killed"]);
            s.monitor = r;
        }
        return s;
    });
}

}  // namespace minirt
