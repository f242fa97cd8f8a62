// Parsers and validators for user input. Each throws Error (exit 125) with a
// message that names the flag or thing being parsed.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>
#include <utility>

namespace minirt {

// `text` cut at each `sep`, empty pieces kept ("a,,b" is three), as views
// into it; "" is one empty piece. No iostreams: they would bring the C++
// locale machinery into the shim (its start and its resident memory).
std::vector<std::string_view> split(std::string_view text, char sep);
// The words of `text`: what lies between spaces, tabs and newlines.
std::vector<std::string_view> words(std::string_view text);

// "100M", "1G", "512k", "4096" (binary units, case-insensitive, optional
// trailing "b"/"ib"). Zero, negative, overflow and garbage are refused.
uint64_t parse_size(std::string_view text, std::string_view what);

// Decimal integer in [min, max]; refuses garbage and overflow.
int64_t parse_int(std::string_view text, std::string_view what, int64_t min, int64_t max);

// Signal by name ("TERM", "SIGTERM", "term") or number; refuses unknown ones.
int parse_signal(std::string_view text);
std::string signal_name(int sig);

// Container names follow podman: [a-zA-Z0-9][a-zA-Z0-9_.-]*, at most 128
// characters. Image names use the same rule (they become directory names).
void validate_container_name(std::string_view name);
void validate_image_name(std::string_view name);
// An image as a container records it: a name, a reference or an id.
void validate_image_ref(std::string_view ref);
void validate_volume_name(std::string_view name);
void validate_network_name(std::string_view name);
// True if `path` is `dir` or below it, by their text ("/proc" and "/proc/x",
// not "/procfs").
bool path_is_under(std::string_view path, std::string_view dir);
bool is_full_id(std::string_view s);

// `text` in double quotes for an error message, each control or non-ASCII
// byte shown as '?'.
std::string quote_for_message(std::string_view text);
// KEY's entry (by name, or by number for `numeric`) in an /etc/passwd or
// /etc/group text: its fields.
std::optional<std::vector<std::string>> colon_entry(const std::string& text, const std::string& key, bool numeric);

// "KEY=VALUE" → pair; "KEY" alone takes the value from minirt's environment.
std::pair<std::string, std::string> parse_env(std::string_view text);

// 64 random hex characters.
std::string generate_id();

// Wall-clock helpers. Timestamps are RFC 3339 UTC with nanoseconds.
int64_t now_ns();
std::string format_rfc3339(int64_t ns);
// Accepts RFC 3339 ("2026-11-24T13:47:11Z", fractional seconds optional),
// a Unix timestamp, or a duration relative to now ("10m", "1h30m", "45s").
int64_t parse_time_spec(std::string_view text, std::string_view what);
// A Go-style duration, as podman's and runc's flags take them: a sequence
// of <number><unit>, units h, m, s and ms ("1h30m", "250ms"), at most a
// century, in nanoseconds. Throws Error naming `what`.
int64_t parse_duration_ns(std::string_view text, std::string_view what);
// "3 minutes" for a span of nanoseconds.
std::string human_duration(int64_t ns);
// "3 minutes ago"-style text for tables.
std::string human_age(int64_t since_ns, int64_t now);
std::string human_size(uint64_t bytes);

}  // namespace minirt
