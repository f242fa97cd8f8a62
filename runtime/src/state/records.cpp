#include "state/records.hpp"

#include <algorithm>
#include <set>
#include <string_view>

#include <nlohmann/json.hpp>

#include "common/json_number.hpp"

#include "common/error.hpp"
#include "common/parse.hpp"

namespace minirt {

using nlohmann::json;

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

// A reader of state.json for the common case, without building a DOM (list
// reads one per container; nlohmann's parse was half its time). It accepts
// only what it is sure nlohmann would read the same way: any doubt (escapes
// other than the plain ones, non-ASCII bytes, fractions or exponents, a type
// other than the expected one, a field failing its check) returns nullopt,
// and the caller parses with nlohmann, which then reports the same errors as
// ever.
// Commands write, freeze and kill the recorded group: it must be one
// named after the container (an absolute path ending in its id), never a
// group of the host's that an edited file points at.
bool plausible_cgroup(const ContainerState& s) {
    if (s.cgroup.empty()) return true;
    std::filesystem::path p(s.cgroup);
    return p.is_absolute() && p.filename() == s.id && s.cgroup.find("/..") == std::string::npos;
}

class FastStateReader {
public:
    explicit FastStateReader(std::string_view text) : p_(text.data()), end_(text.data() + text.size()) {}

    std::optional<ContainerState> read() {
        ContainerState s;
        bool have_id = false, have_status = false, have_name = false, have_image = false, have_command = false;
        std::string status;
        int64_t created = 0;
        if (!object([&](std::string_view key) -> bool {
                if (key == "id") return have_id = string(s.id);
                if (key == "status") return have_status = string(status);
                if (key == "pid") return integer(s.pid);
                if (key == "pid_start_time") return unsigned_integer(s.pid_start);
                if (key == "shim_pid") return integer(s.shim_pid);
                if (key == "shim_start_time") return unsigned_integer(s.shim_start);
                if (key == "started_at") return time(s.started_ns, "started_at");
                if (key == "finished_at") return time(s.finished_ns, "finished_at");
                if (key == "exit_code") return optional_integer(s.exit_code);
                if (key == "exit_signal") return integer(s.exit_signal);
                if (key == "reason") return string(s.reason);
                if (key == "error") return string(s.error);
                if (key == "stop_requested") return boolean(s.stop_requested);
                if (key == "cgroup") return string(s.cgroup);
                if (key == "ports") return string(s.ports);
                if (key == "restart_count") return integer(s.restart_count) && s.restart_count >= 0;
                if (key == "restarting") return boolean(s.restarting);
                if (key == "runs") return runs(s.runs);
                if (key == "log_dropped_lines") return unsigned_integer(s.log_dropped_lines);
                if (key == "log_dropped_bytes") return unsigned_integer(s.log_dropped_bytes);
                if (key == "name") return have_name = string(s.summary.name);
                if (key == "image") return have_image = string(s.summary.image);
                if (key == "command") return have_command = strings(s.summary.command);
                if (key == "created") return time(created, "created");
                if (key == "healthcheck") return boolean(s.summary.healthcheck);
                if (key == "monitor") return monitor(s.monitor);
                return skip_value();
            }))
            return std::nullopt;
        skip_ws();
        if (p_ != end_) return std::nullopt;
        if (!have_id || !have_status || !is_full_id(s.id)) return std::nullopt;
        bool known = false;
        for (Status st : {Status::Created, Status::Running, Status::Paused, Status::Stopping, Status::Exited})
            if (status == to_string(st)) s.status = st, known = true;
        if (!known || s.pid < 0 || s.shim_pid < 0 || !plausible_cgroup(s)) return std::nullopt;
        if (have_name) {
            if (!have_image || !have_command || s.summary.command.empty()) return std::nullopt;
            try {
                validate_container_name(s.summary.name);
                validate_image_ref(s.summary.image);
            } catch (const Error&) {
                return std::nullopt;
            }
            s.summary.created_ns = created;
        } else {
            s.summary = {};
        }
        return s;
    }

private:
    const char* p_;
    const char* end_;

