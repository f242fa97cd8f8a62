// Networks and their address leases, as the network stack (netavark) is
// told about them: <storage>/networks/NAME.json is netavark's own network
// description (name, id, driver, bridge, subnets, internal, dns_enabled,
// labels), and NAME.leases.json which container holds which address. Both
// change only under one lock (<root>/locks/networks.lock) and by atomic
// rename, so a kill -9 leaves the old file or the new one, and two
// containers never get one address. A lease lives as long as its container
// (podman keeps an address across restarts) and is reclaimed from a
// container that no longer exists.
#pragma once

#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "common/file_lock.hpp"
#include "common/ipv4.hpp"
#include "state/paths.hpp"

namespace minirt {

struct NetworkSubnet {
    Ipv4Net subnet;
    uint32_t gateway = 0;
    // Where addresses are handed out (--ip-range); the whole subnet if unset.
    std::optional<Ipv4Net> range;
};

struct Network {
    std::string name;
    std::string id;          // 64 hex
    std::string driver = "bridge";
    std::string interface;   // the bridge's name on the host
    int64_t created_ns = 0;
    std::vector<NetworkSubnet> subnets;
    bool internal = false;
    bool dns_enabled = true;
    std::map<std::string, std::string> labels;
};

// netavark's JSON for a network (its network_info entries), and back.
std::string network_json(const Network& n);
Network network_from_json(const std::string& text, const fs::path& source);

// The addresses of `n` that may be handed out, first to last: the range (or
// the subnet) without its network and broadcast addresses and the gateway.
struct AddressSpan {
    uint32_t first = 0, last = 0;
};
AddressSpan assignable(const NetworkSubnet& s);

// The network `--network bridge` (the default) joins: "minirt", always
// there without a file (podman's "podman"), on its own bridge and subnet so
// it never meets podman's 10.88.0.0/16 and "podman" bridge. No DNS on it,
// as on podman's default.
constexpr const char* kDefaultNetwork = "minirt";
Network default_network();

class Networks {
public:
    explicit Networks(Paths paths) : paths_(std::move(paths)) {}

    // Serialises every change of networks and leases.
    FileLock lock() const;

    // Both include the default network.
    std::optional<Network> find(const std::string& name) const;
    std::vector<Network> list() const;
    // Writes a new network (Error 125: name taken, subnet overlapping
    // another network's). The caller holds lock().
    void create(const Network& n) const;
    // Deletes it (not the default: Error); the caller holds lock() and
    // checked nothing uses it.
    void remove(const std::string& name) const;

    // container id -> address, of network `name`.
    std::map<std::string, uint32_t> leases(const std::string& name) const;
    // An address of `network` for `container_id`: the one it holds already,
    // `wanted` (--ip; Error if taken or outside the network), or the lowest
    // free one (Error 125 when none is left). Leases of containers `alive`
    // says are gone are reclaimed first. The caller holds lock().
    uint32_t lease(const Network& network, const std::string& container_id, std::optional<uint32_t> wanted,
                   const std::function<bool(const std::string&)>& alive) const;
    // Gives the address back (no error if it held none). Caller holds lock().
    void release(const std::string& name, const std::string& container_id) const;

private:
    // Leases as a store before the lease directory kept them (one JSON
    // file), moved into it by the first change under the lock.
    std::map<std::string, uint32_t> json_leases(const std::string& name) const;
    void migrate_leases(const std::string& name) const;
    void add_lease(const std::string& name, uint32_t address, const std::string& id, bool may_exist) const;
    void drop_lease(const std::string& name, uint32_t address, const std::string& id) const;
    Paths paths_;
};

}  // namespace minirt
