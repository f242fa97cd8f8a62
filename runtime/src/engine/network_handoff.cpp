#include "engine/network_handoff.hpp"

#include <nlohmann/json.hpp>

#include "linux/fd_passing.hpp"
#include "state/records.hpp"

namespace minirt::engine {

using nlohmann::json;

namespace {

// An error packet, or EOF, as the Error the shim reports.
json expect_packet(const Packet& p, const char* step) {
    if (p.eof) throw Error(std::string("the CLI ended before ") + step);
    json j = json::parse(p.text, nullptr, false);
    if (!j.is_object()) throw Error(std::string("a malformed packet from the CLI (") + step + ")");
    if (j.contains("error"))
        throw Error(j.value("error", std::string("the network setup failed")), j.value("code", kExitMinirtError));
    return j;
}

}  // namespace

bool hand_namespace(int sock, int netns) noexcept {
    int fds[] = {netns};
    return send_packet(sock, R"({"namespace":true})", fds);
}

bool hand_bridge(int sock) noexcept { return send_packet(sock, R"({"bridge":true})"); }

bool await_adoption(int sock) noexcept {
    try {
        Packet p = recv_packet(sock);
        if (p.eof) return false;
        json j = json::parse(p.text, nullptr, false);
        return j.is_object() && j.value("adopted", false);
    } catch (const std::exception&) {
        return false;
    }
}

bool acknowledge_adoption(int sock) noexcept { return send_packet(sock, R"({"adopted":true})"); }

bool hand_setup(int sock, const ContainerNetwork& n) noexcept {
    const auto& holds = n.port_holds();
    try {
        json head{{"ports", ports_json(n.ports())}, {"holds", holds.size()}, {"status", n.setup_output()}};
        if (!send_packet(sock, head.dump())) return false;
        for (size_t i = 0; i < holds.size(); i += kMaxPacketFds) {
            std::vector<int> fds;
            for (size_t k = i; k < holds.size() && k < i + kMaxPacketFds; ++k) fds.push_back(holds[k].get());
            if (!send_packet(sock, json{{"holds", fds.size()}}.dump(), fds)) return false;
        }
    } catch (const std::exception&) {
        return false;
    }
    return true;
}

bool hand_error(int sock, const Error& e) noexcept {
    try {
        return send_packet(sock, json{{"error", e.message()}, {"code", e.exit_code()}}.dump());
    } catch (const std::exception&) {
        return false;
    }
}

UniqueFd receive_namespace(int sock) {
    Packet p = recv_packet(sock);
    if (p.eof) return {};
    expect_packet(p, "the network namespace was made");
    if (p.fds.size() != 1) throw Error("the CLI sent no network namespace");
    return std::move(p.fds[0]);
}

bool receive_bridge(int sock) {
    Packet p = recv_packet(sock);
    if (p.eof) return false;
    return expect_packet(p, "the network setup began").value("bridge", false);
}

void receive_setup(int sock, ContainerNetwork& n) {
    const char* step = "the network was set up";
    json j = expect_packet(recv_packet(sock), step);
    size_t want = j.value("holds", size_t{0});
    std::vector<UniqueFd> holds;
    while (holds.size() < want) {
        Packet p = recv_packet(sock);
        expect_packet(p, step);
        if (p.fds.empty()) throw Error("the CLI sent no published port");
        for (auto& fd : p.fds) holds.push_back(std::move(fd));
    }
    n.adopt_setup(ports_from_json(j.value("ports", json::array())), std::move(holds), j.value("status", std::string()));
}

}  // namespace minirt::engine
