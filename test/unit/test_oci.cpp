// config.json parsing (oci/spec) and the device filter's program shape.
#include <sys/mount.h>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "common/error.hpp"
#include "linux/device_filter.hpp"
#include "oci/spec.hpp"

using namespace minirt;
using nlohmann::json;

namespace {

json minimal() {
    return json{{"ociVersion", "1.0.2"},
                {"process", {{"args", {"sh"}}, {"cwd", "/"}}},
                {"root", {{"path", "rootfs"}}},
                {"linux", {{"namespaces", json::array({json{{"type", "mount"}}, json{{"type", "pid"}}})}}}};
}

std::string error_of(const json& j) {
    try {
        oci::parse_spec(j.dump(), "/bundle");
    } catch (const Error& e) {
        return e.message();
    }
    return "";
}

}  // namespace

TEST_CASE("oci: a minimal config parses, root resolved against the bundle") {
    oci::Spec s = oci::parse_spec(minimal().dump(), "/bundle");
    CHECK(s.root == "/bundle/rootfs");
    CHECK(s.process.args == std::vector<std::string>{"sh"});
    CHECK(s.has_namespace("pid"));
    CHECK_FALSE(s.has_namespace("network"));
    CHECK_FALSE(s.seccomp.has_value());
}

TEST_CASE("oci: unknown fields are ignored, wrong types refused naming the field") {
    json j = minimal();
    j["somethingFromTheFuture"] = {{"a", 1}};
    j["linux"]["futureKnob"] = true;
    CHECK_NOTHROW(oci::parse_spec(j.dump(), "/b"));
    j = minimal();
    j["process"]["args"] = "sh";
    CHECK(error_of(j) == "config.json: process.args: must be an array of strings");
    j = minimal();
    j["process"]["user"] = {{"uid", -1}};
    CHECK(error_of(j) == "config.json: process.user.uid: must be a valid id");
    j = minimal();
    j["linux"]["namespaces"].push_back({{"type", "time-travel"}});
    CHECK(error_of(j).find("unknown namespace type \"time-travel\"") != std::string::npos);
    j = minimal();
    j["ociVersion"] = "2.0.0";
    CHECK(error_of(j).find("ociVersion") != std::string::npos);
    CHECK(error_of(json::array()) == "config.json: (top level): must be an object");
    j = minimal();
    j["process"]["execCPUAffinity"] = {{"final", "1,0-"}};
    CHECK(error_of(j) == "invalid config.json: process.execCPUAffinity.final \"1,0-\": expected CPU numbers and ranges like 0,2-3");
    j["process"]["execCPUAffinity"] = {{"final", "3-1"}};
    CHECK(error_of(j).find("range 3-1 is backwards") != std::string::npos);
    j["process"]["execCPUAffinity"] = {{"final", "0,2-3"}};
    CHECK(oci::parse_spec(j.dump(), "/b").process.cpu_affinity == "0,2-3");
}

TEST_CASE("oci: resources map onto cgroup v2") {
    json j = minimal();
    j["linux"]["resources"] = {{"memory", {{"limit", 1 << 20}, {"swap", 3 << 20}, {"reservation", 1 << 19}}},
                               {"cpu", {{"shares", 2048}, {"quota", 50000}, {"period", 100000}, {"cpus", "0"}}},
                               {"pids", {{"limit", 64}}},
                               {"blockIO", {{"weight", 500}, {"throttleReadIOPSDevice", {{{"major", 8}, {"minor", 0}, {"rate", 10}}}}}},
                               {"unified", {{"memory.oom.group", "1"}}}};
    oci::Spec s = oci::parse_spec(j.dump(), "/b");
    CHECK(s.resources.memory_max == 1u << 20);
    CHECK(s.resources.memory_swap_max == 2u << 20);  // OCI swap counts memory too
    CHECK(s.resources.cpu_weight == oci::shares_to_weight(2048));
    CHECK(s.resources.cpu_quota_us == 50000u);
    CHECK(s.resources.cpuset_cpus == "0");
    CHECK(s.resources.pids_max == 64u);
    auto has = [&](const std::string& file, const std::string& value) {
        for (const auto& w : s.extra_writes)
            if (w.file == file && w.value == value) return true;
        return false;
    };
    CHECK(has("memory.low", "524288"));
    CHECK(has("io.weight", "default 4950"));
    CHECK(has("io.max", "8:0 riops=10"));
    CHECK(has("memory.oom.group", "1"));
    // containerd always sends v1's default share: no weight is written.
    j["linux"]["resources"] = {{"cpu", {{"shares", 1024}}}, {"pids", {{"limit", -1}}}};
    CHECK(oci::parse_spec(j.dump(), "/b").resources.empty());
    j["linux"]["resources"] = {{"memory", {{"swap", 100}}}};
    CHECK(error_of(j).find("memory.swap: needs a memory limit") != std::string::npos);
    j["linux"]["resources"] = {{"unified", {{"../escape", "1"}}}};
    CHECK(error_of(j).find("is not a cgroup v2 file name") != std::string::npos);
}

TEST_CASE("oci: mount options split into flags, propagation and data") {
    oci::Mount m;
    oci::parse_mount_options({"nosuid", "ro", "rbind", "rprivate", "mode=755", "size=1m", "rw"}, m);
    CHECK(m.bind);
    CHECK(m.recursive);
    CHECK(m.flags == MS_NOSUID);  // "rw" after "ro" clears it
    CHECK(m.propagation == (MS_PRIVATE | MS_REC));
    CHECK(m.data == "mode=755,size=1m");
}

