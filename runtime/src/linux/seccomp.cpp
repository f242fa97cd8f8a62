#include "linux/seccomp.hpp"

#include <linux/capability.h>
#include <linux/seccomp.h>
#include <sched.h>
#include <seccomp.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cstring>
#include <nlohmann/json.hpp>
#include <vector>

#include "common/error.hpp"
#include "common/json_number.hpp"
#include "common/fd.hpp"
#include "common/file.hpp"

namespace minirt {

using nlohmann::json;

void SeccompFilterDeleter::operator()(void* ctx) const noexcept { seccomp_release(ctx); }

namespace {

#ifdef MFD_NOEXEC_SEAL
constexpr unsigned kMfdNoexecSeal = MFD_NOEXEC_SEAL;
#else
constexpr unsigned kMfdNoexecSeal = 0x0008U;  // uapi linux/memfd.h, 6.3
#endif

// A group of calls the default filter refuses unless the container holds
// `unlocked_by` (-1: refused whatever the capabilities).
struct DenyGroup {
    int unlocked_by;
    std::vector<const char*> names;
};

// What the calls reach, and why a container must not:
const std::vector<DenyGroup>& deny_groups() {
    static const std::vector<DenyGroup> groups{
        // Replace or extend the running kernel.
        {-1, {"kexec_load", "kexec_file_load", "create_module", "get_kernel_syms", "query_module", "uselib",
              "nfsservctl"}},
        {CAP_SYS_MODULE, {"init_module", "finit_module", "delete_module"}},
        {CAP_SYS_BOOT, {"reboot"}},
        // Kernel keyrings are not namespaced: a container would read and
        // poison the host's keys.
        {-1, {"keyctl", "add_key", "request_key"}},
        // bpf programs and perf events observe the whole machine.
        {CAP_SYS_ADMIN, {"bpf"}},
        {CAP_SYS_ADMIN, {"perf_event_open", "lookup_dcookie"}},
        // Opening by file handle bypasses the mount namespace entirely (the
        // "shocker" escape): a handle names an inode on the host's filesystem.
        {CAP_DAC_READ_SEARCH, {"open_by_handle_at"}},
        {CAP_SYS_ADMIN, {"name_to_handle_at"}},
        // Host-wide state: swap, clock, accounting, quotas, raw I/O ports,
        // the kernel log, legacy interfaces.
        {CAP_SYS_ADMIN, {"swapon", "swapoff", "quotactl", "quotactl_fd"}},
        {CAP_SYS_TIME, {"settimeofday", "stime", "clock_settime", "clock_settime64", "clock_adjtime",
                        "clock_adjtime64"}},
        {CAP_SYS_PACCT, {"acct"}},
        {CAP_SYS_RAWIO, {"iopl", "ioperm"}},
        {CAP_SYSLOG, {"syslog"}},
        {-1, {"_sysctl", "sysfs", "ustat", "vm86", "vm86old"}},
        // Mounting is only for a container given CAP_SYS_ADMIN on purpose.
        {CAP_SYS_ADMIN, {"mount", "umount", "umount2", "pivot_root", "fsopen", "fsconfig", "fsmount", "fspick",
                         "move_mount", "open_tree", "mount_setattr"}},
        // Page faults served by user space and io_uring widen the kernel
        // attack surface and are refused by docker/podman's profiles too.
        {-1, {"userfaultfd"}},
        {CAP_SYS_ADMIN, {"io_uring_setup", "io_uring_enter", "io_uring_register"}},
        // Reading another process's memory or comparing its kernel objects.
        {CAP_SYS_PTRACE, {"kcmp", "process_vm_readv", "process_vm_writev", "process_madvise"}},
        // Changing NUMA policy of other processes.
        {CAP_SYS_NICE, {"move_pages", "migrate_pages", "set_mempolicy_home_node"}},
        // Joining other namespaces.
        {CAP_SYS_ADMIN, {"setns"}},
    };
    return groups;
}

int resolve(const char* name) { return seccomp_syscall_resolve_name(name); }

void check(int rc, const std::string& what) {
    if (rc < 0) throw Error(-rc, "seccomp: " + what);
}

void add_arches(scmp_filter_ctx ctx, const std::vector<uint32_t>& arches) {
    for (uint32_t a : arches) {
        int rc = seccomp_arch_add(ctx, a);
        if (rc < 0 && rc != -EEXIST) check(rc, "add architecture");
    }
}

scmp_filter_ctx new_filter(uint32_t default_action) {
    scmp_filter_ctx ctx = seccomp_init(default_action);
    if (!ctx) throw Error("seccomp: cannot create a filter");
    // no_new_privs is minirt's decision (--security-opt no-new-privileges),
    // not libseccomp's (which would set it on load by default).
    seccomp_attr_set(ctx, SCMP_FLTATR_CTL_NNP, 0);
    return ctx;
}

void add_rule(scmp_filter_ctx ctx, uint32_t action, int nr, const std::vector<scmp_arg_cmp>& args,
              const std::string& name) {
    int rc = seccomp_rule_add_array(ctx, action, nr, static_cast<unsigned>(args.size()), args.data());
    // EACCES: the action equals the default action (a no-op rule); podman
    // profiles contain those.
    if (rc == -EACCES) return;
    check(rc, "rule for " + name);
}

}  // namespace

json default_seccomp_profile(CapMask caps) {
    auto rule = [](json names, int errno_ret, json args = json::array()) {
        json r{{"names", std::move(names)}, {"action", "SCMP_ACT_ERRNO"}, {"errnoRet", errno_ret}};
        if (!args.empty()) r["args"] = std::move(args);
        return r;
    };
    auto arg = [](unsigned index, uint64_t value, uint64_t value_two, const char* op) {
        return json{{"index", index}, {"value", value}, {"valueTwo", value_two}, {"op", op}};
    };
    json syscalls = json::array();
    for (const auto& g : deny_groups()) {
        if (g.unlocked_by >= 0 && has_cap(caps, g.unlocked_by)) continue;
        syscalls.push_back(rule(json(g.names), EPERM));
    }
    // New user namespaces give the container a fresh set of capabilities
    // over new namespaces: the door to most kernel bugs reachable by
    // unprivileged users. Other unshare/clone uses stay possible (the kernel
    // itself demands CAP_SYS_ADMIN for the rest).
    syscalls.push_back(rule({"unshare"}, EPERM, {arg(0, CLONE_NEWUSER, CLONE_NEWUSER, "SCMP_CMP_MASKED_EQ")}));
    syscalls.push_back(rule({"clone"}, EPERM, {arg(0, CLONE_NEWUSER, CLONE_NEWUSER, "SCMP_CMP_MASKED_EQ")}));
    if (has_cap(caps, CAP_SYS_ADMIN))
        syscalls.push_back(rule({"setns"}, EPERM, {arg(1, CLONE_NEWUSER, 0, "SCMP_CMP_EQ")}));
    // clone3 passes its flags in memory a filter cannot read: report it
    // missing so libc falls back to clone, whose flags we can check.
    syscalls.push_back(rule({"clone3"}, ENOSYS));
    // TIOCSTI and TIOCLINUX push input into a terminal: a container given
    // the host's tty would type commands into the host's shell.
    syscalls.push_back(rule({"ioctl"}, EPERM, {arg(1, 0xffffffffU, 0x5412 /* TIOCSTI */, "SCMP_CMP_MASKED_EQ")}));
    syscalls.push_back(rule({"ioctl"}, EPERM, {arg(1, 0xffffffffU, 0x541C /* TIOCLINUX */, "SCMP_CMP_MASKED_EQ")}));
    return json{{"defaultAction", "SCMP_ACT_ALLOW"},
                {"architectures", {"SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32"}},
                {"syscalls", std::move(syscalls)}};
}

SeccompFilter default_seccomp_filter(CapMask caps) { return seccomp_filter_from_profile(default_seccomp_profile(caps), caps); }

std::string default_seccomp_summary(CapMask caps) {
    std::string out;
    for (const auto& g : deny_groups()) {
        if (g.unlocked_by >= 0 && has_cap(caps, g.unlocked_by)) continue;
        for (const char* name : g.names) out += std::string(out.empty() ? "" : " ") + name;
    }
    return out;
}

namespace {

uint32_t parse_action(const std::string& name, const json& rule, const std::string& where) {
    uint16_t ret = EPERM;
    if (rule.contains("errnoRet")) ret = static_cast<uint16_t>(json_integer<uint32_t>(rule.at("errnoRet"), "errnoRet"));
    if (name == "SCMP_ACT_ALLOW") return SCMP_ACT_ALLOW;
    if (name == "SCMP_ACT_ERRNO") return SCMP_ACT_ERRNO(ret);
    if (name == "SCMP_ACT_KILL" || name == "SCMP_ACT_KILL_THREAD") return SCMP_ACT_KILL_THREAD;
    if (name == "SCMP_ACT_KILL_PROCESS") return SCMP_ACT_KILL_PROCESS;
    if (name == "SCMP_ACT_TRAP") return SCMP_ACT_TRAP;
    if (name == "SCMP_ACT_LOG") return SCMP_ACT_LOG;
    if (name == "SCMP_ACT_TRACE") return SCMP_ACT_TRACE(ret);
    throw Error(where + ": unknown action \"" + name + "\"");
}

scmp_compare parse_op(const std::string& op, const std::string& where) {
    static const std::pair<const char*, scmp_compare> ops[] = {
        {"SCMP_CMP_NE", SCMP_CMP_NE}, {"SCMP_CMP_LT", SCMP_CMP_LT}, {"SCMP_CMP_LE", SCMP_CMP_LE},
        {"SCMP_CMP_EQ", SCMP_CMP_EQ}, {"SCMP_CMP_GE", SCMP_CMP_GE}, {"SCMP_CMP_GT", SCMP_CMP_GT},
        {"SCMP_CMP_MASKED_EQ", SCMP_CMP_MASKED_EQ}};
    for (const auto& [n, v] : ops)
        if (op == n) return v;
    throw Error(where + ": unknown operator \"" + op + "\"");
}

uint32_t parse_arch(const std::string& name, const std::string& where) {
    uint32_t a = seccomp_arch_resolve_name(name.starts_with("SCMP_ARCH_") ? name.substr(10).c_str() : name.c_str());
    if (a == 0) {
        std::string lower;
        for (char c : name.substr(name.starts_with("SCMP_ARCH_") ? 10 : 0))
            lower += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
        a = seccomp_arch_resolve_name(lower.c_str());
    }
    if (a == 0) throw Error(where + ": unknown architecture \"" + name + "\"");
    return a;
}

// includes/excludes: {"caps": [...], "arches": [...]} (minKernel ignored).
bool caps_match(const json& sel, CapMask caps, bool all_required) {
    if (!sel.is_object() || !sel.contains("caps")) return all_required;
    for (const auto& c : sel.at("caps")) {
        auto n = capability_from_name(c.get<std::string>());
        bool held = n && has_cap(caps, *n);
        if (all_required && !held) return false;
        if (!all_required && held) return true;
    }
    return all_required;
}

}  // namespace

SeccompFilter seccomp_filter_from_json(const std::string& profile_text, CapMask caps) {
    json p;
    try {
        p = json::parse(profile_text);
    } catch (const json::exception& e) {
        throw Error(std::string("not JSON: ") + e.what());
    }
    return seccomp_filter_from_profile(p, caps);
}

SeccompFilter seccomp_filter_from_profile(const json& p, CapMask caps) {
    try {
        if (!p.is_object()) throw Error("not a JSON object");
        json defaults = json::object();
        if (p.contains("defaultErrnoRet")) defaults["errnoRet"] = p["defaultErrnoRet"];
        uint32_t def = parse_action(p.at("defaultAction").get<std::string>(), defaults, "defaultAction");
        SeccompFilter f(new_filter(def));
        scmp_filter_ctx ctx = f.get();
        std::vector<uint32_t> arches{SCMP_ARCH_NATIVE};
        if (p.contains("architectures"))
            for (const auto& a : p["architectures"]) arches.push_back(parse_arch(a.get<std::string>(), "architectures"));
        if (p.contains("archMap"))
            for (const auto& m : p["archMap"]) {
                uint32_t a = parse_arch(m.at("architecture").get<std::string>(), "archMap");
                if (a != SCMP_ARCH_X86_64 && a != SCMP_ARCH_X86 && a != SCMP_ARCH_X32) continue;
                arches.push_back(a);
                for (const auto& s : m.value("subArchitectures", json::array()))
                    arches.push_back(parse_arch(s.get<std::string>(), "subArchitectures"));
            }
        // Only the architectures this machine can execute matter here.
        std::erase_if(arches, [](uint32_t a) {
            return a != SCMP_ARCH_NATIVE && a != SCMP_ARCH_X86_64 && a != SCMP_ARCH_X86 && a != SCMP_ARCH_X32;
        });
        add_arches(ctx, arches);
        const json& rules = p.contains("syscalls") ? p["syscalls"] : json::array();
        if (!rules.is_array()) throw Error("syscalls: not an array");
        for (size_t i = 0; i < rules.size(); ++i) {
            const json& r = rules[i];
            std::string where = "syscalls[" + std::to_string(i) + "]";
            if (r.contains("includes") && !caps_match(r["includes"], caps, true)) continue;
            if (r.contains("excludes") && caps_match(r["excludes"], caps, false)) continue;
            uint32_t action = parse_action(r.at("action").get<std::string>(), r, where);
            std::vector<std::string> names;
            if (r.contains("names")) names = r["names"].get<std::vector<std::string>>();
            if (r.contains("name")) names.push_back(r["name"].get<std::string>());
            std::vector<scmp_arg_cmp> args;
            bool repeated_index = false;
            unsigned seen = 0;
            for (const auto& a : r.value("args", json::array())) {
                if (a.is_null()) continue;
                auto index = json_integer<unsigned>(a.at("index"), where + ": index");
                if (index > 5) throw Error(where + ": argument index " + std::to_string(index) + " out of range");
                if (seen & (1U << index)) repeated_index = true;
                seen |= 1U << index;
                args.push_back(scmp_arg_cmp{index, parse_op(a.at("op").get<std::string>(), where),
                                            json_integer<uint64_t>(a.at("value"), "value"), json_integer_or<uint64_t>(a, "valueTwo", uint64_t{0})});
            }
            for (const auto& name : names) {
                int nr = resolve(name.c_str());
                if (nr == __NR_SCMP_ERROR) continue;  // unknown here: skipped, as podman does
                // The same argument compared twice means "either" in podman's
                // format: one rule per comparison.
                if (repeated_index) {
                    for (const auto& a : args) add_rule(ctx, action, nr, {a}, name);
                } else {
                    add_rule(ctx, action, nr, args, name);
                }
            }
        }
        return f;
    } catch (const json::exception& e) {
        throw Error(e.what());
    }
}

SeccompProgram compile_seccomp(const SeccompFilter& filter) {
    // libseccomp 2.5 exports only to a descriptor; a memfd keeps it in memory.
    // MFD_NOEXEC_SEAL (Linux 6.3): vm.memfd_noexec=2 refuses memfds without
    // it; older kernels refuse the flag itself.
    UniqueFd mem(::memfd_create("minirt-seccomp", MFD_CLOEXEC | kMfdNoexecSeal));
    if (!mem && errno == EINVAL) mem.reset(::memfd_create("minirt-seccomp", MFD_CLOEXEC));
    if (!mem) throw_errno("seccomp: memfd_create");
    check(seccomp_export_bpf(filter.get(), mem.get()), "compile filter");
    off_t size = ::lseek(mem.get(), 0, SEEK_END);
    if (size <= 0 || size % static_cast<off_t>(sizeof(sock_filter)) != 0)
        throw Error("seccomp: compiled filter has an odd size (" + std::to_string(size) + " bytes)");
    SeccompProgram program(static_cast<size_t>(size) / sizeof(sock_filter));
    if (::pread(mem.get(), program.data(), static_cast<size_t>(size), 0) != size) throw_errno("seccomp: read filter");
    return program;
}

void load_seccomp(const SeccompProgram& program) {
    sock_fprog prog{static_cast<unsigned short>(program.size()), const_cast<sock_filter*>(program.data())};
    if (program.size() > BPF_MAXINSNS) throw Error(E2BIG, "seccomp: filter of " + std::to_string(program.size()) + " instructions");
    if (::syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &prog) < 0) throw_errno("seccomp: load filter");
}

}  // namespace minirt
