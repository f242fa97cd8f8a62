// The per-container shim (conmon's role): the program minirt-shim, which the
// CLI spawns (shim_main.cpp). It lives on its own: it owns the
// container's init process, its output and its cgroup, records how it
// ended, and tears everything down.
#pragma once

#include <string>

#include "state/store.hpp"

namespace minirt {

// The shim tells the CLI over the report pipe that the container started,
// failed to, or exited: common/protocol.hpp's Started, Failed and Exited.
struct ShimArgs {
    const Store* store = nullptr;
    std::string id;
    bool attached = false;  // relay output to our inherited fds 1 and 2
    bool pass_stdin = false;  // our inherited fd 0 is the container's stdin (run -i)
    // The CLI will attach to the terminal (run -t in the foreground): the
    // exit waits for it to connect, so a quick command's output reaches it.
    bool tty_client = false;
    int report_fd = -1;
    int lock_fd = -1;  // the CLI's lock on the container, shared until started
    int netns_fd = -1;  // a socket bringing the container's network namespace (see NetnsMaker)
    // Started again by its own shim (--restart), which waited this long
    // first: no CLI, no report pipe; the restart count carries on.
    bool restarted = false;
    int restart_delay_ms = 0;
};

[[noreturn]] void run_shim(const ShimArgs& args) noexcept;

}  // namespace minirt
