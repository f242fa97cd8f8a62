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

#include "cdi/cdi.hpp"
#include "cli/oci.hpp"
#include "common/error.hpp"
#include "common/file.hpp"
#include "common/parse.hpp"
#include "linux/cgroup.hpp"
#include "linux/device_filter.hpp"
#include "linux/process.hpp"
#include "linux/rootfs.hpp"
#include "linux/userns.hpp"
#include "oci/hooks.hpp"
#include "engine/launch.hpp"
#include "oci/spec.hpp"
#include "oci/state.hpp"

namespace minirt::oci {

namespace {

// Everything create made, undone in reverse unless commit() was called
// (the init itself is an engine::InitProcess: killed and reaped if dropped).
class Creation {
public:
    explicit Creation(StateDir dir) : dir_(std::move(dir)) {}
    Creation(const Creation&) = delete;
    Creation& operator=(const Creation&) = delete;
    ~Creation() {
        if (committed_) return;
        if (state_.mounts_before) unmount_container_mounts(state_);
        if (cgroup_ && cgroup_->owned) {
            try {
                cgroup_->group.teardown(cgroup_->remove_parent);
            } catch (...) {
            }
        }
        try {
            dir_.remove();
        } catch (...) {
        }
    }
    void set_cgroup(engine::ContainerCgroup cg) { cgroup_ = std::move(cg); }
    // Mounts made below its rootfs in our own mount namespace (no new one).
    void set_host_mounts(const State& s) { state_ = s; }
    void commit() { committed_ = true; }

private:
    StateDir dir_;
    State state_;
    std::optional<engine::ContainerCgroup> cgroup_;
    bool committed_ = false;
};

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
    int preserve = static_cast<int>(parse_int(f.value("preserve-fds", "0"), "--preserve-fds", 0, 1024));
    std::vector<int> vacant = reserve_preserved_fds(preserve);
    const std::string id = f.positional()[0];
    validate_container_id(id);
    fs::path bundle = fs::absolute(f.value("bundle", ".")).lexically_normal();
    if (bundle.has_parent_path() && !bundle.has_filename()) bundle = bundle.parent_path();
    auto text = read_file_if_exists(bundle / "config.json");
    if (!text) throw Error("bundle " + bundle.string() + " has no config.json");
    // CDI devices named by annotations (cdi.k8s.io/...): their edits go
    // into our copy of the spec, never into the engine's bundle. Only a
    // spec that mentions the prefix is read as JSON twice.
    if (text->find(cdi::kAnnotationPrefix) != std::string::npos) {
        nlohmann::json doc = with_context("config.json", [&] { return nlohmann::json::parse(*text); });
        std::vector<fs::path> dirs = g.cdi_spec_dir.empty() ? cdi::default_spec_dirs()
                                                            : std::vector<fs::path>{g.cdi_spec_dir};
        if (cdi::apply_annotated_devices(doc, dirs)) text = doc.dump() + "\n";
    }
    Spec spec = parse_spec(*text, bundle);
    check_bounding_set(spec.process, "config.json: process.capabilities");
    check_sysctl_namespaces(spec);
    check_apparmor(spec.process);
    struct stat st{};
    if (::stat(spec.root.c_str(), &st) < 0 || !S_ISDIR(st.st_mode))
        throw Error("config.json: root.path " + spec.root.string() + " is not a directory");
    std::string console_path = f.value("console-socket");
    if (spec.process.terminal && console_path.empty())
        throw Error("config.json asks for a terminal (process.terminal): --console-socket is required");
    if (!spec.process.terminal && !console_path.empty())
        throw Error("--console-socket given, but config.json does not ask for a terminal (process.terminal)");

    StateDir dir(g.root, id);
    dir.create();
    Creation creation(dir);
    UniqueFd lock = dir.lock();
    write_file_atomic(dir.config_file(), *text, 0600, false);
    std::optional<engine::ContainerCgroup> cg;
    try {
        cg = engine::setup_cgroup(spec, "minirt-oci/" + id, engine::Leftover::ReuseEmpty);
    } catch (const Error& e) {
        throw in_config_terms(e, "config.json: linux.resources.");
    }
    if (cg) creation.set_cgroup(*cg);
    fs::path cgroup = cg ? cg->group.path() : fs::path();
    State s;
    s.id = id;
    s.bundle = bundle;
    s.rootfs = spec.root;
    s.created = format_rfc3339(now_ns());
    s.cgroup = cgroup;
    s.owns_cgroup = cg && cg->owned;
    s.default_cgroup = spec.cgroups_path.empty();
    s.annotations = spec.annotations;
    if (!spec.has_namespace("mount") && !spec.mounts.empty()) {
        // Made in our namespace: delete must know which are the container's.
        fs::path root = fs::weakly_canonical(spec.root);
        if (root == "/")
            throw Error("config.json: root.path is the host's /: mounts without a mount namespace would cover the host's");
        std::vector<int> ids;
        for (const auto& m : mounts_below(root.string())) ids.push_back(m.id);
        s.mounts_before = ids;
        creation.set_host_mounts(s);
    }
    // Written now with no PID: if this command is killed, `delete` still
    // knows which cgroup to kill and remove.
    dir.save(s);

    engine::InitProcess::Params params;
    engine::InitOptions& a = params.init;
    a.spec = &spec;
    a.preserve_fds = preserve;
    a.vacant_fds = vacant;
    a.hook_state = state_json(s, Status::Creating).dump();
    a.no_pivot = f.has("no-pivot");
    params.cgroup = cgroup;
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

    engine::InitProcess init = engine::InitProcess::spawn(params);
    keep.clear();
    init.wait_namespaces();
    s.pid = init.pid();
    s.pid_start = process_start_time(init.pid()).value_or(0);
    std::string creating = state_json(s, Status::Creating).dump();
    run_hooks(spec.hooks.prestart, "prestart", creating);
    run_hooks(spec.hooks.create_runtime, "createRuntime", creating);
    if (init.go()) init.confine(spec, cgroup, SeccompCache::in_root(g.root));
    if (!init.wait_ready()) throw Error("the container's init died while it was being set up");
    dir.save(s);
    if (f.has("pid-file")) write_file_atomic(fs::absolute(f.value("pid-file")), std::to_string(s.pid), 0644, false);
    // The init waits on exec.fifo as our caller's child now (conmon and
    // containerd's shim are subreapers and reap it).
    init.child().release();
    creation.commit();
    log_debug(g, "created " + id + ": init " + std::to_string(s.pid) + " waits on " + dir.fifo().string());
    return 0;
}

}  // namespace minirt::oci
