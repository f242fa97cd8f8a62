// minirt freeze / thaw (aliases pause / unpause), through cgroup.freeze.
#include <iostream>

#include "cli/cli.hpp"
#include "container/ops.hpp"
#include "linux/cgroup.hpp"

namespace minirt::cli {

namespace {

constexpr int kFreezeTimeoutMs = 5000;

void set_frozen(Context& ctx, const std::string& id, bool frozen) {
    FileLock lock = ctx.store.lock(id);
    if (lock.stale()) throw Error("container was removed");
    ContainerView v = view_container(ctx.store, id);
    if (!v.load_error.empty()) throw Error(v.load_error);
    if (frozen && v.status == Status::Paused) throw Error("container is already paused");
    if (!frozen && v.status == Status::Running) throw Error("container is not paused");
    if (v.status != Status::Running && v.status != Status::Paused) throw Error("container is not running");
    if (v.state->cgroup.empty()) throw Error("container has no cgroup v2 group (this host has no cgroup2 mount)");
    Cgroup cg(v.state->cgroup);
    // The record says "may be frozen" whenever it can be (Paused before the
    // freeze, Running after the thaw): readers look at cgroup.freeze only
    // for containers recorded as Paused (see view_container).
    auto record = [&](Status s) {
        ContainerState st = *v.state;
        st.status = s;
        ctx.store.save_state(st);
    };
    if (frozen) record(Status::Paused);
    cg.set_frozen(frozen);
    // cgroup.freeze only asks; cgroup.events says when every task is frozen.
    if (!cg.wait_frozen(frozen, kFreezeTimeoutMs))
        throw Error(std::string("the kernel did not report the container ") + (frozen ? "frozen" : "thawed") +
                    " within 5 s");
    if (!frozen) record(Status::Running);
}

int run_verb(Context& ctx, const Args& args, bool frozen) {
    std::string usage = frozen ? "minirt freeze NAME..." : "minirt thaw NAME...";
    po::options_description desc("Options");
    Parsed p = parse(desc, args, usage);
    require_positional(p, 1, SIZE_MAX, usage);
    return for_each_handle(ctx, p.positional, [&](const std::string& id, const std::string& handle) {
        set_frozen(ctx, id, frozen);
        std::cout << handle << "\n";
    });
}

}  // namespace

int cmd_freeze(Context& ctx, const Args& args) { return run_verb(ctx, args, true); }
int cmd_thaw(Context& ctx, const Args& args) { return run_verb(ctx, args, false); }

}  // namespace minirt::cli
