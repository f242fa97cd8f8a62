// config.json parsing (oci/spec) and the device filter's program shape.
#include <sys/mount.h>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "common/error.hpp"
#include "linux/device_filter.hpp"
#include "linux/devices.hpp"
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
    CHECK(s.resources.memory_low == 1u << 19);
    CHECK(s.resources.blkio_weight == 500u);
    auto limits = cgroup_writes(s.resources);
    auto written = [&](const std::string& file, const std::string& value) {
        return std::any_of(limits.begin(), limits.end(), [&](const ControlWrite& w) { return w.file == file && w.value == value; });
    };
    CHECK(written("memory.low", "524288"));
    CHECK(written("io.weight", "default 4950"));
    CHECK(has("io.max", "8:0 riops=10"));
    CHECK(has("memory.oom.group", "1"));
    // containerd always sends v1's default share: no weight is written.
    j["linux"]["resources"] = {{"cpu", {{"shares", 1024}}}};
    CHECK(oci::parse_spec(j.dump(), "/b").resources.empty());
    // -1 lifts a limit ("max"), as runc writes it.
    j["linux"]["resources"] = {{"pids", {{"limit", -1}}}, {"memory", {{"limit", -1}, {"swap", -1}}}};
    s = oci::parse_spec(j.dump(), "/b");
    CHECK(s.resources.pids_max == kNoLimit);
    CHECK(s.resources.memory_max == kNoLimit);
    CHECK(s.resources.memory_swap_max == kNoLimit);
    auto writes = cgroup_writes(s.resources);
    REQUIRE(writes.size() == 3);
    CHECK(writes[0].value == "max");
    // A limit alone leaves swap as it is (runc); equal to the limit is no swap.
    j["linux"]["resources"] = {{"memory", {{"limit", 1 << 20}}}};
    s = oci::parse_spec(j.dump(), "/b");
    CHECK_FALSE(s.resources.memory_swap_max);
    CHECK(cgroup_writes(s.resources).size() == 1);
    j["linux"]["resources"] = {{"memory", {{"limit", 1 << 20}, {"swap", 1 << 20}}}};
    CHECK(oci::parse_spec(j.dump(), "/b").resources.memory_swap_max == 0u);
    // A lifted limit alone lifts swap's too.
    j["linux"]["resources"] = {{"memory", {{"limit", -1}}}};
    CHECK(oci::parse_spec(j.dump(), "/b").resources.memory_swap_max == kNoLimit);
    j["linux"]["resources"] = {{"memory", {{"swap", 100}}}};
    CHECK(error_of(j).find("memory.swap: needs a memory limit") != std::string::npos);
    j["linux"]["resources"] = {{"unified", {{"../escape", "1"}}}};
    CHECK(error_of(j).find("is not a cgroup v2 file name") != std::string::npos);
}

TEST_CASE("oci: zero values are \"not set\", as runc reads them (Docker writes them always)") {
    json j = minimal();
    j["linux"]["resources"] = {
        {"memory", {{"limit", 0}, {"reservation", 0}, {"swap", 0}, {"kernel", 0}, {"kernelTCP", 0},
                    {"swappiness", 0}, {"disableOOMKiller", false}}},
        {"cpu", {{"shares", 0}, {"quota", 0}, {"period", 0}, {"realtimeRuntime", 0}, {"realtimePeriod", 0},
                 {"cpus", ""}, {"mems", ""}}},
        {"pids", {{"limit", 0}}},
        {"blockIO", {{"weight", 0}, {"leafWeight", 0}}}};
    oci::Spec s = oci::parse_spec(j.dump(), "/b");
    CHECK(s.resources.empty());
    CHECK(s.extra_writes.empty());
    j["linux"]["resources"] = {{"cpu", {{"realtimeRuntime", 950000}}}};
    CHECK(error_of(j).find("real-time bandwidth is not a cgroup v2 setting") != std::string::npos);
    j["linux"]["resources"] = {{"memory", {{"limit", -2}}}};
    CHECK(error_of(j).find("memory.limit: must be positive, 0 (not set) or -1 (no limit)") != std::string::npos);
}

TEST_CASE("oci: without a mount namespace, mounts never cover the host's /") {
    json j = minimal();
    j["linux"]["namespaces"] = {{{"type", "pid"}}};
    j["root"]["path"] = "/";
    j["mounts"] = {{{"destination", "/proc"}, {"type", "proc"}, {"source", "proc"}}};
    CHECK(error_of(j).find("root.path: is the host's /") != std::string::npos);
    j["root"]["path"] = "/./";
    CHECK(error_of(j).find("root.path: is the host's /") != std::string::npos);
}

