#include "engine/network.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <unistd.h>

#include <linux/magic.h>

#include <random>

#include "common/error.hpp"
#include "common/file.hpp"
#include "common/parse.hpp"
#include "engine/network_files.hpp"
#include "engine/network_peers.hpp"
#include "linux/process.hpp"
#include "state/lock.hpp"

namespace minirt::engine {

using nlohmann::json;

namespace {

bool container_exists(const Paths& paths, const std::string& id) {
    return ::access(paths.container_dir(id).c_str(), F_OK) == 0;
}

// A lease is held while its container exists, or while its network is
// still set up (a --rm container is unlisted before its teardown).
bool lease_alive(const Paths& paths, const std::string& id) {
    return container_exists(paths, id) || ::access(paths.netns_record(id).c_str(), F_OK) == 0;
}

bool is_namespace_mount(const fs::path& p) {
    struct statfs fs{};
    return ::statfs(p.c_str(), &fs) == 0 && fs.f_type == NSFS_MAGIC;
}

// A socket bound to host_ip:port (nothing listens on it): the port is ours
// until it is closed. EADDRINUSE: someone else's.
UniqueFd bind_port(const std::string& host_ip, uint16_t port, const std::string& protocol) {
    UniqueFd s(::socket(AF_INET, (protocol == "udp" ? SOCK_DGRAM : SOCK_STREAM) | SOCK_CLOEXEC, 0));
    if (!s) throw_errno("socket");
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(port);
    a.sin_addr.s_addr = host_ip.empty() ? htonl(INADDR_ANY) : htonl(*parse_ipv4(host_ip));
    if (::bind(s.get(), reinterpret_cast<sockaddr*>(&a), sizeof a) < 0) {
        if (errno == EADDRINUSE) return UniqueFd();
        if (errno == EADDRNOTAVAIL) throw Error("cannot publish on " + host_ip + ": not an address of this host");
        throw_errno("bind " + (host_ip.empty() ? std::string("0.0.0.0") : host_ip) + ":" + std::to_string(port));
    }
    return s;
}

uint16_t bound_port(int fd) {
    sockaddr_in a{};
    socklen_t len = sizeof a;
    if (::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len) < 0) throw_errno("getsockname");
    return ntohs(a.sin_port);
}

// Holds every port of `p` (picking the host ports when it names none).
void hold_ports(PortRequest& p, std::vector<UniqueFd>& holds) {
    auto name = [&](uint32_t port) { return std::to_string(port) + "/" + p.protocol; };
    if (p.host_port != 0) {
        for (uint32_t i = 0; i < p.range; ++i) {
            UniqueFd s = bind_port(p.host_ip, static_cast<uint16_t>(p.host_port + i), p.protocol);
            if (!s) throw Error("port " + name(p.host_port + i) + " is already in use on the host");
            holds.push_back(std::move(s));
        }
        return;
    }
    if (p.range == 1) {
        UniqueFd s = bind_port(p.host_ip, 0, p.protocol);
        if (!s) throw Error("no free host port for " + name(p.container_port));
        p.host_port = bound_port(s.get());
        holds.push_back(std::move(s));
        return;
    }
    // A run of free ports: tried at random places of the ephemeral range.
    std::mt19937 rng(std::random_device{}());
    std::uniform_int_distribution<uint32_t> first(32768, 60999 - p.range);
    for (int attempt = 0; attempt < 64; ++attempt) {
        uint32_t base = first(rng);
        std::vector<UniqueFd> got;
        for (uint32_t i = 0; i < p.range; ++i) {
            UniqueFd s = bind_port(p.host_ip, static_cast<uint16_t>(base + i), p.protocol);
            if (!s) break;
            got.push_back(std::move(s));
        }
        if (got.size() == p.range) {
            p.host_port = static_cast<uint16_t>(base);
            for (auto& s : got) holds.push_back(std::move(s));
            return;
        }
    }
    throw Error("no " + std::to_string(p.range) + " free consecutive host ports for " + name(p.container_port));
}

json record_json(const NetworkRecord& r) {
    json j{{"schema_version", 1}, {"input", r.input}, {"status", r.status}, {"ports", ports_json(r.ports)}};
    if (r.setup_pid > 0) j["setup"] = {{"pid", r.setup_pid}, {"start_time", r.setup_start}};
    return j;
}

void save_record(const Paths& paths, const std::string& id, const NetworkRecord& r) {
    write_file_atomic(paths.netns_record(id), record_json(r).dump() + "\n", 0600, false);
}

// netavark teardown from a record, then the namespace and the record go.
// The caller holds the networks lock.
void teardown_record(const Paths& paths, const std::string& id, std::string* note) noexcept {
    fs::path ns = paths.netns_file(id);
    try {
        auto r = load_network_record(paths, id);
        if (r) leave_peers(paths, id, r->input);
        // A setup a killed shim left running finishes first.
        if (r && r->setup_pid > 0)
            if (UniqueFd setup = open_pidfd(r->setup_pid, r->setup_start)) wait_pidfd(setup.get(), 60000);
        // Without the namespace mounted, setup never began.
        if (r && !r->input.is_null() && is_namespace_mount(ns))
            NetavarkRun::start("teardown", ns, r->input.dump(), paths.netavark_config()).wait();
    } catch (const Error& e) {
        if (note) *note = e.message();
    }
    ::umount2(ns.c_str(), MNT_DETACH);
    ::unlink(ns.c_str());
    ::unlink(paths.netns_record(id).c_str());
}

// The netavark description of `c` on `nets` (addresses decided), and the
// ports; `ports` may be empty (network connect).
json netavark_input(const ContainerConfig& c, const std::vector<NetworkAddress>& addrs,
                    const std::vector<Network>& nets, const std::vector<PortRequest>& ports) {
    json networks = json::object(), info = json::object();
    for (size_t i = 0; i < addrs.size(); ++i) {
        const NetworkAddress& a = addrs[i];
        json n{{"static_ips", json::array({format_ipv4(a.address)})},
               {"aliases", a.aliases},
               {"interface_name", a.interface}};
        for (const auto& req : c.networks)
            if (req.name == a.network && !req.mac.empty()) n["static_mac"] = req.mac;
        networks[a.network] = n;
        info[a.network] = json::parse(network_json(nets[i]));
    }
    return json{{"container_id", c.id},
                {"container_name", c.name},
                {"port_mappings", ports_json(ports)},
                {"networks", networks},
                {"network_info", info}};
}

// What network connect adds to (disconnect takes from) the container's own
// /etc/hosts for the networks of `input`: its address on each, and its
// peers' lines there.
std::vector<std::string> own_hosts_lines(const ContainerConfig& c, const json& input, std::vector<std::string> peers) {
    std::vector<std::string> lines;
    for (const auto& [net, n] : input["networks"].items())
        for (const auto& ip : n.value("static_ips", json::array()))
            if (auto a = ip.is_string() ? parse_ipv4(ip.get<std::string>()) : std::nullopt)
                lines.push_back(hosts_line(c, *a));
    for (auto& l : peers) lines.push_back(std::move(l));
    return lines;
}

// The address of `c` on network `req` (leased now, or held already).
NetworkAddress take_address(const Paths& paths, const ContainerConfig& c, const NetworkRequest& req,
                            const std::string& interface, Network& net) {
    Networks networks(paths);
    auto n = networks.find(req.name);
    if (!n) throw Error("no such network " + quote_for_message(req.name));
    net = *n;
    std::optional<uint32_t> wanted;
    if (!req.ip.empty()) wanted = parse_ipv4(req.ip);
    NetworkAddress a;
    a.network = req.name;
    a.interface = interface;
    a.address = networks.lease(*n, c.id, wanted, [&](const std::string& id) { return lease_alive(paths, id); });
    for (const auto& s : n->subnets)
        if (s.subnet.contains(a.address)) a.subnet = s;
    a.dns = n->dns_enabled;
    a.aliases = req.aliases;
    a.aliases.push_back(c.id.substr(0, 12));
    return a;
}

}  // namespace

