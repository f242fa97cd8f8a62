// minirt oci: global flags, logging, and the verbs that only read or
// signal an existing container (start, state, kill, delete, pause, resume,
// ps), plus features, spec and --version.
#include "cli/oci.hpp"

#include "linux/unix_socket.hpp"

#include <fcntl.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstring>
#include <iostream>

#include <nlohmann/json.hpp>

#include "common/error.hpp"
#include "common/file.hpp"
#include "common/parse.hpp"
#include "engine/init.hpp"
#include "linux/capabilities.hpp"
#include "linux/cgroup.hpp"
#include "linux/process.hpp"
#include "linux/rootfs.hpp"
#include "oci/hooks.hpp"
#include "oci/spec.hpp"
#include "oci/state.hpp"

#ifndef MINIRT_VERSION
#define MINIRT_VERSION "0.0.0"
#endif

namespace minirt::oci {

using nlohmann::json;

// ---------------------------------------------------------------- flags ----

Flags::Flags(const std::string& command, const std::vector<FlagDef>& defs, const std::vector<std::string>& args) {
    auto find = [&](const std::string& name) -> const FlagDef* {
        for (const auto& d : defs)
            for (const auto& n : d.names)
                if (n == name) return &d;
        return nullptr;
    };
    size_t i = 0;
    for (; i < args.size(); ++i) {
        const std::string& a = args[i];
        if (a == "--") {
            ++i;
            break;
        }
        if (a.size() < 2 || a[0] != '-') break;
        std::string body = a.substr(a[1] == '-' ? 2 : 1);
        std::optional<std::string> inline_value;
        if (auto eq = body.find('='); eq != std::string::npos) {
            inline_value = body.substr(eq + 1);
            body.resize(eq);
        }
        const FlagDef* def = find(body);
        if (!def) throw Error(command + ": unknown flag \"" + a + "\"");
        const std::string& key = def->names[0];
        if (def->takes_value) {
            if (inline_value) values_[key].push_back(*inline_value);
            else if (i + 1 < args.size()) values_[key].push_back(args[++i]);
            else throw Error(command + ": flag --" + key + " needs a value");
        } else if (!inline_value || *inline_value == "true") {
            values_[key].push_back("true");
        } else if (*inline_value != "false") {
            throw Error(command + ": flag --" + key + " takes true or false, not \"" + *inline_value + "\"");
        }
    }
    positional_.assign(args.begin() + static_cast<std::ptrdiff_t>(i), args.end());
}

bool Flags::has(const std::string& name) const { return values_.count(name) > 0; }

std::string Flags::value(const std::string& name, const std::string& fallback) const {
    auto it = values_.find(name);
    return it == values_.end() ? fallback : it->second.back();
}

const std::vector<std::string>& Flags::values(const std::string& name) const {
    static const std::vector<std::string> none;
    auto it = values_.find(name);
    return it == values_.end() ? none : it->second;
}

void Flags::expect(size_t min, size_t max, const std::string& usage) const {
    if (positional_.size() < min || positional_.size() > max) throw Error("usage: " + usage);
}

void log_line(const Globals& g, const std::string& level, const std::string& message) {
    if (g.log_path.empty()) return;
    std::string line;
    std::string time = format_rfc3339(now_ns());
    if (g.log_json) line = json{{"level", level}, {"msg", message}, {"time", time}}.dump() + "\n";
    else line = "time=\"" + time + "\" level=" + level + " msg=" + json(message).dump() + "\n";
    UniqueFd fd(::open(g.log_path.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644));
    if (fd) write_all_nothrow(fd.get(), line);
}

void log_debug(const Globals& g, const std::string& message) {
    if (!g.debug) return;
    if (g.log_path.empty()) std::cerr << "minirt-oci: debug: " << message << "\n";
    else log_line(g, "debug", message);
}

UniqueFd connect_console(const std::string& path) {
    return with_context("--console-socket " + path, [&] { return connect_unix(path, SOCK_STREAM); });
}

// minirt's resource errors name its own flags; an engine's user wants the
// config.json field.
Error in_config_terms(const Error& e, const std::string& prefix) {
    static const std::pair<const char*, const char*> names[] = {
        {"--mem-swap", "memory.swap"},       {"--mem", "memory.limit"},
        {"--cpus/--cpu", "cpu.quota"},       {"--cpu-weight", "cpu.shares"},
        {"--cpuset-cpus", "cpu.cpus"},       {"--io-read-bps/--io-write-bps", "blockIO.throttle*BpsDevice"},
        {"--io-read-bps", "blockIO.throttleReadBpsDevice"}, {"--io-write-bps", "blockIO.throttleWriteBpsDevice"},
        {"--pids-limit", "pids.limit"},
    };
    for (const auto& [flag, field] : names)
        if (e.message().starts_with(std::string(flag) + " ") || e.message().starts_with(std::string(flag) + ":"))
            return Error(prefix + std::string(field) + e.message().substr(std::strlen(flag)));
    return e;  // already in config.json's terms, or about the group itself
}

std::vector<int> reserve_preserved_fds(int count) {
    std::vector<int> vacant;
    for (int fd = 3; fd < 3 + count; ++fd) {
        if (::fcntl(fd, F_GETFD) >= 0 || errno != EBADF) continue;
        UniqueFd null(::open("/dev/null", O_RDONLY | O_CLOEXEC));
        if (!null) throw_errno("open /dev/null");
        if (null.get() != fd) {
            if (::dup3(null.get(), fd, O_CLOEXEC) < 0) throw_errno("reserve fd " + std::to_string(fd));
        } else {
            null.release();
        }
        vacant.push_back(fd);
    }
    return vacant;
}

bool apparmor_enabled() {
    auto v = read_file_if_exists("/sys/module/apparmor/parameters/enabled");
    return v && v->starts_with("Y");
}

void check_apparmor(const Process& p) {
    if (engine::wants_apparmor(p.apparmor_profile) && !apparmor_enabled())
        throw Error("process.apparmorProfile \"" + p.apparmor_profile + "\": AppArmor is not enabled on this host");
}

void check_bounding_set(const Process& p, const std::string& where) {
    if (auto cap = first_outside_bounding(p.caps.all()))
        throw Error(where + ": " + capability_name(*cap) + " is not in this runtime's bounding set, so no process can be given it");
}

namespace {

struct Loaded {
    StateDir dir;
    State state;
    Status status;
};

Loaded load(const Globals& g, const std::string& id) {
    validate_container_id(id);
    StateDir dir(g.root, id);
    State s = dir.load();
    Status st = live_status(dir, s);
    return {dir, s, st};
}

// What `state` and `list` report: a container with no init yet whose
// directory create still holds is under way. (Not for the verbs that hold
// that lock themselves.)
Status shown_status(const Loaded& l) { return l.state.pid == 0 && l.dir.busy() ? Status::Creating : l.status; }

std::optional<Spec> stored_spec(const StateDir& dir, const State& s) {
    auto text = read_file_if_exists(dir.config_file());
    if (!text) return std::nullopt;
    return parse_spec(*text, s.bundle);
}

// Hooks that may fail without failing the verb (poststart, poststop): the
// runtime spec says log a warning and go on, with the remaining hooks too.
// (runc stops at the first failing one.)
void run_hooks_warn(const Globals& g, const std::vector<Hook>& hooks, const std::string& stage, const State& s,
                    Status st) {
    std::string state = state_json(s, st).dump();
    for (const auto& h : hooks) {
        try {
            run_hooks({h}, stage, state);
        } catch (const Error& e) {
            std::cerr << "minirt-oci: warning: " << e.message() << "\n";
            log_line(g, "warning", e.message());
        }
    }
}

// ---------------------------------------------------------------- verbs ----

int cmd_start(const Globals& g, const std::vector<std::string>& args) {
    Flags f("start", {}, args);
    f.expect(1, 1, "minirt oci start ID");
    StateDir dir(g.root, f.positional()[0]);
    validate_container_id(f.positional()[0]);
    UniqueFd lock = dir.lock();
    Loaded l = load(g, f.positional()[0]);
    if (l.status != Status::Created)
        throw Error("cannot start container \"" + l.state.id + "\": it is " + oci_status_name(l.status) + ", not created");
    UniqueFd fifo(::open(dir.fifo().c_str(), O_WRONLY | O_NONBLOCK | O_CLOEXEC));
    if (!fifo) {
        if (errno == ENXIO) throw Error("cannot start container \"" + l.state.id + "\": its init has exited");
        throw_errno("open " + dir.fifo().string());
    }
    // Unlinked first, so the moment it runs the container reads as running.
    ::unlink(dir.fifo().c_str());
    if (::write(fifo.get(), "0", 1) != 1) throw_errno("release the container through exec.fifo");
    fifo.reset();
    if (auto spec = stored_spec(dir, l.state))
        run_hooks_warn(g, spec->hooks.poststart, "poststart", l.state, Status::Running);
    return 0;
}

int cmd_state(const Globals& g, const std::vector<std::string>& args) {
    Flags f("state", {}, args);
    f.expect(1, 1, "minirt oci state ID");
    Loaded l = load(g, f.positional()[0]);
    std::cout << state_json(l.state, shown_status(l)).dump(2) << "\n";
    return 0;
}

int cmd_kill(const Globals& g, const std::vector<std::string>& args) {
    Flags f("kill", {{{"all", "a"}}}, args);
    f.expect(1, 2, "minirt oci kill [--all] ID [SIGNAL]");
    Loaded l = load(g, f.positional()[0]);
    int sig = f.positional().size() > 1 ? parse_signal(f.positional()[1]) : SIGTERM;
    if (f.has("all") && !l.state.cgroup.empty()) {
        Cgroup cg(l.state.cgroup);
        if (sig == SIGKILL && cg.kill_all()) return 0;
        for (int pid : cg.pids()) ::kill(pid, sig);
        return 0;
    }
    if (l.status == Status::Exited) throw Error("container \"" + l.state.id + "\" is not running");
    UniqueFd pidfd = open_pidfd(l.state.pid, l.state.pid_start);
    if (!pidfd || !signal_pidfd(pidfd.get(), sig)) throw Error("container \"" + l.state.id + "\" is not running");
    return 0;
}

// Kills everything in the container and waits until it is all gone.
void kill_everything(const State& s) {
    UniqueFd pidfd = open_pidfd(s.pid, s.pid_start);
    Cgroup cg(s.cgroup);
    if (!s.cgroup.empty() && cg.exists()) {
        if (!cg.kill_all())
            for (int pid : cg.pids()) ::kill(pid, SIGKILL);
    }
    if (pidfd) {
        signal_pidfd(pidfd.get(), SIGKILL);
        if (!wait_pidfd(pidfd.get(), 10000)) throw Error("container \"" + s.id + "\" did not die within 10 s of SIGKILL");
    }
}

int cmd_delete(const Globals& g, const std::vector<std::string>& args) {
    Flags f("delete", {{{"force", "f"}}}, args);
    f.expect(1, 1, "minirt oci delete [--force] ID");
    const std::string& id = f.positional()[0];
    validate_container_id(id);
    StateDir dir(g.root, id);
    if (!dir.exists()) {
        if (f.has("force")) return 0;
        throw Error("container \"" + id + "\" does not exist");
    }
    UniqueFd lock = dir.lock();
    if (!fs::exists(dir.state_file())) {
        // A create that died before writing its state left only this.
        dir.remove();
        return 0;
    }
    Loaded l = load(g, id);
    if ((l.status == Status::Running || l.status == Status::Paused) && !f.has("force"))
        throw Error("cannot delete container \"" + id + "\" that is not stopped: " + oci_status_name(l.status) +
                    " (use --force)");
    kill_everything(l.state);
    std::optional<Spec> spec;
    try {
        spec = stored_spec(dir, l.state);
    } catch (const Error& e) {
        log_line(g, "warning", e.message());
    }
    if (l.state.owns_cgroup && !l.state.cgroup.empty()) Cgroup(l.state.cgroup).teardown(l.state.default_cgroup);
    unmount_container_mounts(l.state);
    dir.remove();
    if (spec) run_hooks_warn(g, spec->hooks.poststop, "poststop", l.state, Status::Exited);
    return 0;
}

int set_paused(const Globals& g, const std::vector<std::string>& args, bool pause) {
    std::string verb = pause ? "pause" : "resume";
    Flags f(verb, {}, args);
    f.expect(1, 1, "minirt oci " + verb + " ID");
    Loaded l = load(g, f.positional()[0]);
    Status want_from = pause ? Status::Running : Status::Paused;
    if (l.status != want_from)
        throw Error("cannot " + verb + " container \"" + l.state.id + "\": it is " + oci_status_name(l.status));
    if (l.state.cgroup.empty()) throw Error("cannot " + verb + " container \"" + l.state.id + "\": it has no cgroup v2 group");
    Cgroup cg(l.state.cgroup);
    cg.set_frozen(pause);
    if (!cg.wait_frozen(pause, 5000))
        throw Error("container \"" + l.state.id + "\" did not " + (pause ? "freeze" : "thaw") + " within 5 s");
    return 0;
}

int cmd_ps(const Globals& g, const std::vector<std::string>& args) {
    Flags f("ps", {{{"format", "f"}, true}}, args);
    f.expect(1, SIZE_MAX, "minirt oci ps [--format table|json] ID");
    Loaded l = load(g, f.positional()[0]);
    std::vector<int> pids = l.state.cgroup.empty() ? std::vector<int>{} : Cgroup(l.state.cgroup).pids();
    std::string format = f.value("format", "table");
    if (format == "json") {
        std::cout << json(pids).dump() << "\n";
        return 0;
    }
    if (format != "table") throw Error("ps: invalid --format \"" + format + "\" (table or json)");
    std::printf("%-8s %s\n", "PID", "CMD");
    for (int pid : pids) {
        std::string cmd = read_file_if_exists("/proc/" + std::to_string(pid) + "/cmdline").value_or("");
        std::replace(cmd.begin(), cmd.end(), '\0', ' ');
        std::printf("%-8d %s\n", pid, cmd.c_str());
    }
    return 0;
}

int cmd_features(const Globals&, const std::vector<std::string>& args) {
    Flags f("features", {}, args);
    f.expect(0, 0, "minirt oci features");
    json caps = json::array();
    for (const auto& c : capability_names(all_known_capabilities())) caps.push_back(c);
    json features{
        {"ociVersionMin", "1.0.0"},
        {"ociVersionMax", kOciVersion},
        {"hooks", {"prestart", "createRuntime", "createContainer", "startContainer", "poststart", "poststop"}},
        {"mountOptions", {"async", "atime", "bind", "defaults", "dev", "diratime", "dirsync", "exec", "idmap",
                          "mand", "noatime", "nodev", "nodiratime", "noexec", "nomand", "norelatime",
                          "nostrictatime", "nosuid", "notmpcopyup", "private", "rbind", "relatime", "remount",
                          "ridmap", "ro", "rprivate", "rshared", "rslave", "runbindable", "rw", "shared", "slave",
                          "strictatime", "suid", "sync", "tmpcopyup", "unbindable"}},
        {"linux",
         {{"namespaces", {"cgroup", "ipc", "mount", "network", "pid", "user", "uts"}},
          {"capabilities", caps},
          {"cgroup", {{"v1", false}, {"v2", true}, {"systemd", false}, {"systemdUser", false}}},
          {"seccomp", {{"enabled", true},
                       {"actions", {"SCMP_ACT_ALLOW", "SCMP_ACT_ERRNO", "SCMP_ACT_KILL", "SCMP_ACT_KILL_PROCESS",
                                    "SCMP_ACT_KILL_THREAD", "SCMP_ACT_LOG", "SCMP_ACT_TRAP"}},
                       {"operators", {"SCMP_CMP_EQ", "SCMP_CMP_GE", "SCMP_CMP_GT", "SCMP_CMP_LE", "SCMP_CMP_LT",
                                      "SCMP_CMP_MASKED_EQ", "SCMP_CMP_NE"}},
                       {"archs", {"SCMP_ARCH_X86", "SCMP_ARCH_X86_64", "SCMP_ARCH_X32"}}}},
          {"apparmor", {{"enabled", apparmor_enabled()}}},
          {"mountExtensions", {{"idmap", {{"enabled", true}}}}},
          {"selinux", {{"enabled", false}}}}},
    };
    std::cout << features.dump(2) << "\n";
    return 0;
}

int cmd_spec(const Globals&, const std::vector<std::string>& args) {
    Flags f("spec", {{{"bundle", "b"}, true}, {{"rootless"}}}, args);
    f.expect(0, 0, "minirt oci spec [--bundle DIR] [--rootless]");
    fs::path file = fs::path(f.value("bundle", ".")) / "config.json";
    if (fs::exists(file)) throw Error("spec: " + file.string() + " already exists; remove it first");
    json spec = default_spec(false);
    if (f.has("rootless")) spec = rootless_spec(std::move(spec), ::geteuid(), ::getegid());
    write_file_atomic(file, spec.dump(2) + "\n", 0644, false);
    return 0;
}

int cmd_list(const Globals& g, const std::vector<std::string>& args) {
    Flags f("list", {{{"format", "f"}, true}, {{"quiet", "q"}}}, args);
    f.expect(0, 0, "minirt oci list [--format table|json] [--quiet]");
    std::string format = f.value("format", "table");
    if (format != "table" && format != "json") throw Error("list: invalid --format \"" + format + "\" (table or json)");
    std::vector<json> rows;
    std::error_code ec;
    std::vector<std::string> ids;
    for (const auto& entry : fs::directory_iterator(g.root, ec)) ids.push_back(entry.path().filename().string());
    std::sort(ids.begin(), ids.end());
    for (const auto& id : ids) {
        // One removed meanwhile, or a create that has not written its state yet, is skipped.
        try {
            Loaded l = load(g, id);
            rows.push_back(state_json(l.state, shown_status(l)));
        } catch (const Error&) {
        }
    }
    if (f.has("quiet")) {
        for (const auto& r : rows) std::cout << r["id"].get<std::string>() << "\n";
    } else if (format == "json") {
        std::cout << json(rows).dump() << "\n";
    } else {
        std::printf("%-12s %-8s %-10s %-40s %-32s %s\n", "ID", "PID", "STATUS", "BUNDLE", "CREATED", "OWNER");
        for (const auto& r : rows)
            std::printf("%-12s %-8d %-10s %-40s %-32s %s\n", r["id"].get<std::string>().c_str(), r["pid"].get<int>(),
                        r["status"].get<std::string>().c_str(), r["bundle"].get<std::string>().c_str(),
                        r["created"].get<std::string>().c_str(), "root");
    }
    return 0;
}

void print_version() {
    std::cout << "minirt-oci version " << MINIRT_VERSION << "\nspec: " << kOciVersion << "\n";
}

void print_help() {
    std::cout << "Usage: minirt-oci [GLOBAL FLAGS] COMMAND [FLAGS] ID ...\n"
                 "       (the same as: minirt oci ...)\n\n"
                 "An OCI runtime with runc's command line, for podman, containerd and CRI-O.\n\n"
                 "Global flags:\n"
                 "  --root DIR            state directory (default /run/minirt-oci)\n"
                 "  --log FILE            also log errors and warnings to FILE\n"
                 "  --log-format text|json\n"
                 "  --debug               log debug messages\n"
                 "  --cdi-spec-dir DIR    CDI specs for cdi.k8s.io/ annotations (default /etc/cdi, /var/run/cdi)\n"
                 "  --systemd-cgroup      refused: minirt manages cgroupfs paths only\n"
                 "  --version, -v\n\n"
                 "Commands:\n"
                 "  create   create a container from a bundle; its process waits for start\n"
                 "  start    run the created container's process\n"
                 "  state    print the runtime-spec state JSON\n"
                 "  kill     send a signal (default SIGTERM; --all: every process)\n"
                 "  delete   delete a stopped container (--force: any)\n"
                 "  exec     run a process in a running container\n"
                 "  pause    freeze every process (cgroup.freeze)\n"
                 "  resume   thaw them\n"
                 "  ps       list the container's processes\n"
                 "  list     list the containers (--format table|json, --quiet)\n"
                 "  update   change a container's limits (runc's flags, or --resources FILE|-)\n"
                 "  events   print its cgroup figures as JSON (--stats: once; else every --interval, and OOM kills)\n"
                 "  features print what this runtime supports (JSON)\n"
                 "  spec     write a default config.json\n";
}

int dispatch(int argc, char** argv, int first, Globals& g) {
    std::vector<std::string> rest(argv + first, argv + argc);
    Flags f("minirt-oci",
            {{{"root"}, true},
             {{"log"}, true},
             {{"log-format"}, true},
             {{"debug"}},
             {{"systemd-cgroup"}},
             {{"rootless"}, true},
             {{"cdi-spec-dir"}, true},
             {{"version", "v"}},
             {{"help", "h"}}},
            rest);
    g.root = f.value("root", kDefaultRoot);
    g.log_path = f.value("log");
    std::string format = f.value("log-format", "text");
    if (format != "text" && format != "json") throw Error("invalid --log-format \"" + format + "\" (text or json)");
    g.log_json = format == "json";
    g.debug = f.has("debug");
    g.cdi_spec_dir = f.value("cdi-spec-dir");
    if (f.has("version")) {
        print_version();
        return 0;
    }
    if (f.has("help") || f.positional().empty()) {
        print_help();
        return f.has("help") ? 0 : kExitMinirtError;
    }
    if (f.has("systemd-cgroup"))
        throw Error("--systemd-cgroup is not supported: minirt manages cgroups through cgroupfs (use cgroup_manager=cgroupfs)");
    if (f.value("rootless", "false") == "true") throw Error("--rootless=true is not supported: minirt runs containers as root");
    if (::geteuid() != 0) throw Error("minirt-oci needs root");
    const std::string verb = f.positional()[0];
    std::vector<std::string> args(f.positional().begin() + 1, f.positional().end());
    if (g.debug) {
        std::string line = "minirt-oci " + verb;
        for (const auto& a : args) line += " " + a;
        log_debug(g, line);
    }
    if (verb == "create") return cmd_create(g, args);
    if (verb == "start") return cmd_start(g, args);
    if (verb == "state") return cmd_state(g, args);
    if (verb == "kill") return cmd_kill(g, args);
    if (verb == "delete") return cmd_delete(g, args);
    if (verb == "exec") return cmd_exec(g, args);
    if (verb == "pause") return set_paused(g, args, true);
    if (verb == "resume") return set_paused(g, args, false);
    if (verb == "ps") return cmd_ps(g, args);
    if (verb == "features") return cmd_features(g, args);
    if (verb == "update") return cmd_update(g, args);
    if (verb == "events") return cmd_events(g, args);
    if (verb == "list") return cmd_list(g, args);
    if (verb == "spec") return cmd_spec(g, args);
    if (verb == "version") {
        print_version();
        return 0;
    }
    if (verb == "help") {
        print_help();
        return 0;
    }
    throw Error("unknown command \"" + verb + "\" (see minirt-oci --help)");
}

}  // namespace

int oci_main(int argc, char** argv, bool as_minirt_oci) {
    Globals g;
    // The caller's environment may hold nothing but XDG_RUNTIME_DIR (conmon
    // passes no PATH): hooks and lookups must not depend on it.
    if (!::getenv("PATH")) ::setenv("PATH", "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", 0);
    try {
        return dispatch(argc, argv, as_minirt_oci ? 1 : 2, g);
    } catch (const Error& e) {
        std::cerr << "minirt-oci: " << e.message() << "\n";
        log_line(g, "error", e.message());
        return e.exit_code();
    } catch (const std::exception& e) {
        std::cerr << "minirt-oci: " << e.what() << "\n";
        log_line(g, "error", e.what());
        return kExitMinirtError;
    }
}

}  // namespace minirt::oci
