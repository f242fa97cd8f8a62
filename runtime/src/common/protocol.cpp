#include "common/protocol.hpp"

#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <algorithm>
#include <cstring>

#include "common/error.hpp"

namespace minirt {

namespace {

constexpr size_t kLength = sizeof(uint32_t);
constexpr size_t kHeader = 1 + sizeof(int32_t) + sizeof(uint64_t);
// The largest payload: a seccomp program of BPF_MAXINSNS instructions.
constexpr size_t kMaxPayload = 4096 * 8;

bool known(uint8_t t) { return t >= 1 && t <= 7; }

// Reads exactly `n` bytes; false at EOF before the first one.
bool read_exact(int fd, char* buf, size_t n) {
    size_t got = 0;
    while (got < n) {
        ssize_t r = ::read(fd, buf + got, n - got);
        if (r < 0 && errno == EINTR) continue;
        // A socket's peer that died with our message unread resets it: gone, as at EOF.
        if (r < 0 && errno == ECONNRESET && got == 0) return false;
        if (r < 0) throw_errno("read a message");
        if (r == 0) {
            if (got == 0) return false;
            throw Error("a message cut short");
        }
        got += static_cast<size_t>(r);
    }
    return true;
}

}  // namespace

const char* to_string(MessageType t) {
    switch (t) {
    case MessageType::NamespacesReady: return "namespaces-ready";
    case MessageType::Go: return "go";
    case MessageType::Seccomp: return "seccomp";
    case MessageType::Ready: return "ready";
    case MessageType::Failed: return "failed";
    case MessageType::Started: return "started";
    case MessageType::Exited: return "exited";
    }
    return "unknown";
}

std::string encode(const Message& m) {
    auto length = static_cast<uint32_t>(kHeader + m.payload.size());
    auto code = static_cast<int32_t>(m.code);
    std::string out(kLength + kHeader, '\0');
    std::memcpy(out.data(), &length, sizeof length);
    out[kLength] = static_cast<char>(m.type);
    std::memcpy(out.data() + kLength + 1, &code, sizeof code);
    std::memcpy(out.data() + kLength + 1 + sizeof code, &m.value, sizeof m.value);
    out += m.payload;
    return out;
}

std::optional<Message> decode(std::string_view frame) {
    if (frame.size() < kLength + kHeader || frame.size() > kLength + kHeader + kMaxPayload) return std::nullopt;
    uint32_t length = 0;
    std::memcpy(&length, frame.data(), sizeof length);
    if (length != frame.size() - kLength) return std::nullopt;
    auto type = static_cast<uint8_t>(frame[kLength]);
    if (!known(type)) return std::nullopt;
    Message m;
    m.type = static_cast<MessageType>(type);
    int32_t code = 0;
    std::memcpy(&code, frame.data() + kLength + 1, sizeof code);
    m.code = code;
    std::memcpy(&m.value, frame.data() + kLength + 1 + sizeof code, sizeof m.value);
    m.payload.assign(frame.substr(kLength + kHeader));
    // What each type may carry: an exit code is 0..255 (1..255 for a
    // failure), a PID positive; nothing else carries anything.
    bool payload_ok = m.payload.empty() || m.type == MessageType::Failed || m.type == MessageType::Seccomp;
    bool code_ok = false;
    switch (m.type) {
    case MessageType::Failed: code_ok = m.code >= 1 && m.code <= 255; break;
    case MessageType::Exited: code_ok = m.code >= 0 && m.code <= 255; break;
    case MessageType::Started: code_ok = m.code > 0; break;
    default: code_ok = m.code == 0;
    }
    bool value_ok = m.value == 0 || m.type == MessageType::Started;
    if (!payload_ok || !code_ok || !value_ok) return std::nullopt;
    return m;
}

bool send_message(int fd, const Message& m) noexcept {
    std::string bytes = encode(m);
    size_t done = 0;
    bool socket = true;
    while (done < bytes.size()) {
        // A socket's peer may be gone: EPIPE, never SIGPIPE (the init keeps
        // the default action). The report pipe is a pipe.
        ssize_t n = socket ? ::send(fd, bytes.data() + done, bytes.size() - done, MSG_NOSIGNAL)
                           : ::write(fd, bytes.data() + done, bytes.size() - done);
        if (n < 0 && errno == ENOTSOCK && socket) {
            socket = false;
            continue;
        }
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) return false;
        done += static_cast<size_t>(n);
    }
    return true;
}

std::optional<Message> receive_message(int fd) {
    std::string frame(kLength, '\0');
    if (!read_exact(fd, frame.data(), kLength)) return std::nullopt;
    uint32_t length = 0;
    std::memcpy(&length, frame.data(), sizeof length);
    if (length < kHeader || length > kHeader + kMaxPayload) throw Error("a malformed message (length " + std::to_string(length) + ")");
    frame.resize(kLength + length);
    if (!read_exact(fd, frame.data() + kLength, length)) throw Error("a message cut short");
    auto m = decode(frame);
    if (!m) throw Error("a malformed message");
    return m;
}

Message expect_message(int fd, MessageType want) {
    auto m = receive_message(fd);
    if (!m) throw Error(std::string("the other side went away before \"") + to_string(want) + "\"");
    if (m->type == MessageType::Failed) throw Error(m->payload, m->code);
    if (m->type != want)
        throw Error(std::string("\"") + to_string(m->type) + "\" where \"" + to_string(want) + "\" was due");
    return *m;
}

std::pair<int, int> message_socketpair() {
    int sv[2];
    if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0) throw_errno("socketpair");
    return {sv[0], sv[1]};
}

bool send_packet(int fd, AttachType type, std::string_view payload) noexcept {
    char buf[kMaxPacket + 1];
    while (true) {
        size_t n = std::min(payload.size(), kMaxPacket);
        buf[0] = static_cast<char>(type);
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

bool recv_packet(int fd, AttachType& type, std::string& payload) {
    char buf[kMaxPacket + 1];
    ssize_t n;
    do {
        n = ::recv(fd, buf, sizeof buf, 0);
    } while (n < 0 && errno == EINTR);
    if (n <= 0) return false;
    switch (buf[0]) {
        case 'd': case 'w': case 'c': case 'o': case 'x': break;
        default: return false;
    }
    type = static_cast<AttachType>(buf[0]);
    payload.assign(buf + 1, static_cast<size_t>(n - 1));
    return true;
}

}  // namespace minirt
