#include "linux/trace_bpf.hpp"

#include <sys/epoll.h>
#include <sys/stat.h>
#include <sys/timerfd.h>
#include <unistd.h>

#include <cerrno>
#include <algorithm>
#include <cstring>
#include <exception>
#include <map>
#include <utility>

#include "common/error.hpp"
#include "common/fd.hpp"
#include "common/file.hpp"
#include "common/parse.hpp"
#include "linux/cgroup.hpp"
#include "linux/libbpf_util.hpp"

#if MINIRT_HAVE_BPF
#define MINIRT_BPF_SKELETON "trace.skel.h"
#include "linux/bpf_skeleton.hpp"

#include <bpf/btf.h>
#endif

namespace minirt::trace {

const std::vector<std::string>& event_names() {
    static const std::vector<std::string> names = {"",        "exec",    "exit",   "fork", "clone",
                                                   "open",    "mkdir",   "unlink", "rename", "connect",
                                                   "accept",  "oom",     "signal", "mount"};
    return names;
}

uint32_t parse_events(const std::string& list) {
    uint32_t mask = 0;
    for (std::string_view word : split(list, ',')) {
        if (word == "all") {
            for (uint32_t t = 1; t <= MT_LAST; ++t) mask |= 1u << t;
            continue;
        }
        uint32_t t = 1;
        while (t <= MT_LAST && event_names()[t] != word) ++t;
        if (t > MT_LAST) {
            std::string known;
            for (uint32_t k = 1; k <= MT_LAST; ++k) known += (k > 1 ? ", " : "") + event_names()[k];
            throw Error("unknown trace event \"" + std::string(word) + "\" (known: " + known + ", all)");
        }
        mask |= 1u << t;
    }
    if (!mask) throw Error("no trace events chosen");
    return mask;
}

std::string event_list(uint32_t mask) {
    std::string list;
    for (uint32_t t = 1; t <= MT_LAST; ++t)
        if (mask & (1u << t)) list += (list.empty() ? "" : ",") + event_names()[t];
    return list;
}

Group group_of(const fs::path& dir) {
    struct stat st {};
    if (::stat(dir.c_str(), &st) < 0) throw_errno("stat the cgroup " + dir.string());
    auto mount = find_cgroup2_mount();
    if (!mount) throw Error(ENOENT, "no cgroup v2 is mounted");
    Group g{st.st_ino, 0};
    auto rel = dir.lexically_relative(*mount);
    if (rel.empty() || *rel.begin() == "..") throw Error(EINVAL, dir.string() + " is not a cgroup v2 group");
    for (const auto& part : rel)
        if (part != ".") ++g.level;
    return g;
}

std::optional<std::string> unsupported_reason() {
#if MINIRT_HAVE_BPF
    if (::geteuid() != 0) return std::string("tracing needs root (CAP_BPF and CAP_PERFMON)");
    if (!find_cgroup2_mount()) return std::string("no cgroup v2 is mounted (a container is traced by its cgroup)");
#endif
    return bpf_tracing_unsupported_reason();
}

#if MINIRT_HAVE_BPF

namespace {

// Which event each program serves.
uint32_t event_of(std::string_view prog) {
    static const std::map<std::string_view, uint32_t> table = {
        {"on_exec", MT_EXEC},          {"on_exit", MT_EXIT},          {"on_fork", MT_FORK},
        {"on_mark_victim", MT_OOM},    {"on_mark_victim_task", MT_OOM},
        {"on_signal", MT_SIGNAL},      {"enter_open", MT_OPEN},
        {"enter_openat", MT_OPEN},     {"enter_openat2", MT_OPEN},    {"exit_open", MT_OPEN},
        {"exit_openat", MT_OPEN},      {"exit_openat2", MT_OPEN},     {"enter_creat", MT_OPEN},
        {"exit_creat", MT_OPEN},     {"enter_mkdir", MT_MKDIR},
        {"enter_mkdirat", MT_MKDIR},   {"exit_mkdir", MT_MKDIR},      {"exit_mkdirat", MT_MKDIR},
        {"enter_unlink", MT_UNLINK},   {"enter_unlinkat", MT_UNLINK}, {"enter_rmdir", MT_UNLINK},
        {"exit_unlink", MT_UNLINK},    {"exit_unlinkat", MT_UNLINK},  {"exit_rmdir", MT_UNLINK},
        {"enter_rename", MT_RENAME},   {"enter_renameat", MT_RENAME}, {"enter_renameat2", MT_RENAME},
        {"exit_rename", MT_RENAME},    {"exit_renameat", MT_RENAME},  {"exit_renameat2", MT_RENAME},
        {"enter_connect", MT_CONNECT}, {"exit_connect", MT_CONNECT},  {"exit_accept", MT_ACCEPT},
        {"exit_accept4", MT_ACCEPT},   {"enter_mount", MT_MOUNT},     {"enter_umount", MT_MOUNT},
        {"enter_pivot_root", MT_MOUNT}, {"enter_move_mount", MT_MOUNT}, {"exit_mount", MT_MOUNT},
        {"exit_umount", MT_MOUNT},     {"exit_pivot_root", MT_MOUNT}, {"exit_move_mount", MT_MOUNT},
    };
    auto it = table.find(prog);
    return it == table.end() ? 0 : it->second;
}

// Whether the kernel's oom:mark_victim passes the victim's task_struct to
// BTF programs (6.8 and later), not only its thread id.
bool mark_victim_names_the_task() {
    btf* vmlinux = btf__load_vmlinux_btf();
    if (!vmlinux) return false;
    bool task = false;
    int id = btf__find_by_name_kind(vmlinux, "btf_trace_mark_victim", BTF_KIND_TYPEDEF);
    const btf_type* t = id > 0 ? btf__type_by_id(vmlinux, btf__type_by_id(vmlinux, static_cast<__u32>(id))->type) : nullptr;
    if (t && btf_is_ptr(t)) t = btf__type_by_id(vmlinux, t->type);
    // (void *data, struct task_struct *task, uid_t uid) against (void *data, int pid).
    if (t && btf_is_func_proto(t) && btf_vlen(t) >= 2) {
        const btf_type* arg = btf__type_by_id(vmlinux, btf_params(t)[1].type);
        task = arg && btf_is_ptr(arg);
    }
    btf__free(vmlinux);
    return task;
}

// Whether the program `prog` (of event `ev`) serves the events chosen.
bool serves(std::string_view prog, uint32_t ev, uint32_t events, bool oom_by_kill) {
    auto chosen = [&](uint32_t e) { return (events & (1u << e)) != 0; };
    if (ev == MT_FORK) return chosen(MT_FORK) || chosen(MT_CLONE);  // one hook for both
    if (prog == "on_signal") return chosen(MT_SIGNAL) || (chosen(MT_OOM) && oom_by_kill);
    if (prog == "on_mark_victim") return chosen(MT_OOM) && oom_by_kill;
    if (prog == "on_mark_victim_task") return chosen(MT_OOM) && !oom_by_kill;
    return ev && chosen(ev);
}

// A tracepoint program whose event this kernel lacks (a legacy syscall on
// an architecture without it) is left out rather than failing the session.
bool tracepoint_exists(std::string_view section) {
    constexpr std::string_view prefix = "tracepoint/";
    if (!section.starts_with(prefix)) return true;
    std::string event(section.substr(prefix.size()));
    return ::access(("/sys/kernel/tracing/events/" + event).c_str(), F_OK) == 0 ||
           ::access(("/sys/kernel/debug/tracing/events/" + event).c_str(), F_OK) == 0;
}

}  // namespace

// How long the reader leaves the ring alone after reading records. The
// kernel wakes a reader only for a record that finds the ring empty, so a
// busy container costs one wakeup per pause, not one per event: each
// wakeup is an interrupt on the traced CPU and a context switch, which
// cost a fork+exec loop more than the programs themselves. 20 ms of
// records fit the ring up to some 300 000 events a second; a lone event
// is read at once.
constexpr int kPauseMs = 20;

struct Session::Impl {
    minirt_trace* skel = nullptr;
    ring_buffer* rb = nullptr;
    std::vector<bpf_link*> links;
    Sink sink;
    unsigned nlevels = 0;
    // What fd() gives: the ring's readiness while not paused, and the timer
    // that ends a pause.
    UniqueFd ready;
    UniqueFd timer;
    bool paused = false;
    // A sink's error, kept across libbpf's C frames and thrown by consume().
    std::exception_ptr failed;

