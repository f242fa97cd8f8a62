#include "state/lock.hpp"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>

#include "common/error.hpp"
#include "common/file.hpp"

namespace minirt {

UniqueFd hold_shim_mark(const std::filesystem::path& state_dir) {
    UniqueFd dir(::open(state_dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    if (!dir) throw_errno("open " + state_dir.string());
    // A reader's test holds it for microseconds; a previous shim of the
    // same container (start right after an exit) until it is gone. Not
    // forever: without the mark, `list` asks /proc instead.
    for (int attempt = 0; attempt < 200; ++attempt) {
        if (::flock(dir.get(), LOCK_EX | LOCK_NB) == 0) return dir;
        if (errno != EWOULDBLOCK && errno != EINTR) break;
        ::usleep(5000);
    }
    throw_errno("lock " + state_dir.string());
}

bool shim_mark_held(int at, const char* dir) {
    UniqueFd fd(::openat(at, dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    return fd && ::flock(fd.get(), LOCK_SH | LOCK_NB) < 0 && errno == EWOULDBLOCK;
}

}  // namespace minirt
