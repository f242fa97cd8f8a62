// The eBPF backend of the memory monitor. The program (runtime/bpf/
// monitor.bpf.c, embedded here as a libbpf skeleton) sits on the
// kmem/rss_stat tracepoint and keeps per-container RSS totals keyed by the
// container's cgroup id; see docs/kernel-monitor.md, "The eBPF backend".
//
// No daemon owns it: the first shim whose container has a limit loads it
// and pins the attachment and the maps under /sys/fs/bpf/minirt/v<ABI>/;
// later shims open the pins; the shim that removes the last container
// unpins everything, which detaches the program once no fd holds it. One
// flock (/run/minirt-bpf.lock) serialises load, register, unregister and
// unpin, so concurrent first starts load it once and nobody registers
// into pins that are being removed.
#include "linux/monitor_bpf.hpp"

#include <fcntl.h>
#include <linux/magic.h>
#include <linux/types.h>
#include <sys/eventfd.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <csignal>
#include <cstdlib>
#include <cstring>
#include <deque>
#include <vector>

#include "common/error.hpp"
#include "common/parse.hpp"
#include "common/fd.hpp"
#include "common/file.hpp"
#include "linux/cgroup.hpp"
#include "monitor_abi.h"
#include "common/file_lock.hpp"
#include "linux/libbpf_util.hpp"

#if MINIRT_HAVE_BPF
#define MINIRT_BPF_SKELETON "monitor.skel.h"
#include "linux/bpf_skeleton.hpp"
#endif

