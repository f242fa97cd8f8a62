#include <map>
#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "common/error.hpp"
#include "linux/resources.hpp"

using namespace minirt;

namespace {
std::map<std::string, std::string> writes_of(const Resources& r) {
    std::map<std::string, std::string> m;
    for (const auto& w : cgroup_writes(r)) m[w.file] = w.value;
    return m;
}
}  // namespace

TEST_CASE("memory flags map to memory.max, memory.high and swap", "[resources]") {
    Resources r;
    r.memory_max = 100 << 20;
    auto w = writes_of(r);
    CHECK(w["memory.max"] == "104857600");
    CHECK(w["memory.swap.max"] == "0");
    r.memory_swap_max = 1 << 20;
    r.memory_high = 50 << 20;
    w = writes_of(r);
    CHECK(w["memory.swap.max"] == "1048576");
    CHECK(w["memory.high"] == "52428800");
    // high is written before max.
    auto list = cgroup_writes(r);
    CHECK(list[0].file == "memory.high");
}

TEST_CASE("cpu flags map to cpu.max, cpu.weight and cpuset.cpus", "[resources]") {
    Resources r;
    r.cpu_quota_us = parse_cpus("1.5", 2);
    r.cpu_weight = 400;
    r.cpuset_cpus = parse_cpuset("0-1", 2, "--cpuset-cpus");
    auto w = writes_of(r);
    CHECK(w["cpu.max"] == "150000 100000");
    CHECK(w["cpu.weight"] == "400");
    CHECK(w["cpuset.cpus"] == "0-1");
    Resources pin;
    pin.pin_cpu = 1;
    CHECK(cgroup_writes(pin).empty());  // affinity, no controller needed
}

TEST_CASE("io limits share one io.max line per device", "[resources]") {
    Resources r;
    r.io_read_bps.push_back({"8:0", 2097152});
    r.io_write_bps.push_back({"8:0", 1048576});
    r.io_write_bps.push_back({"8:16", 4096});
    auto list = cgroup_writes(r);
    REQUIRE(list.size() == 2);
    CHECK(list[0].value == "8:0 rbps=2097152 wbps=1048576");
    CHECK(list[0].flag == "--io-read-bps/--io-write-bps");
    CHECK(list[1].value == "8:16 wbps=4096");
    CHECK(list[1].flag == "--io-write-bps");
    CHECK(list[1].controller == "io");
}

TEST_CASE("bad cpu values are refused", "[resources]") {
    for (const char* bad : {"", "0", "-1", "abc", "3", "1e9", "0x1", "nan", "0.001"}) {
        INFO(bad);
        CHECK_THROWS_AS(parse_cpus(bad, 2), Error);
    }
    for (const char* bad : {"", "2", "0-5", "1-0", "a", "0,", ",0", "0--1"}) {
        INFO(bad);
        CHECK_THROWS_AS(parse_cpuset(bad, 2, "--cpuset-cpus"), Error);
    }
    CHECK(parse_cpus("0.5", 2) == 50000);
}

TEST_CASE("resources round-trip through JSON", "[resources]") {
    Resources r;
    r.memory_max = 1;
    r.cpu_weight = 7;
    r.nice = -3;
    r.pin_cpu = 0;
    r.io_write_bps.push_back({"1:2", 3});
    Resources back = resources_from_json(to_json(r));
    CHECK(back.memory_max == 1u);
    CHECK(back.cpu_weight == 7u);
    CHECK(back.nice == -3);
    CHECK(back.pin_cpu == 0);
    REQUIRE(back.io_write_bps.size() == 1);
    CHECK(back.io_write_bps[0].device == "1:2");
    CHECK(to_json(Resources{}).empty());
    CHECK_THROWS_AS(resources_from_json(nlohmann::json{{"cpu_weight", 0}}), Error);
    CHECK_THROWS_AS(resources_from_json(nlohmann::json{{"nice", 40}}), Error);
}

TEST_CASE("CPU lists parse as the kernel writes them", "[resources]") {
    CHECK(parse_cpu_list("0", "x") == std::vector<int>{0});
    CHECK(parse_cpu_list("3,0-1,1", "x") == std::vector<int>{0, 1, 3});
    CHECK(parse_cpu_list("2-4", "x") == std::vector<int>{2, 3, 4});
    for (const char* bad : {"", "1,", ",1", "a", "3-1", "1-", "-1", "0-4096", "1 2"})
        CHECK_THROWS_WITH(parse_cpu_list(bad, "process.execCPUAffinity.final"),
                          Catch::Contains("invalid process.execCPUAffinity.final"));
    CHECK_THROWS_WITH(parse_cpuset("0-2", 2, "--cpuset-cpus"), Catch::Contains("CPU 2 does not exist"));
    CHECK(parse_cpuset("1,0", 2, "--cpuset-cpus") == "1,0");
}
