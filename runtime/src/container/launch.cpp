#include "container/launch.hpp"

#include "container/bundle.hpp"
#include "engine/network.hpp"
#include "engine/network_files.hpp"
#include "engine/network_handoff.hpp"
#include "container/ops.hpp"

#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <spawn.h>
#include <signal.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <cstring>
#include <system_error>
#include <vector>

#include "linux/fd_passing.hpp"
#include "common/diagnostics.hpp"
#include "common/error.hpp"
#include "common/file.hpp"
#include "common/parse.hpp"
#include "common/protocol.hpp"
#include "linux/namespaces.hpp"
#include "linux/process.hpp"

namespace minirt {

namespace {

constexpr int kShimReportFd = 3;
constexpr int kShimLockFd = 4;
constexpr int kShimNetnsFd = 5;

// The shim binary, installed beside ours (build/runtime/, /usr/local/bin/).
std::string shim_executable() {
    char buf[4096];
    ssize_t n = ::readlink("/proc/self/exe", buf, sizeof buf - 1);
    if (n <= 0) throw_errno("readlink /proc/self/exe");
    std::string path(buf, static_cast<size_t>(n));
    path.erase(path.rfind('/') + 1);
    path += "minirt-shim";
    if (::access(path.c_str(), X_OK) < 0)
        throw Error("cannot start the container's shim: " + path + ": " + std::strerror(errno) +
                    " (minirt-shim must be installed beside minirt)");
    return path;
}

// Spawns minirt-shim in a session of its own with the descriptors it
// expects (see shim_main.cpp): posix_spawn's vfork-style clone, not a fork,
// so the CLI's page tables are never copied on the way to the container.
// The shim is our child, but we never wait for it: once we exit it belongs
// to init (or the nearest subreaper), as a double fork would have made it.
pid_t spawn_shim(const std::string& shim, char* const* argv, int report_w, int lock_fd, const LaunchMode& mode) {
    // Out of the way of 0-4 first, so the dup2s below cannot clobber each other.
    UniqueFd report(::fcntl(report_w, F_DUPFD_CLOEXEC, 10));
    UniqueFd lock(::fcntl(lock_fd, F_DUPFD_CLOEXEC, 10));
    int netns_end = mode.netns ? mode.netns->shim_end() : -1;
    UniqueFd netns(netns_end >= 0 ? ::fcntl(netns_end, F_DUPFD_CLOEXEC, 10) : -1);
    if (!report || !lock || (netns_end >= 0 && !netns)) throw_errno("duplicate the shim's descriptors");
    SpawnSetup setup;
    posix_spawn_file_actions_t* fa = setup.actions();
    int rc = ::posix_spawnattr_setflags(setup.attr(), POSIX_SPAWN_SETSID);
    auto act = [&](int e) {
        if (rc == 0) rc = e;
    };
    act(::posix_spawn_file_actions_adddup2(fa, report.get(), kShimReportFd));
    act(::posix_spawn_file_actions_adddup2(fa, lock.get(), kShimLockFd));
    if (netns) act(::posix_spawn_file_actions_adddup2(fa, netns.get(), kShimNetnsFd));
    // Only stdio and those: a stray descriptor of the CLI's (another lock,
    // a socket) must not live as long as the shim.
    act(::posix_spawn_file_actions_addclosefrom_np(fa, (netns ? kShimNetnsFd : kShimLockFd) + 1));
    // Nor may it keep the user's working directory busy (its paths are absolute).
    act(::posix_spawn_file_actions_addchdir_np(fa, "/"));
    if (!mode.pass_stdin) act(::posix_spawn_file_actions_addopen(fa, 0, "/dev/null", O_RDWR, 0));
    if (!mode.attached) {
        act(::posix_spawn_file_actions_addopen(fa, 1, "/dev/null", O_RDWR, 0));
        act(::posix_spawn_file_actions_adddup2(fa, 1, 2));
    }
    // Without glibc's per-thread cache of freed chunks: it would keep what
    // the setup freed (the spec, its JSON) in the heap of an idle shim for
    // the container's whole life, out of malloc_trim's reach (tens of KiB
    // per shim; the shim's loop hardly allocates, so it costs nothing).
    std::vector<std::string> env_strings;
    std::string tunables = "GLIBC_TUNABLES=glibc.malloc.tcache_count=0";
    for (char** e = environ; *e; ++e) {
        std::string_view kv(*e);
        if (kv.starts_with("GLIBC_TUNABLES=")) tunables = std::string(kv) + ":glibc.malloc.tcache_count=0";
        else env_strings.emplace_back(kv);
    }
    env_strings.push_back(tunables);
    std::vector<char*> envp = exec_vector(env_strings);
    pid_t pid = -1;
    if (rc == 0) rc = ::posix_spawn(&pid, shim.c_str(), fa, setup.attr(), argv, envp.data());
    if (rc != 0) throw Error(rc, "cannot start the container's shim: exec " + shim);
    return pid;
}

}  // namespace

NetnsMaker::NetnsMaker(Paths paths, bool bridge) : paths_(std::move(paths)), bridge_(bridge) {
    int sv[2];
    if (::socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0) return;  // the shim makes it then
    shim_end_.reset(sv[0]);
    thread_end_.reset(sv[1]);
    try {
        thread_ = std::thread([this] { run(); });
    } catch (const std::system_error&) {
        thread_end_.reset();
    }
}

NetnsMaker::~NetnsMaker() {
    // A thread waiting for the shim to take the network over hears EOF
    // (no shim was spawned, or ours is the last copy), and keeps it.
    shim_end_.reset();
    {
        std::lock_guard<std::mutex> l(mutex_);
        dropped_ = true;
    }
    changed_.notify_one();
    if (thread_.joinable()) thread_.join();
}

bool NetnsMaker::wanted_for(const ContainerConfig& c) {
    return c.network == "bridge" || (c.network == "none" && !c.security.userns());
}

void NetnsMaker::go(const ContainerConfig& c) {
    {
        std::lock_guard<std::mutex> l(mutex_);
        config_ = c;
    }
    changed_.notify_one();
}

void NetnsMaker::shim_spawned() {
    shim_end_.reset();
    {
        std::lock_guard<std::mutex> l(mutex_);
        spawned_ = true;
    }
    changed_.notify_one();
}

void NetnsMaker::run() noexcept {
    // Signals are the main thread's to take (a Ctrl-C goes to the
    // container), never this one's.
    sigset_t all;
    sigfillset(&all);
    ::pthread_sigmask(SIG_BLOCK, &all, nullptr);
    // The thread makes the namespace in itself; for a bridge it goes back
    // after, as netavark and the published ports' sockets belong in the
    // host's. Otherwise its namespace changes for good: it ends here.
    UniqueFd ns, host;
    if (bridge_) host.reset(::open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC));
    if ((!bridge_ || host) && ::unshare(CLONE_NEWNET) == 0) {
        try {
            bring_up_loopback();
            ns.reset(::open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC));
        } catch (...) {  // nothing leaves this thread: the shim makes its own
        }
        if (host && ::setns(host.get(), CLONE_NEWNET) < 0) ns.reset();  // stranded: nothing more from here
    }
    if (!ns || !engine::hand_namespace(thread_end_.get(), ns.get()) || !bridge_) {
        thread_end_.reset();  // EOF: all is sent, or the shim makes its own
        return;
    }
    // Not before there is a shim to take it over: if this process dies
    // now, that shim sets the network up itself (tearing down what we
    // began), and nothing is left without an owner.
    std::optional<ContainerConfig> c;
    {
        std::unique_lock<std::mutex> l(mutex_);
        changed_.wait(l, [this] { return (config_ && spawned_) || dropped_; });
        if (!dropped_) c = std::move(config_);
    }
    if (c && c->network == "bridge") set_up_bridge(*c, ns.get());
    thread_end_.reset();  // EOF: all is sent, or the shim does the rest
}

