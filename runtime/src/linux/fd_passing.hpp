// Passing a descriptor over a unix socket (SCM_RIGHTS): the pty master
// from a container's init to whoever holds its terminal, a network
// namespace from the CLI to the shim.
#pragma once

#include "common/fd.hpp"

namespace minirt {

// One descriptor, with a one-byte message; false (errno set) if it failed.
bool send_fd(int sock, int fd) noexcept;
// Invalid on EOF or when no descriptor came; it arrives close-on-exec.
UniqueFd recv_fd(int sock);

}  // namespace minirt
