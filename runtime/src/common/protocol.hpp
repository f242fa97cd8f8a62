// The messages between minirt's processes, typed here and encoded and
// decoded here alone (unit-tested), as runc's sync.go and youki's Message:
//
// A container's init and its parent (the shim, or `minirt oci create`),
// over a socketpair:
//   init   -> parent  NamespacesReady     namespaces made (the createRuntime hooks may run)
//   parent -> init    Go                  in its cgroup, hooks done: build the root
//   parent -> init    Seccomp(program)    the compiled filter (maybe empty), sent once the
//                                         device filter holds: nothing of the user's runs before
//   init   -> parent  Ready               confined, the executable found: exec (or wait on
//                                         exec.fifo) comes next
//   init   -> parent  Failed(code, text)  why it could not; then it exits with `code`
// The socket is close-on-exec in the init: EOF after Ready means the exec
// succeeded.
//
// The shim and the CLI that spawned it, over the report pipe:
//   shim   -> CLI     Started(pid, start) the command runs (its PID and /proc start time)
//   shim   -> CLI     Failed(code, text)  it could not be started
//   shim   -> CLI     Exited(code)        the container ended, its exit recorded
//
// Every message is one frame: its length (4 bytes), type (1), code (4),
// value (8), then the payload; native byte order (both ends are this
// machine).
//
// The attach socket (root/<id>/attach.sock, SOCK_SEQPACKET), between the
// shim and its clients (`run -it`, `attach`): every packet is a type byte,
// then its payload.
//   client -> shim    Data(bytes) | Winsize(rows, cols: 2 x uint16) | CloseStdin
//   shim   -> client  Output(bytes) | Exit(code, decimal text)
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

namespace minirt {

enum class MessageType : uint8_t {
    NamespacesReady = 1,
    Go = 2,
    Seccomp = 3,
    Ready = 4,
    Failed = 5,
    Started = 6,
    Exited = 7,
};

struct Message {
    MessageType type = MessageType::Failed;
    int code = 0;         // Failed, Exited: the exit code; Started: the PID
    uint64_t value = 0;   // Started: the process's start time
    std::string payload;  // Failed: the message; Seccomp: the program's raw instructions

    static Message of(MessageType t) { return {t, 0, 0, {}}; }
    static Message failed(int code, std::string text) { return {MessageType::Failed, code, 0, std::move(text)}; }
    static Message started(int pid, uint64_t start) { return {MessageType::Started, pid, start, {}}; }
    static Message exited(int code) { return {MessageType::Exited, code, 0, {}}; }
};

const char* to_string(MessageType t);

std::string encode(const Message& m);
// nullopt for anything that is not one well-formed frame.
std::optional<Message> decode(std::string_view frame);

// false with errno set if it could not be written whole (EPIPE: the
// reader is gone).
bool send_message(int fd, const Message& m) noexcept;
// nullopt at EOF (the other side is gone or, after Ready, exec'd); an
// Error for a read error or a malformed frame.
std::optional<Message> receive_message(int fd);
// receive_message, insisting on `want`: a Failed message becomes the Error
// it carries (with its exit code), EOF or anything else an Error of its own.
Message expect_message(int fd, MessageType want);
// A socketpair for an init and its parent, both ends close-on-exec.
std::pair<int, int> message_socketpair();

enum class AttachType : char { Data = 'd', Winsize = 'w', CloseStdin = 'c', Output = 'o', Exit = 'x' };
inline constexpr size_t kMaxPacket = 32 * 1024;  // a longer payload goes in several packets

// One payload (in packets of kMaxPacket); false if the peer is gone.
bool send_packet(int fd, AttachType type, std::string_view payload) noexcept;
// One packet; false on EOF, an error, or a type that is none of the above.
bool recv_packet(int fd, AttachType& type, std::string& payload);

}  // namespace minirt