    void skip_ws() {
        while (p_ != end_ && (*p_ == ' ' || *p_ == '\n' || *p_ == '\t' || *p_ == '\r')) ++p_;
    }
    bool eat(char c) {
        skip_ws();
        if (p_ == end_ || *p_ != c) return false;
        ++p_;
        return true;
    }
    bool literal(std::string_view word) {
        skip_ws();
        if (static_cast<size_t>(end_ - p_) < word.size() || std::string_view(p_, word.size()) != word) return false;
        p_ += word.size();
        return true;
    }
    bool null() {
        skip_ws();
        return p_ != end_ && *p_ == 'n' && literal("null");
    }
    bool boolean(bool& out) {
        if (literal("true")) return out = true, true;
        if (literal("false")) return out = false, true;
        return false;
    }
    // Appends the string's contents to `out` (cleared first).
    bool string(std::string& out) {
        out.clear();
        if (!eat('"')) return false;
        for (;;) {
            const char* start = p_;
            while (p_ != end_ && *p_ != '"' && *p_ != '\\' && static_cast<unsigned char>(*p_) >= 0x20 &&
                   static_cast<unsigned char>(*p_) < 0x80)
                ++p_;
            out.append(start, p_);
            if (p_ == end_) return false;
            if (*p_ == '"') {
                ++p_;
                return true;
            }
            if (*p_ != '\\' || ++p_ == end_) return false;  // control or non-ASCII byte: nlohmann decides
            switch (*p_++) {
                case '"': out += '"'; break;
                case '\\': out += '\\'; break;
                case '/': out += '/'; break;
                case 'b': out += '\b'; break;
                case 'f': out += '\f'; break;
                case 'n': out += '\n'; break;
                case 'r': out += '\r'; break;
                case 't': out += '\t'; break;
                default: return false;  // \u and anything else
            }
        }
    }
    // A plain integer (no fraction, no exponent) that fits in 18 digits.
    bool number(bool& negative, uint64_t& value) {
        skip_ws();
        negative = p_ != end_ && *p_ == '-';
        if (negative) ++p_;
        const char* start = p_;
        value = 0;
        while (p_ != end_ && *p_ >= '0' && *p_ <= '9') value = value * 10 + static_cast<uint64_t>(*p_++ - '0');
        size_t digits = static_cast<size_t>(p_ - start);
        if (digits == 0 || digits > 18 || (digits > 1 && *start == '0')) return false;
        if (p_ != end_ && (*p_ == '.' || *p_ == 'e' || *p_ == 'E')) return false;
        return !(negative && value == 0);  // -0 is a float to nlohmann? leave it to it
    }
    bool integer(int& out) {
        bool negative;
        uint64_t v;
        if (!number(negative, v) || v > 0x7fffffff) return false;
        out = negative ? -static_cast<int>(v) : static_cast<int>(v);
        return true;
    }
    bool unsigned_integer(uint64_t& out) {
        bool negative;
        return number(negative, out) && !negative;
    }
    bool time(int64_t& out, const char* what) {
        if (null()) return out = 0, true;
        std::string text;
        if (!string(text)) return false;
        try {
            out = parse_time_spec(text, what);
        } catch (const Error&) {
            return false;
        }
        return true;
    }
    bool strings(std::vector<std::string>& out) {
        out.clear();
        if (!eat('[')) return false;
        if (eat(']')) return true;
        do {
            if (!string(out.emplace_back())) return false;
        } while (eat(','));
        return eat(']');
    }
    bool optional_integer(std::optional<int>& out) {
        if (null()) return out.reset(), true;
        int v;
        if (!integer(v)) return false;
        out = v;
        return true;
    }
    bool runs(std::vector<ContainerState::Run>& out) {
        out.clear();
        if (!eat('[')) return false;
        if (eat(']')) return true;
        do {
            ContainerState::Run& r = out.emplace_back();
            if (!object([&](std::string_view key) -> bool {
                    if (key == "started_at") return time(r.started_ns, "started_at");
                    if (key == "finished_at") return time(r.finished_ns, "finished_at");
                    if (key == "exit_code") return optional_integer(r.exit_code);
                    if (key == "reason") return string(r.reason);
                    return skip_value();
                }))
                return false;
        } while (eat(','));
        return eat(']');
    }
    bool crossing(std::optional<MonitorRecord::Crossing>& out) {
        if (null()) return out.reset(), true;
        MonitorRecord::Crossing c;
        bool rss = false, limit = false, at = false;
        if (!object([&](std::string_view key) -> bool {
                if (key == "rss") return rss = unsigned_integer(c.rss);
                if (key == "limit") return limit = unsigned_integer(c.limit);
                if (key == "at") {
                    std::string text;
                    if (!string(text)) return false;
                    try {
                        c.at_ns = parse_time_spec(text, "at");
                    } catch (const Error&) {
                        return false;
                    }
                    return at = true;
                }
                return skip_value();
            }))
            return false;
        if (!rss || !limit || !at) return false;
        out = c;
        return true;
    }
    bool monitor(std::optional<MonitorRecord>& out) {
        if (null()) return out.reset(), true;
        MonitorRecord m;
        bool id = false;
        if (!object([&](std::string_view key) -> bool {
                if (key == "backend") return string(m.backend);
                if (key == "id") return id = string(m.id);
                if (key == "soft_limit") return unsigned_integer(m.soft_limit);
                if (key == "hard_limit") return unsigned_integer(m.hard_limit);
                if (key == "soft_crossed") return crossing(m.soft_crossed);
                if (key == "hard_killed") return crossing(m.hard_killed);
                return skip_value();
            }))
            return false;
        if (!id) return false;
        out = std::move(m);
        return true;
    }
    // Calls field(key) with the reader at each member's value.
    template <typename Fn>
    bool object(Fn&& field) {
        if (!eat('{')) return false;
        if (eat('}')) return true;
        std::string key;
        do {
            if (!string(key) || !eat(':') || !field(std::string_view(key))) return false;
        } while (eat(','));
        return eat('}');
    }
    bool skip_value(int depth = 0) {
        if (depth > 32) return false;
        skip_ws();
        if (p_ == end_) return false;
        switch (*p_) {
            case '"': {
                std::string ignored;
                return string(ignored);
            }
            case '{':
                return object([&](std::string_view) { return skip_value(depth + 1); });
            case '[':
                ++p_;
                if (eat(']')) return true;
                do {
                    if (!skip_value(depth + 1)) return false;
                } while (eat(','));
                return eat(']');
            case 't': return literal("true");
            case 'f': return literal("false");
            case 'n': return literal("null");
            default: {
                bool negative;
                uint64_t v;
                return number(negative, v);
            }
        }
    }
};

}  // namespace

