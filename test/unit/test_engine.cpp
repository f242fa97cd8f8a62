// The engine's pieces that need no root: the protocol between minirt's
// processes (common/protocol.hpp), and
// a native container's config turned into the OCI spec its shim runs (read
// back by the same parser `minirt oci` uses, nothing lost on the way).
#include <linux/filter.h>
#include <sched.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "common/error.hpp"
#include "common/fd.hpp"
#include "common/protocol.hpp"
#include "container/bundle.hpp"
#include "common/protocol.hpp"
#include "linux/capabilities.hpp"
#include "linux/seccomp.hpp"
#include "oci/spec.hpp"

using namespace minirt;
using nlohmann::json;

TEST_CASE("protocol: every message survives encode and decode", "[protocol]") {
    for (auto t : {MessageType::NamespacesReady, MessageType::Go, MessageType::Ready}) {
        auto m = decode(encode(Message::of(t)));
        REQUIRE(m);
        CHECK(m->type == t);
        CHECK(m->payload.empty());
    }
    auto f = decode(encode(Message::failed(127, "exec: \"x\": executable file not found in $PATH")));
    REQUIRE(f);
    CHECK(f->type == MessageType::Failed);
    CHECK(f->code == 127);
    CHECK(f->payload == "exec: \"x\": executable file not found in $PATH");
    Message s = Message::of(MessageType::Seccomp);
    s.payload = std::string(8 * 3, '\x7f');
    auto back = decode(encode(s));
    REQUIRE(back);
    CHECK(back->payload == s.payload);
    auto started = decode(encode(Message::started(4242, 123456789012ULL)));
    REQUIRE(started);
    CHECK(started->type == MessageType::Started);
    CHECK(started->code == 4242);
    CHECK(started->value == 123456789012ULL);
    auto exited = decode(encode(Message::exited(0)));
    REQUIRE(exited);
    CHECK(exited->type == MessageType::Exited);
    CHECK(exited->code == 0);
}

TEST_CASE("protocol: malformed frames are refused", "[protocol]") {
    CHECK_FALSE(decode(""));
    CHECK_FALSE(decode("\x04"));  // short
    std::string frame = encode(Message::of(MessageType::Go));
    CHECK_FALSE(decode(frame.substr(0, frame.size() - 1)));  // length says more
    std::string unknown = frame;
    unknown[4] = 9;
    CHECK_FALSE(decode(unknown));                                        // unknown type
    CHECK_FALSE(decode(encode(Message::failed(0, "x"))));                // no exit code
    CHECK_FALSE(decode(encode(Message::failed(300, "x"))));              // not an exit code
    CHECK_FALSE(decode(encode(Message::exited(-1))));
    CHECK_FALSE(decode(encode(Message::started(0, 1))));                 // no PID
    Message go = Message::of(MessageType::Go);
    go.payload = "extra";
    CHECK_FALSE(decode(encode(go)));  // Go carries nothing
    Message big = Message::of(MessageType::Seccomp);
    big.payload.assign(64 * 1024, 'x');
    CHECK_FALSE(decode(encode(big)));  // beyond any filter
}

TEST_CASE("protocol: frames keep their boundaries on a socket or pipe; EOF is told apart", "[protocol]") {
    auto [a, b] = message_socketpair();
    UniqueFd parent(a), init(b);
    REQUIRE(send_message(init.get(), Message::of(MessageType::NamespacesReady)));
    REQUIRE(send_message(init.get(), Message::failed(126, "permission denied")));
    auto first = receive_message(parent.get());
    REQUIRE(first);
    CHECK(first->type == MessageType::NamespacesReady);
    try {
        expect_message(parent.get(), MessageType::Ready);
        FAIL("a Failed message must throw");
    } catch (const Error& e) {
        CHECK(e.exit_code() == 126);
        CHECK(e.message() == "permission denied");
    }
    init.reset();
    CHECK_FALSE(receive_message(parent.get()));
    CHECK_THROWS_AS(expect_message(parent.get(), MessageType::Ready), Error);
    // Writing to a peer that is gone is a failure, not a SIGPIPE.
    CHECK_FALSE(send_message(parent.get(), Message::of(MessageType::Go)));

    // A peer that died with our message unread resets the connection: that
    // is its end too, not an error (the init killed before it read Go).
    auto [c, d] = message_socketpair();
    UniqueFd shim(c), killed(d);
    REQUIRE(send_message(shim.get(), Message::of(MessageType::Go)));
    killed.reset();
    CHECK_FALSE(receive_message(shim.get()));

    Pipe report = make_pipe();
    REQUIRE(send_message(report.write.get(), Message::started(77, 5)));
    REQUIRE(send_message(report.write.get(), Message::exited(3)));
    report.write.reset();
    CHECK(expect_message(report.read.get(), MessageType::Started).code == 77);
    CHECK(expect_message(report.read.get(), MessageType::Exited).code == 3);
    CHECK_FALSE(receive_message(report.read.get()));
    // A frame cut short by the writer's death is an error, not a message.
    Pipe cut = make_pipe();
    std::string frame = encode(Message::exited(1));
    REQUIRE(::write(cut.write.get(), frame.data(), frame.size() - 2) == static_cast<ssize_t>(frame.size() - 2));
    cut.write.reset();
    CHECK_THROWS_AS(receive_message(cut.read.get()), Error);
}

