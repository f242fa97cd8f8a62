// minirt network create / ls / inspect / rm / prune / exists: podman's
// commands and JSON (netavark's description of a network, which is what
// minirt stores).
#include <net/if.h>
#include <unistd.h>

#include <algorithm>
#include <fstream>
#include <iostream>
#include <map>
#include <nlohmann/json.hpp>

#include "cli/cli.hpp"
#include "cli/format_template.hpp"
#include "state/events.hpp"
#include "common/file.hpp"
#include "common/parse.hpp"
#include "container/ops.hpp"
#include "engine/network.hpp"
#include "state/networks.hpp"

namespace minirt::cli {

namespace {

using nlohmann::json;

constexpr int kExitNoSuchNetwork = 1;  // podman's, for rm and exists

// The subnets the host routes already (/proc/net/route: hex, little-endian):
// a network there would hide the host's own.
std::vector<Ipv4Net> host_routes() {
    std::vector<Ipv4Net> out;
    std::ifstream f("/proc/net/route");
    std::string line;
    std::getline(f, line);  // the header
    while (std::getline(f, line)) {
        auto w = words(line);
        if (w.size() < 8) continue;
        uint32_t dest = 0, mask = 0;
        try {
            dest = static_cast<uint32_t>(std::stoul(std::string(w[1]), nullptr, 16));
            mask = static_cast<uint32_t>(std::stoul(std::string(w[7]), nullptr, 16));
        } catch (const std::exception&) {
            continue;
        }
        if (mask == 0) continue;  // the default route covers everything and hides nothing
        dest = __builtin_bswap32(dest);
        mask = __builtin_bswap32(mask);
        Ipv4Net n;
        n.prefix = __builtin_popcount(mask);
        n.base = dest & n.mask();
        out.push_back(n);
    }
    return out;
}

// A subnet neither another network nor the host's routes use: the first
// free 10.90.N.0/24 (podman's own networks are 10.88.0.0/16 and 10.89.N.0/24).
Ipv4Net free_subnet(const std::vector<Network>& nets, const std::vector<Ipv4Net>& routes) {
    for (uint32_t n = 0; n < 256; ++n) {
        Ipv4Net c{(10u << 24) | (90u << 16) | (n << 8), 24};
        bool used = std::any_of(routes.begin(), routes.end(), [&](const Ipv4Net& r) { return r.overlaps(c); });
        for (const auto& net : nets)
            for (const auto& s : net.subnets) used = used || s.subnet.overlaps(c);
        if (!used) return c;
    }
    throw Error("no free subnet left in 10.90.0.0/16: give one with --subnet");
}

// The first free "minirtN" (a bridge's name on the host: at most 15 bytes).
std::string free_interface(const std::vector<Network>& nets) {
    for (int n = 0;; ++n) {
        std::string name = "minirt" + std::to_string(n);
        bool used = std::any_of(nets.begin(), nets.end(), [&](const Network& x) { return x.interface == name; });
        if (!used && ::if_nametoindex(name.c_str()) == 0) return name;
    }
}

uint32_t address_flag(const po::variables_map& vm, const char* flag) {
    auto a = parse_ipv4(vm[flag].as<std::string>());
    if (!a) throw Error(std::string("invalid --") + flag + " " + quote_for_message(vm[flag].as<std::string>()) + ": an IPv4 address");
    return *a;
}

Ipv4Net subnet_flag(const po::variables_map& vm, const char* flag) {
    const auto& text = vm[flag].as<std::string>();
    auto n = parse_ipv4_net(text);
    if (!n) throw Error(std::string("invalid --") + flag + " " + quote_for_message(text) + ": an IPv4 subnet such as 10.90.7.0/24");
    return *n;
}

int create(Context& ctx, const Args& args) {
    const char* usage = "minirt network create [--subnet CIDR [--gateway IP] [--ip-range CIDR]] [--internal] "
                        "[--disable-dns] [--label KEY=VALUE]... [--ignore] [NAME]";
    po::options_description desc("Options");
    desc.add_options()
        ("subnet", po::value<std::string>(), "the network's IPv4 subnet (default: a free 10.90.N.0/24)")
        ("gateway", po::value<std::string>(), "the bridge's address (default: the subnet's first)")
        ("ip-range", po::value<std::string>(), "hand out addresses only from this part of the subnet")
        ("internal", "no route out of the network")
        ("disable-dns", "no name service (aardvark-dns) on the network")
        ("label", po::value<std::vector<std::string>>(), "set a label (KEY=VALUE or KEY)")
        ("driver,d", po::value<std::string>()->default_value("bridge"), "bridge (the only driver)")
        ("ignore", "succeed when the network exists already");
    Parsed p = parse(desc, args, usage);
    require_positional(p, 0, 1, usage);
    if (p.vm["driver"].as<std::string>() != "bridge")
        throw Error("invalid --driver " + quote_for_message(p.vm["driver"].as<std::string>()) + ": only bridge");
    if ((p.vm.count("gateway") || p.vm.count("ip-range")) && !p.vm.count("subnet"))
        throw Error("--gateway and --ip-range need --subnet");
    Network n;
    n.labels = labels_from_flags(p.vm);
    n.internal = p.vm.count("internal") > 0;
    n.dns_enabled = !p.vm.count("disable-dns");
    NetworkSubnet s;
    if (p.vm.count("subnet")) {
        s.subnet = subnet_flag(p.vm, "subnet");
        if (s.subnet.prefix > 30) throw Error("invalid --subnet " + s.subnet.text() + ": too small for a gateway and a container (/30 at most)");
        s.gateway = p.vm.count("gateway") ? address_flag(p.vm, "gateway") : s.subnet.base + 1;
        if (!s.subnet.contains(s.gateway) || s.gateway == s.subnet.base || s.gateway == s.subnet.last())
            throw Error("invalid --gateway " + format_ipv4(s.gateway) + ": not a host address of " + s.subnet.text());
        if (p.vm.count("ip-range")) {
            s.range = subnet_flag(p.vm, "ip-range");
            if (!s.subnet.contains(s.range->base) || s.range->prefix < s.subnet.prefix)
                throw Error("invalid --ip-range " + s.range->text() + ": not inside " + s.subnet.text());
        }
        for (const auto& r : host_routes())
            if (r.overlaps(s.subnet))
                throw Error("invalid --subnet " + s.subnet.text() + ": the host routes " + r.text() + " already");
    }
    Networks nets(ctx.store.paths());
    FileLock lock = nets.lock();
    auto all = nets.list();
    n.name = p.positional.empty() ? free_interface(all) : p.positional[0];
    validate_network_name(n.name);
    if (nets.find(n.name)) {
        if (p.vm.count("ignore")) {
            std::cout << n.name << "\n";
            return 0;
        }
        throw Error("network " + quote_for_message(n.name) + " already exists");
    }
    if (!p.vm.count("subnet")) {
        s.subnet = free_subnet(all, host_routes());
        s.gateway = s.subnet.base + 1;
    }
    n.subnets.push_back(s);
    n.id = generate_id();
    n.interface = free_interface(all);
    n.created_ns = now_ns();
    nets.create(n);
    record_object_event(ctx.store.paths(), "network", "create", n.name, n.name);
    std::cout << n.name << "\n";
    return 0;
}

bool matches(const Network& n, const std::vector<std::string>& filters) {
    for (const auto& f : filters) {
        auto eq = f.find('=');
        std::string key = f.substr(0, eq), value = eq == std::string::npos ? "" : f.substr(eq + 1);
        if (key == "name") {
            if (n.name.find(value) == std::string::npos) return false;
        } else if (key == "label") {
            if (!label_filter_matches(n.labels, value)) return false;
        } else if (key == "driver") {
            if (value != n.driver) return false;
        } else {
            throw Error("invalid --filter " + quote_for_message(f) + ": use name, label or driver");
        }
    }
    return true;
}

// A network as podman's templates see it: its Go fields' names (Name, ID,
// Driver, NetworkInterface, Subnets[].Gateway, DNSEnabled, ...), made from
// netavark's JSON keys (name, id, network_interface, dns_enabled, ...).
json template_fields(const json& j) {
    if (j.is_array()) {
        json a = json::array();
        for (const auto& e : j) a.push_back(template_fields(e));
        return a;
    }
    if (!j.is_object()) return j;
    json out = json::object();
    for (const auto& [key, value] : j.items()) {
        std::string name;
        bool upper = true;
        for (size_t i = 0; i < key.size(); ++i) {
            if (key[i] == '_') {
                upper = true;
                continue;
            }
            // Go's initialisms: ID, DNS, IPAM, IPv6.
            std::string_view rest(key.c_str() + i);
            std::string_view word = rest.substr(0, rest.find('_'));
            if (upper && (word == "id" || word == "dns" || word == "ipam")) {
                for (char c : word) name += static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
                i += word.size() - 1;
            } else if (upper && word == "ipv6") {
                name += "IPv6";
                i += 3;
            } else {
                name += upper ? static_cast<char>(std::toupper(static_cast<unsigned char>(key[i]))) : key[i];
            }
            upper = false;
        }
        // Labels and options are maps: their keys stay as they are.
        out[name] = key == "labels" || key == "options" ? value : template_fields(value);
    }
    return out;
}

int ls(Context& ctx, const Args& args) {
    const char* usage = "minirt network ls [--format table|json|TEMPLATE] [-q] [--filter KEY=VALUE]...";
    po::options_description desc("Options");
    desc.add_options()
        ("format", po::value<std::string>()->default_value("table"), "table, json, or a Go template such as {{.Name}}")
        ("noheading,n", "no header line")
        ("quiet,q", "print only names")
        ("filter,f", po::value<std::vector<std::string>>(), "name=, label=, driver=");
    Parsed p = parse(desc, args, usage);
    require_positional(p, 0, 0, usage);
    std::string format = p.vm["format"].as<std::string>();
    std::optional<TemplateFormat> tmpl = TemplateFormat::parse(format, {"Labels", "Options", "IPAMOptions"});
    auto filters = flag_values(p.vm, "filter");
    std::vector<Network> shown;
    for (auto& n : Networks(ctx.store.paths()).list())
        if (matches(n, filters)) shown.push_back(std::move(n));
    if (p.vm.count("quiet")) {
        for (const auto& n : shown) std::cout << n.name << "\n";
    } else if (tmpl) {
        for (const auto& n : shown) {
            json t = template_fields(json::parse(network_json(n)));
            t["ID"] = n.id.substr(0, 12);  // podman's ls: the short id
            tmpl->add(t);
        }
        std::cout << tmpl->finish({{"ID", "NETWORK ID"}}, p.vm.count("noheading") > 0);
    } else if (format == "json") {
        json a = json::array();
        for (const auto& n : shown) a.push_back(json::parse(network_json(n)));
        std::cout << a.dump(4) << "\n";
    } else {
        if (!p.vm.count("noheading")) std::printf("%-14s%-20s%s\n", "NETWORK ID", "NAME", "DRIVER");
        for (const auto& n : shown) std::printf("%-14s%-20s%s\n", n.id.substr(0, 12).c_str(), n.name.c_str(), n.driver.c_str());
    }
    return 0;
}

Network must_find(const Networks& nets, const std::string& name) {
    validate_network_name(name);
    auto n = nets.find(name);
    if (!n) throw Error("no such network " + quote_for_message(name), kExitNoSuchNetwork);
    return *n;
}

int inspect(Context& ctx, const Args& args) {
    const char* usage = "minirt network inspect [--format json|TEMPLATE] NAME...";
    po::options_description desc("Options");
    desc.add_options()("format,f", po::value<std::string>()->default_value("json"), "json, or a Go template such as {{.Subnets}}");
    Parsed p = parse(desc, args, usage);
    require_positional(p, 1, SIZE_MAX, usage);
    std::optional<TemplateFormat> tmpl =
        TemplateFormat::parse(p.vm["format"].as<std::string>(), {"Labels", "Options", "IPAMOptions"});
    Networks nets(ctx.store.paths());
    json a = json::array();
    for (const auto& name : p.positional) a.push_back(json::parse(network_json(must_find(nets, name))));
    if (tmpl)
        for (const auto& n : a) std::cout << tmpl->render(template_fields(n));
    else
        std::cout << a.dump(4) << "\n";
    return 0;
}

// The containers (any state) whose config names network `name`.
std::vector<ContainerView> users_of(const Store& store, const std::string& name) {
    std::vector<ContainerView> out;
    for (const auto& id : store.list_ids()) {
        ContainerView v = view_container(store, id);
        if (!v.config) continue;
        for (const auto& n : v.config->networks)
            if (n.name == name) {
                out.push_back(v);
                break;
            }
    }
    return out;
}

int rm(Context& ctx, const Args& args) {
    const char* usage = "minirt network rm [-f] NAME...";
    po::options_description desc("Options");
    desc.add_options()("force,f", "no error for a network that does not exist");
    Parsed p = parse(desc, args, usage);
    require_positional(p, 1, SIZE_MAX, usage);
    Networks nets(ctx.store.paths());
    int rc = 0;
    for (const auto& name : p.positional) {
        try {
            must_find(nets, name);
            if (name == kDefaultNetwork)
                throw Error("the default network " + quote_for_message(name) + " cannot be removed");
            // podman's -f: the containers on it go first.
            std::vector<std::string> users;
            for (const auto& v : users_of(ctx.store, name)) {
                std::string shown = v.config->name.empty() ? v.id.substr(0, 12) : v.config->name;
                if (!p.vm.count("force"))
                    throw Error("network " + quote_for_message(name) + " is used by container " + shown +
                                    " (remove it first, or use rm -f)",
                                kExitStateImproper);
                users.push_back(v.id);
            }
            for (const auto& id : removal_order(ctx.store, users)) remove_container(ctx.store, id, true);
            FileLock lock = nets.lock();
            nets.remove(name);
            record_object_event(ctx.store.paths(), "network", "remove", name, name);
            std::cout << name << "\n";
        } catch (const Error& e) {
            if (p.vm.count("force") && e.exit_code() == kExitNoSuchNetwork) continue;
            std::cerr << ctx.program << ": " << e.message() << "\n";
            if (rc == 0 || e.exit_code() == kExitMinirtError) rc = e.exit_code();
        }
    }
    return rc;
}

// Networks no container names (never the default).
std::vector<Network> unused(const Store& store, const Networks& nets) {
    std::vector<Network> out;
    for (auto& n : nets.list())
        if (n.name != kDefaultNetwork && users_of(store, n.name).empty()) out.push_back(std::move(n));
    return out;
}

int prune(Context& ctx, const Args& args) {
    const char* usage = "minirt network prune [-f]";
    po::options_description desc("Options");
    desc.add_options()("force,f", "do not ask for confirmation");
    Parsed p = parse(desc, args, usage);
    require_positional(p, 0, 0, usage);
    Networks nets(ctx.store.paths());
    if (!p.vm.count("force")) {
        std::vector<std::string> names;
        for (const auto& n : unused(ctx.store, nets)) names.push_back(n.name);
        if (!confirmed("WARNING! This will remove all networks not used by at least one container. The following "
                       "networks will be removed:",
                       names))
            return 0;
    }
    for (const auto& n : unused(ctx.store, nets)) {
        FileLock lock = nets.lock();
        nets.remove(n.name);
        record_object_event(ctx.store.paths(), "network", "remove", n.name, n.name);
        std::cout << n.name << "\n";
    }
    return 0;
}

int exists(Context& ctx, const Args& args) {
    const char* usage = "minirt network exists NAME";
    po::options_description desc("Options");
    Parsed p = parse(desc, args, usage);
    require_positional(p, 1, 1, usage);
    validate_network_name(p.positional[0]);
    return Networks(ctx.store.paths()).find(p.positional[0]) ? 0 : kExitNoSuchNetwork;
}

// A container named on the command line, under its lock (its config is
// rewritten meanwhile), as it is now.
struct LockedContainer {
    FileLock lock;
    ContainerView view;
};
LockedContainer lock_container(const Store& store, const std::string& handle) {
    std::string id = store.resolve(handle);
    LockedContainer l{store.lock(id), {}};
    if (l.lock.stale()) throw Error("no such container " + quote_for_message(handle));
    l.view = view_container(store, id);
    if (!l.view.load_error.empty()) throw Error(l.view.load_error);
    return l;
}

// network connect [--ip IP] [--mac-address MAC] [--alias NAME]... NETWORK CONTAINER:
// recorded in the container's config (its next start joins it too) and,
// while it runs, set up in its namespace at once.
int connect(Context& ctx, const Args& args) {
    const char* usage = "minirt network connect [--ip IP] [--mac-address MAC] [--alias NAME]... NETWORK CONTAINER";
    po::options_description desc("Options");
    desc.add_options()
        ("ip", po::value<std::string>(), "the container's address on the network")
        ("mac-address", po::value<std::string>(), "its MAC address there")
        ("alias", po::value<std::vector<std::string>>(), "another name of it there");
    Parsed p = parse(desc, args, usage);
    require_positional(p, 2, 2, usage);
    Networks nets(ctx.store.paths());
    Network net = must_find(nets, p.positional[0]);
    LockedContainer l = lock_container(ctx.store, p.positional[1]);
    ContainerConfig c = *l.view.config;
    if (c.network != "bridge")
        throw Error("container " + p.positional[1] + " is on --network " + c.network + ", not a bridge network");
    for (const auto& n : c.networks)
        if (n.name == net.name)
            throw Error("container " + p.positional[1] + " is already connected to network " + quote_for_message(net.name));
    NetworkRequest r;
    r.name = net.name;
    if (p.vm.count("ip")) {
        r.ip = p.vm["ip"].as<std::string>();
        check_ip_on(net, r.ip);
    }
    if (p.vm.count("mac-address")) {
        r.mac = p.vm["mac-address"].as<std::string>();
        check_mac(r.mac);
    }
    r.aliases = flag_values(p.vm, "alias");
    for (const auto& a : r.aliases)
        if (!valid_dns_name(a)) throw Error("invalid --alias " + quote_for_message(a));
    c.networks.push_back(r);
    if (l.view.status == Status::Running || l.view.status == Status::Paused) engine::connect_network(ctx.store.paths(), c, r);
    ctx.store.save_config(c);
    record_object_event(ctx.store.paths(), "network", "connect", net.name, net.name, {{"container", c.id}});
    return 0;
}

int disconnect(Context& ctx, const Args& args) {
    const char* usage = "minirt network disconnect [-f] NETWORK CONTAINER";
    po::options_description desc("Options");
    desc.add_options()("force,f", "accepted for podman's scripts (the container stays)");
    Parsed p = parse(desc, args, usage);
    require_positional(p, 2, 2, usage);
    validate_network_name(p.positional[0]);
    LockedContainer l = lock_container(ctx.store, p.positional[1]);
    ContainerConfig c = *l.view.config;
    auto it = std::find_if(c.networks.begin(), c.networks.end(), [&](const NetworkRequest& n) { return n.name == p.positional[0]; });
    if (it == c.networks.end())
        throw Error("container " + p.positional[1] + " is not connected to network " + quote_for_message(p.positional[0]));
    if (c.networks.size() == 1)
        throw Error("network " + quote_for_message(p.positional[0]) + " is the only network of container " +
                    p.positional[1] + "; it would have none (use --network none when you run it)");
    c.networks.erase(it);
    engine::disconnect_network(ctx.store.paths(), c, p.positional[0]);
    ctx.store.save_config(c);
    record_object_event(ctx.store.paths(), "network", "disconnect", p.positional[0], p.positional[0], {{"container", c.id}});
    return 0;
}

}  // namespace

int cmd_network(Context& ctx, const Args& args) {
    return run_subcommand(ctx, args, "network", "minirt network create|ls|inspect|rm|prune|exists|connect|disconnect ...",
                          "Commands:\n"
                          "  create [NAME]     define a bridge network (netavark's description, in storage)\n"
                          "  ls                list networks (--format json, --filter, -q)\n"
                          "  inspect NAME...   show networks as JSON\n"
                          "  rm [-f] NAME...   remove networks\n"
                          "  prune [-f]        remove every network no container uses\n"
                          "  exists NAME       exit 0 if the network exists, 1 if not\n"
                          "  connect NET CTR   put a container on one more network (at once if it runs)\n"
                          "  disconnect NET CTR  take a container off a network\n",
                          {{{"create"}, create}, {{"ls", "list"}, ls}, {{"inspect"}, inspect}, {{"rm", "remove"}, rm},
                           {{"prune"}, prune}, {{"exists"}, exists}, {{"connect"}, connect}, {{"disconnect"}, disconnect}});
}

}  // namespace minirt::cli