namespace {

json mounts_json(const std::vector<MountRequest>& mounts) {
    json a = json::array();
    for (const auto& m : mounts) {
        json j{{"type", m.type}, {"source", m.source}, {"destination", m.destination}, {"options", m.options}};
        if (!m.volume_options.empty()) j["volume_options"] = m.volume_options;
        if (!m.volume_labels.empty()) j["volume_labels"] = m.volume_labels;
        a.push_back(j);
    }
    return a;
}

std::vector<MountRequest> mounts_from_json(const json& a) {
    std::vector<MountRequest> out;
    for (const auto& j : a) {
        MountRequest m;
        m.type = j.at("type").get<std::string>();
        m.source = j.value("source", std::string());
        m.destination = j.at("destination").get<std::string>();
        m.options = j.value("options", std::vector<std::string>{});
        m.volume_options = j.value("volume_options", std::map<std::string, std::string>{});
        m.volume_labels = j.value("volume_labels", std::map<std::string, std::string>{});
        if (m.type != "bind" && m.type != "volume" && m.type != "tmpfs" && m.type != "devpts")
            throw Error("bad type \"" + m.type + "\"");
        if (m.type == "volume") validate_volume_name(m.source);
        if (m.destination.empty() || m.destination[0] != '/') throw Error("destination must be absolute");
        if (m.type == "bind" && (m.source.empty() || m.source[0] != '/')) throw Error("a bind's source must be absolute");
        out.push_back(std::move(m));
    }
    return out;
}

json devices_json(const std::vector<DeviceRequest>& devices) {
    json a = json::array();
    for (const auto& d : devices)
        a.push_back({{"path_on_host", d.host},
                     {"path_in_container", d.node.path},
                     {"cgroup_permissions", d.permissions},
                     {"type", std::string(1, d.node.type)},
                     {"major", d.node.major},
                     {"minor", d.node.minor},
                     {"file_mode", d.node.file_mode}});
    return a;
}

std::vector<DeviceRequest> devices_from_json(const json& a) {
    std::vector<DeviceRequest> out;
    for (const auto& j : a) {
        DeviceRequest d;
        d.host = j.at("path_on_host").get<std::string>();
        d.node.path = j.at("path_in_container").get<std::string>();
        d.permissions = j.at("cgroup_permissions").get<std::string>();
        std::string type = j.at("type").get<std::string>();
        d.node.major = json_integer<int64_t>(j.at("major"), "major");
        d.node.minor = json_integer<int64_t>(j.at("minor"), "minor");
        d.node.file_mode = json_integer<uint32_t>(j.at("file_mode"), "file_mode");
        // Held to the flag's rules: the spec is made from this record again.
        if (type != "c" && type != "b") throw Error("bad device type \"" + type + "\"");
        d.node.type = type[0];
        if (d.host.empty() || d.host[0] != '/') throw Error("a device's host path must be absolute");
        if (auto why = device_path_problem(d.node.path); !why.empty()) throw Error("device path " + why);
        if (d.permissions.empty() || d.permissions.find_first_not_of("rwm") != std::string::npos)
            throw Error("bad device permissions \"" + d.permissions + "\"");
        if (d.node.major < 0 || d.node.minor < 0 || d.node.file_mode > 07777) throw Error("bad device numbers or mode");
        out.push_back(std::move(d));
    }
    return out;
}

json networks_json(const std::vector<NetworkRequest>& nets) {
    json a = json::array();
    for (const auto& n : nets) a.push_back({{"name", n.name}, {"ip", n.ip}, {"mac", n.mac}, {"aliases", n.aliases}});
    return a;
}

std::vector<NetworkRequest> networks_from_json(const json& a) {
    std::vector<NetworkRequest> out;
    for (const auto& j : a) {
        NetworkRequest n;
        n.name = j.at("name").get<std::string>();
        validate_network_name(n.name);
        n.ip = j.value("ip", std::string());
        n.mac = j.value("mac", std::string());
        n.aliases = j.value("aliases", std::vector<std::string>{});
        out.push_back(std::move(n));
    }
    return out;
}

bool is_peer_mode(const std::string& m) { return m.starts_with("container:") && is_full_id(m.substr(10)); }

bool valid_network_mode(const std::string& m) {
    if (m == "none" || m == "host" || m == "bridge") return true;
    if (m.starts_with("container:")) return is_peer_mode(m);
    return m.starts_with("ns:/");
}

}  // namespace