void NetnsMaker::set_up_bridge(const ContainerConfig& c, int netns) noexcept {
    int sock = thread_end_.get();
    std::optional<engine::ContainerNetwork> n;
    try {
        try {
            n.emplace(engine::ContainerNetwork::begin(paths_, c, netns));
            // Under the lock the setup holds: peers edit this file under it.
            fs::path dir = paths_.state_dir(c.id);
            make_dirs(dir, 0700);
            engine::write_network_files(dir, c, n->addresses(), n->peer_hosts());
        } catch (const std::bad_alloc&) {
            throw;
        } catch (const Error&) {
            throw;
        } catch (const std::exception& e) {
            throw Error(e.what());
        }
    } catch (const Error& e) {
        engine::hand_error(sock, e);  // what began is torn down as `n` goes
        return;
    } catch (...) {
        return;  // EOF: the shim tries itself
    }
    // Ours until the shim says it has taken it over; a shim that failed
    // first, or none at all, leaves it to us (torn down as `n` goes).
    if (!engine::hand_bridge(sock) || !engine::await_adoption(sock)) return;
    n->disown();
    try {
        n->finish_setup();
    } catch (const Error& e) {
        engine::hand_error(sock, e);  // the shim tears it down
        return;
    }
    engine::hand_setup(sock, *n);  // false: the shim died, and its collector undoes it
}

