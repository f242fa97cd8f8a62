#include <catch2/catch.hpp>
#include <csignal>
#include <ctime>

#include "common/error.hpp"
#include "common/parse.hpp"
#include "common/restart_policy.hpp"

using namespace minirt;

TEST_CASE("sizes parse with binary units", "[parse]") {
    CHECK(parse_size("4096", "--mem") == 4096);
    CHECK(parse_size("512k", "--mem") == 512 * 1024);
    CHECK(parse_size("100M", "--mem") == 100ULL << 20);
    CHECK(parse_size("1G", "--mem") == 1ULL << 30);
    CHECK(parse_size("1g", "--mem") == 1ULL << 30);
    CHECK(parse_size("2MiB", "--mem") == 2ULL << 20);
    CHECK(parse_size("3mb", "--mem") == 3ULL << 20);
}

TEST_CASE("bad sizes are refused naming the flag", "[parse]") {
    for (const char* bad : {"", "0", "-1", "abc", "10Q", "1.5G", "99999999999999999999G", "9999999999T", "M", "1 G",
                            "12M3"}) {
        INFO(bad);
        try {
            parse_size(bad, "--mem");
            FAIL("accepted");
        } catch (const Error& e) {
            CHECK(std::string(e.what()).find("--mem") != std::string::npos);
            CHECK(e.exit_code() == 125);
        }
    }
}

TEST_CASE("integers are range checked", "[parse]") {
    CHECK(parse_int("10", "n", 0, 10) == 10);
    CHECK_THROWS_AS(parse_int("11", "n", 0, 10), Error);
    CHECK_THROWS_AS(parse_int("1x", "n", 0, 10), Error);
    CHECK_THROWS_AS(parse_int("", "n", 0, 10), Error);
    CHECK_THROWS_AS(parse_int("99999999999999999999", "n", 0, 10), Error);
}

TEST_CASE("signals by name and number", "[parse]") {
    CHECK(parse_signal("TERM") == SIGTERM);
    CHECK(parse_signal("SIGKILL") == SIGKILL);
    CHECK(parse_signal("hup") == SIGHUP);
    CHECK(parse_signal("15") == 15);
    CHECK_THROWS_AS(parse_signal("NOPE"), Error);
    CHECK_THROWS_AS(parse_signal("0"), Error);
    CHECK_THROWS_AS(parse_signal("999"), Error);
    CHECK(signal_name(SIGTERM) == "SIGTERM");
}

TEST_CASE("container names follow podman's rule", "[parse]") {
    for (const char* good : {"a", "web", "Web-1", "x.y_z", "0abc"}) CHECK_NOTHROW(validate_container_name(good));
    std::string long_name(129, 'a');
    for (std::string bad : {std::string(""), std::string("../x"), std::string("a/b"), std::string("-a"),
                            std::string(".a"), std::string("a b"), std::string("a\nb"), std::string("\xd0\xb0"),
                            long_name, std::string("a\x01")}) {
        INFO(bad);
        CHECK_THROWS_AS(validate_container_name(bad), Error);
    }
}

TEST_CASE("ids are 64 lowercase hex characters and unique", "[parse]") {
    std::string a = generate_id(), b = generate_id();
    CHECK(is_full_id(a));
    CHECK(a != b);
    CHECK_FALSE(is_full_id(a.substr(1)));
    CHECK_FALSE(is_full_id(std::string(64, 'G')));
}

TEST_CASE("environment flags", "[parse]") {
    CHECK(parse_env("A=b=c") == std::pair<std::string, std::string>{"A", "b=c"});
    CHECK(parse_env("A=") == std::pair<std::string, std::string>{"A", ""});
    ::setenv("MINIRT_TEST_ENV", "from-host", 1);
    CHECK(parse_env("MINIRT_TEST_ENV").second == "from-host");
    CHECK_THROWS_AS(parse_env("=x"), Error);
}

TEST_CASE("time specs", "[parse]") {
    CHECK(parse_time_spec("2026-11-24T13:47:11Z", "t") == 1795528031LL * 1000000000LL);
    CHECK(parse_time_spec("2026-11-24T13:47:11.5Z", "t") == 1795528031LL * 1000000000LL + 500000000LL);
    CHECK(parse_time_spec("2026-11-24T14:47:11+01:00", "t") == 1795528031LL * 1000000000LL);
    CHECK(parse_time_spec("1795528031", "t") == 1795528031LL * 1000000000LL);
    int64_t ten_min_ago = parse_time_spec("10m", "t");
    CHECK(std::llabs(now_ns() - ten_min_ago - 600LL * 1000000000LL) < 5LL * 1000000000LL);
    CHECK_THROWS_AS(parse_time_spec("yesterday", "t"), Error);
    // Found by fuzzing: years whose nanoseconds overflow 64 bits.
    CHECK_THROWS_AS(parse_time_spec("-30171689131-01-01T00:00:00Z", "t"), Error);
    CHECK_THROWS_AS(parse_time_spec("99999999999-01-01T00:00:00Z", "t"), Error);
    CHECK_THROWS_AS(parse_time_spec("99999999999999", "t"), Error);
    CHECK_THROWS_AS(parse_time_spec("999999999h", "t"), Error);
    CHECK_THROWS_AS(parse_time_spec("", "t"), Error);
    int64_t t = 1795528031123456789LL;
    CHECK(parse_time_spec(format_rfc3339(t), "t") == t);
}

