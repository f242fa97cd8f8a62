#include "shim/shim.hpp"

#include <fcntl.h>
#include <malloc.h>
#include <signal.h>
#include <poll.h>
#include <sched.h>
#include <sys/epoll.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <linux/magic.h>
#include <linux/openat2.h>
#include <sys/timerfd.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <cstring>
#include <iterator>
#include <tuple>

#include <nlohmann/json.hpp>

#include "common/error.hpp"
#include "common/file.hpp"
#include "common/parse.hpp"
#include "common/protocol.hpp"
#include "engine/health_check.hpp"
#include "engine/launch.hpp"
#include "engine/network.hpp"
#include "engine/network_files.hpp"
#include "engine/network_handoff.hpp"
#include "linux/cgroup.hpp"
#include "linux/fd_passing.hpp"
#include "linux/namespaces.hpp"
#include "linux/process.hpp"
#include "linux/rootfs.hpp"
#include "linux/userns.hpp"
#include "oci/hooks.hpp"
#include "oci/spec.hpp"
#include "shim/attach_server.hpp"
#include "shim/exit_record.hpp"
#include "state/events.hpp"
#include "state/health.hpp"
#include "state/lock.hpp"
#include "state/log.hpp"
#include "state/volumes.hpp"
#include "shim/log_pump.hpp"
#include "shim/monitor_watch.hpp"
#include "engine/trace_output.hpp"
#include "linux/trace_bpf.hpp"

namespace minirt {

namespace {

// How long the shim keeps draining output after init died, for processes
// that escaped the PID namespace but still hold the pipes.
constexpr int kDrainAfterExitMs = 2000;
// Bigger pipes: a chatty container blocks less often and the shim wakes
// once per read of kPumpChunk rather than once per 64 KiB.
constexpr int kPipeSize = static_cast<int>(kPumpChunk);
// How long an exited container's output waits for the terminal client
// that `run -t` is about to connect (it is normally there at once).
// Below the 15 s that stop and kill give a shim to finish.
constexpr int kAwaitClientMs = 10000;

// A container whose namespaces another joins: its init, while it runs.
struct PeerProcess {
    UniqueFd pidfd;
    std::string proc;  // /proc/PID
};

PeerProcess peer_process(const Store& store, const std::string& what, const std::string& peer) {
    if (!store.exists(peer)) throw Error(what + ": that container no longer exists");
    auto st = store.load_state(peer);
    UniqueFd pidfd = st && st->pid > 0 ? open_pidfd(st->pid, st->pid_start) : UniqueFd();
    if (!pidfd) throw Error(what + ": that container is not running");
    return {std::move(pidfd), "/proc/" + std::to_string(st->pid)};
}

// The shim of one container: it starts the init (through engine/), runs
// the loop that pumps output (LogPump), serves attach clients
// (AttachServer), watches for the memory monitor's events (MonitorWatch)
// and reaps, and at the end records the exit (ShimRecords) and tears down.
class Shim {
public:
    explicit Shim(const ShimArgs& args)
        : args_(args), store_(*args.store), netns_sock_(args.netns_fd), monitor_(*args.store, args.id),
          records_(*args.store, args.id) {}
    int run();

private:
    // The start.
    void prepare();
    void begin_bridge_networks();
    void begin_own_bridge_networks();
    void take_bridge_networks();
    void receive_network_namespace();
    void prepare_network();
    UniqueFd peer_namespace(const char* flag, const std::string& peer, int type);
    void open_peer_namespaces();
    void share_peer_shm(const std::string& peer);
    void spawn_init();
    void hold_mount_namespace();
    bool wait_for_exec(const ContainerState& loaded);  // true once the command is running
    void release_setup_memory();
    // Health checks (--health-cmd): a timer, and a child of ours per check.
    void start_health_checks(const ContainerState& running);
    void spawn_health_runner();
    [[noreturn]] void run_health_check(const sigset_t& blocked) noexcept;
    void restart_unhealthy();
    void stop_health_checks() noexcept;
    // The loop.
    void event_loop();
    void reap();
    // The end.
    int finish();  // the container's exit code
    void journal_exit(int code, bool oom) noexcept;
    void follow_rename() noexcept;
    std::string hook_state(const char* status) const;
    void run_hooks_warning(const std::vector<oci::Hook>& hooks, const char* stage, const char* status) noexcept;
    void record_failed_restart(const Error& e) noexcept;
    void restart_after_backoff();
    bool sleep_unless_called_off(int ms);
    void exec_restarted_shim(int lock_fd, int delay_ms) noexcept;
    void remove_container();
    void remove_cgroup() noexcept;
    void teardown_network() noexcept;
    void release_stdio() noexcept;
    void report(const Message& m);
    void start_trace();
    void finish_trace() noexcept;
    void stop_trace() noexcept;
    void register_with_monitor() { monitor_.add(child_, config_, *log_); }

