#include <catch2/catch.hpp>

#include <filesystem>

#include <nlohmann/json.hpp>

#include "common/error.hpp"
#include "state/health.hpp"
#include "temp_dir.hpp"

using namespace minirt;

namespace {

constexpr int64_t kSec = 1'000'000'000;

HealthResult result(int code, int64_t at_ns) { return {at_ns, at_ns + 1000, code, code ? "failed" : "ok"}; }

}  // namespace

TEST_CASE("health commands as --health-cmd and Docker's Test give them") {
    CHECK(parse_health_command("curl -f http://localhost/") ==
          std::vector<std::string>{"/bin/sh", "-c", "curl -f http://localhost/"});
    CHECK(parse_health_command(R"(["CMD", "test", "-e", "/ok"])") == std::vector<std::string>{"test", "-e", "/ok"});
    CHECK(parse_health_command(R"(["CMD-SHELL", "exit 1"])") == std::vector<std::string>{"/bin/sh", "-c", "exit 1"});
    CHECK(parse_health_command(R"(["true"])") == std::vector<std::string>{"true"});
    CHECK_FALSE(parse_health_command("none"));
    CHECK_FALSE(parse_health_command(R"(["NONE"])"));
    CHECK_THROWS_AS(parse_health_command(""), Error);
    CHECK_THROWS_AS(parse_health_command("[1, 2]"), Error);
    CHECK_THROWS_AS(parse_health_command("[\"CMD\"]"), Error);
    CHECK_THROWS_AS(parse_health_command("[\"CMD-SHELL\", \"a\", \"b\"]"), Error);
    CHECK_THROWS_AS(parse_health_command("[not json"), Error);
}

TEST_CASE("an image's Healthcheck: its nanoseconds, zero for the defaults, NONE for none") {
    auto config = nlohmann::json::parse(R"({"Healthcheck": {"Test": ["CMD-SHELL", "check"], "Interval": 5000000000,
                                             "Timeout": 0, "StartPeriod": 2000000000, "Retries": 7}})");
    auto h = healthcheck_from_image(config);
    REQUIRE(h);
    CHECK(h->command == std::vector<std::string>{"/bin/sh", "-c", "check"});
    CHECK(h->interval_ns == 5 * kSec);
    CHECK(h->timeout_ns == 30 * kSec);
    CHECK(h->start_period_ns == 2 * kSec);
    CHECK(h->retries == 7);
    CHECK_FALSE(healthcheck_from_image(nlohmann::json::parse(R"({"Healthcheck": {"Test": ["NONE"]}})")));
    CHECK_FALSE(healthcheck_from_image(nlohmann::json::parse(R"({"Cmd": ["sh"]})")));
    CHECK_THROWS_AS(healthcheck_from_image(nlohmann::json::parse(R"({"Healthcheck": {"Test": ["CMD"]}})")), Error);
    CHECK_THROWS_AS(healthcheck_from_image(nlohmann::json::parse(R"({"Healthcheck": {"Test": ["CMD", "x"], "Interval": -1}})")),
                    Error);
}

TEST_CASE("a health check survives its JSON form") {
    Healthcheck h;
    h.command = {"true"};
    h.interval_ns = 0;
    h.retries = 2;
    h.on_failure = HealthAction::Restart;
    Healthcheck back = healthcheck_from_json(to_json(h));
    CHECK(back.command == h.command);
    CHECK(back.interval_ns == 0);
    CHECK(back.retries == 2);
    CHECK(back.on_failure == HealthAction::Restart);
    CHECK_THROWS_AS(parse_health_action("reboot"), Error);
}

TEST_CASE("status follows Docker's rules: retries, success, the start period") {
    Healthcheck check;
    check.retries = 2;
    check.start_period_ns = 10 * kSec;
    const int64_t start = 1000 * kSec;
    Health h;
    CHECK(h.status == "starting");
    // In the start period, while starting: failures are logged, not counted.
    CHECK_FALSE(apply_health_result(h, result(1, start + 1 * kSec), check, start));
    CHECK_FALSE(apply_health_result(h, result(1, start + 2 * kSec), check, start));
    CHECK(h.failing_streak == 0);
    CHECK(h.status == "starting");
    CHECK(apply_health_result(h, result(0, start + 3 * kSec), check, start));
    CHECK(h.status == "healthy");
    // Once healthy, the start period no longer shields a failure.
    CHECK_FALSE(apply_health_result(h, result(1, start + 4 * kSec), check, start));
    CHECK(h.failing_streak == 1);
    CHECK(apply_health_result(h, result(-1, start + 5 * kSec), check, start));
    CHECK(h.status == "unhealthy");
    CHECK(apply_health_result(h, result(0, start + 6 * kSec), check, start));
    CHECK(h.failing_streak == 0);
    // The log keeps the last five, oldest first.
    for (int i = 0; i < 4; ++i) apply_health_result(h, result(i, start + (7 + i) * kSec), check, start);
    REQUIRE(h.log.size() == kHealthLogKept);
    CHECK(h.log.front().start_ns == start + 6 * kSec);
    CHECK(h.log.back().exit_code == 3);
}

TEST_CASE("health.json: reset, results folded in, the status read without a DOM") {
    TempDir t;
    Paths p;
    p.root = t.dir / "run";
    const std::string id(64, 'b');
    CHECK_THROWS_AS(reset_health(p, id, 1), Error);  // its state directory is never made here
    std::filesystem::create_directories(p.state_dir(id));
    CHECK_FALSE(read_health(p, id));
    CHECK(read_health_status(p, id).empty());
    const int64_t run = 1795528031123456789LL;
    reset_health(p, id, run);
    CHECK(read_health_status(p, id) == "starting");
    CHECK(read_health(p, id)->run_started_ns == run);
    Healthcheck check;
    check.retries = 1;
    // Output that is not UTF-8, with quotes that look like the key.
    HealthResult r = result(1, run + 5 * kSec);
    r.output = "\"status\":\"healthy\" \xff\xfe";
    auto recorded = record_health_result(p, id, r, check, run);
    REQUIRE(recorded);
    CHECK(recorded->second);
    CHECK(recorded->first.status == "unhealthy");
    CHECK(read_health_status(p, id) == "unhealthy");
    auto back = read_health(p, id);
    REQUIRE(back);
    CHECK(back->failing_streak == 1);
    REQUIRE(back->log.size() == 1);
    CHECK(back->log[0].output.starts_with("\"status\":\"healthy\" "));
    // A check of an earlier run (one that outlived it) is not counted.
    CHECK_FALSE(record_health_result(p, id, result(0, run + 6 * kSec), check, run - 1));
    CHECK(read_health(p, id)->log.size() == 1);
    reset_health(p, id, run + 1);
    CHECK(read_health(p, id)->log.empty());
    // Gone with its state directory: nothing recorded, nothing made again.
    std::filesystem::remove_all(p.state_dir(id));
    CHECK_FALSE(record_health_result(p, id, r, check, run + 1));
    CHECK_FALSE(std::filesystem::exists(p.state_dir(id)));
}
