// libFuzzer target: the parsers of command-line numbers and lists (sizes,
// CPUs, cpusets, integers, --ulimit, --user, --uidmap, capability names,
// --device and --device-cgroup-rule, --restart, --health-cmd and
// --health-on-failure).
// Each must return a value or throw Error naming the flag.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>

#include "common/error.hpp"
#include "common/parse.hpp"
#include "common/restart_policy.hpp"
#include "state/health.hpp"
#include "linux/capabilities.hpp"
#include "linux/devices.hpp"
#include "linux/resources.hpp"
#include "linux/security.hpp"

namespace {

template <typename Fn>
void expect_error_or_value(Fn&& fn, const char* flag) {
    try {
        fn();
    } catch (const minirt::Error& e) {
        // The message must name what was wrong.
        if (e.message().find(flag) == std::string::npos) std::abort();
    }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    using namespace minirt;
    std::string text(reinterpret_cast<const char*>(data), size);
    expect_error_or_value([&] { (void)parse_size(text, "--mem"); }, "--mem");
    expect_error_or_value([&] { (void)parse_restart_policy(text); }, "--restart");
    expect_error_or_value([&] { (void)parse_health_command(text); }, "--health-cmd");
    expect_error_or_value([&] { (void)parse_health_action(text); }, "--health-on-failure");
    expect_error_or_value([&] { (void)parse_cpus(text, 8); }, "--cpus");
    expect_error_or_value([&] { (void)parse_cpuset(text, 8, "--cpuset-cpus"); }, "--cpuset-cpus");
    expect_error_or_value([&] { (void)parse_int(text, "--pids-limit", 1, 4194304); }, "--pids-limit");
    expect_error_or_value([&] { (void)parse_ulimit(text); }, "--ulimit");
    expect_error_or_value([&] { (void)parse_user(text); }, "--user");
    expect_error_or_value([&] { (void)parse_id_mapping(text, "--uidmap"); }, "--uidmap");
    expect_error_or_value([&] { (void)apply_cap_flags(0, {text}, {}); }, "--cap-add");
    expect_error_or_value([&] { (void)parse_device_flag(text); }, "--device");
    expect_error_or_value([&] { (void)parse_device_cgroup_rule(text); }, "--device-cgroup-rule");
    try {
        validate_container_name(text);
    } catch (const Error&) {
    }
    return 0;
}
