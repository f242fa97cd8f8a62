// Image references as podman spells them:
// [REGISTRY[:PORT]/]REPOSITORY[:TAG][@DIGEST].
#pragma once

#include <string>

namespace minirt {

struct ImageReference {
    std::string registry;    // empty: a short name (see qualified())
    std::string repository;  // "library/busybox", "app"
    std::string tag;         // empty with a digest alone
    std::string digest;      // "sha256:..." or empty

    // registry/repository[:tag][@digest]
    std::string str() const;
    // Qualified for a registry: docker.io's single names get "library/".
    ImageReference in_registry(const std::string& reg) const;
};

// Error (125) naming what is wrong. A missing tag (and digest) becomes
// "latest".
ImageReference parse_reference(const std::string& text);

// Whether `have` (an image's name) is what the short name `want` (no
// registry) says, as podman resolves one: the same repository, or it
// under library/ or any path, with the same tag (and digest, if given).
bool short_name_matches(const ImageReference& have, const ImageReference& want);

// Whether `text` could be a reference at all (not a path, not an id).
bool looks_like_reference(const std::string& text);

}  // namespace minirt
