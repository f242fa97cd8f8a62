// The store's locks (common/file_lock.hpp): a container's lock serialises
// every mutation of its state; the names lock serialises name allocation.
// Locks are never held while waiting for a container to exit, so one slow
// stop blocks nobody else. And the shim's sign of life.
#pragma once

#include <signal.h>

#include <filesystem>
#include <optional>

#include "common/fd.hpp"
#include "common/file_lock.hpp"

namespace minirt {

// The shim's sign of life: an exclusive flock on its container's state
// directory, taken when it starts and dropped by the kernel when it exits,
// however it dies (the container's init closes its copy at once). `list` tests it (a shared, non-blocking attempt, so that
// readers never see each other) instead of reading /proc for each container.
UniqueFd hold_shim_mark(const std::filesystem::path& state_dir);
// `dir` relative to `at` (a descriptor, or AT_FDCWD).
bool shim_mark_held(int at, const char* dir);

// Sent to a shim by a command that found its container running without a
// state.json (a lost /run): the shim writes the record again and takes its
// mark anew. A real-time signal, never forwarded to the container.
inline int rewrite_state_signal() { return SIGRTMIN + 4; }
// Sent to a shim by a health check that found its container unhealthy,
// with --health-on-failure=restart: the shim kills the container and
// starts it again in place, whatever its restart policy.
inline int health_restart_signal() { return SIGRTMIN + 5; }

}  // namespace minirt
