#include <catch2/catch.hpp>

#include "shim/log.hpp"

using namespace minirt;

TEST_CASE("log chunks become one record per line", "[log]") {
    std::string text = format_log_chunk(1795528031000000000LL, "stdout", "a\nb\n");
    CHECK(text == "2026-11-24T13:47:11.000000000Z stdout F a\n2026-11-24T13:47:11.000000000Z stdout F b\n");
    std::vector<LogRecord> recs;
    PartialLines carry;
    parse_log(text, recs, carry);
    REQUIRE(recs.size() == 2);
    CHECK(recs[0].text == "a\n");
    CHECK(recs[1].stream == "stdout");
    CHECK(carry.empty());
}

TEST_CASE("partial lines are joined", "[log]") {
    std::string text = format_log_chunk(1, "stdout", "hel") + format_log_chunk(2, "stdout", "lo\nwor");
    std::vector<LogRecord> recs;
    PartialLines carry;
    parse_log(text, recs, carry);
    REQUIRE(recs.size() == 1);
    CHECK(recs[0].text == "hello\n");
    REQUIRE(carry.count("stdout"));
    CHECK(carry["stdout"].text == "wor");
    CHECK(carry["stdout"].time_ns == 2);
}

TEST_CASE("empty lines and malformed records", "[log]") {
    std::string text = format_log_chunk(1, "stderr", "\n") + "garbage\n" + format_log_chunk(1, "stdout", "x\n");
    std::vector<LogRecord> recs;
    PartialLines carry;
    parse_log(text, recs, carry);
    REQUIRE(recs.size() == 2);
    CHECK(recs[0].text == "\n");
    CHECK(recs[0].stream == "stderr");
}

TEST_CASE("an unfinished line is never completed by the other stream", "[log]") {
    std::string text = format_log_chunk(1, "stdout", "no newline yet") + format_log_chunk(2, "stderr", "err\n") +
                       format_log_chunk(3, "stdout", " done\n");
    std::vector<LogRecord> recs;
    PartialLines carry;
    parse_log(text, recs, carry);
    REQUIRE(recs.size() == 2);
    CHECK(recs[0].stream == "stderr");
    CHECK(recs[0].text == "err\n");
    CHECK(recs[1].stream == "stdout");
    CHECK(recs[1].text == "no newline yet done\n");
    CHECK(take_partials(carry).empty());
}
