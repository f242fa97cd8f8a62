// The network flags of run: --network (--net) with podman's values, -p,
// -P, --expose, --ip, --mac-address, --network-alias, --dns*, --add-host,
// --no-hosts; checked here so a bad one changes nothing.
#include <cstdlib>
#include <set>

#include "cli/cli.hpp"
#include "common/error.hpp"
#include "common/ipv4.hpp"
#include "common/parse.hpp"
#include "common/ports.hpp"
#include "state/networks.hpp"

namespace minirt::cli {

namespace {

// An IPv6 address's characters, with at least one colon (these go into
// /etc files a line each: nothing else may get through).
bool looks_like_ipv6(const std::string& a) {
    return a.size() >= 2 && a.size() <= 45 && a.find(':') != std::string::npos &&
           a.find_first_not_of("0123456789abcdefABCDEF:.") == std::string::npos;
}

// The --network values given (and --net's), or the default: MINIRT_NETWORK
// (as podman's containers.conf default_network), else the bridge.
std::vector<std::string> network_values(const po::variables_map& vm) {
    std::vector<std::string> v = flag_values(vm, "network");
    for (auto& n : flag_values(vm, "net")) v.push_back(n);
    if (v.empty()) {
        const char* env = std::getenv("MINIRT_NETWORK");
        v.push_back(env && *env ? env : "bridge");
    }
    return v;
}

bool valid_mac(const std::string& m) {
    if (m.size() != 17) return false;
    for (size_t i = 0; i < m.size(); ++i) {
        bool colon = i % 3 == 2;
        if (colon ? m[i] != ':' : !std::isxdigit(static_cast<unsigned char>(m[i]))) return false;
    }
    // A unicast address: the first octet's lowest bit clear.
    return (std::stoi(m.substr(0, 2), nullptr, 16) & 1) == 0;
}

}  // namespace

void check_ip_on(const Network& net, const std::string& ip) {
    auto a = parse_ipv4(ip);
    if (!a) throw Error("invalid --ip " + quote_for_message(ip) + ": an IPv4 address");
    bool inside = false;
    for (const auto& s : net.subnets) inside = inside || s.subnet.contains(*a);
    if (!inside) throw Error("invalid --ip " + ip + ": not in network " + quote_for_message(net.name) + "'s subnet");
}

void check_mac(const std::string& mac) {
    if (!valid_mac(mac)) throw Error("invalid --mac-address " + quote_for_message(mac) + ": a unicast address like 92:d0:c6:0a:29:33");
}

bool valid_dns_name(const std::string& n) {
    if (n.empty() || n.size() > 253) return false;
    for (char ch : n)
        if (!std::isalnum(static_cast<unsigned char>(ch)) && ch != '-' && ch != '.' && ch != '_') return false;
    return true;
}

void add_network_options(po::options_description& desc) {
    desc.add_options()
        ("network", po::value<std::vector<std::string>>(),
         "bridge (default: the network \"minirt\"), none (loopback only), host, container:NAME, ns:PATH, or a "
         "network's name (repeat for several)")
        ("net", po::value<std::vector<std::string>>(), "the same as --network")
        ("publish,p", po::value<std::vector<std::string>>(),
         "[[IP:][HOST_PORT]:]CONTAINER_PORT[/tcp|/udp]: publish a port (ranges as 8000-8010)")
        ("publish-all,P", "publish every exposed port (the image's and --expose) on a free host port")
        ("expose", po::value<std::vector<std::string>>(), "PORT[/PROTOCOL]: expose a port (for -P)")
        ("ip", po::value<std::string>(), "the container's IPv4 address on its network")
        ("mac-address", po::value<std::string>(), "the container's MAC address on its network")
        ("network-alias", po::value<std::vector<std::string>>(), "another name of the container on its network")
        ("dns", po::value<std::vector<std::string>>(), "a name server for /etc/resolv.conf")
        ("dns-search", po::value<std::vector<std::string>>(), "a search domain for /etc/resolv.conf (. for none)")
        ("dns-option", po::value<std::vector<std::string>>(), "an option for /etc/resolv.conf")
        ("add-host", po::value<std::vector<std::string>>(), "HOST:IP: add a line to /etc/hosts")
        ("no-hosts", "keep the image's /etc/hosts");
}

bool network_flags_want_namespace(const po::variables_map& vm) {
    for (const auto& v : network_values(vm))
        if (v == "host" || v.starts_with("container:") || v.starts_with("ns:")) return false;
    return true;
}

bool network_flags_may_be_bridge(const po::variables_map& vm) {
    for (const auto& v : network_values(vm))
        if (v != "none" && v != "private" && v != "host" && !v.starts_with("container:") && !v.starts_with("ns:"))
            return true;
    return false;
}

void network_from_flags(const po::variables_map& vm, const Store& store, const std::vector<std::string>& image_exposed,
                        ContainerConfig& c) {
    std::vector<std::string> values = network_values(vm);
    Networks networks(store.paths());
    std::set<std::string> seen;
    c.network.clear();
    for (const auto& v : values) {
        std::string shown = "invalid --network " + quote_for_message(v);
        std::string mode;
        if (v == "none" || v == "private") mode = "none";
        else if (v == "host") mode = "host";
        else if (v.starts_with("container:")) {
            mode = "container:" + store.resolve(v.substr(10));
            // Its /etc/hosts is the peer's: none when the peer keeps its image's.
            c.no_hosts = store.load_config(mode.substr(10)).no_hosts;
        }
        else if (v.starts_with("ns:")) {
            if (v.size() < 4 || v[3] != '/') throw Error(shown + ": ns: needs an absolute path");
            mode = v;
        } else {
            std::string name = v == "bridge" ? kDefaultNetwork : v;
            if (name.find(':') != std::string::npos)
                throw Error(shown + ": options after the name are not supported; use --ip, --mac-address and "
                                    "--network-alias");
            validate_network_name(name);
            if (!networks.find(name)) throw Error(shown + ": no such network (see `minirt network ls`)");
            if (!seen.insert(name).second) throw Error(shown + ": given twice");
            mode = "bridge";
            NetworkRequest r;
            r.name = name;
            c.networks.push_back(r);
        }
        if (!c.network.empty() && (c.network != "bridge" || mode != "bridge"))
            throw Error(shown + ": " + (mode == "bridge" ? c.network : mode) +
                        " cannot be combined with another network");
        c.network = mode;
    }
    std::string ip = vm.count("ip") ? vm["ip"].as<std::string>() : "";
    std::string mac = vm.count("mac-address") ? vm["mac-address"].as<std::string>() : "";
    std::vector<std::string> aliases = flag_values(vm, "network-alias");
    if (c.network != "bridge" && (!ip.empty() || !mac.empty() || !aliases.empty()))
        throw Error("--ip, --mac-address and --network-alias need a bridge network, not --network " + c.network);
    if ((!ip.empty() || !mac.empty()) && c.networks.size() > 1)
        throw Error("--ip and --mac-address need a single network (" + std::to_string(c.networks.size()) + " given)");
    if (!ip.empty()) {
        check_ip_on(*networks.find(c.networks[0].name), ip);
        c.networks[0].ip = ip;
    }
    if (!mac.empty()) {
        check_mac(mac);
        c.networks[0].mac = mac;
    }
    for (const auto& a : aliases)
        if (!valid_dns_name(a)) throw Error("invalid --network-alias " + quote_for_message(a));
    if (!aliases.empty()) {
        bool dns = false;
        for (const auto& n : c.networks) dns = dns || networks.find(n.name)->dns_enabled;
        if (!dns)
            throw Error("--network-alias needs a network with DNS (the default network has none; see `minirt network create`)");
    }
    for (auto& n : c.networks) n.aliases = aliases;

    for (const auto& p : flag_values(vm, "publish")) c.ports.push_back(parse_publish(p));
    std::vector<std::string> exposed = image_exposed;
    for (const auto& e : flag_values(vm, "expose")) exposed.push_back(e);
    if (vm.count("publish-all"))
        for (const auto& e : exposed) {
            PortRequest p = parse_exposed(e);
            bool published = false;
            for (const auto& q : c.ports)
                published = published || (q.protocol == p.protocol && q.container_port == p.container_port);
            if (!published) c.ports.push_back(p);
        }
    else
        for (const auto& e : flag_values(vm, "expose")) parse_exposed(e);
    if (!c.ports.empty() && c.network != "bridge")
        throw Error("-p and -P need a bridge network, not --network " + c.network);

    c.dns_servers = flag_values(vm, "dns");
    for (const auto& s : c.dns_servers)
        if (!parse_ipv4(s) && !looks_like_ipv6(s)) throw Error("invalid --dns " + quote_for_message(s) + ": an IP address");
    c.dns_search = flag_values(vm, "dns-search");
    for (const auto& s : c.dns_search)
        if (s != "." && !valid_dns_name(s)) throw Error("invalid --dns-search " + quote_for_message(s));
    c.dns_options = flag_values(vm, "dns-option");
    for (const auto& o : c.dns_options)
        if (o.empty() || o.find_first_of(" \t\n") != std::string::npos)
            throw Error("invalid --dns-option " + quote_for_message(o));
    for (const auto& h : flag_values(vm, "add-host")) {
        auto colon = h.find(':');
        std::string name = h.substr(0, colon);
        std::string addr = colon == std::string::npos ? "" : h.substr(colon + 1);
        if (colon == std::string::npos || !valid_dns_name(name) || (!parse_ipv4(addr) && !looks_like_ipv6(addr)))
            throw Error("invalid --add-host " + quote_for_message(h) + ": use HOST:IP");
        c.add_hosts.push_back(h);
    }
    bool peer = c.network.starts_with("container:");
    if (peer && (vm.count("dns") || vm.count("dns-search") || vm.count("dns-option") || vm.count("add-host") ||
                 vm.count("no-hosts")))
        throw Error("--dns, --dns-search, --dns-option, --add-host and --no-hosts cannot go with --network " +
                    c.network.substr(0, 22) + ": its /etc files are that container's");
    if (!peer) c.no_hosts = vm.count("no-hosts") > 0;
    if (c.no_hosts && !c.add_hosts.empty()) throw Error("--no-hosts and --add-host cannot go together");
}

}  // namespace minirt::cli
