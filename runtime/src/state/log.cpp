#include "state/log.hpp"

#include <fcntl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <system_error>
#include <utility>
#include <thread>

#include "common/error.hpp"
#include "common/file.hpp"
#include "common/parse.hpp"

namespace minirt {

namespace {

// "TIMESTAMP STREAM ": how every record of one chunk starts (one clock
// read and one formatting per chunk, not per line).
std::string record_head(int64_t time_ns, std::string_view stream) {
    std::string head = format_rfc3339(time_ns);
    head += ' ';
    head += stream;
    head += ' ';
    return head;
}

// Calls fn(line, ended) for each record in `data`: the line without its
// newline, and whether it had one (F) or is the chunk's unfinished tail (P).
template <typename Fn>
void for_each_line(std::string_view data, Fn&& fn) {
    while (!data.empty()) {
        const void* nl = std::memchr(data.data(), '\n', data.size());
        size_t len = nl ? static_cast<size_t>(static_cast<const char*>(nl) - data.data()) : data.size();
        fn(data.substr(0, len), nl != nullptr);
        data.remove_prefix(nl ? len + 1 : len);
    }
}

size_t record_size(std::string_view head, std::string_view line) { return head.size() + 3 + line.size(); }

// Writes one record at dst, which has room for record_size(); returns its end.
char* put_record(char* dst, std::string_view head, std::string_view line, bool ended) {
    std::memcpy(dst, head.data(), head.size());
    dst += head.size();
    *dst++ = ended ? 'F' : 'P';
    *dst++ = ' ';
    std::memcpy(dst, line.data(), line.size());
    dst += line.size();
    *dst++ = '\n';
    return dst;
}

}  // namespace

std::string format_log_chunk(int64_t time_ns, std::string_view stream, std::string_view data) {
    std::string head = record_head(time_ns, stream);
    std::string out;
    for_each_line(data, [&](std::string_view line, bool ended) {
        size_t at = out.size();
        out.resize(at + record_size(head, line));
        put_record(out.data() + at, head, line, ended);
    });
    return out;
}

LogWriter::LogWriter(std::filesystem::path path, uint64_t max_size)
    : path_(std::move(path)), max_size_(max_size) {
    fd_.reset(::open(path_.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600));
    if (!fd_) throw_errno("open log " + path_.string());
    struct stat st{};
    if (::fstat(fd_.get(), &st) == 0) size_ = static_cast<uint64_t>(st.st_size);
    block_limit_ = max_size_ ? std::min<uint64_t>(kBlockSize, max_size_) : kBlockSize;
    doomed_ = path_.parent_path() / ("." + path_.filename().string() + ".1.old");
}

LogWriter::~LogWriter() {
    submit();
    if (writer_.joinable()) {
        {
            std::lock_guard lock(mu_);
            stop_ = true;
        }
        changed_.notify_all();
        writer_.join();
    }
    if (remover_.joinable()) remover_.join();
    if (fd_) trim_reserve();
}

void LogWriter::rotate_if_needed(size_t incoming) {
    if (max_size_ == 0 || size_ == 0 || size_ + incoming <= max_size_) return;
    std::filesystem::path old = path_;
    old += ".1";
    // Never rename onto an existing file here: ext4 would then free the
    // replaced file inside the rename, and first write out all of the
    // renamed one (auto_da_alloc): 3 to 15 ms for 16 MiB, while nobody
    // drains the container's pipes and its writer blocks. So ctr.log.1
    // moves aside first and a helper thread frees it, off the loop; until
    // the second rename, ctr.log.1 is missing for a moment.
    trim_reserve();
    if (remover_.joinable()) remover_.join();  // the previous rotation's: long done
    ::unlink(doomed_.c_str());                 // left by a shim that was killed
    bool aside = ::rename(old.c_str(), doomed_.c_str()) == 0;
    if (::rename(path_.c_str(), old.c_str()) < 0) {
        if (aside) ::rename(doomed_.c_str(), old.c_str());
        return;  // keep writing rather than lose output
    }
    if (aside) {
        try {
            remover_ = std::thread([this] {
                // Freeing 16 MiB of not yet written page cache is a few
                // milliseconds of CPU, best taken from what the container
                // and the writer leave over. Nice 19, not SCHED_IDLE: it
                // holds an ext4 journal handle meanwhile, which a starved
                // thread would keep every writer of the filesystem waiting on.
                ::setpriority(PRIO_PROCESS, static_cast<id_t>(::gettid()), 19);
                ::unlink(doomed_.c_str());
            });
        } catch (const std::system_error&) {
            ::unlink(doomed_.c_str());
        }
    }
    UniqueFd fresh(::open(path_.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600));
    if (!fresh) return;
    fd_ = std::move(fresh);
    size_ = 0;
}

void LogWriter::write_out(std::string_view bytes) {
    rotate_if_needed(bytes.size());
    reserve_ahead(bytes.size());
    // After a loss, the log first says what was lost, once there is room.
    if (dropped_.lines > 0) {
        std::string notice = drop_notice();
        if (append_whole(notice) < notice.size()) {
            count_dropped(bytes);
            return;
        }
        std::lock_guard lock(mu_);
        dropped_ = {};
        drop_error_ = 0;
    }
    size_t landed = append_whole(bytes);
    if (landed < bytes.size()) count_dropped(bytes.substr(landed));
}

size_t LogWriter::append_whole(std::string_view bytes) {
    uint64_t before = size_;
    size_t done = 0;
    while (done < bytes.size()) {
        ssize_t n = ::write(fd_.get(), bytes.data() + done, bytes.size() - done);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) break;
        done += static_cast<size_t>(n);
    }
    if (done == bytes.size()) {
        size_ += bytes.size();
        return done;
    }
    // A full disk (or a quota) must not kill the shim, nor leave half a
    // record for the next one to be glued to: the records that landed whole
    // stay, the rest is cut off.
    int error = errno ? errno : ENOSPC;
    std::string_view landed = bytes.substr(0, done);
    size_t whole = landed.rfind('\n') == std::string_view::npos ? 0 : landed.rfind('\n') + 1;
    size_ = before + whole;
    if (whole < done) ::ftruncate(fd_.get(), static_cast<off_t>(size_));
    reserved_to_ = 0;  // a truncate gives back what was reserved past the end
    std::lock_guard lock(mu_);
    drop_error_ = error;
    return whole;
}