    ~Impl() {
        if (rb) ring_buffer__free(rb);
        for (bpf_link* l : links) bpf_link__destroy(l);
        if (skel) minirt_trace__destroy(skel);
    }

    static int on_record(void* ctx, void* data, size_t size) {
        if (size < MT_SMALL_EVENT) return 0;
        auto* self = static_cast<Impl*>(ctx);
        mt_event e{};  // a small record has no paths
        std::memcpy(&e, data, std::min(size, sizeof e));
        try {
            self->sink(e);
        } catch (...) {
            self->failed = std::current_exception();
            return -ECANCELED;  // stops ring_buffer__consume
        }
        return 0;
    }

    void watch_ring(int op) {
        epoll_event ev{};
        ev.events = EPOLLIN;
        if (::epoll_ctl(ready.get(), op, ring_buffer__epoll_fd(rb), &ev) < 0) throw_errno("epoll_ctl");
    }

    void open_ready() {
        ready.reset(::epoll_create1(EPOLL_CLOEXEC));
        if (!ready) throw_errno("epoll_create1");
        timer.reset(::timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC));
        if (!timer) throw_errno("timerfd_create");
        epoll_event ev{};
        ev.events = EPOLLIN;
        if (::epoll_ctl(ready.get(), EPOLL_CTL_ADD, timer.get(), &ev) < 0) throw_errno("epoll_ctl");
        watch_ring(EPOLL_CTL_ADD);
    }

