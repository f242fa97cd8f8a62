// Health checks: what a container's check is (--health-*, the image's
// HEALTHCHECK), and what the checks found, kept in health.json in its state
// directory. The checks themselves run as execs (engine/health_check.hpp),
// on the shim's timer or by `minirt healthcheck run`.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "state/paths.hpp"

namespace minirt {

enum class HealthAction { None, Kill, Restart, Stop };

struct Healthcheck {
    // The command, as the exec runs it ({"/bin/sh", "-c", CMD} for a
    // string, as podman's CMD-SHELL).
    std::vector<std::string> command;
    // podman's defaults; an interval of 0 is "disable": no timer, only
    // `healthcheck run`.
    int64_t interval_ns = 30'000'000'000;
    int64_t timeout_ns = 30'000'000'000;
    int64_t start_period_ns = 0;
    int retries = 3;
    HealthAction on_failure = HealthAction::None;
};

// "none", "kill", "restart", "stop"; Error naming the flag otherwise.
HealthAction parse_health_action(std::string_view text);
const char* to_string(HealthAction a);

// --health-cmd's text: a JSON array (["CMD", "a", "b"], ["CMD-SHELL", "s"],
// or plain words) or a shell command; nullopt for "none" and ["NONE"].
std::optional<std::vector<std::string>> parse_health_command(const std::string& text);
// The image's Healthcheck (Docker's config): nullopt where it has none or
// says NONE. Durations are its nanoseconds; 0 keeps the default.
std::optional<Healthcheck> healthcheck_from_image(const nlohmann::json& config);

nlohmann::json to_json(const Healthcheck& h);
Healthcheck healthcheck_from_json(const nlohmann::json& j);

// What one check found.
struct HealthResult {
    int64_t start_ns = 0, end_ns = 0;
    int exit_code = 0;  // the command's; -1: killed at its timeout
    std::string output;  // its stdout and stderr, the first kHealthOutputMax bytes
};
constexpr size_t kHealthOutputMax = 4096;
constexpr size_t kHealthLogKept = 5;

// What the checks of the current run found: Docker's and podman's words.
struct Health {
    int64_t run_started_ns = 0;  // the run these checks are of (its state's started_at)
    std::string status = "starting";  // "starting", "healthy", "unhealthy"
    int failing_streak = 0;
    std::vector<HealthResult> log;  // the last kHealthLogKept, oldest first
};

nlohmann::json to_json(const Health& h);
Health health_from_json(const std::string& text, const fs::path& source);

// Folds `r` into `h` (a failure within the start period of a container
// started at `started_ns` does not count, as Docker's). True if the status
// changed.
bool apply_health_result(Health& h, const HealthResult& r, const Healthcheck& check, int64_t started_ns);

// health.json of a container: begun anew at each start of its command
// (the run that started at `started_ns`); a check's result is folded in
// under health.lock. Both in its state directory, which goes with it and
// is never made here.
void reset_health(const Paths& paths, const std::string& id, int64_t started_ns);
// Returns the health after `r`, and whether its status changed; nullopt
// where the record is of another run (or gone): a check that outlived the
// run it checked is not counted.
std::optional<std::pair<Health, bool>> record_health_result(const Paths& paths, const std::string& id,
                                                            const HealthResult& r, const Healthcheck& check,
                                                            int64_t started_ns);
// nullopt where the container has no health record (no check, or not
// started since it got one).
std::optional<Health> read_health(const Paths& paths, const std::string& id);
// Its status word alone, without parsing the record (`ps`).
std::string read_health_status(const Paths& paths, const std::string& id);

}  // namespace minirt
