#include "engine/sync.hpp"

#include <sys/socket.h>

#include <cerrno>
#include <cstring>

#include "common/error.hpp"

namespace minirt::engine {

namespace {

// type (1 byte), code (4 bytes, native order: both ends are this machine), payload.
constexpr size_t kHeader = 1 + sizeof(int32_t);
// The largest message: a seccomp program of BPF_MAXINSNS instructions.
constexpr size_t kMaxMessage = kHeader + 4096 * 8;

bool known(uint8_t t) { return t >= 1 && t <= 5; }

}  // namespace

const char* to_string(SyncType t) {
    switch (t) {
    case SyncType::NamespacesReady: return "namespaces-ready";
    case SyncType::Go: return "go";
    case SyncType::Seccomp: return "seccomp";
    case SyncType::Ready: return "ready";
    case SyncType::Failed: return "failed";
    }
    return "unknown";
}

std::string encode(const SyncMessage& m) {
    std::string out(kHeader, '\0');
    out[0] = static_cast<char>(m.type);
    auto code = static_cast<int32_t>(m.code);
    std::memcpy(out.data() + 1, &code, sizeof code);
    out += m.payload;
    return out;
}

std::optional<SyncMessage> decode(std::string_view bytes) {
    if (bytes.size() < kHeader || bytes.size() > kMaxMessage) return std::nullopt;
    auto type = static_cast<uint8_t>(bytes[0]);
    if (!known(type)) return std::nullopt;
    SyncMessage m;
    m.type = static_cast<SyncType>(type);
    int32_t code = 0;
    std::memcpy(&code, bytes.data() + 1, sizeof code);
    m.code = code;
    m.payload.assign(bytes.substr(kHeader));
    // Only these carry anything; an exit code outside 1..255 is no exit code.
    if (m.type != SyncType::Failed && m.type != SyncType::Seccomp && (m.code != 0 || !m.payload.empty()))
        return std::nullopt;
    if (m.type == SyncType::Failed && (m.code < 1 || m.code > 255)) return std::nullopt;
    return m;
}

bool send_sync(int fd, const SyncMessage& m) noexcept {
    std::string bytes = encode(m);
    for (;;) {
        ssize_t n = ::send(fd, bytes.data(), bytes.size(), MSG_NOSIGNAL);
        if (n < 0 && errno == EINTR) continue;
        return n == static_cast<ssize_t>(bytes.size());
    }
}

std::optional<SyncMessage> receive_sync(int fd) {
    std::string buf(kMaxMessage + 1, '\0');
    ssize_t n;
    do {
        n = ::recv(fd, buf.data(), buf.size(), 0);
    } while (n < 0 && errno == EINTR);
    if (n < 0) throw_errno("read from the container's init");
    if (n == 0) {
        errno = 0;
        return std::nullopt;
    }
    auto m = decode(std::string_view(buf.data(), static_cast<size_t>(n)));
    if (!m) throw Error("a malformed message on the container's sync socket");
    return m;
}

void expect_sync(int fd, SyncType want) {
    auto m = receive_sync(fd);
    if (!m) throw Error("the container's init died while it was being set up");
    if (m->type == SyncType::Failed) throw Error(m->payload, m->code);
    if (m->type != want)
        throw Error(std::string("the container's init said \"") + to_string(m->type) + "\" where \"" + to_string(want) +
                    "\" was due");
}

std::pair<int, int> sync_socketpair() {
    int sv[2];
    if (::socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0) throw_errno("socketpair");
    return {sv[0], sv[1]};
}

}  // namespace minirt::engine
