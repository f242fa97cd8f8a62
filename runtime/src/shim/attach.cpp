#include "shim/attach.hpp"

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

UniqueFd listen_attach_socket(const std::filesystem::path& path) {
    UniqueFd dir;
    sockaddr_un addr = address_of(path, dir);
    UniqueFd s(::socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC | SOCK_NONBLOCK, 0));
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

UniqueFd connect_attach_socket(const std::filesystem::path& path) {
    UniqueFd dir;
    sockaddr_un addr = address_of(path, dir);
    UniqueFd s(::socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0));
    if (!s) throw_errno("socket");
    if (::connect(s.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr) < 0)
        throw_errno("connect to " + path.string());
    return s;
}

bool send_packet(int fd, char type, std::string_view payload) noexcept {
    char buf[kMaxPacket + 1];
    while (true) {
        size_t n = std::min(payload.size(), kMaxPacket);
        buf[0] = type;
        std::memcpy(buf + 1, payload.data(), n);
        ssize_t w;
        do {
            w = ::send(fd, buf, n + 1, MSG_NOSIGNAL);
        } while (w < 0 && errno == EINTR);
        if (w < 0) return false;
        payload.remove_prefix(n);
        if (payload.empty()) return true;
    }
}

bool recv_packet(int fd, char& type, std::string& payload) {
    char buf[kMaxPacket + 1];
    ssize_t n;
    do {
        n = ::recv(fd, buf, sizeof buf, 0);
    } while (n < 0 && errno == EINTR);
    if (n <= 0) return false;
    type = buf[0];
    payload.assign(buf + 1, static_cast<size_t>(n - 1));
    return true;
}


}  // namespace minirt