TEST_CASE("oci: spec --rootless makes runc's changes, and the result parses") {
    json j = oci::rootless_spec(oci::default_spec(false), 1000, 1001);
    std::vector<std::string> types;
    for (const auto& n : j["linux"]["namespaces"]) types.push_back(n["type"]);
    CHECK(std::count(types.begin(), types.end(), "network") == 0);
    CHECK(types.back() == "user");
    CHECK(j["linux"]["uidMappings"][0]["hostID"] == 1000);
    CHECK(j["linux"]["gidMappings"][0]["hostID"] == 1001);
    CHECK_FALSE(j["linux"].contains("resources"));
    for (const auto& m : j["mounts"])
        for (const auto& o : m["options"]) CHECK_FALSE(o.get<std::string>().starts_with("gid="));
    oci::Spec s = oci::parse_spec(j.dump(), "/b");
    CHECK(s.has_namespace("user"));
    CHECK_FALSE(s.has_namespace("network"));
    auto sys = std::find_if(s.mounts.begin(), s.mounts.end(), [](const oci::Mount& m) { return m.destination == "/sys"; });
    REQUIRE(sys != s.mounts.end());
    CHECK(sys->bind);
    CHECK(sys->recursive);
}

TEST_CASE("oci: personality, ioPriority and rdma limits are applied, not ignored") {
    json j = minimal();
    j["linux"]["personality"] = {{"domain", "LINUX32"}};
    j["process"]["ioPriority"] = {{"class", "IOPRIO_CLASS_IDLE"}, {"priority", 7}};
    j["linux"]["resources"]["rdma"] = {{"mlx5_1", {{"hcaHandles", 3}, {"hcaObjects", 10000}}}};
    oci::Spec s = oci::parse_spec(j.dump(), "/b");
    CHECK(s.process.personality == 0x0008u);
    CHECK(s.process.io_priority == (3 << 13 | 7));
    REQUIRE(s.extra_writes.size() == 1);
    CHECK(s.extra_writes[0].file == "rdma.max");
    CHECK(s.extra_writes[0].value == "mlx5_1 hca_handle=3 hca_object=10000");
    j["linux"]["personality"]["domain"] = "PER_BSD";
    CHECK(error_of(j).find("linux.personality.domain") != std::string::npos);
}

TEST_CASE("oci: a user namespace may map the full 32-bit range") {
    json j = minimal();
    j["linux"]["namespaces"] = {{{"type", "user"}}, {{"type", "mount"}}};
    json full = {{{"containerID", 0}, {"hostID", 0}, {"size", 4294967295u}}};
    j["linux"]["uidMappings"] = full;
    j["linux"]["gidMappings"] = full;
    CHECK(oci::parse_spec(j.dump(), "/b").uid_mappings[0].size == 4294967295u);
    j["linux"]["uidMappings"][0]["size"] = 4294967296u;
    CHECK(error_of(j).find("size: must be 1..4294967295") != std::string::npos);
}

