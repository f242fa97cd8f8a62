// The kernel-module backend of the memory monitor: ioctls and read() on
// /dev/container_monitor (ABI: monitor-kmod/include/container_monitor.h).
#include <fcntl.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <cstring>

#include "common/error.hpp"
#include "common/fd.hpp"
#include "container_monitor.h"
#include "linux/monitor.hpp"
#include "linux/monitor_bpf.hpp"

namespace minirt {

namespace {

void copy_id(char (&dst)[CM_ID_LEN], const std::string& id) {
    if (id.empty() || id.size() >= CM_ID_LEN) throw Error(EINVAL, "monitor id \"" + id + "\"");
    std::memset(dst, 0, sizeof dst);
    std::memcpy(dst, id.data(), id.size());
}

std::string id_of(const char (&src)[CM_ID_LEN]) { return std::string(src, strnlen(src, CM_ID_LEN)); }

class KmodMonitor final : public Monitor {
public:
    explicit KmodMonitor(UniqueFd fd) : fd_(std::move(fd)) {}
    const char* backend() const override { return "kernel module (" CM_DEVICE_PATH ")"; }

    void add(int pid, const std::string& id, uint64_t soft, uint64_t hard) override {
        cm_register r{};
        r.size = sizeof r;
        r.pid = pid;
        copy_id(r.id, id);
        r.soft_limit = soft;
        r.hard_limit = hard;
        if (::ioctl(fd_.get(), CM_IOC_REGISTER, &r) < 0) throw_errno("register with the memory monitor");
    }

    void remove(const std::string& id) override {
        cm_unregister u{};
        u.size = sizeof u;
        copy_id(u.id, id);
        if (::ioctl(fd_.get(), CM_IOC_UNREGISTER, &u) < 0 && errno != ENOENT)
            throw_errno("unregister from the memory monitor");
    }

    int event_fd() const override { return fd_.get(); }

    std::optional<MonitorEvent> next_event() override {
        cm_event e{};
        ssize_t n = ::read(fd_.get(), &e, sizeof e);
        if (n != static_cast<ssize_t>(sizeof e)) return std::nullopt;
        MonitorEvent ev;
        ev.type = e.type == CM_EVENT_SOFT   ? MonitorEvent::Type::Soft
                  : e.type == CM_EVENT_HARD ? MonitorEvent::Type::Hard
                                            : MonitorEvent::Type::Exit;
        ev.id = id_of(e.id);
        ev.pid = e.pid;
        ev.rss = e.rss;
        ev.limit = e.limit;
        return ev;
    }

    std::optional<MonitorEntry> query(const std::string& id) override {
        cm_query q{};
        q.size = sizeof q;
        copy_id(q.entry.id, id);
        if (::ioctl(fd_.get(), CM_IOC_QUERY, &q) < 0) return std::nullopt;
        MonitorEntry m;
        m.id = id_of(q.entry.id);
        m.pid = q.entry.pid;
        m.soft_limit = q.entry.soft_limit;
        m.hard_limit = q.entry.hard_limit;
        m.rss = q.entry.rss;
        m.processes = q.entry.nr_procs;
        m.soft_crossed = q.entry.flags & CM_ENTRY_SOFT_CROSSED;
        return m;
    }

private:
    UniqueFd fd_;
};

}  // namespace

bool kmod_monitor_available() { return ::access(CM_DEVICE_PATH, F_OK) == 0; }

std::unique_ptr<Monitor> open_kmod_monitor() {
    // Non-blocking: the shim drains events from its event loop.
    UniqueFd fd(::open(CM_DEVICE_PATH, O_RDWR | O_CLOEXEC | O_NONBLOCK));
    if (!fd) {
        if (errno == ENOENT || errno == ENODEV || errno == ENXIO) return nullptr;
        throw_errno("open " CM_DEVICE_PATH);
    }
    return std::make_unique<KmodMonitor>(std::move(fd));
}

// The selection: the module when its device exists, else eBPF.
bool monitor_available() { return kmod_monitor_available() || !bpf_monitor_unsupported_reason(); }

std::unique_ptr<Monitor> open_monitor() {
    if (kmod_monitor_available()) return open_kmod_monitor();
    return open_bpf_monitor();
}

std::string monitor_unavailable_reason() {
    std::string why = "neither memory monitor backend is available: the kernel module's " CM_DEVICE_PATH
                      " does not exist (load it with `make -C monitor-kmod && insmod monitor-kmod/monitor.ko`)";
    if (auto bpf = bpf_monitor_unsupported_reason()) why += ", and eBPF cannot be used: " + *bpf;
    return why + " (see docs/kernel-monitor.md)";
}

}  // namespace minirt
