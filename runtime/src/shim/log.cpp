#include "shim/log.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>

#include "common/error.hpp"
#include "common/file.hpp"
#include "common/parse.hpp"

namespace minirt {

std::string format_log_chunk(int64_t time_ns, std::string_view stream, std::string_view data) {
    std::string ts = format_rfc3339(time_ns);
    std::string out;
    out.reserve(data.size() + 64);
    while (!data.empty()) {
        auto nl = data.find('\n');
        bool full = nl != std::string_view::npos;
        std::string_view line = full ? data.substr(0, nl) : data;
        out += ts;
        out += ' ';
        out += stream;
        out += full ? " F " : " P ";
        out += line;
        out += '\n';
        data.remove_prefix(full ? nl + 1 : data.size());
    }
    return out;
}

LogWriter::LogWriter(std::filesystem::path path, uint64_t max_size)
    : path_(std::move(path)), max_size_(max_size) {
    fd_.reset(::open(path_.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600));
    if (!fd_) throw_errno("open log " + path_.string());
    struct stat st{};
    if (::fstat(fd_.get(), &st) == 0) size_ = static_cast<uint64_t>(st.st_size);
}

void LogWriter::rotate_if_needed(size_t incoming) {
    if (max_size_ == 0 || size_ == 0 || size_ + incoming <= max_size_) return;
    std::filesystem::path old = path_;
    old += ".1";
    if (::rename(path_.c_str(), old.c_str()) < 0) return;  // keep writing rather than lose output
    UniqueFd fresh(::open(path_.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600));
    if (!fresh) return;
    fd_ = std::move(fresh);
    size_ = 0;
}

void LogWriter::append(std::string_view stream, std::string_view data) {
    buf_ = format_log_chunk(now_ns(), stream, data);
    rotate_if_needed(buf_.size());
    // A full disk must not kill the shim; the record is dropped instead.
    if (write_all_nothrow(fd_.get(), buf_)) size_ += buf_.size();
}

void LogWriter::note(std::string_view message) {
    std::string line(message);
    if (line.empty() || line.back() != '\n') line += '\n';
    append("minirt", line);
}

void parse_log(std::string_view data, std::vector<LogRecord>& out, PartialLines& partials) {
    while (!data.empty()) {
        auto nl = data.find('\n');
        if (nl == std::string_view::npos) break;  // incomplete record (being written)
        std::string_view line = data.substr(0, nl);
        data.remove_prefix(nl + 1);
        auto s1 = line.find(' ');
        if (s1 == std::string_view::npos) continue;
        auto s2 = line.find(' ', s1 + 1);
        if (s2 == std::string_view::npos || s2 + 2 > line.size()) continue;
        int64_t time_ns;
        try {
            time_ns = parse_time_spec(line.substr(0, s1), "log timestamp");
        } catch (const Error&) {
            continue;
        }
        char flag = line[s2 + 1];
        std::string_view text = s2 + 3 <= line.size() ? line.substr(s2 + 3) : std::string_view{};
        std::string stream(line.substr(s1 + 1, s2 - s1 - 1));
        LogRecord& partial = partials[stream];
        if (partial.text.empty()) {
            partial.time_ns = time_ns;
            partial.stream = stream;
        }
        partial.text.append(text);
        if (flag == 'P') continue;
        partial.text += '\n';
        out.push_back(std::move(partial));
        partials.erase(stream);
    }
}

std::vector<LogRecord> take_partials(PartialLines& partials) {
    std::vector<LogRecord> out;
    for (auto& [stream, rec] : partials)
        if (!rec.text.empty()) out.push_back(std::move(rec));
    partials.clear();
    std::sort(out.begin(), out.end(), [](const LogRecord& a, const LogRecord& b) { return a.time_ns < b.time_ns; });
    return out;
}

}  // namespace minirt
