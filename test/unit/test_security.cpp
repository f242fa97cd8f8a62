#include <sys/resource.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "common/error.hpp"
#include "linux/capabilities.hpp"
#include "linux/seccomp.hpp"
#include "linux/security.hpp"
#include "linux/userns.hpp"
#include "state/records.hpp"

using namespace minirt;
using nlohmann::json;

TEST_CASE("the default capability set is podman's", "[security]") {
    CHECK(default_capabilities() == 0x800405fbULL);
    CHECK(capability_names(default_capabilities()).size() == 11);
    CHECK(capability_from_name("CAP_SYS_ADMIN") == 21);
    CHECK(capability_from_name("sys_admin") == 21);
    CHECK(capability_from_name("Net_Raw") == 13);
    CHECK_FALSE(capability_from_name("CAP_BOGUS"));
    CHECK_FALSE(capability_from_name(""));
    CHECK(capability_name(0) == "CAP_CHOWN");
    CHECK(capability_name(40) == "CAP_CHECKPOINT_RESTORE");
}

TEST_CASE("--cap-drop applies before --cap-add; ALL works both ways", "[security]") {
    CHECK(apply_cap_flags(default_capabilities(), {"NET_RAW"}, {"ALL"}) == (1ULL << 13));
    CHECK(apply_cap_flags(default_capabilities(), {}, {"chown"}) == (default_capabilities() & ~1ULL));
    CHECK(apply_cap_flags(0, {"ALL"}, {}) == all_known_capabilities());
    CHECK_THROWS_WITH(apply_cap_flags(0, {"NOPE"}, {}), Catch::Contains("--cap-add"));
    CHECK_THROWS_WITH(apply_cap_flags(0, {}, {"NOPE"}), Catch::Contains("--cap-drop"));
    CHECK(capability_mask(capability_names(0x1234567ULL), "x") == 0x1234567ULL);
}

TEST_CASE("--ulimit parses NAME=SOFT[:HARD]", "[security]") {
    auto u = parse_ulimit("nofile=1024:2048");
    CHECK(u.name == "nofile");
    CHECK(u.soft == 1024);
    CHECK(u.hard == 2048);
    u = parse_ulimit("RLIMIT_CORE=unlimited");
    CHECK(u.name == "core");
    CHECK(u.soft == kRlimUnlimited);
    CHECK(u.hard == kRlimUnlimited);
    CHECK(parse_ulimit("nproc=5").hard == 5);
    CHECK(parse_ulimit("stack=1:unlimited").hard == kRlimUnlimited);
    for (const char* bad : {"nofile", "nofile=", "=5", "bogus=1", "nofile=abc", "nofile=10:5", "nofile=-5",
                            "nofile=1:2:3", "nofile=99999999999999999999999", "nofile=unlimited:5", "nofile= 5"})
        CHECK_THROWS_WITH(parse_ulimit(bad), Catch::Contains("--ulimit"));
    CHECK(rlimit_resource("nofile") == RLIMIT_NOFILE);
    CHECK(rlimit_resource("nope") == -1);
}

TEST_CASE("--user takes numeric UID[:GID]", "[security]") {
    CHECK(parse_user("1000").first == 1000);
    CHECK_FALSE(parse_user("1000").second);
    CHECK(parse_user("1000:5").second == 5u);
    CHECK(parse_user("0:0").first == 0);
    for (const char* bad : {"", "root", "1000:", ":5", "-1", "4294967295", "99999999999", "1000:abc", "1:2:3", " 1"})
        CHECK_THROWS_WITH(parse_user(bad), Catch::Contains("--user"));
}

TEST_CASE("id mappings are parsed and validated", "[security][userns]") {
    auto m = parse_id_mapping("0:100000:65536", "--uidmap");
    CHECK(m.container_id == 0);
    CHECK(m.host_id == 100000);
    CHECK(m.size == 65536);
    for (const char* bad : {"", "0:1", "0:1:2:3", "a:1:1", "0:1:0", "-1:1:1", "0::1", "0:1:99999999999"})
        CHECK_THROWS_WITH(parse_id_mapping(bad, "--uidmap"), Catch::Contains("--uidmap"));
    CHECK_NOTHROW(validate_id_maps({{0, 100000, 1000}, {1000, 300000, 10}}, "--uidmap"));
    CHECK_THROWS_WITH(validate_id_maps({{1, 100000, 1000}}, "--uidmap"), Catch::Contains("container id 0"));
    CHECK_THROWS_WITH(validate_id_maps({{0, 100, 10}, {5, 500, 10}}, "--uidmap"), Catch::Contains("overlap"));
    CHECK_THROWS_WITH(validate_id_maps({{0, 100, 10}, {10, 105, 10}}, "--uidmap"), Catch::Contains("overlap"));
    CHECK_THROWS_WITH(validate_id_maps({{0, 0xfffffff0U, 0x20}}, "--uidmap"), Catch::Contains("overflows"));
    CHECK(host_id_for({{0, 100000, 10}}, 9) == 100009u);
    CHECK_FALSE(host_id_for({{0, 100000, 10}}, 10));
    CHECK(id_map_text({{0, 100000, 65536}, {70000, 5, 1}}) == "0 100000 65536\n70000 5 1\n");
}