namespace {

ContainerConfig native_config() {
    ContainerConfig c;
    c.id = std::string(64, 'a');
    c.name = "web";
    c.image = "busybox";
    c.command = {"sh", "-c", "echo hi"};
    c.env = {"PATH=/bin", "HOSTNAME=web"};
    c.workdir = "/srv";
    c.hostname = "web";
    c.resources.memory_max = 100 << 20;
    c.resources.memory_swap_max = 50 << 20;
    c.resources.memory_high = 80 << 20;
    c.resources.cpu_quota_us = 50000;
    c.resources.cpu_period_us = 100000;
    c.resources.cpu_weight = 300;
    c.resources.cpuset_cpus = "0";
    c.resources.pids_max = 64;
    c.resources.io_read_bps = {{"8:0", 1 << 20}};
    c.resources.io_write_bps = {{"8:0", 2 << 20}, {"8:16", 4 << 20}};
    c.security.ulimits = {{"nproc", 100, 200}, {"core", kRlimUnlimited, kRlimUnlimited}};
    c.security.uid = 1000;
    c.security.gid = 1001;
    return c;
}

oci::Spec round_trip(const ContainerConfig& c, const BundleHost& host = {true, "minirt-unit", 4096, {}}) {
    Paths paths{"/run/minirt", "/var/lib/minirt"};
    return oci::parse_spec(oci_spec_for(c, paths, host).dump(), paths.container_dir(c.id));
}

}  // namespace

TEST_CASE("bundle: a native config becomes a spec the OCI parser reads back whole", "[engine]") {
    ContainerConfig c = native_config();
    oci::Spec s = round_trip(c);
    CHECK(s.process.args == c.command);
    CHECK(s.process.env == c.env);
    CHECK(s.process.cwd == "/srv");
    CHECK(s.process.uid == 1000);
    CHECK(s.process.gid == 1001);
    // A non-root user holds none of them, as with podman; root all.
    CHECK(s.process.caps == CapSets{c.security.capabilities, 0, 0, 0, 0});
    c.security.uid = 0;
    CHECK(round_trip(c).process.caps == CapSets::one(c.security.capabilities));
    CHECK(s.process.no_new_privileges);
    CHECK(s.hostname == "web");
    CHECK(s.root == "/var/lib/minirt/containers/" + c.id + "/merged");
    REQUIRE(s.overlay);
    CHECK(s.overlay->lower == "/var/lib/minirt/images/busybox/rootfs");
    CHECK(s.overlay->upper == "/var/lib/minirt/containers/" + c.id + "/upper");
    CHECK(s.cgroups_path == "/minirt-unit/" + c.id);
    // Every limit comes back as the same Resources (what the shim applies).
    CHECK(to_json(s.resources) == to_json(c.resources));
    CHECK(s.extra_writes.empty());
    // ulimits as given, and nofile at the host's hard limit (below 1M here).
    REQUIRE(s.process.rlimits.size() == 3);
    CHECK(s.process.rlimits[0].name == "nproc");
    CHECK(s.process.rlimits[1].soft == kRlimUnlimited);
    CHECK(s.process.rlimits[2].name == "nofile");
    CHECK(s.process.rlimits[2].hard == 4096);
    for (const char* ns : {"pid", "mount", "uts", "ipc", "network", "cgroup"}) CHECK(s.has_namespace(ns));
    CHECK_FALSE(s.has_namespace("user"));
    // Confined: the device allow-list, the default seccomp profile, masks.
    CHECK(s.has_device_rules);
    REQUIRE(s.seccomp);
    CHECK(s.masked_paths == default_masked_paths());
    CHECK(s.readonly_paths == default_readonly_paths());
}

