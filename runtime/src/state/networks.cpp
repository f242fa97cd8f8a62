#include "state/networks.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>

#include <nlohmann/json.hpp>

#include "common/error.hpp"
#include "common/fd.hpp"
#include "common/file.hpp"
#include "common/parse.hpp"

namespace minirt {

using nlohmann::json;

std::string network_json(const Network& n) {
    json subnets = json::array();
    for (const auto& s : n.subnets) {
        json j{{"subnet", s.subnet.text()}, {"gateway", format_ipv4(s.gateway)}};
        if (s.range) {
            AddressSpan span = assignable(s);
            j["lease_range"] = {{"start_ip", format_ipv4(span.first)}, {"end_ip", format_ipv4(span.last)}};
        }
        subnets.push_back(j);
    }
    json j{{"name", n.name},
           {"id", n.id},
           {"driver", n.driver},
           {"network_interface", n.interface},
           {"created", format_rfc3339(n.created_ns)},
           {"subnets", subnets},
           {"ipv6_enabled", false},
           {"internal", n.internal},
           {"dns_enabled", n.dns_enabled},
           {"ipam_options", {{"driver", "host-local"}}}};
    if (!n.labels.empty()) j["labels"] = n.labels;  // as podman: none, no field
    return j.dump(2) + "\n";
}

Network network_from_json(const std::string& text, const fs::path& source) {
    try {
        json j = json::parse(text);
        Network n;
        n.name = j.at("name").get<std::string>();
        n.id = j.at("id").get<std::string>();
        n.driver = j.at("driver").get<std::string>();
        n.interface = j.at("network_interface").get<std::string>();
        n.created_ns = parse_time_spec(j.at("created").get<std::string>(), "created");
        for (const auto& s : j.at("subnets")) {
            NetworkSubnet sub;
            auto net = parse_ipv4_net(s.at("subnet").get<std::string>());
            auto gw = parse_ipv4(s.at("gateway").get<std::string>());
            if (!net || !gw) throw Error("a malformed subnet or gateway");
            sub.subnet = *net;
            sub.gateway = *gw;
            if (s.contains("lease_range")) {
                auto a = parse_ipv4(s["lease_range"].at("start_ip").get<std::string>());
                auto b = parse_ipv4(s["lease_range"].at("end_ip").get<std::string>());
                if (!a || !b || *b < *a) throw Error("a malformed lease_range");
                // Kept as the smallest subnet holding both ends (as --ip-range gave it).
                Ipv4Net r{*a, 32};
                while (r.prefix > 0 && !r.contains(*b)) {
                    --r.prefix;
                    r.base &= r.mask();
                }
                sub.range = r;
            }
            n.subnets.push_back(sub);
        }
        n.internal = j.value("internal", false);
        n.dns_enabled = j.value("dns_enabled", false);
        n.labels = j.value("labels", std::map<std::string, std::string>{});
        return n;
    } catch (const json::exception& e) {
        throw Error(source.string() + ": " + e.what());
    } catch (const Error& e) {
        throw e.wrap(source.string());
    }
}

AddressSpan assignable(const NetworkSubnet& s) {
    Ipv4Net r = s.range.value_or(s.subnet);
    AddressSpan span{r.base, r.last()};
    // The subnet's own network and broadcast addresses are never a host's
    // (for /31 and /32 there are none to skip).
    if (s.subnet.prefix < 31) {
        if (span.first == s.subnet.base) ++span.first;
        if (span.last == s.subnet.last()) --span.last;
    }
    return span;
}

Network default_network() {
    Network n;
    n.name = kDefaultNetwork;
    // Fixed, so that every store on the host describes the same bridge the same way.
    n.id = "6d696e6972742064656661756c74206e6574776f726b206f6e206d696e697274";
    // Not "minirtN": networks made before the default existed took minirt0.
    n.interface = "minirt";
    NetworkSubnet s;
    s.subnet = {(10u << 24) | (87u << 16), 16};
    s.gateway = s.subnet.base | 1;
    n.subnets.push_back(s);
    n.dns_enabled = false;
    return n;
}

FileLock Networks::lock() const {
    make_dirs(paths_.root / "locks", 0700);
    return FileLock::acquire(paths_.networks_lock());
}

std::optional<Network> Networks::find(const std::string& name) const {
    validate_network_name(name);
    auto text = read_file_if_exists(paths_.network_file(name), 1 << 20);
    if (!text) {
        if (name == kDefaultNetwork) return default_network();
        return std::nullopt;
    }
    return network_from_json(*text, paths_.network_file(name));
}

std::vector<Network> Networks::list() const {
    std::vector<Network> out;
    std::error_code ec;
    for (fs::directory_iterator it(paths_.networks_dir(), ec), end; !ec && it != end; it.increment(ec)) {
        std::string f = it->path().filename().string();
        if (!f.ends_with(".json") || f.ends_with(".leases.json") || f.starts_with(".")) continue;
        auto text = read_file_if_exists(it->path(), 1 << 20);
        if (text) out.push_back(network_from_json(*text, it->path()));
    }
    if (std::none_of(out.begin(), out.end(), [](const Network& n) { return n.name == kDefaultNetwork; }))
        out.push_back(default_network());
    std::sort(out.begin(), out.end(), [](const Network& a, const Network& b) { return a.name < b.name; });
    return out;
}

void Networks::create(const Network& n) const {
    validate_network_name(n.name);
    if (find(n.name)) throw Error("network " + quote_for_message(n.name) + " already exists");
    for (const auto& other : list())
        for (const auto& a : other.subnets)
            for (const auto& b : n.subnets)
                if (a.subnet.overlaps(b.subnet))
                    throw Error("subnet " + b.subnet.text() + " overlaps " + a.subnet.text() + " of network " +
                                quote_for_message(other.name));
    make_dirs(paths_.networks_dir(), 0700);
    write_file_atomic(paths_.network_file(n.name), network_json(n), 0600);
}

void Networks::remove(const std::string& name) const {
    validate_network_name(name);
    if (name == kDefaultNetwork) throw Error("the default network " + quote_for_message(name) + " cannot be removed");
    if (::unlink(paths_.network_leases_json(name).c_str()) < 0 && errno != ENOENT)
        throw_errno("remove " + paths_.network_leases_json(name).string());
    std::error_code ec;
    fs::remove_all(paths_.network_lease_dir(name), ec);
    if (ec) throw Error(ec.value(), "remove " + paths_.network_lease_dir(name).string());
    if (::unlink(paths_.network_file(name).c_str()) < 0) {
        if (errno == ENOENT) throw Error("no such network " + quote_for_message(name), kExitNoSuchContainer);
        throw_errno("remove network " + quote_for_message(name));
    }
}

namespace {

// A lease is an empty file named ADDRESS-ID in the network's lease
// directory, made with O_EXCL and removed with unlink: never rewritten.
// (ext4 flushes a file's data when a rename replaces it, which costs a
// millisecond and more on every start's path; that is what a JSON file of
// all the leases, rewritten whole, cost.)
std::string lease_entry(uint32_t address, const std::string& id) { return format_ipv4(address) + "-" + id; }

// One entry's address and container; nullopt for anything else there.
std::optional<std::pair<std::string, uint32_t>> parse_lease_entry(const std::string& name) {
    auto dash = name.find('-');
    if (dash == std::string::npos || dash + 1 == name.size()) return std::nullopt;
    auto a = parse_ipv4(name.substr(0, dash));
    if (!a) return std::nullopt;
    return std::make_pair(name.substr(dash + 1), *a);
}

}  // namespace

std::map<std::string, uint32_t> Networks::leases(const std::string& name) const {
    std::map<std::string, uint32_t> out = json_leases(name);
    std::error_code ec;
    for (fs::directory_iterator it(paths_.network_lease_dir(name), ec), end; !ec && it != end; it.increment(ec))
        if (auto e = parse_lease_entry(it->path().filename().string())) out[e->first] = e->second;
    if (ec && ec != std::errc::no_such_file_or_directory)
        throw Error(ec.value(), "read the leases in " + paths_.network_lease_dir(name).string());
    return out;
}

std::map<std::string, uint32_t> Networks::json_leases(const std::string& name) const {
    std::map<std::string, uint32_t> out;
    auto text = read_file_if_exists(paths_.network_leases_json(name), 16 << 20);
    if (!text) return out;
    try {
        json j = json::parse(*text);
        for (const auto& [id, addr] : j.at("leases").items()) {
            auto a = parse_ipv4(addr.get<std::string>());
            if (!a) throw Error("a malformed address for " + id);
            out[id] = *a;
        }
    } catch (const json::exception& e) {
        throw Error(paths_.network_leases_json(name).string() + ": " + e.what());
    } catch (const Error& e) {
        throw e.wrap(paths_.network_leases_json(name).string());
    }
    return out;
}

void Networks::migrate_leases(const std::string& name) const {
    if (::access(paths_.network_leases_json(name).c_str(), F_OK) < 0) return;
    // Each made before the file goes: a crash half-way repeats it.
    for (const auto& [id, a] : json_leases(name)) add_lease(name, a, id, true);
    if (::unlink(paths_.network_leases_json(name).c_str()) < 0 && errno != ENOENT)
        throw_errno("remove " + paths_.network_leases_json(name).string());
}

void Networks::add_lease(const std::string& name, uint32_t address, const std::string& id, bool may_exist) const {
    fs::path dir = paths_.network_lease_dir(name);
    make_dirs(dir, 0700);
    fs::path entry = dir / lease_entry(address, id);
    UniqueFd fd(::open(entry.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600));
    if (!fd && !(may_exist && errno == EEXIST)) throw_errno("create the lease " + entry.string());
}

void Networks::drop_lease(const std::string& name, uint32_t address, const std::string& id) const {
    fs::path entry = paths_.network_lease_dir(name) / lease_entry(address, id);
    if (::unlink(entry.c_str()) < 0 && errno != ENOENT) throw_errno("remove the lease " + entry.string());
}

uint32_t Networks::lease(const Network& network, const std::string& container_id, std::optional<uint32_t> wanted,
                         const std::function<bool(const std::string&)>& alive) const {
    const std::string& name = network.name;
    migrate_leases(name);
    auto held = leases(name);
    if (auto it = held.find(container_id); it != held.end() && (!wanted || *wanted == it->second)) return it->second;
    std::erase_if(held, [&](const auto& kv) {
        bool gone = kv.first == container_id || !alive(kv.first);
        if (gone) drop_lease(name, kv.second, kv.first);
        return gone;
    });
    std::vector<uint32_t> taken;
    for (const auto& [id, a] : held) taken.push_back(a);
    std::sort(taken.begin(), taken.end());
    auto is_taken = [&](uint32_t a) { return std::binary_search(taken.begin(), taken.end(), a); };
    std::optional<uint32_t> got;
    if (wanted) {
        bool inside = false;
        for (const auto& s : network.subnets)
            inside = inside || (s.subnet.contains(*wanted) && *wanted != s.gateway && *wanted != s.subnet.base &&
                                *wanted != s.subnet.last());
        if (!inside) throw Error("--ip " + format_ipv4(*wanted) + " is not a host address of network " + quote_for_message(name));
        if (is_taken(*wanted)) throw Error("--ip " + format_ipv4(*wanted) + " is taken on network " + quote_for_message(name));
        got = wanted;
    } else {
        for (const auto& s : network.subnets) {
            AddressSpan span = assignable(s);
            for (uint64_t a = span.first; a <= span.last && !got; ++a)
                if (a != s.gateway && !is_taken(static_cast<uint32_t>(a))) got = static_cast<uint32_t>(a);
            if (got) break;
        }
        if (!got) throw Error("network " + quote_for_message(name) + " has no address left");
    }
    add_lease(name, *got, container_id, false);
    return *got;
}

void Networks::release(const std::string& name, const std::string& container_id) const {
    migrate_leases(name);
    auto held = leases(name);
    if (auto it = held.find(container_id); it != held.end()) drop_lease(name, it->second, container_id);
}

}  // namespace minirt
