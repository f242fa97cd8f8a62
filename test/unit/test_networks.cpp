// IPv4 parsing, network records as netavark reads them, leases, -p, and
// the /etc files of a container on a network.
#include <catch2/catch.hpp>

#include <fcntl.h>
#include <sys/socket.h>
#include <sys/stat.h>

#include <set>
#include <thread>

#include "common/error.hpp"
#include "common/ipv4.hpp"
#include "common/ports.hpp"
#include "common/file.hpp"
#include "engine/network_files.hpp"
#include "engine/network_handoff.hpp"
#include "engine/network_peers.hpp"
#include "state/networks.hpp"
#include "temp_dir.hpp"

using namespace minirt;

namespace {

Network net(const std::string& name, const std::string& cidr, const std::string& gw) {
    Network n;
    n.name = name;
    n.id = std::string(64, 'a');
    n.interface = "mrt-" + name;
    NetworkSubnet s;
    s.subnet = *parse_ipv4_net(cidr);
    s.gateway = *parse_ipv4(gw);
    n.subnets.push_back(s);
    return n;
}

Paths paths_in(const TempDir& t) {
    Paths p;
    p.root = t.dir / "run";
    p.storage = t.dir / "lib";
    return p;
}

bool all_alive(const std::string&) { return true; }

}  // namespace

TEST_CASE("ipv4: addresses and subnets parse strictly") {
    CHECK(parse_ipv4("10.89.0.7") == 0x0a590007u);
    CHECK(format_ipv4(0x0a590007u) == "10.89.0.7");
    for (const char* bad : {"", "10.89.0", "10.89.0.7.1", "256.1.1.1", "01.2.3.4", "1..2.3", "a.b.c.d", "1.2.3.4 "})
        CHECK_FALSE(parse_ipv4(bad));
    auto n = parse_ipv4_net("10.89.0.0/24");
    REQUIRE(n);
    CHECK(n->last() == *parse_ipv4("10.89.0.255"));
    CHECK(n->contains(*parse_ipv4("10.89.0.9")));
    CHECK_FALSE(n->contains(*parse_ipv4("10.89.1.9")));
    CHECK_FALSE(parse_ipv4_net("10.89.0.1/24"));  // host bits set
    CHECK_FALSE(parse_ipv4_net("10.89.0.0/33"));
    CHECK(parse_ipv4_net("10.0.0.0/8")->overlaps(*parse_ipv4_net("10.89.0.0/24")));
    CHECK_FALSE(parse_ipv4_net("10.89.1.0/24")->overlaps(*parse_ipv4_net("10.89.0.0/24")));
}

TEST_CASE("networks: records round-trip as netavark's JSON, overlaps refused") {
    TempDir t("net");
    Networks nets(paths_in(t));
    auto lock = nets.lock();
    Network a = net("alpha", "10.250.0.0/24", "10.250.0.1");
    a.labels["team"] = "web";
    nets.create(a);
    auto back = nets.find("alpha");
    REQUIRE(back);
    CHECK(back->subnets[0].subnet.text() == "10.250.0.0/24");
    CHECK(format_ipv4(back->subnets[0].gateway) == "10.250.0.1");
    CHECK(back->labels.at("team") == "web");
    CHECK_THROWS_WITH(nets.create(a), Catch::Contains("already exists"));
    CHECK_THROWS_WITH(nets.create(net("beta", "10.250.0.128/25", "10.250.0.129")), Catch::Contains("overlaps"));
    CHECK_THROWS_AS(nets.create(net("bad/name", "10.251.0.0/24", "10.251.0.1")), Error);
    nets.create(net("beta", "10.251.0.0/24", "10.251.0.1"));
    CHECK(nets.list().size() == 3);  // and the default, which has no file
    nets.remove("beta");
    CHECK_FALSE(nets.find("beta"));
    // The default is always there, and stays.
    auto def = nets.find("minirt");
    REQUIRE(def);
    CHECK(def->interface == "minirt");
    CHECK(def->subnets[0].subnet.text() == "10.87.0.0/16");
    CHECK_FALSE(def->dns_enabled);
    CHECK_THROWS_WITH(nets.remove("minirt"), Catch::Contains("cannot be removed"));
    CHECK_THROWS_WITH(nets.create(net("overlap", "10.87.3.0/24", "10.87.3.1")), Catch::Contains("overlaps"));
}

