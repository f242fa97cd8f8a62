#include "shim/shim.hpp"

#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <linux/sched.h>
#include <sys/epoll.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <malloc.h>
#include <unistd.h>

#include <cstdio>
#include <cstring>
#include <iterator>

#include "common/error.hpp"
#include "common/file.hpp"
#include "common/parse.hpp"
#include "linux/cgroup.hpp"
#include "linux/device_filter.hpp"
#include "linux/monitor.hpp"
#include "linux/process.hpp"
#include "linux/security.hpp"
#include "linux/userns.hpp"
#include "shim/attach.hpp"
#include "shim/container_init.hpp"
#include "shim/log.hpp"
#include "shim/terminal.hpp"

namespace minirt {

namespace {

// How long the shim keeps draining output after init died, for processes
// that escaped the PID namespace but still hold the pipes.
constexpr int kDrainAfterExitMs = 2000;
constexpr int kPipeSize = 1 << 20;
// How long an exited container's output waits for the terminal client
// that `run -t` is about to connect (it is normally there at once).
// Below the 15 s that stop and kill give a shim to finish.
constexpr int kAwaitClientMs = 10000;

class Shim {
public:
    explicit Shim(const ShimArgs& args) : args_(args), store_(*args.store), netns_sock_(args.netns_fd) {}
    int run();

private:
    void prepare();
    void spawn_init();
    bool wait_for_exec(const ContainerState& loaded);  // true once the command is running
    void event_loop();
    void pump(int fd, const char* stream, bool& eof);
    void reap();
    void release_setup_memory();
    void finish();
    void record_failure(ContainerState st, int code, const std::string& message);
    void record_log_drops() noexcept;
    void rewrite_lost_state() noexcept;
    // What the log lost to a full disk, into a record about to be written.
    void note_log_drops(ContainerState& st) const {
        if (!log_) return;
        LogWriter::Dropped d = log_->dropped();
        st.log_dropped_lines = d.lines;
        st.log_dropped_bytes = d.bytes;
    }
    ContainerState exit_record(int code, int sig, bool oom);
    void save_exit_record(int code, int sig, bool oom) noexcept;
    void remove_container();
    void remove_cgroup() noexcept;
    void release_stdio() noexcept;
    void register_with_monitor();
    // Soft or hard RSS limits for the memory monitor to enforce.
    bool memory_limited() const { return config_.monitor_soft || config_.monitor_hard; }
    void hold_mount_namespace();
    void drain_monitor();
    void leave_monitor() noexcept;
    void record_soft_crossing(const MonitorEvent& ev);
    void report(const std::string& line);

    ShimArgs args_;
    const Store& store_;
    ContainerConfig config_;
    InitSpec spec_;
    std::optional<Cgroup> cgroup_;
    uint64_t oom_kills_before_ = 0;
    std::unique_ptr<LogWriter> log_;
    Pipe out_, err_, go_, exec_err_, seccomp_;
    // The CLI's NetnsMaker socket (fd 5), and the namespace read from it.
    UniqueFd netns_sock_, netns_;
    UniqueFd sigfd_;
    pid_t child_ = -1;
    bool child_done_ = false;
    int wait_status_ = 0;
    bool relay_ = false;
    // The CLI's lock on the container, shared with us over the spawn: it covers
    // everything up to the "started"/"failed" report. Taking the lock anew
    // before then would deadlock against the CLI waiting for that report.
    FileLock startup_lock_;
    UniqueFd alive_mark_;  // see hold_shim_mark()
    std::string failure_report_;
    std::unique_ptr<Monitor> monitor_;
    std::optional<MonitorRecord> monitor_record_;

