#include "common/diagnostics.hpp"

#include <unistd.h>

#include <array>
#include <cerrno>
#include <atomic>

namespace minirt {

namespace {

constexpr std::array<std::string_view, 7> kWords{"trace", "debug", "info", "warning", "error", "fatal", "panic"};

std::atomic<LogLevel> g_level{LogLevel::Warn};

}  // namespace

std::optional<LogLevel> parse_log_level(std::string_view word) {
    if (word == "warn") return LogLevel::Warn;  // podman's spelling; logrus takes both
    for (size_t i = 0; i < kWords.size(); ++i)
        if (word == kWords[i]) return static_cast<LogLevel>(i);
    return std::nullopt;
}

void set_log_level(LogLevel level) { g_level.store(level, std::memory_order_relaxed); }

bool log_enabled(LogLevel level) { return level >= g_level.load(std::memory_order_relaxed); }

void log_message(LogLevel level, std::string_view message) {
    if (!log_enabled(level)) return;
    std::string line = "minirt: ";
    line += kWords[static_cast<size_t>(level)];
    line += ": ";
    line += message;
    line += '\n';
    // Best effort: a closed stderr loses the line, nothing else.
    for (size_t done = 0; done < line.size();) {
        ssize_t n = ::write(STDERR_FILENO, line.data() + done, line.size() - done);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) break;
        done += static_cast<size_t>(n);
    }
}

void log_program(const std::vector<std::string>& argv) {
    if (!log_enabled(LogLevel::Debug)) return;
    std::string line = "running";
    for (const auto& a : argv) {
        bool plain = !a.empty() && a.find_first_not_of("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
                                                       "-_./=:,@+%") == std::string::npos;
        line += ' ';
        if (plain) {
            line += a;
            continue;
        }
        line += '\'';
        for (char ch : a) {
            auto c = static_cast<unsigned char>(ch);
            if (ch == '\'') line += "'\\''";
            else line += (c >= 0x20 && c < 0x7f) ? ch : '?';  // never a control character to the terminal
        }
        line += '\'';
    }
    log_debug(line);
}

}  // namespace minirt
