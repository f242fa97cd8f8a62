// minirt start / restart: run a stopped container again with its original
// configuration; its writable layer is kept.
#include <iostream>

#include "cli/cli.hpp"
#include "common/parse.hpp"
#include "container/ops.hpp"
#include "container/launch.hpp"

namespace minirt::cli {

int cmd_start(Context& ctx, const Args& args) {
    const char* usage = "minirt start NAME...";
    po::options_description desc("Options");
    Parsed p = parse(desc, args, usage);
    require_positional(p, 1, SIZE_MAX, usage);
    return for_each_handle(ctx, p.positional, [&](const std::string& id, const std::string& handle) {
        start_container(ctx.store, id);
        std::cout << handle << "\n";
    });
}

int cmd_restart(Context& ctx, const Args& args) {
    const char* usage = "minirt restart [-t SECS] NAME...";
    po::options_description desc("Options");
    desc.add_options()("time,t", po::value<int>(), "seconds to wait before SIGKILL (default: its --stop-timeout, 10)");
    Parsed p = parse(desc, args, usage);
    require_positional(p, 1, SIZE_MAX, usage);
    int timeout = stop_time_flag(p.vm);
    return for_each_handle(ctx, p.positional, [&](const std::string& id, const std::string& handle) {
        stop_container(ctx.store, id, timeout);
        start_container(ctx.store, id);
        std::cout << handle << "\n";
    });
}

}  // namespace minirt::cli