TEST_CASE("oci: sysctls only in namespaces of the container's own, as runc allows them") {
    json j = minimal();
    j["linux"]["namespaces"] = {{{"type", "mount"}}};
    auto checked = [&]() -> std::string {
        try {
            oci::check_sysctl_namespaces(oci::parse_spec(j.dump(), "/b"));
        } catch (const Error& e) {
            return e.message();
        }
        return "";
    };
    auto with = [&](const char* key) {
        j["linux"]["sysctl"] = {{key, "1"}};
        return checked();
    };
    CHECK(with("fs.mqueue.queues_max").find("not allowed in the host's ipc namespace") != std::string::npos);
    CHECK(with("kernel.shmmax").find("not allowed in the host's ipc namespace") != std::string::npos);
    CHECK(with("net.ipv4.ping_group_range").find("not allowed in the host's network namespace") != std::string::npos);
    CHECK(with("kernel.domainname").find("not allowed in the host's uts namespace") != std::string::npos);
    CHECK(with("kernel.printk").find("is not in a namespace of the container's own") != std::string::npos);
    CHECK(with("user.max_user_namespaces").find("needs a user namespace") != std::string::npos);
    j["linux"]["namespaces"] = {{{"type", "mount"}}, {{"type", "ipc"}}, {{"type", "uts"}}, {{"type", "network"}}};
    for (const char* ok : {"fs.mqueue.queues_max", "kernel.shmmax", "net.ipv4.ping_group_range", "kernel.domainname"}) {
        j["linux"]["sysctl"] = {{ok, "1"}};
        CHECK(checked().empty());
    }
    // kernel.hostname is the hostname field's, always.
    CHECK(with("kernel.hostname").find("conflicts with the \"hostname\" field") != std::string::npos);
    // Joining the host's own namespace by path is the host's namespace.
    j["linux"]["namespaces"] = {{{"type", "mount"}}, {{"type", "network"}, {"path", "/proc/self/ns/net"}}};
    CHECK(with("net.ipv4.ping_group_range").find("not allowed in the host's network namespace") != std::string::npos);
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
    // Each set as given, as runc sets them.
    CapMask kill = CapMask{1} << 5, chown = CapMask{1} << 0;
    CHECK(s.process.caps == CapSets{kill | chown, kill, kill | chown, 0, kill | chown});
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

TEST_CASE("oci: linux.devices entries parse, and bad ones are refused naming the field") {
    json j = minimal();
    j["linux"]["devices"] = json::array({
        json{{"path", "/dev/fuse"}, {"type", "c"}, {"major", 10}, {"minor", 229}, {"fileMode", 0666}, {"uid", 0}, {"gid", 0}},
        // fileMode with the type's bits above it, as some engines write it.
        json{{"path", "/dev/sda/"}, {"type", "b"}, {"major", 8}, {"minor", 0}, {"fileMode", 060660}, {"gid", 6}},
        json{{"path", "/run/fifo"}, {"type", "p"}},
    });
    oci::Spec s = oci::parse_spec(j.dump(), "/b");
    REQUIRE(s.device_nodes.size() == 3);
    CHECK(s.device_nodes[0].path == "/dev/fuse");
    CHECK(s.device_nodes[0].type == 'c');
    CHECK(s.device_nodes[0].major == 10);
    CHECK(s.device_nodes[0].minor == 229);
    CHECK(s.device_nodes[0].file_mode == 0666);
    CHECK(s.device_nodes[1].path == "/dev/sda");
    CHECK(s.device_nodes[1].file_mode == 0660);
    CHECK(s.device_nodes[1].gid == 6);
    CHECK(s.device_nodes[2].type == 'p');
    CHECK(s.device_nodes[2].file_mode == 0666);  // absent: 0666

    auto refused = [&](json entry) {
        json k = minimal();
        k["linux"]["devices"] = json::array({entry});
        return error_of(k);
    };
    json good{{"path", "/dev/x"}, {"type", "c"}, {"major", 1}, {"minor", 3}};
    auto with = [&](const char* key, json v) {
        json e = good;
        e[key] = v;
        return e;
    };
    CHECK(refused(with("path", "dev/x")) == "config.json: linux.devices[0].path: \"dev/x\" must be an absolute path");
    CHECK(refused(with("path", "/dev/../etc/x")).find("must not contain \"..\"") != std::string::npos);
    CHECK(refused(with("path", "/proc/x")).find("must not be under /proc or /sys") != std::string::npos);
    CHECK(refused(with("path", "/sys")).find("must not be under /proc or /sys") != std::string::npos);
    CHECK(refused(with("path", "/")).find("must name a file below /") != std::string::npos);
    CHECK(refused(with("type", "x")) == "config.json: linux.devices[0].type: must be c, b, u or p");
    CHECK(refused(with("major", -1)) == "config.json: linux.devices[0].major: must be 0..4095");
    CHECK(refused(with("minor", 1 << 20)) == "config.json: linux.devices[0].minor: must be 0..1048575");
    CHECK(refused(with("fileMode", "0666")) == "config.json: linux.devices[0].fileMode: must be an integer");
    CHECK(refused(with("uid", -5)) == "config.json: linux.devices[0].uid: must be a valid id");
    json no_minor = good;
    no_minor.erase("minor");
    CHECK(refused(no_minor) == "config.json: linux.devices[0].minor: is missing");
    CHECK(refused("/dev/x") == "config.json: linux.devices[0]: must be an object");
    // The nodes are made in the container's own mount namespace, nowhere else.
    json k = minimal();
    k["linux"]["namespaces"] = json::array({json{{"type", "pid"}}});
    k["linux"]["devices"] = json::array({good});
    CHECK(error_of(k) == "config.json: linux.devices: device nodes need a new mount namespace in linux.namespaces");
}

namespace {

// The message of the Error `parse` throws for `text` ("" if none).
template <typename Parse>
std::string message_of(Parse&& parse, const std::string& text) {
    try {
        parse(text);
    } catch (const Error& e) {
        return e.message();
    }
    return "";
}

std::string flag_error(const std::string& text) { return message_of(parse_device_flag, text); }
std::string rule_error(const std::string& text) { return message_of(parse_device_cgroup_rule, text); }

}  // namespace

TEST_CASE("--device: HOST[:CONTAINER][:PERMISSIONS], as podman splits it") {
    DeviceFlag f = parse_device_flag("/dev/null");
    CHECK(f.host == "/dev/null");
    CHECK(f.container == "/dev/null");
    CHECK(f.permissions == "rwm");
    f = parse_device_flag("/dev/null:/dev/mynull");
    CHECK(f.container == "/dev/mynull");
    CHECK(f.permissions == "rwm");
    // A second field of r, w and m is PERMISSIONS, not a path.
    f = parse_device_flag("/dev/zero:r");
    CHECK(f.container == "/dev/zero");
    CHECK(f.permissions == "r");
    f = parse_device_flag("/dev/snd/:/dev//sound/:rw");
    CHECK(f.host == "/dev/snd");
    CHECK(f.container == "/dev/sound");
    CHECK(f.permissions == "rw");
    CHECK(parse_device_flag("/dev/null::wm").container == "/dev/null");

    CHECK(flag_error("/dev/null:relative") ==
          "invalid --device \"/dev/null:relative\": the container path \"relative\" must be an absolute path");
    CHECK(flag_error("/dev/null:/dev/n:rwx") ==
          "invalid --device \"/dev/null:/dev/n:rwx\": permissions must be made of r, w and m");
    CHECK(flag_error("dev/null") == "invalid --device \"dev/null\": the host path must be absolute");
    CHECK(flag_error("") == "invalid --device \"\": the host path must be absolute");
    CHECK(flag_error("/a:/b:r:x") == "invalid --device \"/a:/b:r:x\": expected HOST[:CONTAINER][:PERMISSIONS]");
    CHECK(flag_error("/dev/null:/proc/kcore").find("must not be under /proc or /sys") != std::string::npos);
    CHECK(flag_error("/dev/null:/dev/../etc/x").find("must not contain \"..\"") != std::string::npos);
}

TEST_CASE("--device-cgroup-rule: TYPE MAJOR:MINOR ACCESS, podman's syntax") {
    DeviceAccessRule r = parse_device_cgroup_rule("b 7:* rwm");
    CHECK(r.allow);
    CHECK(r.type == 'b');
    CHECK(r.major == 7);
    CHECK(r.minor == -1);
    CHECK(r.access == "rwm");
    r = parse_device_cgroup_rule("c *:* m");
    CHECK(r.type == 'c');
    CHECK(r.major == -1);
    CHECK(r.access == "m");
    CHECK(parse_device_cgroup_rule("a 1:3 r").type == 'a');

    CHECK(rule_error("x 1:2 r") == "invalid --device-cgroup-rule \"x 1:2 r\": the type must be a, b or c");
    CHECK(rule_error("c 1:2") == "invalid --device-cgroup-rule \"c 1:2\": expected \"TYPE MAJOR:MINOR ACCESS\", e.g. \"c 1:3 rwm\"");
    CHECK(rule_error("c 1 r") == "invalid --device-cgroup-rule \"c 1 r\": expected MAJOR:MINOR, e.g. 1:3 or 7:*");
    CHECK(rule_error("c 1:-3 r") == "invalid --device-cgroup-rule \"c 1:-3 r\": major and minor must be numbers or *");
    CHECK(rule_error("c a:3 r").find("major and minor must be numbers or *") != std::string::npos);
    CHECK(rule_error("c 1:3 rwx") == "invalid --device-cgroup-rule \"c 1:3 rwx\": the access must be made of r, w and m");
    CHECK(rule_error("c 1:3 rwmr").find("the access must be made of r, w and m") != std::string::npos);
}

TEST_CASE("devices: the host's nodes, as --device and --privileged read them") {
    auto null = host_device_node("/dev/null");
    REQUIRE(null);
    CHECK(null->type == 'c');
    CHECK(null->major == 1);
    CHECK(null->minor == 3);
    CHECK(null->file_mode == 0666);
    CHECK_FALSE(host_device_node("/etc/passwd"));
    CHECK_THROWS_AS(host_device_node("/no/such/node"), Error);
    CHECK(host_devices_under("/etc").empty());
    auto all = privileged_host_devices();
    for (const auto& d : all) {
        CHECK(d.path != "/dev/null");
        CHECK_FALSE(d.path.starts_with("/dev/pts/"));
        CHECK((d.type == 'c' || d.type == 'b'));
    }
    CHECK(std::is_sorted(all.begin(), all.end(), [](const DeviceNode& a, const DeviceNode& b) { return a.path < b.path; }));
}
