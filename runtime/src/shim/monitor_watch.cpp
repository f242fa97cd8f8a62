#include "shim/monitor_watch.hpp"

#include "common/error.hpp"
#include "common/file.hpp"
#include "common/parse.hpp"
#include "state/log.hpp"

namespace minirt {

namespace {

// The id the monitor knows the container by: its name when it fits (the
// kernel log then reads container=web), else the id's first 63 characters.
std::string monitor_id_for(const ContainerConfig& c) {
    return c.name.size() <= kMonitorIdMax ? c.name : c.id.substr(0, kMonitorIdMax);
}

}  // namespace

void MonitorWatch::add(pid_t pid, const ContainerConfig& c, LogWriter& log) {
    bool limited = memory_limited(c);
    try {
        monitor_ = open_monitor();
    } catch (const Error& e) {
        if (limited) throw;
        log.note("minirt: memory monitor unavailable: " + e.message());
        return;
    }
    if (!monitor_) {
        if (limited) throw Error("the memory monitor (/dev/container_monitor) is gone; cannot apply --soft-mib/--hard-mib");
        return;
    }
    MonitorRecord rec;
    rec.backend = monitor_->backend();
    rec.id = monitor_id_for(c);
    rec.soft_limit = c.monitor_soft;
    rec.hard_limit = c.monitor_hard;
    try {
        try {
            monitor_->add(pid, rec.id, rec.soft_limit, rec.hard_limit);
        } catch (const Error& e) {
            // Another root's container may hold the name: the id is unique.
            if (e.errno_value() != EEXIST || rec.id == id_.substr(0, kMonitorIdMax)) throw;
            rec.id = id_.substr(0, kMonitorIdMax);
            monitor_->add(pid, rec.id, rec.soft_limit, rec.hard_limit);
        }
    } catch (const Error& e) {
        if (limited) throw;
        // A container without limits is registered after its start: one
        // that has ended already (ESRCH) has nothing left to watch.
        if (e.errno_value() != ESRCH) log.note("minirt: not watched by the memory monitor: " + e.message());
        monitor_.reset();
        return;
    }
    record_ = rec;
}

void MonitorWatch::leave() noexcept {
    if (!monitor_ || !record_) return;
    try {
        monitor_->remove(record_->id);
    } catch (const Error&) {
        // It drops exited containers by itself at its next scan.
    }
}

void MonitorWatch::record_soft_crossing(const MonitorEvent& ev, LogWriter& log) {
    record_->soft_crossed = MonitorRecord::Crossing{ev.rss, ev.limit, now_ns()};
    log.note("minirt: memory monitor: SOFT LIMIT crossed: rss=" + std::to_string(ev.rss) +
             " limit=" + std::to_string(ev.limit));
    FileLock lock = store_.lock(id_);
    if (lock.stale()) return;
    auto st = store_.load_state(id_);
    if (!st) return;
    st->monitor = record_;
    store_.save_state(*st);
}

void MonitorWatch::drain(LogWriter& log) {
    if (!monitor_) return;
    while (auto ev = monitor_->next_event()) {
        if (!record_ || ev->id != record_->id) continue;  // another container's
        if (ev->type == MonitorEvent::Type::Soft) {
            record_soft_crossing(*ev, log);
        } else if (ev->type == MonitorEvent::Type::Hard) {
            record_->hard_killed = MonitorRecord::Crossing{ev->rss, ev->limit, now_ns()};
            log.note("minirt: memory monitor: HARD LIMIT: killed at rss=" + std::to_string(ev->rss) +
                     " limit=" + std::to_string(ev->limit));
        }
    }
}

}  // namespace minirt