void LogWriter::count_dropped(std::string_view bytes) {
    auto lines = static_cast<uint64_t>(std::count(bytes.begin(), bytes.end(), '\n'));
    std::lock_guard lock(mu_);
    dropped_.lines += lines;
    dropped_.bytes += bytes.size();
    total_dropped_.lines += lines;
    total_dropped_.bytes += bytes.size();
    drops_changed_ = true;
}

std::string LogWriter::drop_notice() const {
    std::lock_guard lock(mu_);
    std::string text = "minirt: log: dropped " + std::to_string(dropped_.lines) + " lines (" +
                       std::to_string(dropped_.bytes) + " bytes): " +
                       std::strerror(drop_error_ ? drop_error_ : ENOSPC) + "\n";
    return format_log_chunk(now_ns(), "minirt", text);
}

LogWriter::Dropped LogWriter::dropped() const {
    std::lock_guard lock(mu_);
    return total_dropped_;
}

bool LogWriter::take_drops_changed() {
    std::lock_guard lock(mu_);
    return std::exchange(drops_changed_, false);
}

void LogWriter::reserve_ahead(size_t incoming) {
    // ext4 spends about a third of a streaming write allocating blocks page
    // by page (delayed allocation, extent cache, quota); blocks reserved in
    // chunks with fallocate are cheaper to fill. Only for a chatty log, and
    // never more than a chunk past its end (trimmed when the file is done).
    if (!reserve_ok_ || size_ < kBlockSize || size_ + incoming <= reserved_to_) return;
    uint64_t from = std::max(reserved_to_, size_);
    uint64_t len = kReserveChunk;
    if (max_size_) len = std::min<uint64_t>(len, max_size_ + kBlockSize - std::min(from, max_size_));
    if (::fallocate(fd_.get(), FALLOC_FL_KEEP_SIZE, static_cast<off_t>(from), static_cast<off_t>(len)) < 0) {
        if (errno == EOPNOTSUPP || errno == ENOSYS) reserve_ok_ = false;
        return;  // ENOSPC and the like: the write decides
    }
    reserved_to_ = from + len;
}

