// The container's output, as the shim's loop reads it from the container's
// pipes or terminal: into the log, to the attach clients, and relayed to
// the CLI's own stdout and stderr when it runs in the foreground.
#pragma once

#include <cstddef>

namespace minirt {

class AttachServer;
class LogWriter;

// What one read takes: a chatty container wakes the shim once a megabyte.
inline constexpr size_t kPumpChunk = 1 << 20;

class LogPump {
public:
    LogPump(LogWriter& log, bool relay) : log_(log), relay_(relay) {}
    void set_attach(AttachServer* attach) { attach_ = attach; }
    // Reads what `fd` has now; `eof` is set at its end (or a read error).
    void pump(int fd, const char* stream, bool& eof);
    // The attached CLI's stdio is let go (the shim's fds 1 and 2 are /dev/null now).
    void stop_relay() { relay_ = false; }

private:
    LogWriter& log_;
    AttachServer* attach_ = nullptr;
    bool relay_;
};

}  // namespace minirt