TEST_CASE("durations", "[parse]") {
    CHECK(parse_duration_ns("1h30m", "d") == 5400LL * 1000000000LL);
    CHECK(parse_duration_ns("250ms", "d") == 250000000LL);
    CHECK(parse_duration_ns("5s", "d") == 5000000000LL);
    for (const char* bad : {"", "5", "x", "5d", "m5", "999999999h"}) CHECK_THROWS_AS(parse_duration_ns(bad, "d"), Error);
}

TEST_CASE("RFC 3339 times agree with timegm across the calendar", "[parse]") {
    // The fast path computes days itself: every 13th day from 1900 to 2254
    // (leap years, centuries, month ends) against the C library.
    for (int64_t day = -25567; day < 104000; day += 13) {
        time_t secs = static_cast<time_t>(day * 86400 + 3723);
        tm t{};
        ::gmtime_r(&secs, &t);
        char text[64];
        std::strftime(text, sizeof text, "%Y-%m-%dT%H:%M:%SZ", &t);
        INFO(text);
        REQUIRE(parse_time_spec(text, "t") == static_cast<int64_t>(::timegm(&t)) * 1000000000LL);
    }
    CHECK(parse_time_spec("2024-02-29T23:59:59Z", "t") == 1709251199LL * 1000000000LL);
    CHECK(parse_time_spec("2024-03-01T00:00:00+00:00", "t") == 1709251200LL * 1000000000LL);
    CHECK_THROWS_AS(parse_time_spec("2026-13-01T00:00:00Z", "t"), Error);
    CHECK_THROWS_AS(parse_time_spec("2026-11-24T25:00:00Z", "t"), Error);
}

TEST_CASE("split keeps empty pieces, words drops blanks", "[parse]") {
    using V = std::vector<std::string_view>;
    CHECK(split("a,,b", ',') == V{"a", "", "b"});
    CHECK(split("", ',') == V{""});
    CHECK(split("a,", ',') == V{"a", ""});
    CHECK(split("0::/x\n1:cpu:/y\n", '\n') == V{"0::/x", "1:cpu:/y", ""});
    CHECK(words("  populated 1\nfrozen\t0\n") == V{"populated", "1", "frozen", "0"});
    CHECK(words("") == V{});
    CHECK(words(" \n\t ") == V{});
    CHECK(words("one") == V{"one"});
}

TEST_CASE("restart policies parse as podman's and refuse the rest", "[parse]") {
    CHECK(parse_restart_policy("no").none());
    CHECK(parse_restart_policy("").none());
    CHECK(parse_restart_policy("always").kind == RestartPolicy::Kind::Always);
    CHECK(parse_restart_policy("unless-stopped").kind == RestartPolicy::Kind::UnlessStopped);
    RestartPolicy p = parse_restart_policy("on-failure:3");
    CHECK(p.kind == RestartPolicy::Kind::OnFailure);
    CHECK(p.max_retries == 3);
    CHECK(to_string(p) == "on-failure:3");
    CHECK(to_string(parse_restart_policy("on-failure")) == "on-failure");
    for (const char* bad : {"sometimes", "always:3", "no:1", "on-failure:", "on-failure:-1", "on-failure:x", "On-Failure"}) {
        INFO(bad);
        CHECK_THROWS_WITH(parse_restart_policy(bad), Catch::Contains("--restart"));
    }
}

TEST_CASE("restart decisions and Docker's backoff", "[parse]") {
    RestartPolicy of3 = parse_restart_policy("on-failure:3");
    CHECK(restart_wanted(of3, 1, 0, false));
    CHECK(restart_wanted(of3, 1, 2, false));
    CHECK_FALSE(restart_wanted(of3, 1, 3, false));
    CHECK_FALSE(restart_wanted(of3, 0, 0, false));
    CHECK(restart_wanted(parse_restart_policy("on-failure"), 1, 1000, false));
    CHECK(restart_wanted(parse_restart_policy("always"), 0, 1000, false));
    CHECK_FALSE(restart_wanted(parse_restart_policy("always"), 1, 0, true));
    CHECK_FALSE(restart_wanted(parse_restart_policy("no"), 1, 0, false));
    CHECK(next_restart_delay_ms(0, 0) == 100);
    CHECK(next_restart_delay_ms(100, 50) == 200);
    CHECK(next_restart_delay_ms(400, 9999) == 800);
    CHECK(next_restart_delay_ms(800, 10000) == 100);
    CHECK(next_restart_delay_ms(51200, 0) == 60000);
    CHECK(next_restart_delay_ms(60000, 0) == 60000);
}
