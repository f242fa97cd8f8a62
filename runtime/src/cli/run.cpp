// minirt run: create a container from an image and start it; minirt create:
// only create it.
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <iostream>
#include <optional>

#include <nlohmann/json.hpp>

#include <linux/capability.h>

#include "cli/cli.hpp"
#include "common/file.hpp"
#include "common/diagnostics.hpp"
#include "common/parse.hpp"
#include "oci/spec.hpp"
#include "container/bundle.hpp"
#include "container/ops.hpp"
#include "container/volume_ops.hpp"
#include "image/image.hpp"
#include "image/reference.hpp"
#include "linux/capabilities.hpp"
#include "linux/process.hpp"
#include "linux/rootfs.hpp"
#include "cli/attach.hpp"
#include "common/protocol.hpp"
#include "linux/unix_socket.hpp"
#include "container/launch.hpp"
#include "state/events.hpp"

namespace minirt::cli {

namespace {

const char* const kUsage = "minirt run [OPTIONS] IMAGE [COMMAND [ARG...]]";
const char* const kCreateUsage = "minirt create [OPTIONS] IMAGE [COMMAND [ARG...]]";

std::vector<std::string> merge_env(const std::vector<std::string>& base, const std::vector<std::string>& extra) {
    std::vector<std::string> out = base;
    for (const auto& kv : extra) {
        std::string key = kv.substr(0, kv.find('='));
        std::erase_if(out, [&](const std::string& e) { return e.compare(0, key.size() + 1, key + "=") == 0; });
        out.push_back(kv);
    }
    return out;
}

// --entrypoint: a JSON array, one word, or "" for none.
std::vector<std::string> parse_entrypoint(const std::string& text) {
    if (text.empty()) return {};
    if (!text.starts_with("[")) return {text};
    nlohmann::json j = nlohmann::json::parse(text, nullptr, false);
    if (!j.is_array() || !std::all_of(j.begin(), j.end(), [](const nlohmann::json& v) { return v.is_string(); }))
        throw Error("invalid --entrypoint " + quote_for_message(text) + ": a JSON array of strings, or one word");
    return j.get<std::vector<std::string>>();
}

// The image, pulled first as --pull says (podman's: missing, the default,
// pulls one that is not here; always pulls; never does not).
Image image_for_run(Context& ctx, const po::variables_map& vm, const std::string& name) {
    std::string policy = vm["pull"].as<std::string>();
    if (policy != "missing" && policy != "always" && policy != "never")
        throw Error("invalid --pull " + quote_for_message(policy) + ": missing, always or never");
    std::string tls = vm["tls-verify"].as<std::string>();
    if (tls != "true" && tls != "false") throw Error("invalid --tls-verify " + quote_for_message(tls) + ": true or false");
    std::optional<Image> image;
    if (policy != "always") image = find_image(ctx.store.paths(), name);
    if (!image && policy != "never" && looks_like_reference(name)) {
        std::string id = pull_image(ctx, name, tls == "true", vm.count("quiet") > 0);
        image = load_image(ctx.store.paths(), id);
        // As the name was given: what ps shows.
        if (auto found = find_image(ctx.store.paths(), name); found && found->id == image->id) image = found;
    }
    if (!image) throw Error("no such image " + quote_for_message(name) + " (see `minirt images`)");
    return *image;
}

ContainerConfig build_config(Context& ctx, const Parsed& p) {
    const auto& vm = p.vm;
    ContainerConfig c;
    c.image = p.positional[0];
    Image image = image_for_run(ctx, vm, c.image);
    c.id = generate_id();
    c.created_ns = now_ns();
    // Without --name the store picks a free name under its names lock, so
    // parallel runs never race for one; the hostname then follows it.
    if (vm.count("name")) {
        c.name = vm["name"].as<std::string>();
        validate_container_name(c.name);
    }
    // --pid, --ipc, --uts: podman's modes. container:NAME is resolved to
    // its id now and its namespace joined at each start (shim.cpp).
    auto mode = [&](const char* flag, std::initializer_list<const char*> own) -> std::string {
        if (!vm.count(flag)) return "";
        std::string v = vm[flag].as<std::string>();
        if (v == "host") return v;
        for (const char* o : own)
            if (v == o) return "";
        if (v.starts_with("container:") && v.size() > 10) return "container:" + ctx.store.resolve(v.substr(10));
        throw Error("invalid --" + std::string(flag) + " " + quote_for_message(v) + ": use host, private or container:NAME");
    };
    c.pid_mode = mode("pid", {"private"});
    c.uts_mode = mode("uts", {"private"});
    std::string ipc = mode("ipc", {"private", "shareable", "none"});
    if (vm.count("ipc") && vm.count("share-ipc") && ipc != "host")
        throw Error("--share-ipc and --ipc " + vm["ipc"].as<std::string>() + " conflict");
    c.share_ipc = ipc == "host" || vm.count("share-ipc") > 0;
    if (ipc.starts_with("container:")) c.ipc_mode = ipc;
    if (c.uts_mode == "host") {
        if (vm.count("hostname")) throw Error("--hostname and --uts host conflict: the host's name is the container's");
        char host[256] = "";
        ::gethostname(host, sizeof host - 1);
        c.hostname = host;
    } else if (!c.uts_mode.empty()) {
        if (vm.count("hostname"))
            throw Error("--hostname and --uts container: conflict: that container's name is this one's");
        c.hostname = ctx.store.load_config(c.uts_mode.substr(10)).hostname;
    } else if (vm.count("hostname")) {
        c.hostname = vm["hostname"].as<std::string>();
        bool printable = std::all_of(c.hostname.begin(), c.hostname.end(),
                                     [](char ch) { return ch > 0x20 && ch < 0x7f && ch != '/'; });
        if (c.hostname.empty() || c.hostname.size() > 64 || !printable)
            throw Error("invalid --hostname " + quote_for_message(c.hostname) +
                        ": 1 to 64 printable characters, no spaces or slashes");
    } else if (c.name.size() <= 64) {
        c.hostname = c.name;  // empty when the store names it
    } else {
        c.hostname = c.id.substr(0, 12);
    }
    c.image = image.name;  // as found (busybox:latest is the imported busybox)
    if (!image.id.empty()) {
        c.image_id = image.id;
        c.image_layers = image.lowers;
    }
    // podman's rule: the entrypoint, then the arguments given or else the
    // image's Cmd; an --entrypoint given drops the image's Cmd.
    std::vector<std::string> cmd = image.cmd;
    c.command = image.entrypoint;
    if (vm.count("entrypoint")) {
        c.command = parse_entrypoint(vm["entrypoint"].as<std::string>());
        cmd.clear();
    }
    c.entrypoint = c.command;
    if (p.positional.size() > 1) c.command.insert(c.command.end(), p.positional.begin() + 1, p.positional.end());
    else c.command.insert(c.command.end(), cmd.begin(), cmd.end());
    if (c.command.empty() || c.command[0].empty()) throw Error("no command given and image \"" + c.image + "\" has none");
    // podman's order: the image's, --env-host's, --env-file's, then -e's.
    std::vector<std::string> flags_env;
    if (vm.count("env-host"))
        for (char** e = environ; *e; ++e)
            if (std::strchr(*e, '=') && **e != '=') flags_env.emplace_back(*e);
    for (const auto& e : env_file_entries(flag_values(vm, "env-file"))) flags_env.push_back(e);
    if (vm.count("env"))
        for (const auto& e : vm["env"].as<std::vector<std::string>>()) {
            auto [k, v] = parse_env(e);
            flags_env.push_back(k + "=" + v);
        }
    c.env = merge_env(merge_env({"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
                                 "HOME=/root", "container=minirt"},
                                image.env),
                      flags_env);
    c.workdir = vm.count("workdir") ? vm["workdir"].as<std::string>() : image.workdir;
    if (c.workdir.empty() || c.workdir[0] != '/') throw Error("invalid --workdir \"" + c.workdir + "\": must be an absolute path");
    c.cgroupns = vm["cgroupns"].as<std::string>();
    if (c.cgroupns != "private" && c.cgroupns != "host")
        throw Error("invalid --cgroupns " + quote_for_message(c.cgroupns) + ": use \"private\" (default) or \"host\"");
    network_from_flags(vm, ctx.store, image.exposed_ports, c);
    if (vm.count("propagate-mount")) {
        for (const auto& d : vm["propagate-mount"].as<std::vector<std::string>>()) {
            std::error_code ec;
            fs::path abs = fs::canonical(d, ec);
            if (ec || !fs::is_directory(abs))
                throw Error("invalid --propagate-mount \"" + d + "\": not an existing directory");
            if (abs == "/") throw Error("invalid --propagate-mount \"/\": choose a directory below /");
            c.propagate_mounts.push_back(abs.string());
        }
    }
    c.auto_remove = vm.count("rm") > 0;
    if (vm.count("restart")) c.restart = parse_restart_policy(vm["restart"].as<std::string>());
    if (c.auto_remove && !c.restart.none())
        throw Error("--rm and --restart " + to_string(c.restart) + " conflict: a removed container cannot be restarted");
    c.healthcheck = healthcheck_from_flags(vm, image, c.auto_remove);
    c.tty = vm.count("tty") > 0;
    c.interactive = vm.count("interactive") > 0;
    if (vm.count("log-max-size")) c.log_max_size = parse_size(vm["log-max-size"].as<std::string>(), "--log-max-size");
    c.resources = resources_from_flags(vm, ctx.store.paths().storage);
    MonitorLimits m = monitor_limits_from_flags(vm);
    c.monitor_soft = m.soft;
    c.monitor_hard = m.hard;
    c.security = security_from_flags(vm, ctx.store);
    // --user by name, or the image's User: what the image's /etc/passwd says.
    std::string user = vm.count("user") ? vm["user"].as<std::string>() : image.user;
    if (!user.empty() && !(vm.count("user") && numeric_user(user))) {
        UserIds ids = with_context(vm.count("user") ? "invalid --user" : "the image's User",
                                   [&] { return resolve_user(image_roots(ctx.store.paths(), image), user); });
        c.security.uid = ids.uid;
        c.security.gid = ids.gid.value_or(0);
        check_user_mapped(c.security);
    }
    c.security.read_only_tmpfs = read_only_tmpfs_from_flags(vm);
    c.mounts = mounts_from_flags(vm);
    // The image's Volumes: an anonymous volume each, where no mount was asked for (podman's).
    for (const auto& path : image.volumes)  // absolute, normalized, no ':' (image.cpp)
        if (std::none_of(c.mounts.begin(), c.mounts.end(), [&](const MountRequest& r) {
                return fs::path(r.destination).lexically_normal() == fs::path(path).lexically_normal();
            }))
            c.mounts.push_back(parse_volume(path));
    c.labels = image.labels;
    // podman's order: the image's, --label-file's, then --label's.
    std::vector<std::pair<std::string, std::string>> labels;
    for (const auto& file : flag_values(vm, "label-file"))
        for (auto& entry : setting_file_lines("--label-file", file)) labels.push_back(std::move(entry));
    for (const auto& l : flag_values(vm, "label")) labels.emplace_back("--label", l);
    for (const auto& [where, l] : labels) {
        auto eq = l.find('=');
        std::string key = l.substr(0, eq);
        if (key.empty()) throw Error("invalid " + where + " " + quote_for_message(l) + ": KEY[=VALUE]");
        c.labels[key] = eq == std::string::npos ? "" : l.substr(eq + 1);
    }
    for (const auto& a : flag_values(vm, "annotation")) {
        auto eq = a.find('=');
        std::string key = a.substr(0, eq);
        if (key.empty() || eq == std::string::npos) throw Error("invalid --annotation " + quote_for_message(a) + ": KEY=VALUE");
        if (key.starts_with("org.minirt."))
            throw Error("invalid --annotation " + quote_for_message(a) + ": org.minirt.* keys are minirt's own");
        c.annotations[key] = a.substr(eq + 1);
    }
    for (const auto& s : flag_values(vm, "sysctl")) {
        auto eq = s.find('=');
        std::string key = s.substr(0, eq);
        if (key.empty() || eq == std::string::npos || key.find_first_of("/ ") != std::string::npos ||
            key.find("..") != std::string::npos)
            throw Error("invalid --sysctl " + quote_for_message(s) + ": KEY=VALUE");
        std::string ns = oci::sysctl_namespace(key);
        // Only what the container alone has: podman's rule (and runc's).
        if (ns.empty() || ns == "user")
            throw Error("invalid --sysctl " + quote_for_message(s) + ": " + key +
                        " is not in a namespace of the container's own (it would change the host)");
        if (ns == "uts" && !c.uts_mode.empty())
            throw Error("invalid --sysctl " + quote_for_message(s) + ": the container shares its uts namespace (--uts " +
                        c.uts_mode.substr(0, 22) + ")");
        if (ns == "ipc" && (c.share_ipc || !c.ipc_mode.empty()))
            throw Error("invalid --sysctl " + quote_for_message(s) + ": the container shares its ipc namespace");
        if (ns == "network" && c.network != "bridge" && c.network != "none")
            throw Error("invalid --sysctl " + quote_for_message(s) + ": the container's network namespace is not its own (--network " +
                        c.network + ")");
        c.sysctls[key] = s.substr(eq + 1);
    }
    if (vm.count("shm-size") && (c.share_ipc || !c.ipc_mode.empty()))
        throw Error("--shm-size and --ipc " + (c.share_ipc ? std::string("host") : std::string("container:")) +
                    " conflict: the /dev/shm shared keeps its own size");
    if (vm.count("shm-size")) c.shm_size = parse_size(vm["shm-size"].as<std::string>(), "--shm-size");
    if (vm.count("oom-score-adj"))
        c.oom_score_adj = static_cast<int>(parse_int(vm["oom-score-adj"].as<std::string>(), "--oom-score-adj", -1000, 1000));
    if (vm.count("init-path") && !vm.count("init")) throw Error("--init-path needs --init");
    if (vm.count("init")) {
        std::vector<std::string> candidates{"/usr/libexec/podman/catatonit", "/usr/bin/catatonit"};
        if (vm.count("init-path")) candidates = {vm["init-path"].as<std::string>()};
        for (const auto& path : candidates) {
            struct stat st{};
            if (path.starts_with("/") && ::stat(path.c_str(), &st) == 0 && S_ISREG(st.st_mode) && (st.st_mode & 0111)) {
                c.init_path = path;
                break;
            }
        }
        if (c.init_path.empty())
            throw Error(vm.count("init-path") ? "invalid --init-path " + quote_for_message(candidates[0]) +
                                                    ": not an absolute path to an executable file"
                                              : "--init needs catatonit (apt-get install catatonit), or --init-path");
    }
    for (const auto& g : flag_values(vm, "group-add")) {
        // podman's keep-groups (the caller's groups) has no meaning for a root CLI.
        if (g == "keep-groups") throw Error("invalid --group-add keep-groups: minirt runs rootful, with no groups to keep");
        uint32_t gid = with_context("invalid --group-add", [&] { return resolve_group(image_roots(ctx.store.paths(), image), g); });
        if (std::find(c.group_add.begin(), c.group_add.end(), gid) == c.group_add.end()) c.group_add.push_back(gid);
    }
    if (vm.count("stop-timeout")) c.stop_timeout = vm["stop-timeout"].as<int>();
    if (c.stop_timeout < 0) throw Error("invalid --stop-timeout " + std::to_string(c.stop_timeout) + ": must not be negative");
    if (vm.count("stop-signal")) c.stop_signal = parse_signal(vm["stop-signal"].as<std::string>());
    else if (!image.stop_signal.empty())
        c.stop_signal = with_context("the image's StopSignal", [&] { return parse_signal(image.stop_signal); });
    for (const auto& mount : c.mounts) {
        if (!mount.has_option("idmap")) continue;
        if (!c.security.userns())
            throw Error("invalid mount on " + mount.destination + ": idmap needs a user namespace (--userns=auto or --uidmap)");
        if (mount.has_option("U"))
            throw Error("invalid mount on " + mount.destination +
                        ": U and idmap together (idmap already shows the files as the container's)");
    }
    // Another container's namespaces belong to the host's user namespace;
    // one of the container's own could not enter them.
    for (const auto& [flag, ns_mode] : {std::pair{"pid", &c.pid_mode}, {"ipc", &c.ipc_mode}, {"uts", &c.uts_mode}})
        if (ns_mode->starts_with("container:") && c.security.userns())
            throw Error(std::string("--") + flag + " container: and --userns together are not supported");
    c.devices = devices_from_flags(vm);
    c.device_cgroup_rules = device_cgroup_rules_from_flags(vm);
    apply_cdi_devices(vm, ctx.cdi_spec_dirs, c);
    apply_trace_flags(vm, c);
    // cgroup v1's release_agent, unmounting the masks, mounting the host's
    // disks: root with CAP_SYS_ADMIN in the host's user namespace is not
    // contained without a MAC policy, which minirt does not load (podman on
    // such a host is no different). Said once, where it is asked for.
    if (!c.security.privileged && !c.security.userns() && has_cap(c.security.capabilities, CAP_SYS_ADMIN))
        log_warning("CAP_SYS_ADMIN without --userns: this container can become root on the host (docs/security.md)");
    return c;
}

}  // namespace

po::options_description run_options(bool create) {
    po::options_description desc("Options");
    if (!create)
        desc.add_options()("detach,d", "run in the background and print the container id")(
            "sdnotify", po::value<std::string>(), "conmon: tell systemd ($NOTIFY_SOCKET) its shim's PID, and READY once it runs; ignore (default)");
    desc.add_options()
        ("tty,t", "give the command a pseudo-terminal")
        ("interactive,i", "keep stdin open (with -d: for `minirt attach`)")
        ("detach-keys", po::value<std::string>()->default_value("ctrl-p,ctrl-q"), "keys that detach from -it")
        ("rm", "remove the container when it exits")
        ("restart", po::value<std::string>(), "no, on-failure[:MAX], always or unless-stopped: start it again when it exits")
        ("name", po::value<std::string>(), "container name ([a-zA-Z0-9][a-zA-Z0-9_.-]*)")
        ("env,e", po::value<std::vector<std::string>>(), "set KEY=VALUE (or KEY: take it from here)")
        ("env-file", po::value<std::vector<std::string>>(), "read KEY=VALUE lines from a file (before -e)")
        ("env-host", "pass this environment into the container (before --env-file and -e)")
        ("workdir,w", po::value<std::string>(), "working directory inside the container")
        ("hostname", po::value<std::string>(), "hostname (default: the container name)")
        ("pid", po::value<std::string>(), "private (default): a PID namespace of its own; host: the host's; container:NAME: that container's")
        ("ipc", po::value<std::string>(), "private, shareable (default: its own IPC namespace), host (= --share-ipc), or container:NAME")
        ("uts", po::value<std::string>(), "private (default): its own hostname; host: the host's UTS namespace and name; container:NAME: that container's")
        ("share-ipc", "keep the host's IPC namespace")
        ("cgroupns", po::value<std::string>()->default_value("private"),
         "private (its own cgroup namespace, its group at /sys/fs/cgroup) or host")
        ("propagate-mount", po::value<std::vector<std::string>>(),
         "host DIR whose later mounts appear in the container at the same path")
        ("log-max-size", po::value<std::string>(), "rotate the log at this size (default 16M)")
        ("label,l", po::value<std::vector<std::string>>(), "a label KEY[=VALUE] (over the image's Labels)")
        ("label-file", po::value<std::vector<std::string>>(), "read KEY[=VALUE] labels from a file, a line each (before --label)")
        ("annotation", po::value<std::vector<std::string>>(), "KEY=VALUE in the OCI spec's annotations")
        ("sysctl", po::value<std::vector<std::string>>(),
         "KEY=VALUE: a kernel setting of the container's own namespaces (net.*, kernel.shm*, kernel.msg*, fs.mqueue.*)")
        ("shm-size", po::value<std::string>(), "size of /dev/shm (default 64m)")
        ("oom-score-adj", po::value<std::string>(), "the OOM killer's bias for the container's processes, -1000..1000")
        ("init", "run the command under catatonit (podman's init) as PID 1: it reaps orphans and passes signals on")
        ("init-path", po::value<std::string>(), "the init --init runs (default: catatonit from /usr/libexec/podman or /usr/bin)")
        ("group-add", po::value<std::vector<std::string>>(), "a supplementary group of the command, by name (the image's /etc/group) or gid")
        ("stop-signal", po::value<std::string>(), "what stop sends first (default: the image's, or SIGTERM)")
        ("stop-timeout", po::value<int>(), "seconds stop waits after it before SIGKILL, unless given -t (default 10)")
        ("entrypoint", po::value<std::string>(), "the command before the arguments, instead of the image's (JSON array, a word, or \"\")")
        ("pull", po::value<std::string>()->default_value("missing"), "pull the image: missing (if not here), always, never")
        ("tls-verify", po::value<std::string>()->default_value("true"), "false: pull from a registry over plain http")
        ("quiet,q", "no pull progress")
        ("trace", po::value<std::string>(), "record what the container does, with eBPF, from before its first step, appending to FILE (docs/trace.md)")
        ("trace-events", po::value<std::string>(), "the events --trace records, as `minirt trace --events` (default: all)")
        ("trace-format", po::value<std::string>(), "--trace's lines: text (default) or json");
    add_network_options(desc);
    add_mount_options(desc);
    add_device_options(desc);
    add_resource_options(desc);
    add_security_options(desc);
    add_health_options(desc);
    return desc;
}

namespace {

// run, and create (which stops once the container exists: `start` runs it).
int run_or_create(Context& ctx, const Args& args, bool create) {
    const char* usage = create ? kCreateUsage : kUsage;
    po::options_description desc = run_options(create);
    Parsed p = parse(desc, args, usage, true);
    require_positional(p, 1, SIZE_MAX, usage);
    bool detach = p.vm.count("detach") > 0;
    bool sdnotify = p.vm.count("sdnotify") && parse_sdnotify(p.vm["sdnotify"].as<std::string>());

    // The container's network namespace is made meanwhile, on a thread of
    // ours (not for --network none with a user namespace: the init makes
    // one inside it). Begun before the flags are checked in full: building
    // the config is part of what it overlaps; a refused run just drops it.
    std::optional<NetnsMaker> netns;
    if (!create && network_flags_want_namespace(p.vm)) netns.emplace(ctx.store.paths(), network_flags_may_be_bridge(p.vm));
    ContainerConfig config = build_config(ctx, p);
    // As given, for `generate systemd --new` (podman's CreateCommand).
    config.create_command.assign(1, create ? "create" : "run");
    config.create_command.insert(config.create_command.end(), args.begin(), args.end());
    if (!NetnsMaker::wanted_for(config)) netns.reset();
    // Checked up front so a refused run leaves nothing behind.
    for (const auto& d : config.propagate_mounts) validate_propagation_source(d);
    std::string detach_keys = parse_detach_keys(p.vm["detach-keys"].as<std::string>());
    // Volumes are made (and filled from the image) before the container,
    // under their lock until it exists, so no `volume rm` comes between.
    PreparedVolumes volumes = prepare_volumes(ctx.store, config);
    FileLock lock;
    try {
        lock = ctx.store.create(config, [&](const ContainerConfig& c) { return oci_config_text(c, ctx.store.paths()); });
    } catch (...) {
        undo_volumes(ctx.store, volumes);
        throw;
    }
    volumes.lock.reset();
    record_container_event(ctx.store.paths(), config, "create");
    if (create) {
        std::cout << config.id << "\n";
        return 0;
    }
    // A bridge network's setup begins once the shim is spawned, beside its start.
    if (netns) netns->go(config);
    // Foreground without a terminal: the shim relays output to our own
    // stdout/stderr (and with -i our stdin is the container's). With -t the
    // terminal goes through the attach socket.
    LaunchMode mode = detach ? LaunchMode{} : attached_mode(config, true);
    Launched launched;
    try {
        mode.netns = netns ? &*netns : nullptr;
        if (!config.namespace_peers().empty()) start_namespace_peers(ctx.store, config);
        launched = launch_container(ctx.store, config.id, lock, mode);
    } catch (const Error& e) {
        netns.reset();  // its thread undoes a setup no shim took
        // minirt's own failure: undo the creation entirely. A command that
        // could not be found (126/127) leaves an exited container, as podman.
        lock.release();
        if (e.exit_code() == kExitMinirtError) {
            try {
                remove_container(ctx.store, config.id, true, true);
            } catch (const Error&) {
            }
        }
        throw;
    }
    lock.release();  // the shim's copy covers the rest of the start
    if (sdnotify) notify_systemd_ready(ctx.store, config.id);
    if (detach) {
        std::cout << config.id << "\n";
        return 0;
    }
    return follow_started(ctx, config, launched, detach_keys);
}

}  // namespace

int cmd_run(Context& ctx, const Args& args) { return run_or_create(ctx, args, false); }
int cmd_create(Context& ctx, const Args& args) { return run_or_create(ctx, args, true); }

LaunchMode attached_mode(const ContainerConfig& config, bool with_stdin) {
    LaunchMode mode;
    mode.attached = !config.tty;
    mode.pass_stdin = mode.attached && config.interactive && with_stdin;
    mode.tty_client = config.tty;
    return mode;
}

int follow_started(Context& ctx, const ContainerConfig& config, Launched& launched, const std::string& detach_keys) {
    if (!config.tty) return wait_attached(launched, config.id);

    UniqueFd sock = connect_unix(ctx.store.paths().state_dir(config.id) / "attach.sock", SOCK_SEQPACKET);
    AttachOptions o;
    o.tty = true;
    o.stdin_open = config.interactive;
    o.detach_keys = detach_keys;
    UniqueFd target = open_pidfd(launched.pid, launched.start);
    int target_fd = target.get();
    o.forward_signal = [target_fd](int sig) {
        if (target_fd >= 0) signal_pidfd(target_fd, sig);
    };
    AttachResult r = attach_session(sock.get(), o);
    if (r.detached) {
        if (::isatty(1)) std::cout << "\r\n";
        return 0;
    }
    // The shim says "exited" once the exit is recorded (and --rm done).
    return wait_reported_exit(launched, config.id);
}

}  // namespace minirt::cli