    ShimArgs args_;
    const Store& store_;
    ContainerConfig config_;  // minirt.json: name, log, monitor limits, -i/-t, --rm
    oci::Spec spec_;          // config.json: what the container is
    std::vector<oci::Hook> poststop_;  // its poststop hooks, taken out of spec_ (which is let go)
    std::optional<engine::InitProcess> init_;  // until the command runs
    UniqueFd userns_;
    std::optional<Cgroup> cgroup_;
    uint64_t oom_kills_before_ = 0;
    std::unique_ptr<LogWriter> log_;
    std::optional<LogPump> pump_;
    Pipe out_, err_;
    Pipe stdin_;        // detached -i without -t (the write end goes to attach_)
    UniqueFd devnull_;  // the init's stdin without -i
    // The CLI's NetnsMaker socket (fd 5), and the namespace read from it.
    UniqueFd netns_sock_, netns_;
    // --pid/--ipc/--uts container:ID: that container's namespaces, joined
    // by the init (the PID one is where it is born).
    UniqueFd peer_pidns_;
    std::vector<std::pair<int, UniqueFd>> peer_ns_;
    UniqueFd peer_shm_;  // --ipc container:ID: its /dev/shm
    // Bridge networks: set up by netavark from prepare() on, torn down
    // before the exit is recorded (after it is reported, with --rm).
    std::optional<engine::ContainerNetwork> network_;
    bool network_from_cli_ = false;  // set up by the CLI's NetnsMaker
    UniqueFd sigfd_;
    pid_t child_ = -1;
    bool child_done_ = false;
    int wait_status_ = 0;
    // The CLI's lock on the container, shared with us over the spawn: it covers
    // everything up to the Started/Failed report. Taking the lock anew
    // before then would deadlock against the CLI waiting for that report.
    FileLock startup_lock_;
    UniqueFd alive_mark_;  // see hold_shim_mark()
    Message failure_report_;
    MonitorWatch monitor_;
    // run --trace FILE: attached to the cgroup before the init is born,
    // read in the loop, drained and detached once the container is over.
    UniqueFd trace_out_;
    std::optional<trace::Writer> trace_writer_;
    std::unique_ptr<trace::Session> trace_;
    ShimRecords records_;
    std::optional<AttachServer> attach_;       // -t, or -i without the CLI's stdin
    UniqueFd console_parent_, console_child_;  // socketpair: init → shim pty master
    UniqueFd master_;                          // the container's pty master
    UniqueFd mount_ns_;  // the container's, held until its exit is reported
    bool drop_pages_ = false;
    int64_t started_ms_ = 0;  // monotonic: how long the run lasted decides the backoff
    bool restart_ = false;  // the exit is recorded as restarting (--restart)
    UniqueFd health_timer_;
    pid_t health_runner_ = -1;  // the check under way, if one is
    engine::HealthTarget health_target_;
    // --health-on-failure=restart asked for it: started again whatever the
    // restart policy says.
    bool force_restart_ = false;
};

void Shim::report(const Message& m) {
    if (args_.report_fd >= 0 && !send_message(args_.report_fd, m)) {
        ::close(args_.report_fd);  // the CLI is gone; carry on without it
        args_.report_fd = -1;
    }
}

void Shim::prepare() {
    config_ = store_.load_config(args_.id);
    begin_bridge_networks();
    const Paths& p = store_.paths();
    log_ = std::make_unique<LogWriter>(p.log_file(args_.id), config_.log_max_size);
    records_.set_log(log_.get());
    pump_.emplace(*log_, args_.attached);
    fs::path bundle = p.container_dir(args_.id);
    auto text = read_file_if_exists(p.oci_config_file(args_.id));
    if (!text) throw Error("container " + args_.id.substr(0, 12) + " has no config.json");
    spec_ = oci::parse_spec(*text, bundle);
    // The only part of the spec the exit needs (spec_ is let go once the
    // command runs).
    poststop_ = std::move(spec_.hooks.poststop);
    // The CLI read image.json when it made the spec; all the shim needs of
    // the image is its rootfs (an image in use cannot be removed).
    if (spec_.overlay)
        for (const auto& lower : spec_.overlay->lowers())
            if (::access(lower.c_str(), F_OK) < 0) throw Error("no such image \"" + config_.image + "\" (see `minirt images`)");
    const oci::Namespace* user = spec_.find_namespace("user");
    if (user && user->path.empty()) {
        if (spec_.overlay) {
            // The mapped root must own the upper layer's top (the
            // container's "/"), or it could not create anything there.
            uid_t root_uid = host_id_for(spec_.uid_mappings, 0).value_or(0);
            gid_t root_gid = host_id_for(spec_.gid_mappings, 0).value_or(0);
            for (const auto& dir : {spec_.overlay->upper, spec_.overlay->work})
                if (::chown(dir.c_str(), root_uid, root_gid) < 0) throw_errno("chown " + dir + " to the container's root");
        }
        userns_ = make_userns(spec_.uid_mappings, spec_.gid_mappings);
    }

    out_ = make_pipe();
    err_ = make_pipe();
    // Bigger pipes: a chatty container blocks less often and the shim wakes
    // once per megabyte rather than once per 64 KiB (best effort: the
    // kernel caps it at /proc/sys/fs/pipe-max-size).
    ::fcntl(out_.write.get(), F_SETPIPE_SZ, kPipeSize);
    ::fcntl(err_.write.get(), F_SETPIPE_SZ, kPipeSize);
    if (spec_.process.terminal) {
        int sv[2];
        if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0) throw_errno("socketpair");
        console_parent_.reset(sv[0]);
        console_child_.reset(sv[1]);
    }
    if (config_.interactive && !config_.tty && !args_.pass_stdin) stdin_ = make_pipe();
    if (!config_.interactive && !args_.pass_stdin) {
        devnull_.reset(::open("/dev/null", O_RDONLY | O_CLOEXEC));
        if (!devnull_) throw_errno("open /dev/null");
    }
    if (config_.tty || (config_.interactive && !args_.pass_stdin))
        attach_.emplace(p.state_dir(args_.id) / "attach.sock");
    if (attach_) pump_->set_attach(&*attach_);