namespace minirt {

namespace {

#if MINIRT_HAVE_BPF

const fs::path kBpffs = "/sys/fs/bpf";

fs::path pin_dir() { return fs::path(kBpfPinRoot) / ("v" + std::to_string(MINIRT_BPF_ABI)); }
const char* const kPins[] = {"link", "containers", "mms", "rings", "lost"};

bool is_fs(const fs::path& p, long magic) {
    struct statfs st {};
    return ::statfs(p.c_str(), &st) == 0 && static_cast<long>(st.f_type) == magic;
}

// bpffs for the pins, tracefs for libbpf to find the tracepoint's id.
void ensure_filesystems() {
    if (!is_fs(kBpffs, BPF_FS_MAGIC)) {
        if (::mount("bpf", kBpffs.c_str(), "bpf", MS_NOSUID | MS_NODEV | MS_NOEXEC, "mode=0700") < 0)
            throw_errno("mount the BPF filesystem (bpffs) at " + kBpffs.string() +
                        ", where the eBPF memory monitor pins its program");
    }
    ensure_tracefs("the eBPF memory monitor (kmem/rss_stat)");
}

bool pins_complete() {
    for (const char* p : kPins)
        if (::access((pin_dir() / p).c_str(), F_OK) != 0) return false;
    return true;
}

void unpin_all() {
    for (const char* p : kPins) ::unlink((pin_dir() / p).c_str());
    ::rmdir(pin_dir().c_str());
    ::rmdir(kBpfPinRoot);  // fails if another ABI version is pinned there: fine
}

UniqueFd get_pin(const char* name) {
    UniqueFd fd(bpf_obj_get((pin_dir() / name).c_str()));
    if (!fd) throw_errno("open the eBPF memory monitor's pin " + (pin_dir() / name).string());
    return fd;
}

// Loads, attaches and pins the program (the caller holds the lock).
void load_and_pin() {
    quiet_libbpf();
    unpin_all();  // leftovers of a crash: a partial set is useless
    minirt_monitor* skel = minirt_monitor__open_and_load();
    if (!skel) throw Error(errno, "load the eBPF memory monitor" + libbpf_detail());
    auto cleanup = [&] { minirt_monitor__destroy(skel); };
    try {
        if (minirt_monitor__attach(skel) != 0)
            throw Error(errno, "attach the eBPF memory monitor to kmem/rss_stat" + libbpf_detail());
        make_dirs(pin_dir(), 0700);
        auto pin = [&](int rc, const char* name) {
            if (rc != 0) throw Error(-rc, "pin " + (pin_dir() / name).string() + libbpf_detail());
        };
        pin(bpf_link__pin(skel->links.rss_stat, (pin_dir() / "link").c_str()), "link");
        pin(bpf_map__pin(skel->maps.containers, (pin_dir() / "containers").c_str()), "containers");
        pin(bpf_map__pin(skel->maps.mms, (pin_dir() / "mms").c_str()), "mms");
        pin(bpf_map__pin(skel->maps.rings, (pin_dir() / "rings").c_str()), "rings");
        pin(bpf_map__pin(skel->maps.lost, (pin_dir() / "lost").c_str()), "lost");
    } catch (...) {
        cleanup();
        unpin_all();
        throw;
    }
    // The pins hold the program and the maps now.
    cleanup();
}

// The init's start time (field 22 of /proc/PID/stat), 0 if it is gone.
uint64_t start_time(int pid) {
    auto text = read_file_if_exists("/proc/" + std::to_string(pid) + "/stat");
    if (!text) return 0;
    auto rp = text->rfind(')');
    if (rp == std::string::npos) return 0;
    // Fields 3.. follow the ")" that ends the command's name.
    auto fields = words(std::string_view(*text).substr(rp + 1));
    if (fields.size() < 20) return 0;
    return std::strtoull(std::string(fields[19]).c_str(), nullptr, 10);
}

std::vector<uint64_t> keys_of(int map_fd) {
    std::vector<uint64_t> keys;
    uint64_t key = 0, next = 0;
    const void* prev = nullptr;
    while (keys.size() < 2 * MINIRT_BPF_MAX_CONTAINERS && bpf_map_get_next_key(map_fd, prev, &next) == 0) {
        keys.push_back(next);
        key = next;
        prev = &key;
    }
    return keys;
}

// Drops the entries of containers whose init is gone without a remove()
// (a shim that was SIGKILLed): they would hold the pins forever.
void sweep_stale(int containers_fd, int rings_fd) {
    for (uint64_t cgid : keys_of(containers_fd)) {
        mb_container c{};
        if (bpf_map_lookup_elem(containers_fd, &cgid, &c) != 0) continue;
        if (c.pid > 0 && start_time(c.pid) == c.init_start) continue;
        bpf_map_delete_elem(containers_fd, &cgid);
        bpf_map_delete_elem(rings_fd, &cgid);
    }
}

std::string cgroup_line(const std::string& proc_file) {
    auto text = read_file_if_exists(proc_file);
    if (!text) return "";
    for (std::string_view line : split(*text, '\n'))
        if (line.starts_with("0::")) return std::string(line.substr(3));
    return "";
}

void kmsg(int level, const std::string& line) {
    UniqueFd fd(::open("/dev/kmsg", O_WRONLY | O_CLOEXEC));
    if (fd) write_all_nothrow(fd.get(), "<" + std::to_string(level) + ">" + line + "\n");
}

class BpfMonitor final : public Monitor {
public:
    ~BpfMonitor() override {
        if (rb_) ring_buffer__free(rb_);
    }
    const char* backend() const override { return "eBPF (kmem/rss_stat, /sys/fs/bpf/minirt)"; }

    void add(int pid, const std::string& id, uint64_t soft, uint64_t hard) override {
        if (id.empty() || id.size() >= MINIRT_BPF_ID_LEN) throw Error(EINVAL, "monitor id \"" + id + "\"");
        for (char ch : id)
            if (ch < 0x21 || ch > 0x7e) throw Error(EINVAL, "monitor id \"" + id + "\"");
        if (soft && hard && soft > hard) throw Error(EINVAL, "monitor limits: soft above hard");
        if (ring_ || idle_) throw Error(EBUSY, "this monitor handle already watches a container");
        if (!soft && !hard) {
            // Watch-only: not worth a host-wide tracepoint (see the docs).
            idle_ = UniqueFd(::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK));
            if (!idle_) throw_errno("eventfd");
            id_ = id;
            return;
        }
        // The container is its cgroup: the init has joined it already.
        std::string rel = cgroup_line("/proc/" + std::to_string(pid) + "/cgroup");
        auto mount = find_cgroup2_mount();
        if (rel.empty() || !mount) throw Error(ENOENT, "the eBPF memory monitor needs the container's cgroup v2 group (pid " + std::to_string(pid) + " has none)");
        if (rel == "/" || rel == cgroup_line("/proc/self/cgroup"))
            throw Error(EINVAL, "the eBPF memory monitor needs the container in a cgroup of its own (pid " +
                                    std::to_string(pid) + " is in " + rel + ")");
        cgroup_ = *mount / rel.substr(1);
        struct stat st {};
        if (::stat(cgroup_.c_str(), &st) < 0) throw_errno("stat " + cgroup_.string());
        uint64_t cgid = st.st_ino;