std::vector<std::string> ContainerConfig::namespace_peers() const {
    std::vector<std::string> peers;
    for (const std::string* m : {&network, &pid_mode, &ipc_mode, &uts_mode})
        if (m->starts_with("container:") && std::find(peers.begin(), peers.end(), m->substr(10)) == peers.end())
            peers.push_back(m->substr(10));
    return peers;
}

json ports_json(const std::vector<PortRequest>& ports) {
    json a = json::array();
    for (const auto& p : ports)
        a.push_back({{"host_ip", p.host_ip},
                     {"host_port", p.host_port},
                     {"container_port", p.container_port},
                     {"range", p.range},
                     {"protocol", p.protocol}});
    return a;
}

std::vector<PortRequest> ports_from_json(const json& a) {
    std::vector<PortRequest> out;
    for (const auto& j : a) {
        PortRequest p;
        p.host_ip = j.value("host_ip", std::string());
        p.host_port = json_integer<uint16_t>(j.at("host_port"), "host_port");
        p.container_port = json_integer<uint16_t>(j.at("container_port"), "container_port");
        p.range = json_integer<uint16_t>(j.at("range"), "range");
        p.protocol = j.at("protocol").get<std::string>();
        if (p.protocol != "tcp" && p.protocol != "udp") throw Error("bad protocol \"" + p.protocol + "\"");
        if (p.container_port == 0 || p.range == 0 || p.container_port + p.range - 1 > 65535 ||
            (p.host_port && p.host_port + p.range - 1 > 65535))
            throw Error("bad port range");
        out.push_back(std::move(p));
    }
    return out;
}

