// minirt oci create: everything a container needs is made here or in its
// init, and the init is left waiting on exec.fifo as a descendant of the
// caller (conmon and containerd's shim are subreapers and reap it). Any
// failure undoes all of it: no state, cgroup or process is left behind.
#include <fcntl.h>
#include <linux/sched.h>
#include <sched.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>

#include "cli/oci.hpp"
#include "common/error.hpp"
#include "common/file.hpp"
#include "common/parse.hpp"
#include "linux/cgroup.hpp"
#include "linux/device_filter.hpp"
#include "linux/process.hpp"
#include "linux/userns.hpp"
#include "oci/hooks.hpp"
#include "oci/init.hpp"
#include "oci/spec.hpp"
#include "oci/state.hpp"

namespace minirt::oci {

namespace {

// "error <code> <message>" from the init, or EOF: either way it is over.
[[noreturn]] void throw_init_failure(const std::string& line) {
    if (line.starts_with("error ")) {
        std::string rest = line.substr(6);
        auto space = rest.find(' ');
        int code = static_cast<int>(parse_int(rest.substr(0, space), "exit code", 1, 255));
        throw Error(space == std::string::npos ? "container init failed" : rest.substr(space + 1), code);
    }
    throw Error("the container's init died while it was being set up");
}

void check_extra_controllers(const fs::path& mount, const Spec& spec) {
    std::string available = read_file_if_exists(mount / "cgroup.controllers").value_or("");
    std::vector<std::string> have;
    std::istringstream in(available);
    for (std::string c; in >> c;) have.push_back(c);
    for (const auto& w : spec.extra_writes)
        if (!w.controller.empty() && std::find(have.begin(), have.end(), w.controller) == have.end())
            throw Error("config.json: " + w.field + " needs the cgroup v2 \"" + w.controller +
                        "\" controller, which this host's v2 hierarchy (" + mount.string() + ") does not have");
}

// Everything create made, undone in reverse unless commit() was called.
class Creation {
public:
    explicit Creation(StateDir dir) : dir_(std::move(dir)) {}
    Creation(const Creation&) = delete;
    Creation& operator=(const Creation&) = delete;
    ~Creation() {
        if (committed_) return;
        if (child_ > 0) {
            ::kill(child_, SIGKILL);
            while (::waitpid(child_, nullptr, 0) < 0 && errno == EINTR) {
            }
        }
        if (cgroup_) {
            try {
                cgroup_->remove(default_cgroup_);
            } catch (...) {
            }
        }
        try {
            dir_.remove();
        } catch (...) {
        }
    }
    void set_child(pid_t pid) { child_ = pid; }
    void set_cgroup(Cgroup cg, bool ours) {
        cgroup_ = std::move(cg);
        default_cgroup_ = ours;
    }
    void commit() { committed_ = true; }
    const StateDir& dir() const { return dir_; }

private:
    StateDir dir_;
    pid_t child_ = -1;
    std::optional<Cgroup> cgroup_;
    bool default_cgroup_ = false;
    bool committed_ = false;
};

// minirt's resource errors name its own flags; an engine's user wants the
// config.json field.
Error in_config_terms(const Error& e) {
    static const std::pair<const char*, const char*> names[] = {
        {"--mem-swap", "memory.swap"},       {"--mem", "memory.limit"},
        {"--cpus/--cpu", "cpu.quota"},       {"--cpu-weight", "cpu.shares"},
        {"--cpuset-cpus", "cpu.cpus"},       {"--io-read-bps/--io-write-bps", "blockIO.throttle*BpsDevice"},
        {"--io-read-bps", "blockIO.throttleReadBpsDevice"}, {"--io-write-bps", "blockIO.throttleWriteBpsDevice"},
        {"--pids-limit", "pids.limit"},
    };
    for (const auto& [flag, field] : names)
        if (e.message().starts_with(std::string(flag) + " ") || e.message().starts_with(std::string(flag) + ":"))
            return Error("config.json: linux.resources." + std::string(field) + e.message().substr(std::strlen(flag)));
    return e.wrap("config.json: linux.resources");
}

struct CgroupSetup {
    fs::path path;
    bool owned = false;
};

CgroupSetup setup_cgroup(const Spec& spec, const std::string& id, Creation& creation) {
    auto mount = find_cgroup2_mount();
    if (!mount) {
        if (!spec.resources.empty() || !spec.extra_writes.empty() || spec.has_device_rules)
            throw Error("config.json: linux.resources needs cgroup v2, and this host has no cgroup2 mount");
        return {};
    }
    try {
        check_controllers(spec.resources);
    } catch (const Error& e) {
        throw in_config_terms(e);
    }
    check_extra_controllers(*mount, spec);
    std::string rel = spec.cgroups_path.empty() ? "minirt-oci/" + id : spec.cgroups_path;
    while (!rel.empty() && rel.front() == '/') rel.erase(0, 1);
    if (rel.empty()) throw Error("config.json: linux.cgroupsPath must not be the root group");
    Cgroup cg(*mount / rel);
    CgroupSetup out{cg.path(), !cg.exists()};
    if (out.owned) {
        cg.create(spec.resources);
        creation.set_cgroup(cg, spec.cgroups_path.empty());
    } else if (cg.populated()) {
        throw Error("config.json: linux.cgroupsPath " + cg.path().string() + " already has processes in it");
    } else {
        enable_controllers(*mount, cg.path(), spec.resources);
    }
    try {
        apply_resources(cg.path(), spec.resources);
    } catch (const Error& e) {
        throw in_config_terms(e);
    }
    for (const auto& w : spec.extra_writes) {
        try {
            write_control_file(cg.path() / w.file, w.value);
        } catch (const Error& e) {
            throw e.wrap("config.json: " + w.field);
        }
    }
    if (spec.has_device_rules) {
        std::vector<DeviceAccessRule> rules = spec.devices;
        const auto& defaults = default_allowed_devices();
        rules.insert(rules.end(), defaults.begin(), defaults.end());
        attach_device_filter(cg.path().string(), rules);
    }
    return out;
}

// clone3 straight into the group (no cgroup.procs migration, see the shim);
// plain fork + cgroup.procs where clone3 is missing.
pid_t clone_init(bool new_pid_ns, const fs::path& cgroup) {
    UniqueFd dir;
    if (!cgroup.empty()) dir.reset(::open(cgroup.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    clone_args ca{};
    ca.flags = (new_pid_ns ? CLONE_NEWPID : 0) | (dir ? CLONE_INTO_CGROUP : 0);
    ca.exit_signal = SIGCHLD;
    ca.cgroup = dir ? static_cast<__u64>(dir.get()) : 0;  // open, so >= 0
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

int high_fd(int fd, int above) {
    int copy = ::fcntl(fd, F_DUPFD_CLOEXEC, above);
    if (copy < 0) throw_errno("dup");
    return copy;
}

}  // namespace

int cmd_create(const Globals& g, const std::vector<std::string>& args) {
    Flags f("create",
            {{{"bundle", "b"}, true},
             {{"pid-file"}, true},
             {{"console-socket"}, true},
             {{"no-pivot"}},
             {{"no-new-keyring"}},
             {{"preserve-fds"}, true}},
            args);
    f.expect(1, 1, "minirt oci create [--bundle DIR] [--pid-file FILE] [--console-socket SOCK] ID");
    const std::string id = f.positional()[0];
    validate_container_id(id);
    fs::path bundle = fs::absolute(f.value("bundle", ".")).lexically_normal();
    if (bundle.has_parent_path() && !bundle.has_filename()) bundle = bundle.parent_path();
    auto text = read_file_if_exists(bundle / "config.json");
    if (!text) throw Error("bundle " + bundle.string() + " has no config.json");
    Spec spec = parse_spec(*text, bundle);
    struct stat st{};
    if (::stat(spec.root.c_str(), &st) < 0 || !S_ISDIR(st.st_mode))
        throw Error("config.json: root.path " + spec.root.string() + " is not a directory");
    std::string console_path = f.value("console-socket");
    if (spec.process.terminal && console_path.empty())
        throw Error("config.json asks for a terminal (process.terminal): --console-socket is required");
    if (!spec.process.terminal && !console_path.empty())
        throw Error("--console-socket given, but config.json does not ask for a terminal (process.terminal)");
    int preserve = static_cast<int>(parse_int(f.value("preserve-fds", "0"), "--preserve-fds", 0, 1024));
    if (!spec.has_namespace("mount") && (!spec.mounts.empty() || spec.root_readonly))
        throw Error("config.json: mounts need a new mount namespace in linux.namespaces");

    StateDir dir(g.root, id);
    dir.create();
    Creation creation(dir);
    UniqueFd lock = dir.lock();
    write_file_atomic(dir.config_file(), *text, 0600, false);
    CgroupSetup cg = setup_cgroup(spec, id, creation);
    State s;
    s.id = id;
    s.bundle = bundle;
    s.rootfs = spec.root;
    s.created = format_rfc3339(now_ns());
    s.cgroup = cg.path;
    s.owns_cgroup = cg.owned;
    s.default_cgroup = spec.cgroups_path.empty();
    s.annotations = spec.annotations;
    // Written now with no PID: if this command is killed, `delete` still
    // knows which cgroup to kill and remove.
    dir.save(s);

    InitArgs a;
    a.spec = &spec;
    a.preserve_fds = preserve;
    a.no_pivot = f.has("no-pivot");
    int above = 3 + preserve;
    std::vector<UniqueFd> keep;
    auto keep_fd = [&](int fd) {
        keep.emplace_back(high_fd(fd, above));
        return keep.back().get();
    };
    UniqueFd userns;
    for (const auto& n : spec.namespaces) {
        if (n.path.empty()) continue;
        UniqueFd fd(::open(n.path.c_str(), O_RDONLY | O_CLOEXEC));
        if (!fd) throw_errno("config.json: linux.namespaces " + n.type + " path " + n.path);
        if (n.type == "pid") {
            // Only our children enter it: the init is cloned after this.
            if (::setns(fd.get(), CLONE_NEWPID) < 0) throw_errno("join pid namespace " + n.path);
        } else if (n.type == "user") {
            userns = std::move(fd);
        } else {
            a.join.emplace_back(namespace_flag(n.type), keep_fd(fd.get()));
        }
    }
    const Namespace* user = spec.find_namespace("user");
    if (user && user->path.empty()) userns = make_userns(spec.uid_mappings, spec.gid_mappings);
    if (userns) a.userns = keep_fd(userns.get());

    if (::mkfifo(dir.fifo().c_str(), 0600) < 0) throw_errno("mkfifo " + dir.fifo().string());
    UniqueFd fifo(::open(dir.fifo().c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC));
    if (!fifo) throw_errno("open " + dir.fifo().string());
    a.fifo = keep_fd(fifo.get());
    UniqueFd console;
    if (!console_path.empty()) {
        console = connect_console(console_path);
        a.console = keep_fd(console.get());
    }
    int sv[2];
    if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0) throw_errno("socketpair");
    UniqueFd sync_parent(sv[0]), sync_child(sv[1]);
    a.sync = keep_fd(sync_child.get());

    const Namespace* pidns = spec.find_namespace("pid");
    pid_t pid = clone_init(pidns && pidns->path.empty(), cg.path);
    if (pid == 0) {
        sync_parent.reset();
        container_init(a);
    }
    creation.set_child(pid);
    keep.clear();
    sync_child.reset();

    std::string line = read_line(sync_parent.get());
    if (line != "ns") throw_init_failure(line);
    s.pid = pid;
    s.pid_start = process_start_time(pid).value_or(0);
    std::string creating = state_json(s, Status::Creating).dump();
    run_hooks(spec.hooks.prestart, "prestart", creating);
    run_hooks(spec.hooks.create_runtime, "createRuntime", creating);
    write_all(sync_parent.get(), "go\n");
    line = read_line(sync_parent.get());
    if (line != "ready") throw_init_failure(line);
    dir.save(s);
    if (f.has("pid-file")) write_file_atomic(fs::absolute(f.value("pid-file")), std::to_string(pid), 0644, false);
    creation.commit();
    log_debug(g, "created " + id + ": init " + std::to_string(pid) + " waits on " + dir.fifo().string());
    return 0;
}

}  // namespace minirt::oci