TEST_CASE("networks: leases are unique, skip the gateway, persist, and come back") {
    TempDir t("net");
    Networks nets(paths_in(t));
    auto lock = nets.lock();
    nets.create(net("small", "10.252.0.0/29", "10.252.0.1"));  // hosts .1-.6, .1 the gateway
    std::set<uint32_t> got;
    for (int i = 0; i < 5; ++i) got.insert(nets.lease(*nets.find("small"), "c" + std::to_string(i), std::nullopt, all_alive));
    CHECK(got.size() == 5);
    CHECK_FALSE(got.contains(*parse_ipv4("10.252.0.1")));
    CHECK_FALSE(got.contains(*parse_ipv4("10.252.0.0")));
    CHECK_FALSE(got.contains(*parse_ipv4("10.252.0.7")));
    CHECK_THROWS_WITH(nets.lease(*nets.find("small"), "c9", std::nullopt, all_alive), Catch::Contains("no address left"));
    // The same container keeps its address.
    CHECK(nets.lease(*nets.find("small"), "c0", std::nullopt, all_alive) == *parse_ipv4("10.252.0.2"));
    // A container that is gone gives its address back.
    auto gone = [](const std::string& id) { return id != "c3"; };
    CHECK(nets.lease(*nets.find("small"), "c9", std::nullopt, gone) == *parse_ipv4("10.252.0.5"));
    nets.release("small", "c0");
    CHECK(nets.lease(*nets.find("small"), "c10", *parse_ipv4("10.252.0.2"), all_alive) == *parse_ipv4("10.252.0.2"));
    CHECK_THROWS_WITH(nets.lease(*nets.find("small"), "c11", *parse_ipv4("10.252.0.2"), all_alive), Catch::Contains("taken"));
    CHECK_THROWS_WITH(nets.lease(*nets.find("small"), "c11", *parse_ipv4("10.252.0.1"), all_alive), Catch::Contains("not a host address"));
    CHECK(Networks(paths_in(t)).leases("small").size() == 5);
}

TEST_CASE("networks: each lease is a file of its own; a store's old leases file is moved into them") {
    TempDir t("net");
    Paths paths = paths_in(t);
    Networks nets(paths);
    auto lock = nets.lock();
    nets.create(net("old", "10.251.0.0/24", "10.251.0.1"));
    // As a store kept them before: one JSON file.
    write_file_atomic(paths.network_leases_json("old"),
                      R"({"schema_version": 1, "leases": {"a1": "10.251.0.2", "a2": "10.251.0.4"}})");
    CHECK(nets.leases("old").size() == 2);  // read as they are
    // The first change moves them, and no address of theirs is given again.
    CHECK(nets.lease(*nets.find("old"), "b1", std::nullopt, all_alive) == *parse_ipv4("10.251.0.3"));
    CHECK(nets.lease(*nets.find("old"), "b2", std::nullopt, all_alive) == *parse_ipv4("10.251.0.5"));
    CHECK_FALSE(fs::exists(paths.network_leases_json("old")));
    CHECK(fs::exists(paths.network_lease_dir("old") / "10.251.0.2-a1"));
    CHECK(fs::exists(paths.network_lease_dir("old") / "10.251.0.5-b2"));
    nets.release("old", "a1");
    CHECK_FALSE(fs::exists(paths.network_lease_dir("old") / "10.251.0.2-a1"));
    // Anything else in the directory is no lease.
    write_file_atomic(paths.network_lease_dir("old") / "notes.txt", "x");
    CHECK(nets.leases("old").size() == 3);
    nets.remove("old");
    CHECK_FALSE(fs::exists(paths.network_lease_dir("old")));
}

TEST_CASE("networks: concurrent leases under the lock never share an address") {
    TempDir t("net");
    {
        Networks nets(paths_in(t));
        auto lock = nets.lock();
        nets.create(net("busy", "10.253.0.0/22", "10.253.0.1"));
    }
    std::vector<std::thread> threads;
    for (int w = 0; w < 4; ++w)
        threads.emplace_back([&, w] {
            Networks nets(paths_in(t));
            for (int i = 0; i < 50; ++i) {
                auto lock = nets.lock();
                nets.lease(*nets.find("busy"), "w" + std::to_string(w) + "-" + std::to_string(i), std::nullopt, all_alive);
            }
        });
    for (auto& th : threads) th.join();
    auto leases = Networks(paths_in(t)).leases("busy");
    std::set<uint32_t> addrs;
    for (const auto& [id, a] : leases) addrs.insert(a);
    CHECK(leases.size() == 200);
    CHECK(addrs.size() == 200);
}