json to_json(const ContainerConfig& c) {
    json j{{"schema_version", 1},
                {"id", c.id},
                {"name", c.name},
                {"image", c.image},
                {"created", format_rfc3339(c.created_ns)},
                {"command", c.command},
                {"env", c.env},
                {"workdir", c.workdir},
                {"hostname", c.hostname},
                {"share_ipc", c.share_ipc},
                {"cgroupns", c.cgroupns},
                {"network", c.network},
                {"networks", networks_json(c.networks)},
                {"ports", ports_json(c.ports)},
                {"dns", {{"servers", c.dns_servers}, {"search", c.dns_search}, {"options", c.dns_options}}},
                {"add_hosts", c.add_hosts},
                {"no_hosts", c.no_hosts},
                {"propagate_mounts", c.propagate_mounts},
                {"mounts", mounts_json(c.mounts)},
                {"devices", devices_json(c.devices)},
                {"device_cgroup_rules", c.device_cgroup_rules},
                {"auto_remove", c.auto_remove},
                {"tty", c.tty},
                {"interactive", c.interactive},
                {"log_max_size", c.log_max_size},
                {"resources", to_json(c.resources)},
                {"monitor_soft", c.monitor_soft},
                {"monitor_hard", c.monitor_hard},
                {"security", to_json(c.security)}};
    if (c.stop_signal != 0) j["stop_signal"] = c.stop_signal;
    if (!c.restart.none()) j["restart"] = to_string(c.restart);
    if (c.stop_timeout != 10) j["stop_timeout"] = c.stop_timeout;
    if (!c.labels.empty()) j["labels"] = c.labels;
    if (!c.annotations.empty()) j["annotations"] = c.annotations;
    if (!c.sysctls.empty()) j["sysctls"] = c.sysctls;
    if (c.shm_size) j["shm_size"] = c.shm_size;
    if (c.oom_score_adj) j["oom_score_adj"] = *c.oom_score_adj;
    if (!c.group_add.empty()) j["group_add"] = c.group_add;
    if (!c.init_path.empty()) j["init_path"] = c.init_path;
    if (!c.pid_mode.empty()) j["pid_mode"] = c.pid_mode;
    if (!c.uts_mode.empty()) j["uts_mode"] = c.uts_mode;
    if (!c.ipc_mode.empty()) j["ipc_mode"] = c.ipc_mode;
    if (!c.cdi_devices.empty()) j["cdi_devices"] = c.cdi_devices;
    if (!c.trace_file.empty()) j["trace"] = {{"file", c.trace_file}, {"events", c.trace_events}, {"format", c.trace_format}};
    if (!c.hooks.empty()) {
        json hooks = json::array();
        for (const auto& h : c.hooks) {
            json e{{"stage", h.stage}, {"path", h.path}, {"args", h.args}, {"env", h.env}};
            if (h.timeout) e["timeout"] = *h.timeout;
            hooks.push_back(e);
        }
        j["hooks"] = hooks;
    }
    if (c.healthcheck) j["healthcheck"] = to_json(*c.healthcheck);
    if (!c.create_command.empty()) j["create_command"] = c.create_command;
    if (c.entrypoint) j["entrypoint"] = *c.entrypoint;
    if (!c.image_id.empty()) {
        j["image_id"] = c.image_id;
        j["image_layers"] = c.image_layers;
    }
    return j;
}

