// Namespace setup done from inside the new namespaces.
#pragma once

#include <string>

#include "common/fd.hpp"

namespace minirt {

// A fresh network namespace has only "lo", and it is down.
void bring_up_loopback();
void set_hostname(const std::string& hostname);

// A new network namespace (loopback up), made on a thread of its own so
// the caller's stays as it is. Error if the kernel refuses.
UniqueFd new_network_namespace();
// Opens a network namespace file (/proc/PID/ns/net, a bind mount of one);
// Error naming `what` when it is none.
UniqueFd open_network_namespace(const std::string& path, const std::string& what);
// The same for any kind: `type` is its CLONE_NEW* flag.
UniqueFd open_namespace(const std::string& path, int type, const std::string& what);

}  // namespace minirt
