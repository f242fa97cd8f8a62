#include "linux/terminal.hpp"

#include <fcntl.h>
#include <stdlib.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "common/error.hpp"

namespace minirt {

namespace {
// For restore_terminal_now(): one terminal is raw at a time in a process.
int g_raw_fd = -1;
termios g_saved{};
}  // namespace

RawTerminal::RawTerminal(int fd) : fd_(fd) {
    if (!::isatty(fd) || ::tcgetattr(fd, &saved_) < 0) return;
    termios raw = saved_;
    ::cfmakeraw(&raw);
    // Keep output processing: the container's terminal already does it.
    raw.c_oflag = saved_.c_oflag;
    g_saved = saved_;
    g_raw_fd = fd;
    if (::tcsetattr(fd, TCSADRAIN, &raw) == 0) active_ = true;
}

RawTerminal::~RawTerminal() {
    if (active_) ::tcsetattr(fd_, TCSADRAIN, &saved_);
    g_raw_fd = -1;
}

void restore_terminal_now() noexcept {
    if (g_raw_fd >= 0) ::tcsetattr(g_raw_fd, TCSADRAIN, &g_saved);
}

std::optional<WindowSize> window_size(int fd) {
    winsize w{};
    if (::ioctl(fd, TIOCGWINSZ, &w) < 0 || w.ws_row == 0) return std::nullopt;
    return WindowSize{w.ws_row, w.ws_col};
}

void set_window_size(int fd, WindowSize ws) noexcept {
    winsize w{};
    w.ws_row = ws.rows;
    w.ws_col = ws.cols;
    ::ioctl(fd, TIOCSWINSZ, &w);
}

Pty open_pty() {
    Pty p;
    p.master.reset(::open("/dev/ptmx", O_RDWR | O_NOCTTY | O_CLOEXEC));
    if (!p.master) throw_errno("open /dev/ptmx");
    if (::grantpt(p.master.get()) < 0 || ::unlockpt(p.master.get()) < 0) throw_errno("unlock pty");
    char name[64];
    if (::ptsname_r(p.master.get(), name, sizeof name) != 0) throw_errno("ptsname");
    p.slave.reset(::open(name, O_RDWR | O_NOCTTY | O_CLOEXEC));
    if (!p.slave) throw_errno(std::string("open ") + name);
    return p;
}

void adopt_terminal(int slave) {
    if (::setsid() < 0) throw_errno("setsid");
    if (::ioctl(slave, TIOCSCTTY, 0) < 0) throw_errno("make the pty the controlling terminal");
    for (int fd = 0; fd < 3; ++fd)
        if (::dup2(slave, fd) < 0) throw_errno("dup2 pty");
}

}  // namespace minirt
