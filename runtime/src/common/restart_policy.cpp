#include "common/restart_policy.hpp"

#include <algorithm>

#include "common/error.hpp"
#include "common/parse.hpp"

namespace minirt {

const char* policy_name(RestartPolicy::Kind kind) {
    switch (kind) {
        case RestartPolicy::Kind::OnFailure: return "on-failure";
        case RestartPolicy::Kind::Always: return "always";
        case RestartPolicy::Kind::UnlessStopped: return "unless-stopped";
        case RestartPolicy::Kind::No: break;
    }
    return "no";
}

RestartPolicy parse_restart_policy(std::string_view text, const char* flag) {
    RestartPolicy p;
    std::string_view word = text.substr(0, text.find(':'));
    bool has_max = word.size() != text.size();
    auto refuse = [&](const std::string& why) {
        return Error("invalid " + std::string(flag) + " " + quote_for_message(std::string(text)) + ": " + why);
    };
    if (word == "no" || word.empty()) p.kind = RestartPolicy::Kind::No;
    else if (word == "on-failure") p.kind = RestartPolicy::Kind::OnFailure;
    else if (word == "always") p.kind = RestartPolicy::Kind::Always;
    else if (word == "unless-stopped") p.kind = RestartPolicy::Kind::UnlessStopped;
    else throw refuse("use no, on-failure[:MAX], always or unless-stopped");
    if (has_max) {
        if (p.kind != RestartPolicy::Kind::OnFailure) throw refuse("only on-failure takes a retry count");
        std::string max(text.substr(word.size() + 1));
        p.max_retries = static_cast<int>(parse_int(max, std::string(flag) + " retry count", 0, 1000000));
    }
    return p;
}

std::string to_string(const RestartPolicy& p) {
    std::string s = policy_name(p.kind);
    if (p.kind == RestartPolicy::Kind::OnFailure && p.max_retries > 0) s += ":" + std::to_string(p.max_retries);
    return s;
}

bool restart_wanted(const RestartPolicy& p, int exit_code, int restarts, bool stop_requested) {
    if (stop_requested) return false;
    switch (p.kind) {
        case RestartPolicy::Kind::No: return false;
        case RestartPolicy::Kind::OnFailure: return exit_code != 0 && (p.max_retries == 0 || restarts < p.max_retries);
        case RestartPolicy::Kind::Always:
        case RestartPolicy::Kind::UnlessStopped: return true;
    }
    return false;
}

int next_restart_delay_ms(int last_delay_ms, int64_t ran_ms) {
    if (last_delay_ms <= 0 || ran_ms >= kRestartResetAfterMs) return kRestartFirstDelayMs;
    return std::min(last_delay_ms * 2, kRestartMaxDelayMs);
}

}  // namespace minirt
