// The messages between a container's init and its parent (the shim, or
// `minirt oci create`), over a SOCK_SEQPACKET socketpair: one message, one
// packet, so neither side ever parses a stream. Typed here, encoded and
// decoded here alone (unit-tested), as runc's sync.go and youki's Message.
//
//   init   -> parent  NamespacesReady   namespaces made (the createRuntime hooks may run)
//   parent -> init    Go                in its cgroup, hooks done: build the root
//   parent -> init    Seccomp(program)  the compiled filter (maybe empty), sent once the
//                                       device filter holds: nothing of the user's runs before
//   init   -> parent  Ready             confined, the executable found: exec (or wait on
//                                       exec.fifo) comes next
//   init   -> parent  Failed(code, text)  why it could not; then it exits with `code`
//
// The socket is close-on-exec in the init: EOF after Ready means the exec
// succeeded.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace minirt::engine {

enum class SyncType : uint8_t { NamespacesReady = 1, Go = 2, Seccomp = 3, Ready = 4, Failed = 5 };

struct SyncMessage {
    SyncType type = SyncType::Failed;
    int code = 0;          // Failed: the exit code (125 minirt, 126 cannot invoke, 127 not found)
    std::string payload;   // Failed: the message; Seccomp: the program's raw instructions

    static SyncMessage of(SyncType t) { return {t, 0, {}}; }
    static SyncMessage failed(int code, std::string text) { return {SyncType::Failed, code, std::move(text)}; }
};

const char* to_string(SyncType t);

std::string encode(const SyncMessage& m);
// nullopt for anything that is not a well-formed message.
std::optional<SyncMessage> decode(std::string_view bytes);

// Both false/nullopt with errno set on failure; receive: nullopt with
// errno 0 at EOF (the other side is gone or, after Ready, exec'd).
bool send_sync(int fd, const SyncMessage& m) noexcept;
std::optional<SyncMessage> receive_sync(int fd);
// receive_sync, insisting on `want`: a Failed message becomes the Error it
// carries (with its exit code), EOF or anything else an Error of its own.
void expect_sync(int fd, SyncType want);
// A SOCK_SEQPACKET socketpair, both ends close-on-exec.
std::pair<int, int> sync_socketpair();

}  // namespace minirt::engine
