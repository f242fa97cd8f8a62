// minirt status (for humans) and minirt inspect (JSON: state + config).
#include <sys/resource.h>

#include <cerrno>
#include <cstdlib>
#include <iostream>
#include <nlohmann/json.hpp>

#include "cli/cli.hpp"
#include "cli/format_template.hpp"
#include "cli/inspect_podman.hpp"
#include "engine/network.hpp"
#include "common/file.hpp"
#include "common/parse.hpp"
#include "container/ops.hpp"
#include "linux/cgroup.hpp"
#include "linux/monitor.hpp"

namespace minirt::cli {

nlohmann::json view_json(const ContainerView& v);

namespace {

struct Usage {
    std::optional<uint64_t> memory_current, cpu_usec, pids;
};

Usage read_usage(const ContainerView& v) {
    Usage u;
    if (!v.state || v.state->cgroup.empty() || (v.status != Status::Running && v.status != Status::Paused)) return u;
    Cgroup cg(v.state->cgroup);
    u.memory_current = cg.read_number("memory.current");
    u.cpu_usec = cg.read_key("cpu.stat", "usage_usec");
    u.pids = cg.pids().size();
    return u;
}

// What --nice applied, read back from the kernel for a running container:
// the init's nice value, its autogroup's, and the group's cpu.weight.nice.
std::optional<nlohmann::json> scheduling_json(const ContainerView& v) {
    if (!v.state || (v.status != Status::Running && v.status != Status::Paused)) return std::nullopt;
    nlohmann::json j = nlohmann::json::object();
    std::string pid = std::to_string(v.state->pid);
    errno = 0;
    int nice = ::getpriority(PRIO_PROCESS, static_cast<id_t>(v.state->pid));
    if (errno == 0) j["nice"] = nice;
    if (auto ag = read_file_if_exists("/proc/" + pid + "/autogroup")) {
        // "/autogroup-42 nice 15"
        auto at = ag->find(" nice ");
        if (at != std::string::npos) j["autogroup_nice"] = std::atoi(ag->c_str() + at + 6);
    }
    if (!v.state->cgroup.empty())
        if (auto w = read_file_if_exists(fs::path(v.state->cgroup) / "cpu.weight.nice")) j["cpu_weight_nice"] = std::atoi(w->c_str());
    return j;
}

}  // namespace

int cmd_status(Context& ctx, const Args& args) {
    const char* usage = "minirt status NAME";
    po::options_description desc("Options");
    Parsed p = parse(desc, args, usage);
    require_positional(p, 1, 1, usage);
    ContainerView v = view_named(ctx, p.positional[0]);
    const std::string& id = v.id;
    int64_t now = now_ns();
    const auto& c = *v.config;
    auto line = [](const std::string& k, const std::string& val) {
        std::cout << k << ":" << std::string(12 - k.size(), ' ') << val << "\n";
    };
    std::string cmd;
    for (const auto& a : c.command) cmd += (cmd.empty() ? "" : " ") + a;
    line("Name", c.name);
    line("ID", id);
    line("Image", c.image);
    line("Command", cmd);
    line("Status", status_text(v, now));
    line("Created", format_rfc3339(c.created_ns) + " (" + human_age(c.created_ns, now) + ")");
    if (v.state) {
        const auto& st = *v.state;
        if (v.status == Status::Running || v.status == Status::Paused) line("PID", std::to_string(st.pid));
        if (st.started_ns) line("Started", format_rfc3339(st.started_ns));
        if (st.finished_ns) line("Finished", format_rfc3339(st.finished_ns));
        if (v.status == Status::Exited && st.exit_code && v.reason != "shim-lost")
            line("Exit code", std::to_string(*st.exit_code) + (st.exit_signal ? " (" + signal_name(st.exit_signal) + ")" : ""));
        if (!v.reason.empty()) line("Reason", v.reason);
        if (!st.error.empty()) line("Error", st.error);
        if (!st.cgroup.empty()) line("Cgroup", st.cgroup);
        if (!v.health.empty()) line("Health", v.health);
        if (st.monitor) {
            const auto& m = *st.monitor;
            line("Monitor", m.id + " soft=" + (m.soft_limit ? human_size(m.soft_limit) : "none") +
                                " hard=" + (m.hard_limit ? human_size(m.hard_limit) : "none"));
            if (m.soft_crossed)
                line("Warning", "RSS " + human_size(m.soft_crossed->rss) + " crossed the soft limit " +
                                    human_size(m.soft_crossed->limit));
            if (m.hard_killed)
                line("Killed", "RSS " + human_size(m.hard_killed->rss) + " crossed the hard limit " +
                                   human_size(m.hard_killed->limit));
        }
    }
    Usage u = read_usage(v);
    if (u.memory_current) line("Memory", human_size(*u.memory_current));
    if (u.cpu_usec) line("CPU time", std::to_string(*u.cpu_usec / 1000) + " ms");
    if (u.pids) line("Processes", std::to_string(*u.pids));
    line("Log", ctx.store.paths().log_file(id).string());
    return 0;
}

int cmd_inspect(Context& ctx, const Args& args) {
    const char* usage = "minirt inspect [--format json|TEMPLATE] NAME...";
    po::options_description desc("Options");
    desc.add_options()
        ("format,f", po::value<std::string>()->default_value("json"),
         "json, or a Go template such as {{.State.Pid}} (podman's fields, docs/cli.md)")
        ("size,s", "accepted for podman's scripts: sizes are not computed");
    Parsed p = parse(desc, args, usage);
    require_positional(p, 1, SIZE_MAX, usage);
    std::optional<TemplateFormat> tmpl = TemplateFormat::parse(p.vm["format"].as<std::string>(), podman_map_fields());
    nlohmann::json out = nlohmann::json::array();
    int rc = for_each_handle(ctx, p.positional, [&](const std::string& id, const std::string&) {
        ContainerView v = view_container(ctx.store, id);
        if (!v.load_error.empty()) throw Error(v.load_error);
        nlohmann::json j = view_json(v);
        j["config"] = to_json(*v.config);
        j["state"] = v.state ? to_json(*v.state) : nlohmann::json();
        Usage u = read_usage(v);
        nlohmann::json usage_j = nlohmann::json::object();
        if (u.memory_current) usage_j["memory_current"] = *u.memory_current;
        if (u.cpu_usec) usage_j["cpu_usage_usec"] = *u.cpu_usec;
        if (u.pids) usage_j["pids"] = *u.pids;
        j["resources"] = usage_j;
        if (auto sched = scheduling_json(v)) j["scheduling"] = *sched;
        // The monitor's live view: what it measures now for this container.
        if (v.state && v.state->monitor && (v.status == Status::Running || v.status == Status::Paused)) {
            if (auto mon = open_monitor())
                if (auto e = mon->query(v.state->monitor->id))
                    j["monitor"] = {{"id", e->id}, {"rss", e->rss}, {"processes", e->processes},
                                    {"soft_limit", e->soft_limit}, {"hard_limit", e->hard_limit},
                                    {"soft_crossed", e->soft_crossed}};
        }
        // What its checks found this run (podman's State.Health).
        if (v.config->healthcheck) {
            std::optional<Health> h;
            try {
                h = read_health(ctx.store.paths(), id);
            } catch (const Error&) {
                // Damaged: the next check starts it over.
            }
            j["health"] = h ? to_json(*h) : nlohmann::json();
        }
        j["network_settings"] = engine::network_settings(ctx.store.paths(), id);
        j["log_path"] = ctx.store.paths().log_file(id).string();
        add_podman_fields(j, ctx.store.paths(), v, j["network_settings"], j.value("health", nlohmann::json()));
        // podman's: each container's text as soon as it is known.
        if (tmpl) {
            j["ID"] = id;  // podman's templates take .ID and .Id alike
            std::cout << tmpl->render(j) << std::flush;
        } else {
            out.push_back(j);
        }
    });
    if (!tmpl) std::cout << out.dump(2) << "\n";
    return rc;
}

}  // namespace minirt::cli