TEST_CASE("ports: podman's -p forms, and what is refused") {
    PortRequest p = parse_publish("8080:80");
    CHECK(p.host_port == 8080);
    CHECK(p.container_port == 80);
    CHECK(p.range == 1);
    CHECK(p.protocol == "tcp");
    CHECK(p.host_ip.empty());
    p = parse_publish("127.0.0.1:8000-8009:80-89/udp");
    CHECK(p.host_ip == "127.0.0.1");
    CHECK(p.host_port == 8000);
    CHECK(p.container_port == 80);
    CHECK(p.range == 10);
    CHECK(p.protocol == "udp");
    p = parse_publish("127.0.0.1::53");
    CHECK(p.host_port == 0);
    CHECK(p.container_port == 53);
    p = parse_publish("80");
    CHECK(p.host_port == 0);
    CHECK(describe(parse_publish("0.0.0.0:8080:80")) == "0.0.0.0:8080->80/tcp");
    CHECK(describe(parse_publish("1.2.3.4:10-11:20-21/udp")) == "1.2.3.4:10-11->20-21/udp");
    for (const char* bad : {"", "abc", "0:80", "70000", "80/sctp", "1-3:1-2", "1.2.3:80:80", "[::1]:80:80", "a:b:c:d",
                            "9-8", "8080:", "x:80"})
        CHECK_THROWS_AS(parse_publish(bad), Error);
    CHECK(parse_exposed("8000-8001/udp").range == 2);
    CHECK_THROWS_AS(parse_exposed("1:2"), Error);
}

TEST_CASE("network files: /etc/hosts and /etc/resolv.conf as podman writes them") {
    ContainerConfig c;
    c.name = "web";
    c.hostname = "web";
    c.network = "bridge";
    c.add_hosts = {"db:192.0.2.7"};
    engine::NetworkAddress a;
    a.network = "app";
    a.address = *parse_ipv4("10.90.3.5");
    a.subnet.subnet = *parse_ipv4_net("10.90.3.0/24");
    a.subnet.gateway = *parse_ipv4("10.90.3.1");
    a.dns = true;
    std::string hosts = engine::hosts_text(c, {a}, {"10.90.3.9\tdb2 1234567890ab"}, "");
    CHECK(hosts.find("10.90.3.9\tdb2 1234567890ab\n") != std::string::npos);  // a peer
    CHECK(hosts.find("192.0.2.7\tdb\n") == 0);  // --add-host first, as podman
    CHECK(hosts.find("127.0.0.1\tlocalhost") != std::string::npos);
    CHECK(hosts.find("10.90.3.5\tweb\n") != std::string::npos);
    CHECK(hosts.find("10.90.3.1\thost.containers.internal") != std::string::npos);
    std::string host_resolv = "# comment\nnameserver 127.0.0.53\nnameserver 192.0.2.1\nsearch corp.example\noptions edns0\n";
    std::string r = engine::resolv_text(c, {a}, host_resolv);
    CHECK(r == "search dns.podman corp.example\nnameserver 10.90.3.1\noptions edns0\n");
    a.dns = false;
    r = engine::resolv_text(c, {a}, host_resolv);
    CHECK(r == "search corp.example\nnameserver 192.0.2.1\noptions edns0\n");  // no loopback server
    c.dns_servers = {"192.0.2.53"};
    c.dns_search = {"."};
    c.dns_options = {"ndots:2"};
    CHECK(engine::resolv_text(c, {a}, host_resolv) == "nameserver 192.0.2.53\noptions ndots:2\n");
    // The host's network: the host's files, loopback servers kept.
    ContainerConfig h;
    h.name = h.hostname = "h";
    h.network = "host";
    CHECK(engine::resolv_text(h, {}, host_resolv).find("nameserver 127.0.0.53") != std::string::npos);
    CHECK(engine::hosts_text(h, {}, {}, "10.0.0.1 myhost\n") == "10.0.0.1 myhost\n");
    // Loopback only: the name on 127.0.1.1.
    ContainerConfig n;
    n.name = n.hostname = "n";
    n.network = "none";
    CHECK(engine::hosts_text(n, {}, {}, "").find("127.0.1.1\tn\n") != std::string::npos);
}