TEST_CASE("bundle: the default seccomp profile compiles to the default filter", "[engine]") {
    for (CapMask caps : {default_capabilities(), CapMask(default_capabilities() | (CapMask{1} << 21))}) {
        ContainerConfig c = native_config();
        c.security.capabilities = caps;
        oci::Spec s = round_trip(c);
        REQUIRE(s.seccomp);
        SeccompProgram from_spec = compile_seccomp(seccomp_filter_from_json(s.seccomp->dump(), caps));
        SeccompProgram builtin = compile_seccomp(default_seccomp_filter(caps));
        REQUIRE(from_spec.size() == builtin.size());
        CHECK(std::equal(from_spec.begin(), from_spec.end(), builtin.begin(), [](const sock_filter& a, const sock_filter& b) {
            return a.code == b.code && a.jt == b.jt && a.jf == b.jf && a.k == b.k;
        }));
    }
}

TEST_CASE("bundle: flags that change the spec's shape", "[engine]") {
    ContainerConfig c = native_config();
    c.share_ipc = true;
    c.network = "host";
    c.cgroupns = "host";
    c.tty = true;
    c.security.read_only = true;
    c.security.privileged = true;
    c.security.uid_map = {{0, 100000, 65536}};
    c.security.gid_map = {{0, 100000, 65536}};
    c.resources = {};
    c.resources.nice = 5;
    c.resources.pin_cpu = 1;
    c.propagate_mounts = {"/mnt/shared"};
    oci::Spec s = round_trip(c);
    CHECK_FALSE(s.has_namespace("ipc"));
    CHECK_FALSE(s.has_namespace("network"));
    CHECK_FALSE(s.has_namespace("cgroup"));
    CHECK(s.has_namespace("user"));
    CHECK(s.uid_mappings.size() == 1);
    CHECK(s.process.terminal);
    CHECK(s.root_readonly);
    // Privileged: every capability, no seccomp, no masks, no device rules, /sys writable.
    CHECK(s.process.capabilities() == all_known_capabilities());
    CHECK_FALSE(s.seccomp);
    CHECK(s.masked_paths.empty());
    CHECK_FALSE(s.has_device_rules);
    // --nice: the process's nice (and autogroup's), the group's cpu.weight.nice.
    CHECK(s.process.nice == 5);
    CHECK(s.resources.nice == 5);
    // --pin-cpu: round robin at minirt's priority on that CPU.
    CHECK(s.process.sched_policy == SCHED_RR);
    CHECK(s.process.sched_priority == oci::kPinnedRtPriority);
    CHECK(s.process.cpu_affinity == "1");
    bool propagated = false, tmp = false;
    for (const auto& m : s.mounts) {
        if (m.destination == "/sys") CHECK_FALSE(m.flags & MS_RDONLY);
        if (m.destination == "/mnt/shared") propagated = m.bind && m.recursive && m.propagation == (MS_SLAVE | MS_REC);
        if (m.destination == "/tmp") tmp = m.type == "tmpfs";
    }
    CHECK(propagated);
    CHECK(tmp);
}

TEST_CASE("bundle: without cgroup v2, /dev is nodev and holds the host's nodes", "[engine]") {
    ContainerConfig c = native_config();
    c.resources = {};
    oci::Spec s = round_trip(c, {false, "minirt", 1 << 20, {}});
    CHECK(s.cgroups_path.empty());
    CHECK_FALSE(s.has_device_rules);
    CHECK_FALSE(s.has_namespace("cgroup"));
    int binds = 0;
    for (const auto& m : s.mounts) {
        if (m.destination == "/dev") CHECK(m.flags & MS_NODEV);
        if (m.destination.starts_with("/dev/") && m.bind) ++binds;
    }
    CHECK(binds == 6);
    CHECK(s.process.rlimits.back().hard == 1 << 20);
}

TEST_CASE("bundle: --device and --device-cgroup-rule become linux.devices and allow rules", "[engine]") {
    ContainerConfig c = native_config();
    DeviceRequest d;
    d.host = "/dev/null";
    d.node = {"/dev/mynull", 'c', 1, 3, 0666, 0, 0};
    d.permissions = "rw";
    c.devices = {d};
    c.device_cgroup_rules = {"b 7:* rwm"};
    oci::Spec s = round_trip(c);
    REQUIRE(s.device_nodes.size() == 1);
    CHECK(s.device_nodes[0].path == "/dev/mynull");
    CHECK(s.device_nodes[0].major == 1);
    CHECK(s.device_nodes[0].file_mode == 0666);
    // Deny everything, then what was given, in order.
    REQUIRE(s.devices.size() == 3);
    CHECK_FALSE(s.devices[0].allow);
    CHECK((s.devices[1].allow && s.devices[1].type == 'c' && s.devices[1].major == 1 && s.devices[1].minor == 3));
    CHECK(s.devices[1].access == "rw");
    CHECK((s.devices[2].allow && s.devices[2].type == 'b' && s.devices[2].major == 7 && s.devices[2].minor == -1));
    // No device filter without cgroup v2: the nodes alone.
    oci::Spec v1 = round_trip(c, {false, "minirt", 1 << 20, {}});
    CHECK(v1.device_nodes.size() == 1);
    CHECK_FALSE(v1.has_device_rules);
    // The record keeps them.
    ContainerConfig back = config_from_json(to_json(c).dump(), "minirt.json");
    REQUIRE(back.devices.size() == 1);
    CHECK(back.devices[0].host == "/dev/null");
    CHECK(back.devices[0].node.path == "/dev/mynull");
    CHECK(back.devices[0].permissions == "rw");
    CHECK(back.device_cgroup_rules == c.device_cgroup_rules);
}

