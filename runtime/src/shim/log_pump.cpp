#include "shim/log_pump.hpp"

#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <string_view>

#include "common/file.hpp"
#include "shim/attach_server.hpp"
#include "state/log.hpp"

namespace minirt {

void LogPump::pump(int fd, const char* stream, bool& eof) {
    static char buf[kPumpChunk];  // one shim, one loop: no need for the stack
    ssize_t n = ::read(fd, buf, sizeof buf);
    if (n < 0) {
        if (errno == EINTR || errno == EAGAIN) return;
        eof = true;
        return;
    }
    if (n == 0) {
        eof = true;
        return;
    }
    std::string_view data(buf, static_cast<size_t>(n));
    log_.append(stream, data);
    if (attach_) attach_->broadcast(data);
    if (relay_) {
        int target = std::strcmp(stream, "stdout") == 0 ? 1 : 2;
        if (!write_all_nothrow(target, data)) relay_ = false;  // the attached CLI went away
    }
}

}  // namespace minirt
