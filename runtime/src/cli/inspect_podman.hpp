// podman's `inspect` fields beside minirt's own (cli/inspect_podman.cpp).
#pragma once

#include <set>
#include <string>

#include <nlohmann/json.hpp>

#include "container/ops.hpp"
#include "state/paths.hpp"

namespace minirt::cli {

// Adds podman's top-level keys (Id, Name, State, Config, HostConfig,
// Mounts, NetworkSettings, ...) to `j`: minirt's `network_settings` and
// `health` as inspect shows them give theirs.
void add_podman_fields(nlohmann::json& j, const Paths& paths, const ContainerView& v,
                       const nlohmann::json& network_settings, const nlohmann::json& health);

// The fields of the inspect document whose objects are maps to a template
// (a key missing from one prints "<no value>").
const std::set<std::string, std::less<>>& podman_map_fields();

}  // namespace minirt::cli
