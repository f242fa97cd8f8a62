// minirt trace: what the processes of containers do, from the kernel
// (linux/trace_bpf.cpp), one line per event until interrupted or until
// every container traced by name has ended. See docs/trace.md.
#include <fcntl.h>
#include <signal.h>
#include <sys/epoll.h>
#include <sys/inotify.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <unistd.h>

#include <iostream>
#include <map>
#include <nlohmann/json.hpp>

#include "cli/cli.hpp"
#include "common/fd.hpp"
#include "common/file.hpp"
#include "common/parse.hpp"
#include "engine/launch.hpp"
#include "engine/trace_output.hpp"
#include "linux/cgroup.hpp"
#include "linux/trace_bpf.hpp"

namespace minirt::cli {

namespace {

struct Traced {
    trace::Who who;
    fs::path group;
    int watch = -1;        // inotify watch of its cgroup.events
    bool waiting = false;  // --since-start: its group is not there yet
    bool populated = false;  // it has had processes (a new group has none at first)
    bool ended = false;
};

// A container is over once its group, having had processes, has none
// (cgroup.events: its last exit event is in the ring by then), or once
// the group is gone.
bool group_ended(Traced& t) {
    auto events = read_file_if_exists(t.group / "cgroup.events");
    if (!events) return true;
    if (events->find("populated 1") != std::string::npos) t.populated = true;
    return t.populated && events->find("populated 0") != std::string::npos;
}

// The group a container's next start makes: its spec's linux.cgroupsPath
// (written at create, under the cgroup parent of that time), else the
// shim's default (engine/launch.cpp).
fs::path group_of_next_start(Context& ctx, const std::string& id, const fs::path& mount, const fs::path& parent) {
    auto text = read_file_if_exists(ctx.store.paths().container_dir(id) / "config.json");
    if (text) {
        auto spec = nlohmann::json::parse(*text, nullptr, false);
        if (spec.is_object() && spec.contains("linux") && spec["linux"].is_object()) {
            std::string rel = spec["linux"].value("cgroupsPath", std::string());
            if (!rel.empty()) return engine::group_dir(mount, rel).lexically_normal();
        }
    }
    return parent / id;
}

// The container `id` (a group's directory name), named when its record
// is still there to say.
trace::Who container_named(Context& ctx, const std::string& id) {
    try {
        return trace::Who{id, ctx.store.load_config(id).name};
    } catch (const Error&) {
        return trace::Who{id, ""};
    }
}

// --all: the container of a group below the cgroup parent, by the group's
// id, found by its directory (named after the container's id).
std::optional<trace::Who> container_of_group(Context& ctx, const fs::path& parent, uint64_t cgid) {
    std::error_code ec;
    for (const auto& entry : fs::directory_iterator(parent, ec)) {
        struct stat st {};
        if (::stat(entry.path().c_str(), &st) == 0 && st.st_ino == cgid)
            return container_named(ctx, entry.path().filename());
    }
    return std::nullopt;
}

}  // namespace

void apply_trace_flags(const po::variables_map& vm, ContainerConfig& c) {
    if (!vm.count("trace")) {
        if (vm.count("trace-events") || vm.count("trace-format"))
            throw Error("--trace-events and --trace-format go with --trace FILE");
        return;
    }
    std::string file = vm["trace"].as<std::string>();
    if (file.empty()) throw Error("invalid --trace \"\": it takes the file to write the events to");
    uint32_t events = with_context("invalid --trace-events", [&] {
        return trace::parse_events(vm.count("trace-events") ? vm["trace-events"].as<std::string>() : "all");
    });
    auto format = with_context("invalid --trace-format", [&] {
        return trace::parse_format(vm.count("trace-format") ? vm["trace-format"].as<std::string>() : "text");
    });
    if (auto why = trace::unsupported_reason()) throw Error(ENOTSUP, "invalid --trace: cannot trace here: " + *why);
    fs::path path = fs::absolute(file).lexically_normal();
    struct stat st {};
    if (::stat(path.parent_path().c_str(), &st) != 0 || !S_ISDIR(st.st_mode))
        throw Error("invalid --trace " + file + ": " + path.parent_path().string() + " is not a directory");
    if (::stat(path.c_str(), &st) == 0 && S_ISDIR(st.st_mode))
        throw Error("invalid --trace " + file + ": it is a directory");
    c.trace_file = path;
    c.trace_events = trace::event_list(events);
    c.trace_format = format == trace::Format::Json ? "json" : "text";
}

int cmd_trace(Context& ctx, const Args& args) {
    const char* usage =
        "minirt trace [--events LIST] [--format text|json] [--output FILE] [--since-start] (--all | CONTAINER...)";
    po::options_description desc("Options");
    desc.add_options()
        ("all,a", "every container of this root's cgroup parent, also those started later")
        ("events", po::value<std::string>()->default_value(trace::kDefaultEvents),
         "comma-separated: exec, exit, fork, clone, open, mkdir, unlink, rename, connect, accept, oom, signal, mount, or all")
        ("format", po::value<std::string>()->default_value("text"), "text (columns) or json (an object per line)")
        ("output,o", po::value<std::string>(), "write the events to FILE (created or truncated)")
        ("since-start", "containers not running yet: wait for their start and trace them from the birth of their init");
    Parsed p = parse(desc, args, usage);
    bool all = p.vm.count("all") > 0;
    bool since_start = p.vm.count("since-start") > 0;
    if (all && !p.positional.empty()) throw Error("trace takes --all or container names, not both");
    if (all && since_start) throw Error("--since-start goes with container names (--all follows new containers anyway)");
    if (!all && p.positional.empty()) throw Error("trace needs a container (or --all); usage: " + std::string(usage));
    uint32_t events = trace::parse_events(p.vm["events"].as<std::string>());
    trace::Format format = trace::parse_format(p.vm["format"].as<std::string>());
    if (auto why = trace::unsupported_reason()) throw Error(ENOTSUP, "cannot trace here: " + *why);
    auto mount = find_cgroup2_mount();
    if (!mount) throw Error(ENOENT, "no cgroup v2 is mounted");
    // Where containers are born: watched for --all and --since-start.
    fs::path parent = *mount / cgroup_parent_name();

    std::vector<Traced> traced;
    for (const auto& handle : p.positional) {
        std::string id = ctx.store.resolve(handle);
        ContainerView v = view_container(ctx.store, id);
        Traced t{{id, v.config ? v.config->name : ""}, {}};
        std::string name = v.config ? v.config->name : id.substr(0, 12);
        bool live = v.status == Status::Running || v.status == Status::Paused;
        if (since_start) {
            if (live) throw Error("container " + name + " is running already: its start is past (run --trace records one)");
            t.group = group_of_next_start(ctx, id, *mount, parent);
            t.waiting = true;
            // Filtered at the parent of its group until the group exists.
            if (traced.empty()) parent = t.group.parent_path();
            else if (t.group.parent_path() != parent)
                throw Error("--since-start takes containers of one cgroup parent (" + name + "'s is " +
                            t.group.parent_path().string() + ", not " + parent.string() + ")");
        } else {
            if (!live) throw Error("container " + name + " is not running");
            if (!v.state || v.state->cgroup.empty())
                throw Error("container " + name + " has no cgroup v2 group to trace it by");
            t.group = v.state->cgroup;
        }
        traced.push_back(std::move(t));
    }

    UniqueFd out;
    int out_fd = 1;
    if (p.vm.count("output")) {
        std::string file = p.vm["output"].as<std::string>();
        // 0600: argv and paths may be secrets.
        out.reset(::open(file.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600));
        if (!out) throw_errno("open the trace output " + file);
        out_fd = out.get();
    }

    // Named containers are known by their group's id once it exists, and
    // --all's by the directory of the id when it is made (or when its first
    // event is read). Another container's under the parent --since-start
    // watches is dropped; one --all could not name (its group gone before
    // it was seen) is shown by its cgroup id.
    std::map<uint64_t, trace::Who> named;
    std::map<uint64_t, std::optional<trace::Who>> found;
    auto who_of = [&](uint64_t cgid) -> std::optional<trace::Who> {
        if (auto it = named.find(cgid); it != named.end()) return it->second;
        if (!all) return std::nullopt;
        auto it = found.find(cgid);
        if (it != found.end()) return it->second;
        if (found.size() > 4096) found.clear();
        auto who = container_of_group(ctx, parent, cgid);
        return found[cgid] = who ? who : trace::Who{"", "cgroup:" + std::to_string(cgid)};
    };
    trace::Writer writer(out_fd, format, who_of);
    trace::Session session(events, [&](const mt_event& e) { writer.write(e); });

    // SIGINT, SIGTERM and SIGHUP end the trace; read through a signalfd so
    // the last records are still written. A shell starts a background job
    // with SIGINT ignored, and an ignored signal never reaches a signalfd:
    // `kill -INT` must stop a trace a script started with `&`.
    sigset_t mask;
    sigemptyset(&mask);
    for (int sig : {SIGINT, SIGTERM, SIGHUP}) sigaddset(&mask, sig);
    ::sigprocmask(SIG_BLOCK, &mask, nullptr);
    for (int sig : {SIGINT, SIGTERM, SIGHUP}) ::signal(sig, SIG_DFL);
    UniqueFd sigfd(::signalfd(-1, &mask, SFD_CLOEXEC | SFD_NONBLOCK));
    if (!sigfd) throw_errno("signalfd");
    UniqueFd inotify(::inotify_init1(IN_CLOEXEC | IN_NONBLOCK));
    if (!inotify) throw_errno("inotify_init1");

    // The parent group goes with its last container (Cgroup::teardown) and
    // comes back, with another id, with the next: both the filter and the
    // watch for new containers follow it.
    int parent_watch = -1, above_watch = -1;
    // A named container's group: its id is its name in the events from
    // now on, and its cgroup.events says when it is over. A --since-start
    // group already gone again (a start and an exit quicker than this) is
    // over: its events, if any, have no name to be shown by.
    auto watch_events_file = [&](Traced& t) {
        t.waiting = false;
        try {
            named[trace::group_of(t.group).id] = t.who;
            t.watch = ::inotify_add_watch(inotify.get(), (t.group / "cgroup.events").c_str(), IN_MODIFY);
            if (!since_start) session.add(t.group);
        } catch (const Error& e) {
            if (!since_start) throw;
            t.ended = true;
        }
    };
    // A container's group under the parent (--all names it at once, while
    // it surely exists; --since-start starts watching its own).
    auto group_made = [&](const std::string& name) {
        for (auto& t : traced)
            if (t.waiting && name == t.who.id) watch_events_file(t);
        if (!all) return;
        struct stat st {};
        if (::stat((parent / name).c_str(), &st) != 0) return;
        found[st.st_ino] = container_named(ctx, name);
    };
    // A parent removed again before we got to it is followed when it
    // comes back; a group made before its watch is found by a scan.
    auto follow_parent = [&] {
        if (parent_watch >= 0) ::inotify_rm_watch(inotify.get(), parent_watch);
        parent_watch = ::inotify_add_watch(inotify.get(), parent.c_str(), IN_CREATE | IN_ONLYDIR);
        if (parent_watch < 0) return;
        try {
            // --since-start: the group is born before the init, and the
            // init in it; filtering at the parent catches that instant
            // (other containers' events there are dropped here, by id).
            session.add(parent, true);
        } catch (const Error& e) {
            if (e.errno_value() != ENOENT) throw;
            return;
        }
        std::error_code ec;
        for (const auto& entry : fs::directory_iterator(parent, ec)) group_made(entry.path().filename());
    };
    if (all || since_start) {
        make_dirs(parent, 0755);
        above_watch = ::inotify_add_watch(inotify.get(), parent.parent_path().c_str(), IN_CREATE | IN_ONLYDIR);
        if (above_watch < 0) throw_errno("watch " + parent.parent_path().string());
        follow_parent();
    }
    if (!since_start) {
        for (auto& t : traced) {
            t.populated = true;  // running
            watch_events_file(t);
        }
    }

    UniqueFd ep(::epoll_create1(EPOLL_CLOEXEC));
    if (!ep) throw_errno("epoll_create1");
    for (int fd : {session.fd(), sigfd.get(), inotify.get()}) {
        epoll_event ev{};
        ev.events = EPOLLIN;
        ev.data.fd = fd;
        if (::epoll_ctl(ep.get(), EPOLL_CTL_ADD, fd, &ev) < 0) throw_errno("epoll_ctl");
    }

    std::string what = all ? "every container under " + parent.string() : "";
    for (const auto& t : traced) what += (what.empty() ? "" : ", ") + (t.who.name.empty() ? t.who.id.substr(0, 12) : t.who.name);
    if (since_start) what += " from its next start";
    std::cerr << "minirt trace: tracing " << what << " (" << trace::event_list(events) << "); Ctrl-C stops"
              << std::endl;
    writer.header();
    writer.flush();

    auto all_ended = [&] {
        if (all) return false;
        for (auto& t : traced) {
            // Its group made while our watch was not there (a parent made again).
            if (t.waiting && ::access(t.group.c_str(), F_OK) == 0) watch_events_file(t);
            if (!t.waiting && !t.ended && group_ended(t)) t.ended = true;
        }
        for (const auto& t : traced)
            if (!t.ended) return false;
        return true;
    };
    // Reads the inotify queue: the parent made again, a container's group
    // made (--since-start), a cgroup.events changed.
    auto read_inotify = [&] {
        alignas(inotify_event) char buf[4096];
        ssize_t n;
        while ((n = ::read(inotify.get(), buf, sizeof buf)) > 0) {
            for (char* at = buf; at < buf + n;) {
                auto* ev = reinterpret_cast<inotify_event*>(at);
                at += sizeof(inotify_event) + ev->len;
                std::string name = ev->len ? ev->name : "";
                if (ev->wd == above_watch && name == parent.filename()) follow_parent();
                else if (ev->wd == parent_watch && !name.empty()) group_made(name);
            }
        }
    };
    bool done = all_ended();
    while (!done) {
        epoll_event evs[4];
        // cgroup.events' notifications are rate-limited (one per 20 ms),
        // and the last may be lost when the group goes right after: named
        // containers are also looked at four times a second.
        int n = ::epoll_wait(ep.get(), evs, 4, all ? -1 : 250);
        if (n < 0 && errno != EINTR) throw_errno("epoll_wait");
        for (int i = 0; i < n; ++i)
            if (evs[i].data.fd == sigfd.get()) done = true;
        // Before the ring: a group just made must be named before its
        // first events are written.
        read_inotify();
        if (all_ended()) done = true;
        session.consume();
        writer.flush();
    }
    session.consume();
    writer.flush();
    if (uint64_t dropped = session.dropped())
        std::cerr << "minirt trace: " << dropped << " events dropped (the ring buffer was full)" << std::endl;
    return 0;
}

}  // namespace minirt::cli
