// minirt start / restart: run a stopped container again with its original
// configuration; its writable layer is kept.
#include <iostream>

#include "cli/cli.hpp"
#include "common/parse.hpp"
#include "container/ops.hpp"
#include "container/launch.hpp"

namespace minirt::cli {

namespace {

void start_one(Context& ctx, const std::string& id) {
    FileLock lock = ctx.store.lock(id);
    if (lock.stale()) throw Error("container was removed");
    ContainerView v = view_container(ctx.store, id);
    if (!v.load_error.empty()) throw Error(v.load_error);
    if (v.status == Status::Running || v.status == Status::Paused) return;  // as podman: nothing to do
    if (v.status == Status::Stopping || (v.status == Status::Created && v.shim_alive))
        throw Error("container is busy (" + std::string(to_string(v.status)) + "); try again");
    launch_container(ctx.store, id, lock);
}

}  // namespace

int cmd_start(Context& ctx, const Args& args) {
    const char* usage = "minirt start NAME...";
    po::options_description desc("Options");
    Parsed p = parse(desc, args, usage);
    require_positional(p, 1, SIZE_MAX, usage);
    return for_each_handle(ctx, p.positional, [&](const std::string& id, const std::string& handle) {
        start_one(ctx, id);
        std::cout << handle << "\n";
    });
}

int cmd_restart(Context& ctx, const Args& args) {
    const char* usage = "minirt restart [-t SECS] NAME...";
    po::options_description desc("Options");
    desc.add_options()("time,t", po::value<int>()->default_value(10), "seconds to wait before SIGKILL");
    Parsed p = parse(desc, args, usage);
    require_positional(p, 1, SIZE_MAX, usage);
    int timeout = p.vm["time"].as<int>();
    if (timeout < 0) throw Error("invalid --time: must not be negative");
    return for_each_handle(ctx, p.positional, [&](const std::string& id, const std::string& handle) {
        stop_container(ctx.store, id, timeout);
        start_one(ctx, id);
        std::cout << handle << "\n";
    });
}

}  // namespace minirt::cli