    void arm_timer() {
        itimerspec once{};
        once.it_value.tv_nsec = kPauseMs * 1000000L;
        if (::timerfd_settime(timer.get(), 0, &once, nullptr) < 0) throw_errno("timerfd_settime");
    }

    // After a read that got `n` records: one begins a pause; at a pause's
    // end the ring is watched again only once a read finds it empty, so a
    // steady stream is read by the timer alone.
    void pace(int n) {
        uint64_t expirations = 0;
        bool over = ::read(timer.get(), &expirations, sizeof expirations) == sizeof expirations;
        if (!paused && n > 0) {
            arm_timer();
            watch_ring(EPOLL_CTL_DEL);
            paused = true;
        } else if (paused && over) {
            if (n > 0) {
                arm_timer();
            } else {
                watch_ring(EPOLL_CTL_ADD);
                paused = false;
            }
        }
    }

    void use_level(unsigned level) {
        for (unsigned i = 0; i < nlevels; ++i)
            if (skel->bss->levels[i] == level) return;
        if (nlevels == MT_MAX_LEVELS)
            throw Error(E2BIG, "a trace session follows groups at " + std::to_string(MT_MAX_LEVELS) +
                                   " cgroup depths at most");
        skel->bss->levels[nlevels++] = level;
    }
};

Session::Session(uint32_t events, Sink sink) : impl_(std::make_unique<Impl>()) {
    impl_->sink = std::move(sink);
    ensure_tracefs("minirt trace");
    quiet_libbpf();
    impl_->skel = minirt_trace__open();
    if (!impl_->skel) throw Error(errno, "open the trace programs" + libbpf_detail());
    impl_->skel->rodata->events_mask = events;
    bool oom_by_kill = (events & (1u << MT_OOM)) && !mark_victim_names_the_task();
    impl_->skel->rodata->oom_by_kill = oom_by_kill;
    bpf_program* prog;
    bpf_object__for_each_program(prog, impl_->skel->obj) {
        const char* name = bpf_program__name(prog);
        bool on = serves(name, event_of(name), events, oom_by_kill);
        bpf_program__set_autoload(prog, on && tracepoint_exists(bpf_program__section_name(prog)));
    }
    if (minirt_trace__load(impl_->skel) != 0) throw Error(errno, "load the trace programs" + libbpf_detail());
    bpf_object__for_each_program(prog, impl_->skel->obj) {
        if (!bpf_program__autoload(prog)) continue;
        bpf_link* link = bpf_program__attach(prog);
        if (!link)
            throw Error(errno, std::string("attach the trace program ") + bpf_program__name(prog) + " to " +
                                   bpf_program__section_name(prog) + libbpf_detail());
        impl_->links.push_back(link);
    }
    impl_->rb = ring_buffer__new(bpf_map__fd(impl_->skel->maps.ring), &Impl::on_record, impl_.get(), nullptr);
    if (!impl_->rb) throw Error(errno, "open the trace ring buffer" + libbpf_detail());
    impl_->open_ready();
}

Session::~Session() = default;

void Session::add(const fs::path& group, bool children) {
    Group g = group_of(group);
    mt_target t{children ? g.level + 1 : 0, 0};
    impl_->use_level(g.level);
    if (bpf_map__update_elem(impl_->skel->maps.targets, &g.id, sizeof g.id, &t, sizeof t, BPF_ANY) != 0)
        throw Error(errno, "trace the cgroup " + group.string() + libbpf_detail());
}

int Session::fd() const { return impl_->ready.get(); }

void Session::consume() {
    int n = ring_buffer__consume(impl_->rb);
    if (impl_->failed) std::rethrow_exception(std::exchange(impl_->failed, nullptr));
    if (n < 0) throw Error(-n, "read the trace ring buffer" + libbpf_detail());
    impl_->pace(n);
}

uint64_t Session::dropped() const { return __atomic_load_n(&impl_->skel->bss->dropped, __ATOMIC_RELAXED); }

#else

struct Session::Impl {};

Session::Session(uint32_t, Sink) { throw Error(ENOTSUP, *unsupported_reason()); }
Session::~Session() = default;
void Session::add(const fs::path&, bool) {}
int Session::fd() const { return -1; }
void Session::consume() {}
uint64_t Session::dropped() const { return 0; }

#endif

}  // namespace minirt::trace