ContainerConfig config_from_json(const std::string& text, const std::filesystem::path& source) {
    return parse_record(text, source, [](const json& j) {
        ContainerConfig c;
        c.id = j.at("id").get<std::string>();
        if (!is_full_id(c.id)) throw Error("bad id \"" + c.id + "\"");
        c.name = j.at("name").get<std::string>();
        validate_container_name(c.name);
        c.image = j.at("image").get<std::string>();
        validate_image_ref(c.image);
        c.image_id = j.value("image_id", std::string());
        c.image_layers = j.value("image_layers", std::vector<std::string>{});
        for (const auto& l : c.image_layers)
            if (l.empty() || l[0] != '/' || l.find_first_of(":,") != std::string::npos) throw Error("bad image layer " + quote_for_message(l));
        c.created_ns = time_field(j, "created");
        c.command = j.at("command").get<std::vector<std::string>>();
        if (c.command.empty()) throw Error("empty command");
        c.env = j.at("env").get<std::vector<std::string>>();
        c.workdir = j.at("workdir").get<std::string>();
        if (c.workdir.empty() || c.workdir[0] != '/') throw Error("workdir must be absolute");
        c.hostname = j.at("hostname").get<std::string>();
        c.share_ipc = j.value("share_ipc", false);
        // Containers made before the field ran in the host's.
        c.cgroupns = j.value("cgroupns", std::string("host"));
        if (c.cgroupns != "private" && c.cgroupns != "host") throw Error("bad cgroupns \"" + c.cgroupns + "\"");
        c.network = j.value("network", std::string("none"));
        if (!valid_network_mode(c.network)) throw Error("bad network \"" + c.network + "\"");
        // All absent in configs written before networks existed: none.
        if (j.contains("networks")) c.networks = with_context("networks", [&] { return networks_from_json(j["networks"]); });
        if (j.contains("ports")) c.ports = with_context("ports", [&] { return ports_from_json(j["ports"]); });
        if ((c.network == "bridge") == c.networks.empty()) throw Error("network \"bridge\" goes with networks, and only it");
        if (j.contains("dns")) {
            const json& d = j["dns"];
            c.dns_servers = d.value("servers", std::vector<std::string>{});
            c.dns_search = d.value("search", std::vector<std::string>{});
            c.dns_options = d.value("options", std::vector<std::string>{});
        }
        c.add_hosts = j.value("add_hosts", std::vector<std::string>{});
        c.no_hosts = j.value("no_hosts", false);
        c.propagate_mounts = j.value("propagate_mounts", std::vector<std::string>{});
        if (j.contains("mounts")) c.mounts = with_context("mounts", [&] { return mounts_from_json(j["mounts"]); });
        // Both absent in configs written before they existed: none.
        if (j.contains("devices")) c.devices = with_context("devices", [&] { return devices_from_json(j["devices"]); });
        c.device_cgroup_rules = j.value("device_cgroup_rules", std::vector<std::string>{});
        for (const auto& r : c.device_cgroup_rules) parse_device_cgroup_rule(r);
        c.auto_remove = j.value("auto_remove", false);
        c.stop_signal = j.value("stop_signal", 0);
        if (j.contains("restart")) c.restart = parse_restart_policy(j["restart"].get<std::string>(), "restart");
        c.stop_timeout = json_integer_or<int>(j, "stop_timeout", 10);
        if (c.stop_timeout < 0) throw Error("negative stop_timeout");
        c.labels = j.value("labels", std::map<std::string, std::string>{});
        c.annotations = j.value("annotations", std::map<std::string, std::string>{});
        c.sysctls = j.value("sysctls", std::map<std::string, std::string>{});
        c.shm_size = json_integer_or<uint64_t>(j, "shm_size", uint64_t{0});
        if (j.contains("oom_score_adj")) {
            c.oom_score_adj = json_integer<int>(j["oom_score_adj"], "oom_score_adj");
            if (*c.oom_score_adj < -1000 || *c.oom_score_adj > 1000) throw Error("oom_score_adj out of range");
        }
        c.init_path = j.value("init_path", std::string());
        c.pid_mode = j.value("pid_mode", std::string());
        c.uts_mode = j.value("uts_mode", std::string());
        c.ipc_mode = j.value("ipc_mode", std::string());
        c.cdi_devices = j.value("cdi_devices", std::vector<std::string>{});
        if (j.contains("trace")) {
            const auto& t = j["trace"];
            c.trace_file = t.at("file").get<std::string>();
            c.trace_events = t.at("events").get<std::string>();
            c.trace_format = t.at("format").get<std::string>();
            if (c.trace_file.empty() || c.trace_file[0] != '/') throw Error("trace.file must be an absolute path");
        }
        if (j.contains("hooks")) {
            for (const auto& h : j["hooks"]) {
                HookRequest r{h.at("stage").get<std::string>(), h.at("path").get<std::string>(),
                              h.value("args", std::vector<std::string>{}), h.value("env", std::vector<std::string>{}),
                              std::nullopt};
                static const std::set<std::string> kStages{"prestart", "createRuntime", "createContainer",
                                                           "startContainer", "poststart", "poststop"};
                if (!kStages.count(r.stage)) throw Error("bad hook stage " + quote_for_message(r.stage));
                if (r.path.empty() || r.path[0] != '/') throw Error("a hook's path must be absolute");
                if (h.contains("timeout")) r.timeout = json_integer<int>(h["timeout"], "hooks timeout");
                c.hooks.push_back(std::move(r));
            }
        }
        for (const auto* m : {&c.pid_mode, &c.uts_mode, &c.ipc_mode})
            if (!m->empty() && (*m == "host" ? m == &c.ipc_mode : !is_peer_mode(*m)))
                throw Error("bad namespace mode " + quote_for_message(*m));
        if (!c.init_path.empty() && c.init_path[0] != '/') throw Error("init_path must be absolute");
        if (j.contains("group_add"))
            for (const auto& g : j["group_add"]) c.group_add.push_back(json_integer<uint32_t>(g, "group_add"));
        if (j.contains("healthcheck"))
            c.healthcheck = with_context("healthcheck", [&] { return healthcheck_from_json(j["healthcheck"]); });
        c.create_command = j.value("create_command", std::vector<std::string>{});
        if (j.contains("entrypoint")) c.entrypoint = j["entrypoint"].get<std::vector<std::string>>();
        if (c.stop_signal < 0 || c.stop_signal > 64) throw Error("bad stop_signal " + std::to_string(c.stop_signal));
        c.tty = j.value("tty", false);
        c.interactive = j.value("interactive", false);
        c.log_max_size = json_integer_or<uint64_t>(j, "log_max_size", uint64_t{16} << 20);
        if (j.contains("resources")) c.resources = resources_from_json(j["resources"]);
        c.monitor_soft = json_integer_or<uint64_t>(j, "monitor_soft", uint64_t{0});
        c.monitor_hard = json_integer_or<uint64_t>(j, "monitor_hard", uint64_t{0});
        // Absent in configs written before it existed: the defaults apply.
        if (j.contains("security")) c.security = with_context("security", [&] { return security_from_json(j["security"]); });
        return c;
    });
}