    // Terminal and attach (-t / -i): clients connect to the attach socket.
    void accept_client();
    void await_terminal_client();
    void serve_client(int fd);
    void broadcast(std::string_view data);
    UniqueFd console_parent_, console_child_;  // socketpair: init → shim pty master
    UniqueFd master_;                          // the container's pty master
    Pipe stdin_;                               // detached -i without -t
    UniqueFd listener_;
    std::vector<UniqueFd> clients_;
    std::string pending_output_;  // output before the first client connected
    bool had_client_ = false;
    int epoll_ = -1;
    UniqueFd mount_ns_;  // the container's, held until its exit is reported
    bool drop_pages_ = false;
    bool guard_devices_ = false;  // attach the device allow-list to the group
    ContainerState running_state_;  // as recorded at the start (rewrite_lost_state)
};

// Output produced before anyone attached is kept (bounded) for the first
// client, so `run -it` never misses the shell's first prompt.
constexpr size_t kPendingOutputMax = 1 << 20;

void Shim::broadcast(std::string_view data) {
    if (!had_client_) {
        if (pending_output_.size() + data.size() <= kPendingOutputMax) pending_output_.append(data);
        return;
    }
    for (auto& c : clients_)
        if (c && !send_packet(c.get(), kMsgOutput, data)) c.reset();
}

void Shim::accept_client() {
    UniqueFd c(::accept4(listener_.get(), nullptr, nullptr, SOCK_CLOEXEC));
    if (!c) return;
    if (!had_client_) {
        had_client_ = true;
        if (!pending_output_.empty() && !send_packet(c.get(), kMsgOutput, pending_output_)) return;
        pending_output_.clear();
        pending_output_.shrink_to_fit();
    }
    epoll_event ev{};
    ev.events = EPOLLIN;
    ev.data.fd = c.get();
    if (epoll_ >= 0 && ::epoll_ctl(epoll_, EPOLL_CTL_ADD, c.get(), &ev) < 0) return;
    clients_.push_back(std::move(c));
}

// run -t in the foreground connects to the terminal once it hears
// "started": a command that is quicker than that (a loaded host, `echo`)
// has ended before. Its output waits in pending_output_ for that client,
// for as long as the CLI is there to connect.
void Shim::await_terminal_client() {
    if (!args_.tty_client || had_client_ || !listener_ || args_.report_fd < 0) return;
    pollfd fds[2] = {{listener_.get(), POLLIN, 0}, {args_.report_fd, 0, 0}};
    int64_t deadline = monotonic_ms() + kAwaitClientMs;
    while (!had_client_) {
        int left = static_cast<int>(std::max<int64_t>(0, deadline - monotonic_ms()));
        int n = ::poll(fds, 2, left);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0 || (fds[1].revents & (POLLERR | POLLHUP))) return;  // late, or the CLI is gone
        if (fds[0].revents & POLLIN) accept_client();
    }
}

void Shim::serve_client(int fd) {
    char type;
    std::string payload;
    bool ok = recv_packet(fd, type, payload);
    if (ok && type == kMsgData) {
        int target = master_ ? master_.get() : stdin_.write.get();
        if (target >= 0) write_all_nothrow(target, payload);
    } else if (ok && type == kMsgWinsize && payload.size() == 4 && master_) {
        WindowSize ws;
        std::memcpy(&ws.rows, payload.data(), 2);
        std::memcpy(&ws.cols, payload.data() + 2, 2);
        set_window_size(master_.get(), ws);
    } else if (ok && type == kMsgCloseStdin) {
        stdin_.write.reset();
        if (master_) write_all_nothrow(master_.get(), "\x04");  // EOF on a terminal
    }
    if (!ok) {
        ::epoll_ctl(epoll_, EPOLL_CTL_DEL, fd, nullptr);
        for (auto& c : clients_)
            if (c.get() == fd) c.reset();
        std::erase_if(clients_, [](const UniqueFd& c) { return !c; });
    }
}

// The id the monitor knows the container by: its name when it fits (the
// kernel log then reads container=web), else the id's first 63 characters.
std::string monitor_id_for(const ContainerConfig& c) {
    return c.name.size() <= kMonitorIdMax ? c.name : c.id.substr(0, kMonitorIdMax);
}

void Shim::register_with_monitor() {
    bool limited = memory_limited();
    try {
        monitor_ = open_monitor();
    } catch (const Error& e) {
        if (limited) throw;
        log_->note("minirt: memory monitor unavailable: " + e.message());
        return;
    }
    if (!monitor_) {
        if (limited) throw Error("the memory monitor (/dev/container_monitor) is gone; cannot apply --soft-mib/--hard-mib");
        return;
    }
    MonitorRecord rec;
    rec.backend = monitor_->backend();
    rec.id = monitor_id_for(config_);
    rec.soft_limit = config_.monitor_soft;
    rec.hard_limit = config_.monitor_hard;
    try {
        try {
            monitor_->add(child_, rec.id, rec.soft_limit, rec.hard_limit);
        } catch (const Error& e) {
            // Another root's container may hold the name: the id is unique.
            if (e.errno_value() != EEXIST || rec.id == args_.id.substr(0, kMonitorIdMax)) throw;
            rec.id = args_.id.substr(0, kMonitorIdMax);
            monitor_->add(child_, rec.id, rec.soft_limit, rec.hard_limit);
        }
    } catch (const Error& e) {
        // With limits asked for, running unwatched would break a promise;
        // without, the container runs and the log says why it is unwatched.
        if (limited) throw;
        // A container without limits is registered after its start: one
        // that has ended already (ESRCH) has nothing left to watch.
        if (e.errno_value() != ESRCH) log_->note("minirt: not watched by the memory monitor: " + e.message());
        monitor_.reset();
        return;
    }
    monitor_record_ = rec;
}

void Shim::leave_monitor() noexcept {
    if (!monitor_ || !monitor_record_) return;
    try {
        monitor_->remove(monitor_record_->id);
    } catch (const Error&) {
        // It drops exited containers by itself at its next scan.
    }
}

void Shim::record_soft_crossing(const MonitorEvent& ev) {
    monitor_record_->soft_crossed = MonitorRecord::Crossing{ev.rss, ev.limit, now_ns()};
    log_->note("minirt: memory monitor: SOFT LIMIT crossed: rss=" + std::to_string(ev.rss) +
               " limit=" + std::to_string(ev.limit));
    FileLock lock = store_.lock(args_.id);
    if (lock.stale()) return;
    auto st = store_.load_state(args_.id);
    if (!st) return;
    st->monitor = monitor_record_;
    store_.save_state(*st);
}

void Shim::drain_monitor() {
    if (!monitor_) return;
    while (auto ev = monitor_->next_event()) {
        if (ev->id != monitor_record_->id) continue;  // another container's
        if (ev->type == MonitorEvent::Type::Soft) {
            record_soft_crossing(*ev);
        } else if (ev->type == MonitorEvent::Type::Hard) {
            monitor_record_->hard_killed = MonitorRecord::Crossing{ev->rss, ev->limit, now_ns()};
            log_->note("minirt: memory monitor: HARD LIMIT: killed at rss=" + std::to_string(ev->rss) +
                       " limit=" + std::to_string(ev->limit));
        }
    }
}

void Shim::report(const std::string& line) {
    if (args_.report_fd >= 0 && !write_all_nothrow(args_.report_fd, line + "\n")) {
        ::close(args_.report_fd);  // the CLI is gone; carry on without it
        args_.report_fd = -1;
    }
}

void Shim::prepare() {
    config_ = store_.load_config(args_.id);
    const Paths& p = store_.paths();
    // The CLI read image.json when it made the config; all the shim needs
    // of the image is its rootfs (an image in use cannot be removed).
    if (::access(p.image_rootfs(config_.image).c_str(), F_OK) < 0)
        throw Error("no such image \"" + config_.image + "\" (see `minirt images`)");
    spec_.rootfs.lower = p.image_rootfs(config_.image).string();
    spec_.rootfs.upper = p.upper_dir(args_.id).string();
    spec_.rootfs.work = p.work_dir(args_.id).string();
    spec_.rootfs.merged = p.merged_dir(args_.id).string();
    spec_.rootfs.propagate_mounts = config_.propagate_mounts;
    spec_.hostname = config_.hostname;
    spec_.argv = config_.command;
    spec_.env = config_.env;
    spec_.workdir = config_.workdir;
    spec_.new_ipc = !config_.share_ipc;
    spec_.new_net = config_.network != "host";
    spec_.new_cgroupns = config_.cgroupns == "private";
    spec_.tty = config_.tty;
    spec_.nice = config_.resources.nice;
    spec_.pin_cpu = config_.resources.pin_cpu;
    const Security& sec = config_.security;
    spec_.security = security_spec(sec);
    if (!sec.privileged) {
        spec_.rootfs.masked_paths = default_masked_paths();
        spec_.rootfs.readonly_paths = default_readonly_paths();
    }
    spec_.rootfs.read_only_sys = !sec.privileged;
    spec_.rootfs.read_only_root = sec.read_only;
    if (sec.userns()) {
        // The mapped root must own the upper layer's top (the container's
        // "/"), or it could not create anything there.
        uid_t root_uid = *host_id_for(sec.uid_map, 0);
        gid_t root_gid = *host_id_for(sec.gid_map, 0);
        for (const auto& dir : {spec_.rootfs.upper, spec_.rootfs.work})
            if (::chown(dir.c_str(), root_uid, root_gid) < 0) throw_errno("chown " + dir + " to the container's root");
        spec_.userns = std::make_shared<UniqueFd>(make_userns(sec.uid_map, sec.gid_map));
        spec_.rootfs.idmap_userns_fd = spec_.userns->get();
    }

    log_ = std::make_unique<LogWriter>(p.log_file(args_.id), config_.log_max_size);
    out_ = make_pipe();
    err_ = make_pipe();
    // Bigger pipes: a chatty container blocks less often and the shim wakes
    // once per megabyte rather than once per 64 KiB (best effort: the
    // kernel caps it at /proc/sys/fs/pipe-max-size).
    ::fcntl(out_.write.get(), F_SETPIPE_SZ, kPipeSize);
    ::fcntl(err_.write.get(), F_SETPIPE_SZ, kPipeSize);
    go_ = make_pipe();
    exec_err_ = make_pipe();
    // The seccomp filter travels over it, and with it the news that the
    // device filter holds (see spawn_init): made below, once that is known.
    if (config_.tty) {
        int sv[2];
        if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0) throw_errno("socketpair");
        console_parent_.reset(sv[0]);
        console_child_.reset(sv[1]);
    }
    if (config_.interactive && !config_.tty && !args_.pass_stdin) stdin_ = make_pipe();
    if (config_.tty || (config_.interactive && !args_.pass_stdin))
        listener_ = listen_attach_socket(p.state_dir(args_.id) / "attach.sock");

