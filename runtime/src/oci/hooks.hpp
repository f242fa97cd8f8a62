// OCI hooks: programs the runtime runs at points of a container's life, in
// the runtime's namespaces, with the container's state JSON on stdin.
#pragma once

#include <string>
#include <vector>

#include "oci/spec.hpp"

namespace minirt::oci {

// Runs each hook in order; the first one that fails (non-zero exit, killed,
// or past its timeout) throws Error naming `stage`, the hook and its stderr.
void run_hooks(const std::vector<Hook>& hooks, const std::string& stage, const std::string& state_json);

}  // namespace minirt::oci
