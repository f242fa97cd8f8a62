// --restart: when a container's shim starts it again after it exits, and
// how long it waits first (Docker's backoff: 100 ms, doubling, back to
// 100 ms once a run lasted 10 s, never over a minute).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace minirt {

struct RestartPolicy {
    enum class Kind { No, OnFailure, Always, UnlessStopped };
    Kind kind = Kind::No;
    int max_retries = 0;  // on-failure: restarts at most this many (0: no limit)

    bool none() const { return kind == Kind::No; }
    bool operator==(const RestartPolicy&) const = default;
};

constexpr int kRestartFirstDelayMs = 100;
constexpr int kRestartMaxDelayMs = 60000;
constexpr int64_t kRestartResetAfterMs = 10000;

// "no", "on-failure[:MAX]", "always", "unless-stopped"; throws Error
// naming `flag` for anything else.
RestartPolicy parse_restart_policy(std::string_view text, const char* flag = "--restart");
// The text parse_restart_policy reads ("on-failure:3").
std::string to_string(const RestartPolicy& p);
// The policy's word alone ("on-failure"), as podman's restart-policy filter names it.
const char* policy_name(RestartPolicy::Kind kind);

// Whether a run that exited with `exit_code`, after `restarts` restarts
// so far, is started again. A stop or kill by the user (stop_requested)
// never is.
bool restart_wanted(const RestartPolicy& p, int exit_code, int restarts, bool stop_requested);
// The wait before the next start: the first after a run of at least
// kRestartResetAfterMs, else twice the last (`last_delay_ms`, 0 for none), capped.
int next_restart_delay_ms(int last_delay_ms, int64_t ran_ms);

}  // namespace minirt