namespace {

json runs_json(const std::vector<ContainerState::Run>& runs) {
    json a = json::array();
    for (const auto& r : runs)
        a.push_back({{"started_at", time_value(r.started_ns)},
                     {"finished_at", time_value(r.finished_ns)},
                     {"exit_code", r.exit_code ? json(*r.exit_code) : json(nullptr)},
                     {"reason", r.reason}});
    return a;
}

}  // namespace

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
           {"ports", s.ports},
           {"restart_count", s.restart_count},
           {"restarting", s.restarting},
           {"runs", runs_json(s.runs)},
           {"log_dropped_lines", s.log_dropped_lines},
           {"log_dropped_bytes", s.log_dropped_bytes},
           {"monitor", nullptr}};
    if (!s.summary.empty()) {
        j["name"] = s.summary.name;
        j["image"] = s.summary.image;
        j["command"] = s.summary.command;
        j["created"] = format_rfc3339(s.summary.created_ns);
        if (s.summary.healthcheck) j["healthcheck"] = true;
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

std::optional<ContainerState> quick_state_from_json(std::string_view text) { return FastStateReader(text).read(); }

ContainerState state_from_json(const std::string& text, const std::filesystem::path& source) {
    if (auto s = FastStateReader(text).read()) return std::move(*s);
    return parse_record(text, source, [](const json& j) {
        ContainerState s;
        s.id = j.at("id").get<std::string>();
        if (!is_full_id(s.id)) throw Error("bad id \"" + s.id + "\"");
        s.status = status_from_string(j.at("status").get<std::string>());
        s.pid = json_integer_or<int>(j, "pid", 0);
        s.pid_start = json_integer_or<uint64_t>(j, "pid_start_time", uint64_t{0});
        s.shim_pid = json_integer_or<int>(j, "shim_pid", 0);
        s.shim_start = json_integer_or<uint64_t>(j, "shim_start_time", uint64_t{0});
        if (s.pid < 0 || s.shim_pid < 0) throw Error("negative pid");
        s.started_ns = time_field(j, "started_at");
        s.finished_ns = time_field(j, "finished_at");
        if (j.contains("exit_code") && !j["exit_code"].is_null()) s.exit_code = json_integer<int>(j["exit_code"], "exit_code");
        s.exit_signal = json_integer_or<int>(j, "exit_signal", 0);
        s.reason = j.value("reason", std::string());
        s.error = j.value("error", std::string());
        s.stop_requested = j.value("stop_requested", false);
        s.cgroup = j.value("cgroup", std::string());
        s.ports = j.value("ports", std::string());
        if (!plausible_cgroup(s)) throw Error("cgroup \"" + s.cgroup + "\" is not the container's own group");
        s.restart_count = json_integer_or<int>(j, "restart_count", 0);
        if (s.restart_count < 0) throw Error("negative restart_count");
        s.restarting = j.value("restarting", false);
        if (j.contains("runs"))
            for (const json& r : j["runs"]) {
                ContainerState::Run run;
                run.started_ns = time_field(r, "started_at");
                run.finished_ns = time_field(r, "finished_at");
                if (r.contains("exit_code") && !r["exit_code"].is_null()) run.exit_code = json_integer<int>(r["exit_code"], "exit_code");
                run.reason = r.value("reason", std::string());
                s.runs.push_back(std::move(run));
            }
        s.log_dropped_lines = json_integer_or<uint64_t>(j, "log_dropped_lines", uint64_t{0});
        s.log_dropped_bytes = json_integer_or<uint64_t>(j, "log_dropped_bytes", uint64_t{0});
        if (j.contains("name")) {
            // Shown by `list`: held to the same rules as in config.json.
            s.summary.name = j.at("name").get<std::string>();
            validate_container_name(s.summary.name);
            s.summary.image = j.at("image").get<std::string>();
            validate_image_ref(s.summary.image);
            s.summary.command = j.at("command").get<std::vector<std::string>>();
            if (s.summary.command.empty()) throw Error("empty command");
            s.summary.created_ns = time_field(j, "created");
            s.summary.healthcheck = j.value("healthcheck", false);
        }
        if (j.contains("monitor") && !j["monitor"].is_null()) {
            const json& m = j["monitor"];
            MonitorRecord r;
            r.backend = m.value("backend", std::string());
            r.id = m.at("id").get<std::string>();
            r.soft_limit = json_integer_or<uint64_t>(m, "soft_limit", uint64_t{0});
            r.hard_limit = json_integer_or<uint64_t>(m, "hard_limit", uint64_t{0});
            auto crossing = [](const json& c) -> std::optional<MonitorRecord::Crossing> {
                if (c.is_null()) return std::nullopt;
                return MonitorRecord::Crossing{json_integer<uint64_t>(c.at("rss"), "rss"), json_integer<uint64_t>(c.at("limit"), "limit"),
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
