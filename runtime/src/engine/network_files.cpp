#include "engine/network_files.hpp"

#include <fcntl.h>
#include <unistd.h>

#include "common/error.hpp"
#include "common/file.hpp"
#include "common/parse.hpp"

namespace minirt::engine {

namespace {

constexpr const char* kLocalhost =
    "127.0.0.1\tlocalhost localhost.localdomain localhost4 localhost4.localdomain4\n"
    "::1\tlocalhost localhost.localdomain localhost6 localhost6.localdomain6\n";

struct Resolv {
    std::vector<std::string> servers, search, options;
};

Resolv parse_resolv(const std::string& text) {
    Resolv r;
    for (auto line : split(text, '\n')) {
        auto w = words(line);
        if (w.empty() || w[0].starts_with('#') || w[0].starts_with(';')) continue;
        if (w[0] == "nameserver" && w.size() > 1) r.servers.emplace_back(w[1]);
        else if ((w[0] == "search" || w[0] == "domain") && w.size() > 1) {
            r.search.clear();
            for (size_t i = 1; i < w.size(); ++i) r.search.emplace_back(w[i]);
        } else if (w[0] == "options")
            for (size_t i = 1; i < w.size(); ++i) r.options.emplace_back(w[i]);
    }
    return r;
}

bool is_loopback_server(const std::string& s) { return s.starts_with("127.") || s == "::1"; }

}  // namespace

void write_in_place(const fs::path& path, const std::string& text) {
    UniqueFd f(::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0644));
    if (!f) throw_errno("write " + path.string());
    write_all(f.get(), text);
}

std::string hosts_line(const ContainerConfig& c, uint32_t address) {
    std::string names = c.hostname == c.name || c.name.empty() ? c.hostname : c.hostname + " " + c.name;
    return format_ipv4(address) + "\t" + names;
}

std::string hosts_text(const ContainerConfig& c, const std::vector<NetworkAddress>& addrs,
                       const std::vector<std::string>& peers, const std::string& host_hosts) {
    std::string out;
    for (const auto& h : c.add_hosts) {
        auto colon = h.find(':');
        out += h.substr(colon + 1) + "\t" + h.substr(0, colon) + "\n";
    }
    // On the host's file (podman's default base_hosts_file), or localhost
    // alone where the host has none.
    out += host_hosts.empty() ? kLocalhost : host_hosts;
    if (!out.empty() && out.back() != '\n') out += '\n';
    if (c.network == "host") return out;
    if (addrs.empty()) return out + hosts_line(c, 0x7f000101) + "\n";  // 127.0.1.1
    for (const auto& a : addrs) out += hosts_line(c, a.address) + "\n";
    for (const auto& p : peers) out += p + "\n";
    // Where the host is reached from the first network (podman's name).
    out += format_ipv4(addrs[0].subnet.gateway) + "\thost.containers.internal host.minirt.internal\n";
    return out;
}

std::string resolv_text(const ContainerConfig& c, const std::vector<NetworkAddress>& addrs,
                        const std::string& host_resolv) {
    Resolv host = parse_resolv(host_resolv);
    Resolv r;
    bool dns_network = false;
    for (const auto& a : addrs)
        if (a.dns) {
            r.servers.push_back(format_ipv4(a.subnet.gateway));
            dns_network = true;
        }
    if (!dns_network) {
        // The host's loopback resolver is not the container's (except on
        // the host's network).
        for (const auto& s : host.servers)
            if (c.network == "host" || !is_loopback_server(s)) r.servers.push_back(s);
    }
    if (!c.dns_servers.empty()) r.servers = c.dns_servers;
    if (dns_network) r.search.push_back("dns.podman");
    for (const auto& s : host.search) r.search.push_back(s);
    if (!c.dns_search.empty()) r.search = c.dns_search;
    if (r.search.size() == 1 && r.search[0] == ".") r.search.clear();
    r.options = c.dns_options.empty() ? host.options : c.dns_options;
    std::string out;
    if (!r.search.empty()) {
        out += "search";
        for (const auto& s : r.search) out += " " + s;
        out += "\n";
    }
    for (const auto& s : r.servers) out += "nameserver " + s + "\n";
    if (!r.options.empty()) {
        out += "options";
        for (const auto& o : r.options) out += " " + o;
        out += "\n";
    }
    return out;
}

void write_network_files(const fs::path& dir, const ContainerConfig& c, const std::vector<NetworkAddress>& addrs,
                         const std::vector<std::string>& peers) {
    write_in_place(dir / "hostname", c.hostname + "\n");
    std::string host_resolv = read_file_if_exists("/etc/resolv.conf", 1 << 20).value_or("");
    // systemd-resolved's stub (127.0.0.53) stands for the real servers.
    if (c.network != "host") {
        Resolv h = parse_resolv(host_resolv);
        bool only_loopback = !h.servers.empty();
        for (const auto& s : h.servers) only_loopback = only_loopback && is_loopback_server(s);
        if (only_loopback)
            if (auto real = read_file_if_exists("/run/systemd/resolve/resolv.conf", 1 << 20)) host_resolv = *real;
    }
    write_in_place(dir / "resolv.conf", resolv_text(c, addrs, host_resolv));
    if (!c.no_hosts) {
        std::string host_hosts = read_file_if_exists("/etc/hosts", 1 << 20).value_or("");
        write_in_place(dir / "hosts", hosts_text(c, addrs, peers, host_hosts));
    }
}

}  // namespace minirt::engine
