// minirt events: the event journal (state/events.hpp), past and following.
#include <signal.h>
#include <unistd.h>

#include <charconv>
#include <chrono>
#include <cstdio>
#include <functional>
#include <iostream>
#include <thread>

#include <nlohmann/json.hpp>

#include "cli/cli.hpp"
#include "cli/format_template.hpp"
#include "common/parse.hpp"
#include "state/events.hpp"

namespace minirt::cli {

namespace {

// How often a following `events` looks for new records.
constexpr auto kFollowInterval = std::chrono::milliseconds(50);

using Filter = std::function<bool(const Event&)>;

// podman's event filters: type, event (status), container, image,
// network, volume; a container is matched by name or id prefix.
Filter filter_of(const std::string& spec) {
    auto eq = spec.find('=');
    if (eq == std::string::npos || eq == 0 || eq + 1 == spec.size())
        throw Error("invalid --filter " + quote_for_message(spec) + ": KEY=VALUE");
    std::string key = spec.substr(0, eq), value = spec.substr(eq + 1);
    auto names = [value](const std::string& type) {
        return [value, type](const Event& e) {
            return e.type == type && (e.name == value || (!e.id.empty() && e.id.starts_with(value)));
        };
    };
    if (key == "type") return [value](const Event& e) { return e.type == value; };
    if (key == "event" || key == "status") return [value](const Event& e) { return e.action == value; };
    if (key == "container" || key == "network" || key == "volume") return names(key);
    if (key == "image")
        return [value](const Event& e) {
            return e.image == value || (e.type == "image" && (e.name == value || e.id.starts_with(value)));
        };
    throw Error("invalid --filter " + quote_for_message(key) + ": use type, event, container, image, network or volume");
}

std::string attribute(const Event& e, const char* key) {
    auto it = e.attributes.find(key);
    return it == e.attributes.end() ? std::string() : it->second;
}

// podman's --format json record.
nlohmann::json event_json(const Event& e) {
    nlohmann::json j{{"ID", e.id}, {"Name", e.name}, {"Status", e.action}, {"Type", e.type},
                     {"Time", format_rfc3339(e.time_ns)}, {"timeNano", e.time_ns}};
    if (!e.image.empty()) j["Image"] = e.image;
    if (e.action == "died") {
        std::string code = attribute(e, "exitCode");
        int value = 0;
        auto [end, ec] = std::from_chars(code.data(), code.data() + code.size(), value);
        if (ec == std::errc() && end == code.data() + code.size() && !code.empty()) j["ContainerExitCode"] = value;
    }
    if (e.action == "health_status") j["HealthStatus"] = attribute(e, "health_status");
    if (!e.attributes.empty()) j["Attributes"] = e.attributes;
    return j;
}

// podman's `events --format TEMPLATE` fields.
nlohmann::json event_fields(const Event& e) {
    return nlohmann::json{{"ID", e.id},
                          {"Name", e.name},
                          {"Image", e.image},
                          {"Status", e.action},
                          {"Type", e.type},
                          {"Time", format_rfc3339(e.time_ns)},
                          {"TimeNano", e.time_ns},
                          {"ContainerExitCode", attribute(e, "exitCode")},
                          {"HealthStatus", attribute(e, "health_status")},
                          {"Attributes", e.attributes}};
}

// A value from the journal as one line of plain text: control characters
// (an exec'd command's name may hold any) as \xNN.
std::string printable(const std::string& v) {
    std::string out;
    for (char ch : v) {
        auto c = static_cast<unsigned char>(ch);
        if (c >= 0x20 && c != 0x7f) {
            out += ch;
        } else {
            char buf[8];
            std::snprintf(buf, sizeof buf, "\\x%02x", c);
            out += buf;
        }
    }
    return out;
}

// podman's line: TIME TYPE STATUS ID (image=..., name=..., key=value...)
std::string event_text(const Event& e) {
    std::string s = format_rfc3339(e.time_ns) + " " + e.type + " " + e.action + " " +
                    (e.type == "container" ? e.id.substr(0, 12) : e.id);
    std::string extra;
    auto add = [&](const std::string& k, const std::string& v) {
        if (v.empty()) return;
        extra += (extra.empty() ? "" : ", ") + k + "=" + v;
    };
    add("image", e.image);
    add("name", e.name);
    for (const auto& [k, v] : e.attributes) add(k, printable(v));
    if (!extra.empty()) s += " (" + extra + ")";
    return s;
}

}  // namespace

int cmd_events(Context& ctx, const Args& args) {
    const char* usage = "minirt events [--since TIME] [--until TIME] [--filter KEY=VALUE]... [--format json|TEMPLATE]";
    po::options_description desc("Options");
    desc.add_options()
        ("since", po::value<std::string>(), "events from this time on (RFC 3339, Unix seconds, or a duration ago: 10m)")
        ("until", po::value<std::string>(), "events up to this time, then stop (without: follow new ones)")
        ("filter,f", po::value<std::vector<std::string>>(),
         "type=, event=, container=, image=, network=, volume= (all must match)")
        ("format", po::value<std::string>(), "json (one object a line), or a template such as {{.Status}} {{.Name}}");
    Parsed p = parse(desc, args, usage);
    require_positional(p, 0, 0, usage);
    std::optional<int64_t> since, until;
    if (p.vm.count("since")) since = parse_time_spec(p.vm["since"].as<std::string>(), "--since");
    if (p.vm.count("until")) until = parse_time_spec(p.vm["until"].as<std::string>(), "--until");
    std::vector<Filter> filters;
    for (const auto& f : flag_values(p.vm, "filter")) filters.push_back(filter_of(f));
    std::string format = p.vm.count("format") ? p.vm["format"].as<std::string>() : std::string();
    std::optional<TemplateFormat> tmpl = TemplateFormat::parse(format, {"Attributes"});
    auto render = [&](const Event& e) {
        if (tmpl) return tmpl->render(event_fields(e));
        if (format == "json") return event_json(e).dump() + "\n";
        return event_text(e) + "\n";
    };
    if (tmpl) render(Event{});  // a field that no event has is refused before anything is read
    ::signal(SIGPIPE, SIG_IGN);
    EventReader reader(ctx.store.paths());
    // Without --since or --until only what happens from now on (podman's).
    bool history = since || until;
    for (bool first = true;; first = false) {
        for (const Event& e : reader.read_new()) {
            if (first && !history) continue;
            if ((since && e.time_ns < *since) || (until && e.time_ns > *until)) continue;
            if (!std::all_of(filters.begin(), filters.end(), [&](const Filter& f) { return f(e); })) continue;
            std::cout << render(e) << std::flush;
            if (!std::cout) return 0;  // the reader went away
        }
        if (until && now_ns() > *until) return 0;
        std::this_thread::sleep_for(kFollowInterval);
    }
}

}  // namespace minirt::cli
