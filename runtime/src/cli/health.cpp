// Health checks at the command line: run's --health-* flags (over the
// image's HEALTHCHECK), and `minirt healthcheck run`, which runs a check
// now, as the shim's timer does (engine/health_check.hpp).
#include <signal.h>

#include <iostream>

#include "cli/cli.hpp"
#include "common/error.hpp"
#include "common/parse.hpp"
#include "container/ops.hpp"
#include "engine/health_check.hpp"

namespace minirt::cli {

namespace {

constexpr int64_t kSecondNs = 1'000'000'000;

const char* const kTimingFlags[] = {"health-interval", "health-timeout", "health-retries", "health-start-period",
                                    "health-on-failure"};

int64_t at_least_a_second(const std::string& text, const char* flag) {
    int64_t ns = parse_duration_ns(text, std::string("--") + flag);
    if (ns < kSecondNs) throw Error("invalid --" + std::string(flag) + " " + quote_for_message(text) + ": at least 1s");
    return ns;
}

}  // namespace

void add_health_options(po::options_description& desc) {
    desc.add_options()
        ("health-cmd", po::value<std::string>(), "check the container's health with this command (a shell command, a JSON array, or none)")
        ("health-interval", po::value<std::string>(), "how often the check runs (default 30s; disable: only `healthcheck run`)")
        ("health-timeout", po::value<std::string>(), "how long a check may take before it is killed and failed (default 30s)")
        ("health-retries", po::value<int>(), "failures in a row that make it unhealthy (default 3)")
        ("health-start-period", po::value<std::string>(), "failures in this time after the start do not count (default 0s)")
        ("health-on-failure", po::value<std::string>(), "what happens when it turns unhealthy: none, kill, restart, stop")
        ("no-healthcheck", "no health check, not even the image's");
}

std::optional<Healthcheck> healthcheck_from_flags(const po::variables_map& vm, const Image& image, bool auto_remove) {
    bool timing = false;
    for (const char* f : kTimingFlags) timing = timing || vm.count(f) > 0;
    if (vm.count("no-healthcheck")) {
        if (timing || vm.count("health-cmd")) throw Error("--no-healthcheck and --health-* conflict: choose one");
        return std::nullopt;
    }
    std::optional<Healthcheck> h;
    if (vm.count("health-cmd")) {
        auto command = parse_health_command(vm["health-cmd"].as<std::string>());
        if (!command) {
            if (timing) throw Error("--health-cmd none and other --health-* flags conflict: choose one");
            return std::nullopt;
        }
        h = image.healthcheck.value_or(Healthcheck{});
        h->command = std::move(*command);
    } else {
        if (!image.healthcheck_error.empty())
            throw Error(image.healthcheck_error + " (give --health-cmd, or --no-healthcheck)");
        h = image.healthcheck;
    }
    if (!h) {
        if (timing) throw Error("--health-* flags need a health check: give --health-cmd (the image has no HEALTHCHECK)");
        return std::nullopt;
    }
    if (vm.count("health-interval")) {
        const auto& text = vm["health-interval"].as<std::string>();
        h->interval_ns = text == "disable" ? 0 : at_least_a_second(text, "health-interval");
    }
    if (vm.count("health-timeout")) h->timeout_ns = at_least_a_second(vm["health-timeout"].as<std::string>(), "health-timeout");
    if (vm.count("health-start-period"))
        h->start_period_ns = parse_duration_ns(vm["health-start-period"].as<std::string>(), "--health-start-period");
    if (vm.count("health-retries")) {
        h->retries = vm["health-retries"].as<int>();
        if (h->retries < 1) throw Error("invalid --health-retries " + std::to_string(h->retries) + ": at least 1");
    }
    // What the flags left of the image's must hold to the flags' rules: a
    // check every nanosecond would keep the host busy forking.
    if (h->interval_ns != 0 && h->interval_ns < kSecondNs)
        throw Error("the health check's interval of " + std::to_string(h->interval_ns / 1'000'000) +
                    "ms (the image's) is under 1s: give --health-interval");
    if (h->timeout_ns < kSecondNs)
        throw Error("the health check's timeout of " + std::to_string(h->timeout_ns / 1'000'000) +
                    "ms (the image's) is under 1s: give --health-timeout");
    if (vm.count("health-on-failure")) h->on_failure = parse_health_action(vm["health-on-failure"].as<std::string>());
    if (auto_remove && h->on_failure == HealthAction::Restart)
        throw Error("--rm and --health-on-failure=restart conflict: a removed container cannot be restarted");
    return h;
}

namespace {

int healthcheck_run(Context& ctx, const Args& args) {
    const char* usage = "minirt healthcheck run CONTAINER";
    po::options_description desc("Options");
    Parsed p = parse(desc, args, usage);
    require_positional(p, 1, 1, usage);
    ContainerView v = view_named(ctx, p.positional[0]);
    const std::string& id = v.id;
    const std::string shown = v.config->name.empty() ? id.substr(0, 12) : v.config->name;
    if (!v.config->healthcheck) throw Error("container " + shown + " has no health check defined");
    if (v.status == Status::Paused) throw Error("container " + shown + " is paused");
    if (v.status != Status::Running) throw Error("container " + shown + " is not running");
    const ContainerState& st = *v.state;
    engine::HealthTarget target{id, st.pid, st.pid_start, st.cgroup, st.shim_pid, st.shim_start, st.started_ns};
    sigset_t none;
    sigemptyset(&none);
    auto [health, result] = engine::check_health(ctx.store, *v.config, target, none);
    if (result.exit_code == 0) return 0;
    // podman's words: the check failed ("starting" while such failures
    // do not count yet: in the start period of a container still starting).
    bool starting = health.status == "starting" && result.start_ns - st.started_ns < v.config->healthcheck->start_period_ns;
    std::cout << (starting ? "starting" : "unhealthy") << "\n";
    return 1;
}

}  // namespace

int cmd_healthcheck(Context& ctx, const Args& args) {
    return run_subcommand(ctx, args, "healthcheck", "minirt healthcheck run CONTAINER",
                          "Commands:\n"
                          "  run CONTAINER   run its health check now: exit 0 if it passed, 1 if not\n",
                          {{{"run"}, healthcheck_run}});
}

}  // namespace minirt::cli
