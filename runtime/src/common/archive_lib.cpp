#include "common/archive_lib.hpp"

#include <dlfcn.h>
#include <fcntl.h>
#include <unistd.h>

#include <cstring>

#include "common/error.hpp"

namespace minirt {

const ArchiveLib& archive_lib() {
    static const ArchiveLib loaded = [] {
        constexpr const char* kSoname = "libarchive.so.13";
        void* handle = ::dlopen(kSoname, RTLD_NOW | RTLD_LOCAL);
        if (!handle)
            throw Error(std::string("archives need libarchive (Debian package libarchive13): ") + ::dlerror());
        ArchiveLib l;
#define MINIRT_ARCHIVE_LOOKUP(name)                                       \
    l.name = reinterpret_cast<decltype(&::name)>(::dlsym(handle, #name)); \
    if (!l.name) throw Error(std::string(kSoname) + " has no " #name);
        MINIRT_ARCHIVE_FUNCTIONS(MINIRT_ARCHIVE_LOOKUP)
#undef MINIRT_ARCHIVE_LOOKUP
        return l;
    }();
    return loaded;
}

std::string archive_error(archive* a) {
    const char* msg = archive_lib().archive_error_string(a);
    std::string text = msg ? msg : "unknown libarchive error";
    // libarchive's own words ("Write failed") do not always say why.
    int err = archive_lib().archive_errno(a);
    if (err > 0 && err < 4096) {
        std::string why = std::strerror(err);
        if (text.find(why) == std::string::npos) text += ": " + why;
    }
    return text;
}

WorkingDirectory::WorkingDirectory(int dir) {
    old_ = ::open(".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (::fchdir(dir) < 0) {
        int e = errno;
        if (old_ >= 0) ::close(old_);
        throw Error(e, "change into the directory to unpack into");
    }
}

WorkingDirectory::~WorkingDirectory() {
    if (old_ < 0) return;
    if (::fchdir(old_) < 0) {
        // Nothing relative is used after an unpack; the CLI carries on.
    }
    ::close(old_);
}

}  // namespace minirt
