// minirt oci update and events: a running container's limits changed in
// place (docker update, podman update, a kubelet's resize), and its cgroup
// v2 figures printed the way runc prints them.
#include <poll.h>
#include <unistd.h>

#include <cstdio>
#include <iostream>
#include <iterator>

#include <nlohmann/json.hpp>

#include "cli/oci.hpp"
#include "common/error.hpp"
#include "common/file.hpp"
#include "common/parse.hpp"
#include "engine/launch.hpp"
#include "linux/cgroup.hpp"
#include "oci/spec.hpp"
#include "oci/state.hpp"

namespace minirt::oci {

using nlohmann::json;

namespace {

struct Running {
    StateDir dir;
    State state;
    Status status;
};

Running load_live(const Globals& g, const std::string& verb, const std::string& id) {
    validate_container_id(id);
    StateDir dir(g.root, id);
    State s = dir.load();
    Status st = live_status(dir, s);
    if (st == Status::Exited) throw Error(verb + ": container \"" + id + "\" is not running");
    if (s.cgroup.empty()) throw Error(verb + ": container \"" + id + "\" has no cgroup v2 group");
    return {dir, s, st};
}

// runc's memory flags: a size with units ("512m", "1g"), -1 for no limit,
// 0 for "leave it".
std::optional<int64_t> memory_flag(const Flags& f, const std::string& name) {
    if (!f.has(name)) return std::nullopt;
    std::string v = f.value(name);
    if (v == "-1") return -1;
    if (v == "0") return std::nullopt;
    return static_cast<int64_t>(parse_size(v, "--" + name));
}

// The linux.resources object runc update builds from its flags.
json resources_from_flags(const Flags& f) {
    json r = json::object();
    auto set_int = [&](const char* flag, const char* group, const char* key, int64_t min) {
        if (f.has(flag)) r[group][key] = parse_int(f.value(flag), std::string("--") + flag, min, INT64_MAX);
    };
    if (auto v = memory_flag(f, "memory")) r["memory"]["limit"] = *v;
    if (auto v = memory_flag(f, "memory-reservation")) r["memory"]["reservation"] = *v;
    if (auto v = memory_flag(f, "memory-swap")) r["memory"]["swap"] = *v;
    set_int("cpu-share", "cpu", "shares", 0);
    set_int("cpu-quota", "cpu", "quota", -1);
    set_int("cpu-period", "cpu", "period", 0);
    set_int("cpu-rt-runtime", "cpu", "realtimeRuntime", -1);
    set_int("cpu-rt-period", "cpu", "realtimePeriod", 0);
    set_int("cpu-idle", "cpu", "idle", 0);
    if (f.has("cpuset-cpus")) r["cpu"]["cpus"] = f.value("cpuset-cpus");
    if (f.has("cpuset-mems")) r["cpu"]["mems"] = f.value("cpuset-mems");
    set_int("pids-limit", "pids", "limit", -1);
    set_int("blkio-weight", "blockIO", "weight", 0);
    if (!f.value("l3-cache-schema").empty() || !f.value("mem-bw-schema").empty())
        throw Error("update: Intel RDT (--l3-cache-schema, --mem-bw-schema) is not supported");
    // --kernel-memory and --kernel-memory-tcp: no cgroup v2 file; ignored, as runc does.
    return r;
}

// "50000 100000" or "max 100000": cpu.max's quota (nullopt for max) and period.
std::pair<std::optional<int64_t>, int64_t> current_cpu_max(const fs::path& group) {
    auto text = read_file_if_exists(group / "cpu.max");
    if (!text) return {std::nullopt, 100000};
    auto w = words(*text);
    if (w.size() != 2) return {std::nullopt, 100000};
    std::optional<int64_t> quota;
    if (w[0] != "max") quota = parse_int(w[0], "cpu.max", 0, INT64_MAX);
    return {quota, parse_int(w[1], "cpu.max", 1, INT64_MAX)};
}

// Half of a pair given: the other half is the group's current one (runc
// keeps the rest of its config the same way).
void complete_from_group(json& r, const fs::path& group) {
    if (r.contains("cpu")) {
        json& cpu = r["cpu"];
        bool quota = cpu.contains("quota") && !cpu["quota"].is_null();
        bool period = cpu.contains("period") && !cpu["period"].is_null() && cpu["period"] != 0;
        if (quota != period) {
            auto [q, p] = current_cpu_max(group);
            if (quota) cpu["period"] = p;
            else cpu["quota"] = q.value_or(-1);
        }
    }
    if (r.contains("memory")) {
        json& mem = r["memory"];
        bool swap = mem.contains("swap") && !mem["swap"].is_null() && mem["swap"] != 0 && mem["swap"] != -1;
        if (swap && (!mem.contains("limit") || mem["limit"].is_null() || mem["limit"] == 0)) {
            Cgroup cg(group);
            // ("max", no limit, reads as the largest number.)
            auto limit = cg.read_number("memory.max");
            if (!limit || *limit == UINT64_MAX)
                throw Error("update: memory.swap needs a memory limit, and the container has none");
            mem["limit"] = *limit;
        }
    }
}

}  // namespace

int cmd_update(const Globals& g, const std::vector<std::string>& args) {
    std::vector<FlagDef> defs{{{"resources", "r"}, true}};
    for (const char* name : {"blkio-weight", "cpu-period", "cpu-quota", "cpu-share", "cpu-rt-period", "cpu-rt-runtime",
                             "cpuset-cpus", "cpuset-mems", "cpu-idle", "kernel-memory", "kernel-memory-tcp", "memory",
                             "memory-reservation", "memory-swap", "pids-limit", "l3-cache-schema", "mem-bw-schema"})
        defs.push_back({{name}, true});
    Flags f("update", defs, args);
    f.expect(1, 1, "minirt oci update [--resources FILE|-] [--memory SIZE] [--cpu-quota N] ... ID");
    Running c = load_live(g, "update", f.positional()[0]);
    json r;
    if (f.has("resources")) {
        // As runc: the file (or stdin) says everything; the other flags are not read.
        std::string file = f.value("resources");
        std::string text = file == "-" ? std::string(std::istreambuf_iterator<char>(std::cin), {}) : read_file(file);
        try {
            r = json::parse(text);
        } catch (const json::exception& e) {
            throw Error("update: --resources " + file + ": not valid JSON: " + e.what());
        }
        if (!r.is_object()) throw Error("update: --resources " + file + ": must be a linux.resources object");
    } else {
        r = resources_from_flags(f);
    }
    complete_from_group(r, c.state.cgroup);
    Spec spec;
    parse_resources(r, spec);
    // The device rules are create's: update leaves them, as runc does.
    spec.has_device_rules = false;
    try {
        engine::update_limits(c.state.cgroup, spec);
    } catch (const Error& e) {
        throw in_config_terms(e, "update: linux.resources.");
    }
    log_debug(g, "updated " + c.state.id + ": " + r.dump());
    return 0;
}

namespace {

// A file's number ("max", no limit, reads as the largest, as runc reports it).
uint64_t number_or_zero(const Cgroup& cg, const std::string& file) { return cg.read_number(file).value_or(0); }

json flat_keyed(const Cgroup& cg, const std::string& file) {
    json out = json::object();
    auto text = read_file_if_exists(cg.path() / file);
    if (!text) return out;
    for (std::string_view line : split(*text, '\n')) {
        auto w = words(line);
        if (w.size() != 2) continue;
        try {
            out[std::string(w[0])] = static_cast<uint64_t>(parse_int(w[1], file, 0, INT64_MAX));
        } catch (const Error&) {
        }
    }
    return out;
}

// io.stat: "8:0 rbytes=1 wbytes=2 rios=3 wios=4 ..." into runc's entries.
void io_entries(const Cgroup& cg, json& blkio) {
    auto text = read_file_if_exists(cg.path() / "io.stat");
    if (!text) return;
    for (std::string_view line : split(*text, '\n')) {
        auto w = words(line);
        if (w.empty()) continue;
        auto colon = w[0].find(':');
        if (colon == std::string_view::npos) continue;
        uint64_t major = static_cast<uint64_t>(parse_int(w[0].substr(0, colon), "io.stat", 0, INT64_MAX));
        uint64_t minor = static_cast<uint64_t>(parse_int(w[0].substr(colon + 1), "io.stat", 0, INT64_MAX));
        for (size_t i = 1; i < w.size(); ++i) {
            auto eq = w[i].find('=');
            if (eq == std::string_view::npos) continue;
            std::string key(w[i].substr(0, eq));
            uint64_t value = static_cast<uint64_t>(parse_int(w[i].substr(eq + 1), "io.stat", 0, INT64_MAX));
            const char* list = key == "rbytes" || key == "wbytes" ? "ioServiceBytesRecursive"
                               : key == "rios" || key == "wios"   ? "ioServicedRecursive"
                                                                  : nullptr;
            if (!list) continue;
            blkio[list].push_back({{"major", major}, {"minor", minor}, {"op", key[0] == 'r' ? "Read" : "Write"},
                                   {"value", value}});
        }
    }
}

// What runc's events --stats prints for a cgroup v2 group (types/events.go).
json stats_of(const Cgroup& cg) {
    json cpu_stat = flat_keyed(cg, "cpu.stat");
    auto us = [&](const char* key) { return cpu_stat.value(key, uint64_t{0}) * 1000; };
    json cpu{{"usage", {{"total", us("usage_usec")}, {"kernel", us("system_usec")}, {"user", us("user_usec")}}},
             {"throttling",
              {{"periods", cpu_stat.value("nr_periods", uint64_t{0})},
               {"throttledPeriods", cpu_stat.value("nr_throttled", uint64_t{0})},
               {"throttledTime", us("throttled_usec")}}}};
    json raw = flat_keyed(cg, "memory.stat");
    uint64_t usage = number_or_zero(cg, "memory.current");
    json memory{{"cache", raw.value("file", uint64_t{0})},
                {"usage",
                 {{"usage", usage},
                  {"limit", number_or_zero(cg, "memory.max")},
                  {"max", number_or_zero(cg, "memory.peak")},
                  {"failcnt", cg.read_key("memory.events", "max").value_or(0)}}},
                // v1's memsw: memory and swap together.
                {"swap",
                 {{"usage", usage + number_or_zero(cg, "memory.swap.current")},
                  {"limit", number_or_zero(cg, "memory.swap.max")},
                  {"failcnt", cg.read_key("memory.swap.events", "max").value_or(0)}}},
                {"raw", raw}};
    uint64_t pids_limit = number_or_zero(cg, "pids.max");
    json blkio = json::object();
    io_entries(cg, blkio);
    return {{"cpu", cpu},
            {"memory", memory},
            {"pids", {{"current", number_or_zero(cg, "pids.current")}, {"limit", pids_limit == UINT64_MAX ? 0 : pids_limit}}},
            {"blkio", blkio},
            {"hugetlb", json::object()}};
}

// runc's --interval: a Go duration ("5s", "250ms", "1m30s"), in ms.
int interval_ms(const std::string& text) {
    int64_t ns = 0;
    if (text.empty()) throw Error("events: --interval must be above zero");
    try {
        ns = parse_duration_ns(text, "--interval");
    } catch (const Error&) {
        throw Error("events: invalid --interval \"" + text + "\" (use 5s, 250ms, 1m)");
    }
    int64_t ms = ns / 1000000;
    if (ms <= 0 || ms > INT32_MAX) throw Error("events: --interval must be above zero");
    return static_cast<int>(ms);
}

void print_event(const std::string& type, const std::string& id, const json& data) {
    json e{{"type", type}, {"id", id}};
    if (!data.is_null()) e["data"] = data;
    std::cout << e.dump() << std::endl;
}

}  // namespace

int cmd_events(const Globals& g, const std::vector<std::string>& args) {
    Flags f("events", {{{"interval"}, true}, {{"stats"}}}, args);
    f.expect(1, 1, "minirt oci events [--stats] [--interval 5s] ID");
    int every = interval_ms(f.value("interval", "5s"));
    Running c = load_live(g, "events", f.positional()[0]);
    Cgroup cg(c.state.cgroup);
    if (f.has("stats")) {
        print_event("stats", c.state.id, stats_of(cg));
        return 0;
    }
    // Until the container ends: its figures every interval, and an "oom"
    // event each time the kernel kills in its group.
    uint64_t ooms = cg.read_key("memory.events", "oom_kill").value_or(0);
    for (;;) {
        uint64_t now = cg.read_key("memory.events", "oom_kill").value_or(0);
        if (now > ooms) print_event("oom", c.state.id, nullptr);
        ooms = now;
        if (live_status(c.dir, c.state) == Status::Exited) return 0;
        print_event("stats", c.state.id, stats_of(cg));
        ::poll(nullptr, 0, every);
    }
}

}  // namespace minirt::oci