std::optional<NetworkRecord> load_network_record(const Paths& paths, const std::string& id) {
    auto text = read_file_if_exists(paths.netns_record(id), 16 << 20);
    if (!text) return std::nullopt;
    try {
        json j = json::parse(*text);
        NetworkRecord r;
        r.input = j.at("input");
        r.status = j.value("status", json());
        r.ports = ports_from_json(j.value("ports", json::array()));
        if (j.contains("setup") && j["setup"].is_object()) {
            r.setup_pid = j["setup"].value("pid", 0);
            r.setup_start = j["setup"].value("start_time", uint64_t{0});
        }
        return r;
    } catch (const json::exception& e) {
        throw Error(paths.netns_record(id).string() + ": " + e.what());
    } catch (const Error& e) {
        throw e.wrap(paths.netns_record(id).string());
    }
}

json network_settings(const Paths& paths, const std::string& id) {
    auto r = load_network_record(paths, id);
    if (!r || !r->input.is_object()) return json();  // none, or its setup is only beginning
    json nets = json::object();
    const json networks = r->input.value("networks", json::object());
    for (const auto& [name, n] : networks.items()) {
        json e{{"interface", n.value("interface_name", "")}, {"aliases", n.value("aliases", json::array())}};
        if (n.contains("static_ips") && !n["static_ips"].empty()) e["ip_address"] = n["static_ips"][0];
        std::string ifname = e["interface"];
        if (r->status.is_object() && r->status.contains(name)) {
            const json& st = r->status[name];
            if (st.contains("interfaces") && st["interfaces"].contains(ifname)) {
                const json& i = st["interfaces"][ifname];
                e["mac_address"] = i.value("mac_address", "");
                if (i.contains("subnets") && !i["subnets"].empty()) {
                    const json& sub = i["subnets"][0];
                    e["gateway"] = sub.value("gateway", "");
                    std::string ipnet = sub.value("ipnet", "");
                    if (auto slash = ipnet.find('/'); slash != std::string::npos)
                        e["prefix_len"] = std::stoi(ipnet.substr(slash + 1));
                }
            }
        }
        nets[name] = e;
    }
    return json{{"networks", nets}, {"ports", ports_json(r->ports)}};
}

