// Unix sockets named by a path (the attach socket, an engine's console
// socket). A path longer than sun_path is reached through /proc/self/fd of
// its directory.
#pragma once

#include <sys/socket.h>

#include <filesystem>

#include "common/fd.hpp"

namespace minirt {

// A listening socket of `type` (SOCK_STREAM, SOCK_SEQPACKET) at `path`,
// non-blocking, mode 0600 (root only); an old socket there is replaced.
UniqueFd listen_unix(const std::filesystem::path& path, int type);
UniqueFd connect_unix(const std::filesystem::path& path, int type);

}  // namespace minirt