TEST_CASE("network files: a peer's line is added once and taken out alone") {
    TempDir dir;
    fs::path hosts = dir.dir / "hosts";
    const std::string base = "# the host's\n127.0.0.1\tlocalhost\n\n10.90.3.5\tweb\n";
    write_file_atomic(hosts, base);
    engine::edit_hosts_file(hosts, {"10.90.3.6\tdb"}, {});
    engine::edit_hosts_file(hosts, {"10.90.3.6\tdb"}, {});
    CHECK(read_file(hosts) == base + "10.90.3.6\tdb\n");
    // Only the exact line goes: comments, blank lines and the rest stay.
    engine::edit_hosts_file(hosts, {}, {"10.90.3.6\tdb", "10.90.3.6\tdb2"});
    CHECK(read_file(hosts) == base);
    // No file (--no-hosts): nothing is made.
    engine::edit_hosts_file(dir.dir / "none", {"10.90.3.6\tdb"}, {});
    CHECK_FALSE(fs::exists(dir.dir / "none"));
}

TEST_CASE("network handoff: the namespace, the bridge, the setup and errors cross intact") {
    int sv[2];
    REQUIRE(::socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) == 0);
    UniqueFd cli(sv[0]), shim(sv[1]);
    UniqueFd ns(::open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC));
    REQUIRE(ns);
    REQUIRE(engine::hand_namespace(cli.get(), ns.get()));
    UniqueFd got = engine::receive_namespace(shim.get());
    REQUIRE(got);
    struct stat a {}, b {};
    REQUIRE(::fstat(ns.get(), &a) == 0);
    REQUIRE(::fstat(got.get(), &b) == 0);
    CHECK(a.st_ino == b.st_ino);
    CHECK((::fcntl(got.get(), F_GETFD) & FD_CLOEXEC) != 0);

    REQUIRE(engine::hand_bridge(cli.get()));
    CHECK(engine::receive_bridge(shim.get()));
    REQUIRE(engine::acknowledge_adoption(shim.get()));
    CHECK(engine::await_adoption(cli.get()));

    // More published ports than one packet carries (-p 1-600:1-600).
    TempDir dir;
    Paths paths;
    paths.root = dir.dir / "run";
    paths.storage = dir.dir / "lib";
    auto sent = engine::ContainerNetwork::adopt(paths, std::string(64, 'a'));
    std::vector<UniqueFd> holds;
    for (int i = 0; i < 600; ++i) holds.emplace_back(::open("/dev/null", O_RDONLY | O_CLOEXEC));
    PortRequest p;
    p.host_port = 20000;
    p.container_port = 1;
    p.range = 600;
    sent.adopt_setup({p}, std::move(holds), "{}");
    REQUIRE(engine::hand_setup(cli.get(), sent));
    sent.disown();
    auto taken = engine::ContainerNetwork::adopt(paths, std::string(64, 'a'));
    engine::receive_setup(shim.get(), taken);
    taken.disown();
    CHECK(taken.port_holds().size() == 600);
    REQUIRE(taken.ports().size() == 1);
    CHECK(taken.ports()[0].host_port == 20000);
    CHECK(taken.ports()[0].range == 600);
    CHECK(taken.setup_output() == "{}");

    // An error arrives as the Error it was, with its exit code.
    REQUIRE(engine::hand_error(cli.get(), Error("port 8080/tcp is already in use on the host", 125)));
    try {
        engine::receive_bridge(shim.get());
        FAIL("no error");
    } catch (const Error& e) {
        CHECK(e.message() == "port 8080/tcp is already in use on the host");
        CHECK(e.exit_code() == 125);
    }
    // EOF: before the bridge, the shim does it itself; before the setup,
    // the start fails.
    cli.reset();
    CHECK_FALSE(engine::receive_bridge(shim.get()));
    // And the thread hears no answer from a shim that is gone.
    int sv2[2];
    REQUIRE(::socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv2) == 0);
    UniqueFd cli2(sv2[0]);
    ::close(sv2[1]);
    CHECK_FALSE(engine::await_adoption(cli2.get()));
    auto none = engine::ContainerNetwork::adopt(paths, std::string(64, 'b'));
    CHECK_THROWS_AS(engine::receive_setup(shim.get(), none), Error);
    none.disown();
}
