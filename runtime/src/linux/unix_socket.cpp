#include "linux/unix_socket.hpp"

#include <fcntl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstring>

#include "common/error.hpp"

namespace minirt {

namespace {

// A sockaddr for `path`, through /proc/self/fd/N/<name> when the path is too
// long for sun_path; `dir` keeps that directory fd alive meanwhile.
sockaddr_un address_of(const std::filesystem::path& path, UniqueFd& dir) {
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    std::string p = path.string();
    if (p.size() >= sizeof addr.sun_path) {
        dir.reset(::open(path.parent_path().c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC));
        if (!dir) throw_errno("open " + path.parent_path().string());
        p = "/proc/self/fd/" + std::to_string(dir.get()) + "/" + path.filename().string();
    }
    std::memcpy(addr.sun_path, p.c_str(), p.size() + 1);
    return addr;
}

}  // namespace

UniqueFd listen_unix(const std::filesystem::path& path, int type) {
    UniqueFd dir;
    sockaddr_un addr = address_of(path, dir);
    UniqueFd s(::socket(AF_UNIX, type | SOCK_CLOEXEC | SOCK_NONBLOCK, 0));
    if (!s) throw_errno("socket");
    ::unlink(path.c_str());
    // Bind under a umask that leaves the socket to root alone.
    mode_t old = ::umask(0077);
    int r = ::bind(s.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr);
    ::umask(old);
    if (r < 0) throw_errno("bind " + path.string());
    if (::listen(s.get(), 8) < 0) throw_errno("listen " + path.string());
    return s;
}

UniqueFd connect_unix(const std::filesystem::path& path, int type) {
    UniqueFd dir;
    sockaddr_un addr = address_of(path, dir);
    UniqueFd s(::socket(AF_UNIX, type | SOCK_CLOEXEC, 0));
    if (!s) throw_errno("socket");
    if (::connect(s.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr) < 0)
        throw_errno("connect to " + path.string());
    return s;
}

}  // namespace minirt
