// minirt: a daemonless container runtime. This file only dispatches: global
// flags, the verb table, and turning any error into one line and exit 125.
#include <cstring>
#include <iostream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "cli/cli.hpp"
#include "cli/oci.hpp"
#include "common/diagnostics.hpp"
#include "common/error.hpp"
#include "common/parse.hpp"

#ifndef MINIRT_VERSION
#define MINIRT_VERSION "0.0.0"
#endif

namespace minirt::cli {

const std::vector<Command>& commands() {
    static const std::vector<Command> table{
        {"run", "create and start a container", cmd_run},
        {"create", "create a container (start runs it)", cmd_create},
        {"start", "start stopped containers again", cmd_start},
        {"restart", "stop and start containers", cmd_restart},
        {"stop", "stop containers (SIGTERM, then SIGKILL)", cmd_stop},
        {"kill", "send a signal to containers (default SIGKILL)", cmd_kill},
        {"rm", "remove containers", cmd_rm},
        {"rename", "give a container a new name", cmd_rename},
        {"update", "change the cgroup limits of containers", cmd_update},
        {"top", "the processes of a container", cmd_top},
        {"completion", "a bash or zsh completion script (source <(minirt completion bash))", cmd_completion},
        {"wait", "wait for containers to exit and print their exit codes", cmd_wait},
        {"events", "what happened to containers, images, networks, volumes (follows)", cmd_events},
        {"list", "list all containers", cmd_list},
        {"ps", "list running containers (-a: all)", cmd_ps},
        {"status", "show one container's status and resource use", cmd_status},
        {"inspect", "show containers' state and configuration as JSON", cmd_inspect},
        {"logs", "show a container's output", cmd_logs},
        {"attach", "connect to a container's terminal or stdin", cmd_attach},
        {"exec", "run a command in a running container", cmd_exec},
        {"cp", "copy files between a container and the host (or a tar stream)", cmd_cp},
        {"export", "write a container's filesystem as a tar archive", cmd_export},
        {"diff", "list what a container changed in its filesystem", cmd_diff},
        {"freeze", "freeze every process of containers (alias: pause)", cmd_freeze},
        {"thaw", "thaw frozen containers (alias: unpause)", cmd_thaw},
        {"stats", "live resource use of containers", cmd_stats},
        {"trace", "what containers do, from the kernel (eBPF): execs, exits, files, sockets", cmd_trace},
        {"images", "list images", cmd_images},
        {"pull", "copy an image from a registry", cmd_pull},
        {"load", "load an image from an oci-archive or docker-archive", cmd_load},
        {"tag", "add names to an image", cmd_tag},
        {"untag", "take names off an image", cmd_untag},
        {"rmi", "remove images (-f: and their containers)", cmd_rmi},
        {"save", "write an image to an oci-archive or docker-archive", cmd_save},
        {"push", "copy an image to a registry", cmd_push},
        {"commit", "make an image of a container's changes", cmd_commit},
        {"import", "make an image of a tarball (FILE, URL or - for stdin)", cmd_import},
        {"system", "system df|info|prune: disk use, the host, removing what is unused", cmd_system},
        {"container", "podman's container verbs: container prune, container ls, ...", cmd_container},
        {"info", "show the host: kernel, cgroups, memory monitor backend", cmd_info},
        {"image", "manage images (import, ls, rm, inspect, exists, history, ...)", cmd_image},
        {"volume", "manage volumes (create, ls, inspect, rm, prune, exists)", cmd_volume},
        {"network", "manage networks (create, ls, inspect, rm, prune, exists, connect, disconnect)", cmd_network},
        {"port", "list a container's published ports", cmd_port},
        {"generate", "write a systemd unit that runs a container (generate systemd CTR)", cmd_generate},
        {"healthcheck", "run a container's health check now (healthcheck run CTR)", cmd_healthcheck},
    };
    return table;
}

namespace {

void print_help() {
    std::cout << "Usage: minirt [--root DIR] [--storage DIR] [--log-level LEVEL] [--cdi-spec-dir DIR] COMMAND [ARGS...]\n\n"
                 "A daemonless container runtime: each container is owned by its own small shim.\n\n"
                 "Global options:\n"
                 "  --root DIR      runtime state (env MINIRT_ROOT, default /run/minirt)\n"
                 "  --storage DIR   images and containers (env MINIRT_STORAGE, default /var/lib/minirt)\n"
                 "  --log-level L   what to tell on stderr besides errors: debug, info, warn (default),\n"
                 "                  error (no warnings); also trace, fatal, panic as podman takes them\n"
                 "  --cdi-spec-dir D where CDI device specs are (repeatable; default /etc/cdi and /var/run/cdi)\n"
                 "  --version       print the version\n\n"
                 "Commands:\n";
    for (const auto& c : commands()) std::printf("  %-9s %s\n", c.name, c.summary);
    std::printf("  %-9s %s\n", "oci", "the runc-compatible OCI runtime engines use (minirt oci --help)");
    std::cout << "\nRun 'minirt COMMAND --help' for a command's options.\n";
}

int dispatch(int argc, char** argv) {
    std::string root, storage;
    std::vector<std::string> cdi_dirs;
    int i = 1;
    auto value = [&](const char* flag) -> std::string {
        std::string a = argv[i];
        auto eq = a.find('=');
        if (eq != std::string::npos) return a.substr(eq + 1);
        if (i + 1 >= argc) throw Error(std::string("flag ") + flag + " needs a value");
        return argv[++i];
    };
    for (; i < argc && argv[i][0] == '-'; ++i) {
        std::string a = argv[i];
        if (a == "--root" || a.starts_with("--root=")) root = value("--root");
        else if (a == "--storage" || a.starts_with("--storage=")) storage = value("--storage");
        else if (a == "--cdi-spec-dir" || a.starts_with("--cdi-spec-dir=")) cdi_dirs.push_back(value("--cdi-spec-dir"));
        else if (a == "--log-level" || a.starts_with("--log-level=")) {
            std::string word = value("--log-level");
            auto level = parse_log_level(word);
            if (!level)
                throw Error("invalid --log-level " + quote_for_message(word) +
                            ": use trace, debug, info, warn, error, fatal or panic");
            set_log_level(*level);
        }
        else if (a == "--version" || a == "-v") {
            std::cout << "minirt version " << MINIRT_VERSION << "\n";
            return 0;
        } else if (a == "--help" || a == "-h") {
            print_help();
            return 0;
        } else {
            throw Error("unknown global flag \"" + a + "\" (see minirt --help)");
        }
    }
    if (i >= argc) {
        print_help();
        return kExitMinirtError;
    }
    std::string verb = argv[i];
    if (verb == "version") {
        std::cout << "minirt version " << MINIRT_VERSION << "\n";
        return 0;
    }
    if (verb == "help") {
        print_help();
        return 0;
    }
    if (root.empty() && getenv("MINIRT_ROOT") == nullptr && ::geteuid() != 0)
        throw Error("minirt needs root (rootless mode is not supported yet)");
    Context ctx{Store(Paths::from(root, storage)), "minirt", cdi_dirs};
    Args args(argv + i + 1, argv + argc);
    if (log_enabled(LogLevel::Debug)) {
        // As JSON: every argument whole, control characters escaped.
        log_debug("command: " + nlohmann::json(std::vector<std::string>(argv + i, argv + argc))
                                    .dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
        log_debug("state under " + ctx.store.paths().root.string() + ", images and containers under " +
                  ctx.store.paths().storage.string());
    }
    if (verb == "pause") verb = "freeze";
    if (verb == "unpause") verb = "thaw";
    for (const auto& c : commands())
        if (verb == c.name) return c.run(ctx, args);
    throw Error("unknown command \"" + verb + "\" (see minirt --help)");
}

}  // namespace
}  // namespace minirt::cli

int main(int argc, char** argv) {
    // Engines call us as a runc-compatible runtime: installed as minirt-oci
    // (a symlink), or as `minirt oci ...`.
    std::string_view self = argv[0];
    if (auto slash = self.rfind('/'); slash != std::string_view::npos) self.remove_prefix(slash + 1);
    if (self == "minirt-oci") return minirt::oci::oci_main(argc, argv, true);
    if (argc > 1 && std::strcmp(argv[1], "oci") == 0) return minirt::oci::oci_main(argc, argv, false);
    try {
        return minirt::cli::dispatch(argc, argv);
    } catch (const minirt::Error& e) {
        std::cerr << "minirt: " << e.message() << "\n";
        return e.exit_code();
    } catch (const std::exception& e) {
        std::cerr << "minirt: " << e.what() << "\n";
        return minirt::kExitMinirtError;
    }
}
