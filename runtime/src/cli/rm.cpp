// minirt rm and minirt wait.
#include <algorithm>
#include <functional>
#include <iostream>
#include <map>
#include <optional>

#include "cli/cli.hpp"
#include "common/parse.hpp"
#include "container/ops.hpp"

namespace minirt::cli {

namespace {

// Every container that joins `id`'s namespaces, directly or through
// another, each after those that join its own (removable in this order).
std::vector<std::string> dependents_first(const Store& store, const std::string& id) {
    std::vector<std::string> order;
    std::function<void(const std::string&)> visit = [&](const std::string& c) {
        for (const auto& d : store.dependents(c)) {
            if (std::find(order.begin(), order.end(), d) != order.end() || d == id) continue;
            visit(d);
            order.push_back(d);
        }
    };
    visit(id);
    return order;
}

}  // namespace

int cmd_rm(Context& ctx, const Args& args) {
    const char* usage = "minirt rm [-f] [-v] [--depend] NAME... | minirt rm -a [-f] [-v]";
    po::options_description desc("Options");
    desc.add_options()("force,f", "stop a running container first")("volumes,v", "remove its anonymous volumes too")(
        "all,a", "every container (running ones only with -f)")(
        "depend", "first remove the containers that join its namespaces (container:NAME), and theirs");
    Parsed p = parse(desc, args, usage);
    bool force = p.vm.count("force") > 0;
    std::vector<std::string> handles;
    for (const auto& h : handles_or_all(ctx, p, usage, false)) {
        // With -f, a container that is already gone is not an error (like
        // rm -f of a file): a concurrent rm -f of the same one must not fail.
        // An invalid or ambiguous handle is still an error, reported below
        // with the others.
        if (force) {
            try {
                if (!ctx.store.find(h)) continue;
            } catch (const Error&) {
            }
        }
        handles.push_back(h);
    }
    int rc = 0;
    // Several: those that join another's namespaces go before it.
    if (handles.size() > 1) {
        std::vector<std::string> ids;
        std::map<std::string, std::string> handle_of;
        std::vector<std::string> unresolved;
        for (const auto& h : handles) {
            std::optional<std::string> id;
            try {
                id = ctx.store.find(h);
            } catch (const Error&) {
            }
            if (id && handle_of.emplace(*id, h).second) ids.push_back(*id);
            else if (!id) unresolved.push_back(h);
        }
        handles = unresolved;  // reported in the loop below
        for (const auto& id : removal_order(ctx.store, ids)) handles.push_back(handle_of[id]);
    }
    for (const auto& handle : handles) {
        try {
            auto id = ctx.store.find(handle);
            if (!id && force) continue;  // removed meanwhile by a concurrent rm -f
            if (!id) throw Error("no such container " + quote_for_message(handle), kExitNoSuchContainer);
            if (p.vm.count("depend")) {
                for (const auto& d : dependents_first(ctx.store, *id)) {
                    remove_container(ctx.store, d, force, p.vm.count("volumes") > 0);
                    std::cout << d << "\n";
                }
            }
            remove_container(ctx.store, *id, force, p.vm.count("volumes") > 0);
            std::cout << handle << "\n";
        } catch (const Error& e) {
            std::cerr << ctx.program << ": " << handle << ": " << e.message() << "\n";
            rc = e.exit_code();
        }
    }
    return rc;
}

int cmd_wait(Context& ctx, const Args& args) {
    const char* usage = "minirt wait NAME...";
    po::options_description desc("Options");
    Parsed p = parse(desc, args, usage);
    require_positional(p, 1, SIZE_MAX, usage);
    int rc = 0;
    for (const auto& handle : p.positional) {
        try {
            std::optional<int> code;
            if (auto id = ctx.store.find(handle)) code = wait_container(ctx.store, *id);
            // Gone already (run -d --rm): the code it exited with, as podman prints it.
            else if (!(code = ctx.store.removed_exit_code(handle)))
                throw Error("no such container " + quote_for_message(handle), kExitNoSuchContainer);
            std::cout << (code ? std::to_string(*code) : std::string("-1")) << std::endl;
        } catch (const Error& e) {
            std::cerr << ctx.program << ": " << handle << ": " << e.message() << "\n";
            rc = e.exit_code();
        }
    }
    return rc;
}

}  // namespace minirt::cli
