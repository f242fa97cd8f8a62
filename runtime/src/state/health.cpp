#include "state/health.hpp"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <nlohmann/json.hpp>

#include "common/error.hpp"
#include "common/file.hpp"
#include "common/fd.hpp"
#include "common/json_number.hpp"
#include "common/parse.hpp"

namespace minirt {

using nlohmann::json;

namespace {

fs::path health_file(const Paths& paths, const std::string& id) { return paths.state_dir(id) / "health.json"; }
// The lock in the state directory, which must be there: a check finishing
// after `rm` must not make it again. Released with the descriptor.
UniqueFd lock_health(const Paths& paths, const std::string& id) {
    fs::path path = paths.state_dir(id) / "health.lock";
    UniqueFd fd(::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600));
    if (!fd) throw_errno("open " + path.string());
    while (::flock(fd.get(), LOCK_EX) < 0)
        if (errno != EINTR) throw_errno("lock " + path.string());
    return fd;
}

// The output may be any bytes: stored as valid UTF-8 (invalid bytes
// replaced), so every later dump of it succeeds.
std::string dump_record(const json& j) { return j.dump(-1, ' ', false, json::error_handler_t::replace); }

void write_health(const Paths& paths, const std::string& id, const Health& h) {
    // In the state directory (tmpfs): nothing to make durable.
    write_file_atomic(health_file(paths, id), dump_record(to_json(h)) + "\n", 0644, false);
}

int64_t duration_field(const json& j, const char* key, int64_t fallback) {
    int64_t v = json_integer_or<int64_t>(j, key, fallback);
    if (v < 0) throw Error(std::string("negative ") + key);
    return v;
}

}  // namespace

HealthAction parse_health_action(std::string_view text) {
    for (HealthAction a : {HealthAction::None, HealthAction::Kill, HealthAction::Restart, HealthAction::Stop})
        if (text == to_string(a)) return a;
    throw Error("invalid --health-on-failure " + quote_for_message(text) + ": use none, kill, restart or stop");
}

const char* to_string(HealthAction a) {
    switch (a) {
    case HealthAction::Kill: return "kill";
    case HealthAction::Restart: return "restart";
    case HealthAction::Stop: return "stop";
    case HealthAction::None: break;
    }
    return "none";
}

namespace {

// Docker's Test: ["NONE"], ["CMD", argv...], ["CMD-SHELL", command];
// podman also takes plain words as argv.
std::optional<std::vector<std::string>> command_of_test(const std::vector<std::string>& test, const std::string& what) {
    if (test.empty() || test[0] == "NONE") return std::nullopt;
    if (test[0] == "CMD-SHELL") {
        if (test.size() != 2 || test[1].empty()) throw Error("invalid " + what + ": CMD-SHELL takes one command");
        return std::vector<std::string>{"/bin/sh", "-c", test[1]};
    }
    std::vector<std::string> argv(test.begin() + (test[0] == "CMD" ? 1 : 0), test.end());
    if (argv.empty() || argv[0].empty()) throw Error("invalid " + what + ": no command");
    return argv;
}

}  // namespace

std::optional<std::vector<std::string>> parse_health_command(const std::string& text) {
    std::string shown = "--health-cmd " + quote_for_message(text);
    if (text.empty()) throw Error("invalid --health-cmd \"\": give a command, or none");
    if (text == "none") return std::nullopt;
    if (text[0] == '[') {
        json j = json::parse(text, nullptr, false);
        if (!j.is_array() || j.empty()) throw Error("invalid " + shown + ": not a JSON array of strings");
        std::vector<std::string> test;
        for (const auto& v : j) {
            if (!v.is_string()) throw Error("invalid " + shown + ": not a JSON array of strings");
            test.push_back(v.get<std::string>());
        }
        return command_of_test(test, shown);
    }
    return std::vector<std::string>{"/bin/sh", "-c", text};
}

std::optional<Healthcheck> healthcheck_from_image(const json& config) {
    if (!config.is_object() || !config.contains("Healthcheck") || !config["Healthcheck"].is_object()) return std::nullopt;
    const json& hc = config["Healthcheck"];
    try {
        std::vector<std::string> test;
        if (hc.contains("Test") && hc["Test"].is_array())
            for (const auto& v : hc["Test"])
                if (v.is_string()) test.push_back(v.get<std::string>());
        auto command = command_of_test(test, "Test");
        if (!command) return std::nullopt;
        Healthcheck h;
        h.command = *command;
        // Docker's zero: the default.
        if (int64_t v = duration_field(hc, "Interval", 0)) h.interval_ns = v;
        if (int64_t v = duration_field(hc, "Timeout", 0)) h.timeout_ns = v;
        h.start_period_ns = duration_field(hc, "StartPeriod", 0);
        if (int r = json_integer_or<int>(hc, "Retries", 0); r > 0) h.retries = r;
        return h;
    } catch (const json::exception& e) {
        throw Error(std::string("the image's Healthcheck: ") + e.what());
    } catch (const Error& e) {
        throw Error("the image's Healthcheck: " + e.message());
    }
}

