// minirt port: the ports a container publishes, as podman prints them.
#include <iostream>

#include "cli/cli.hpp"
#include "common/parse.hpp"
#include "common/ports.hpp"
#include "container/ops.hpp"
#include "engine/network.hpp"

namespace minirt::cli {

namespace {

// Its ports as published (host ports picked at start included) while its
// network is set up; none otherwise (`ps -a` keeps what the last start
// published).
std::vector<PortRequest> published_ports(const Store& store, const std::string& id) {
    if (auto r = engine::load_network_record(store.paths(), id)) return r->ports;
    return {};
}

void print_ports(const std::vector<PortRequest>& ports, const std::optional<PortRequest>& only, const std::string& prefix) {
    for (const auto& p : ports)
        for (uint32_t i = 0; i < p.range; ++i) {
            uint32_t inside = p.container_port + i;
            if (only && (only->container_port != inside || only->protocol != p.protocol)) continue;
            std::string host = (p.host_ip.empty() ? "0.0.0.0" : p.host_ip) + ":" + std::to_string(p.host_port + i);
            if (only) std::cout << host << "\n";
            else std::cout << prefix << inside << "/" << p.protocol << " -> " << host << "\n";
        }
}

}  // namespace

int cmd_port(Context& ctx, const Args& args) {
    const char* usage = "minirt port [-a] [CONTAINER [PORT[/PROTOCOL]]]";
    po::options_description desc("Options");
    desc.add_options()("all,a", "every container's ports");
    Parsed p = parse(desc, args, usage);
    bool all = p.vm.count("all") > 0;
    require_positional(p, all ? 0 : 1, all ? 0 : 2, usage);
    if (all) {
        for (const auto& v : view_all(ctx.store)) {
            auto ports = published_ports(ctx.store, v.id);
            if (!ports.empty()) print_ports(ports, std::nullopt, v.id.substr(0, 12) + "\t");
        }
        return 0;
    }
    std::string id = ctx.store.resolve(p.positional[0]);
    std::optional<PortRequest> only;
    if (p.positional.size() == 2) only = parse_exposed(p.positional[1]);
    auto ports = published_ports(ctx.store, id);
    if (only) {
        bool found = false;
        for (const auto& q : ports) found = found || (q.protocol == only->protocol && only->container_port >= q.container_port &&
                                                      only->container_port < q.container_port + q.range);
        if (!found)
            throw Error("container " + p.positional[0] + " does not publish port " + p.positional[1]);
    }
    print_ports(ports, only, "");
    return 0;
}

}  // namespace minirt::cli
