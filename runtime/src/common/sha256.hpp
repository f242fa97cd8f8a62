// SHA-256, as image digests and layer diff_ids are named. nettle's, loaded
// on first use (libarchive, which image commands load too, links it).
#pragma once

#include <nettle/sha2.h>

#include <string>
#include <string_view>

namespace minirt {

class Sha256 {
public:
    Sha256();
    void update(const void* data, size_t size);
    void update(std::string_view s) { update(s.data(), s.size()); }
    // "sha256:" and 64 lowercase hex digits; the context starts over.
    std::string digest();

private:
    sha256_ctx ctx_{};
};

std::string sha256_digest(std::string_view data);

}  // namespace minirt
