// flock(2)-based locks. A container's lock serialises every mutation of its
// state; the names lock serialises name allocation. Locks are never held
// while waiting for a container to exit, so one slow stop blocks nobody else.
#pragma once

#include <signal.h>

#include <filesystem>
#include <optional>

#include "common/fd.hpp"

namespace minirt {

class FileLock {
public:
    FileLock() = default;
    // Blocks until the exclusive lock on `path` (created if missing) is held.
    static FileLock acquire(const std::filesystem::path& path);
    // Takes ownership of an fd that already holds the lock (inherited over
    // fork: the open file description, and so the lock, is shared).
    // Non-blocking, and only if the lock file exists: nullopt if someone
    // holds it or it is gone.
    static std::optional<FileLock> try_acquire_existing(const std::filesystem::path& path);
    static FileLock adopt(int fd, const std::filesystem::path& path);
    void release() { fd_.reset(); }
    // True if the lock file was unlinked (its container removed) while we
    // waited for it: the holder must then treat the container as gone.
    bool stale() const;
    // Unlinks the lock file while still holding it (container removal).
    void unlink_and_release();
    bool held() const { return fd_.valid(); }
    int fd() const { return fd_.get(); }

private:
    UniqueFd fd_;
    std::filesystem::path path_;
};

// The shim's sign of life: an exclusive flock on its container's state
// directory, taken when it starts and dropped by the kernel when it exits,
// however it dies (the container's init closes its copy at once). `list` tests it (a shared, non-blocking attempt, so that
// readers never see each other) instead of reading /proc for each container.
UniqueFd hold_shim_mark(const std::filesystem::path& state_dir);
// `dir` relative to `at` (a descriptor, or AT_FDCWD).
bool shim_mark_held(int at, const char* dir);

// Sent to a shim by a command that found its container running without a
// state.json (a lost /run): the shim writes the record again and takes its
// mark anew. A real-time signal, never forwarded to the container.
inline int rewrite_state_signal() { return SIGRTMIN + 4; }

}  // namespace minirt