    // An exit record an earlier run left under --storage (a full --root)
    // says nothing about this one.
    ::unlink(p.exit_fallback(args_.id).c_str());
    if ((cgroup_ = container_cgroup(args_.id))) {
        cgroup_->remove();  // a leftover of an earlier run of this container
        cgroup_->create(config_.resources);
        apply_resources(cgroup_->path(), config_.resources);
        oom_kills_before_ = cgroup_->read_key("memory.events", "oom_kill").value_or(0);
    }
    // Devices: the allow-list is an eBPF program on the container's v2
    // group (which exists on hybrid hosts too). Without a group, /dev is
    // made nodev like every other writable mount instead.
    guard_devices_ = !sec.privileged && cgroup_;
    spec_.rootfs.dev_nodev = !sec.privileged && !cgroup_;
    spec_.rootfs.mount_cgroup = spec_.new_cgroupns && cgroup_;
    if (!cgroup_) spec_.new_cgroupns = false;  // nothing of its own to show
    if (wants_seccomp(spec_.security) || guard_devices_) seccomp_ = make_pipe();
}

void Shim::spawn_init() {
    if (netns_sock_) {
        netns_ = recv_fd(netns_sock_.get());  // EOF: none was made; the init makes it
        netns_sock_.reset();
        // The CLI decided as we would; should it ever not, the config wins.
        if (!spec_.new_net || spec_.userns) netns_.reset();
    }
    // The init is born PID 1 of a new namespace and, where the kernel can,
    // directly inside its cgroup (clone3 CLONE_INTO_CGROUP): moving a task
    // with cgroup.procs waits for an RCU grace period, ~10 ms of every start.
    bool born_in_cgroup = false;
    if (cgroup_) {
        UniqueFd dir(::open(cgroup_->path().c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
        if (dir) {
            clone_args ca{};
            ca.flags = CLONE_NEWPID | CLONE_INTO_CGROUP;
            ca.exit_signal = SIGCHLD;
            ca.cgroup = static_cast<__u64>(dir.get());  // open, so >= 0
            child_ = static_cast<pid_t>(::syscall(SYS_clone3, &ca, sizeof ca));
            born_in_cgroup = child_ >= 0;
        }
    }
    if (!born_in_cgroup) {
        // After unshare(CLONE_NEWPID) our next child is PID 1 of a new namespace.
        if (::unshare(CLONE_NEWPID) < 0) throw_errno("unshare PID namespace");
        child_ = ::fork();
    }
    if (child_ < 0) throw_errno("fork container init");
    if (child_ == 0) {
        InitFds fds{go_.read.get(), exec_err_.write.get(), out_.write.get(), err_.write.get()};
        fds.stdin_r = args_.pass_stdin ? 0 : stdin_.read.get();
        fds.console = console_child_.get();
        fds.seccomp = seccomp_.read.get();
        fds.netns = netns_.get();
        // Ours alone: with them closed here, the init reads EOF when the shim
        // dies, and the shim's sign of life (alive_mark_) dies with the shim.
        if (seccomp_.write) ::close(seccomp_.write.get());
        ::close(go_.write.get());
        if (alive_mark_) ::close(alive_mark_.get());
        if (fds.console >= 0) ::fcntl(fds.console, F_SETFD, 0);
        if (fds.stdin_r > 0) ::fcntl(fds.stdin_r, F_SETFD, 0);
        // The error pipe must survive until exec and vanish at it.
        ::fcntl(fds.error, F_SETFD, FD_CLOEXEC);
        ::fcntl(fds.go, F_SETFD, 0);
        container_init(spec_, fds);
    }
    go_.read.reset();
    exec_err_.write.reset();
    netns_.reset();
    console_child_.reset();
    stdin_.read.reset();
    if (args_.pass_stdin) {
        // The container owns the CLI's stdin now; we must not read it.
        int devnull = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
        ::dup2(devnull, 0);
        ::close(devnull);
    }
    out_.write.reset();
    err_.write.reset();
    if (cgroup_ && !born_in_cgroup) cgroup_->add_process(child_);
    // Limits must hold before the command runs; a container without any is
    // only watched, and is registered once the init is on its way.
    bool limited = memory_limited();
    if (limited) register_with_monitor();
    // EPIPE: the init failed already (a setns, say); wait_for_exec() reads
    // why from the error pipe, which is what the CLI must hear.
    if (!write_all_nothrow(go_.write.get(), "g") && errno != EPIPE) throw_errno("release container init");
    go_.write.reset();
    // The device filter and libseccomp's most-of-a-millisecond, while the
    // init mounts (its own mknods in /dev are allowed anyway). The init
    // waits for the seccomp message before it runs anything of the user's,
    // so both hold by then.
    seccomp_.read.reset();
    if (guard_devices_) attach_device_filter(cgroup_->path().string(), default_allowed_devices());
    if (seccomp_.write) {
        SeccompProgram program = seccomp_program_for(spec_.security);
        if (!send_seccomp(seccomp_.write.get(), program) && errno != EPIPE)
            throw_errno("seccomp: hand the filter to the container");
        seccomp_.write.reset();
    }
    if (!limited) register_with_monitor();
    // With -t, init sends its pty master before exec (or dies trying: EOF).
    if (console_parent_) {
        master_ = recv_fd(console_parent_.get());
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
    std::string msg;
    char buf[4096];
    for (;;) {
        ssize_t n = ::read(exec_err_.read.get(), buf, sizeof buf);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) break;
        msg.append(buf, static_cast<size_t>(n));
    }
    exec_err_.read.reset();
    if (msg.empty()) {
        // EOF with no message: exec succeeded (the pipe was close-on-exec).
        // Init only dies silently when we are gone, so any status here is
        // the command's. A command that has already exited is reaped now and
        // its status kept: its SIGCHLD is no longer news to the event loop.
        int status;
        if (::waitpid(child_, &status, WNOHANG) == child_) {
            wait_status_ = status;
            child_done_ = true;
        }
        return true;
    }
    auto space = msg.find(' ');
    int code = kExitMinirtError;
    try {
        code = static_cast<int>(parse_int(msg.substr(0, space), "exit code", 1, 255));
    } catch (const Error&) {
    }
    ::waitpid(child_, &wait_status_, 0);
    child_done_ = true;
    record_failure(loaded, code, space == std::string::npos ? msg : msg.substr(space + 1));
    return false;
}

void Shim::record_failure(ContainerState st, int code, const std::string& message) {
    st.status = Status::Exited;
    st.exit_code = code;
    st.exit_signal = 0;
    st.reason = "exec-failed";
    st.error = message;
    st.finished_ns = now_ns();
    st.pid = 0;
    st.shim_pid = 0;
    store_.save_state(st);
    log_->note("minirt: " + message);
    failure_report_ = "failed " + std::to_string(code) + " " + message;
}

void Shim::pump(int fd, const char* stream, bool& eof) {
    static char buf[kPipeSize];  // one shim, one loop: no need for the stack
    ssize_t n = ::read(fd, buf, sizeof buf);
    if (n < 0) {
        if (errno == EINTR || errno == EAGAIN) return;
        eof = true;
        return;
    }
    if (n == 0) {
        eof = true;
        return;
    }
    std::string_view data(buf, static_cast<size_t>(n));
    log_->append(stream, data);
    if (listener_) broadcast(data);
    if (relay_) {
        int target = std::strcmp(stream, "stdout") == 0 ? 1 : 2;
        if (!write_all_nothrow(target, data)) relay_ = false;  // the attached CLI went away
    }
}

// Unmaps the pages of our own executable that setup faulted in and the
// idle loop does not need. Only mappings of the file that were never
// written (no anonymous, copy-on-write pages: text, read-only data) are
// dropped, so nothing is lost: a page touched again is faulted back in from
// the page cache, which every shim shares. The ranges are collected first
// and dropped last, right before the loop waits, so that little code runs
// (and faults its pages back) after the drop.
void drop_clean_file_pages() noexcept {
    struct Range {
        unsigned long start, end;
    };
    Range ranges[16];
    size_t count = 0;
    FILE* smaps = std::fopen("/proc/self/smaps", "re");
    if (!smaps) return;
    char line[512];
    Range current{};
    bool candidate = false;
    while (std::fgets(line, sizeof line, smaps)) {
        char perms[8] = "";
        char path[256] = "";
        unsigned long from = 0, to = 0, anon = 0;
        if (std::sscanf(line, "%lx-%lx %7s %*s %*s %*s %255s", &from, &to, perms, path) >= 3) {
            current = {from, to};
            candidate = path[0] == '/' && std::strchr(perms, 'w') == nullptr;
        } else if (candidate && std::sscanf(line, "Anonymous: %lu kB", &anon) == 1) {
            if (anon == 0 && count < std::size(ranges)) ranges[count++] = current;
            candidate = false;
        }
    }
    std::fclose(smaps);
    for (size_t i = 0; i < count; ++i)
        ::madvise(reinterpret_cast<void*>(ranges[i].start), ranges[i].end - ranges[i].start, MADV_DONTNEED);
}

void Shim::release_setup_memory() {
    // The shim idles for as long as the container runs, once per container:
    // give back what only the setup needed (the init's spec, the config's
    // parsed JSON, the code that ran once) so an idle shim holds little more
    // than its loop.
    spec_ = InitSpec{};
    config_.env.clear();
    config_.env.shrink_to_fit();
    config_.command.clear();
    config_.command.shrink_to_fit();
    ::malloc_trim(0);
    drop_pages_ = true;  // by the event loop, right before it first waits
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
        }
    }
}

