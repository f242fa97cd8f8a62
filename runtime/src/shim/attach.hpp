// The attach socket: root/<id>/attach.sock, a SOCK_SEQPACKET unix socket the
// shim listens on for the container's terminal or stdin. Every message is one
// packet: a type byte, then its payload.
//   client → shim:  'd' input bytes | 'w' rows,cols (2 x uint16) | 'c' close stdin
//   shim → client:  'o' output bytes | 'x' exit code (decimal text)
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>

#include "common/fd.hpp"

namespace minirt {

inline constexpr char kMsgData = 'd';
inline constexpr char kMsgWinsize = 'w';
inline constexpr char kMsgCloseStdin = 'c';
inline constexpr char kMsgOutput = 'o';
inline constexpr char kMsgExit = 'x';
inline constexpr size_t kMaxPacket = 32 * 1024;

// Listens at `path` (mode 0600: root only). Paths longer than sun_path are
// reached through /proc/self/fd of their directory.
UniqueFd listen_attach_socket(const std::filesystem::path& path);
UniqueFd connect_attach_socket(const std::filesystem::path& path);

// One packet; false if the peer is gone.
bool send_packet(int fd, char type, std::string_view payload) noexcept;
// Reads one packet into `type`/`payload`; false on EOF or error.
bool recv_packet(int fd, char& type, std::string& payload);

}  // namespace minirt
