// Image layers, each unpacked once under <storage>/layers/<hex of its
// diff_id>/diff, ready to be one of overlayfs's lower directories: a
// whiteout (.wh.NAME) becomes overlay's 0:0 character device, an opaque
// marker (.wh..wh..opq) overlay's trusted.overlay.opaque xattr.
#pragma once

#include <cstdint>
#include <set>
#include <string>
#include <vector>

#include "common/fd.hpp"
#include "state/paths.hpp"

namespace minirt {

// "sha256:" and 64 lowercase hex digits, or Error naming `what`.
void validate_digest(const std::string& digest, const std::string& what);
std::string digest_hex(const std::string& digest);  // the 64 digits

fs::path layer_dir(const Paths& paths, const std::string& diff_id);    // layers/<hex>
fs::path layer_root(const Paths& paths, const std::string& diff_id);   // layers/<hex>/diff

struct LayerLimits {
    uint64_t max_bytes = 0;  // of one layer, uncompressed (0: none)
};
// A tar bomb stops at MINIRT_MAX_LAYER_SIZE bytes (k, m, g), default 64 GiB.
LayerLimits layer_limits();

// Unpacks `blob` (a tar, compressed any way libarchive reads) as the layer
// `diff_id` unless it is there already. The uncompressed stream must hash
// to diff_id; a path out of the layer (.., absolute, through a symlink, a
// hard link out), or a whiteout naming one, is refused. Device nodes are
// skipped and setuid/setgid bits dropped, as import does. Made aside and
// renamed into place whole, under a lock of its own: two pulls sharing a
// layer unpack it once, and a crash leaves nothing half-made in place.
// The layer's lock is held until the hold goes (a removal of unused layers
// passes over it): until the image that names it is written.
struct LayerHold {
    uint64_t size = 0;  // bytes of its regular files
    UniqueFd lock;
};
LayerHold ensure_layer(const Paths& paths, const fs::path& blob, const std::string& diff_id, const LayerLimits& limits);

// Removes every layer no image in `used` (diff_ids) names, and what a
// crashed unpack left aside. The caller holds the images lock.
void remove_unused_layers(const Paths& paths, const std::set<std::string>& used);

}  // namespace minirt