TEST_CASE("--userns=auto picks the lowest free range", "[security][userns]") {
    CHECK(pick_auto_range({}) == kAutoUsernsBase);
    CHECK(pick_auto_range({{0, kAutoUsernsBase, kAutoUsernsSize}}) == kAutoUsernsBase + kAutoUsernsSize);
    CHECK(pick_auto_range({{0, kAutoUsernsBase + 5, 1}}) == kAutoUsernsBase + kAutoUsernsSize);
    CHECK(pick_auto_range({{0, 1000, 100}}) == kAutoUsernsBase);
}

TEST_CASE("Security round-trips through JSON; bad documents are refused", "[security][records]") {
    Security s;
    s.capabilities = apply_cap_flags(default_capabilities(), {"NET_RAW"}, {"CHOWN"});
    s.no_new_privileges = false;
    s.seccomp = "custom";
    s.seccomp_profile = R"({"defaultAction":"SCMP_ACT_ALLOW"})";
    s.read_only = true;
    s.uid = 1000;
    s.gid = 5;
    s.uid_map = s.gid_map = {{0, 1 << 20, 65536}};
    s.ulimits = {{"nofile", 10, 20}, {"core", kRlimUnlimited, kRlimUnlimited}};
    Security r = security_from_json(to_json(s));
    CHECK(r.capabilities == s.capabilities);
    CHECK(r.no_new_privileges == false);
    CHECK(r.seccomp == "custom");
    CHECK(json::parse(r.seccomp_profile) == json::parse(s.seccomp_profile));
    CHECK(r.read_only);
    CHECK(r.uid == 1000u);
    CHECK(r.gid == 5u);
    CHECK(r.uid_map.size() == 1);
    CHECK(r.ulimits.size() == 2);
    CHECK(r.ulimits[1].soft == kRlimUnlimited);
    // Defaults when absent: older configs keep working, with the defences on.
    Security d = security_from_json(json::object());
    CHECK(d.capabilities == default_capabilities());
    CHECK(d.no_new_privileges);
    CHECK(d.seccomp == "default");
    for (const char* bad : {
             R"([])", R"({"capabilities": ["CAP_NOPE"]})", R"({"capabilities": "CAP_CHOWN"})",
             R"({"seccomp": "weird"})", R"({"seccomp": "custom"})", R"({"seccomp": "custom", "seccomp_profile": 5})",
             R"({"user": {"uid": -1, "gid": 0}})", R"({"user": {"uid": "0", "gid": 0}})",
             R"({"uid_map": [{"container_id": 1, "host_id": 5, "size": 1}], "gid_map": [{"container_id": 0, "host_id": 5, "size": 1}]})",
             R"({"uid_map": [{"container_id": 0, "host_id": 5, "size": 1}]})",
             R"({"ulimits": [{"name": "bogus", "soft": 1, "hard": 1}]})",
             R"({"ulimits": [{"name": "nofile", "soft": -7, "hard": 1}]})", R"({"privileged": "yes"})"}) {
        INFO(bad);
        CHECK_THROWS(security_from_json(json::parse(bad)));
    }
}

TEST_CASE("security_spec turns the config into what init applies", "[security]") {
    Security s;
    s.ulimits = {{"nproc", 5, 6}};
    auto spec = security_spec(s);
    CHECK(spec.default_nofile);
    CHECK(spec.rlimits.size() == 1);
    CHECK(spec.rlimits[0].resource == RLIMIT_NPROC);
    s.ulimits = {{"nofile", 5, 6}};
    CHECK_FALSE(security_spec(s).default_nofile);
    s.privileged = true;
    CHECK(security_spec(s).seccomp == "unconfined");
}

