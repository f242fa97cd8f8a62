// --filter KEY=VALUE on containers, with podman's rules: the same key given
// twice matches either value, different keys must all match. Shared by
// ps/list and start --all.
#pragma once

#include <map>
#include <regex>
#include <string>
#include <vector>

#include "container/ops.hpp"
#include "state/store.hpp"

namespace minirt::cli {

class ContainerFilter {
public:
    // Error (125) for a key outside `keys`, or a value that cannot match
    // (a bad status, exit code or regex; before=/since= naming no container).
    // `at_boot` (start --all): restart-policy=unless-stopped leaves out the
    // containers the user stopped, Docker's rule for what comes back.
    static ContainerFilter parse(const Store& store, const std::vector<std::string>& specs,
                                 const std::vector<std::string>& keys, bool at_boot = false);
    bool empty() const { return by_key_.empty(); }
    // Whether matches() needs the container's config (labels, image,
    // networks, volumes, restart policy): list reads it only then.
    bool needs_config() const;
    bool matches(const Store& store, const ContainerView& v, const ContainerConfig* config) const;

private:
    bool matches_one(const Store& store, const std::string& key, size_t index, const ContainerView& v,
                     const ContainerConfig* c) const;

    std::map<std::string, std::vector<std::string>> by_key_;
    bool at_boot_ = false;
    std::vector<std::regex> names_;       // name=, compiled, in by_key_["name"]'s order
    // before= and since=: when the containers they name were made, in
    // by_key_'s order.
    std::map<std::string, std::vector<int64_t>> created_ns_;
};

}  // namespace minirt::cli
