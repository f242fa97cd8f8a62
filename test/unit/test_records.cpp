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
