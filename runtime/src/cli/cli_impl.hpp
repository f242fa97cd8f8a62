#pragma once

#include <iostream>

#include "common/error.hpp"

namespace minirt::cli {

template <typename Fn>
int for_each_handle(Context& ctx, const std::vector<std::string>& handles, Fn&& fn) {
    int rc = 0;
    for (const auto& h : handles) {
        try {
            fn(ctx.store.resolve(h), h);
        } catch (const Error& e) {
            std::cerr << ctx.program << ": " << h << ": " << e.message() << "\n";
            rc = e.exit_code();
        }
    }
    return rc;
}

}  // namespace minirt::cli
