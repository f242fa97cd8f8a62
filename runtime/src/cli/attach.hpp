// The attach session shared by `run -t`/`run -i -d`... and `attach`.
#pragma once

#include <functional>
#include <optional>
#include <string>

namespace minirt::cli {

struct AttachOptions {
    bool tty = false;          // raw mode and window sizes
    bool stdin_open = true;    // send our stdin
    std::string detach_keys;   // bytes; empty = no detaching
    std::function<void(int)> forward_signal;  // SIGTERM, SIGHUP, ... to the container
};

struct AttachResult {
    std::optional<int> exit_code;  // set when the container exited
    bool detached = false;         // the user typed the detach keys
};
// Relays until the container exits, the user detaches, or the shim goes
// away (neither field set). The terminal is restored on every path out.
AttachResult attach_session(int sock, const AttachOptions& opts);
// "ctrl-p,ctrl-q" → "\x10\x11".
std::string parse_detach_keys(const std::string& spec);

}  // namespace minirt::cli
