// minirt container (podman's `container` verbs, prune among them) and
// system prune: what stopped containers, unused networks, images and
// (--volumes) volumes hold, given back in one go.
#include <iostream>

#include "cli/cli.hpp"
#include "cli/container_filter.hpp"
#include "common/error.hpp"
#include "common/parse.hpp"
#include "container/ops.hpp"

namespace minirt::cli {

namespace {

// Removes every container that is not running (created or exited, and not
// about to be restarted by its shim), as `filters` allow; prints each id.
// Returns the exit code (the last failure's).
int prune_containers(Context& ctx, const ContainerFilter& filter) {
    int rc = 0;
    std::vector<std::string> chosen;
    for (const ContainerView& v : view_all(ctx.store)) {
        if (!v.load_error.empty()) continue;
        if (v.status != Status::Exited && v.status != Status::Created) continue;
        if (v.waiting_to_restart()) continue;
        if (!filter.empty()) {
            std::optional<ContainerConfig> config;
            try {
                if (filter.needs_config()) config = ctx.store.load_config(v.id);
            } catch (const Error&) {
                continue;
            }
            if (!filter.matches(ctx.store, v, config ? &*config : nullptr)) continue;
        }
        chosen.push_back(v.id);
    }
    // Those that join another's namespaces before it.
    for (const auto& id : removal_order(ctx.store, chosen)) {
        try {
            remove_container(ctx.store, id, false);
            std::cout << id << "\n";
        } catch (const Error& e) {
            // Started again, or removed, since it was looked at; or joined
            // by a container that stays.
            std::cerr << ctx.program << ": " << id.substr(0, 12) << ": " << e.message() << "\n";
            rc = e.exit_code();
        }
    }
    return rc;
}

// The top-level verbs `container VERB` reaches: all but the groups of
// other objects and the shell's.
bool is_container_verb(std::string_view name) {
    for (const char* other : {"container", "system", "image", "volume", "network", "completion"})
        if (name == other) return false;
    return true;
}

int container_prune(Context& ctx, const Args& args) {
    const char* usage = "minirt container prune [-f] [--filter label=KEY[=VALUE]]...";
    po::options_description desc("Options");
    desc.add_options()("force,f", "do not ask for confirmation")(
        "filter", po::value<std::vector<std::string>>(), "label=KEY[=VALUE] (label!= is not supported)");
    Parsed p = parse(desc, args, usage);
    require_positional(p, 0, 0, usage);
    ContainerFilter filter = ContainerFilter::parse(ctx.store, flag_values(p.vm, "filter"), {"label"});
    if (!p.vm.count("force") &&
        !confirmed("WARNING! This will remove all non running containers.", {}))
        return 0;
    return prune_containers(ctx, filter);
}

}  // namespace

int cmd_container(Context& ctx, const Args& args) {
    if (args.empty() || args[0] == "--help" || args[0] == "-h") {
        std::string verbs = "prune|ls";
        for (const auto& c : commands())
            if (is_container_verb(c.name)) verbs += std::string("|") + c.name;
        std::cout << "Usage: minirt container " << verbs << " ...\n\n"
                     "podman's `container` verbs: prune [-f], and every container command of minirt's\n"
                     "(container ls, container run, container inspect, ...: the same as without `container`).\n";
        return args.empty() ? kExitMinirtError : 0;
    }
    Args rest(args.begin() + 1, args.end());
    if (args[0] == "prune") return container_prune(ctx, rest);
    std::string verb = args[0] == "ls" ? "list" : args[0] == "remove" ? "rm" : args[0] == "pause" ? "freeze"
                     : args[0] == "unpause" ? "thaw" : args[0];
    for (const auto& c : commands())
        if (verb == c.name && is_container_verb(c.name)) return c.run(ctx, rest);
    throw Error("unknown container command " + quote_for_message(args[0]) + " (see minirt container --help)");
}

int cmd_system_prune(Context& ctx, const Args& args) {
    const char* usage = "minirt system prune [-a] [--volumes] [-f]";
    po::options_description desc("Options");
    desc.add_options()("all,a", "every image no container uses, not only those without a name")(
        "volumes", "volumes no container uses too")("force,f", "do not ask for confirmation");
    Parsed p = parse(desc, args, usage);
    require_positional(p, 0, 0, usage);
    bool all = p.vm.count("all") > 0, volumes = p.vm.count("volumes") > 0;
    if (!p.vm.count("force") &&
        !confirmed(std::string("WARNING! This command removes:\n"
                               "        - all stopped containers\n"
                               "        - all networks not used by at least one container\n") +
                       (volumes ? "        - all volumes not used by at least one container\n" : "") +
                       (all ? "        - all images without at least one container associated with them"
                            : "        - all dangling images"),
                   {}))
        return 0;
    // podman's order: the containers first, so that what they held is unused.
    std::cout << "Deleted Containers\n" << std::flush;
    int rc = prune_containers(ctx, ContainerFilter{});
    std::cout << "Deleted Networks\n" << std::flush;
    if (int r = cmd_network(ctx, {"prune", "-f"}); r) rc = r;
    if (volumes) {
        std::cout << "Deleted Volumes\n" << std::flush;
        if (int r = cmd_volume(ctx, {"prune", "-f"}); r) rc = r;
    }
    std::cout << "Deleted Images\n" << std::flush;
    Args image_args{"prune", "-f"};
    if (all) image_args.push_back("-a");
    if (int r = cmd_image(ctx, image_args); r) rc = r;
    return rc;
}

}  // namespace minirt::cli
