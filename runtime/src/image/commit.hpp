// `commit`: a container's writable layer as a new layer on its image. The
// image is written as an OCI layout (the parent's manifest, config and kept
// blobs, the new layer as an uncompressed tar) and imported the way a load
// is, so a committed image is verified and stored like any other.
#pragma once

#include <string>
#include <vector>

#include "image/image_store.hpp"
#include "state/store.hpp"

namespace minirt {

struct CommitOptions {
    std::vector<std::string> names;    // full references; none: an image without a name
    std::vector<std::string> changes;  // Dockerfile instructions: "CMD [...]", "ENV K=V", "EXPOSE 80", ...
    std::string author, message;
    bool pause = true;  // freeze a running container while its layer is read
};

// Error (125) for a bad --change or a container that has no layer of its
// own; nothing is stored then.
StoredImage commit_container(const Store& store, const std::string& id, const CommitOptions& o);

// `import`: a tarball (any compression a layer may have) as the one layer
// of a new image whose config is what the changes say.
StoredImage import_tarball(const Paths& paths, const fs::path& tarball, const CommitOptions& o, const LayerLimits& limits);

// Applies one --change instruction to an OCI image config's "config".
void apply_change(nlohmann::json& config, const std::string& change);

}  // namespace minirt
