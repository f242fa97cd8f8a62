// The lines of `minirt trace` and of `run --trace FILE`: one per event,
// as text (columns, details as key=value) or as JSON (an object per line).
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>

#include <linux/types.h>

#include "trace_abi.h"

namespace minirt::trace {

enum class Format { Text, Json };
// "text" or "json"; throws Error(EINVAL) naming anything else.
Format parse_format(const std::string& word);

struct Who {
    std::string id;
    std::string name;
};

class Writer {
public:
    using Lookup = std::function<std::optional<Who>(uint64_t cgid)>;
    Writer(int fd, Format format, Lookup who);
    // The column titles (text only).
    void header();
    // Queues the event's line; an event of a group `who` does not know
    // (a container gone before its last events were read) is skipped.
    void write(const mt_event& e);
    // A line of the runtime's own (dropped events), as text or {"note": ...}.
    void note(const std::string& text);
    // Writes what is queued (after each batch of records).
    void flush();
    // The line itself, for tests.
    std::string line(const mt_event& e, const Who& who) const;

private:
    int fd_;
    Format format_;
    Lookup who_;
    int64_t realtime_offset_ns_;  // CLOCK_REALTIME - CLOCK_MONOTONIC
    std::string queued_;
};

}  // namespace minirt::trace
