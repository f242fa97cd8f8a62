// A container's /etc/hosts, /etc/resolv.conf and /etc/hostname, as podman
// gives them: written into its state directory by its shim at each start
// and bind-mounted over the image's (container/bundle.cpp).
#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include "engine/network.hpp"
#include "state/records.hpp"

namespace minirt::engine {

// The container's own line at `address`: its hostname and name.
std::string hosts_line(const ContainerConfig& c, uint32_t address);

// `addrs`: the container's bridge addresses (none for other modes).
// `peers`: the lines of its peers on user networks (network_peers.hpp).
// `host_hosts`, `host_resolv`: the host's /etc/hosts and resolv.conf (the
// bases, as podman's). Pure, for tests.
std::string hosts_text(const ContainerConfig& c, const std::vector<NetworkAddress>& addrs,
                       const std::vector<std::string>& peers, const std::string& host_hosts);
std::string resolv_text(const ContainerConfig& c, const std::vector<NetworkAddress>& addrs,
                        const std::string& host_resolv);

// Writes the three files into `dir` (hosts only without --no-hosts), in
// place when they exist: a running container's bind mounts see the change.
// A bridge container's are written under the networks lock (its peers
// edit its hosts file under it).
void write_network_files(const std::filesystem::path& dir, const ContainerConfig& c,
                         const std::vector<NetworkAddress>& addrs, const std::vector<std::string>& peers);

// Rewrites `path` with `text` through the same inode when it exists, so a
// bind mount of it shows the new text.
void write_in_place(const std::filesystem::path& path, const std::string& text);

}  // namespace minirt::engine
