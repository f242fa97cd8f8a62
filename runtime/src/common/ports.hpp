// Published ports: podman's -p syntax, and what netavark is told of each.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace minirt {

// The longest range one -p may publish.
constexpr int kMaxPortRange = 1000;

// One -p: host_port 0 is picked when the container starts.
struct PortRequest {
    std::string host_ip;  // empty: every address of the host
    uint16_t host_port = 0;
    uint16_t container_port = 0;
    uint16_t range = 1;  // how many consecutive ports, from both
    std::string protocol = "tcp";  // tcp or udp
};

// [[IP:][HOST_PORT]:]CONTAINER_PORT[/PROTOCOL], where each port may be a
// range FIRST-LAST (the two ranges equally long). Error (125) naming the
// flag and what is wrong.
PortRequest parse_publish(std::string_view text);

// "80/tcp" or "8000-8010/udp" (--expose, an image's exposed ports): the
// container side only.
PortRequest parse_exposed(std::string_view text);

// "0.0.0.0:8080->80/tcp" (podman's ps column; ranges as 8080-8081->80-81).
std::string describe(const PortRequest& p);

}  // namespace minirt
