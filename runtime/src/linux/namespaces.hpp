// Namespace setup done from inside the new namespaces.
#pragma once

#include <string>

#include "common/fd.hpp"

namespace minirt {

// A fresh network namespace has only "lo", and it is down.
void bring_up_loopback();
void set_hostname(const std::string& hostname);

// Moves the calling thread into a new network namespace, brings its
// loopback up and returns a descriptor of it, for a process to setns(2)
// into later. Only for a thread that ends right after (its own network
// namespace is changed for good).
UniqueFd make_loopback_netns();

}  // namespace minirt
