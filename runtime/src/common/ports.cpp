#include "common/ports.hpp"

#include "common/error.hpp"
#include "common/ipv4.hpp"
#include "common/parse.hpp"

namespace minirt {

namespace {

struct Span {
    uint16_t first = 0, count = 0;
};

// "80" or "8000-8010"; `what` names it in errors.
Span port_span(std::string_view text, const std::string& what) {
    auto dash = text.find('-');
    auto one = [&](std::string_view t) {
        bool digits = !t.empty() && t.find_first_not_of("0123456789") == std::string_view::npos;
        if (!digits) throw Error(what + ": " + quote_for_message(t) + " is not a port number");
        return static_cast<uint16_t>(parse_int(t, what, 1, 65535));
    };
    if (dash == std::string_view::npos) return {one(text), 1};
    uint16_t first = one(text.substr(0, dash)), last = one(text.substr(dash + 1));
    if (last < first) throw Error(what + ": the range " + std::string(text) + " ends before it starts");
    // Each published port is a socket the shim holds.
    if (last - first >= kMaxPortRange)
        throw Error(what + ": the range " + std::string(text) + " is longer than " + std::to_string(kMaxPortRange) + " ports");
    return {first, static_cast<uint16_t>(last - first + 1)};
}

std::string protocol_of(std::string_view& text, const std::string& what) {
    auto slash = text.rfind('/');
    if (slash == std::string_view::npos) return "tcp";
    std::string proto(text.substr(slash + 1));
    text = text.substr(0, slash);
    if (proto != "tcp" && proto != "udp") throw Error(what + ": protocol " + quote_for_message(proto) + ": use tcp or udp");
    return proto;
}

}  // namespace

PortRequest parse_publish(std::string_view text) {
    std::string what = "invalid -p " + quote_for_message(text);
    std::string_view rest = text;
    PortRequest p;
    p.protocol = protocol_of(rest, what);
    if (rest.starts_with('[')) throw Error(what + ": IPv6 host addresses are not supported (the networks are IPv4)");
    auto parts = split(rest, ':');
    if (parts.size() > 3) throw Error(what + ": use [[IP:][HOST_PORT]:]CONTAINER_PORT[/PROTOCOL]");
    Span container = port_span(parts.back(), what);
    p.container_port = container.first;
    p.range = container.count;
    if (parts.size() == 3) {
        p.host_ip = std::string(parts[0]);
        if (!parse_ipv4(p.host_ip)) throw Error(what + ": " + quote_for_message(p.host_ip) + " is not an IPv4 address");
        if (p.host_ip == "0.0.0.0") p.host_ip.clear();
    }
    if (parts.size() >= 2 && !parts[parts.size() - 2].empty()) {
        Span host = port_span(parts[parts.size() - 2], what);
        if (host.count != container.count)
            throw Error(what + ": the host range and the container range differ in length");
        p.host_port = host.first;
    }
    return p;
}

PortRequest parse_exposed(std::string_view text) {
    std::string what = "invalid exposed port " + quote_for_message(text);
    std::string_view rest = text;
    PortRequest p;
    p.protocol = protocol_of(rest, what);
    Span s = port_span(rest, what);
    p.container_port = s.first;
    p.range = s.count;
    return p;
}

std::string describe(const PortRequest& p) {
    auto span = [&](uint16_t first) {
        std::string s = std::to_string(first);
        if (p.range > 1) s += "-" + std::to_string(first + p.range - 1);
        return s;
    };
    return (p.host_ip.empty() ? std::string("0.0.0.0") : p.host_ip) + ":" + span(p.host_port) + "->" +
           span(p.container_port) + "/" + p.protocol;
}

}  // namespace minirt
