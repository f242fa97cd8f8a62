#include "engine/trace_output.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <sys/socket.h>

#include <cstring>
#include <ctime>
#include <nlohmann/json.hpp>
#include <utility>
#include <vector>

#include "common/error.hpp"
#include "common/file.hpp"
#include "linux/trace_bpf.hpp"

namespace minirt::trace {

namespace {

int64_t clock_ns(clockid_t clock) {
    timespec ts{};
    ::clock_gettime(clock, &ts);
    return static_cast<int64_t>(ts.tv_sec) * 1000000000 + ts.tv_nsec;
}

// A fixed-size field of the record, up to its first NUL.
std::string text_of(const char* s, size_t max) { return std::string(s, ::strnlen(s, max)); }

std::string errno_name(int64_t ret) {
    const char* name = ::strerrorname_np(static_cast<int>(-ret));
    return name ? name : "E" + std::to_string(-ret);
}

std::string signal_name(unsigned sig) {
    const char* name = ::sigabbrev_np(static_cast<int>(sig));
    return name ? name : std::to_string(sig);
}

std::string open_flags(uint32_t flags) {
    static const std::pair<uint32_t, const char*> bits[] = {
        {O_CREAT, "O_CREAT"},       {O_EXCL, "O_EXCL"},         {O_NOCTTY, "O_NOCTTY"},
        {O_TRUNC, "O_TRUNC"},       {O_APPEND, "O_APPEND"},     {O_NONBLOCK, "O_NONBLOCK"},
        {O_DSYNC, "O_DSYNC"},       {O_DIRECT, "O_DIRECT"},     {O_LARGEFILE, "O_LARGEFILE"},
        {O_NOFOLLOW, "O_NOFOLLOW"}, {O_NOATIME, "O_NOATIME"},   {O_CLOEXEC, "O_CLOEXEC"},
        {O_PATH, "O_PATH"},
    };
    std::string s;
    switch (flags & O_ACCMODE) {
    case O_WRONLY: s = "O_WRONLY"; break;
    case O_RDWR: s = "O_RDWR"; break;
    default: s = "O_RDONLY";
    }
    if ((flags & O_TMPFILE) == O_TMPFILE) {
        s += "|O_TMPFILE";
        flags &= ~static_cast<uint32_t>(O_TMPFILE);
    } else if (flags & O_DIRECTORY) {
        s += "|O_DIRECTORY";
    }
    for (auto [bit, name] : bits)
        if (flags & bit) s += std::string("|") + name;
    return s;
}

std::string address(const mt_event& e) {
    char buf[INET6_ADDRSTRLEN] = {};
    if (e.family == AF_INET) {
        ::inet_ntop(AF_INET, e.addr, buf, sizeof buf);
        return std::string(buf) + ":" + std::to_string(e.port);
    }
    if (e.family == AF_INET6) {
        ::inet_ntop(AF_INET6, e.addr, buf, sizeof buf);
        return "[" + std::string(buf) + "]:" + std::to_string(e.port);
    }
    if (e.family == AF_UNIX) {
        // An abstract name begins with NUL: shown with '@', as ss does.
        if (e.path[0] == 0 && e.path[1] != 0) return "@" + text_of(e.path + 1, 107);
        return text_of(e.path, 108);
    }
    return "";
}

// The event's details, in order; numbers stay numbers for JSON.
using Details = std::vector<std::pair<std::string, nlohmann::json>>;

void add_result(Details& d, const mt_event& e) {
    d.emplace_back("result", e.ret);
    if (e.ret < 0) d.emplace_back("error", errno_name(e.ret));
}

Details details_of(const mt_event& e) {
    Details d;
    switch (e.type) {
    case MT_EXEC: {
        d.emplace_back("filename", text_of(e.path, sizeof e.path));
        nlohmann::json argv = nlohmann::json::array();
        std::string_view area(e.path2, std::min<size_t>(e.args_len, sizeof e.path2));
        while (!area.empty()) {
            auto nul = area.find('\0');
            argv.push_back(std::string(area.substr(0, nul)));
            if (nul == std::string_view::npos) break;
            area.remove_prefix(nul + 1);
        }
        d.emplace_back("argv", argv);
        break;
    }
    case MT_EXIT: {
        auto status = static_cast<uint32_t>(e.ret);
        if ((status & 0x7f) == 0) {
            d.emplace_back("code", (status >> 8) & 0xff);
        } else {
            d.emplace_back("signal", signal_name(status & 0x7f));
            if (status & 0x80) d.emplace_back("core", true);
        }
        break;
    }
    case MT_FORK:
    case MT_CLONE:
        d.emplace_back(e.type == MT_FORK ? "child" : "thread", e.other_ns_pid);
        d.emplace_back(e.type == MT_FORK ? "child_host_pid" : "thread_host_tid", e.other_host_pid);
        break;
    case MT_OPEN:
        d.emplace_back("path", text_of(e.path, sizeof e.path));
        d.emplace_back("flags", open_flags(e.arg));
        add_result(d, e);
        break;
    case MT_MKDIR: {
        char mode[8];
        std::snprintf(mode, sizeof mode, "0%o", e.arg & 07777);
        d.emplace_back("path", text_of(e.path, sizeof e.path));
        d.emplace_back("mode", mode);
        add_result(d, e);
        break;
    }
    case MT_UNLINK:
        d.emplace_back("path", text_of(e.path, sizeof e.path));
        if (e.flags & MT_F_DIR) d.emplace_back("directory", true);
        add_result(d, e);
        break;
    case MT_RENAME:
        d.emplace_back("from", text_of(e.path, sizeof e.path));
        d.emplace_back("to", text_of(e.path2, sizeof e.path2));
        add_result(d, e);
        break;
    case MT_CONNECT:
        d.emplace_back("address", address(e));
        add_result(d, e);
        break;
    case MT_ACCEPT:
        if (e.ret >= 0) {
            d.emplace_back("peer", address(e));
            if (e.family == AF_INET || e.family == AF_INET6) d.emplace_back("port", e.local_port);
        }
        add_result(d, e);
        break;
    case MT_OOM:
        d.emplace_back("killed", true);
        break;
    case MT_SIGNAL: {
        static const char* const results[] = {"delivered", "ignored", "already-pending", "overflow", "lost-info"};
        d.emplace_back("signal", signal_name(e.arg));
        if (e.flags & MT_F_TARGET) {
            // Raised from an interrupt (a timer, SIGIO): no task sent it.
            if (!e.other_host_pid) {
                d.emplace_back("from", "kernel");
            } else {
                d.emplace_back("from_host_pid", e.other_host_pid);
                d.emplace_back("from_comm", text_of(e.extra, sizeof e.extra));
            }
        } else {
            // The target's own PID when it is a task of a traced container.
            if (e.other_ns_pid) d.emplace_back("to", e.other_ns_pid);
            d.emplace_back("to_host_pid", e.other_host_pid);
        }
        d.emplace_back("result", e.ret >= 0 && e.ret < 5 ? results[e.ret] : std::to_string(e.ret));
        break;
    }
    case MT_MOUNT:
        if (e.flags & MT_F_PIVOT) {
            d.emplace_back("pivot_root", text_of(e.path, sizeof e.path));
            d.emplace_back("put_old", text_of(e.path2, sizeof e.path2));
        } else if (e.flags & MT_F_UMOUNT) {
            d.emplace_back("umount", text_of(e.path, sizeof e.path));
        } else if (e.flags & MT_F_MOVE) {
            d.emplace_back("move_mount", text_of(e.path, sizeof e.path));
        } else {
            d.emplace_back("source", text_of(e.path2, sizeof e.path2));
            d.emplace_back("target", text_of(e.path, sizeof e.path));
            d.emplace_back("type", text_of(e.extra, sizeof e.extra));
        }
        add_result(d, e);
        break;
    default:
        break;
    }
    return d;
}

// A value as text: bare when it is plain, else JSON-quoted with every byte
// beyond ASCII escaped (so a path with spaces, a newline, a bidi override
// or U+2028 stays on its line, shows as what it is and reads back).
std::string text_value(const nlohmann::json& v) {
    if (v.is_array()) {
        std::string s;
        for (const auto& item : v) s += (s.empty() ? "" : " ") + text_value(item);
        return "[" + s + "]";
    }
    if (!v.is_string()) return v.dump();
    const auto& s = v.get_ref<const std::string&>();
    bool plain = !s.empty();
    for (char ch : s) {
        auto c = static_cast<unsigned char>(ch);
        if (c <= ' ' || c == '"' || c == '\\' || c == '[' || c == ']' || c >= 0x7f) plain = false;
    }
    return plain ? s : nlohmann::json(s).dump(-1, ' ', true, nlohmann::json::error_handler_t::replace);
}

std::string event_name(uint32_t type) {
    return type >= 1 && type <= MT_LAST ? event_names()[type] : std::to_string(type);
}

}  // namespace

Format parse_format(const std::string& word) {
    if (word == "text" || word == "table") return Format::Text;
    if (word == "json") return Format::Json;
    throw Error("unknown trace format \"" + word + "\" (text or json)");
}

Writer::Writer(int fd, Format format, Lookup who)
    : fd_(fd), format_(format), who_(std::move(who)),
      realtime_offset_ns_(clock_ns(CLOCK_REALTIME) - clock_ns(CLOCK_MONOTONIC)) {}

void Writer::header() {
    if (format_ != Format::Text) return;
    char buf[128];
    std::snprintf(buf, sizeof buf, "%-15s %-16s %7s %8s %-16s %-7s %s\n", "TIME", "CONTAINER", "PID", "HOST-PID",
                  "COMM", "EVENT", "DETAILS");
    write_all(fd_, buf);
}

std::string Writer::line(const mt_event& e, const Who& who) const {
    int64_t ns = static_cast<int64_t>(e.ts_ns) + realtime_offset_ns_;
    time_t secs = static_cast<time_t>(ns / 1000000000);
    long frac = static_cast<long>(ns % 1000000000);
    std::string comm = text_of(e.comm, sizeof e.comm);
    Details details = details_of(e);
    if (format_ == Format::Json) {
        tm utc{};
        ::gmtime_r(&secs, &utc);
        char stamp[64];
        size_t n = std::strftime(stamp, sizeof stamp, "%Y-%m-%dT%H:%M:%S", &utc);
        std::snprintf(stamp + n, sizeof stamp - n, ".%09ldZ", frac);
        nlohmann::ordered_json j;
        j["time"] = stamp;
        j["container"] = who.name;
        j["id"] = who.id;
        j["pid"] = e.ns_pid;
        j["host_pid"] = e.host_pid;
        j["host_tid"] = e.host_tid;
        j["comm"] = comm;
        j["event"] = event_name(e.type);
        for (auto& [k, v] : details) j[k] = v;
        return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
    }
    tm local{};
    ::localtime_r(&secs, &local);
    char stamp[32];
    size_t n = std::strftime(stamp, sizeof stamp, "%H:%M:%S", &local);
    std::snprintf(stamp + n, sizeof stamp - n, ".%06ld", frac / 1000);
    std::string text;
    for (auto& [k, v] : details) text += (text.empty() ? "" : " ") + k + "=" + text_value(v);
    std::string name = who.name.empty() ? who.id.substr(0, 12) : who.name;
    // Columns padded to their usual width, never cut: a long name or an
    // escaped command only pushes the rest of its line along.
    auto left = [](std::string s, size_t width) { return s.size() < width ? s.append(width - s.size(), ' ') : s; };
    auto right = [](std::string s, size_t width) { return s.size() < width ? s.insert(0, width - s.size(), ' ') : s; };
    std::string head = left(stamp, 15) + " " + left(text_value(name), 16) + " " +
                       right(e.ns_pid ? std::to_string(e.ns_pid) : "-", 7) + " " + right(std::to_string(e.host_pid), 8) +
                       " " + left(text_value(comm), 16) + " " + left(event_name(e.type), 7) + " ";
    return head + text + "\n";
}

void Writer::write(const mt_event& e) {
    auto who = who_(e.cgid);
    if (!who) return;
    queued_ += line(e, *who);
    if (queued_.size() >= 64 * 1024) flush();
}

void Writer::note(const std::string& text) {
    if (format_ == Format::Json)
        queued_ += nlohmann::json{{"note", text}}.dump() + "\n";
    else
        queued_ += "minirt trace: " + text + "\n";
}

void Writer::flush() {
    if (queued_.empty()) return;
    std::string out = std::move(queued_);
    queued_.clear();
    try {
        write_all(fd_, out);
    } catch (const Error& e) {
        throw e.wrap("the trace file");
    }
}

}  // namespace minirt::trace
