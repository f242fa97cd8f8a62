// IPv4 addresses and subnets as numbers: what network records and address
// allocation need (never a routing table of our own).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace minirt {

// "10.89.0.7" -> host-order number; nullopt for anything else (no leading
// zeros, no shorthand forms).
std::optional<uint32_t> parse_ipv4(std::string_view text);
std::string format_ipv4(uint32_t addr);

struct Ipv4Net {
    uint32_t base = 0;  // the network address (host bits zero)
    int prefix = 0;     // 0..32
    uint32_t mask() const { return prefix == 0 ? 0 : ~uint32_t{0} << (32 - prefix); }
    uint32_t last() const { return base | ~mask(); }  // the broadcast address
    bool contains(uint32_t a) const { return (a & mask()) == base; }
    bool overlaps(const Ipv4Net& o) const {
        int p = prefix < o.prefix ? prefix : o.prefix;
        uint32_t m = p == 0 ? 0 : ~uint32_t{0} << (32 - p);
        return (base & m) == (o.base & m);
    }
    std::string text() const { return format_ipv4(base) + "/" + std::to_string(prefix); }
};

// "10.89.0.0/24"; nullopt if malformed or if host bits are set
// ("10.89.0.1/24" is an address, not a subnet).
std::optional<Ipv4Net> parse_ipv4_net(std::string_view text);

}  // namespace minirt
