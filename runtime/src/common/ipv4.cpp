#include "common/ipv4.hpp"

namespace minirt {

std::optional<uint32_t> parse_ipv4(std::string_view text) {
    uint32_t out = 0;
    int parts = 0;
    size_t i = 0;
    while (parts < 4) {
        size_t start = i;
        uint32_t v = 0;
        while (i < text.size() && text[i] >= '0' && text[i] <= '9' && i - start < 3) v = v * 10 + uint32_t(text[i++] - '0');
        size_t len = i - start;
        if (len == 0 || v > 255 || (len > 1 && text[start] == '0')) return std::nullopt;
        out = out << 8 | v;
        ++parts;
        if (parts < 4) {
            if (i >= text.size() || text[i] != '.') return std::nullopt;
            ++i;
        }
    }
    if (i != text.size()) return std::nullopt;
    return out;
}

std::string format_ipv4(uint32_t a) {
    return std::to_string(a >> 24) + "." + std::to_string((a >> 16) & 255) + "." + std::to_string((a >> 8) & 255) +
           "." + std::to_string(a & 255);
}

std::optional<Ipv4Net> parse_ipv4_net(std::string_view text) {
    auto slash = text.find('/');
    if (slash == std::string_view::npos) return std::nullopt;
    auto addr = parse_ipv4(text.substr(0, slash));
    std::string_view p = text.substr(slash + 1);
    if (!addr || p.empty() || p.size() > 2 || (p.size() > 1 && p[0] == '0')) return std::nullopt;
    int prefix = 0;
    for (char c : p) {
        if (c < '0' || c > '9') return std::nullopt;
        prefix = prefix * 10 + (c - '0');
    }
    if (prefix > 32) return std::nullopt;
    Ipv4Net n;
    n.prefix = prefix;
    n.base = *addr & n.mask();
    if (n.base != *addr) return std::nullopt;
    return n;
}

}  // namespace minirt
