// minirt stats: live resource use of containers from their cgroups, like
// `podman stats`. CPU % is measured over a short sampling window.
#include <unistd.h>

#include <iostream>
#include <map>
#include <nlohmann/json.hpp>
#include <sstream>
#include <thread>

#include "cli/cli.hpp"
#include "cli/format_template.hpp"
#include "common/file.hpp"
#include "common/parse.hpp"
#include "container/ops.hpp"
#include "linux/cgroup.hpp"
#include "linux/process.hpp"

namespace minirt::cli {

namespace {

struct Sample {
    std::string id, name;
    std::optional<uint64_t> cpu_usec, memory_current, memory_max, pids;
    uint64_t io_read = 0, io_write = 0;
    int64_t at_ms = 0;
    double cpu_percent = 0;
};

Sample sample(const ContainerView& v) {
    Sample s;
    s.id = v.id;
    s.name = v.config->name;
    s.at_ms = monotonic_ms();
    Cgroup cg(v.state->cgroup);
    s.cpu_usec = cg.read_key("cpu.stat", "usage_usec");
    s.memory_current = cg.read_number("memory.current");
    s.memory_max = cg.read_number("memory.max");
    s.pids = cg.read_number("pids.current");
    if (!s.pids) s.pids = cg.pids().size();
    // io.stat: "MAJ:MIN rbytes=N wbytes=N rios=..." per device.
    std::istringstream io(read_file_if_exists(cg.path() / "io.stat").value_or(""));
    std::string tok;
    while (io >> tok) {
        if (tok.starts_with("rbytes=")) s.io_read += std::stoull(tok.substr(7));
        if (tok.starts_with("wbytes=")) s.io_write += std::stoull(tok.substr(7));
    }
    return s;
}

std::vector<ContainerView> targets(Context& ctx, const std::vector<std::string>& handles) {
    std::vector<ContainerView> out;
    std::vector<std::string> ids;
    if (handles.empty()) ids = ctx.store.list_ids();
    for (const auto& h : handles) ids.push_back(ctx.store.resolve(h));
    for (const auto& id : ids) {
        ContainerView v = view_container(ctx.store, id);
        bool live = v.status == Status::Running || v.status == Status::Paused;
        if (!live) {
            if (!handles.empty()) throw Error("container " + (v.config ? v.config->name : id.substr(0, 12)) + " is not running");
            continue;
        }
        if (v.state->cgroup.empty()) throw Error("stats need cgroup v2, and this host has no cgroup2 mount");
        out.push_back(std::move(v));
    }
    return out;
}

std::string opt_size(const std::optional<uint64_t>& v) {
    if (!v) return "-";
    if (*v == UINT64_MAX) return "unlimited";
    return human_size(*v);
}

// podman's `stats --format TEMPLATE` fields.
nlohmann::json template_fields(const Sample& s) {
    char cpu[32], mem[32];
    std::snprintf(cpu, sizeof cpu, "%.2f%%", s.cpu_percent);
    double perc = s.memory_current && s.memory_max && *s.memory_max && *s.memory_max != UINT64_MAX
                      ? 100.0 * static_cast<double>(*s.memory_current) / static_cast<double>(*s.memory_max)
                      : 0;
    std::snprintf(mem, sizeof mem, "%.2f%%", perc);
    return nlohmann::json{{"ID", s.id.substr(0, 12)},
                          {"ContainerID", s.id},
                          {"Name", s.name},
                          {"CPU", s.cpu_percent},
                          {"CPUPerc", cpu},
                          {"MemUsage", opt_size(s.memory_current) + " / " + opt_size(s.memory_max)},
                          {"MemUsageBytes", s.memory_current.value_or(0)},
                          {"MemPerc", mem},
                          {"BlockIO", human_size(s.io_read) + " / " + human_size(s.io_write)},
                          {"PIDs", s.pids ? std::to_string(*s.pids) : "--"}};
}

void print(const std::vector<Sample>& samples, bool json) {
    if (json) {
        nlohmann::json arr = nlohmann::json::array();
        for (const auto& s : samples) {
            auto opt = [](const std::optional<uint64_t>& v) {
                return v && *v != UINT64_MAX ? nlohmann::json(*v) : nlohmann::json(nullptr);
            };
            arr.push_back({{"id", s.id}, {"name", s.name}, {"cpu_percent", s.cpu_percent},
                           {"cpu_usage_usec", opt(s.cpu_usec)}, {"memory_current", opt(s.memory_current)},
                           {"memory_max", opt(s.memory_max)}, {"pids", opt(s.pids)},
                           {"io_read_bytes", s.io_read}, {"io_write_bytes", s.io_write}});
        }
        std::cout << arr.dump(2) << std::endl;
        return;
    }
    std::printf("%-12s  %-20s  %7s  %-24s  %6s  %-20s\n", "ID", "NAME", "CPU %", "MEM USAGE / LIMIT", "PIDS",
                "BLOCK I/O (R / W)");
    for (const auto& s : samples) {
        std::string mem = opt_size(s.memory_current) + " / " + opt_size(s.memory_max);
        std::string io = human_size(s.io_read) + " / " + human_size(s.io_write);
        std::printf("%-12s  %-20s  %6.2f%%  %-24s  %6s  %-20s\n", s.id.substr(0, 12).c_str(), s.name.c_str(),
                    s.cpu_percent, mem.c_str(), s.pids ? std::to_string(*s.pids).c_str() : "-", io.c_str());
    }
    std::fflush(stdout);
}

}  // namespace

int cmd_stats(Context& ctx, const Args& args) {
    const char* usage = "minirt stats [--no-stream] [--format table|json|TEMPLATE] [--interval MS] [NAME...]";
    po::options_description desc("Options");
    desc.add_options()
        ("no-stream", "print one sample and exit")
        ("format", po::value<std::string>()->default_value("table"), "table, json, or a Go template such as {{.CPUPerc}}")
        ("interval", po::value<std::string>()->default_value("1000"), "sampling window in ms");
    Parsed p = parse(desc, args, usage);
    std::string format = p.vm["format"].as<std::string>();
    std::optional<TemplateFormat> tmpl = TemplateFormat::parse(format);
    int interval = static_cast<int>(parse_int(p.vm["interval"].as<std::string>(), "--interval", 10, 60000));
    bool stream = !p.vm.count("no-stream");
    bool tty = ::isatty(1);
    std::map<std::string, Sample> previous;
    for (;;) {
        std::vector<ContainerView> views = targets(ctx, p.positional);
        if (previous.empty()) {
            for (const auto& v : views) previous[v.id] = sample(v);
            std::this_thread::sleep_for(std::chrono::milliseconds(interval));
        }
        std::vector<Sample> now;
        for (const auto& v : views) {
            Sample s = sample(v);
            auto it = previous.find(v.id);
            if (it != previous.end() && s.cpu_usec && it->second.cpu_usec && s.at_ms > it->second.at_ms)
                s.cpu_percent = 100.0 * static_cast<double>(*s.cpu_usec - *it->second.cpu_usec) /
                                (1000.0 * static_cast<double>(s.at_ms - it->second.at_ms));
            previous[v.id] = s;
            now.push_back(s);
        }
        if (stream && tty && format != "json") std::cout << "\033[H\033[2J";
        if (tmpl) {
            for (const auto& s : now) tmpl->add(template_fields(s));
            std::cout << tmpl->finish({{"ID", "ID"}, {"CPUPerc", "CPU %"}, {"MemUsage", "MEM USAGE / LIMIT"},
                                       {"MemPerc", "MEM %"}, {"BlockIO", "BLOCK IO"}, {"PIDs", "PIDS"}})
                      << std::flush;
            tmpl->clear();
        } else {
            print(now, format == "json");
        }
        if (!stream) return 0;
        std::this_thread::sleep_for(std::chrono::milliseconds(interval));
    }
}

}  // namespace minirt::cli
