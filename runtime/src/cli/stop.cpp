// minirt stop / kill.
#include <iostream>

#include "cli/cli.hpp"
#include "common/parse.hpp"
#include "container/ops.hpp"

namespace minirt::cli {

int cmd_stop(Context& ctx, const Args& args) {
    const char* usage = "minirt stop [-t SECS] NAME...";
    po::options_description desc("Options");
    desc.add_options()("time,t", po::value<int>(),
                       "seconds to wait after SIGTERM before SIGKILL (0 = at once; default: its --stop-timeout, 10)");
    Parsed p = parse(desc, args, usage);
    require_positional(p, 1, SIZE_MAX, usage);
    int timeout = stop_time_flag(p.vm);
    return for_each_handle(ctx, p.positional, [&](const std::string& id, const std::string& handle) {
        stop_container(ctx.store, id, timeout);
        std::cout << handle << "\n";
    });
}

int cmd_kill(Context& ctx, const Args& args) {
    const char* usage = "minirt kill [-s SIGNAL] NAME...";
    po::options_description desc("Options");
    desc.add_options()("signal,s", po::value<std::string>()->default_value("KILL"), "signal name or number");
    Parsed p = parse(desc, args, usage);
    require_positional(p, 1, SIZE_MAX, usage);
    int sig = parse_signal(p.vm["signal"].as<std::string>());
    return for_each_handle(ctx, p.positional, [&](const std::string& id, const std::string& handle) {
        kill_container(ctx.store, id, sig);
        std::cout << handle << "\n";
    });
}

}  // namespace minirt::cli
