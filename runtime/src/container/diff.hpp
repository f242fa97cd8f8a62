// `diff`: what a container changed in its filesystem, read from its
// overlay's upper layer (never from the running container): podman's A
// (added), C (changed) and D (deleted) with absolute paths.
#pragma once

#include <string>
#include <vector>

#include "state/store.hpp"

namespace minirt {

struct Change {
    char kind;  // 'A', 'C' or 'D'
    std::string path;
};

// Compares the upper layer `upper` with the image's layer `lower`: an entry
// of upper that lower has is C, one it lacks A; a whiteout is D, and below
// an opaque directory whatever lower had is D. Sorted by path.
std::vector<Change> layer_changes(const std::string& upper, const std::string& lower);

// The changes of container `id` (its config.json names its layers).
std::vector<Change> container_changes(const Store& store, const std::string& id);

}  // namespace minirt
