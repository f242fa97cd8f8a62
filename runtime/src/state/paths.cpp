#include "state/paths.hpp"

#include <cstdlib>

namespace minirt {

Paths Paths::from(const std::string& root_flag, const std::string& storage_flag) {
    auto pick = [](const std::string& flag, const char* env, const char* def) {
        if (!flag.empty()) return fs::path(flag);
        const char* v = std::getenv(env);
        if (v && *v) return fs::path(v);
        return fs::path(def);
    };
    Paths p;
    p.root = fs::absolute(pick(root_flag, "MINIRT_ROOT", "/run/minirt")).lexically_normal();
    p.storage = fs::absolute(pick(storage_flag, "MINIRT_STORAGE", "/var/lib/minirt")).lexically_normal();
    return p;
}

}  // namespace minirt