ContainerNetwork ContainerNetwork::begin(const Paths& paths, const ContainerConfig& c, int netns) {
    ContainerNetwork n;
    n.paths_ = paths;
    n.id_ = c.id;
    n.setup_lock_ = Networks(paths).lock();
    make_dirs(paths.netns_dir(), 0700);
    // Ours: the caller is this container's shim (which holds its mark), or
    // the CLI starting it (which holds its lock).
    if (::access(paths.netns_record(c.id).c_str(), F_OK) == 0) teardown_record(paths, c.id, nullptr);
    // The namespace is mounted first (netavark wants it there when it
    // starts), with a record that says so but tells nothing to tear down:
    // whoever finds it after a crash unmounts it.
    fs::path ns = paths.netns_file(c.id);
    save_record(paths, c.id, NetworkRecord{});
    n.active_.on = true;
    {
        UniqueFd target(::open(ns.c_str(), O_WRONLY | O_CREAT | O_CLOEXEC, 0600));
        if (!target) throw_errno("create " + ns.string());
    }
    std::string source = "/proc/self/fd/" + std::to_string(netns);
    if (::mount(source.c_str(), ns.c_str(), nullptr, MS_BIND, nullptr) < 0)
        throw_errno("bind the container's network namespace to " + ns.string());
    // netavark starts up (a millisecond and more) while we decide what to
    // tell it: the addresses, the ports, the record, then its description.
    n.setup_.emplace(NetavarkRun::start_unfed("setup", ns, paths.netavark_config()));
    std::vector<Network> nets(c.networks.size());
    for (size_t i = 0; i < c.networks.size(); ++i)
        n.addresses_.push_back(take_address(paths, c, c.networks[i], "eth" + std::to_string(i), nets[i]));
    n.ports_ = c.ports;
    for (auto& p : n.ports_) hold_ports(p, n.port_holds_);
    NetworkRecord r;
    r.input = netavark_input(c, n.addresses_, nets, n.ports_);
    r.ports = n.ports_;
    r.setup_pid = n.setup_->pid();
    r.setup_start = process_start_time(r.setup_pid).value_or(0);
    save_record(paths, c.id, r);
    n.peer_hosts_ = meet_peers(paths, c.id, r.input);
    n.setup_->feed(r.input.dump());
    return n;
}

ContainerNetwork ContainerNetwork::adopt(const Paths& paths, const std::string& id) {
    ContainerNetwork n;
    n.paths_ = paths;
    n.id_ = id;
    n.active_.on = true;
    return n;
}

void ContainerNetwork::adopt_setup(std::vector<PortRequest> ports, std::vector<UniqueFd> holds, std::string output) {
    ports_ = std::move(ports);
    port_holds_ = std::move(holds);
    setup_output_ = std::move(output);
}

void ContainerNetwork::finish_setup() {
    if (!setup_) return;
    try {
        setup_output_ = setup_->wait();
        setup_.reset();
    } catch (const Error&) {
        setup_.reset();
        teardown();
        throw;
    }
    setup_lock_.reset();
}

void ContainerNetwork::record_status() {
    if (setup_output_.empty()) return;
    json status = json::parse(setup_output_, nullptr, false);
    setup_output_.clear();
    FileLock lock = Networks(paths_).lock();
    if (auto r = load_network_record(paths_, id_)) {
        r->setup_pid = 0;
        // Merged: a `network connect` may have come first.
        if (!r->status.is_object()) r->status = json::object();
        if (status.is_object()) r->status.update(status);
        save_record(paths_, id_, *r);
    }
}

void ContainerNetwork::teardown(std::string* note) noexcept {
    if (!active_.on) return;
    active_.on = false;
    try {
        if (setup_) {
            try {
                setup_->wait();
            } catch (const Error&) {
            }
            setup_.reset();
        }
        std::optional<FileLock> lock = std::move(setup_lock_);
        if (!lock) lock = Networks(paths_).lock();
        teardown_record(paths_, id_, note);
    } catch (const Error& e) {
        if (note) *note = e.message();
    }
    port_holds_.clear();
}

