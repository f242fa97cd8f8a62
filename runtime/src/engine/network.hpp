// A container on bridge networks: its addresses (state/networks.hpp's
// leases), its published host ports, and netavark's setup and teardown of
// both in its network namespace. The namespace is bind-mounted at
// <root>/netns/<id> beside a record of what netavark was told
// (<id>.json), so that whoever finds the container's shim gone (a kill -9)
// can still tear everything down: veth, bridge, firewall rules,
// aardvark-dns entries. Every setup, teardown and record change happens
// under the networks lock, so two never interleave.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/fd.hpp"
#include "common/file_lock.hpp"
#include "linux/netavark.hpp"
#include "state/networks.hpp"
#include "state/records.hpp"

namespace minirt::engine {

// What a container has on one network.
struct NetworkAddress {
    std::string network;
    std::string interface;  // eth0, eth1, ...
    uint32_t address = 0;
    NetworkSubnet subnet;   // the subnet it is in
    bool dns = false;       // the network runs aardvark-dns (on the gateway)
    std::vector<std::string> aliases;
};

class ContainerNetwork {
public:
    // Takes the addresses, binds the published host ports (held until the
    // teardown, so nothing else on the host takes them; Error naming a port
    // in use), writes the record, mounts the namespace and starts netavark
    // setup, which runs on while the caller goes on. A record the
    // container's previous shim left is torn down first.
    static ContainerNetwork begin(const Paths& paths, const ContainerConfig& c, int netns);
    // The network the CLI set up for this container (network_handoff.hpp):
    // ours to tear down from its record; its ports come with the setup.
    static ContainerNetwork adopt(const Paths& paths, const std::string& id);
    void adopt_setup(std::vector<PortRequest> ports, std::vector<UniqueFd> holds, std::string output);
    // What netavark setup printed (each network's status), once done.
    const std::string& setup_output() const { return setup_output_; }
    // Someone else tears it down now (the shim the CLI handed it to).
    void disown() noexcept { active_.on = false; }
    ContainerNetwork(ContainerNetwork&&) noexcept = default;
    ContainerNetwork& operator=(ContainerNetwork&&) = delete;
    ~ContainerNetwork() { teardown(); }

    const std::vector<NetworkAddress>& addresses() const { return addresses_; }
    // Its peers' lines for its /etc/hosts (network_peers.hpp): the file
    // is written while the setup holds the networks lock.
    const std::vector<std::string>& peer_hosts() const { return peer_hosts_; }
    // The ports as published (a host port 0 replaced by the one picked).
    const std::vector<PortRequest>& ports() const { return ports_; }
    // Waits for netavark: Error with its message (everything torn down).
    void finish_setup();
    // Writes what setup reported into the record (inspect's addresses and
    // MACs): after the start, off its path.
    void record_status();
    const std::vector<UniqueFd>& port_holds() const { return port_holds_; }
    // Closes the published ports' holds (a --rm container's, once its exit
    // is reported: the next `run -p` of the same port must find it free).
    void release_ports() noexcept { port_holds_.clear(); }
    // Undoes the setup and removes the record (errors go to `note`).
    void teardown(std::string* note = nullptr) noexcept;

private:
    ContainerNetwork() = default;
    Paths paths_;
    std::string id_;
    std::vector<NetworkAddress> addresses_;
    std::vector<std::string> peer_hosts_;
    std::vector<PortRequest> ports_;
    std::vector<UniqueFd> port_holds_;
    std::optional<FileLock> setup_lock_;  // held until setup is done
    std::optional<NetavarkRun> setup_;
    std::string setup_output_;
    // Set up, and so ours to tear down; a moved-from object is neither.
    struct Active {
        bool on = false;
        Active() = default;
        Active(Active&& o) noexcept : on(std::exchange(o.on, false)) {}
        Active& operator=(Active&& o) noexcept {
            on = std::exchange(o.on, false);
            return *this;
        }
    } active_;
};

// The container's record: what netavark was told, and reported.
struct NetworkRecord {
    nlohmann::json input;   // netavark's setup description
    nlohmann::json status;  // what setup reported (null until it has)
    std::vector<PortRequest> ports;
    // The netavark setup under way (0: none): a teardown waits for it, so
    // one begun by a shim killed meanwhile does not add rules after it.
    int setup_pid = 0;
    uint64_t setup_start = 0;
};
std::optional<NetworkRecord> load_network_record(const Paths& paths, const std::string& id);
// What inspect shows of a container's live networks: per network its
// interface, address, prefix, gateway, MAC and aliases, and the ports as
// published; null when it has none set up.
nlohmann::json network_settings(const Paths& paths, const std::string& id);

// Tears down the records whose shim is gone: `only_id`'s, or (empty) those
// of every container that no longer exists (a --rm shim killed after it
// unlisted its container). Returns what failed, for the caller to show
// (never throws).
std::vector<std::string> collect_network_garbage(const Paths& paths, const std::string& only_id = {});

// Gives back the container's addresses (its removal).
void release_addresses(const Paths& paths, const ContainerConfig& c);

// Joins a running container to one more network, or takes it off one
// (network connect/disconnect): netavark on its namespace, and the record.
void connect_network(const Paths& paths, const ContainerConfig& c, const NetworkRequest& request);
void disconnect_network(const Paths& paths, const ContainerConfig& c, const std::string& network);

}  // namespace minirt::engine
