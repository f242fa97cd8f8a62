// The command table and what every verb shares: parsing helpers, the
// resolved paths, and output helpers.
#pragma once

#include <boost/program_options.hpp>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "container/ops.hpp"
#include "image/image.hpp"
#include "state/store.hpp"

namespace minirt {
struct Network;
struct Launched;
struct LaunchMode;
}

namespace minirt::cli {

namespace po = boost::program_options;
using Args = std::vector<std::string>;

struct Context {
    Store store;
    std::string program = "minirt";
    std::vector<std::string> cdi_spec_dirs;  // --cdi-spec-dir (empty: CDI's defaults)
};

struct Command {
    const char* name;
    const char* summary;
    int (*run)(Context&, const Args&);
};

// All verbs, in the order `minirt --help` lists them.
const std::vector<Command>& commands();

struct Parsed {
    po::variables_map vm;
    std::vector<std::string> positional;
};

// Parses `args` against `desc`. With stop_at_positional, the first
// positional argument and everything after it are positional (so `run IMAGE
// sh -c x` hands "-c" to the container, not to us). Unknown flags and bad
// values become Error (125) naming the flag. Prints usage and exits 0 on --help.
Parsed parse(const po::options_description& desc, const Args& args, const std::string& usage,
             bool stop_at_positional = false);

// Refuses a wrong number of positional arguments with the usage line.
void require_positional(const Parsed& p, size_t min, size_t max, const std::string& usage);
// stop's and restart's -t/--time: -1 when not given (the container's own
// --stop-timeout then); Error for a negative one.
int stop_time_flag(const po::variables_map& vm);
// The values of a repeatable flag (-e, -v, --label, ...), none when not given.
std::vector<std::string> flag_values(const po::variables_map& vm, const char* key);

// A boolean flag value as podman reads one (Go's strconv.ParseBool: true,
// false, 1, 0, t, f, and their capitalised forms); nullopt for anything
// else, for the caller to refuse in its own words.
std::optional<bool> bool_word(std::string_view v);

// --label KEY[=VALUE] flags as a map (Error naming a malformed one).
std::map<std::string, std::string> labels_from_flags(const po::variables_map& vm, const char* key = "label");
// A --filter label=KEY or label=KEY=VALUE test against `labels`.
bool label_filter_matches(const std::map<std::string, std::string>& labels, const std::string& value);
// prune's question: prints `warning` and the names, reads y/yes on stdin
// (no answer, as in a script without a terminal: no).
bool confirmed(const std::string& warning, const std::vector<std::string>& names);
// A verb with subcommands (volume, network): --help prints `help`, else
// the subcommand named by args[0] (or one of its aliases) runs.
struct Subcommand {
    std::vector<const char*> names;
    int (*run)(Context&, const Args&);
};
int run_subcommand(Context& ctx, const Args& args, const char* verb, const char* usage, const char* help,
                   const std::vector<Subcommand>& table);

// The health check flags of run (--health-cmd, ..., --no-healthcheck),
// over the image's HEALTHCHECK.
void add_health_options(po::options_description& desc);
std::optional<Healthcheck> healthcheck_from_flags(const po::variables_map& vm, const Image& image, bool auto_remove);

// run's options (create's without -d and --sdnotify).
po::options_description run_options(bool create);

// --sdnotify's value: true for conmon, false for ignore; Error otherwise.
bool parse_sdnotify(const std::string& value);
// --sdnotify=conmon, as podman's: with $NOTIFY_SOCKET set (systemd's
// Type=notify), says the container's shim is the main process and READY=1.
void notify_systemd_ready(const Store& store, const std::string& id);

// The resource flags of run (--mem, --cpus, ...), shared with future verbs.
void add_resource_options(po::options_description& desc);
Resources resources_from_flags(const po::variables_map& vm, const fs::path& storage);
struct MonitorLimits {
    uint64_t soft = 0, hard = 0;
};
MonitorLimits monitor_limits_from_flags(const po::variables_map& vm);
// The mount flags of run (-v, --mount, --tmpfs, --read-only-tmpfs).
void add_mount_options(po::options_description& desc);
std::vector<MountRequest> mounts_from_flags(const po::variables_map& vm);
// One -v value (SRC:DST[:OPTIONS], or DST alone: an anonymous volume).
MountRequest parse_volume(const std::string& text);
bool read_only_tmpfs_from_flags(const po::variables_map& vm);
// The device flags of run (--device, --device-cgroup-rule); the host's
// nodes are read as the flags are.
void add_device_options(po::options_description& desc);
std::vector<DeviceRequest> devices_from_flags(const po::variables_map& vm);
std::vector<std::string> device_cgroup_rules_from_flags(const po::variables_map& vm);
// --device vendor.com/class=name: CDI devices, read from the spec files of
// `dirs` (empty: /etc/cdi and /var/run/cdi) and applied to `c` (its device
// nodes, mounts, environment, groups and hooks). Error (125) naming the
// device and the file for anything wrong, before anything is made.
// run/create --trace FILE, --trace-events, --trace-format (cli/trace.cpp).
void apply_trace_flags(const po::variables_map& vm, ContainerConfig& c);
void apply_cdi_devices(const po::variables_map& vm, const std::vector<std::string>& dirs, ContainerConfig& c);
// The network flags of run (--network, -p, --dns, ...): `config`'s
// network fields. Whether they want a network namespace made for them.
void add_network_options(po::options_description& desc);
void network_from_flags(const po::variables_map& vm, const Store& store, const std::vector<std::string>& image_exposed,
                        ContainerConfig& config);
bool network_flags_want_namespace(const po::variables_map& vm);
// Whether they may put it on a bridge network (a network name, or the
// default where that is one).
bool network_flags_may_be_bridge(const po::variables_map& vm);
// A DNS name (--network-alias, --add-host).
bool valid_dns_name(const std::string& name);
// --ip on `net` (an IPv4 address in its subnets), --mac-address (unicast):
// Error (125) naming the flag.
void check_ip_on(const Network& net, const std::string& ip);
void check_mac(const std::string& mac);
// The security flags of run (--cap-add, --security-opt, --user, --userns, ...).
void add_security_options(po::options_description& desc);
Security security_from_flags(const po::variables_map& vm, const Store& store);
// Error if --user's ids are outside the container's user namespace.
void check_user_mapped(const Security& s);

// A container started with the user attached (run in the foreground,
// start -a): how the shim is asked to launch it, and following it until it
// exits (or the user detaches from its terminal); returns the exit code.
// `with_stdin`: our stdin becomes a -i container's (run -i, start -i).
LaunchMode attached_mode(const ContainerConfig& config, bool with_stdin);
int follow_started(Context& ctx, const ContainerConfig& config, Launched& launched, const std::string& detach_keys);

// Journals a container event (state/events.hpp) with its name and image;
// never fails the verb.
// The containers a verb names, or with -a/--all, by id: every one, or
// (`running`) every running or paused one, and (`restarting`) those waiting
// to restart too. A usage error for both or neither.
std::vector<std::string> handles_or_all(const Context& ctx, const Parsed& p, const char* usage, bool running,
                                        bool restarting = false);

// --env-file FILE...: podman's format, KEY=VALUE lines (the value as it
// stands, quotes and spaces kept), KEY alone for this environment's value
// (left out if unset), # comments and blank lines. KEY=VALUE entries in
// order; Error naming the file and line for a bad one or an unreadable file.
std::vector<std::string> env_file_entries(const std::vector<std::string>& files);
// The lines of a file of settings as podman reads --env-file and
// --label-file (no blank ones, no # comments, leading blanks and a CR
// dropped), each with where it stands ("FLAG FILE:LINE") for messages.
std::vector<std::pair<std::string, std::string>> setting_file_lines(const std::string& flag, const std::string& file);

// The container a command names (a name, an id or its prefix), viewed;
// Error for no such container, or one whose records are damaged.
ContainerView view_named(const Context& ctx, const std::string& name);
void container_event(const Context& ctx, const std::string& id, const char* action,
                     std::map<std::string, std::string> attributes = {}) noexcept;

// Verb entry points.
int cmd_run(Context&, const Args&);
int cmd_create(Context&, const Args&);
int cmd_events(Context&, const Args&);
int cmd_start(Context&, const Args&);
int cmd_restart(Context&, const Args&);
int cmd_stop(Context&, const Args&);
int cmd_kill(Context&, const Args&);
int cmd_rm(Context&, const Args&);
int cmd_wait(Context&, const Args&);
int cmd_list(Context&, const Args&);
int cmd_ps(Context&, const Args&);
int cmd_status(Context&, const Args&);
int cmd_inspect(Context&, const Args&);
int cmd_logs(Context&, const Args&);
int cmd_images(Context&, const Args&);
int cmd_pull(Context&, const Args&);
int cmd_load(Context&, const Args&);
int cmd_tag(Context&, const Args&);
int cmd_untag(Context&, const Args&);
int cmd_rmi(Context&, const Args&);
int cmd_save(Context&, const Args&);
int cmd_commit(Context&, const Args&);
int cmd_import(Context&, const Args&);
int cmd_system(Context&, const Args&);
int cmd_system_prune(Context&, const Args&);
int cmd_container(Context&, const Args&);
int cmd_image_prune(Context&, const Args&);
int cmd_image_inspect(Context&, const Args&);
int cmd_image_exists(Context&, const Args&);
int cmd_image_history(Context&, const Args&);
int cmd_push(Context&, const Args&);
// Pulls `ref` (a short name from the search registries); the image id.
std::string pull_image(Context& ctx, const std::string& ref, bool tls_verify, bool quiet);
int cmd_image(Context&, const Args&);
int cmd_volume(Context&, const Args&);
int cmd_network(Context&, const Args&);
int cmd_port(Context&, const Args&);
int cmd_healthcheck(Context&, const Args&);
int cmd_generate(Context&, const Args&);
int cmd_rename(Context&, const Args&);
int cmd_update(Context&, const Args&);
int cmd_top(Context&, const Args&);
int cmd_completion(Context&, const Args&);
int cmd_cp(Context&, const Args&);
int cmd_export(Context&, const Args&);
int cmd_diff(Context&, const Args&);
int cmd_freeze(Context&, const Args&);
int cmd_thaw(Context&, const Args&);
int cmd_stats(Context&, const Args&);
int cmd_trace(Context&, const Args&);
int cmd_info(Context&, const Args&);
int cmd_attach(Context&, const Args&);
int cmd_exec(Context&, const Args&);

// Runs `fn` on each handle; prints errors per handle and returns 125 if any
// failed (like podman, the others still get done).
template <typename Fn>
int for_each_handle(Context& ctx, const std::vector<std::string>& handles, Fn&& fn);

}  // namespace minirt::cli

#include "cli/cli_impl.hpp"
