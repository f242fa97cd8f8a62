#include "common/parse.hpp"

#include <algorithm>
#include <fcntl.h>
#include <unistd.h>

#include <array>
#include <cctype>
#include <charconv>
#include <chrono>
#include <cmath>
#include <csignal>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <limits>

#include "common/error.hpp"
#include "common/fd.hpp"

namespace minirt {

namespace {

std::string quoted(std::string_view s) { return "\"" + std::string(s) + "\""; }

std::string lower(std::string_view s) {
    std::string out(s);
    for (auto& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return out;
}

struct SignalEntry {
    const char* name;
    int number;
};

constexpr std::array<SignalEntry, 31> kSignals{{
    {"HUP", SIGHUP},       {"INT", SIGINT},       {"QUIT", SIGQUIT},     {"ILL", SIGILL},
    {"TRAP", SIGTRAP},     {"ABRT", SIGABRT},     {"IOT", SIGIOT},       {"BUS", SIGBUS},
    {"FPE", SIGFPE},       {"KILL", SIGKILL},     {"USR1", SIGUSR1},     {"SEGV", SIGSEGV},
    {"USR2", SIGUSR2},     {"PIPE", SIGPIPE},     {"ALRM", SIGALRM},     {"TERM", SIGTERM},
    {"STKFLT", SIGSTKFLT}, {"CHLD", SIGCHLD},     {"CONT", SIGCONT},     {"STOP", SIGSTOP},
    {"TSTP", SIGTSTP},     {"TTIN", SIGTTIN},     {"TTOU", SIGTTOU},     {"URG", SIGURG},
    {"XCPU", SIGXCPU},     {"XFSZ", SIGXFSZ},     {"VTALRM", SIGVTALRM}, {"PROF", SIGPROF},
    {"WINCH", SIGWINCH},   {"IO", SIGIO},         {"SYS", SIGSYS},
}};

}  // namespace

uint64_t parse_size(std::string_view text, std::string_view what) {
    auto bad = [&](const std::string& why) {
        return Error("invalid " + std::string(what) + " " + quoted(text) + ": " + why);
    };
    if (text.empty()) throw bad("empty size");
    size_t i = 0;
    while (i < text.size() && std::isdigit(static_cast<unsigned char>(text[i]))) ++i;
    if (i == 0) throw bad("expected a number with an optional unit (k, m, g, t), e.g. 100M");
    uint64_t value = 0;
    auto [ptr, ec] = std::from_chars(text.data(), text.data() + i, value);
    if (ec == std::errc::result_out_of_range) throw bad("too large");
    if (ec != std::errc() || ptr != text.data() + i) throw bad("not a number");
    std::string unit = lower(text.substr(i));
    if (unit.size() >= 2 && unit.ends_with("ib")) unit.resize(unit.size() - 2);
    else if (unit.size() >= 2 && unit.ends_with("b")) unit.resize(unit.size() - 1);
    else if (unit == "b") unit.clear();
    uint64_t mult = 1;
    if (unit.empty()) mult = 1;
    else if (unit == "k") mult = 1ULL << 10;
    else if (unit == "m") mult = 1ULL << 20;
    else if (unit == "g") mult = 1ULL << 30;
    else if (unit == "t") mult = 1ULL << 40;
    else throw bad("unknown unit " + quoted(text.substr(i)));
    if (value > std::numeric_limits<uint64_t>::max() / mult) throw bad("too large");
    value *= mult;
    // Sizes are handed to the kernel as signed 64-bit quantities.
    if (value > static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) throw bad("too large");
    if (value == 0) throw bad("must be greater than zero");
    return value;
}

int64_t parse_int(std::string_view text, std::string_view what, int64_t min, int64_t max) {
    int64_t value = 0;
    auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (text.empty() || ec != std::errc() || ptr != text.data() + text.size())
        throw Error("invalid " + std::string(what) + " " + quoted(text) + ": not an integer");
    if (value < min || value > max)
        throw Error("invalid " + std::string(what) + " " + quoted(text) + ": must be between " +
                    std::to_string(min) + " and " + std::to_string(max));
    return value;
}

int parse_signal(std::string_view text) {
    if (!text.empty() && std::isdigit(static_cast<unsigned char>(text[0])))
        return static_cast<int>(parse_int(text, "signal", 1, SIGRTMAX));
    std::string name(text);
    for (auto& c : name) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    if (name.starts_with("SIG")) name.erase(0, 3);
    for (const auto& s : kSignals)
        if (name == s.name) return s.number;
    throw Error("invalid signal " + quoted(text));
}

std::string signal_name(int sig) {
    for (const auto& s : kSignals)
        if (s.number == sig) return std::string("SIG") + s.name;
    return "signal " + std::to_string(sig);
}

namespace {
void validate_handle_name(std::string_view name, std::string_view kind) {
    if (name.empty()) throw Error(std::string(kind) + " name must not be empty");
    if (name.size() > 128)
        throw Error(std::string(kind) + " name is longer than 128 characters");
    auto ok_first = [](unsigned char c) { return std::isalnum(c) && c < 0x80; };
    auto ok_rest = [&](unsigned char c) { return ok_first(c) || c == '_' || c == '.' || c == '-'; };
    bool valid = ok_first(static_cast<unsigned char>(name[0]));
    for (size_t i = 1; valid && i < name.size(); ++i) valid = ok_rest(static_cast<unsigned char>(name[i]));
    if (!valid)
        throw Error("invalid " + std::string(kind) + " name " + quote_for_message(name) +
                    ": must match [a-zA-Z0-9][a-zA-Z0-9_.-]*");
}
}  // namespace

std::optional<std::vector<std::string>> colon_entry(const std::string& text, const std::string& key, bool numeric) {
    size_t start = 0;
    while (start < text.size()) {
        size_t end = text.find('\n', start);
        std::string line = text.substr(start, end == std::string::npos ? std::string::npos : end - start);
        start = end == std::string::npos ? text.size() : end + 1;
        std::vector<std::string> f;
        for (size_t a = 0;;) {
            size_t b = line.find(':', a);
            f.push_back(line.substr(a, b == std::string::npos ? std::string::npos : b - a));
            if (b == std::string::npos) break;
            a = b + 1;
        }
        if (f.size() >= 3 && (numeric ? f[2] == key : f[0] == key)) return f;
    }
    return std::nullopt;
}

std::string quote_for_message(std::string_view text) {
    // Never echo control characters back to the terminal: a newline would
    // split the one-line error, an escape sequence repaint the screen.
    std::string shown;
    for (char ch : text) {
        auto c = static_cast<unsigned char>(ch);  // the byte's value, whatever char's signedness
        shown += (c >= 0x20 && c < 0x7f) ? ch : '?';
    }
    return quoted(shown);
}

void validate_container_name(std::string_view name) { validate_handle_name(name, "container"); }
void validate_image_name(std::string_view name) { validate_handle_name(name, "image"); }

void validate_image_ref(std::string_view ref) {
    bool ok = !ref.empty() && ref.size() <= 512 && ref[0] != '/' && ref.find("..") == std::string_view::npos &&
              std::all_of(ref.begin(), ref.end(), [](char c) {
                  return std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '_' || c == '-' || c == ':' ||
                         c == '/' || c == '@';
              });
    if (!ok) throw Error("invalid image " + quote_for_message(ref));
}
void validate_volume_name(std::string_view name) { validate_handle_name(name, "volume"); }
void validate_network_name(std::string_view name) { validate_handle_name(name, "network"); }

bool path_is_under(std::string_view path, std::string_view dir) {
    return path.starts_with(dir) && (path.size() == dir.size() || path[dir.size()] == '/');
}

bool is_full_id(std::string_view s) {
    if (s.size() != 64) return false;
    for (char c : s)
        if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
    return true;
}

std::pair<std::string, std::string> parse_env(std::string_view text) {
    auto eq = text.find('=');
    std::string key(text.substr(0, eq));
    if (key.empty()) throw Error("invalid environment variable " + quoted(text) + ": empty name");
    if (key.find('\0') != std::string::npos)
        throw Error("invalid environment variable: name contains NUL");
    if (eq != std::string_view::npos) return {key, std::string(text.substr(eq + 1))};
    const char* v = std::getenv(key.c_str());
    return {key, v ? v : ""};
}

std::string generate_id() {
    unsigned char raw[32];
    UniqueFd fd(::open("/dev/urandom", O_RDONLY | O_CLOEXEC));
    if (!fd) throw_errno("open /dev/urandom");
    size_t got = 0;
    while (got < sizeof raw) {
        ssize_t n = ::read(fd.get(), raw + got, sizeof raw - got);
        if (n <= 0) {
            if (n < 0 && errno == EINTR) continue;
            throw_errno("read /dev/urandom");
        }
        got += static_cast<size_t>(n);
    }
    static constexpr char hex[] = "0123456789abcdef";
    std::string id;
    id.reserve(64);
    for (unsigned char b : raw) {
        id += hex[b >> 4];
        id += hex[b & 15];
    }
    return id;
}

int64_t now_ns() {
    timespec ts{};
    ::clock_gettime(CLOCK_REALTIME, &ts);
    return static_cast<int64_t>(ts.tv_sec) * 1000000000LL + ts.tv_nsec;
}

std::string format_rfc3339(int64_t ns) {
    time_t secs = static_cast<time_t>(ns / 1000000000LL);
    long frac = static_cast<long>(ns % 1000000000LL);
    // The calendar by arithmetic, not gmtime_r or strftime: they load the
    // time zone (/etc/localtime) on a process's first call, tens of
    // microseconds that a UTC time never needs.
    using namespace std::chrono;
    sys_seconds at{seconds{secs}};
    auto day = floor<days>(at);
    year_month_day date{day};
    hh_mm_ss time{at - day};
    char buf[64];
    std::snprintf(buf, sizeof buf, "%04d-%02u-%02uT%02ld:%02ld:%02ld.%09ldZ", static_cast<int>(date.year()),
                  static_cast<unsigned>(date.month()), static_cast<unsigned>(date.day()),
                  static_cast<long>(time.hours().count()), static_cast<long>(time.minutes().count()),
                  static_cast<long>(time.seconds().count()), frac);
    return buf;
}

namespace {

// The common shape of the date and time, with exactly two digits per field
// as minirt writes them (state files are read by the thousand); anything
// else returns null and goes to strptime.
const char* parse_rfc3339_fields(const char* p, tm& t) {
    auto digits = [&](int n, int& out) {
        out = 0;
        for (int i = 0; i < n; ++i, ++p) {
            if (*p < '0' || *p > '9') return false;
            out = out * 10 + (*p - '0');
        }
        return true;
    };
    int year, mon, day, hour, min, sec;
    if (!digits(4, year) || *p++ != '-' || !digits(2, mon) || *p++ != '-' || !digits(2, day) || *p++ != 'T' ||
        !digits(2, hour) || *p++ != ':' || !digits(2, min) || *p++ != ':' || !digits(2, sec))
        return nullptr;
    if (mon < 1 || mon > 12 || day < 1 || day > 31 || hour > 23 || min > 59 || sec > 60) return nullptr;
    t = tm{};
    t.tm_year = year - 1900;
    t.tm_mon = mon - 1;
    t.tm_mday = day;
    t.tm_hour = hour;
    t.tm_min = min;
    t.tm_sec = sec;
    return p;
}

// timegm without its locking and normalisation: days from the civil date
// (Howard Hinnant's algorithm), proleptic Gregorian, UTC.
time_t seconds_since_epoch(const tm& t) {
    int64_t y = t.tm_year + 1900;
    int64_t m = t.tm_mon + 1;
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    int64_t yoe = y - era * 400;
    int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + t.tm_mday - 1;
    int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    int64_t days = era * 146097 + doe - 719468;
    return static_cast<time_t>(days * 86400 + t.tm_hour * 3600 + t.tm_min * 60 + t.tm_sec);
}

}  // namespace

int64_t parse_duration_ns(std::string_view text, std::string_view what) {
    auto bad = [&] { return Error("invalid " + std::string(what) + " " + quoted(text) + ": expected a duration like 10m or 250ms"); };
    if (text.empty()) throw bad();
    int64_t total = 0;
    size_t i = 0;
    while (i < text.size()) {
        size_t j = i;
        while (j < text.size() && std::isdigit(static_cast<unsigned char>(text[j]))) ++j;
        if (j == i) throw bad();
        int64_t n = parse_int(text.substr(i, j - i), what, 0, 1000000);
        size_t k = j;
        while (k < text.size() && std::isalpha(static_cast<unsigned char>(text[k]))) ++k;
        std::string unit(text.substr(j, k - j));
        int64_t mult;
        if (unit == "h") mult = 3600LL * 1000000000LL;
        else if (unit == "m") mult = 60LL * 1000000000LL;
        else if (unit == "s") mult = 1000000000LL;
        else if (unit == "ms") mult = 1000000LL;
        else throw bad();
        total += n * mult;  // at most 1e6 h per term: no overflow
        if (total > 100LL * 365 * 86400 * 1000000000LL) throw bad();
        i = k;
    }
    return total;
}

int64_t parse_time_spec(std::string_view text, std::string_view what) {
    auto bad = [&] {
        return Error("invalid " + std::string(what) + " " + quoted(text) +
                     ": expected RFC 3339 time (2026-01-02T15:04:05Z), Unix seconds, or a "
                     "duration like 10m");
    };
    if (text.empty()) throw bad();
    // Unix seconds, possibly fractional.
    if (text.find_first_not_of("0123456789.") == std::string_view::npos) {
        char* end = nullptr;
        std::string s(text);
        double v = std::strtod(s.c_str(), &end);
        if (*end != '\0' || !(v < 9.2e9)) throw bad();  // beyond 2261 does not fit in ns
        return static_cast<int64_t>(v * 1e9);
    }
    // Relative duration.
    if (std::isdigit(static_cast<unsigned char>(text[0])) && text.find('-') == std::string_view::npos &&
        text.find('T') == std::string_view::npos) {
        int64_t total = 0;
        try {
            total = parse_duration_ns(text, what);
        } catch (const Error&) {
            throw bad();
        }
        return now_ns() - total;
    }
    // RFC 3339: YYYY-MM-DDTHH:MM:SS[.frac](Z|±HH:MM)
    tm t{};
    std::string s(text);
    const char* rest = parse_rfc3339_fields(s.c_str(), t);
    if (!rest) rest = ::strptime(s.c_str(), "%Y-%m-%dT%H:%M:%S", &t);
    if (!rest) throw bad();
    int64_t frac_ns = 0;
    if (*rest == '.') {
        ++rest;
        int64_t scale = 100000000;
        while (std::isdigit(static_cast<unsigned char>(*rest))) {
            frac_ns += (*rest - '0') * scale;
            scale /= 10;
            ++rest;
        }
    }
    int64_t offset = 0;
    if (*rest == 'Z' || *rest == 'z') {
        ++rest;
    } else if (*rest == '+' || *rest == '-') {
        int sign = *rest == '-' ? -1 : 1;
        int hh = 0, mm = 0;
        if (std::sscanf(rest + 1, "%2d:%2d", &hh, &mm) != 2) throw bad();
        offset = sign * (hh * 3600 + mm * 60);
        rest += 6;
    } else {
        throw bad();
    }
    if (*rest != '\0') throw bad();
    time_t secs = seconds_since_epoch(t) - offset;
    // Nanoseconds since 1970 in 64 bits reach 1677..2262.
    if (secs < -9000000000LL || secs > 9000000000LL) throw bad();
    return static_cast<int64_t>(secs) * 1000000000LL + frac_ns;
}

std::string human_duration(int64_t ns) {
    int64_t s = ns / 1000000000LL;
    if (s < 0) s = 0;
    auto unit = [](int64_t n, const char* u) { return std::to_string(n) + " " + u + (n == 1 ? "" : "s"); };
    if (s < 60) return unit(s, "second");
    if (s < 3600) return unit(s / 60, "minute");
    if (s < 86400) return unit(s / 3600, "hour");
    return unit(s / 86400, "day");
}

std::string human_age(int64_t since_ns, int64_t now) { return human_duration(now - since_ns) + " ago"; }

std::string human_size(uint64_t bytes) {
    const char* units[] = {"B", "KiB", "MiB", "GiB", "TiB"};
    double v = static_cast<double>(bytes);
    int u = 0;
    while (v >= 1024 && u < 4) {
        v /= 1024;
        ++u;
    }
    char buf[32];
    if (u == 0) std::snprintf(buf, sizeof buf, "%lluB", static_cast<unsigned long long>(bytes));
    else std::snprintf(buf, sizeof buf, "%.4g%s", v, units[u]);
    return buf;
}

std::vector<std::string_view> split(std::string_view text, char sep) {
    std::vector<std::string_view> out;
    for (size_t start = 0;;) {
        size_t end = text.find(sep, start);
        out.push_back(text.substr(start, end == std::string_view::npos ? std::string_view::npos : end - start));
        if (end == std::string_view::npos) return out;
        start = end + 1;
    }
}

std::vector<std::string_view> words(std::string_view text) {
    std::vector<std::string_view> out;
    constexpr std::string_view space = " \t\n";
    for (size_t at = text.find_first_not_of(space); at != std::string_view::npos;
         at = text.find_first_not_of(space, at)) {
        size_t end = text.find_first_of(space, at);
        out.push_back(text.substr(at, end == std::string_view::npos ? std::string_view::npos : end - at));
        at = end;
    }
    return out;
}

}  // namespace minirt