std::vector<std::string> collect_network_garbage(const Paths& paths, const std::string& only_id) {
    std::vector<std::string> problems;
    std::vector<std::string> ids;
    if (!only_id.empty()) {
        if (::access(paths.netns_record(only_id).c_str(), F_OK) == 0) ids.push_back(only_id);
    } else {
        // One readdir, and a look at the containers whose record is there.
        std::error_code ec;
        for (fs::directory_iterator it(paths.netns_dir(), ec), end; !ec && it != end; it.increment(ec)) {
            std::string f = it->path().filename().string();
            if (!f.ends_with(".json")) continue;
            std::string id = f.substr(0, f.size() - 5);
            if (is_full_id(id) && !container_exists(paths, id)) ids.push_back(id);
        }
    }
    if (ids.empty()) return problems;
    try {
        FileLock lock = Networks(paths).lock();
        for (const auto& id : ids) {
            // Looked at under the lock: a shim takes its mark before it.
            if (shim_mark_held(AT_FDCWD, paths.state_dir(id).c_str())) continue;
            if (::access(paths.netns_record(id).c_str(), F_OK) < 0) continue;
            std::string note;
            teardown_record(paths, id, &note);
            if (!note.empty()) problems.push_back("container " + id.substr(0, 12) + ": " + note);
        }
    } catch (const Error& e) {
        problems.push_back(e.message());
    }
    return problems;
}

void release_addresses(const Paths& paths, const ContainerConfig& c) {
    if (c.networks.empty()) return;
    Networks networks(paths);
    FileLock lock = networks.lock();
    for (const auto& n : c.networks) {
        try {
            networks.release(n.name, c.id);
        } catch (const Error&) {
            // A network removed with -f: its leases went with it.
        }
    }
}

void connect_network(const Paths& paths, const ContainerConfig& c, const NetworkRequest& request) {
    FileLock lock = Networks(paths).lock();
    auto r = load_network_record(paths, c.id);
    fs::path ns = paths.netns_file(c.id);
    if (!r || !r->input.is_object() || !is_namespace_mount(ns))
        throw Error("container " + c.id.substr(0, 12) + " has no bridge network set up");
    if (r->input["networks"].contains(request.name))
        throw Error("container " + c.id.substr(0, 12) + " is already on network " + quote_for_message(request.name));
    int n = 0;
    for (;; ++n) {
        bool used = false;
        for (const auto& [name, net] : r->input["networks"].items()) used = used || net.value("interface_name", "") == "eth" + std::to_string(n);
        if (!used) break;
    }
    Network net;
    NetworkAddress a = take_address(paths, c, request, "eth" + std::to_string(n), net);
    // The published ports go to this network too, as podman's connect does.
    json input = netavark_input(c, {a}, {net}, r->ports);
    json out;
    try {
        out = json::parse(NetavarkRun::start("setup", ns, input.dump(), paths.netavark_config()).wait(), nullptr, false);
    } catch (const Error&) {
        Networks(paths).release(request.name, c.id);
        throw;
    }
    r->input["networks"][request.name] = input["networks"][request.name];
    r->input["network_info"][request.name] = input["network_info"][request.name];
    if (!r->status.is_object()) r->status = json::object();
    if (out.is_object()) r->status.update(out);
    save_record(paths, c.id, *r);
    // Its /etc/hosts gains its new address and its peers there, as theirs
    // gain it.
    std::vector<std::string> peers = meet_peers(paths, c.id, input);
    if (!c.no_hosts) edit_hosts_file(paths.state_dir(c.id) / "hosts", own_hosts_lines(c, input, std::move(peers)), {});
}

void disconnect_network(const Paths& paths, const ContainerConfig& c, const std::string& network) {
    FileLock lock = Networks(paths).lock();
    auto r = load_network_record(paths, c.id);
    fs::path ns = paths.netns_file(c.id);
    if (r && r->input.is_object() && is_namespace_mount(ns) && r->input["networks"].contains(network)) {
        json input = r->input;
        input["networks"] = json::object({{network, r->input["networks"][network]}});
        input["network_info"] = json::object({{network, r->input["network_info"][network]}});
        input["port_mappings"] = ports_json(r->ports);
        NetavarkRun::start("teardown", ns, input.dump(), paths.netavark_config()).wait();
        std::vector<std::string> peers = leave_peers(paths, c.id, input);
        if (!c.no_hosts) edit_hosts_file(paths.state_dir(c.id) / "hosts", {}, own_hosts_lines(c, input, std::move(peers)));
        r->input["networks"].erase(network);
        r->input["network_info"].erase(network);
        if (r->status.is_object()) r->status.erase(network);
        save_record(paths, c.id, *r);
    }
    try {
        Networks(paths).release(network, c.id);
    } catch (const Error&) {
    }
}

}  // namespace minirt::engine
