#include "engine/network_peers.hpp"

#include <algorithm>
#include <functional>

#include "common/error.hpp"
#include "common/file.hpp"
#include "common/parse.hpp"
#include "engine/network.hpp"
#include "engine/network_files.hpp"
#include "state/networks.hpp"

namespace minirt::engine {

using nlohmann::json;

namespace {

bool user_network(const std::string& name) { return name != kDefaultNetwork; }

// The hosts lines of a record's container on those of its networks that
// `shared` accepts: its address there, its name and its aliases.
std::vector<std::string> lines_of(const json& input, const std::function<bool(const std::string&)>& shared) {
    std::vector<std::string> lines;
    const std::string name = input.value("container_name", "");
    const json& networks = input["networks"];  // well_formed
    for (const auto& [net, n] : networks.items()) {
        if (!user_network(net) || !shared(net)) continue;
        const json ips = n.value("static_ips", json::array());
        if (ips.empty() || !ips[0].is_string()) continue;
        std::vector<std::string> names;
        if (!name.empty()) names.push_back(name);
        const json aliases = n.value("aliases", json::array());
        for (const auto& a : aliases) {
            if (!a.is_string()) continue;
            std::string alias = a.get<std::string>();
            if (std::find(names.begin(), names.end(), alias) == names.end()) names.push_back(alias);
        }
        if (names.empty()) continue;
        std::string line = ips[0].get<std::string>() + "\t";
        for (size_t i = 0; i < names.size(); ++i) line += (i ? " " : "") + names[i];
        lines.push_back(line);
    }
    return lines;
}

// What lines_of reads is there, of the right kinds.
bool well_formed(const json& input) {
    if (!input.is_object() || !input.contains("networks") || !input["networks"].is_object()) return false;
    if (input.contains("container_name") && !input["container_name"].is_string()) return false;
    for (const auto& [net, n] : input["networks"].items())
        if (!n.is_object() || (n.contains("static_ips") && !n["static_ips"].is_array()) ||
            (n.contains("aliases") && !n["aliases"].is_array()))
            return false;
    return true;
}

struct Peer {
    std::string id;
    json input;
};

// The records of the other containers that are on a user network of
// `networks`.
std::vector<Peer> peers_of(const Paths& paths, const std::string& id, const json& networks) {
    std::vector<Peer> peers;
    bool any = false;
    for (const auto& [net, n] : networks.items()) any = any || user_network(net);
    if (!any) return peers;
    std::error_code ec;
    for (fs::directory_iterator it(paths.netns_dir(), ec), end; !ec && it != end; it.increment(ec)) {
        std::string f = it->path().filename().string();
        if (!f.ends_with(".json")) continue;
        std::string peer = f.substr(0, f.size() - 5);
        if (peer == id || !is_full_id(peer)) continue;
        std::optional<NetworkRecord> r;
        try {
            r = load_network_record(paths, peer);
        } catch (const Error&) {
            continue;  // damaged: its teardown will say so
        }
        if (!r || !well_formed(r->input)) continue;
        for (const auto& [net, n] : r->input["networks"].items())
            if (user_network(net) && networks.contains(net)) {
                peers.push_back({peer, std::move(r->input)});
                break;
            }
    }
    return peers;
}

// Adds (or takes out) container `id`'s lines in the hosts files of its
// peers, each on the networks they share, and returns the peers' lines on
// those networks (for its own file): one look at the records for both.
std::vector<std::string> tell_peers(const Paths& paths, const std::string& id, const json& input, bool add) noexcept {
    std::vector<std::string> theirs_here;
    if (!well_formed(input)) return theirs_here;
    const json& networks = input["networks"];
    try {
        for (const auto& peer : peers_of(paths, id, networks)) {
            const json& theirs = peer.input["networks"];
            for (auto& l : lines_of(peer.input, [&](const std::string& net) { return networks.contains(net); }))
                theirs_here.push_back(std::move(l));
            auto lines = lines_of(input, [&](const std::string& net) { return theirs.contains(net); });
            fs::path hosts = paths.state_dir(peer.id) / "hosts";
            try {
                if (add) edit_hosts_file(hosts, lines, {});
                else edit_hosts_file(hosts, {}, lines);
            } catch (const Error&) {
                // Best effort: the peer still finds us through aardvark-dns,
                // and its shim rewrites its file at its next start.
            }
        }
    } catch (const std::exception&) {
        // Out of memory: what was told stays told.
    }
    return theirs_here;
}

}  // namespace

std::vector<std::string> meet_peers(const Paths& paths, const std::string& id, const json& input) noexcept {
    return tell_peers(paths, id, input, true);
}

std::vector<std::string> leave_peers(const Paths& paths, const std::string& id, const json& input) noexcept {
    return tell_peers(paths, id, input, false);
}

void edit_hosts_file(const fs::path& path, const std::vector<std::string>& add,
                     const std::vector<std::string>& remove) {
    auto text = read_file_if_exists(path, 1 << 20);
    if (!text) return;
    auto lines = split(*text, '\n');
    if (!lines.empty() && lines.back().empty()) lines.pop_back();
    std::vector<std::string> kept;
    for (auto line : lines)
        if (std::find(remove.begin(), remove.end(), line) == remove.end()) kept.emplace_back(line);
    for (const auto& l : add)
        if (std::find(kept.begin(), kept.end(), l) == kept.end()) kept.push_back(l);
    std::string out;
    for (const auto& l : kept) out += l + "\n";
    if (out != *text) write_in_place(path, out);
}

}  // namespace minirt::engine