TEST_CASE("the default seccomp filter builds; capabilities unlock their groups", "[security][seccomp]") {
    CHECK(default_seccomp_filter(default_capabilities()));
    CHECK(default_seccomp_filter(all_known_capabilities()));
    std::string dflt = default_seccomp_summary(default_capabilities());
    for (const char* name : {"kexec_load", "init_module", "finit_module", "delete_module", "bpf", "perf_event_open",
                             "keyctl", "add_key", "request_key", "open_by_handle_at", "reboot", "swapon", "swapoff",
                             "mount", "umount2", "pivot_root", "setns"})
        CHECK_THAT(dflt, Catch::Contains(name));
    std::string admin = default_seccomp_summary(default_capabilities() | (1ULL << 21));
    CHECK_THAT(admin, !Catch::Contains("mount"));
    CHECK_THAT(admin, Catch::Contains("keyctl"));  // no capability unlocks the keyrings
}

TEST_CASE("podman-format profiles are compiled or refused with the field named", "[security][seccomp]") {
    CHECK(seccomp_filter_from_json(R"({"defaultAction": "SCMP_ACT_ERRNO", "defaultErrnoRet": 1,
        "archMap": [{"architecture": "SCMP_ARCH_X86_64", "subArchitectures": ["SCMP_ARCH_X86", "SCMP_ARCH_X32"]},
                    {"architecture": "SCMP_ARCH_AARCH64", "subArchitectures": ["SCMP_ARCH_ARM"]}],
        "syscalls": [{"names": ["read", "write", "not_a_syscall"], "action": "SCMP_ACT_ALLOW"},
                     {"names": ["personality"], "action": "SCMP_ACT_ALLOW",
                      "args": [{"index": 0, "value": 0, "op": "SCMP_CMP_EQ"}, {"index": 0, "value": 8, "op": "SCMP_CMP_EQ"}]},
                     {"names": ["clone"], "action": "SCMP_ACT_ALLOW",
                      "args": [{"index": 0, "value": 2114060288, "valueTwo": 0, "op": "SCMP_CMP_MASKED_EQ"}],
                      "excludes": {"caps": ["CAP_SYS_ADMIN"]}},
                     {"names": ["mount"], "action": "SCMP_ACT_ALLOW", "includes": {"caps": ["CAP_SYS_ADMIN"]}}]})",
                                   default_capabilities()));
    CHECK_THROWS_WITH(seccomp_filter_from_json("nope", 0), Catch::Contains("not JSON"));
    CHECK_THROWS_WITH(seccomp_filter_from_json("[]", 0), Catch::Contains("not a JSON object"));
    CHECK_THROWS(seccomp_filter_from_json("{}", 0));
    CHECK_THROWS_WITH(seccomp_filter_from_json(R"({"defaultAction": "SCMP_ACT_NOPE"})", 0), Catch::Contains("SCMP_ACT_NOPE"));
    CHECK_THROWS_WITH(seccomp_filter_from_json(R"({"defaultAction": "SCMP_ACT_ALLOW", "architectures": ["SCMP_ARCH_VAX"]})", 0),
                      Catch::Contains("SCMP_ARCH_VAX"));
    CHECK_THROWS_WITH(seccomp_filter_from_json(R"({"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [{"names": ["read"],
        "action": "SCMP_ACT_ERRNO", "args": [{"index": 9, "value": 0, "op": "SCMP_CMP_EQ"}]}]})", 0), Catch::Contains("index"));
    CHECK_THROWS_WITH(seccomp_filter_from_json(R"({"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [{"names": ["read"],
        "action": "SCMP_ACT_ERRNO", "args": [{"index": 0, "value": 0, "op": "SCMP_CMP_WHAT"}]}]})", 0), Catch::Contains("SCMP_CMP_WHAT"));
    CHECK_THROWS(seccomp_filter_from_json(R"({"defaultAction": "SCMP_ACT_ALLOW", "syscalls": {"names": 1}})", 0));
    CHECK_THROWS(seccomp_filter_from_json(R"({"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [{"names": "read", "action": "SCMP_ACT_ERRNO"}]})", 0));
}

TEST_CASE("a config without a security block gets the defaults", "[security][records]") {
    ContainerConfig c;
    c.id = std::string(64, 'a');
    c.name = "n";
    c.image = "busybox";
    c.created_ns = 1;
    c.command = {"true"};
    c.hostname = "h";
    json j = to_json(c);
    CHECK(j["security"]["capabilities"].size() == 11);
    j.erase("security");
    ContainerConfig back = config_from_json(j.dump(), "config.json");
    CHECK(back.security.capabilities == default_capabilities());
    j["security"] = {{"seccomp", 5}};
    CHECK_THROWS_WITH(config_from_json(j.dump(), "/x/config.json"), Catch::Contains("/x/config.json"));
}

