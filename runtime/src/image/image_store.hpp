// Layered images: <storage>/oci-images/<hex of the config digest>/ holds
// image.json (names, layers, the OCI image config), manifest.json and
// config.json as they came (what save and push hand back). Layers are
// image/layers.hpp's, shared between images and removed with the last one
// naming them. A name (registry/repository:tag) belongs to one image.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "common/file_lock.hpp"
#include "image/layers.hpp"
#include "state/paths.hpp"

namespace minirt {

struct StoredImage {
    std::string id;                   // "sha256:..." of config.json
    std::vector<std::string> names;   // "localhost/app:latest"
    std::string digest;               // of manifest.json
    std::vector<std::string> layers;  // diff_ids, the lowest first
    int64_t created_ns = 0;           // the config's "created"
    uint64_t size = 0;                // of the layers, unpacked
    nlohmann::json config;            // the OCI image config, whole
};

// overlayfs stacks at most this many lower directories.
inline constexpr size_t kMaxImageLayers = 500;

class ImageStore {
public:
    explicit ImageStore(Paths paths) : paths_(std::move(paths)) {}

    // Serialises every change of images (and the layer removal after one).
    FileLock lock() const;

    std::vector<StoredImage> list() const;
    // By full name, by short name (`busybox` or `app:1` matches any
    // registry's, localhost/ first), or by a prefix of at least 3 hex digits of the id.
    std::optional<StoredImage> find(const std::string& text) const;
    std::optional<StoredImage> by_id(const std::string& id) const;

    // Writes the image (or adds names to it, if there), taking its names
    // from any image that had them. The caller holds lock() and the holds
    // of its layers.
    void add(const StoredImage& image, const std::string& manifest_text, const std::string& config_text) const;
    void tag(const std::string& id, const std::string& name) const;    // caller holds lock()
    void untag(const std::string& id, const std::string& name) const;  // caller holds lock()
    // Deletes it and then every layer no image names any more. Caller holds lock().
    void remove(const std::string& id) const;

    // The overlay lower directories of an image: its top layer first.
    std::vector<std::string> lowers(const StoredImage& image) const;

    // The image's manifest as stored.
    nlohmann::json manifest(const StoredImage& image) const;

private:
    void write(const StoredImage& image) const;
    void remove_unused_blobs() const;
    fs::path dir(const std::string& id) const;
    Paths paths_;
};

nlohmann::json stored_image_json(const StoredImage& image);

// An OCI layout in `dir` (made) holding the image as it came: its manifest,
// config and kept layer blobs (hard links), under ref.name `ref`: what
// skopeo copies out to an archive or a registry.
void write_oci_layout(const Paths& paths, const StoredImage& image, const fs::path& dir, const std::string& ref);

// What `skopeo copy ... oci:DIR` wrote: the image of DIR's index (its only
// manifest, or the one whose ref.name is `ref`), its layers unpacked and
// verified, stored under `names`. Error (125) for anything missing,
// mismatched or hostile, with nothing stored.
StoredImage import_oci_layout(const Paths& paths, const fs::path& layout, const std::string& ref,
                              const std::vector<std::string>& names, const LayerLimits& limits);

}  // namespace minirt
