#include "state/events.hpp"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>

#include <nlohmann/json.hpp>

#include "common/error.hpp"
#include "common/file.hpp"
#include "common/parse.hpp"
#include "state/records.hpp"

namespace minirt {

namespace {

using json = nlohmann::json;

// Cuts a record a killed writer left without its newline: the file ends
// at the last whole record again. `size` is the file's, updated.
void cut_torn_record(int fd, off_t& size) {
    if (size == 0) return;
    char last = 0;
    if (::pread(fd, &last, 1, size - 1) != 1 || last == '\n') return;
    // Back to the newline before it (a record is far below this).
    constexpr off_t kLook = 1 << 16;
    off_t from = std::max<off_t>(0, size - kLook);
    std::string tail(static_cast<size_t>(size - from), '\0');
    ssize_t n = ::pread(fd, tail.data(), tail.size(), from);
    if (n < 0) return;
    tail.resize(static_cast<size_t>(n));
    auto nl = tail.rfind('\n');
    off_t keep = nl == std::string::npos ? from : from + static_cast<off_t>(nl) + 1;
    if (::ftruncate(fd, keep) == 0) size = keep;
}

}  // namespace

std::string event_line(const Event& e) {
    json j{{"time", format_rfc3339(e.time_ns)}, {"type", e.type}, {"action", e.action}, {"id", e.id}};
    if (!e.name.empty()) j["name"] = e.name;
    if (!e.image.empty()) j["image"] = e.image;
    if (!e.attributes.empty()) j["attributes"] = e.attributes;
    return j.dump(-1, ' ', false, json::error_handler_t::replace);
}

std::optional<Event> parse_event_line(std::string_view line) {
    json j = json::parse(line, nullptr, false);
    if (!j.is_object()) return std::nullopt;
    try {
        Event e;
        e.time_ns = parse_time_spec(j.at("time").get<std::string>(), "time");
        e.type = j.at("type").get<std::string>();
        e.action = j.at("action").get<std::string>();
        e.id = j.at("id").get<std::string>();
        e.name = j.value("name", std::string());
        e.image = j.value("image", std::string());
        e.attributes = j.value("attributes", std::map<std::string, std::string>{});
        return e;
    } catch (const std::exception&) {
        return std::nullopt;
    }
}

namespace {

// The journal file, opened and locked: the one the path names now (a
// rotation between the open and the lock sends us to the new file).
UniqueFd open_journal_locked(const fs::path& path, int how, int flags) {
    for (int attempt = 0; attempt < 8; ++attempt) {
        UniqueFd fd(::open(path.c_str(), flags | O_CLOEXEC | O_NOFOLLOW, 0600));
        if (!fd) return fd;
        if (::flock(fd.get(), how) < 0) return {};
        struct stat held {}, named {};
        if (::fstat(fd.get(), &held) == 0 && ::stat(path.c_str(), &named) == 0 && held.st_ino == named.st_ino &&
            held.st_dev == named.st_dev)
            return fd;
    }
    return {};
}

}  // namespace

void record_event(const Paths& paths, Event e) noexcept {
    try {
        if (e.time_ns == 0) e.time_ns = now_ns();
        std::string line = event_line(e) + "\n";
        // Read too: a record cut short is found by reading the file's end.
        constexpr int kAppend = O_RDWR | O_APPEND | O_CREAT;
        UniqueFd fd = open_journal_locked(paths.events_file(), LOCK_EX, kAppend);
        if (!fd) return;
        struct stat st {};
        if (::fstat(fd.get(), &st) < 0) return;
        off_t size = st.st_size;
        cut_torn_record(fd.get(), size);
        if (static_cast<uint64_t>(size) + line.size() > kEventsMaxSize && size > 0) {
            // Still holding the old file's lock: writers that wait on it
            // find it renamed and go to the new one.
            if (::rename(paths.events_file().c_str(), paths.events_rotated().c_str()) < 0) return;
            fd = open_journal_locked(paths.events_file(), LOCK_EX, kAppend);
            if (!fd || ::fstat(fd.get(), &st) < 0) return;
            size = st.st_size;
        }
        ssize_t n = ::write(fd.get(), line.data(), line.size());
        // Whole or not at all: a short write (a full disk) is taken back.
        if (n != static_cast<ssize_t>(line.size()) && n != 0) (void)::ftruncate(fd.get(), size);
    } catch (...) {
        // Lost: the operation it tells of stands.
    }
}

void record_container_event(const Paths& paths, const ContainerConfig& c, std::string action,
                            std::map<std::string, std::string> attributes) noexcept {
    try {
        Event e;
        e.type = "container";
        e.action = std::move(action);
        e.id = c.id;
        e.name = c.name;
        e.image = c.image;
        e.attributes = std::move(attributes);
        record_event(paths, std::move(e));
    } catch (...) {
    }
}

void record_object_event(const Paths& paths, const char* type, std::string action, std::string id, std::string name,
                         std::map<std::string, std::string> attributes) noexcept {
    try {
        Event e;
        e.type = type;
        e.action = std::move(action);
        e.id = std::move(id);
        e.name = std::move(name);
        e.attributes = std::move(attributes);
        record_event(paths, std::move(e));
    } catch (...) {
    }
}

EventReader::EventReader(const Paths& paths) : paths_(paths) {}

EventReader::~EventReader() {
    if (fd_ >= 0) ::close(fd_);
}

void EventReader::open_current() {
    if (fd_ >= 0) ::close(fd_);
    fd_ = ::open(paths_.events_file().c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    partial_.clear();
    struct stat st {};
    inode_ = fd_ >= 0 && ::fstat(fd_, &st) == 0 ? st.st_ino : 0;
}

void EventReader::read_from(int fd, std::vector<Event>& out) {
    char buf[65536];
    for (;;) {
        ssize_t n = ::read(fd, buf, sizeof buf);
        if (n <= 0) break;
        partial_.append(buf, static_cast<size_t>(n));
    }
    size_t start = 0;
    for (size_t nl; (nl = partial_.find('\n', start)) != std::string::npos; start = nl + 1)
        if (auto e = parse_event_line(std::string_view(partial_).substr(start, nl - start))) out.push_back(std::move(*e));
    partial_.erase(0, start);  // a record still being written waits for its newline
}

std::vector<Event> EventReader::read_new() {
    std::vector<Event> out;
    if (!started_) {
        started_ = true;
        // The first read: the rotated file, then the current one, holding
        // the current one's lock so that no rotation comes between them.
        UniqueFd current = open_journal_locked(paths_.events_file(), LOCK_SH, O_RDONLY);
        int old = ::open(paths_.events_rotated().c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
        if (old >= 0) {
            read_from(old, out);
            partial_.clear();
            ::close(old);
        }
        if (current) {
            struct stat st {};
            inode_ = ::fstat(current.get(), &st) == 0 ? st.st_ino : 0;
            fd_ = current.release();
            read_from(fd_, out);
            ::flock(fd_, LOCK_UN);
        }
        return out;
    }
    if (fd_ >= 0) read_from(fd_, out);
    struct stat st {};
    if (::stat(paths_.events_file().c_str(), &st) == 0 && st.st_ino != inode_) {
        // Rotated (or made) since. Writers check the inode under the lock,
        // so the renamed file took its last record before the rename: read
        // to its end once more, then go on in the new one.
        if (fd_ >= 0) read_from(fd_, out);
        open_current();
        if (fd_ >= 0) read_from(fd_, out);
    }
    return out;
}

}  // namespace minirt
