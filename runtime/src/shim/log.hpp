// The container log: one record per line, in the CRI / conmon "k8s-file"
// form, so stdout and stderr stay in arrival order in one file:
//   2026-11-24T13:47:11.123456789Z stdout F hello
// F ends a line; P marks a chunk that was not newline-terminated. The file
// rotates to ctr.log.1 at a size limit, so a chatty container cannot fill
// the disk.
#pragma once

#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "common/fd.hpp"

namespace minirt {

class LogWriter {
public:
    LogWriter(std::filesystem::path path, uint64_t max_size);
    // Waits for a rotated-away file that is still being freed.
    ~LogWriter();
    LogWriter(const LogWriter&) = delete;
    LogWriter& operator=(const LogWriter&) = delete;
    // Appends `data` read from `stream` ("stdout"/"stderr"): one record per
    // line, all stamped with the time of this call, written in blocks of up
    // to kBlockSize bytes (one write(2) each).
    void append(std::string_view stream, std::string_view data);
    // A line minirt itself adds (e.g. a monitor warning), stream "minirt".
    void note(std::string_view message);

    // Records are formatted into a buffer of this size (allocated on first
    // use, so an idle shim never touches it); a longer record is written
    // from the caller's data directly.
    static constexpr size_t kBlockSize = 256 << 10;

private:
    void flush();
    void write_out(std::string_view bytes);
    void rotate_if_needed(size_t incoming);
    std::filesystem::path path_;
    uint64_t max_size_;
    uint64_t size_ = 0;
    UniqueFd fd_;
    std::unique_ptr<char[]> block_;
    size_t block_len_ = 0;
    size_t block_limit_ = kBlockSize;  // never more than max_size_
    // Frees the file rotated out of ctr.log.1 (see rotate_if_needed()).
    std::filesystem::path doomed_;
    std::thread remover_;
};

struct LogRecord {
    int64_t time_ns = 0;
    std::string stream;  // stdout, stderr, minirt
    std::string text;    // with its trailing newline if the line ended
};

// Lines not yet ended, one per stream (stdout's unfinished line must never
// be completed by stderr's next one).
using PartialLines = std::map<std::string, LogRecord>;

// Parses one log file's lines into records, joining P chunks with the F that
// completes them on the same stream; a line still unfinished at the end
// stays in `partials` (text without newline), to be completed by the next
// call or shown as is. Malformed lines are skipped.
void parse_log(std::string_view data, std::vector<LogRecord>& out, PartialLines& partials);
// The unfinished lines, oldest first, for showing as they are.
std::vector<LogRecord> take_partials(PartialLines& partials);
// Formats records into the k8s-file line form, as LogWriter writes them
// (tests; the writer itself formats into its reused block).
std::string format_log_chunk(int64_t time_ns, std::string_view stream, std::string_view data);

}  // namespace minirt