void Shim::event_loop() {
    UniqueFd ep(::epoll_create1(EPOLL_CLOEXEC));
    if (!ep) throw_errno("epoll_create1");
    epoll_ = ep.get();
    auto add = [&](int fd) {
        epoll_event ev{};
        ev.events = EPOLLIN;
        ev.data.fd = fd;
        if (::epoll_ctl(ep.get(), EPOLL_CTL_ADD, fd, &ev) < 0) throw_errno("epoll_ctl");
    };
    add(out_.read.get());
    add(err_.read.get());
    add(sigfd_.get());
    if (monitor_) add(monitor_->event_fd());
    if (listener_) add(listener_.get());
    if (master_) add(master_.get());
    bool out_eof = false, err_eof = false, tty_eof = !master_;
    int64_t exit_seen_ms = -1;
    if (drop_pages_) drop_clean_file_pages();
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
                    else if (static_cast<int>(si.ssi_signo) == rewrite_state_signal()) rewrite_lost_state();
                    else if (!child_done_) ::kill(child_, static_cast<int>(si.ssi_signo));
                }
            } else if (monitor_ && fd == monitor_->event_fd()) {
                drain_monitor();
            } else if (listener_ && fd == listener_.get()) {
                accept_client();
            } else if (master_ && fd == master_.get() && !tty_eof) {
                // EIO once the last holder of the terminal's slave side exits.
                pump(fd, "stdout", tty_eof);
                if (tty_eof) ::epoll_ctl(ep.get(), EPOLL_CTL_DEL, fd, nullptr);
            } else if (fd == out_.read.get() && !out_eof) {
                pump(fd, "stdout", out_eof);
                if (out_eof) ::epoll_ctl(ep.get(), EPOLL_CTL_DEL, fd, nullptr);
            } else if (fd == err_.read.get() && !err_eof) {
                pump(fd, "stderr", err_eof);
                if (err_eof) ::epoll_ctl(ep.get(), EPOLL_CTL_DEL, fd, nullptr);
            } else {
                serve_client(fd);
            }
        }
        if (log_->take_drops_changed()) record_log_drops();
    }
    epoll_ = -1;  // closed with `ep`: a late client is served without it
}

