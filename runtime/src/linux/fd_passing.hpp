// Passing a descriptor over a unix socket (SCM_RIGHTS): the pty master
// from a container's init to whoever holds its terminal, a network
// namespace from the CLI to the shim.
#pragma once

#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "common/fd.hpp"

namespace minirt {

// One descriptor, with a one-byte message; false (errno set) if it failed.
bool send_fd(int sock, int fd) noexcept;
// Invalid on EOF or when no descriptor came; it arrives close-on-exec.
UniqueFd recv_fd(int sock);

// A packet on a SOCK_SEQPACKET socket (which keeps each whole): some text
// and up to kMaxPacketFds descriptors. False (errno set) if it failed.
constexpr size_t kMaxPacketFds = 250;    // the kernel takes 253 at most
constexpr size_t kMaxPacketText = 65536;
bool send_packet(int sock, std::string_view text, std::span<const int> fds = {}) noexcept;
struct Packet {
    bool eof = false;  // the other end closed it
    std::string text;
    std::vector<UniqueFd> fds;  // close-on-exec
};
// Error if it cannot be read, or is cut short.
Packet recv_packet(int sock);

}  // namespace minirt