TEST_CASE("oci: process capabilities, rlimits and user") {
    json j = minimal();
    j["process"]["capabilities"] = {{"bounding", {"CAP_KILL", "CAP_CHOWN"}},
                                    {"permitted", {"CAP_KILL", "CAP_CHOWN"}},
                                    {"effective", {"CAP_KILL"}},
                                    {"ambient", {"CAP_KILL", "CAP_CHOWN"}}};
    j["process"]["rlimits"] = {{{"type", "RLIMIT_NOFILE"}, {"soft", 10}, {"hard", 20}}};
    j["process"]["user"] = {{"uid", 5}, {"gid", 6}, {"additionalGids", {7, 8}}};
    oci::Spec s = oci::parse_spec(j.dump(), "/b");
    CHECK(s.process.capabilities == (CapMask{1} << 5));  // CAP_KILL: in all three
    CHECK(s.process.ambient == (CapMask{1} << 5));
    REQUIRE(s.process.rlimits.size() == 1);
    CHECK(s.process.rlimits[0].name == "nofile");
    CHECK(s.process.additional_gids == std::vector<uint32_t>{7, 8});
    j["process"]["capabilities"] = {{"bounding", {"CAP_NOT_A_THING"}}};
    CHECK(error_of(j).find("unknown capability \"CAP_NOT_A_THING\"") != std::string::npos);
    j = minimal();
    j["process"]["rlimits"] = {{{"type", "RLIMIT_NOFILE"}, {"soft", 30}, {"hard", 20}}};
    CHECK(error_of(j).find("soft limit is above the hard limit") != std::string::npos);
}

TEST_CASE("oci: container ids follow runc's rule") {
    CHECK_NOTHROW(oci::validate_container_id("abc-1.2_x+y"));
    CHECK_THROWS_AS(oci::validate_container_id("a/b"), Error);
    CHECK_THROWS_AS(oci::validate_container_id(".."), Error);
    CHECK_THROWS_AS(oci::validate_container_id(""), Error);
}

TEST_CASE("oci: the default spec parses back") {
    json spec = oci::default_spec(false);
    CHECK_NOTHROW(oci::parse_spec(spec.dump(), "/b"));
}

TEST_CASE("device filter: rules are checked last to first, ending in deny") {
    std::vector<DeviceAccessRule> rules{{false, 'a', -1, -1, "rwm"}, {true, 'c', 1, 3, "rw"}};
    auto prog = device_filter_program(rules);
    // 7 to unpack the context; the allow rule: type, access (3), major,
    // minor, return (2) = 8; the catch-all deny: return (2), and nothing after.
    CHECK(prog.size() == 7 + 8 + 2);
    CHECK(prog.back().code == (BPF_JMP | BPF_EXIT));
    CHECK(prog[7].code == (BPF_JMP | BPF_JNE | BPF_K));
    CHECK(prog[7].imm == BPF_DEVCG_DEV_CHAR);
    CHECK(prog[7].off == 7);  // to the next rule
    // Without a catch-all the program ends in its own deny.
    auto tail = device_filter_program({{true, 'c', 1, 3, "rwm"}});
    CHECK(tail[tail.size() - 2].imm == 0);
}

TEST_CASE("oci: idmap and tmpcopyup mounts") {
    json j = minimal();
    j["linux"]["namespaces"] = json::array({json{{"type", "mount"}}});
    j["mounts"] = json::array({
        json{{"destination", "/data"}, {"type", "bind"}, {"source", "/srv"}, {"options", {"rbind", "idmap"}},
             {"uidMappings", {json{{"containerID", 0}, {"hostID", 100000}, {"size", 65536}}}},
             {"gidMappings", {json{{"containerID", 0}, {"hostID", 100000}, {"size", 65536}}}}},
        json{{"destination", "/etc"}, {"type", "tmpfs"}, {"source", "tmpfs"}, {"options", {"tmpcopyup", "size=1m"}}},
    });
    oci::Spec s = oci::parse_spec(j.dump(), "/b");
    REQUIRE(s.mounts.size() == 2);
    CHECK(s.mounts[0].idmap);
    CHECK(s.mounts[0].uid_mappings == std::vector<IdMapping>{{0, 100000, 65536}});
    CHECK(s.mounts[1].tmpcopyup);
    CHECK(s.mounts[1].data == "size=1m");
    j["mounts"][0]["options"] = {"rbind"};
    CHECK_THAT(error_of(j), Catch::Contains("need the idmap option"));
    j["mounts"][0]["options"] = {"rbind", "idmap"};
    j["mounts"][0].erase("gidMappings");
    CHECK_THAT(error_of(j), Catch::Contains("both uidMappings and gidMappings"));
    j["mounts"][0] = json{{"destination", "/x"}, {"type", "tmpfs"}, {"source", "tmpfs"}, {"options", {"idmap"}}};
    CHECK_THAT(error_of(j), Catch::Contains("idmap is for bind mounts"));
    j["mounts"][0] = json{{"destination", "/x"}, {"type", "bind"}, {"source", "/x"}, {"options", {"bind", "tmpcopyup"}}};
    CHECK_THAT(error_of(j), Catch::Contains("tmpcopyup is for tmpfs"));
}
