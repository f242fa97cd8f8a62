#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "common/error.hpp"
#include "common/parse.hpp"
#include "state/records.hpp"

using namespace minirt;

namespace {
ContainerConfig sample_config() {
    ContainerConfig c;
    c.id = std::string(64, 'a');
    c.name = "web";
    c.image = "busybox";
    c.created_ns = 1795528031000000000LL;
    c.command = {"sh", "-c", "echo hi"};
    c.env = {"PATH=/bin", "A=b"};
    c.hostname = "web";
    c.propagate_mounts = {"/mnt/x"};
    return c;
}
}  // namespace

TEST_CASE("config round-trips through JSON", "[state]") {
    ContainerConfig c = sample_config();
    ContainerConfig back = config_from_json(to_json(c).dump(), "config.json");
    CHECK(back.id == c.id);
    CHECK(back.command == c.command);
    CHECK(back.env == c.env);
    CHECK(back.created_ns == c.created_ns);
    CHECK(back.propagate_mounts == c.propagate_mounts);
    CHECK(back.restart.none());
    c.restart = parse_restart_policy("on-failure:4");
    CHECK(config_from_json(to_json(c).dump(), "config.json").restart == c.restart);
    CHECK_FALSE(back.healthcheck);
    CHECK(back.create_command.empty());
    c.healthcheck = Healthcheck{};
    c.healthcheck->command = {"/bin/sh", "-c", "true"};
    c.healthcheck->on_failure = HealthAction::Stop;
    c.create_command = {"run", "-d", "busybox"};
    back = config_from_json(to_json(c).dump(), "config.json");
    REQUIRE(back.healthcheck);
    CHECK(back.healthcheck->command == c.healthcheck->command);
    CHECK(back.healthcheck->on_failure == HealthAction::Stop);
    CHECK(back.create_command == c.create_command);
}

TEST_CASE("state round-trips through JSON", "[state]") {
    ContainerState s;
    s.id = std::string(64, 'b');
    s.status = Status::Exited;
    s.pid = 42;
    s.pid_start = 12345;
    s.exit_code = 137;
    s.exit_signal = 9;
    s.reason = "stopped";
    s.started_ns = 1795528031000000000LL;
    ContainerState back = state_from_json(to_json(s).dump(), "state.json");
    CHECK(back.status == Status::Exited);
    CHECK(back.exit_code == 137);
    CHECK(back.pid_start == 12345);
    CHECK(back.reason == "stopped");
    CHECK(back.started_ns == s.started_ns);
    CHECK(back.runs.empty());
    CHECK_FALSE(back.restarting);
    s.restarting = true;
    s.restart_count = 2;
    s.runs = {{1, 2, 3, "exited"}, {4, 5, std::nullopt, "shim-lost"}};
    back = state_from_json(to_json(s).dump(), "state.json");
    CHECK(back.restarting);
    CHECK(back.restart_count == 2);
    REQUIRE(back.runs.size() == 2);
    CHECK(back.runs[0].exit_code == 3);
    CHECK(back.runs[1].started_ns == 4);
    CHECK(back.runs[1].finished_ns == 5);
    CHECK_FALSE(back.runs[1].exit_code);
    CHECK(back.runs[1].reason == "shim-lost");
}

TEST_CASE("corrupt records give an error naming the file", "[state]") {
    auto j = to_json(sample_config());
    std::vector<std::string> bad = {"", "{", "[]", "null", "{\"id\": 5}", std::string(100, 'x')};
    auto wrong_type = j;
    wrong_type["command"] = "sh";
    bad.push_back(wrong_type.dump());
    auto empty_cmd = j;
    empty_cmd["command"] = nlohmann::json::array();
    bad.push_back(empty_cmd.dump());
    auto bad_name = j;
    bad_name["name"] = "../etc";
    bad.push_back(bad_name.dump());
    auto bad_image = j;
    bad_image["image"] = "../../x";
    bad.push_back(bad_image.dump());
    for (const auto& text : bad) {
        INFO(text);
        try {
            config_from_json(text, "/x/config.json");
            FAIL("accepted");
        } catch (const Error& e) {
            CHECK(std::string(e.what()).find("/x/config.json") != std::string::npos);
        }
    }
    CHECK_THROWS_AS(state_from_json("{\"id\":\"" + std::string(64, 'a') + "\",\"status\":\"flying\"}", "s"), Error);
    CHECK_THROWS_AS(state_from_json("{\"id\":\"" + std::string(64, 'a') + "\",\"status\":\"running\",\"pid\":-4}", "s"),
                    Error);
}

