// `minirt oci` / `minirt-oci`: the runc-compatible command line engines
// (podman with conmon, containerd's runc shim, CRI-O) drive. One file per
// group of verbs; this header has what they share.
#pragma once

#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include "common/error.hpp"
#include "common/fd.hpp"

namespace minirt::oci {

namespace fs = std::filesystem;

struct Globals {
    fs::path root;
    std::string log_path;
    bool log_json = false;
    bool debug = false;
    std::string cdi_spec_dir;  // --cdi-spec-dir (empty: /etc/cdi and /var/run/cdi)
};

// runc-style flags: "--name value", "--name=value", "-n value"; a boolean
// may be "--name=false". Flags come before the positional arguments (the
// first positional ends them, so `exec ID sh -c x` keeps "-c" for sh).
struct FlagDef {
    std::vector<std::string> names;  // "bundle", "b"
    bool takes_value = false;
};

class Flags {
public:
    Flags(const std::string& command, const std::vector<FlagDef>& defs, const std::vector<std::string>& args);
    bool has(const std::string& name) const;
    std::string value(const std::string& name, const std::string& fallback = "") const;
    const std::vector<std::string>& values(const std::string& name) const;
    const std::vector<std::string>& positional() const { return positional_; }
    // Refuses the wrong number of positional arguments, naming the usage.
    void expect(size_t min, size_t max, const std::string& usage) const;

private:
    std::map<std::string, std::vector<std::string>> values_;
    std::vector<std::string> positional_;
};

// Logs a line at `level` to --log (json or text), for engines that read
// the runtime's log file rather than its stderr (containerd does).
void log_line(const Globals& g, const std::string& level, const std::string& message);
// With --debug: to --log, or to stderr without one.
void log_debug(const Globals& g, const std::string& message);

// Connects to an engine's --console-socket (a pty master is sent there).
UniqueFd connect_console(const std::string& path);

// --preserve-fds N hands the caller's fds 3..3+N-1 to the process. Those
// the caller left closed are filled with /dev/null at once, before this
// command opens anything, so no descriptor of ours (create's lock on the
// state directory) lands there and passes into the container; the result
// names them, for the process to close again before it runs.
std::vector<int> reserve_preserved_fds(int count);

// minirt's resource errors name its own flags (--mem); an engine's user
// wants the linux.resources field, after `prefix`.
Error in_config_terms(const Error& e, const std::string& prefix);

struct Process;
// As runc's capset would: a capability the process is given in any set
// must be in this runtime's own bounding set. (minirt's own CLI leaves
// such a capability out instead, see docs/security.md.)
void check_bounding_set(const Process& p, const std::string& where);
// Whether this host runs AppArmor; a profile other than "unconfined" needs it.
bool apparmor_enabled();
void check_apparmor(const Process& p);

int oci_main(int argc, char** argv, bool as_minirt_oci);

int cmd_create(const Globals& g, const std::vector<std::string>& args);
int cmd_exec(const Globals& g, const std::vector<std::string>& args);
int cmd_update(const Globals& g, const std::vector<std::string>& args);
int cmd_events(const Globals& g, const std::vector<std::string>& args);

}  // namespace minirt::oci
