// skopeo, the containers project's image mover: every transport minirt
// reads or writes images through (docker://, oci:, oci-archive:,
// docker-archive:, dir:). minirt never speaks a registry's protocol itself.
// Its trust policy and registries configuration are minirt's own,
// /etc/minirt/policy.json (made, accepting anything as podman's default
// does, when missing) and /etc/minirt/registries.conf (when present;
// MINIRT_REGISTRIES_CONF names another).
#pragma once

#include <string>
#include <vector>

namespace minirt {

struct SkopeoOptions {
    bool tls_verify = true;  // false: --src/--dest-tls-verify=false (a local registry over http)
    bool progress = false;   // skopeo's progress on our stderr
    std::vector<std::string> additional_tags;  // a docker-archive's other names
};

// `skopeo copy SRC DEST`; Error (125) with skopeo's own last words on failure.
void skopeo_copy(const std::string& src, const std::string& dest, const SkopeoOptions& o);

// The registries a short name is looked for in (registries.conf's
// unqualified-search-registries; docker.io when it says none).
std::vector<std::string> search_registries();

}  // namespace minirt
