// An exclusive flock(2) on a file, held for the object's lifetime, and
// able to tell when its file was unlinked while it waited (the thing it
// guarded is gone).
#pragma once

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

}  // namespace minirt