void Shim::remove_container() {
    FileLock lock = startup_lock_.held() ? std::move(startup_lock_) : store_.lock(args_.id);
    if (!lock.stale()) store_.remove(args_.id, lock);
}

void Shim::finish() {
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
    if (!config_.auto_remove) mount_ns_.reset();
    // The monitor's HARD event may still be queued behind the child's exit.
    drain_monitor();
    leave_monitor();
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
        save_exit_record(code, sig, oom);
    }
    await_terminal_client();
    for (auto& c : clients_)
        if (c) send_packet(c.get(), kMsgExit, std::to_string(code));
    clients_.clear();
    report("exited " + std::to_string(code));
    // An attached CLI's stdout may be a pipe someone reads to EOF
    // (`$(minirt run --rm ...)`): it must not wait for the purge.
    release_stdio();
    if (unlisted) {
        remove_cgroup();  // first: once purged, nothing would name it any more
        if (!unlisted->stale()) store_.purge(args_.id, *unlisted);
    }
    mount_ns_.reset();  // --rm: now the kernel unmounts the container's filesystems
}

ContainerState Shim::exit_record(int code, int sig, bool oom) {
    std::optional<ContainerState> loaded;
    try {
        loaded = store_.load_state(args_.id);
    } catch (const Error&) {
        // Damaged: rebuilt from what we know.
    }
    ContainerState st = loaded.value_or(ContainerState{});
    if (!loaded) {
        // /run was emptied under us: what we know is the truth.
        st.pid = child_;
        st.shim_pid = ::getpid();
        st.cgroup = cgroup_ ? cgroup_->path().string() : std::string();
    }
    st.id = args_.id;
    st.status = Status::Exited;
    st.exit_code = code;
    st.exit_signal = sig;
    st.finished_ns = now_ns();
    st.monitor = monitor_record_;
    note_log_drops(st);
    if (monitor_record_ && monitor_record_->hard_killed) st.reason = "memory hard limit";
    else if (oom) st.reason = "oom-killed";
    else if (st.stop_requested) st.reason = "stopped";
    else if (sig) st.reason = "killed";
    else st.reason = "exited";
    return st;
}

