#include "linux/security.hpp"

#include <grp.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <nlohmann/json.hpp>

#include "common/error.hpp"
#include "common/json_number.hpp"
#include "common/parse.hpp"
#include "linux/seccomp.hpp"

namespace minirt {

using nlohmann::json;

namespace {

struct RlimitName {
    const char* name;
    int resource;
};
constexpr std::array<RlimitName, 16> kRlimits{{
    {"as", RLIMIT_AS},           {"core", RLIMIT_CORE},         {"cpu", RLIMIT_CPU},
    {"data", RLIMIT_DATA},       {"fsize", RLIMIT_FSIZE},       {"locks", RLIMIT_LOCKS},
    {"memlock", RLIMIT_MEMLOCK}, {"msgqueue", RLIMIT_MSGQUEUE}, {"nice", RLIMIT_NICE},
    {"nofile", RLIMIT_NOFILE},   {"nproc", RLIMIT_NPROC},       {"rss", RLIMIT_RSS},
    {"rtprio", RLIMIT_RTPRIO},   {"rttime", RLIMIT_RTTIME},     {"sigpending", RLIMIT_SIGPENDING},
    {"stack", RLIMIT_STACK},
}};

// podman's default nofile for rootful containers; never above what the
// caller's hard limit already is (a host that chose 20000 keeps 20000).
constexpr int64_t kDefaultNofile = 1 << 20;

rlim_t to_rlim(int64_t v) { return v == kRlimUnlimited ? RLIM_INFINITY : static_cast<rlim_t>(v); }

int64_t parse_limit_value(const std::string& v, const std::string& text) {
    if (v == "unlimited" || v == "-1") return kRlimUnlimited;
    return parse_int(v, "--ulimit \"" + text + "\" value", 0, std::numeric_limits<int64_t>::max());
}

uint32_t parse_u32(const std::string& v, const std::string& what) {
    return static_cast<uint32_t>(parse_int(v, what, 0, 0xffffffffLL - 1));  // (uid_t)-1 means "unchanged"
}

// nlohmann converts -1 to 4294967295 without a word: check first.
uint32_t json_u32(const json& v, const std::string& what, uint64_t max = 0xfffffffeULL) {
    if (!v.is_number_integer() || (v.is_number_integer() && !v.is_number_unsigned() && v.get<int64_t>() < 0) ||
        v.get<uint64_t>() > max)
        throw Error(what + ": expected an integer from 0 to " + std::to_string(max));
    return static_cast<uint32_t>(v.get<uint64_t>());
}

json id_maps_json(const std::vector<IdMapping>& maps) {
    json a = json::array();
    for (const auto& m : maps) a.push_back({{"container_id", m.container_id}, {"host_id", m.host_id}, {"size", m.size}});
    return a;
}

std::vector<IdMapping> id_maps_from_json(const json& a, const std::string& what) {
    if (!a.is_array()) throw Error(what + ": not an array");
    std::vector<IdMapping> out;
    for (const auto& m : a)
        out.push_back({json_u32(m.at("container_id"), what), json_u32(m.at("host_id"), what),
                       json_u32(m.at("size"), what, 0xffffffffULL)});
    if (!out.empty()) validate_id_maps(out, what);
    return out;
}

}  // namespace

int rlimit_resource(const std::string& name) {
    for (const auto& r : kRlimits)
        if (name == r.name) return r.resource;
    return -1;
}

Ulimit parse_ulimit(const std::string& text) {
    auto eq = text.find('=');
    if (eq == std::string::npos || eq == 0 || eq + 1 == text.size())
        throw Error("invalid --ulimit \"" + text + "\": expected NAME=SOFT[:HARD], e.g. nofile=1024:2048");
    Ulimit u;
    u.name = text.substr(0, eq);
    if (u.name.starts_with("RLIMIT_") || u.name.starts_with("rlimit_")) u.name.erase(0, 7);
    std::transform(u.name.begin(), u.name.end(), u.name.begin(), [](unsigned char c) { return std::tolower(c); });
    if (rlimit_resource(u.name) < 0) throw Error("invalid --ulimit \"" + text + "\": unknown limit \"" + u.name + "\"");
    std::string values = text.substr(eq + 1);
    auto colon = values.find(':');
    u.soft = parse_limit_value(values.substr(0, colon), text);
    u.hard = colon == std::string::npos ? u.soft : parse_limit_value(values.substr(colon + 1), text);
    auto above = [](int64_t a, int64_t b) { return b != kRlimUnlimited && (a == kRlimUnlimited || a > b); };
    if (above(u.soft, u.hard))
        throw Error("invalid --ulimit \"" + text + "\": the soft limit is above the hard limit");
    return u;
}

std::pair<uint32_t, std::optional<uint32_t>> parse_user(const std::string& text) {
    auto colon = text.find(':');
    std::string u = text.substr(0, colon);
    auto bad = [&]() {
        return Error("invalid --user \"" + text + "\": expected UID[:GID], numeric (e.g. 1000:1000)");
    };
    if (u.empty() || !std::all_of(u.begin(), u.end(), ::isdigit)) throw bad();
    uint32_t uid = parse_u32(u, "--user");
    if (colon == std::string::npos) return {uid, std::nullopt};
    std::string g = text.substr(colon + 1);
    if (g.empty() || !std::all_of(g.begin(), g.end(), ::isdigit)) throw bad();
    return {uid, parse_u32(g, "--user")};
}

IdMapping parse_id_mapping(const std::string& text, const std::string& flag) {
    IdMapping m;
    auto bad = [&](const std::string& why) { return Error("invalid " + flag + " \"" + text + "\": " + why); };
    auto a = text.find(':');
    auto b = a == std::string::npos ? a : text.find(':', a + 1);
    if (b == std::string::npos || text.find(':', b + 1) != std::string::npos)
        throw bad("expected CONTAINER_ID:HOST_ID:SIZE, e.g. 0:100000:65536");
    std::string parts[3] = {text.substr(0, a), text.substr(a + 1, b - a - 1), text.substr(b + 1)};
    for (const auto& p : parts)
        if (p.empty() || !std::all_of(p.begin(), p.end(), ::isdigit)) throw bad("ids must be non-negative integers");
    m.container_id = parse_u32(parts[0], flag);
    m.host_id = parse_u32(parts[1], flag);
    m.size = static_cast<uint32_t>(parse_int(parts[2], flag + " size", 1, 0xffffffffLL));
    return m;
}

void validate_id_maps(const std::vector<IdMapping>& maps, const std::string& flag) {
    if (maps.size() > 340) throw Error("invalid " + flag + ": more than 340 ranges (the kernel's limit)");
    auto end = [](uint64_t start, uint32_t size) { return start + size; };
    for (size_t i = 0; i < maps.size(); ++i) {
        const auto& m = maps[i];
        if (m.size == 0) throw Error("invalid " + flag + ": a range of size 0");
        if (end(m.container_id, m.size) > 0xffffffffULL || end(m.host_id, m.size) > 0xffffffffULL)
            throw Error("invalid " + flag + ": range " + std::to_string(m.container_id) + ":" +
                        std::to_string(m.host_id) + ":" + std::to_string(m.size) + " overflows 32-bit ids");
        for (size_t j = 0; j < i; ++j) {
            const auto& o = maps[j];
            auto overlap = [&](uint64_t a, uint64_t as, uint64_t b, uint64_t bs) { return a < b + bs && b < a + as; };
            if (overlap(m.container_id, m.size, o.container_id, o.size) || overlap(m.host_id, m.size, o.host_id, o.size))
                throw Error("invalid " + flag + ": ranges overlap");
        }
    }
    if (!host_id_for(maps, 0))
        throw Error("invalid " + flag + ": container id 0 must be mapped (the container's root sets it up)");
}

std::optional<uint32_t> host_id_for(const std::vector<IdMapping>& maps, uint32_t id) {
    for (const auto& m : maps)
        if (id >= m.container_id && id - m.container_id < m.size) return m.host_id + (id - m.container_id);
    return std::nullopt;
}

void validate_seccomp_profile(const std::string& text, const std::string& source, CapMask caps) {
    with_context("invalid seccomp profile " + source, [&] { seccomp_filter_from_json(text, caps); });
}

const std::vector<std::string>& default_masked_paths() {
    static const std::vector<std::string> paths{
        "/proc/acpi",        "/proc/asound",     "/proc/interrupts", "/proc/kcore",
        "/proc/keys",        "/proc/latency_stats", "/proc/sched_debug", "/proc/scsi",
        "/proc/timer_list",  "/proc/timer_stats", "/sys/dev/block",  "/sys/devices/virtual/powercap",
        "/sys/firmware",     "/sys/fs/selinux",
    };
    return paths;
}

const std::vector<std::string>& default_readonly_paths() {
    static const std::vector<std::string> paths{"/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys",
                                                "/proc/sysrq-trigger"};
    return paths;
}

json to_json(const Security& s) {
    json ulimits = json::array();
    for (const auto& u : s.ulimits) ulimits.push_back({{"name", u.name}, {"soft", u.soft}, {"hard", u.hard}});
    json profile = nullptr;
    if (s.seccomp == "custom") profile = json::parse(s.seccomp_profile);
    return json{{"privileged", s.privileged},
                {"capabilities", capability_names(s.capabilities)},
                {"no_new_privileges", s.no_new_privileges},
                {"seccomp", s.seccomp},
                {"seccomp_profile", profile},
                {"read_only", s.read_only},
                {"read_only_tmpfs", s.read_only_tmpfs},
                {"user", s.uid ? json{{"uid", *s.uid}, {"gid", s.gid.value_or(0)}} : json(nullptr)},
                {"uid_map", id_maps_json(s.uid_map)},
                {"gid_map", id_maps_json(s.gid_map)},
                {"ulimits", ulimits}};
}

Security security_from_json(const json& j) {
    if (!j.is_object()) throw Error("security: not an object");
    Security s;
    s.privileged = j.value("privileged", false);
    if (j.contains("capabilities"))
        s.capabilities = capability_mask(j["capabilities"].get<std::vector<std::string>>(), "security.capabilities");
    s.no_new_privileges = j.value("no_new_privileges", true);
    s.seccomp = j.value("seccomp", std::string("default"));
    if (s.seccomp != "default" && s.seccomp != "unconfined" && s.seccomp != "custom")
        throw Error("security.seccomp: unknown mode \"" + s.seccomp + "\"");
    if (s.seccomp == "custom") {
        const json& p = j.at("seccomp_profile");
        if (!p.is_object()) throw Error("security.seccomp_profile: not an object");
        s.seccomp_profile = p.dump();
    }
    s.read_only = j.value("read_only", false);
    s.read_only_tmpfs = j.value("read_only_tmpfs", true);
    if (j.contains("user") && !j["user"].is_null()) {
        s.uid = json_u32(j["user"].at("uid"), "security.user.uid");
        s.gid = json_u32(j["user"].at("gid"), "security.user.gid");
    }
    s.uid_map = id_maps_from_json(j.value("uid_map", json::array()), "security.uid_map");
    s.gid_map = id_maps_from_json(j.value("gid_map", json::array()), "security.gid_map");
    if (s.uid_map.empty() != s.gid_map.empty()) throw Error("security: uid_map and gid_map must be given together");
    const json ulimits = j.value("ulimits", json::array());
    if (!ulimits.is_array()) throw Error("security.ulimits: not an array");
    for (const auto& u : ulimits) {
        Ulimit l{u.at("name").get<std::string>(), json_integer<int64_t>(u.at("soft"), "soft"), json_integer<int64_t>(u.at("hard"), "hard")};
        if (rlimit_resource(l.name) < 0) throw Error("security.ulimits: unknown limit \"" + l.name + "\"");
        for (int64_t v : {l.soft, l.hard})
            if (v < kRlimUnlimited) throw Error("security.ulimits: negative limit for " + l.name);
        s.ulimits.push_back(l);
    }
    return s;
}

SecuritySpec security_spec(const Security& s) {
    SecuritySpec spec;
    spec.privileged = s.privileged;
    spec.caps = CapSets::one(s.capabilities);
    spec.no_new_privileges = s.no_new_privileges;
    spec.seccomp = s.privileged ? "unconfined" : s.seccomp;
    spec.seccomp_profile = s.seccomp_profile;
    spec.uid = s.uid.value_or(0);
    spec.gid = s.gid.value_or(0);
    for (const auto& u : s.ulimits) {
        spec.rlimits.push_back({rlimit_resource(u.name), u.name, u.soft, u.hard});
        if (u.name == "nofile") spec.default_nofile = false;
    }
    return spec;
}

void apply_security(const SecuritySpec& spec, const SeccompProgram& filter) {
    // 0. Everything that opens files or allocates much (the filter was
    // built by the caller), before a --ulimit (nofile=5, as=...) could make
    // it fail.
    int last_cap = kernel_last_cap();
    // 1. rlimits while we still hold CAP_SYS_RESOURCE (raising needs it).
    if (spec.default_nofile) {
        rlimit cur{};
        if (::getrlimit(RLIMIT_NOFILE, &cur) == 0) {
            rlim_t target = std::min<rlim_t>(static_cast<rlim_t>(kDefaultNofile), cur.rlim_max);
            rlimit want{target, target};
            // Best effort: the inherited limits are a fine fallback.
            ::setrlimit(RLIMIT_NOFILE, &want);
        }
    }
    for (const auto& r : spec.rlimits) {
        rlimit l{to_rlim(r.soft), to_rlim(r.hard)};
        if (::setrlimit(r.resource, &l) < 0) throw_errno("--ulimit " + r.name + ": setrlimit");
    }
    // 2. Bounding set and ambient: what no later exec can regain.
    if (!spec.privileged) drop_bounding_set(spec.caps.bounding, last_cap);
    // 3. Without no_new_privs the kernel only lets a CAP_SYS_ADMIN holder
    // install a filter: do it before the capabilities go.
    if (!filter.empty() && !spec.no_new_privileges) load_seccomp(filter);
    // 4. The user: supplementary groups first (root's would survive setuid).
    std::vector<gid_t> groups(spec.additional_gids.begin(), spec.additional_gids.end());
    if (::setgroups(groups.size(), groups.data()) < 0) throw_errno("setgroups");
    // A non-root user keeps permitted across setuid, for the sets below to
    // be set from (runc too keeps them across the switch; exec clears it).
    if (spec.uid != 0 && ::prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0) < 0) throw_errno("prctl KEEPCAPS");
    if (::setresgid(spec.gid, spec.gid, spec.gid) < 0) throw_errno("--user: setresgid " + std::to_string(spec.gid));
    if (::setresuid(spec.uid, spec.uid, spec.uid) < 0) throw_errno("--user: setresuid " + std::to_string(spec.uid));
    // 5. Permitted, effective, inheritable and ambient, as the spec gives
    // them (minirt's own containers give a non-root user none: see
    // container/bundle.cpp).
    if (!spec.privileged || spec.uid != 0) set_capabilities(spec.caps);
    // 6. no_new_privs: setuid binaries and file capabilities no longer raise
    // privileges at exec.
    if (spec.no_new_privileges && ::prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0) throw_errno("prctl NO_NEW_PRIVS");
    // 7. Seccomp last, so every step above could use what it refuses.
    if (!filter.empty() && spec.no_new_privileges) load_seccomp(filter);
}

}  // namespace minirt
