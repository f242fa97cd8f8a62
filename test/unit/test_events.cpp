#include <catch2/catch.hpp>

#include <fstream>
#include <sstream>

#include "state/events.hpp"
#include "temp_dir.hpp"

using namespace minirt;

namespace {

Paths paths_in(const TempDir& t) {
    Paths p;
    p.root = t.dir / "run";
    p.storage = t.dir / "lib";
    std::filesystem::create_directories(p.root);
    return p;
}

Event sample(const std::string& action, const std::string& name = "web") {
    Event e;
    e.type = "container";
    e.action = action;
    e.id = std::string(64, 'a');
    e.name = name;
    e.image = "busybox";
    e.attributes = {{"exitCode", "3"}};
    return e;
}

std::string slurp(const std::filesystem::path& p) {
    std::ifstream in(p);
    std::stringstream s;
    s << in.rdbuf();
    return s.str();
}

}  // namespace

TEST_CASE("events go to the journal and come back in order", "[events]") {
    TempDir t("events");
    Paths p = paths_in(t);
    EventReader reader(p);
    CHECK(reader.read_new().empty());
    record_event(p, sample("create"));
    record_event(p, sample("start"));
    auto got = reader.read_new();
    REQUIRE(got.size() == 2);
    CHECK(got[0].action == "create");
    CHECK(got[1].action == "start");
    CHECK(got[1].attributes.at("exitCode") == "3");
    CHECK(got[0].time_ns > 0);
    CHECK(got[0].time_ns <= got[1].time_ns);
    CHECK(reader.read_new().empty());
    // A line that is not a record (edited by hand) is passed over.
    CHECK_FALSE(parse_event_line("{\"type\":\"container\"}"));
    CHECK_FALSE(parse_event_line("not json"));
}

TEST_CASE("a record a killed writer cut short is cut off by the next writer", "[events]") {
    TempDir t("events");
    Paths p = paths_in(t);
    record_event(p, sample("create"));
    {
        std::ofstream torn(p.events_file(), std::ios::app);
        torn << "{\"time\":\"2026-01-01T00:00:00Z\",\"type\":\"cont";
    }
    EventReader reader(p);
    CHECK(reader.read_new().size() == 1);  // the torn one is not a record (yet)
    record_event(p, sample("died"));
    std::string text = slurp(p.events_file());
    CHECK(text.find("\"cont\n") == std::string::npos);
    CHECK(text.find("type\":\"cont{") == std::string::npos);
    size_t lines = 0;
    for (char c : text) lines += c == '\n';
    CHECK(lines == 2);
    CHECK(text.back() == '\n');
    EventReader again(p);
    auto got = again.read_new();
    REQUIRE(got.size() == 2);
    CHECK(got[1].action == "died");
}

TEST_CASE("the journal rotates at its bound and a follower reads across", "[events]") {
    TempDir t("events");
    Paths p = paths_in(t);
    // A follower that has the file open reads on into the rotated one.
    EventReader follower(p);
    record_event(p, sample("create"));
    CHECK(follower.read_new().size() == 1);
    std::string big(2000, 'x');
    size_t written = 0;
    while (!std::filesystem::exists(p.events_rotated())) {
        Event e = sample("exec");
        e.attributes = {{"command", big}};
        record_event(p, e);
        ++written;
        REQUIRE(written < 2000);
    }
    CHECK(std::filesystem::file_size(p.events_rotated()) <= kEventsMaxSize);
    CHECK(std::filesystem::file_size(p.events_file()) < kEventsMaxSize);
    auto got = follower.read_new();
    CHECK(got.size() == written);
    EventReader fresh(p);
    CHECK(fresh.read_new().size() == written + 1);
}
