// minirt stop / kill.
#include <iostream>

#include "cli/cli.hpp"
#include "common/parse.hpp"
#include "container/ops.hpp"

namespace minirt::cli {

int cmd_stop(Context& ctx, const Args& args) {
    const char* usage = "minirt stop [-t SECS] NAME... | minirt stop -a";
    po::options_description desc("Options");
    desc.add_options()("time,t", po::value<int>(),
                       "seconds to wait after SIGTERM before SIGKILL (0 = at once; default: its --stop-timeout, 10)")(
        "all,a", "every running container, and every one waiting to restart");
    Parsed p = parse(desc, args, usage);
    std::vector<std::string> handles = handles_or_all(ctx, p, usage, true, true);
    int timeout = stop_time_flag(p.vm);
    return for_each_handle(ctx, handles, [&](const std::string& id, const std::string& handle) {
        stop_container(ctx.store, id, timeout);
        std::cout << handle << "\n";
    });
}

int cmd_kill(Context& ctx, const Args& args) {
    const char* usage = "minirt kill [-s SIGNAL] NAME... | minirt kill -a";
    po::options_description desc("Options");
    desc.add_options()("signal,s", po::value<std::string>()->default_value("KILL"), "signal name or number")(
        "all,a", "every running container");
    Parsed p = parse(desc, args, usage);
    std::vector<std::string> handles = handles_or_all(ctx, p, usage, true);
    int sig = parse_signal(p.vm["signal"].as<std::string>());
    return for_each_handle(ctx, handles, [&](const std::string& id, const std::string& handle) {
        kill_container(ctx.store, id, sig);
        std::cout << handle << "\n";
    });
}

}  // namespace minirt::cli