json to_json(const Healthcheck& h) {
    return {{"command", h.command},         {"interval_ns", h.interval_ns},
            {"timeout_ns", h.timeout_ns},   {"start_period_ns", h.start_period_ns},
            {"retries", h.retries},         {"on_failure", to_string(h.on_failure)}};
}

Healthcheck healthcheck_from_json(const json& j) {
    Healthcheck h;
    h.command = j.at("command").get<std::vector<std::string>>();
    if (h.command.empty() || h.command[0].empty()) throw Error("empty health command");
    h.interval_ns = duration_field(j, "interval_ns", h.interval_ns);
    h.timeout_ns = duration_field(j, "timeout_ns", h.timeout_ns);
    if (h.timeout_ns == 0) throw Error("health timeout 0");
    h.start_period_ns = duration_field(j, "start_period_ns", 0);
    h.retries = json_integer_or<int>(j, "retries", 3);
    if (h.retries < 0) throw Error("negative health retries");
    h.on_failure = parse_health_action(j.value("on_failure", std::string("none")));
    return h;
}

json to_json(const Health& h) {
    json log = json::array();
    for (const auto& r : h.log)
        log.push_back({{"start", format_rfc3339(r.start_ns)},
                       {"end", format_rfc3339(r.end_ns)},
                       {"exit_code", r.exit_code},
                       {"output", r.output}});
    return {{"run_started", format_rfc3339(h.run_started_ns)},
            {"status", h.status},
            {"failing_streak", h.failing_streak},
            {"log", log}};
}

Health health_from_json(const std::string& text, const fs::path& source) {
    try {
        json j = json::parse(text);
        Health h;
        if (j.contains("run_started")) h.run_started_ns = parse_time_spec(j["run_started"].get<std::string>(), "run_started");
        h.status = j.at("status").get<std::string>();
        if (h.status != "starting" && h.status != "healthy" && h.status != "unhealthy")
            throw Error("bad status " + quote_for_message(h.status));
        h.failing_streak = json_integer_or<int>(j, "failing_streak", 0);
        for (const auto& e : j.value("log", json::array())) {
            HealthResult r;
            r.start_ns = parse_time_spec(e.at("start").get<std::string>(), "start");
            r.end_ns = parse_time_spec(e.at("end").get<std::string>(), "end");
            r.exit_code = json_integer<int>(e.at("exit_code"), "exit_code");
            r.output = e.value("output", std::string());
            h.log.push_back(std::move(r));
        }
        return h;
    } catch (const json::exception& e) {
        throw Error("corrupt " + source.string() + ": " + e.what());
    } catch (const Error& e) {
        throw Error("corrupt " + source.string() + ": " + e.message());
    }
}

bool apply_health_result(Health& h, const HealthResult& r, const Healthcheck& check, int64_t started_ns) {
    std::string before = h.status;
    h.log.push_back(r);
    if (h.log.size() > kHealthLogKept) h.log.erase(h.log.begin(), h.log.end() - kHealthLogKept);
    if (r.exit_code == 0) {
        h.failing_streak = 0;
        h.status = "healthy";
    } else if (h.status == "starting" && r.start_ns - started_ns < check.start_period_ns) {
        // Still starting up: failures are logged but not counted.
    } else if (++h.failing_streak >= check.retries) {
        h.status = "unhealthy";
    }
    return h.status != before;
}

void reset_health(const Paths& paths, const std::string& id, int64_t started_ns) {
    UniqueFd lock = lock_health(paths, id);
    Health h;
    h.run_started_ns = started_ns;
    write_health(paths, id, h);
}

std::optional<std::pair<Health, bool>> record_health_result(const Paths& paths, const std::string& id,
                                                            const HealthResult& r, const Healthcheck& check,
                                                            int64_t started_ns) {
    UniqueFd lock;
    try {
        lock = lock_health(paths, id);
    } catch (const Error&) {
        return std::nullopt;  // its state directory is gone: removed
    }
    Health h;
    h.run_started_ns = started_ns;
    if (auto text = read_file_if_exists(health_file(paths, id))) {
        try {
            h = health_from_json(*text, health_file(paths, id));
        } catch (const Error&) {
            // A damaged record starts over: it holds nothing but past checks.
            h = Health{};
            h.run_started_ns = started_ns;
        }
    }
    if (h.run_started_ns != started_ns) return std::nullopt;
    bool changed = apply_health_result(h, r, check, started_ns);
    write_health(paths, id, h);
    return std::make_pair(std::move(h), changed);
}

std::optional<Health> read_health(const Paths& paths, const std::string& id) {
    auto text = read_file_if_exists(health_file(paths, id));
    if (!text) return std::nullopt;
    return health_from_json(*text, health_file(paths, id));
}

std::string read_health_status(const Paths& paths, const std::string& id) {
    // Without a DOM: the one "status" key (inside a string its quotes
    // would be escaped; the log's entries have no such key).
    auto text = read_file_if_exists(health_file(paths, id));
    constexpr std::string_view key = "\"status\":\"";
    auto at = text ? text->find(key) : std::string::npos;
    if (at == std::string::npos) return "";
    at += key.size();
    auto end = text->find('"', at);
    return end == std::string::npos ? "" : text->substr(at, end - at);
}

}  // namespace minirt
