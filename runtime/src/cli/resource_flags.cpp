// The resource flags of `run`, parsed into Resources and checked against
// what this host's cgroup v2 hierarchy can do, before anything is created.
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <fstream>

#include "cli/cli.hpp"
#include "common/file.hpp"
#include "common/parse.hpp"
#include "linux/cgroup.hpp"
#include "linux/monitor.hpp"
#include "linux/resources.hpp"
#include "oci/spec.hpp"

namespace minirt::cli {

namespace {

int host_cpus() {
    long n = ::sysconf(_SC_NPROCESSORS_ONLN);
    return n > 0 ? static_cast<int>(n) : 1;
}

// A partition's io.max entry must name its whole disk.
std::string whole_disk(unsigned maj, unsigned min) {
    std::string sys = "/sys/dev/block/" + std::to_string(maj) + ":" + std::to_string(min);
    if (::access(sys.c_str(), F_OK) != 0) return {};
    if (::access((sys + "/partition").c_str(), F_OK) == 0) {
        std::string parent = read_file_if_exists(sys + "/../dev").value_or("");
        while (!parent.empty() && (parent.back() == '\n' || parent.back() == ' ')) parent.pop_back();
        if (!parent.empty()) return parent;
    }
    return std::to_string(maj) + ":" + std::to_string(min);
}

IoLimit parse_io_limit(const std::string& text, const std::string& flag, const fs::path& storage) {
    auto colon = text.rfind(':');
    std::string dev = colon == std::string::npos ? std::string() : text.substr(0, colon);
    std::string rate = colon == std::string::npos ? text : text.substr(colon + 1);
    IoLimit l;
    l.bytes_per_sec = parse_size(rate, flag);
    unsigned maj, min;
    char extra;
    if (!dev.empty() && std::sscanf(dev.c_str(), "%u:%u%c", &maj, &min, &extra) == 2) {
        l.device = std::to_string(maj) + ":" + std::to_string(min);
        return l;
    }
    std::string path = dev.empty() ? storage.string() : dev;
    struct stat st{};
    if (::stat(path.c_str(), &st) < 0)
        throw Error(errno, "invalid " + flag + " \"" + text + "\": " + path);
    dev_t d = S_ISBLK(st.st_mode) ? st.st_rdev : st.st_dev;
    l.device = whole_disk(major(d), minor(d));
    if (l.device.empty())
        throw Error("invalid " + flag + " \"" + text + "\": " + path + " is not on a block device" +
                    (dev.empty() ? " (the storage directory; name a device: DEV:RATE)" : ""));
    return l;
}

}  // namespace

void add_resource_options(po::options_description& desc) {
    desc.add_options()
        ("mem,m", po::value<std::string>(), "memory limit (memory.max), e.g. 100M")
        ("memory", po::value<std::string>(), "podman's name for --mem")
        ("memory-swap", po::value<std::string>(), "podman's: memory and swap together (-1: swap unlimited); needs --memory")
        ("memory-reservation", po::value<std::string>(), "memory the container keeps under pressure (memory.low)")
        ("mem-soft", po::value<std::string>(), "memory soft limit: throttled above it (memory.high)")
        ("mem-swap", po::value<std::string>(), "swap allowed besides --mem (memory.swap.max; default 0)")
        ("cpus", po::value<std::string>(), "CPU limit in CPUs, e.g. 1.5 (cpu.max)")
        ("cpu", po::value<std::string>(), "CPU quota in µs per 100 ms period, e.g. 50000 = half a CPU (cpu.max)")
        ("cpu-weight", po::value<std::string>(), "relative CPU weight 1..10000, default 100 (cpu.weight)")
        ("cpu-shares,c", po::value<std::string>(), "CPU shares 2..262144, as cgroup v1's (cpu.weight by podman's map)")
        ("cpu-quota", po::value<std::string>(), "CPU quota in µs per --cpu-period (cpu.max)")
        ("cpu-period", po::value<std::string>(), "the CPU quota's period in µs, 1000..1000000 (default 100000)")
        ("nice", po::value<std::string>(), "nice value of the command, -20..19")
        ("cpuset-cpus", po::value<std::string>(), "CPUs to run on, e.g. 0,1 or 0-3 (cpuset.cpus)")
        ("cpuset-mems", po::value<std::string>(), "memory nodes to allocate from, e.g. 0 or 0-1 (cpuset.mems)")
        ("blkio-weight", po::value<std::string>(), "relative block IO weight 10..1000 (io.weight)")
        ("pin-cpu", po::value<std::string>()->implicit_value(""),
         "pin to one CPU (default: the last) and run under SCHED_RR")
        ("io-read-bps", po::value<std::vector<std::string>>(), "[DEV:]RATE read limit (io.max); DEV a path or MAJ:MIN")
        ("io-write-bps", po::value<std::vector<std::string>>(), "[DEV:]RATE write limit (io.max)")
        ("pids-limit", po::value<std::string>(), "maximum number of processes (pids.max); -1: no limit")
        ("soft-mib", po::value<std::string>(), "memory monitor: warn once when RSS exceeds N MiB")
        ("hard-mib", po::value<std::string>(), "memory monitor: kill the container when RSS exceeds N MiB")
        ("monitor-soft", po::value<std::string>(), "memory monitor soft limit as a size, e.g. 40M")
        ("monitor-hard", po::value<std::string>(), "memory monitor hard limit as a size");
}

MonitorLimits monitor_limits_from_flags(const po::variables_map& vm) {
    MonitorLimits m;
    auto mib = [&](const char* flag) {
        return static_cast<uint64_t>(parse_int(vm[flag].as<std::string>(), std::string("--") + flag, 1, 1 << 30)) << 20;
    };
    if (vm.count("soft-mib") && vm.count("monitor-soft")) throw Error("--soft-mib and --monitor-soft both set the soft limit");
    if (vm.count("hard-mib") && vm.count("monitor-hard")) throw Error("--hard-mib and --monitor-hard both set the hard limit");
    std::string soft_flag = vm.count("soft-mib") ? "--soft-mib" : "--monitor-soft";
    std::string hard_flag = vm.count("hard-mib") ? "--hard-mib" : "--monitor-hard";
    if (vm.count("soft-mib")) m.soft = mib("soft-mib");
    if (vm.count("hard-mib")) m.hard = mib("hard-mib");
    if (vm.count("monitor-soft")) m.soft = parse_size(vm["monitor-soft"].as<std::string>(), "--monitor-soft");
    if (vm.count("monitor-hard")) m.hard = parse_size(vm["monitor-hard"].as<std::string>(), "--monitor-hard");
    if (m.soft && m.hard && m.soft > m.hard)
        throw Error("invalid " + soft_flag + ": the soft limit is above the hard limit (" + hard_flag + ")");
    if ((m.soft || m.hard) && !monitor_available())
        throw Error((m.hard ? hard_flag : soft_flag) + " needs the memory monitor, but " + monitor_unavailable_reason());
    return m;
}

Resources resources_from_flags(const po::variables_map& vm, const fs::path& storage) {
    Resources r;
    auto str = [&](const char* k) { return vm[k].as<std::string>(); };
    if (vm.count("mem") && vm.count("memory")) throw Error("--mem and --memory both set the memory limit; give one");
    if (vm.count("mem")) r.memory_max = parse_size(str("mem"), "--mem");
    if (vm.count("memory")) r.memory_max = parse_size(str("memory"), "--memory");
    if (vm.count("memory-swap")) {
        if (vm.count("mem-swap")) throw Error("--mem-swap and --memory-swap both set the swap limit; give one");
        std::string s = str("memory-swap");
        if (!r.memory_max) throw Error("invalid --memory-swap: it needs --memory");
        if (s == "-1") {
            r.memory_swap_max = kNoLimit;
        } else {
            uint64_t total = parse_size(s, "--memory-swap");
            if (total < *r.memory_max) throw Error("invalid --memory-swap \"" + s + "\": below --memory (it counts both)");
            r.memory_swap_max = total - *r.memory_max;
        }
    }
    if (vm.count("memory-reservation")) r.memory_low = parse_size(str("memory-reservation"), "--memory-reservation");
    if (vm.count("mem-soft")) r.memory_high = parse_size(str("mem-soft"), "--mem-soft");
    if (vm.count("mem-swap")) {
        std::string s = str("mem-swap");
        r.memory_swap_max = s == "0" ? 0 : parse_size(s, "--mem-swap");
    }
    if (r.memory_max && r.memory_high && *r.memory_high > *r.memory_max)
        throw Error("invalid --mem-soft: larger than --mem");
    if (vm.count("cpus") && vm.count("cpu")) throw Error("--cpus and --cpu both set the CPU quota; give one");
    if (vm.count("cpus")) r.cpu_quota_us = parse_cpus(str("cpus"), host_cpus());
    if (vm.count("cpu"))
        r.cpu_quota_us = static_cast<uint64_t>(
            parse_int(str("cpu"), "--cpu", 1000, static_cast<int64_t>(host_cpus()) * 100000));
    if (vm.count("cpu-quota") && (vm.count("cpus") || vm.count("cpu")))
        throw Error("--cpu-quota and --cpus/--cpu both set the CPU quota; give one");
    if (vm.count("cpu-period") && !vm.count("cpu-quota")) throw Error("--cpu-period needs --cpu-quota");
    if (vm.count("cpu-period")) r.cpu_period_us = static_cast<uint64_t>(parse_int(str("cpu-period"), "--cpu-period", 1000, 1000000));
    if (vm.count("cpu-quota"))
        r.cpu_quota_us = static_cast<uint64_t>(parse_int(str("cpu-quota"), "--cpu-quota", 1000,
                                                         static_cast<int64_t>(host_cpus()) * static_cast<int64_t>(r.cpu_period_us)));
    if (vm.count("cpu-weight") && vm.count("cpu-shares")) throw Error("--cpu-weight and --cpu-shares both set the CPU weight; give one");
    if (vm.count("cpu-weight")) r.cpu_weight = static_cast<uint64_t>(parse_int(str("cpu-weight"), "--cpu-weight", 1, 10000));
    if (vm.count("cpu-shares"))
        r.cpu_weight = oci::shares_to_weight(static_cast<uint64_t>(parse_int(str("cpu-shares"), "--cpu-shares", 2, 262144)));
    if (vm.count("nice")) r.nice = static_cast<int>(parse_int(str("nice"), "--nice", -20, 19));
    // Both set the group's CPU weight (cpu.weight.nice is cpu.weight by
    // another scale): one of them must say it.
    if (r.nice && r.cpu_weight)
        throw Error("--nice and --cpu-weight both set the container's CPU weight: give one of them");
    if (vm.count("cpuset-cpus")) r.cpuset_cpus = parse_cpuset(str("cpuset-cpus"), host_cpus(), "--cpuset-cpus");
    if (vm.count("cpuset-mems")) {
        r.cpuset_mems = str("cpuset-mems");
        try {
            parse_cpu_list(*r.cpuset_mems, "--cpuset-mems");  // the same list syntax, of memory nodes
        } catch (const Error&) {
            throw Error("invalid --cpuset-mems \"" + *r.cpuset_mems + "\": expected memory node numbers and ranges like 0,2-3");
        }
    }
    if (vm.count("blkio-weight")) r.blkio_weight = static_cast<uint64_t>(parse_int(str("blkio-weight"), "--blkio-weight", 10, 1000));
    if (vm.count("pin-cpu")) {
        std::string s = str("pin-cpu");
        r.pin_cpu = s.empty() ? host_cpus() - 1 : static_cast<int>(parse_int(s, "--pin-cpu", 0, host_cpus() - 1));
    }
    for (const char* flag : {"io-read-bps", "io-write-bps"}) {
        if (!vm.count(flag)) continue;
        auto& list = std::string(flag) == "io-read-bps" ? r.io_read_bps : r.io_write_bps;
        for (const auto& t : vm[flag].as<std::vector<std::string>>())
            list.push_back(parse_io_limit(t, std::string("--") + flag, storage));
    }
    if (vm.count("pids-limit")) {
        // podman's -1 is no limit, a new group's own (so it needs no pids
        // controller either).
        std::string s = str("pids-limit");
        if (s != "-1") r.pids_max = static_cast<uint64_t>(parse_int(s, "--pids-limit", 1, 4194304));
    }
    // Each flag given, by its own name, needs its controller.
    static const std::pair<const char*, const char*> kControllers[] = {
        {"mem", "memory"},          {"memory", "memory"},       {"mem-soft", "memory"},  {"mem-swap", "memory"},
        {"memory-swap", "memory"},  {"memory-reservation", "memory"}, {"cpus", "cpu"},  {"cpu", "cpu"},
        {"cpu-weight", "cpu"},      {"cpu-shares", "cpu"},      {"cpu-quota", "cpu"},    {"cpuset-cpus", "cpuset"},
        {"cpuset-mems", "cpuset"},  {"io-read-bps", "io"},      {"io-write-bps", "io"},  {"blkio-weight", "io"},
        {"pids-limit", "pids"}};
    std::vector<ControllerNeed> needs;
    for (const auto& [flag, controller] : kControllers)
        if (vm.count(flag) && !(std::string_view(flag) == "pids-limit" && !r.pids_max))
            needs.push_back({controller, std::string("--") + flag});
    check_controllers(Resources{}, needs);
    return r;
}

}  // namespace minirt::cli
