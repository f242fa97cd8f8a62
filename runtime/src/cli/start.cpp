// minirt start / restart: run a stopped container again with its original
// configuration; its writable layer is kept.
#include <iostream>

#include "cli/attach.hpp"
#include "cli/cli.hpp"
#include "common/parse.hpp"
#include "container/launch.hpp"
#include "container/ops.hpp"

namespace minirt::cli {

namespace {

// start -a/-i: one container, followed as `run` follows it in the foreground.
int start_attached(Context& ctx, const std::string& handle, const std::string& detach_keys) {
    auto id = ctx.store.find(handle);
    if (!id) throw Error("no such container " + quote_for_message(handle), kExitNoSuchContainer);
    ContainerConfig config = ctx.store.load_config(*id);
    std::optional<Launched> launched = start_container(ctx.store, *id, attached_mode(config));
    if (!launched) throw Error("container " + quote_for_message(handle) + " is already running; use `minirt attach`");
    return follow_started(ctx, config, *launched, detach_keys);
}

}  // namespace

int cmd_start(Context& ctx, const Args& args) {
    const char* usage = "minirt start [-a] [-i] NAME...";
    po::options_description desc("Options");
    desc.add_options()
        ("attach,a", "attach to its output (and its terminal) until it exits; the exit code is its")
        ("interactive,i", "attach its stdin too (implies -a)")
        ("detach-keys", po::value<std::string>()->default_value("ctrl-p,ctrl-q"), "keys that detach from its terminal");
    Parsed p = parse(desc, args, usage);
    require_positional(p, 1, SIZE_MAX, usage);
    if (p.vm.count("attach") || p.vm.count("interactive")) {
        if (p.positional.size() > 1) throw Error("start -a/-i takes one container at a time");
        return start_attached(ctx, p.positional[0], parse_detach_keys(p.vm["detach-keys"].as<std::string>()));
    }
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
        container_event(ctx, id, "restart");
        start_container(ctx.store, id);
        std::cout << handle << "\n";
    });
}

}  // namespace minirt::cli
