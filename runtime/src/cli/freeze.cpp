// minirt freeze / thaw (aliases pause / unpause): container/ops.hpp set_frozen.
#include <iostream>

#include "cli/cli.hpp"
#include "container/ops.hpp"

namespace minirt::cli {

namespace {

int run_verb(Context& ctx, const Args& args, bool frozen) {
    std::string usage = frozen ? "minirt freeze NAME..." : "minirt thaw NAME...";
    po::options_description desc("Options");
    Parsed p = parse(desc, args, usage);
    require_positional(p, 1, SIZE_MAX, usage);
    return for_each_handle(ctx, p.positional, [&](const std::string& id, const std::string& handle) {
        set_frozen(ctx.store, id, frozen);
        std::cout << handle << "\n";
    });
}

}  // namespace

int cmd_freeze(Context& ctx, const Args& args) { return run_verb(ctx, args, true); }
int cmd_thaw(Context& ctx, const Args& args) { return run_verb(ctx, args, false); }

}  // namespace minirt::cli
