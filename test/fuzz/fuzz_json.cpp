// libFuzzer target: the JSON loaders of every file minirt reads back
// (config.json, state.json, the security block, seccomp profiles, the event
// journal's lines). Any
// input must give a value or an Error: never a crash, a hang or another
// exception type.
#include <cstddef>
#include <cstdint>
#include <string>

#include <nlohmann/json.hpp>

#include "common/error.hpp"
#include "linux/capabilities.hpp"
#include "linux/seccomp.hpp"
#include "linux/security.hpp"
#include "state/events.hpp"
#include "state/health.hpp"
#include "state/records.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    std::string text(reinterpret_cast<const char*>(data), size);
    using namespace minirt;
    try {
        auto c = config_from_json(text, "config.json");
        // What was accepted must serialise and load again.
        (void)config_from_json(to_json(c).dump(), "config.json");
    } catch (const Error&) {
    }
    try {
        auto s = state_from_json(text, "state.json");
        (void)state_from_json(to_json(s).dump(), "state.json");
    } catch (const Error&) {
    }
    try {
        auto j = nlohmann::json::parse(text);
        auto sec = security_from_json(j);
        (void)security_from_json(to_json(sec));
    } catch (const Error&) {
    } catch (const nlohmann::json::exception&) {
    }
    try {
        (void)seccomp_filter_from_json(text, default_capabilities());
    } catch (const Error&) {
    }
    // health.json, and an image's Healthcheck.
    try {
        auto h = health_from_json(text, "health.json");
        (void)health_from_json(to_json(h).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace), "health.json");
    } catch (const Error&) {
    }
    try {
        (void)healthcheck_from_image(nlohmann::json::parse(text));
    } catch (const Error&) {
    } catch (const nlohmann::json::exception&) {
    }
    // A journal line is a record or nothing; a record's own line as well.
    if (auto e = parse_event_line(text)) (void)parse_event_line(event_line(*e));
    return 0;
}
