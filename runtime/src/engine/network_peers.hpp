// Containers on one user network find each other in /etc/hosts too, not
// only through aardvark-dns: a container's hosts file lists its peers
// (their address on the shared network, their name and aliases), and each
// peer's file gains a line for it while its network is set up. Lines come
// from the network records (engine/network.hpp), so a record's teardown,
// whoever does it, takes them out again. The default network has no names,
// as podman's. Every function here wants the networks lock held: the
// records and the hosts files change under it alone.
#pragma once

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "state/paths.hpp"

namespace minirt::engine {

// Container `id` joins (or leaves) its peers on `input`'s user networks
// (a record's netavark input): its lines go into (or out of) the hosts
// files of the peers there, and their lines come back, for its own file.
// A peer with --no-hosts, or without a hosts file, is left alone; best
// effort (the peer still has aardvark-dns, and its shim writes its file
// anew at its next start).
std::vector<std::string> meet_peers(const Paths& paths, const std::string& id, const nlohmann::json& input) noexcept;
std::vector<std::string> leave_peers(const Paths& paths, const std::string& id, const nlohmann::json& input) noexcept;

// Edits the hosts file at `path` where it exists, in place (a running
// container's bind mount sees it): drops the lines equal to one of
// `remove`, then appends those of `add` it lacks.
void edit_hosts_file(const fs::path& path, const std::vector<std::string>& add,
                     const std::vector<std::string>& remove);

}  // namespace minirt::engine
