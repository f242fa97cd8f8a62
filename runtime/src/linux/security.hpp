// What confines a container's processes besides namespaces and cgroups:
// capabilities, no_new_privs, seccomp, the user it runs as, rlimits,
// read-only and masked paths, and its user namespace. `Security` is what
// `run` was asked (kept in config.json); `SecuritySpec` is what a process
// about to exec inside the container applies (init now, `exec` later).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "linux/capabilities.hpp"
#include "linux/seccomp.hpp"

namespace minirt {

inline constexpr int64_t kRlimUnlimited = -1;

struct Ulimit {
    std::string name;  // "nofile", "nproc", ... (without RLIMIT_)
    int64_t soft = 0, hard = 0;  // kRlimUnlimited = unlimited
};

struct IdMapping {
    uint32_t container_id = 0, host_id = 0, size = 0;
    bool operator==(const IdMapping&) const = default;
};

struct Security {
    bool privileged = false;
    CapMask capabilities = default_capabilities();
    bool no_new_privileges = true;
    std::string seccomp = "default";  // "default", "unconfined" or "custom"
    std::string seccomp_profile;      // the custom profile's JSON text
    bool read_only = false;           // --read-only root filesystem
    bool read_only_tmpfs = true;      // with it: tmpfs on /tmp, /var/tmp and /run
    std::optional<uint32_t> uid, gid;  // --user
    std::vector<IdMapping> uid_map, gid_map;  // empty: no user namespace
    std::vector<Ulimit> ulimits;

    bool userns() const { return !uid_map.empty(); }
};

nlohmann::json to_json(const Security& s);
Security security_from_json(const nlohmann::json& j);

// What a process applies right before execve, in this order: rlimits,
// bounding set and ambient, (seccomp if no_new_privs is off), groups and
// user, permitted/effective capabilities, no_new_privs, seccomp. Seccomp
// comes last when it can, so nothing minirt does needs a call it refuses.
struct RlimitSetting {
    int resource = 0;
    std::string name;
    int64_t soft = 0, hard = 0;
};
struct SecuritySpec {
    bool privileged = false;
    CapSets caps = CapSets::one(default_capabilities());
    bool no_new_privileges = true;
    std::string seccomp = "default";
    std::string seccomp_profile;
    uint32_t uid = 0, gid = 0;
    std::vector<uint32_t> additional_gids;  // supplementary groups (OCI user.additionalGids)
    std::vector<RlimitSetting> rlimits;  // explicit --ulimit values
    bool default_nofile = true;          // raise nofile to min(1M, host hard) unless given
};

SecuritySpec security_spec(const Security& s);

// Throws Error (125 before exec; the container never starts half-confined).
// `program`: the process's seccomp filter (empty: none).
void apply_security(const SecuritySpec& spec, const SeccompProgram& program);

// --- parsing, shared by the CLI and unit/fuzz tests -------------------------

// "nofile=1024:2048", "nproc=512", "core=unlimited"; throws Error naming --ulimit.
Ulimit parse_ulimit(const std::string& text);
// RLIMIT_* number for a --ulimit name, or -1.
int rlimit_resource(const std::string& name);
// "1000", "1000:1000"; names are refused (no lookup in the image's passwd).
std::pair<uint32_t, std::optional<uint32_t>> parse_user(const std::string& text);
// "CONTAINER:HOST:SIZE" (podman's --uidmap form); throws naming `flag`.
IdMapping parse_id_mapping(const std::string& text, const std::string& flag);
// Refuses overlapping or overflowing ranges and a map without container id 0.
void validate_id_maps(const std::vector<IdMapping>& maps, const std::string& flag);
// The host id that container id `id` maps to, if any.
std::optional<uint32_t> host_id_for(const std::vector<IdMapping>& maps, uint32_t id);
// Checks a seccomp profile by compiling it; throws Error naming `source`.
void validate_seccomp_profile(const std::string& text, const std::string& source, CapMask caps);

// runc's defaults: what a container may not read (masked) or write
// (read-only) under /proc and /sys.
const std::vector<std::string>& default_masked_paths();
const std::vector<std::string>& default_readonly_paths();

}  // namespace minirt
