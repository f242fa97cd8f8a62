// minirt update [LIMITS] CONTAINER...: podman's. New cgroup limits, written
// at once into a running container's group and kept in its config (both
// minirt.json and the bundle's config.json) for its later starts.
#include <iostream>

#include "cli/cli.hpp"
#include "cli/cli_impl.hpp"
#include "common/error.hpp"
#include "common/file.hpp"
#include "common/parse.hpp"
#include "container/bundle.hpp"
#include "container/ops.hpp"
#include "linux/cgroup.hpp"
#include "linux/resources.hpp"

namespace minirt::cli {

namespace {

// `now` with what `change` sets (a CPU quota comes with its period).
Resources merged(Resources now, const Resources& change) {
    auto take = [](auto& field, const auto& from) {
        if (from) field = from;
    };
    take(now.memory_max, change.memory_max);
    take(now.memory_high, change.memory_high);
    take(now.memory_swap_max, change.memory_swap_max);
    take(now.memory_low, change.memory_low);
    if (change.cpu_quota_us) {
        now.cpu_quota_us = change.cpu_quota_us;
        now.cpu_period_us = change.cpu_period_us;
    }
    take(now.cpu_weight, change.cpu_weight);
    take(now.cpuset_cpus, change.cpuset_cpus);
    take(now.cpuset_mems, change.cpuset_mems);
    take(now.blkio_weight, change.blkio_weight);
    take(now.pids_max, change.pids_max);
    if (!change.io_read_bps.empty()) now.io_read_bps = change.io_read_bps;
    if (!change.io_write_bps.empty()) now.io_write_bps = change.io_write_bps;
    if (now.memory_max && now.memory_high && *now.memory_high > *now.memory_max && *now.memory_max != kNoLimit)
        throw Error("update: the memory soft limit (--mem-soft) would be above the limit (--memory)");
    return now;
}

}  // namespace

int cmd_update(Context& ctx, const Args& args) {
    const char* usage = "minirt update [--memory SIZE] [--cpus N] [--cpu-shares N] [--pids-limit N] [...] CONTAINER...";
    po::options_description desc("Options");
    add_resource_options(desc);
    Parsed p = parse(desc, args, usage);
    require_positional(p, 1, SIZE_MAX, usage);
    // What belongs to the container's process, not its group, is set at run.
    for (const char* f : {"nice", "pin-cpu", "soft-mib", "hard-mib", "monitor-soft", "monitor-hard"})
        if (p.vm.count(f)) throw Error(std::string("--") + f + " cannot be changed by update: give it to run");
    Resources change = resources_from_flags(p.vm, ctx.store.paths().storage);
    // -1 lifts a limit the container has (run leaves it unset).
    if (p.vm.count("pids-limit") && !change.pids_max) change.pids_max = kNoLimit;
    if (change.empty()) throw Error("update: give a limit to change (minirt update --help)");
    return for_each_handle(ctx, p.positional, [&](const std::string& id, const std::string&) {
        FileLock lock = ctx.store.lock(id);
        ContainerConfig c = ctx.store.load_config(id);
        Resources next = merged(c.resources, change);
        ContainerView v = view_container(ctx.store, id);
        bool live = v.status == Status::Running || v.status == Status::Paused;
        if (live && v.state && !v.state->cgroup.empty()) apply_resources(v.state->cgroup, next);
        c.resources = next;
        ctx.store.save_config(c);
        write_file_atomic(ctx.store.paths().oci_config_file(id), oci_config_text(c, ctx.store.paths()), 0600);
        std::cout << id << "\n";
    });
}

}  // namespace minirt::cli
