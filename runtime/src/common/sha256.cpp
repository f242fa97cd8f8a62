#include "common/sha256.hpp"

#include <dlfcn.h>

#include "common/error.hpp"

namespace minirt {

namespace {

struct NettleSha256 {
    decltype(&::nettle_sha256_init) init = nullptr;
    decltype(&::nettle_sha256_update) update = nullptr;
    decltype(&::nettle_sha256_digest) digest = nullptr;
};

const NettleSha256& nettle() {
    static const NettleSha256 loaded = [] {
        constexpr const char* kSoname = "libnettle.so.8";
        void* handle = ::dlopen(kSoname, RTLD_NOW | RTLD_LOCAL);
        if (!handle) throw Error(std::string("image digests need nettle (Debian package libnettle8): ") + ::dlerror());
        NettleSha256 n;
        n.init = reinterpret_cast<decltype(n.init)>(::dlsym(handle, "nettle_sha256_init"));
        n.update = reinterpret_cast<decltype(n.update)>(::dlsym(handle, "nettle_sha256_update"));
        n.digest = reinterpret_cast<decltype(n.digest)>(::dlsym(handle, "nettle_sha256_digest"));
        if (!n.init || !n.update || !n.digest) throw Error(std::string(kSoname) + " has no SHA-256");
        return n;
    }();
    return loaded;
}

}  // namespace

Sha256::Sha256() { nettle().init(&ctx_); }

void Sha256::update(const void* data, size_t size) { nettle().update(&ctx_, size, static_cast<const uint8_t*>(data)); }

std::string Sha256::digest() {
    uint8_t d[SHA256_DIGEST_SIZE];
    nettle().digest(&ctx_, sizeof d, d);
    static constexpr char kHex[] = "0123456789abcdef";
    std::string out = "sha256:";
    for (uint8_t b : d) {
        out += kHex[b >> 4];
        out += kHex[b & 15];
    }
    return out;
}

std::string sha256_digest(std::string_view data) {
    Sha256 h;
    h.update(data);
    return h.digest();
}

}  // namespace minirt
