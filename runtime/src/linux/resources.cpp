#include "linux/resources.hpp"

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <nlohmann/json.hpp>
#include <set>

#include "common/error.hpp"
#include "common/json_number.hpp"
#include "common/parse.hpp"

namespace minirt {

using nlohmann::json;

bool Resources::empty() const {
    return !memory_max && !memory_high && !memory_swap_max && !memory_low && !cpu_quota_us && !cpu_weight && !nice &&
           !cpuset_cpus && !cpuset_mems && !pin_cpu && io_read_bps.empty() && io_write_bps.empty() && !blkio_weight &&
           !pids_max;
}

namespace {

std::string limit_text(uint64_t v) { return v == kNoLimit ? "max" : std::to_string(v); }

}  // namespace

std::vector<ControlWrite> cgroup_writes(const Resources& r) {
    std::vector<ControlWrite> w;
    // memory.low, memory.high, then memory.max: lowering max below current
    // usage reclaims, and high must never sit above max.
    if (r.memory_low) w.push_back({"memory.low", limit_text(*r.memory_low), "--memory-reservation", "memory"});
    if (r.memory_high) w.push_back({"memory.high", std::to_string(*r.memory_high), "--mem-soft", "memory"});
    if (r.memory_max) w.push_back({"memory.max", limit_text(*r.memory_max), "--mem", "memory"});
    if (r.memory_swap_max) {
        w.push_back({"memory.swap.max", limit_text(*r.memory_swap_max), "--mem-swap", "memory"});
    } else if (r.memory_max && !r.swap_as_given) {
        // Without this a limited container would swap instead of being held
        // to its limit (docker/podman: swap = memory unless asked).
        w.push_back({"memory.swap.max", "0", "--mem", "memory"});
    }
    if (r.cpu_quota_us)
        w.push_back({"cpu.max", limit_text(*r.cpu_quota_us) + " " + std::to_string(r.cpu_period_us),
                     "--cpus/--cpu", "cpu"});
    if (r.cpu_weight) w.push_back({"cpu.weight", std::to_string(*r.cpu_weight), "--cpu-weight", "cpu"});
    // --pin-cpu alone uses the CPU affinity of the process, which needs no
    // controller; only an explicit --cpuset-cpus goes through cpuset.
    if (r.cpuset_cpus) w.push_back({"cpuset.cpus", *r.cpuset_cpus, "--cpuset-cpus", "cpuset"});
    if (r.cpuset_mems) w.push_back({"cpuset.mems", *r.cpuset_mems, "--cpuset-mems", "cpuset"});
    // blkio's 10..1000 onto io.weight's 1..10000: the linear map runc and crun use.
    if (r.blkio_weight)
        w.push_back({"io.weight", "default " + std::to_string(1 + (*r.blkio_weight - 10) * 9999 / 990), "--blkio-weight", "io"});
    // One io.max line per device, holding both of its limits.
    std::vector<std::string> devices;
    for (const auto* list : {&r.io_read_bps, &r.io_write_bps})
        for (const auto& l : *list)
            if (std::find(devices.begin(), devices.end(), l.device) == devices.end()) devices.push_back(l.device);
    for (const auto& dev : devices) {
        std::string line = dev, flag;
        for (const auto& l : r.io_read_bps)
            if (l.device == dev) line += " rbps=" + std::to_string(l.bytes_per_sec), flag = "--io-read-bps";
        for (const auto& l : r.io_write_bps)
            if (l.device == dev)
                line += " wbps=" + std::to_string(l.bytes_per_sec), flag += flag.empty() ? "--io-write-bps" : "/--io-write-bps";
        w.push_back({"io.max", line, flag, "io"});
    }
    if (r.pids_max) w.push_back({"pids.max", limit_text(*r.pids_max), "--pids-limit", "pids"});
    return w;
}

std::vector<int> parse_cpu_list(std::string_view text, const std::string& what) {
    auto bad = [&](const std::string& why) {
        return Error("invalid " + what + " \"" + std::string(text) + "\": " + why);
    };
    if (text.empty()) throw bad("empty");
    if (text.back() == ',') throw bad("trailing comma");
    std::set<int> cpus;
    for (std::string_view part : split(text, ',')) {
        auto dash = part.find('-');
        int lo, hi;
        try {
            lo = static_cast<int>(parse_int(part.substr(0, dash), what, 0, 4095));
            hi = dash == std::string_view::npos ? lo : static_cast<int>(parse_int(part.substr(dash + 1), what, 0, 4095));
        } catch (const Error&) {
            throw bad("expected CPU numbers and ranges like 0,2-3");
        }
        if (hi < lo) throw bad("range " + std::string(part) + " is backwards");
        for (int c = lo; c <= hi; ++c) cpus.insert(c);
    }
    return {cpus.begin(), cpus.end()};
}

std::string parse_cpuset(const std::string& text, int ncpus, const std::string& flag) {
    std::vector<int> cpus = parse_cpu_list(text, flag);
    if (cpus.back() >= ncpus)
        throw Error("invalid " + flag + " \"" + text + "\": CPU " + std::to_string(cpus.back()) +
                    " does not exist (this host has " + std::to_string(ncpus) + ")");
    return text;
}

uint64_t parse_cpus(const std::string& text, int ncpus) {
    char* end = nullptr;
    double v = std::strtod(text.c_str(), &end);
    if (text.empty() || *end != '\0' || !std::isfinite(v) || text.find_first_of("xXpP") != std::string::npos)
        throw Error("invalid --cpus \"" + text + "\": expected a number of CPUs like 1.5");
    if (v <= 0) throw Error("invalid --cpus \"" + text + "\": must be greater than zero");
    if (v > ncpus)
        throw Error("invalid --cpus \"" + text + "\": this host has " + std::to_string(ncpus) + " CPUs");
    auto quota = static_cast<uint64_t>(std::llround(v * 100000));
    if (quota < 1000) throw Error("invalid --cpus \"" + text + "\": at least 0.01");
    return quota;
}

json to_json(const Resources& r) {
    json j = json::object();
    auto put = [&](const char* k, const auto& opt) {
        if (opt) j[k] = *opt;
    };
    put("memory_max", r.memory_max);
    put("memory_high", r.memory_high);
    put("memory_swap_max", r.memory_swap_max);
    put("memory_low", r.memory_low);
    put("cpu_quota_us", r.cpu_quota_us);
    if (r.cpu_quota_us) j["cpu_period_us"] = r.cpu_period_us;
    put("cpu_weight", r.cpu_weight);
    put("nice", r.nice);
    put("cpuset_cpus", r.cpuset_cpus);
    put("cpuset_mems", r.cpuset_mems);
    put("blkio_weight", r.blkio_weight);
    put("pin_cpu", r.pin_cpu);
    auto io = [](const std::vector<IoLimit>& v) {
        json a = json::array();
        for (const auto& l : v) a.push_back({{"device", l.device}, {"bytes_per_sec", l.bytes_per_sec}});
        return a;
    };
    if (!r.io_read_bps.empty()) j["io_read_bps"] = io(r.io_read_bps);
    if (!r.io_write_bps.empty()) j["io_write_bps"] = io(r.io_write_bps);
    put("pids_max", r.pids_max);
    return j;
}

Resources resources_from_json(const json& j) {
    Resources r;
    if (!j.is_object()) throw Error("resources must be an object");
    auto get = [&](const char* k, auto& opt) {
        using T = typename std::remove_reference_t<decltype(opt)>::value_type;
        if (!j.contains(k)) return;
        if constexpr (std::is_integral_v<T>) opt = json_integer<T>(j[k], k);
        else opt = j[k].get<T>();
    };
    get("memory_max", r.memory_max);
    get("memory_high", r.memory_high);
    get("memory_swap_max", r.memory_swap_max);
    get("memory_low", r.memory_low);
    get("cpu_quota_us", r.cpu_quota_us);
    r.cpu_period_us = json_integer_or<uint64_t>(j, "cpu_period_us", uint64_t{100000});
    get("cpu_weight", r.cpu_weight);
    get("nice", r.nice);
    get("cpuset_cpus", r.cpuset_cpus);
    get("cpuset_mems", r.cpuset_mems);
    get("blkio_weight", r.blkio_weight);
    get("pin_cpu", r.pin_cpu);
    auto io = [&](const char* k, std::vector<IoLimit>& out) {
        if (!j.contains(k)) return;
        for (const auto& e : j[k]) out.push_back({e.at("device").get<std::string>(), json_integer<uint64_t>(e.at("bytes_per_sec"), "bytes_per_sec")});
    };
    io("io_read_bps", r.io_read_bps);
    io("io_write_bps", r.io_write_bps);
    get("pids_max", r.pids_max);
    if (r.cpu_weight && (*r.cpu_weight < 1 || *r.cpu_weight > 10000)) throw Error("cpu_weight out of range");
    if (r.nice && (*r.nice < -20 || *r.nice > 19)) throw Error("nice out of range");
    if (r.blkio_weight && (*r.blkio_weight < 10 || *r.blkio_weight > 1000)) throw Error("blkio_weight out of range");
    return r;
}

}  // namespace minirt
