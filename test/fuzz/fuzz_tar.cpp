// libFuzzer target: any bytes as an archive on cp's stdin (read_tar). What
// reaches the sink must be a clean relative path (no "..", not absolute,
// not empty), a hard link's too, and its content must read to the end
// without fault; anything else must be an Error, never a crash.
#include <sys/mman.h>
#include <unistd.h>

#include <cstdint>
#include <cstdlib>

#include "common/error.hpp"
#include "linux/tar_stream.hpp"

namespace {

bool clean(const std::string& p) {
    if (p.empty() || p.front() == '/') return false;
    size_t start = 0;
    for (;;) {
        size_t slash = p.find('/', start);
        std::string part = p.substr(start, slash == std::string::npos ? std::string::npos : slash - start);
        if (part.empty() || part == "." || part == "..") return false;
        if (slash == std::string::npos) return true;
        start = slash + 1;
    }
}

class CheckingSink : public minirt::TreeSink {
public:
    void put(const minirt::TreeEntry& e) override {
        if (!clean(e.path)) std::abort();
        if (!e.hardlink.empty() && !clean(e.hardlink)) std::abort();
        if (e.content) {
            char buf[4096];
            while (e.content->read(buf, sizeof buf) > 0) {
            }
        }
    }
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    int fd = ::memfd_create("fuzz-tar", MFD_CLOEXEC);
    if (fd < 0) return 0;
    if (size > 0 && ::write(fd, data, size) != static_cast<ssize_t>(size)) {
        ::close(fd);
        return 0;
    }
    ::lseek(fd, 0, SEEK_SET);
    CheckingSink sink;
    try {
        minirt::read_tar(fd, sink, "fuzz input");
    } catch (const minirt::Error&) {
    }
    ::close(fd);
    return 0;
}