TEST_CASE("bundle: --privileged gives the host's devices, a --device at the same path first", "[engine]") {
    ContainerConfig c = native_config();
    c.security.privileged = true;
    DeviceRequest d;
    d.host = "/dev/zero";
    d.node = {"/dev/loop0", 'c', 1, 5, 0600, 0, 0};
    c.devices = {d};
    BundleHost host{true, "minirt", 1024, {{"/dev/loop0", 'b', 7, 0, 0660, 0, 6}, {"/dev/loop-control", 'c', 10, 237, 0660, 0, 6}}};
    oci::Spec s = round_trip(c, host);
    REQUIRE(s.device_nodes.size() == 2);
    CHECK((s.device_nodes[0].path == "/dev/loop0" && s.device_nodes[0].major == 1));
    CHECK(s.device_nodes[1].path == "/dev/loop-control");
    CHECK_FALSE(s.has_device_rules);
    // Not privileged: the host's /dev stays out.
    c.security.privileged = false;
    CHECK(round_trip(c, host).device_nodes.size() == 1);
}

TEST_CASE("bundle: a record's devices are held to the flags' rules", "[engine]") {
    ContainerConfig c = native_config();
    DeviceRequest d;
    d.host = "/dev/null";
    d.node = {"/proc/x", 'c', 1, 3, 0666, 0, 0};
    c.devices = {d};
    CHECK_THROWS_WITH(config_from_json(to_json(c).dump(), "m.json"),
                      Catch::Contains("devices: device path must not be under /proc or /sys"));
    c.devices.clear();
    c.device_cgroup_rules = {"x 1:3 r"};
    CHECK_THROWS_WITH(config_from_json(to_json(c).dump(), "m.json"), Catch::Contains("the type must be a, b or c"));
}

TEST_CASE("bundle: a memory limit without --mem-swap means no swap for any runtime", "[engine]") {
    ContainerConfig c = native_config();
    c.resources = {};
    c.resources.memory_max = 64 << 20;
    Paths paths{"/run/minirt", "/var/lib/minirt"};
    json spec = oci_spec_for(c, paths, {true, "minirt", 1024, {}});
    CHECK(spec["linux"]["resources"]["memory"]["swap"] == 64 << 20);  // runc reads it as memory.swap.max 0
    oci::Spec s = oci::parse_spec(spec.dump(), "/b");
    auto files = [](const Resources& r) {
        std::vector<std::pair<std::string, std::string>> out;
        for (const auto& w : cgroup_writes(r)) out.emplace_back(w.file, w.value);
        return out;
    };
    CHECK(files(s.resources) == files(c.resources));
    CHECK(files(s.resources).back() == std::pair<std::string, std::string>{"memory.swap.max", "0"});
}

TEST_CASE("protocol: attach packets keep their type; an unknown one is refused", "[protocol]") {
    int sv[2];
    REQUIRE(::socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) == 0);
    UniqueFd shim(sv[0]), client(sv[1]);
    REQUIRE(send_packet(shim.get(), AttachType::Output, "hello"));
    REQUIRE(send_packet(shim.get(), AttachType::Output, std::string(kMaxPacket + 10, 'x')));  // two packets
    AttachType type{};
    std::string payload;
    REQUIRE(recv_packet(client.get(), type, payload));
    CHECK(type == AttachType::Output);
    CHECK(payload == "hello");
    REQUIRE(recv_packet(client.get(), type, payload));
    CHECK(payload.size() == kMaxPacket);
    REQUIRE(recv_packet(client.get(), type, payload));
    CHECK(payload.size() == 10);
    REQUIRE(::send(client.get(), "zjunk", 5, 0) == 5);
    CHECK_FALSE(recv_packet(shim.get(), type, payload));
    client.reset();
    CHECK_FALSE(recv_packet(shim.get(), type, payload));
}