// The exit is what every later command asks about: it must not be lost to
// a full --root. It goes to state.json if it can, else to a file beside the
// container's config under --storage (read in its place), and state.json is
// tried again a few times, briefly, before the shim gives up on it.
void Shim::save_exit_record(int code, int sig, bool oom) noexcept {
    std::optional<ContainerState> st;
    // Read, changed and written under the container's lock, as every update.
    auto save = [&] {
        try {
            // Removed meanwhile (rm -f while we tore down): nobody to tell,
            // and nothing of it may be made again, not even its lock file.
            if (!store_.exists(args_.id)) return true;
            FileLock lock = store_.lock(args_.id);
            if (lock.stale()) return true;
            if (!store_.exists(args_.id)) {
                lock.unlink_and_release();
                return true;
            }
            if (!st) st = exit_record(code, sig, oom);
            store_.save_state(*st);
            return true;
        } catch (const Error& e) {
            if (log_) log_->note("minirt: recording the exit: " + e.message());
            return false;
        }
    };
    if (save()) return;
    fs::path fallback = store_.paths().exit_fallback(args_.id);
    try {
        if (!st) st = exit_record(code, sig, oom);
        store_.save_exit_fallback(*st);
    } catch (const Error& e) {
        if (log_) log_->note("minirt: recording the exit under --storage: " + e.message());
    }
    // The record stands: readers no longer take this shim for a running
    // container's while it tries state.json again.
    alive_mark_.reset();
    for (int delay_ms = 50; delay_ms <= 800; delay_ms *= 2) {
        ::usleep(static_cast<useconds_t>(delay_ms) * 1000);
        if (save()) {
            ::unlink(fallback.c_str());
            return;
        }
    }
}