        mb_container c{};
        c.soft_limit = soft;
        c.hard_limit = hard;
        c.pid = pid;
        c.init_start = start_time(pid);
        if (!c.init_start) throw Error(ESRCH, "register with the memory monitor: no process " + std::to_string(pid));
        std::memcpy(c.id, id.data(), id.size());

        FileLock lock = FileLock::acquire(kBpfLockPath);
        ensure_filesystems();
        if (!pins_complete()) load_and_pin();
        UniqueFd containers = get_pin("containers"), rings = get_pin("rings");
        sweep_stale(containers.get(), rings.get());
        for (uint64_t k : keys_of(containers.get())) {
            mb_container other{};
            if (bpf_map_lookup_elem(containers.get(), &k, &other) == 0 &&
                strncmp(other.id, c.id, MINIRT_BPF_ID_LEN) == 0)
                throw Error(EEXIST, "register with the memory monitor: id " + id + " is taken");
        }
        UniqueFd ring(bpf_map_create(BPF_MAP_TYPE_RINGBUF, "minirt_ring", 0, 0, MINIRT_BPF_RING_BYTES, nullptr));
        if (!ring) throw_errno("create the container's eBPF ring buffer");
        int ring_fd = ring.get();
        if (bpf_map_update_elem(rings.get(), &cgid, &ring_fd, BPF_ANY) != 0)
            throw_errno("register the container's eBPF ring buffer");
        if (bpf_map_update_elem(containers.get(), &cgid, &c, BPF_NOEXIST) != 0) {
            int err = errno;
            bpf_map_delete_elem(rings.get(), &cgid);
            throw Error(err, "register with the memory monitor (cgroup " + cgroup_.string() + ")");
        }
        quiet_libbpf();
        rb_ = ring_buffer__new(ring_fd, on_sample, this, nullptr);
        if (!rb_) {
            int err = errno;
            bpf_map_delete_elem(containers.get(), &cgid);
            bpf_map_delete_elem(rings.get(), &cgid);
            throw Error(err, "open the container's eBPF ring buffer" + libbpf_detail());
        }
        ring_ = std::move(ring);
        containers_ = std::move(containers);
        cgid_ = cgid;
        id_ = id;
        pid_ = pid;
    }

    void remove(const std::string& id) override {
        if (!ring_ || id != id_) return;
        FileLock lock = FileLock::acquire(kBpfLockPath);
        if (!pins_complete()) return;  // unpinned already: nothing is left to remove
        UniqueFd containers = get_pin("containers"), rings = get_pin("rings");
        bpf_map_delete_elem(containers.get(), &cgid_);
        bpf_map_delete_elem(rings.get(), &cgid_);
        sweep_stale(containers.get(), rings.get());
        // The last container gone: nobody needs the tracepoint any more.
        if (keys_of(containers.get()).empty()) unpin_all();
    }

    int event_fd() const override { return ring_ ? ring_.get() : idle_.get(); }

    std::optional<MonitorEvent> next_event() override {
        if (queue_.empty() && rb_) ring_buffer__consume(rb_);
        if (queue_.empty()) return std::nullopt;
        mb_event e = queue_.front();
        queue_.pop_front();
        MonitorEvent ev;
        ev.type = e.type == MB_EVENT_SOFT ? MonitorEvent::Type::Soft : MonitorEvent::Type::Hard;
        ev.id = id_;
        ev.pid = e.pid;
        ev.rss = e.rss;
        ev.limit = e.limit;
        std::string figures = " container=" + id_ + " pid=" + std::to_string(pid_) + " rss=" + std::to_string(e.rss) +
                              " limit=" + std::to_string(e.limit);
        if (ev.type == MonitorEvent::Type::Soft) {
            kmsg(5, "container_monitor: SOFT LIMIT" + figures);
        } else {
            // The program killed the process that crossed the limit; the
            // rest of the container goes now.
            int n = kill_rest();
            kmsg(4, "container_monitor: HARD LIMIT" + figures);
            kmsg(6, "container_monitor: killed " + (n < 0 ? std::string("all") : std::to_string(n)) +
                        " process(es) of container=" + id_);
        }
        return ev;
    }

