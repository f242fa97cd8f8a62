// The container log: one record per line, in the CRI / conmon "k8s-file"
// form, so stdout and stderr stay in arrival order in one file:
//   2026-11-24T13:47:11.123456789Z stdout F hello
// F ends a line; P marks a chunk that was not newline-terminated. The file
// rotates to ctr.log.1 at a size limit, so a chatty container cannot fill
// the disk.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <filesystem>
#include <map>
#include <mutex>
#include <memory>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "common/fd.hpp"

namespace minirt {

// Formatting happens on the caller's thread (the shim's loop) and writing on
// a writer thread of the LogWriter's own, started at the first record: the
// loop goes back to draining the container's pipes while ext4 takes the
// previous blocks. At most kQueuedBlocks wait for the writer; beyond that
// the loop waits too, so a slow disk slows the container, never the shim's
// memory.
class LogWriter {
public:
    LogWriter(std::filesystem::path path, uint64_t max_size);
    // Writes out everything queued, then waits for a rotated-away file that
    // is still being freed.
    ~LogWriter();
    LogWriter(const LogWriter&) = delete;
    LogWriter& operator=(const LogWriter&) = delete;
    // Appends `data` read from `stream` ("stdout"/"stderr"): one record per
    // line, all stamped with the time of this call, handed to the writer in
    // blocks of up to kBlockSize bytes (one write(2) each).
    void append(std::string_view stream, std::string_view data);
    // A line minirt itself adds (e.g. a monitor warning), stream "minirt".
    void note(std::string_view message);
    // Returns once everything appended so far is in the file (before the
    // exit is recorded, so `logs` of an exited container is complete).
    void sync();

    // Output that could not be written (a full disk): counted, never half
    // written. Once there is room again the log gets one "minirt" record
    // saying how much was lost and why.
    struct Dropped {
        uint64_t lines = 0, bytes = 0;
    };
    Dropped dropped() const;  // since the shim started
    // True once after the count changed (the shim then records it).
    bool take_drops_changed();

    // Records are formatted into blocks of this size (allocated on first
    // use, so an idle shim never touches one); a longer record goes to the
    // writer as one piece of its own.
    static constexpr size_t kBlockSize = 256 << 10;
    static constexpr size_t kQueuedBlocks = 4;
    // Disk blocks reserved ahead of a chatty log (see reserve_ahead()).
    static constexpr size_t kReserveChunk = 2 << 20;

private:
    struct Chunk {
        std::unique_ptr<char[]> block;  // a kBlockSize block, or null
        std::string bytes;              // an over-long record (block is null)
        size_t len = 0;
    };
    void submit();
    void submit_chunk(Chunk chunk);
    void writer_loop();
    void write_out(std::string_view bytes);
    // Writes `bytes` (whole records); returns how many landed, always up to
    // a record's end (a short write is cut back to the last whole record).
    size_t append_whole(std::string_view bytes);
    void count_dropped(std::string_view bytes);
    std::string drop_notice() const;
    void rotate_if_needed(size_t incoming);
    void reserve_ahead(size_t incoming);
    void trim_reserve() noexcept;
    std::filesystem::path path_;
    uint64_t max_size_;
    // The file side: used by the writer thread only once it runs.
    uint64_t size_ = 0;
    uint64_t reserved_to_ = 0;  // fallocate'd up to here (past size_)
    bool reserve_ok_ = true;    // the filesystem can fallocate
    UniqueFd fd_;
    // Frees the file rotated out of ctr.log.1 (see rotate_if_needed()).
    std::filesystem::path doomed_;
    std::thread remover_;
    // The caller's side: the block being filled.
    std::unique_ptr<char[]> block_;
    size_t block_len_ = 0;
    size_t block_limit_ = kBlockSize;  // never more than max_size_
    // Between the two.
    mutable std::mutex mu_;
    Dropped dropped_;        // since the last notice
    Dropped total_dropped_;  // in all
    int drop_error_ = 0;
    bool drops_changed_ = false;
    std::condition_variable changed_;
    std::deque<Chunk> queue_;
    std::vector<std::unique_ptr<char[]>> spare_;  // written blocks, for reuse
    bool writing_ = false;                        // the writer holds a chunk
    bool stop_ = false;
    std::thread writer_;
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
