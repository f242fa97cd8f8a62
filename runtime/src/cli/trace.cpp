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

#include "cli/cli.hpp"
#include "common/fd.hpp"
#include "common/file.hpp"
#include "common/parse.hpp"
#include "engine/trace_output.hpp"
#include "linux/cgroup.hpp"
#include "linux/trace_bpf.hpp"

namespace minirt::cli {

namespace {

struct Traced {
    trace::Who who;
    fs::path group;
    int watch = -1;  // inotify watch of its cgroup.events
    bool ended = false;
};

// cgroup.events says "populated 0" once the last process has left (its
// exit event is in the ring by then); a group that is gone has ended too.
bool group_ended(const fs::path& group) {
    auto events = read_file_if_exists(group / "cgroup.events");
    return !events || events->find("populated 0") != std::string::npos;
}

// --all: the container of a group below the cgroup parent, by the group's
// id, found by its directory (named after the container's id).
std::optional<trace::Who> container_of_group(Context& ctx, const fs::path& parent, uint64_t cgid) {
    std::error_code ec;
    for (const auto& entry : fs::directory_iterator(parent, ec)) {
        struct stat st {};
        if (::stat(entry.path().c_str(), &st) != 0 || st.st_ino != cgid) continue;
        std::string id = entry.path().filename();
        try {
            return trace::Who{id, ctx.store.load_config(id).name};
        } catch (const Error&) {
            return trace::Who{id, ""};
        }
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
        "minirt trace [--events LIST] [--format text|json] [--output FILE] (--all | CONTAINER...)";
    po::options_description desc("Options");
    desc.add_options()
        ("all,a", "every container of this root's cgroup parent, also those started later")
        ("events", po::value<std::string>()->default_value(trace::kDefaultEvents),
         "comma-separated: exec, exit, fork, clone, open, mkdir, unlink, rename, connect, accept, oom, signal, mount, or all")
        ("format", po::value<std::string>()->default_value("text"), "text (columns) or json (an object per line)")
        ("output,o", po::value<std::string>(), "write the events to FILE (created or truncated)");
    Parsed p = parse(desc, args, usage);
    bool all = p.vm.count("all") > 0;
    if (all && !p.positional.empty()) throw Error("trace takes --all or container names, not both");
    if (!all && p.positional.empty()) throw Error("trace needs a container (or --all); usage: " + std::string(usage));
    uint32_t events = trace::parse_events(p.vm["events"].as<std::string>());
    trace::Format format = trace::parse_format(p.vm["format"].as<std::string>());
    if (auto why = trace::unsupported_reason()) throw Error(ENOTSUP, "cannot trace here: " + *why);

    std::map<uint64_t, Traced> traced;
    fs::path parent;
    if (all) {
        auto mount = find_cgroup2_mount();
        if (!mount) throw Error(ENOENT, "no cgroup v2 is mounted");
        parent = *mount / cgroup_parent_name();
        // Containers started later are born in it: it must exist now.
        make_dirs(parent, 0755);
    } else {
        for (const auto& handle : p.positional) {
            std::string id = ctx.store.resolve(handle);
            ContainerView v = view_container(ctx.store, id);
            std::string name = v.config ? v.config->name : id.substr(0, 12);
            if (v.status != Status::Running && v.status != Status::Paused)
                throw Error("container " + name + " is not running");
            if (!v.state || v.state->cgroup.empty())
                throw Error("container " + name + " has no cgroup v2 group to trace it by");
            fs::path group = v.state->cgroup;
            traced[trace::group_of(group).id] = Traced{{id, v.config ? v.config->name : ""}, group};
        }
    }

    UniqueFd out;
    int out_fd = 1;
    if (p.vm.count("output")) {
        std::string file = p.vm["output"].as<std::string>();
        out.reset(::open(file.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644));
        if (!out) throw_errno("open the trace output " + file);
        out_fd = out.get();
    }

    std::map<uint64_t, std::optional<trace::Who>> found;  // --all's lookups
    trace::Writer writer(out_fd, format, [&](uint64_t cgid) -> std::optional<trace::Who> {
        if (!all) {
            auto it = traced.find(cgid);
            return it == traced.end() ? std::nullopt : std::optional(it->second.who);
        }
        auto it = found.find(cgid);
        if (it != found.end()) return it->second;
        if (found.size() > 4096) found.clear();
        return found[cgid] = container_of_group(ctx, parent, cgid);
    });
    trace::Session session(events, [&](const mt_event& e) { writer.write(e); });

    // SIGINT, SIGTERM and SIGHUP end the trace; read through a signalfd so
    // the last records are still written. A shell starts a background job
    // with SIGINT ignored, and an ignored signal never reaches a signalfd:
    // `kill -INT` must stop a trace a script started with `&`.
    sigset_t mask;
    sigemptyset(&mask);
    for (int sig : {SIGINT, SIGTERM, SIGHUP}) {
        sigaddset(&mask, sig);
        ::signal(sig, SIG_DFL);
    }
    ::sigprocmask(SIG_BLOCK, &mask, nullptr);
    UniqueFd sigfd(::signalfd(-1, &mask, SFD_CLOEXEC | SFD_NONBLOCK));
    if (!sigfd) throw_errno("signalfd");
    UniqueFd inotify(::inotify_init1(IN_CLOEXEC | IN_NONBLOCK));
    if (!inotify) throw_errno("inotify_init1");

    if (all) {
        session.add(parent, true);
    } else {
        for (auto& [cgid, t] : traced) {
            session.add(t.group);
            t.watch = ::inotify_add_watch(inotify.get(), (t.group / "cgroup.events").c_str(), IN_MODIFY);
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

    std::string what;
    if (all) what = "every container under " + parent.string();
    for (const auto& [cgid, t] : traced) what += (what.empty() ? "" : ", ") + (t.who.name.empty() ? t.who.id.substr(0, 12) : t.who.name);
    std::cerr << "minirt trace: tracing " << what << " (" << trace::event_list(events) << "); Ctrl-C stops"
              << std::endl;
    writer.header();
    writer.flush();

    auto all_ended = [&] {
        if (all) return false;
        for (auto& [cgid, t] : traced)
            if (!t.ended && group_ended(t.group)) t.ended = true;
        for (const auto& [cgid, t] : traced)
            if (!t.ended) return false;
        return true;
    };
    bool done = all_ended();
    while (!done) {
        epoll_event evs[4];
        int n = ::epoll_wait(ep.get(), evs, 4, -1);
        if (n < 0 && errno != EINTR) throw_errno("epoll_wait");
        for (int i = 0; i < n; ++i) {
            if (evs[i].data.fd == sigfd.get()) {
                done = true;
            } else if (evs[i].data.fd == inotify.get()) {
                char buf[4096];
                while (::read(inotify.get(), buf, sizeof buf) > 0) {
                }
                if (all_ended()) done = true;
            }
        }
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
