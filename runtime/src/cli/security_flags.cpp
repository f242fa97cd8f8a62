// The security flags of `run` (--cap-add, --security-opt, --user, --userns,
// --ulimit, ...), parsed into Security and checked before anything exists.
#include "cli/cli.hpp"
#include "common/file.hpp"
#include "linux/security.hpp"
#include "image/image.hpp"
#include "linux/userns.hpp"

namespace minirt::cli {

namespace {

bool parse_bool_opt(const std::string& opt, const std::string& value) {
    if (value.empty()) return true;
    if (auto b = bool_word(value)) return *b;
    throw Error("invalid --security-opt \"" + opt + "\": expected true or false");
}

// Host ranges other containers of this storage already map.
std::vector<IdMapping> ranges_in_use(const Store& store) {
    std::vector<IdMapping> taken;
    for (const auto& id : store.list_ids()) {
        try {
            auto c = store.load_config(id);
            for (const auto* maps : {&c.security.uid_map, &c.security.gid_map})
                taken.insert(taken.end(), maps->begin(), maps->end());
        } catch (const Error&) {
            // A corrupt config claims nothing.
        }
    }
    return taken;
}

}  // namespace

void add_security_options(po::options_description& desc) {
    desc.add_options()
        ("cap-add", po::value<std::vector<std::string>>(),
         "add a capability (e.g. NET_RAW, or ALL). SYS_ADMIN (or ALL) without --userns makes the container "
         "host root on a host without AppArmor or SELinux (docs/security.md)")
        ("cap-drop", po::value<std::vector<std::string>>(), "drop a capability (e.g. CHOWN, or ALL)")
        ("privileged", "all capabilities, no seccomp, no masked paths, writable /sys, the host's devices")
        ("security-opt", po::value<std::vector<std::string>>(),
         "no-new-privileges[=true|false], seccomp=unconfined, seccomp=PROFILE.json (podman's format)")
        ("read-only", "mount the root filesystem read-only (/tmp, /var/tmp and /run stay writable tmpfs)")
        ("user,u", po::value<std::string>(), "run the command as USER[:GROUP] (names from the image's /etc/passwd and /etc/group, or numbers); groups are cleared")
        ("userns", po::value<std::string>(), "auto: a new user namespace, root mapped to a free host range")
        ("uidmap", po::value<std::vector<std::string>>(), "CONTAINER_ID:HOST_ID:SIZE uid mapping (user namespace)")
        ("gidmap", po::value<std::vector<std::string>>(), "CONTAINER_ID:HOST_ID:SIZE gid mapping (default: as --uidmap)")
        ("ulimit", po::value<std::vector<std::string>>(), "NAME=SOFT[:HARD] resource limit, e.g. nofile=1024:2048");
}

Security security_from_flags(const po::variables_map& vm, const Store& store) {
    Security s;
    s.privileged = vm.count("privileged") > 0;
    s.capabilities = apply_cap_flags(s.privileged ? all_known_capabilities() : default_capabilities(),
                                     flag_values(vm, "cap-add"), flag_values(vm, "cap-drop"));
    std::string profile_file;
    for (const auto& opt : flag_values(vm, "security-opt")) {
        auto eq = opt.find('=');
        std::string key = opt.substr(0, eq);
        std::string value = eq == std::string::npos ? "" : opt.substr(eq + 1);
        if (key == "no-new-privileges") {
            s.no_new_privileges = parse_bool_opt(opt, value);
        } else if (key == "seccomp") {
            if (value == "unconfined") {
                s.seccomp = "unconfined";
            } else if (!value.empty()) {
                s.seccomp = "custom";
                profile_file = value;
            } else {
                throw Error("invalid --security-opt \"" + opt + "\": expected seccomp=unconfined or seccomp=FILE");
            }
        } else {
            throw Error("invalid --security-opt \"" + opt +
                        "\": supported are no-new-privileges[=BOOL] and seccomp=unconfined|FILE");
        }
    }
    if (s.seccomp == "custom") {
        auto text = with_context("--security-opt seccomp=" + profile_file,
                                 [&] { return read_file(profile_file, 4 << 20); });
        validate_seccomp_profile(text, profile_file, s.capabilities);
        s.seccomp_profile = text;
    }
    s.read_only = vm.count("read-only") > 0;
    // A name is looked up in the image's /etc/passwd by run, which knows it.
    if (vm.count("user") && numeric_user(vm["user"].as<std::string>())) {
        auto [uid, gid] = parse_user(vm["user"].as<std::string>());
        s.uid = uid;
        s.gid = gid.value_or(0);
    }
    for (const auto& u : flag_values(vm, "ulimit")) {
        Ulimit l = parse_ulimit(u);
        std::erase_if(s.ulimits, [&](const Ulimit& o) { return o.name == l.name; });
        s.ulimits.push_back(l);
    }
    std::string userns = vm.count("userns") ? vm["userns"].as<std::string>() : "";
    for (const auto& m : flag_values(vm, "uidmap")) s.uid_map.push_back(parse_id_mapping(m, "--uidmap"));
    for (const auto& m : flag_values(vm, "gidmap")) s.gid_map.push_back(parse_id_mapping(m, "--gidmap"));
    if (userns == "auto") {
        if (!s.uid_map.empty() || !s.gid_map.empty()) throw Error("--userns=auto and --uidmap/--gidmap exclude each other");
        uint32_t base = pick_auto_range(ranges_in_use(store));
        s.uid_map = s.gid_map = {IdMapping{0, base, kAutoUsernsSize}};
    } else if (!userns.empty() && userns != "host") {
        throw Error("invalid --userns \"" + userns + "\": use auto (or host, the default)");
    } else if (userns == "host" && (!s.uid_map.empty() || !s.gid_map.empty())) {
        throw Error("--userns=host and --uidmap/--gidmap exclude each other");
    }
    if (s.gid_map.empty()) s.gid_map = s.uid_map;
    if (!s.gid_map.empty() && s.uid_map.empty()) throw Error("--gidmap needs --uidmap");
    if (s.userns()) {
        validate_id_maps(s.uid_map, "--uidmap");
        validate_id_maps(s.gid_map, "--gidmap");
    }
    check_user_mapped(s);
    return s;
}

void check_user_mapped(const Security& s) {
    if (!s.userns()) return;
    if (s.uid && !host_id_for(s.uid_map, *s.uid))
        throw Error("invalid --user: uid " + std::to_string(*s.uid) + " is not mapped by the user namespace");
    if (s.gid && !host_id_for(s.gid_map, *s.gid))
        throw Error("invalid --user: gid " + std::to_string(*s.gid) + " is not mapped by the user namespace");
}

}  // namespace minirt::cli
