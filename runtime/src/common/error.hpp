// One error type for the whole runtime: errno survives (std::system_error) and
// each layer adds context, so the CLI can print one precise line.
#pragma once

#include <cerrno>
#include <string>
#include <system_error>

namespace minirt {

// Exit codes follow podman: 125 is minirt's own failure, 126 the command could
// not be invoked, 127 the command was not found.
inline constexpr int kExitMinirtError = 125;
inline constexpr int kExitCannotInvoke = 126;
inline constexpr int kExitNotFound = 127;
// Where podman's scripts test other codes, the same ones (docs/cli.md):
// `rm` of a container that does not exist,
inline constexpr int kExitNoSuchContainer = 1;
// `rm` of a running container, `image rm` of an image in use (podman's
// "container state improper"),
inline constexpr int kExitStateImproper = 2;
// `exec` into a container that is not running.
inline constexpr int kExitExecNotRunning = 255;

class Error : public std::system_error {
public:
    // An error with an errno; `context` says what was being done.
    Error(int err, std::string context, int exit_code = kExitMinirtError);
    // A user-facing error with no errno (bad flag, unknown container, ...).
    explicit Error(std::string message, int exit_code = kExitMinirtError);

    // Returns a copy with "outer: " prefixed, keeping errno and exit code.
    [[nodiscard]] Error wrap(const std::string& outer) const;

    int errno_value() const noexcept { return code().value(); }
    int exit_code() const noexcept { return exit_code_; }
    const std::string& message() const noexcept { return message_; }
    const char* what() const noexcept override { return message_.c_str(); }

private:
    Error(int err, std::string full, int exit_code, bool);
    std::string message_;
    int exit_code_;
};

// Throws Error(errno, context) — for use right after a failed syscall.
[[noreturn]] void throw_errno(const std::string& context);

// Runs fn(); if it throws Error, rethrows it with `outer` as context.
template <typename Fn>
auto with_context(const std::string& outer, Fn&& fn) -> decltype(fn()) {
    try {
        return fn();
    } catch (const Error& e) {
        throw e.wrap(outer);
    }
}

}  // namespace minirt
