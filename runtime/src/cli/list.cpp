// minirt list / ps: every container (list, ps -a) or the running ones (ps).
#include <algorithm>
#include <iomanip>
#include <iostream>
#include <nlohmann/json.hpp>

#include "cli/cli.hpp"
#include "common/parse.hpp"
#include "container/ops.hpp"

namespace minirt::cli {

namespace {

std::string command_text(const ContainerSummary& c) {
    std::string s;
    for (const auto& a : c.command) {
        if (!s.empty()) s += ' ';
        s += a;
    }
    return s;
}

std::string truncate(const std::string& s, size_t n) { return s.size() <= n ? s : s.substr(0, n - 3) + "..."; }

nlohmann::json row_json(const ContainerView& v) {
    nlohmann::json j{{"id", v.id}, {"status", v.load_error.empty() ? to_string(v.status) : "error"}};
    if (!v.load_error.empty()) {
        j["error"] = v.load_error;
        return j;
    }
    const auto& c = v.summary;
    j["name"] = c.name;
    j["image"] = c.image;
    j["command"] = c.command;
    j["created"] = format_rfc3339(c.created_ns);
    j["reason"] = v.reason;
    j["pid"] = (v.status == Status::Running || v.status == Status::Paused) ? v.state->pid : 0;
    j["exit_code"] = nullptr;
    if (v.state) {
        if (v.status == Status::Exited && v.state->exit_code && v.reason != "shim-lost")
            j["exit_code"] = *v.state->exit_code;
        j["started_at"] = v.state->started_ns ? nlohmann::json(format_rfc3339(v.state->started_ns)) : nlohmann::json();
        j["finished_at"] = v.state->finished_ns ? nlohmann::json(format_rfc3339(v.state->finished_ns)) : nlohmann::json();
    }
    return j;
}

int list_containers(Context& ctx, const Args& args, const char* usage, bool default_all) {
    po::options_description desc("Options");
    desc.add_options()
        ("all,a", "show all containers, not only running ones")
        ("quiet,q", "print only the ids")
        ("no-trunc", "print full ids and commands")
        ("format", po::value<std::string>()->default_value("table"), "table or json");
    Parsed p = parse(desc, args, usage);
    require_positional(p, 0, 0, usage);
    bool all = default_all || p.vm.count("all");
    std::string format = p.vm["format"].as<std::string>();
    if (format != "table" && format != "json") throw Error("invalid --format \"" + format + "\": use table or json");
    bool no_trunc = p.vm.count("no-trunc") > 0;

    std::vector<ContainerView> views = view_all(ctx.store);
    if (!all)
        std::erase_if(views, [](const ContainerView& v) { return v.status != Status::Running && v.status != Status::Paused; });
    std::sort(views.begin(), views.end(),
              [](const auto& a, const auto& b) { return a.summary.created_ns > b.summary.created_ns; });

    if (p.vm.count("quiet")) {
        for (const auto& v : views) std::cout << (no_trunc ? v.id : v.id.substr(0, 12)) << "\n";
        return 0;
    }
    if (format == "json") {
        nlohmann::json arr = nlohmann::json::array();
        for (const auto& v : views) arr.push_back(row_json(v));
        std::cout << arr.dump(2) << "\n";
        return 0;
    }
    int64_t now = now_ns();
    std::vector<std::array<std::string, 7>> rows;
    rows.push_back({"CONTAINER ID", "NAME", "IMAGE", "COMMAND", "STATUS", "CREATED", "PID"});
    for (const auto& v : views) {
        std::string id = no_trunc ? v.id : v.id.substr(0, 12);
        if (!v.load_error.empty()) {
            rows.push_back({id, "?", "?", truncate(v.load_error, no_trunc ? 4096 : 60), "Error", "", ""});
            continue;
        }
        std::string cmd = command_text(v.summary);
        bool live = v.status == Status::Running || v.status == Status::Paused;
        rows.push_back({id, v.summary.name, v.summary.image, no_trunc ? cmd : truncate(cmd, 24), status_text(v, now),
                        human_age(v.summary.created_ns, now), live ? std::to_string(v.state->pid) : "-"});
    }
    std::array<size_t, 7> width{};
    for (const auto& r : rows)
        for (size_t i = 0; i < r.size(); ++i) width[i] = std::max(width[i], r[i].size());
    std::string out;
    for (const auto& r : rows) {
        std::string line;
        for (size_t i = 0; i < r.size(); ++i) {
            line += r[i];
            if (i + 1 < r.size()) line += std::string(width[i] - r[i].size() + 2, ' ');
        }
        while (!line.empty() && line.back() == ' ') line.pop_back();
        out += line + "\n";
    }
    std::cout << out;
    return 0;
}

}  // namespace

nlohmann::json view_json(const ContainerView& v) { return row_json(v); }

int cmd_list(Context& ctx, const Args& args) { return list_containers(ctx, args, "minirt list [OPTIONS]", true); }
int cmd_ps(Context& ctx, const Args& args) { return list_containers(ctx, args, "minirt ps [-a] [OPTIONS]", false); }

}  // namespace minirt::cli