    // An exit record an earlier run left under --storage (a full --root)
    // says nothing about this one.
    ::unlink(p.exit_fallback(args_.id).c_str());
    if (auto cg = engine::setup_cgroup(spec_, cgroup_parent_name() + "/" + args_.id, engine::Leftover::Replace)) {
        cgroup_ = cg->group;
        oom_kills_before_ = cgroup_->read_key("memory.events", "oom_kill").value_or(0);
    }
    if (!config_.trace_file.empty()) start_trace();
    prepare_network();
    open_peer_namespaces();
}

void Shim::start_trace() {
    if (!cgroup_) throw Error(ENOTSUP, "--trace needs the container's cgroup v2 group, and this host has no cgroup2 mount");
    // Not through a symlink (the file may sit where a container writes),
    // and 0600: argv and paths may be secrets.
    trace_out_.reset(::open(config_.trace_file.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC | O_NOFOLLOW, 0600));
    if (!trace_out_) throw_errno("open the --trace file " + config_.trace_file);
    trace::Who who{args_.id, config_.name};
    trace_writer_.emplace(trace_out_.get(), trace::parse_format(config_.trace_format),
                          [who](uint64_t) { return std::optional(who); });
    trace_ = std::make_unique<trace::Session>(trace::parse_events(config_.trace_events),
                                              [this](const mt_event& e) { trace_writer_->write(e); });
    trace_->add(cgroup_->path());
    trace_writer_->header();
    trace_writer_->flush();
}

// The container's last events (its processes' exits, after the cgroup's
// kill) are in the ring once the group is empty.
void Shim::finish_trace() noexcept {
    if (!trace_) return;
    try {
        trace_->consume();
        if (uint64_t dropped = trace_->dropped())
            trace_writer_->note(std::to_string(dropped) + " events dropped (the ring buffer was full)");
        trace_writer_->flush();
    } catch (const std::exception& e) {
        if (log_) log_->note(std::string("minirt: --trace: ") + e.what());
    }
    stop_trace();
}

// Detaches the programs (with the session's fds) and closes the file.
void Shim::stop_trace() noexcept {
    trace_.reset();
    trace_writer_.reset();
    trace_out_.reset();
}

// Bridge networks: netavark's setup begins first thing, so that it runs
// while the rest of the start does (the spec, the cgroup, the init and
// its root); the command waits for it (spawn_init).
void Shim::begin_bridge_networks() {
    if (config_.network != "bridge") return;
    receive_network_namespace();
    // The CLI's thread goes on to set it up: its word comes later
    // (take_bridge_networks), while we build the rest meanwhile.
    if (netns_sock_) return;
    begin_own_bridge_networks();
}

void Shim::begin_own_bridge_networks() {
    // Owned by the host's user namespace even under --userns, as podman's:
    // netavark configures it from outside.
    if (!netns_) netns_ = new_network_namespace();
    network_.emplace(engine::ContainerNetwork::begin(store_.paths(), config_, netns_.get()));
}

// The CLI's thread has written the record and the /etc files (or failed,
// or died: EOF, and we set it up ourselves).
void Shim::take_bridge_networks() {
    if (!netns_sock_ || network_) return;
    if (engine::receive_bridge(netns_sock_.get())) {
        // Ours to tear down from now on (from the record); the ports come
        // when netavark is done. If the thread is gone it cannot hear us,
        // and the setup packet will not come either: the start fails then.
        network_from_cli_ = true;
        network_.emplace(engine::ContainerNetwork::adopt(store_.paths(), args_.id));
        engine::acknowledge_adoption(netns_sock_.get());
        return;
    }
    netns_sock_.reset();
    begin_own_bridge_networks();
}

// The CLI's NetnsMaker socket brings the namespace it made (EOF: none, and
// we make our own); for a bridge container the setup follows on it
// (network_handoff.hpp).
void Shim::receive_network_namespace() {
    if (!netns_sock_ || netns_) return;
    netns_ = engine::receive_namespace(netns_sock_.get());
    if (!netns_ || config_.network != "bridge") netns_sock_.reset();
}

// The namespace the init joins (a bridge network's is there already), and
// the /etc files.
void Shim::prepare_network() {
    const oci::Namespace* net = spec_.find_namespace("network");
    const std::string& mode = config_.network;
    receive_network_namespace();
    if (mode == "bridge") take_bridge_networks();
    if (mode.starts_with("container:")) {
        netns_ = peer_namespace("network", mode.substr(10), CLONE_NEWNET);
    } else if (mode.starts_with("ns:")) {
        netns_ = open_network_namespace(mode.substr(3), "--network " + mode);
    } else if (mode != "bridge" && (!net || !net->path.empty() || userns_)) {
        // Host, or a spec of its own; under --userns the init makes one
        // inside it (the CLI decided as we would; should it ever not, the spec wins).
        netns_.reset();
    }
    // The CLI's thread wrote them already, under the networks lock.
    if (network_from_cli_) return;
    engine::write_network_files(store_.paths().state_dir(args_.id), config_,
                                network_ ? network_->addresses() : std::vector<engine::NetworkAddress>{},
                                network_ ? network_->peer_hosts() : std::vector<std::string>{});
}

// --network/--pid/--ipc/--uts container:ID: that container's namespace,
// while it runs.
UniqueFd Shim::peer_namespace(const char* flag, const std::string& peer, int type) {
    const char* file = type == CLONE_NEWNET ? "net" : type == CLONE_NEWPID ? "pid" : type == CLONE_NEWIPC ? "ipc" : "uts";
    std::string what = std::string("--") + flag + " container:" + peer.substr(0, 12);
    PeerProcess p = peer_process(store_, what, peer);
    UniqueFd ns = open_namespace(p.proc + "/ns/" + file, type, what);
    if (!signal_pidfd(p.pidfd.get(), 0)) throw Error(what + ": that container is not running");
    return ns;
}

void Shim::open_peer_namespaces() {
    peer_ns_.clear();
    if (config_.pid_mode.starts_with("container:"))
        peer_pidns_ = peer_namespace("pid", config_.pid_mode.substr(10), CLONE_NEWPID);
    for (const auto& [flag, mode, type] : {std::tuple{"ipc", &config_.ipc_mode, CLONE_NEWIPC},
                                           std::tuple{"uts", &config_.uts_mode, CLONE_NEWUTS}})
        if (mode->starts_with("container:")) peer_ns_.emplace_back(type, peer_namespace(flag, mode->substr(10), type));
    if (config_.ipc_mode.starts_with("container:")) share_peer_shm(config_.ipc_mode.substr(10));
}

// POSIX shared memory lives in /dev/shm, not in the IPC namespace: the
// peer's tmpfs is bound there instead of one of our own (podman's
// --ipc container:). A mount cannot be bound from another mount
// namespace, but a detached copy of it, made in there, can be moved in.
void Shim::share_peer_shm(const std::string& peer) {
    std::string what = "--ipc container:" + peer.substr(0, 12);
    PeerProcess p = peer_process(store_, what, peer);
    UniqueFd theirs = open_namespace(p.proc + "/ns/mnt", CLONE_NEWNS, what);
    UniqueFd ours(::open("/proc/self/ns/mnt", O_RDONLY | O_CLOEXEC));
    if (!ours) throw_errno("open /proc/self/ns/mnt");
    if (::setns(theirs.get(), CLONE_NEWNS) < 0) throw_errno(what + ": enter its mount namespace");
    // Resolved from its root with no symlink followed: a container's
    // (above all a magic link of /proc, which we, host root, may follow)
    // could otherwise lead it to the host's. It must be a mount of its own.
    UniqueFd at = open_resolved(AT_FDCWD, "/dev/shm", O_PATH | O_DIRECTORY | O_NOFOLLOW, RESOLVE_NO_SYMLINKS);
    struct statx sx{};
    if (at && ::statx(at.get(), "", AT_EMPTY_PATH, 0, &sx) == 0 && (sx.stx_attributes_mask & STATX_ATTR_MOUNT_ROOT) &&
        (sx.stx_attributes & STATX_ATTR_MOUNT_ROOT))
        peer_shm_.reset(static_cast<int>(::open_tree(at.get(), "", AT_EMPTY_PATH | OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC)));
    else if (at)
        errno = EINVAL;  // not a mount of its own
    int err = errno;
    // Nothing can go on in a container's mount namespace.
    if (::setns(ours.get(), CLONE_NEWNS) < 0) {
        std::perror("minirt-shim: return to our mount namespace");
        std::_Exit(kExitMinirtError);
    }
    if (!peer_shm_) {
        errno = err;
        throw_errno(what + ": copy its /dev/shm");
    }
    struct statfs fs{};
    if (::fstatfs(peer_shm_.get(), &fs) < 0 || fs.f_type != TMPFS_MAGIC)
        throw Error(what + ": that container has no /dev/shm of its own to share");
    if (!signal_pidfd(p.pidfd.get(), 0)) throw Error(what + ": that container is not running");
    for (auto& m : spec_.mounts)
        if (m.destination == "/dev/shm") {
            m.type = "bind";
            m.bind = true;
            m.source = "the /dev/shm of container " + peer.substr(0, 12);
            m.data.clear();
            m.tree_fd = peer_shm_.get();
        }
}

void Shim::spawn_init() {
    engine::InitProcess::Params params;
    engine::InitOptions& o = params.init;
    o.spec = &spec_;
    o.stdin_fd = args_.pass_stdin ? 0 : stdin_.read ? stdin_.read.get() : devnull_.get();
    o.stdout_fd = out_.write.get();
    o.stderr_fd = err_.write.get();
    o.console = console_child_.get();
    o.userns = userns_.get();
    o.netns = netns_.get();
    for (const auto& [type, fd] : peer_ns_) o.join.emplace_back(type, fd.get());
    // A CDI device's hooks (the only ones a native container has) are
    // given the runtime-spec state, as under an engine.
    if (!spec_.hooks.create_container.empty() || !spec_.hooks.start_container.empty())
        o.hook_state = hook_state("creating");
    params.pidns = peer_pidns_.get();
    o.die_with_parent = true;
    params.cgroup = cgroup_ ? cgroup_->path() : fs::path();
    // Ours alone: the shim's sign of life (alive_mark_) must die with the
    // shim, and the init must see EOF on the terminal socket if we go.
    params.close_in_child = {alive_mark_.get(), console_parent_.get(), stdin_.write.get(), out_.read.get(),
                             err_.read.get(), sigfd_.get(), attach_ ? attach_->listener() : -1};
    // Born PID 1 of a new namespace, directly inside its cgroup.
    init_ = engine::InitProcess::spawn(params);
    child_ = init_->pid();
    netns_.reset();
    peer_pidns_.reset();
    peer_ns_.clear();
    peer_shm_.reset();
    console_child_.reset();
    stdin_.read.reset();
    if (attach_) attach_->set_stdin(std::move(stdin_.write));
    devnull_.reset();
    userns_.reset();
    if (args_.pass_stdin) {
        // The container owns the CLI's stdin now; we must not read it.
        int devnull = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
        ::dup2(devnull, 0);
        ::close(devnull);
    }
    out_.write.reset();
    err_.write.reset();
    // Limits must hold before the command runs; a container without any is
    // only watched, and is registered once the init is on its way.
    bool limited = memory_limited(config_);
    if (limited) register_with_monitor();
    // prestart and createRuntime hooks (a CDI device's): once the
    // namespaces exist, before the init builds the root; a failing one
    // fails the start (the init is killed with init_).
    if (!spec_.hooks.prestart.empty() || !spec_.hooks.create_runtime.empty()) {
        init_->wait_namespaces();
        oci::run_hooks(spec_.hooks.prestart, "prestart", hook_state("creating"));
        oci::run_hooks(spec_.hooks.create_runtime, "createRuntime", hook_state("creating"));
    }
    // False: the init failed already (a setns, say); wait_for_exec() reads
    // why, which is what the CLI must hear.
    if (init_->go()) {
        // The command must not run before its network is there.
        if (network_from_cli_) {
            engine::receive_setup(netns_sock_.get(), *network_);
            netns_sock_.reset();
        } else if (network_) {
            network_->finish_setup();
        }
        init_->confine(spec_, cgroup_ ? cgroup_->path() : fs::path(), SeccompCache::in_root(store_.paths().root));
    }
    if (!limited) register_with_monitor();
    // With -t, init sends its pty master before exec (or dies trying: EOF).
    if (console_parent_) {
        master_ = recv_fd(console_parent_.get());
        if (attach_ && master_) attach_->set_terminal(master_.get());
        console_parent_.reset();
    }
    hold_mount_namespace();
}

// When the init exits, the kernel tears its mount namespace down inside that
// exit (unmounting the overlay, /proc, /sys, /dev and waiting for an RCU
// grace period): milliseconds, and more on a busy host, before we even hear
// of the exit. Holding a reference to the namespace moves that work to when
// we close it, after the exit is reported (see finish()). The init unshares
// before it reads the go, so it is normally done by now; we wait for it a
// little (the init is busy with its mounts meanwhile), and if it is late we
// hold nothing and the kernel does it as before.
void Shim::hold_mount_namespace() {
    struct stat ours{};
    if (::stat("/proc/self/ns/mnt", &ours) < 0) return;
    std::string path = "/proc/" + std::to_string(child_) + "/ns/mnt";
    for (int attempt = 0; attempt < 50; ++attempt) {
        UniqueFd ns(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
        struct stat theirs{};
        if (!ns || ::fstat(ns.get(), &theirs) < 0) return;  // gone already
        if (theirs.st_ino != ours.st_ino || theirs.st_dev != ours.st_dev) {
            mount_ns_ = std::move(ns);
            return;
        }
        ::usleep(100);
    }
}

bool Shim::wait_for_exec(const ContainerState& loaded) {
    try {
        // An init killed during its setup (the memory monitor, `kill`, the
        // OOM killer) says nothing: the container started and was killed,
        // and its exit is recorded as any other.
        if (init_->wait_ready()) init_->wait_exec();
    } catch (const Error& e) {
        // Its own report (an InitFailure: 125, 126 or 127), or a message
        // out of turn.
        wait_status_ = init_->child().wait();
        child_done_ = true;
        init_.reset();
        records_.failed_start(loaded, e.exit_code(), e.message());
        log_->note("minirt: " + e.message());
        failure_report_ = Message::failed(e.exit_code(), e.message());
        return false;
    }
    // The command runs: from here the event loop reaps it. One that has
    // already exited is reaped now and its status kept: its SIGCHLD is no
    // longer news to the event loop.
    init_->child().release();
    init_.reset();
    run_hooks_warning(spec_.hooks.poststart, "poststart", "running");
    int status;
    if (::waitpid(child_, &status, WNOHANG) == child_) {
        wait_status_ = status;
        child_done_ = true;
    }
    return true;
}

// What an idle shim runs after drop_setup_pages (the drop's own tail and
// the event loop up to its wait) shares one section, so that it faults
// back one fault-around window (64 KiB) of our text and not one per
// place the linker happened to put each piece (fig. 4's idle RSS).
//
// Gives back the stack pages below the caller's frame (what the setup's
// deeper calls left there is dead; a page touched again comes back zeroed).
// Its own frame is a few words; the page holding it and the next 256 bytes
// down is kept, so the return into the caller finds its frame intact.
[[gnu::noinline, gnu::section(".text.minirt_idle")]] void drop_stack_below_caller(unsigned long stack_start, unsigned long page) noexcept {
    auto here = reinterpret_cast<unsigned long>(__builtin_frame_address(0));
    unsigned long keep_from = (here - 256) & ~(page - 1);
    if (keep_from > stack_start) ::madvise(reinterpret_cast<void*>(stack_start), keep_from - stack_start, MADV_DONTNEED);
}

// Unmaps the pages the setup used and the idle loop does not need:
// - of our own executable, the mappings that were never written (no
//   anonymous, copy-on-write pages: text, read-only data), so nothing is
//   lost: a page touched again is faulted back in from the page cache,
//   which every shim shares;
// - the stack below this function's frame.
// The ranges are collected first and dropped last, right before the loop
// waits, so that little code runs (and faults its pages back) after the drop.
[[gnu::noinline, gnu::section(".text.minirt_idle")]] void drop_setup_pages() noexcept {
    struct Range {
        unsigned long start, end;
    };
    Range ranges[16];
    size_t count = 0;
    FILE* smaps = std::fopen("/proc/self/smaps", "re");
    if (!smaps) return;
    char line[512];
    Range current{};
    Range stack{};
    bool candidate = false;
    while (std::fgets(line, sizeof line, smaps)) {
        char perms[8] = "";
        char path[256] = "";
        unsigned long from = 0, to = 0, anon = 0;
        if (std::sscanf(line, "%lx-%lx %7s %*s %*s %*s %255s", &from, &to, perms, path) >= 3) {
            current = {from, to};
            candidate = path[0] == '/' && std::strchr(perms, 'w') == nullptr;
            if (std::strcmp(path, "[stack]") == 0) stack = current;
        } else if (candidate && std::sscanf(line, "Anonymous: %lu kB", &anon) == 1) {
            if (anon == 0 && count < std::size(ranges)) ranges[count++] = current;
            candidate = false;
        }
    }
    std::fclose(smaps);
    ::malloc_trim(0);  // the stream's buffer, and what the setup freed since release_setup_memory
    // The page size before the drop: sysconf's table is read-only data,
    // and reading it after would fault 64 KiB of it back in.
    auto page = static_cast<unsigned long>(::sysconf(_SC_PAGESIZE));
    for (size_t i = 0; i < count; ++i)
        ::madvise(reinterpret_cast<void*>(ranges[i].start), ranges[i].end - ranges[i].start, MADV_DONTNEED);
    auto here = reinterpret_cast<unsigned long>(__builtin_frame_address(0));
    if (here > stack.start && here < stack.end) drop_stack_below_caller(stack.start, page);
}

void Shim::release_setup_memory() {
    // The shim idles for as long as the container runs, once per container:
    // give back what only the setup needed (the init's spec, the config's
    // parsed JSON, the code that ran once) so an idle shim holds little more
    // than its loop.
    spec_ = oci::Spec{};
    config_.env.clear();
    config_.env.shrink_to_fit();
    config_.command.clear();
    config_.command.shrink_to_fit();
    ::malloc_trim(0);
    drop_pages_ = true;  // by the event loop, right before it first waits
}

// Each run begins "starting"; the first check comes an interval after the
// start (Docker's and podman's), none with an interval of 0 ("disable").
void Shim::start_health_checks(const ContainerState& running) {
    try {
        reset_health(store_.paths(), args_.id, running.started_ns);
    } catch (const Error& e) {
        log_->note("minirt: health check: " + e.message());
    }
    health_target_ = {args_.id, running.pid, running.pid_start, running.cgroup, running.shim_pid, running.shim_start,
                      running.started_ns};
    int64_t every = config_.healthcheck->interval_ns;
    if (every <= 0) return;
    health_timer_.reset(::timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK));
    itimerspec its{};
    its.it_value.tv_sec = every / 1'000'000'000;
    its.it_value.tv_nsec = every % 1'000'000'000;
    its.it_interval = its.it_value;
    if (!health_timer_ || ::timerfd_settime(health_timer_.get(), 0, &its, nullptr) < 0) {
        // The container runs on; only `healthcheck run` checks it.
        log_->note(std::string("minirt: health check timer: ") + std::strerror(errno));
        health_timer_.reset();
    }
}

// A check runs in a child of ours, which reads the container's spec and
// enters the container itself: the idle shim stays as small as it is. A
// tick while one is under way is skipped.
void Shim::spawn_health_runner() {
    sigset_t blocked;
    ::sigprocmask(SIG_SETMASK, nullptr, &blocked);
    pid_t pid = ::fork();
    if (pid < 0) {
        log_->note(std::string("minirt: health check: fork: ") + std::strerror(errno));
        return;
    }
    if (pid == 0) run_health_check(blocked);
    health_runner_ = pid;
}

void Shim::run_health_check(const sigset_t& blocked) noexcept {
    ::prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (::getppid() != health_target_.shim_pid) _exit(1);
    ::prctl(PR_SET_NAME, "minirt-health");
    ::prctl(PR_SET_CHILD_SUBREAPER, 0);
    // Nothing of the shim's: its mark must die with it, its pipes and
    // sockets (and an attached CLI's stdio) are its own. The check writes
    // its own files.
    ::close_range(3, ~0U, 0);
    int devnull = ::open("/dev/null", O_RDWR | O_CLOEXEC);
    for (int fd = 0; devnull >= 0 && fd <= 2; ++fd) ::dup2(devnull, fd);
    try {
        // A paused (or stopping, or gone) container is not checked.
        auto st = store_.load_state(args_.id);
        if (!st || st->status != Status::Running || st->pid != child_ || st->stop_requested) _exit(0);
        engine::check_health(store_, config_, health_target_, blocked);
        _exit(0);
    } catch (...) {
        _exit(1);
    }
}

// --health-on-failure=restart: this run ends now, and its exit is recorded
// as restarting.
void Shim::restart_unhealthy() {
    if (child_done_) return;
    force_restart_ = true;
    ::kill(child_, SIGKILL);
}

void Shim::stop_health_checks() noexcept {
    health_timer_.reset();
    if (health_runner_ > 0) {
        ::kill(health_runner_, SIGKILL);
        int status;
        while (::waitpid(health_runner_, &status, 0) < 0 && errno == EINTR) {
        }
        health_runner_ = -1;
    }
}

void Shim::reap() {
    // As child subreaper we also inherit orphans from inside; reap them all.
    for (;;) {
        int status;
        pid_t pid = ::waitpid(-1, &status, WNOHANG);
        if (pid <= 0) return;
        if (pid == child_) {
            wait_status_ = status;
            child_done_ = true;
        } else if (pid == health_runner_) {
            health_runner_ = -1;
        }
    }
}

[[gnu::noinline, gnu::section(".text.minirt_idle")]] void Shim::event_loop() {
    UniqueFd ep(::epoll_create1(EPOLL_CLOEXEC));
    if (!ep) throw_errno("epoll_create1");
    if (attach_) attach_->watch_with(ep.get());
    auto add = [&](int fd) {
        epoll_event ev{};
        ev.events = EPOLLIN;
        ev.data.fd = fd;
        if (::epoll_ctl(ep.get(), EPOLL_CTL_ADD, fd, &ev) < 0) throw_errno("epoll_ctl");
    };
    add(out_.read.get());
    add(err_.read.get());
    add(sigfd_.get());
    if (monitor_.event_fd() >= 0) add(monitor_.event_fd());
    if (trace_) add(trace_->fd());
    if (attach_) add(attach_->listener());
    if (master_) add(master_.get());
    if (health_timer_) add(health_timer_.get());
    bool out_eof = false, err_eof = false, tty_eof = !master_;
    int64_t exit_seen_ms = -1;
    if (drop_pages_) drop_setup_pages();
    while (!(child_done_ && out_eof && err_eof && tty_eof)) {
        int timeout = -1;
        if (child_done_) {
            if (exit_seen_ms < 0) exit_seen_ms = monotonic_ms();
            timeout = static_cast<int>(std::max<int64_t>(0, exit_seen_ms + kDrainAfterExitMs - monotonic_ms()));
            if (timeout == 0) break;
        }
        epoll_event evs[16];
        int n = ::epoll_wait(ep.get(), evs, 16, timeout);
        if (n < 0 && errno != EINTR) throw_errno("epoll_wait");
        for (int i = 0; i < n; ++i) {
            int fd = evs[i].data.fd;
            if (fd == sigfd_.get()) {
                signalfd_siginfo si{};
                while (::read(sigfd_.get(), &si, sizeof si) == sizeof si) {
                    if (si.ssi_signo == SIGCHLD) reap();
                    else if (static_cast<int>(si.ssi_signo) == rewrite_state_signal())
                        records_.rewrite_lost(monitor_.record(), alive_mark_);
                    else if (static_cast<int>(si.ssi_signo) == health_restart_signal())
                        restart_unhealthy();
                    else if (!child_done_) ::kill(child_, static_cast<int>(si.ssi_signo));
                }
            } else if (health_timer_ && fd == health_timer_.get()) {
                uint64_t ticks = 0;
                if (::read(fd, &ticks, sizeof ticks) == sizeof ticks && health_runner_ < 0 && !child_done_)
                    spawn_health_runner();
            } else if (fd == monitor_.event_fd()) {
                monitor_.drain(*log_);
            } else if (trace_ && fd == trace_->fd()) {
                try {
                    trace_->consume();
                    trace_writer_->flush();
                } catch (const std::exception& e) {
                    // A full disk, say: the container goes on untraced.
                    log_->note(std::string("minirt: --trace: ") + e.what());
                    ::epoll_ctl(ep.get(), EPOLL_CTL_DEL, fd, nullptr);
                    stop_trace();
                }
            } else if (attach_ && fd == attach_->listener()) {
                attach_->accept_client();
            } else if (master_ && fd == master_.get() && !tty_eof) {
                // EIO once the last holder of the terminal's slave side exits.
                pump_->pump(fd, "stdout", tty_eof);
                if (tty_eof) ::epoll_ctl(ep.get(), EPOLL_CTL_DEL, fd, nullptr);
            } else if (fd == out_.read.get() && !out_eof) {
                pump_->pump(fd, "stdout", out_eof);
                if (out_eof) ::epoll_ctl(ep.get(), EPOLL_CTL_DEL, fd, nullptr);
            } else if (fd == err_.read.get() && !err_eof) {
                pump_->pump(fd, "stderr", err_eof);
                if (err_eof) ::epoll_ctl(ep.get(), EPOLL_CTL_DEL, fd, nullptr);
            } else if (attach_) {
                attach_->serve(fd);
            }
        }
        if (log_->take_drops_changed()) records_.log_drops();
    }
    if (attach_) attach_->watch_with(-1);  // closed with `ep`: a late client is served without it
}

void Shim::remove_container() {
    FileLock lock = startup_lock_.held() ? std::move(startup_lock_) : store_.lock(args_.id);
    if (!lock.stale()) store_.remove(args_.id, lock);
}

int Shim::finish() {
    stop_health_checks();
    int code;
    int sig = 0;
    if (WIFSIGNALED(wait_status_)) {
        sig = WTERMSIG(wait_status_);
        code = 128 + sig;
    } else {
        code = WEXITSTATUS(wait_status_);
    }
    // A container that stays must not be started again while its old
    // overlay still exists: let its namespace go before recording the exit.
    // A --rm one is gone once reported, so its teardown waits until then.
    if (!config_.auto_remove) {
        mount_ns_.reset();
        // A `start` right after the exit is recorded sets it up anew.
        teardown_network();
    }
    // The monitor's HARD event may still be queued behind the child's exit.
    monitor_.drain(*log_);
    monitor_.leave();
    // `logs` of an exited container shows all of its output.
    if (log_) log_->sync();
    bool oom = false;
    if (cgroup_) {
        oom = cgroup_->read_key("memory.events", "oom_kill").value_or(0) > oom_kills_before_;
        // Nothing of the container may outlive it (processes that escaped
        // the PID namespace through a later exec, for instance).
        try {
            cgroup_->kill_all();
        } catch (const Error&) {
        }
    }
    // --rm: the container leaves every listing (and frees its name) before
    // the exit is reported, so whoever waited for it can reuse the name at
    // once; its files, cgroup and mounts go after the report, off the path
    // of `run --rm`. Should the unlisting fail, the exit is recorded instead.
    follow_rename();
    std::optional<FileLock> unlisted;
    if (config_.auto_remove) {
        // A `wait` that finds the container gone reads its code here.
        try {
            store_.record_removed_exit(args_.id, config_.name, code);
        } catch (const Error& e) {
            log_->note("minirt: --rm: " + e.message());
        }
        unlisted = store_.lock(args_.id);
        try {
            if (!unlisted->stale()) store_.unlist(args_.id, config_.name);
        } catch (const Error& e) {
            log_->note("minirt: --rm: " + e.message());
            unlisted.reset();
        }
    }
    if (!unlisted) {
        // The group first: once the exit is recorded, a `start` may make it anew.
        remove_cgroup();
        restart_ = records_.save_exit({code, sig, oom, child_, cgroup_ ? cgroup_->path().string() : std::string(),
                                       monitor_.record(),
                                       force_restart_ ? RestartPolicy{RestartPolicy::Kind::Always}
                                       : config_.auto_remove ? RestartPolicy{}
                                                             : config_.restart},
                                      alive_mark_);
    }
    // Once the exit is recorded (or the --rm container unlisted): whoever
    // acts on "died" finds the container exited.
    journal_exit(code, oom);
    run_hooks_warning(poststop_, "poststop", "stopped");
    if (attach_) {
        // run -t in the foreground is about to connect (it normally is at once).
        if (args_.tty_client) attach_->await_first_client(args_.report_fd, kAwaitClientMs);
        attach_->send_exit(code);
    }
    // The next `run --rm -p` of the same port must find it free; the rules
    // go with the teardown, which waits for the networks lock.
    if (unlisted && network_) network_->release_ports();
    // run --rm --trace: the trace file is whole once the exit is reported
    // (the group's teardown comes after the report).
    if (trace_) {
        for (int i = 0; i < 400 && cgroup_ && cgroup_->populated(); ++i) ::usleep(5000);
        finish_trace();
    }
    report(Message::exited(code));
    // An attached CLI's stdout may be a pipe someone reads to EOF
    // (`$(minirt run --rm ...)`): it must not wait for the purge.
    release_stdio();
    if (unlisted) {
        remove_cgroup();  // first: once purged, nothing would name it any more
        teardown_network();
        try {
            engine::release_addresses(store_.paths(), config_);
        } catch (const Error& e) {
            log_->note("minirt: --rm: " + e.message());
        }
        if (!unlisted->stale()) store_.purge(args_.id, *unlisted);
        Volumes(store_.paths()).remove_anonymous_of(config_);
        record_container_event(store_.paths(), config_, "remove");
    }
    mount_ns_.reset();  // --rm: now the kernel unmounts the container's filesystems
    return code;
}

void Shim::record_failed_restart(const Error& e) noexcept {
    try {
        if (auto st = store_.load_state(args_.id)) records_.failed_start(*st, e.exit_code(), e.message());
    } catch (const Error&) {
        // Its record is damaged: the next command shows that.
    }
    if (config_.id.empty()) config_.id = args_.id;
    record_container_event(store_.paths(), config_, "died",
                           {{"exitCode", std::to_string(e.exit_code())}, {"error", e.message()}});
}

// The runtime-spec state the hooks of a CDI device are given.
std::string Shim::hook_state(const char* status) const {
    nlohmann::json j{{"ociVersion", oci::kOciVersion},
                     {"id", args_.id},
                     {"status", status},
                     {"bundle", store_.paths().container_dir(args_.id).string()},
                     {"annotations", nlohmann::json::object()}};
    if (child_ > 0) j["pid"] = child_;
    return j.dump();
}

// poststart and poststop hooks: a failure is noted in the container's log
// and the rest still run, as the runtime spec says.
void Shim::run_hooks_warning(const std::vector<oci::Hook>& hooks, const char* stage, const char* status) noexcept {
    for (const auto& h : hooks) {
        try {
            oci::run_hooks({h}, stage, hook_state(status));
        } catch (const std::exception& e) {
            if (log_) log_->note(std::string("minirt: warning: ") + e.what());
        }
    }
}

// `rename` changed the name in state.json's summary (and minirt.json)
// while we ran: the events of the exit, --rm's unlisting and the code it
// leaves for `wait` use the name the container has now.
void Shim::follow_rename() noexcept {
    try {
        if (auto st = store_.load_state(args_.id); st && !st->summary.name.empty()) config_.name = st->summary.name;
    } catch (const Error&) {
        // A damaged state: the name it started with.
    }
}

// The events of the exit: the kernel's OOM kill, the memory monitor's,
// then died with the code.
void Shim::journal_exit(int code, bool oom) noexcept {
    const auto& m = monitor_.record();
    if (oom) record_container_event(store_.paths(), config_, "oom");
    if (m && m->hard_killed)
        record_container_event(store_.paths(), config_, "monitor_kill",
                               {{"reason", "memory hard limit"}, {"rss", std::to_string(m->hard_killed->rss)},
                                {"limit", std::to_string(m->hard_killed->limit)}});
    record_container_event(store_.paths(), config_, "died", {{"exitCode", std::to_string(code)}});
}

void Shim::release_stdio() noexcept {
    int devnull = ::open("/dev/null", O_RDWR | O_CLOEXEC);
    if (devnull < 0) return;
    for (int fd = 0; fd <= 2; ++fd) ::dup2(devnull, fd);
    if (devnull > 2) ::close(devnull);
    if (pump_) pump_->stop_relay();
}

void Shim::teardown_network() noexcept {
    if (!network_) return;
    std::string note;
    network_->teardown(&note);
    network_.reset();
    if (!note.empty() && log_) log_->note("minirt: network teardown: " + note);
}

void Shim::remove_cgroup() noexcept {
    if (!cgroup_) return;
    try {
        cgroup_->teardown();
    } catch (const Error& e) {
        if (log_) log_->note("minirt: " + e.message());
    }
    // The group is empty: every event of the container is in the trace's
    // ring (a failed start's too, which is when one reads it most).
    finish_trace();
}

int Shim::run() {
    ::prctl(PR_SET_NAME, "minirt-shim");
    // We reap everything below us, so no zombie outlives its parent in here.
    ::prctl(PR_SET_CHILD_SUBREAPER, 1);
    ::signal(SIGPIPE, SIG_IGN);
    sigset_t mask;
    sigemptyset(&mask);
    for (int s : {SIGCHLD, SIGTERM, SIGINT, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2, rewrite_state_signal(),
                  health_restart_signal()})
        sigaddset(&mask, s);
    ::sigprocmask(SIG_BLOCK, &mask, nullptr);
    sigfd_.reset(::signalfd(-1, &mask, SFD_CLOEXEC | SFD_NONBLOCK));
    startup_lock_ = FileLock::adopt(args_.lock_fd, store_.paths().lock_file(args_.id));
    try {
        // A start after a lost /run finds no state directory: made first,
        // so the mark is ours from the start (a network record with no
        // mark held is a dead shim's to whoever finds it).
        make_dirs(store_.paths().state_dir(args_.id), 0700);
        alive_mark_ = hold_shim_mark(store_.paths().state_dir(args_.id));
    } catch (const Error&) {
        // Without it, `list` asks /proc about this container instead.
    }

    try {
        prepare();
        spawn_init();
    } catch (const Error& e) {
        init_.reset();  // killed and reaped
        monitor_.leave();
        teardown_network();
        remove_cgroup();  // never in place of the error being reported
        // A restart has no CLI to tell: its record says why (under the
        // lock, still held), and the restarts end there.
        if (args_.restarted) record_failed_restart(e);
        // Nothing was started: the CLI undoes creation itself for `run`.
        report(Message::failed(e.exit_code(), e.message()));
        return e.exit_code() ? e.exit_code() : kExitMinirtError;  // the start failed: never 0
    }
    // Read and filled in while the init builds its root (the CLI's lock,
    // still held, keeps everyone else from changing it meanwhile).
    ContainerState loaded = store_.load_state(args_.id).value_or(ContainerState{});
    loaded.id = args_.id;
    ContainerState st = loaded;
    st.pid = child_;
    st.pid_start = process_start_time(child_).value_or(0);
    st.shim_pid = ::getpid();
    st.shim_start = process_start_time(::getpid()).value_or(0);
    st.cgroup = cgroup_ ? cgroup_->path().string() : std::string();
    if (!wait_for_exec(loaded)) {
        mount_ns_.reset();
        monitor_.leave();
        teardown_network();
        remove_cgroup();  // never in place of the failure being reported
        if (config_.auto_remove) {
            remove_container();
            try {
                engine::release_addresses(store_.paths(), config_);
            } catch (const Error& e) {
                log_->note("minirt: --rm: " + e.message());
            }
        }
        startup_lock_.release();
        report(failure_report_);
        return failure_report_.code ? failure_report_.code : kExitMinirtError;
    }
    {
        // Still covered by the lock the CLI took before spawning us.
        st.status = Status::Running;
        st.started_ns = now_ns();
        started_ms_ = monotonic_ms();
        st.finished_ns = 0;
        st.exit_code.reset();
        st.exit_signal = 0;
        st.reason.clear();
        st.error.clear();
        st.stop_requested = false;
        st.restarting = false;
        // A start by the user begins the count anew (as Docker's).
        if (!args_.restarted) st.restart_count = 0;
        st.ports.clear();
        if (network_)
            for (const auto& p : network_->ports()) st.ports += (st.ports.empty() ? "" : ", ") + describe(p);
        st.monitor = monitor_.record();
        store_.save_state(st);
        records_.set_running(st);
        // Before the report: `ps` right after `run -d` says "starting".
        if (config_.healthcheck) start_health_checks(st);
        startup_lock_.release();
        report(Message::started(st.pid, st.pid_start));
        record_container_event(store_.paths(), config_, "start");
        // Running again: no longer stopped by the user (see start --all).
        ::unlink(store_.paths().user_stopped_file(args_.id).c_str());
        // What `start` needs after a reboot must survive a crash: config.json
        // and its directory entries. Done here, after the CLI has its answer.
        // (The spec is made from it again at a start that finds it lost.)
        if (!config_.auto_remove) make_durable(store_.paths().config_file(args_.id));
        if (network_) {
            try {
                network_->record_status();
            } catch (const Error& e) {
                log_->note("minirt: network: " + e.message());
            }
        }
    }
    release_setup_memory();
    event_loop();
    if (!child_done_) {
        ::kill(child_, SIGKILL);
        ::waitpid(child_, &wait_status_, 0);
    }
    int code = finish();
    if (restart_) restart_after_backoff();
    return code;  // the container's is ours
}

// --restart: the exit is recorded as restarting; after the backoff the
// container starts again, in place (same id, writable layer, limits and
// network), by a fresh shim this one execs: the same PID, so the record's
// shim stays right, and none of this run's memory. A stop, start or rm
// meanwhile sets stop_requested and signals us (container/ops.cpp): the
// restart is called off, at once.
void Shim::restart_after_backoff() {
    int64_t ran_ms = monotonic_ms() - started_ms_;
    int delay = next_restart_delay_ms(args_.restart_delay_ms, ran_ms);
    if (!sleep_unless_called_off(delay)) {
        records_.cancel_restart();
        return;
    }
    try {
        FileLock lock = store_.lock(args_.id);
        if (lock.stale() || !store_.exists(args_.id)) return;
        auto st = store_.load_state(args_.id);
        if (!st || st->status != Status::Exited || !st->restarting || st->stop_requested) return;
        ++st->restart_count;
        store_.save_state(*st);
        if (!st->summary.name.empty()) config_.name = st->summary.name;
        record_container_event(store_.paths(), config_, "restart", {{"restartCount", std::to_string(st->restart_count)}});
        exec_restarted_shim(lock.fd(), delay);
    } catch (const Error& e) {
        if (log_) log_->note("minirt: --restart: " + e.message());
    }
    records_.cancel_restart();
}

// False when a stop, start or rm signalled us meanwhile.
bool Shim::sleep_unless_called_off(int ms) {
    int64_t until = monotonic_ms() + ms;
    for (;;) {
        int64_t left = until - monotonic_ms();
        if (left <= 0) return true;
        pollfd p{sigfd_.get(), POLLIN, 0};
        if (::poll(&p, 1, static_cast<int>(left)) <= 0) continue;
        signalfd_siginfo si{};
        while (::read(sigfd_.get(), &si, sizeof si) == sizeof si) {
            int sig = static_cast<int>(si.ssi_signo);
            if (sig == SIGCHLD) reap();
            else if (sig == SIGTERM || sig == SIGINT || sig == SIGHUP || sig == SIGQUIT) return false;
        }
    }
}

// Returns only if the lock could not be passed (logged). Past the point
// of closing our descriptors, a failed exec ends the shim: the record
// says restarting, which readers believe only while its shim lives.
void Shim::exec_restarted_shim(int lock_fd, int delay_ms) noexcept {
    // The container's lock goes across at fd 4, as the CLI passes it
    // (shim_main.cpp); stdio is /dev/null by now; nothing else survives.
    constexpr int kLockFd = 4;
    if (log_) log_->sync();  // first: its file may be the descriptor at 4 now
    if (lock_fd == kLockFd ? ::fcntl(kLockFd, F_SETFD, 0) < 0 : ::dup2(lock_fd, kLockFd) < 0) {
        if (log_) log_->note(std::string("minirt: --restart: pass the lock: ") + std::strerror(errno));
        return;
    }
    std::string root = store_.paths().root.string(), storage = store_.paths().storage.string();
    std::string delay = "--restarted=" + std::to_string(delay_ms);
    char name[] = "minirt-shim";
    char* argv[] = {name, root.data(), storage.data(), args_.id.data(), delay.data(), nullptr};
    ::close(3);  // the report pipe, if a CLI ever had it
    ::close_range(kLockFd + 1, ~0U, 0);
    ::execv("/proc/self/exe", argv);
    _exit(1);
}

}  // namespace

void run_shim(const ShimArgs& args) noexcept {
    int rc = 1;
    try {
        Shim shim(args);
        rc = shim.run();
    } catch (const std::exception& e) {
        if (args.report_fd >= 0) send_message(args.report_fd, Message::failed(kExitMinirtError, e.what()));
    }
    _exit(rc);
}

}  // namespace minirt
