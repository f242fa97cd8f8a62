#include "engine/launch.hpp"

#include <fcntl.h>
#include <linux/sched.h>
#include <sched.h>
#include <signal.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>

#include "common/file.hpp"
#include "common/protocol.hpp"
#include "linux/device_filter.hpp"
#include "linux/seccomp.hpp"
#include "linux/security.hpp"

namespace minirt::engine {

namespace {

// clone3 straight into the group: moving a task with cgroup.procs waits for
// an RCU grace period, ~10 ms of every start. Where clone3 is missing, a
// plain clone, and the child moves itself before anything else.
pid_t clone_into(bool new_pid_ns, const fs::path& cgroup) {
    UniqueFd dir;
    if (!cgroup.empty()) {
        dir.reset(::open(cgroup.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
        if (!dir) throw_errno("open cgroup " + cgroup.string());
    }
    clone_args ca{};
    ca.flags = (new_pid_ns ? CLONE_NEWPID : 0) | (dir ? CLONE_INTO_CGROUP : 0);
    ca.exit_signal = SIGCHLD;
    ca.cgroup = dir ? static_cast<__u64>(dir.get()) : 0;
    long pid = ::syscall(SYS_clone3, &ca, sizeof ca);
    if (pid >= 0) return static_cast<pid_t>(pid);
    if (errno != ENOSYS && errno != E2BIG && errno != EINVAL) throw_errno("clone the container's init");
    pid = ::syscall(SYS_clone, SIGCHLD | (new_pid_ns ? CLONE_NEWPID : 0), nullptr, nullptr, nullptr, nullptr);
    if (pid < 0) throw_errno("clone the container's init");
    if (pid == 0 && !cgroup.empty()) {
        int procs = ::open((cgroup / "cgroup.procs").c_str(), O_WRONLY | O_CLOEXEC);
        if (procs < 0 || ::write(procs, "0", 1) != 1) _exit(kExitMinirtError);
        ::close(procs);
    }
    return static_cast<pid_t>(pid);
}

}  // namespace

void check_controllers(const oci::Spec& spec) {
    std::vector<ControllerNeed> more;
    for (const auto& w : spec.extra_writes) more.push_back({w.controller, "config.json: " + w.field});
    // The device filter is a program on the group: cgroup v2 itself.
    if (spec.has_device_rules) more.push_back({"", "config.json: linux.resources.devices"});
    minirt::check_controllers(spec.resources, more);
}

void apply_limits(const fs::path& group, const oci::Spec& spec) {
    apply_resources(group, spec.resources);
    for (const auto& w : spec.extra_writes) {
        try {
            write_control_file(group / w.file, w.value);
        } catch (const Error& e) {
            throw e.wrap("config.json: " + w.field);
        }
    }
}

void update_limits(const fs::path& group, const oci::Spec& spec) {
    check_controllers(spec);
    auto mount = find_cgroup2_mount();
    if (!mount) throw Error("this host has no cgroup v2 hierarchy");
    enable_controllers(*mount, group, spec.resources);
    apply_limits(group, spec);
}

fs::path group_dir(const fs::path& mount, std::string rel) {
    while (!rel.empty() && rel.front() == '/') rel.erase(0, 1);
    if (rel.empty()) throw Error("config.json: linux.cgroupsPath must not be the root group");
    return mount / rel;
}

std::optional<ContainerCgroup> setup_cgroup(const oci::Spec& spec, const std::string& default_rel, Leftover leftover) {
    check_controllers(spec);
    auto mount = find_cgroup2_mount();
    if (!mount) return std::nullopt;
    fs::path dir = group_dir(*mount, spec.cgroups_path.empty() ? default_rel : spec.cgroups_path);
    ContainerCgroup cg{Cgroup(dir), true, leftover == Leftover::Replace || spec.cgroups_path.empty()};
    if (leftover == Leftover::Replace) {
        cg.group.teardown(false);  // a leftover of an earlier run of this container
    } else if (cg.group.exists()) {
        if (cg.group.populated())
            throw Error("config.json: linux.cgroupsPath " + cg.group.path().string() + " already has processes in it");
        cg.owned = false;
    }
    if (cg.owned) cg.group.create(spec.resources);
    else enable_controllers(*mount, cg.group.path(), spec.resources);
    try {
        apply_limits(cg.group.path(), spec);
    } catch (...) {
        if (cg.owned) {
            try {
                cg.group.teardown(cg.remove_parent);
            } catch (const Error&) {
                // The limits' error is the one to report.
            }
        }
        throw;
    }
    return cg;
}

InitProcess InitProcess::spawn(const Params& p) {
    auto [parent_end, child_end] = message_socketpair();
    UniqueFd ours(parent_end), theirs(child_end);
    const oci::Namespace* pidns = p.init.spec->find_namespace("pid");
    pid_t pid;
    if (p.pidns >= 0) {
        // Only children enter a PID namespace: ours change for the clone,
        // and change back (to our own, always allowed) for what we fork later.
        UniqueFd own(::open("/proc/self/ns/pid", O_RDONLY | O_CLOEXEC));
        if (!own) throw_errno("open /proc/self/ns/pid");
        if (::setns(p.pidns, CLONE_NEWPID) < 0) throw_errno("join the PID namespace");
        try {
            pid = clone_into(false, p.cgroup);
        } catch (...) {
            ::setns(own.get(), CLONE_NEWPID);
            throw;
        }
        if (pid != 0 && ::setns(own.get(), CLONE_NEWPID) < 0) throw_errno("return to our PID namespace");
    } else {
        pid = clone_into(pidns && pidns->path.empty(), p.cgroup);
    }
    if (pid == 0) {
        // Only the parent may hold its end: EOF must mean the parent is gone.
        ::close(ours.release());
        for (int fd : p.close_in_child)
            if (fd >= 0) ::close(fd);
        InitOptions o = p.init;
        o.sync = theirs.release();
        container_init(o);
    }
    return InitProcess(Child(pid), std::move(ours));
}

std::optional<Message> InitProcess::next() {
    for (;;) {
        auto m = receive_message(sync_.get());
        // Not waited for by a parent with nothing to do before go.
        if (m && m->type == MessageType::NamespacesReady && !ns_seen_) {
            ns_seen_ = true;
            continue;
        }
        return m;
    }
}

namespace {

[[noreturn]] void unexpected(const std::optional<Message>& m, MessageType want) {
    if (!m) throw Error("the container's init died while it was being set up");
    if (m->type == MessageType::Failed) throw InitFailure(m->payload, m->code);
    throw Error(std::string("the container's init said \"") + to_string(m->type) + "\" where \"" + to_string(want) +
                "\" was due");
}

}  // namespace

void InitProcess::wait_namespaces() {
    if (ns_seen_) return;
    auto m = receive_message(sync_.get());
    if (!m || m->type != MessageType::NamespacesReady) unexpected(m, MessageType::NamespacesReady);
    ns_seen_ = true;
}

bool InitProcess::go() {
    if (send_message(sync_.get(), Message::of(MessageType::Go))) return true;
    if (errno != EPIPE && errno != ECONNRESET) throw_errno("release the container's init");
    return false;
}

void InitProcess::confine(const oci::Spec& spec, const fs::path& cgroup, const SeccompCache& seccomp) {
    // While the init mounts: the device filter, and the seccomp program
    // (cached; compiling one is most of a millisecond of libseccomp's).
    // The init's own mknods in /dev are allowed anyway.
    if (spec.has_device_rules && !cgroup.empty()) {
        std::vector<DeviceAccessRule> rules = spec.devices;
        const auto& defaults = default_allowed_devices();
        rules.insert(rules.end(), defaults.begin(), defaults.end());
        attach_device_filter(cgroup.string(), rules);
    }
    SeccompProgram program;
    if (spec.seccomp)
        program = with_context("config.json: linux.seccomp",
                               [&] { return seccomp.program(*spec.seccomp, spec.process.capabilities()); });
    Message m = Message::of(MessageType::Seccomp);
    m.payload.assign(reinterpret_cast<const char*>(program.data()), program.size() * sizeof(sock_filter));
    // EPIPE: the init failed already; wait_ready() reads why.
    if (!send_message(sync_.get(), m) && errno != EPIPE && errno != ECONNRESET)
        throw_errno("seccomp: hand the filter to the container");
}

bool InitProcess::wait_ready() {
    auto m = next();
    if (!m) return false;
    if (m->type != MessageType::Ready) unexpected(m, MessageType::Ready);
    return true;
}

void InitProcess::wait_exec() {
    auto m = next();
    if (m) unexpected(m, MessageType::Ready);
    sync_.reset();
}

}  // namespace minirt::engine
