// Terminals: the user's side (raw mode, restored on every exit path) and the
// container's side (a pty from the container's own devpts).
#pragma once

#include <termios.h>

#include <optional>
#include <string>

#include "common/fd.hpp"

namespace minirt {

// Puts `fd` in raw mode for its lifetime. Restores the saved modes in the
// destructor and from restore_terminal_now() (for signal/exit paths).
class RawTerminal {
public:
    explicit RawTerminal(int fd);
    ~RawTerminal();
    RawTerminal(const RawTerminal&) = delete;
    RawTerminal& operator=(const RawTerminal&) = delete;
    bool active() const { return active_; }

private:
    int fd_;
    termios saved_{};
    bool active_ = false;
};
// Async-signal-safe restore of whatever RawTerminal saved last.
void restore_terminal_now() noexcept;

struct WindowSize {
    unsigned short rows = 0, cols = 0;
};
std::optional<WindowSize> window_size(int fd);
void set_window_size(int fd, WindowSize ws) noexcept;

struct Pty {
    UniqueFd master, slave;
};
// Opens a new pty through /dev/ptmx of the current root (inside the
// container: its private devpts).
Pty open_pty();
// Makes `slave` the controlling terminal and stdio of the calling process
// (which must be able to setsid).
void adopt_terminal(int slave);

}  // namespace minirt