void Shim::rewrite_lost_state() noexcept {
    try {
        // Not yet started (nothing recorded to rewrite), or removed.
        if (running_state_.id.empty() || !store_.exists(args_.id)) return;
        FileLock lock = store_.lock(args_.id);
        if (lock.stale() || store_.load_state(args_.id)) return;  // there after all
        ContainerState st = running_state_;
        st.monitor = monitor_record_;
        note_log_drops(st);
        store_.save_state(st);
        // The old mark is on the lost directory: list would not see it.
        alive_mark_ = hold_shim_mark(store_.paths().state_dir(args_.id));
    } catch (const Error&) {
        // Asked again by the next command that finds the record missing.
    }
}

void Shim::record_log_drops() noexcept {
    try {
        FileLock lock = store_.lock(args_.id);
        if (lock.stale()) return;
        auto st = store_.load_state(args_.id);
        if (!st) return;
        note_log_drops(*st);
        store_.save_state(*st);
    } catch (const Error&) {
        // Counted again at the exit.
    }
}

void Shim::release_stdio() noexcept {
    int devnull = ::open("/dev/null", O_RDWR | O_CLOEXEC);
    if (devnull < 0) return;
    for (int fd = 0; fd <= 2; ++fd) ::dup2(devnull, fd);
    if (devnull > 2) ::close(devnull);
    relay_ = false;
}