    std::optional<MonitorEntry> query(const std::string& id) override {
        UniqueFd containers(bpf_obj_get((pin_dir() / "containers").c_str()));
        if (!containers) return std::nullopt;
        for (uint64_t k : keys_of(containers.get())) {
            mb_container c{};
            if (bpf_map_lookup_elem(containers.get(), &k, &c) != 0) continue;
            if (id != std::string(c.id, strnlen(c.id, sizeof c.id))) continue;
            MonitorEntry m;
            m.id = id;
            m.pid = c.pid;
            m.soft_limit = c.soft_limit;
            m.hard_limit = c.hard_limit;
            m.rss = c.rss > 0 ? static_cast<uint64_t>(c.rss) : 0;
            m.processes = c.nr_mms > 0 ? static_cast<uint32_t>(c.nr_mms) : 0;
            m.soft_crossed = c.flags & MB_SOFT_CROSSED;
            return m;
        }
        return std::nullopt;
    }

private:
    static int on_sample(void* ctx, void* data, size_t size) {
        auto* self = static_cast<BpfMonitor*>(ctx);
        if (size < sizeof(mb_event)) return 0;
        mb_event e;
        std::memcpy(&e, data, sizeof e);
        if (e.cgid == self->cgid_ && (e.type == MB_EVENT_SOFT || e.type == MB_EVENT_HARD)) self->queue_.push_back(e);
        return 0;
    }

    // SIGKILL for every process of the container: cgroup.kill, or one by
    // one from cgroup.procs on kernels without it. -1 = all (cgroup.kill).
    int kill_rest() {
        Cgroup cg(cgroup_);
        try {
            if (cg.kill_all()) return -1;
        } catch (const Error&) {
        }
        int n = 0;
        try {
            for (int p : cg.pids())
                if (::kill(p, SIGKILL) == 0) ++n;
        } catch (const Error&) {
        }
        return n;
    }

    UniqueFd ring_, idle_, containers_;
    ring_buffer* rb_ = nullptr;
    std::deque<mb_event> queue_;
    fs::path cgroup_;
    uint64_t cgid_ = 0;
    std::string id_;
    int pid_ = 0;
};

#endif  // MINIRT_HAVE_BPF

}  // namespace

std::optional<std::string> bpf_monitor_unsupported_reason() {
#if MINIRT_HAVE_BPF
    if (const char* off = std::getenv("MINIRT_NO_BPF_MONITOR"); off && *off && std::string(off) != "0")
        return std::string("disabled by MINIRT_NO_BPF_MONITOR");
    if (!find_cgroup2_mount()) return std::string("no cgroup v2 is mounted (the eBPF monitor knows a container by its cgroup)");
    if (pins_complete()) return std::nullopt;  // loaded: it works here
#endif
    return bpf_tracing_unsupported_reason();
}

std::unique_ptr<Monitor> open_bpf_monitor() {
#if MINIRT_HAVE_BPF
    if (bpf_monitor_unsupported_reason()) return nullptr;
    return std::make_unique<BpfMonitor>();
#else
    return nullptr;
#endif
}

BpfMonitorStatus bpf_monitor_status() {
    BpfMonitorStatus s;
#if MINIRT_HAVE_BPF
    s.pinned = pins_complete();
    if (!s.pinned) return s;
    UniqueFd containers(bpf_obj_get((pin_dir() / "containers").c_str()));
    if (containers) s.containers = keys_of(containers.get()).size();
    UniqueFd lost(bpf_obj_get((pin_dir() / "lost").c_str()));
    uint32_t zero = 0;
    if (lost) bpf_map_lookup_elem(lost.get(), &zero, &s.lost_events);
#endif
    return s;
}

}  // namespace minirt
