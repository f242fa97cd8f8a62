#include "common/file_lock.hpp"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>

#include "common/error.hpp"
#include "common/file.hpp"

namespace minirt {

FileLock FileLock::acquire(const std::filesystem::path& path) {
    make_dirs(path.parent_path(), 0700);
    FileLock lock;
    lock.path_ = path;
    lock.fd_.reset(::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600));
    if (!lock.fd_) throw_errno("open lock " + path.string());
    while (::flock(lock.fd_.get(), LOCK_EX) < 0) {
        if (errno != EINTR) throw_errno("lock " + path.string());
    }
    return lock;
}

std::optional<FileLock> FileLock::try_acquire_existing(const std::filesystem::path& path) {
    FileLock lock;
    lock.path_ = path;
    lock.fd_.reset(::open(path.c_str(), O_RDWR | O_CLOEXEC));
    if (!lock.fd_ || ::flock(lock.fd_.get(), LOCK_EX | LOCK_NB) < 0) return std::nullopt;
    return lock;
}

FileLock FileLock::adopt(int fd, const std::filesystem::path& path) {
    FileLock lock;
    lock.fd_.reset(fd);
    lock.path_ = path;
    return lock;
}

bool FileLock::stale() const {
    struct stat held{}, now{};
    if (::fstat(fd_.get(), &held) < 0) return true;
    if (::stat(path_.c_str(), &now) < 0) return true;
    return held.st_ino != now.st_ino || held.st_dev != now.st_dev;
}

void FileLock::unlink_and_release() {
    ::unlink(path_.c_str());
    fd_.reset();
}

}  // namespace minirt