void LogWriter::trim_reserve() noexcept {
    // Blocks reserved past the end are not part of the log: give them back
    // (a truncate to the file's own size frees what lies beyond it).
    struct stat st{};
    if (reserved_to_ > 0 && ::fstat(fd_.get(), &st) == 0) ::ftruncate(fd_.get(), st.st_size);
    reserved_to_ = 0;
}

void LogWriter::writer_loop() {
    std::unique_lock lock(mu_);
    for (;;) {
        changed_.wait(lock, [&] { return stop_ || !queue_.empty(); });
        if (queue_.empty()) return;  // stopping, and all written
        Chunk chunk = std::move(queue_.front());
        queue_.pop_front();
        writing_ = true;
        lock.unlock();
        write_out(chunk.block ? std::string_view(chunk.block.get(), chunk.len) : std::string_view(chunk.bytes));
        lock.lock();
        writing_ = false;
        // Two spares keep the loop from allocating while it streams; more
        // would only be memory a once-chatty shim keeps for good.
        if (chunk.block && spare_.size() < 2) spare_.push_back(std::move(chunk.block));
        changed_.notify_all();
    }
}

void LogWriter::submit_chunk(Chunk chunk) {
    std::unique_lock lock(mu_);
    if (!writer_.joinable()) {
        try {
            writer_ = std::thread([this] { writer_loop(); });
        } catch (const std::system_error&) {
            // No thread to be had: write here, as before there was one.
            lock.unlock();
            write_out(chunk.block ? std::string_view(chunk.block.get(), chunk.len) : std::string_view(chunk.bytes));
            return;
        }
    }
    changed_.wait(lock, [&] { return queue_.size() < kQueuedBlocks; });
    queue_.push_back(std::move(chunk));
    changed_.notify_all();
}

void LogWriter::submit() {
    if (block_len_ == 0) return;
    Chunk chunk;
    chunk.block = std::move(block_);
    chunk.len = block_len_;
    block_len_ = 0;
    {
        std::lock_guard lock(mu_);
        if (!spare_.empty()) {
            block_ = std::move(spare_.back());
            spare_.pop_back();
        }
    }
    submit_chunk(std::move(chunk));
}

void LogWriter::sync() {
    submit();
    std::unique_lock lock(mu_);
    changed_.wait(lock, [&] { return queue_.empty() && !writing_; });
}

void LogWriter::append(std::string_view stream, std::string_view data) {
    std::string head = record_head(now_ns(), stream);
    for_each_line(data, [&](std::string_view line, bool ended) {
        size_t need = record_size(head, line);
        if (block_len_ + need > block_limit_) submit();
        if (need <= block_limit_) {
            if (!block_) block_ = std::make_unique_for_overwrite<char[]>(kBlockSize);
            block_len_ = static_cast<size_t>(put_record(block_.get() + block_len_, head, line, ended) - block_.get());
            return;
        }
        // A record longer than a block goes as one piece, into one file (a
        // rotation never splits a record).
        Chunk chunk;
        chunk.bytes.resize(need);
        put_record(chunk.bytes.data(), head, line, ended);
        chunk.len = need;
        submit_chunk(std::move(chunk));
    });
    submit();
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