void Shim::remove_cgroup() noexcept {
    if (!cgroup_) return;
    try {
        cgroup_->remove();
    } catch (const Error& e) {
        log_->note("minirt: " + e.message());
    }
}

int Shim::run() {
    ::prctl(PR_SET_NAME, "minirt-shim");
    // We reap everything below us, so no zombie outlives its parent in here.
    ::prctl(PR_SET_CHILD_SUBREAPER, 1);
    ::signal(SIGPIPE, SIG_IGN);
    sigset_t mask;
    sigemptyset(&mask);
    for (int s : {SIGCHLD, SIGTERM, SIGINT, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2, rewrite_state_signal()})
        sigaddset(&mask, s);
    ::sigprocmask(SIG_BLOCK, &mask, nullptr);
    sigfd_.reset(::signalfd(-1, &mask, SFD_CLOEXEC | SFD_NONBLOCK));
    relay_ = args_.attached;
    startup_lock_ = FileLock::adopt(args_.lock_fd, store_.paths().lock_file(args_.id));
    try {
        alive_mark_ = hold_shim_mark(store_.paths().state_dir(args_.id));
    } catch (const Error&) {
        // Without it, `list` asks /proc about this container instead.
    }

    try {
        prepare();
        spawn_init();
    } catch (const Error& e) {
        if (child_ > 0) {
            ::kill(child_, SIGKILL);
            ::waitpid(child_, nullptr, 0);
        }
        leave_monitor();
        if (cgroup_) {
            try {
                cgroup_->remove();
            } catch (const Error&) {
            }
        }
        // Nothing was started: the CLI undoes creation itself for `run`.
        report("failed " + std::to_string(e.exit_code()) + " " + e.message());
        return 1;
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
        leave_monitor();
        if (cgroup_) cgroup_->remove();
        if (config_.auto_remove) remove_container();
        startup_lock_.release();
        report(failure_report_);
        return 0;
    }
    {
        // Still covered by the lock the CLI took before spawning us.
        st.status = Status::Running;
        st.started_ns = now_ns();
        st.finished_ns = 0;
        st.exit_code.reset();
        st.exit_signal = 0;
        st.reason.clear();
        st.error.clear();
        st.stop_requested = false;
        st.monitor = monitor_record_;
        store_.save_state(st);
        running_state_ = st;
        startup_lock_.release();
        report("started " + std::to_string(st.pid) + " " + std::to_string(st.pid_start));
        // What `start` needs after a reboot must survive a crash: config.json
        // and its directory entries. Done here, after the CLI has its answer.
        if (!config_.auto_remove) make_durable(store_.paths().config_file(args_.id));
    }
    release_setup_memory();
    event_loop();
    if (!child_done_) {
        ::kill(child_, SIGKILL);
        ::waitpid(child_, &wait_status_, 0);
    }
    finish();
    return 0;
}

}  // namespace

void run_shim(const ShimArgs& args) noexcept {
    int rc = 1;
    try {
        Shim shim(args);
        rc = shim.run();
    } catch (const std::exception& e) {
        if (args.report_fd >= 0) write_all_nothrow(args.report_fd, std::string("failed 125 ") + e.what() + "\n");
    }
    _exit(rc);
}

}  // namespace minirt