TEST_CASE("state.json's quick reader agrees with nlohmann's", "[state]") {
    // A UTF-8 byte order mark is skipped by nlohmann but not taken by the
    // quick reader: prefixing one forces the full parse, for comparison.
    auto both = [](const std::string& text) {
        std::string quick = to_json(state_from_json(text, "s")).dump();
        std::string full = to_json(state_from_json("\xEF\xBB\xBF" + text, "s")).dump();
        CHECK(quick == full);
    };
    ContainerState s;
    s.id = std::string(64, 'c');
    s.status = Status::Paused;
    s.pid = 7;
    s.pid_start = 99;
    s.shim_pid = 6;
    s.shim_start = 98;
    s.started_ns = 1795528031000000001LL;
    s.finished_ns = 1795528032000000000LL;
    s.exit_code = -1;
    s.reason = "a \"quoted\"\\ reason\n\t/";
    s.error = "line\r\nx\b\f";
    s.stop_requested = true;
    s.cgroup = "/sys/fs/cgroup/minirt/" + s.id;
    s.restart_count = 3;
    s.restarting = true;
    s.runs = {{1795528031000000001LL, 1795528031500000000LL, 1, "exited"}, {1795528031600000000LL, 0, std::nullopt, "shim-lost"}};
    s.summary = {"web", "busybox", {"sh", "-c", "echo \"hi\""}, 1795528030000000000LL};
    MonitorRecord m;
    m.backend = "eBPF";
    m.id = "web";
    m.soft_limit = 1 << 20;
    m.hard_killed = MonitorRecord::Crossing{5, 6, 1795528033000000000LL};
    s.monitor = m;
    both(to_json(s).dump(2));
    both(to_json(s).dump());
    s.monitor.reset();
    s.exit_code.reset();
    s.summary = {};
    both(to_json(s).dump(2));
    // Fields it does not know, older files without the summary, odd spacing.
    both("{ \"id\" : \"" + std::string(64, 'd') + "\" ,\"status\":\"running\", \"extra\": [1, {\"a\": null}, true],"
         "\"pid\": 0 }\n");
    // What only nlohmann takes or rejects still goes through it.
    both("{\"id\":\"" + std::string(64, 'd') + "\",\"status\":\"running\",\"pid\":1,\"reason\":\"\\u00e9\"}");
    // Numbers are integers that fit, or the file is refused (a double into
    // an int was undefined behaviour in the conversion).
    for (const char* pid : {"\"1\"", "1.0", "1e300", "-1e300", "4294967296", "99999999999999999999"})
        CHECK_THROWS_WITH(state_from_json("{\"id\":\"" + std::string(64, 'a') + "\",\"status\":\"exited\",\"pid\":" +
                                              pid + "}",
                                          "s"),
                          Catch::Contains("pid"));
    CHECK_THROWS_WITH(state_from_json("{\"id\":\"" + std::string(64, 'a') + "\",\"status\":\"exited\"} x", "s"),
                      Catch::Contains("parse_error"));
}

TEST_CASE("a recorded cgroup must be the container's own", "[state]") {
    ContainerState s;
    s.id = std::string(64, 'c');
    s.status = Status::Running;
    s.cgroup = "/sys/fs/cgroup/minirt/" + s.id;
    s.log_dropped_lines = 3;
    s.log_dropped_bytes = 120;
    ContainerState back = state_from_json(to_json(s).dump(), "state.json");
    CHECK(back.cgroup == s.cgroup);
    CHECK(back.log_dropped_lines == 3);
    CHECK(back.log_dropped_bytes == 120);
    for (const std::string& bad : std::vector<std::string>{"/sys/fs/cgroup", "/sys/fs/cgroup/user.slice", "relative/" + s.id,
                            "/sys/fs/cgroup/minirt/" + s.id + "/../../x/" + s.id}) {
        INFO(bad);
        s.cgroup = bad;
        CHECK_THROWS_AS(state_from_json(to_json(s).dump(), "state.json"), Error);
    }
}
