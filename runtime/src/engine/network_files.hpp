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

// `addrs`: the container's bridge addresses (none for other modes).
// `host_hosts`, `host_resolv`: the host's /etc/hosts and resolv.conf (the
// bases, as podman's). Pure, for tests.
std::string hosts_text(const ContainerConfig& c, const std::vector<NetworkAddress>& addrs,
                       const std::string& host_hosts);
std::string resolv_text(const ContainerConfig& c, const std::vector<NetworkAddress>& addrs,
                        const std::string& host_resolv);

// Writes the three files into `dir` (hosts only without --no-hosts), in
// place when they exist: a running container's bind mounts see the change.
void write_network_files(const std::filesystem::path& dir, const ContainerConfig& c,
                         const std::vector<NetworkAddress>& addrs);

}  // namespace minirt::engine