Launched launch_container(const Store& store, const std::string& id, FileLock& lock, const LaunchMode& mode) {
    // What a --rm shim killed after unlisting its container left of its
    // networks (one readdir when there is nothing).
    engine::collect_network_garbage(store.paths());
    prepare_bundle(store, id);
    std::string shim = shim_executable();
    std::vector<std::string> args{"minirt-shim", store.paths().root.string(), store.paths().storage.string(), id};
    if (mode.attached) args.emplace_back("--attached");
    if (mode.pass_stdin) args.emplace_back("--pass-stdin");
    if (mode.netns && mode.netns->shim_end() >= 0) args.emplace_back("--netns");
    if (mode.tty_client) args.emplace_back("--tty-client");
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    Pipe report = make_pipe();
    pid_t shim_pid = spawn_shim(shim, argv.data(), report.write.get(), lock.fd(), mode);
    log_debug("container " + id.substr(0, 12) + ": shim " + shim + " is process " + std::to_string(shim_pid));
    if (mode.netns) mode.netns->shim_spawned();
    report.write.reset();
    std::optional<Message> m;
    try {
        m = receive_message(report.read.get());
    } catch (const Error&) {
        // A frame cut short: the shim died while it wrote.
    }
    if (m && m->type == MessageType::Started) {
        Launched l;
        l.pid = m->code;
        l.start = m->value;
        l.report = std::move(report.read);
        log_info("container " + id.substr(0, 12) + " started: its command is process " + std::to_string(l.pid));
        return l;
    }
    if (m && m->type == MessageType::Failed) throw Error(m->payload, m->code);
    throw Error("the shim of " + id.substr(0, 12) + " died while starting the container");
}

namespace {

// The shim's Exited, once the exit is recorded; an Error if it died first.
int reported_exit(int report, const std::string& id) {
    std::optional<Message> m;
    try {
        m = receive_message(report);
    } catch (const Error&) {
        // Cut short: the shim died while it wrote.
    }
    if (m && m->type == MessageType::Exited) return m->code;
    throw Error("the shim of " + id.substr(0, 12) + " died; the exit status is unknown");
}

}  // namespace

int wait_attached(Launched& launched, const std::string& id) {
    // Signals to us go to the container (Ctrl-C, SIGTERM from a supervisor).
    sigset_t mask;
    sigemptyset(&mask);
    for (int s : {SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2}) sigaddset(&mask, s);
    ::sigprocmask(SIG_BLOCK, &mask, nullptr);
    UniqueFd sigfd(::signalfd(-1, &mask, SFD_CLOEXEC));
    UniqueFd target = open_pidfd(launched.pid, launched.start);
    for (;;) {
        pollfd fds[2] = {{launched.report.get(), POLLIN, 0}, {sigfd.get(), POLLIN, 0}};
        if (::poll(fds, 2, -1) < 0) {
            if (errno == EINTR) continue;
            throw_errno("poll");
        }
        if (fds[1].revents & POLLIN) {
            signalfd_siginfo si{};
            if (::read(sigfd.get(), &si, sizeof si) == sizeof si && target)
                signal_pidfd(target.get(), static_cast<int>(si.ssi_signo));
        }
        if (fds[0].revents & (POLLIN | POLLHUP)) return reported_exit(launched.report.get(), id);
    }
}

}  // namespace minirt

namespace minirt {

int wait_reported_exit(Launched& launched, const std::string& id) { return reported_exit(launched.report.get(), id); }

void start_namespace_peers(const Store& store, const ContainerConfig& c) {
    for (const auto& peer : c.namespace_peers()) {
        if (!store.exists(peer))
            throw Error("container " + peer.substr(0, 12) + ", whose namespaces this one joins, no longer exists");
        try {
            start_container(store, peer);  // nothing when it runs
        } catch (const Error& e) {
            // minirt's error whatever the peer's was (the joiner never ran).
            throw Error("start container " + peer.substr(0, 12) + ", whose namespaces this one joins: " + e.message());
        }
    }
}

std::optional<Launched> start_container(const Store& store, const std::string& id, LaunchMode mode) {
    FileLock lock = store.lock(id);
    if (lock.stale()) throw Error("container was removed");
    ContainerView v = view_container(store, id);
    if (!v.load_error.empty()) throw Error(v.load_error);
    if (v.waiting_to_restart()) {
        // Its shim's restart is called off: this start is the user's.
        call_off_restart(store, lock, v);
        lock = store.lock(id);
        if (lock.stale()) throw Error("container was removed");
        v = view_container(store, id);
        if (!v.load_error.empty()) throw Error(v.load_error);
    }
    if (v.status == Status::Running || v.status == Status::Paused) return std::nullopt;  // as podman: nothing to do
    if (v.status == Status::Stopping || (v.status == Status::Created && v.shim_alive))
        throw Error("container is busy (" + std::string(to_string(v.status)) + "); try again");
    if (v.config) start_namespace_peers(store, *v.config);
    std::optional<NetnsMaker> netns;
    if (v.config && NetnsMaker::wanted_for(*v.config)) {
        netns.emplace(store.paths(), v.config->network == "bridge");
        netns->go(*v.config);
        mode.netns = &*netns;
    }
    return launch_container(store, id, lock, mode);
}

}  // namespace minirt
