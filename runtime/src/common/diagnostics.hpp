// What minirt tells about itself on stderr besides errors: warnings, and
// with the global --log-level info or debug, what it does (the command,
// the containers it starts and stops, the programs it runs). podman's
// levels; the default is warn.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace minirt {

enum class LogLevel { Trace, Debug, Info, Warn, Error, Fatal, Panic };

// nullopt for a word that is not a level.
std::optional<LogLevel> parse_log_level(std::string_view word);
void set_log_level(LogLevel level);
bool log_enabled(LogLevel level);
// One line, "minirt: LEVEL: message", written with one write(2) (threads
// may log), if `level` is at or above the one set.
void log_message(LogLevel level, std::string_view message);

// Debug: "running PROGRAM ARGS...", quoted as a shell would need them.
void log_program(const std::vector<std::string>& argv);

inline void log_debug(std::string_view message) { log_message(LogLevel::Debug, message); }
inline void log_info(std::string_view message) { log_message(LogLevel::Info, message); }
inline void log_warning(std::string_view message) { log_message(LogLevel::Warn, message); }

}  // namespace minirt
