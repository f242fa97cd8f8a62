// minirt start / restart: run a stopped container again with its original
// configuration; its writable layer is kept.
#include <iostream>

#include "cli/attach.hpp"
#include "cli/cli.hpp"
#include "cli/container_filter.hpp"
#include "common/parse.hpp"
#include "container/launch.hpp"
#include "container/ops.hpp"

namespace minirt::cli {

namespace {

// start -a/-i: one container, followed as `run` follows it in the foreground.
int start_attached(Context& ctx, const std::string& handle, bool with_stdin, const std::string& detach_keys) {
    auto id = ctx.store.find(handle);
    if (!id) throw Error("no such container " + quote_for_message(handle), kExitNoSuchContainer);
    ContainerConfig config = ctx.store.load_config(*id);
    std::optional<Launched> launched = start_container(ctx.store, *id, attached_mode(config, with_stdin));
    if (!launched) throw Error("container " + quote_for_message(handle) + " is already running; use `minirt attach`");
    return follow_started(ctx, config, *launched, detach_keys);
}

// start --all's filters (container_filter.hpp). restart-policy=unless-stopped
// takes only such containers that the user had not stopped: at boot
// (`start --all --filter restart-policy=always --filter
// restart-policy=unless-stopped`), Docker's rule for the two.
const std::vector<std::string> kStartFilterKeys{"restart-policy", "name", "id", "label", "status"};

// start --all: every container the filters take that is not running.
int start_all(Context& ctx, const ContainerFilter& filter) {
    int rc = 0;
    for (const auto& id : ctx.store.list_ids()) {
        ContainerView v = view_container(ctx.store, id);
        if (!v.load_error.empty() || !v.config) continue;  // damaged: `ps -a` shows it
        if (!filter.matches(ctx.store, v, &*v.config)) continue;
        if (v.status == Status::Running || v.status == Status::Paused) continue;
        try {
            start_container(ctx.store, id);
            std::cout << (v.config->name.empty() ? id : v.config->name) << "\n";
        } catch (const Error& e) {
            std::cerr << ctx.program << ": " << v.config->name << ": " << e.message() << "\n";
            rc = e.exit_code();
        }
    }
    return rc;
}

}  // namespace

int cmd_start(Context& ctx, const Args& args) {
    const char* usage = "minirt start [-a] [-i] NAME... | minirt start --all [--filter KEY=VALUE]...";
    po::options_description desc("Options");
    desc.add_options()
        ("all", "every container that is not running (that --filter takes)")
        ("filter", po::value<std::vector<std::string>>(), "with --all: restart-policy=, name=, id=, label=, status=")
        ("attach,a", "attach to its output (and its terminal) until it exits; the exit code is its")
        ("interactive,i", "attach its stdin too (implies -a)")
        ("detach-keys", po::value<std::string>()->default_value("ctrl-p,ctrl-q"), "keys that detach from its terminal")
        ("sdnotify", po::value<std::string>(), "conmon: tell systemd ($NOTIFY_SOCKET) its shim's PID, and READY once it runs (generate systemd's units); ignore");
    Parsed p = parse(desc, args, usage);
    bool sdnotify = p.vm.count("sdnotify") && parse_sdnotify(p.vm["sdnotify"].as<std::string>());
    if (sdnotify && (p.vm.count("all") || p.positional.size() != 1 || p.vm.count("attach") || p.vm.count("interactive")))
        throw Error("--sdnotify=conmon starts one container, detached");
    if (p.vm.count("filter") && !p.vm.count("all")) throw Error("--filter goes with --all");
    if (p.vm.count("all")) {
        require_positional(p, 0, 0, usage);
        if (p.vm.count("attach") || p.vm.count("interactive")) throw Error("--all and -a/-i: one container at a time");
        return start_all(ctx, ContainerFilter::parse(ctx.store, flag_values(p.vm, "filter"), kStartFilterKeys, true));
    }
    require_positional(p, 1, SIZE_MAX, usage);
    if (p.vm.count("attach") || p.vm.count("interactive")) {
        if (p.positional.size() > 1) throw Error("start -a/-i takes one container at a time");
        return start_attached(ctx, p.positional[0], p.vm.count("interactive") > 0,
                              parse_detach_keys(p.vm["detach-keys"].as<std::string>()));
    }
    return for_each_handle(ctx, p.positional, [&](const std::string& id, const std::string& handle) {
        // One already running is ready as it is (a unit started again).
        start_container(ctx.store, id);
        if (sdnotify) notify_systemd_ready(ctx.store, id);
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
