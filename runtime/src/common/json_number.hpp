// Integers out of JSON documents minirt reads (its own records, OCI specs,
// seccomp profiles), checked: nlohmann's get<int>() of 1e300 or of -1 into
// an unsigned is undefined behaviour, not an error. A number that is not
// an integer, or does not fit, is refused with an Error naming it.
#pragma once

#include <cstdint>
#include <limits>
#include <string>
#include <type_traits>

#include <nlohmann/json.hpp>

#include "common/error.hpp"

namespace minirt {

template <typename T>
T json_integer(const nlohmann::json& v, const std::string& what) {
    static_assert(std::is_integral_v<T>);
    if (!v.is_number_integer()) throw Error(what + " must be an integer");
    if (v.is_number_unsigned()) {
        auto u = v.get<uint64_t>();
        if (u > static_cast<uint64_t>(std::numeric_limits<T>::max())) throw Error(what + " is too large");
        return static_cast<T>(u);
    }
    auto s = v.get<int64_t>();
    if constexpr (std::is_unsigned_v<T>) {
        if (s < 0) throw Error(what + " must not be negative");
        if (static_cast<uint64_t>(s) > static_cast<uint64_t>(std::numeric_limits<T>::max()))
            throw Error(what + " is too large");
    } else {
        if (s < static_cast<int64_t>(std::numeric_limits<T>::min()) ||
            s > static_cast<int64_t>(std::numeric_limits<T>::max()))
            throw Error(what + " is out of range");
    }
    return static_cast<T>(s);
}

// j[key] as a T, or `fallback` when the key is absent.
template <typename T>
T json_integer_or(const nlohmann::json& j, const char* key, T fallback) {
    auto it = j.find(key);
    return it == j.end() ? fallback : json_integer<T>(*it, key);
}

}  // namespace minirt
