#include "linux/capabilities.hpp"

#include <linux/capability.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cctype>

#include "common/error.hpp"
#include "common/file.hpp"

namespace minirt {

namespace {

// Index = capability number (include/uapi/linux/capability.h).
constexpr std::array<const char*, 41> kNames{
    "CHOWN",          "DAC_OVERRIDE",  "DAC_READ_SEARCH", "FOWNER",         "FSETID",
    "KILL",           "SETGID",        "SETUID",          "SETPCAP",        "LINUX_IMMUTABLE",
    "NET_BIND_SERVICE", "NET_BROADCAST", "NET_ADMIN",     "NET_RAW",        "IPC_LOCK",
    "IPC_OWNER",      "SYS_MODULE",    "SYS_RAWIO",       "SYS_CHROOT",     "SYS_PTRACE",
    "SYS_PACCT",      "SYS_ADMIN",     "SYS_BOOT",        "SYS_NICE",       "SYS_RESOURCE",
    "SYS_TIME",       "SYS_TTY_CONFIG", "MKNOD",          "LEASE",          "AUDIT_WRITE",
    "AUDIT_CONTROL",  "SETFCAP",       "MAC_OVERRIDE",    "MAC_ADMIN",      "SYSLOG",
    "WAKE_ALARM",     "BLOCK_SUSPEND", "AUDIT_READ",      "PERFMON",        "BPF",
    "CHECKPOINT_RESTORE",
};

CapMask bit(int cap) { return CapMask{1} << cap; }

std::string upper(std::string_view s) {
    std::string out(s);
    for (auto& c : out) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    return out;
}

}  // namespace

CapMask default_capabilities() {
    CapMask m = 0;
    for (int c : {CAP_CHOWN, CAP_DAC_OVERRIDE, CAP_FOWNER, CAP_FSETID, CAP_KILL, CAP_NET_BIND_SERVICE, CAP_SETFCAP,
                  CAP_SETGID, CAP_SETPCAP, CAP_SETUID, CAP_SYS_CHROOT})
        m |= bit(c);
    return m;
}

CapMask all_known_capabilities() { return (CapMask{1} << kNames.size()) - 1; }

std::optional<int> capability_from_name(std::string_view name) {
    std::string n = upper(name);
    if (n.starts_with("CAP_")) n.erase(0, 4);
    for (size_t i = 0; i < kNames.size(); ++i)
        if (n == kNames[i]) return static_cast<int>(i);
    return std::nullopt;
}

std::string capability_name(int cap) {
    if (cap >= 0 && static_cast<size_t>(cap) < kNames.size()) return std::string("CAP_") + kNames[static_cast<size_t>(cap)];
    return "CAP_" + std::to_string(cap);
}

CapMask apply_cap_flags(CapMask base, const std::vector<std::string>& add, const std::vector<std::string>& drop) {
    auto one = [](const std::string& name, const char* flag) -> CapMask {
        if (upper(name) == "ALL") return all_known_capabilities();
        auto c = capability_from_name(name);
        if (!c) throw Error("invalid " + std::string(flag) + " \"" + name + "\": unknown capability");
        return bit(*c);
    };
    CapMask m = base;
    for (const auto& d : drop) m &= ~one(d, "--cap-drop");
    for (const auto& a : add) m |= one(a, "--cap-add");
    return m;
}

std::vector<std::string> capability_names(CapMask mask) {
    std::vector<std::string> out;
    for (int c = 0; c < 64; ++c)
        if (mask & bit(c)) out.push_back(capability_name(c));
    return out;
}

CapMask capability_mask(const std::vector<std::string>& names, std::string_view what) {
    CapMask m = 0;
    for (const auto& n : names) {
        auto c = capability_from_name(n);
        if (!c) throw Error(std::string(what) + ": unknown capability \"" + n + "\"");
        m |= bit(*c);
    }
    return m;
}

int kernel_last_cap() {
    auto text = read_file_if_exists("/proc/sys/kernel/cap_last_cap", 64);
    if (text) {
        try {
            int n = std::stoi(*text);
            if (n > 0 && n < 64) return n;
        } catch (const std::exception&) {
        }
    }
    return CAP_LAST_CAP;
}

void drop_bounding_set(CapMask keep, int last_cap) {
    // The bounding set limits what any later exec (a setuid binary, file
    // capabilities) can regain: anything left here is reachable by the
    // container, so drop up to the kernel's last capability, not ours.
    int last = std::max(last_cap < 0 ? kernel_last_cap() : last_cap, static_cast<int>(kNames.size()) - 1);
    for (int c = 0; c <= last; ++c) {
        if (has_cap(keep, c)) continue;
        if (::prctl(PR_CAPBSET_DROP, c, 0, 0, 0) < 0 && errno != EINVAL)
            throw_errno("drop " + capability_name(c) + " from the bounding set");
    }
    // Ambient capabilities survive exec even for unprivileged programs.
    if (::prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) < 0 && errno != EINVAL)
        throw_errno("clear the ambient capabilities");
}

std::optional<int> first_outside_bounding(CapMask wanted) {
    int last = kernel_last_cap();
    for (int c = 0; c <= last && c < 64; ++c)
        if (has_cap(wanted, c) && ::prctl(PR_CAPBSET_READ, c, 0, 0, 0) != 1) return c;
    return std::nullopt;
}

void set_capabilities(const CapSets& sets) {
    // Never ask for more than the bounding set holds (a host may run us
    // with some capabilities already gone): capset would refuse it all.
    CapMask held = 0, asked = sets.permitted | sets.effective | sets.inheritable;
    for (int c = 0; c < 64; ++c)
        if (has_cap(asked, c) && ::prctl(PR_CAPBSET_READ, c, 0, 0, 0) == 1) held |= CapMask{1} << c;
    __user_cap_header_struct hdr{};
    hdr.version = _LINUX_CAPABILITY_VERSION_3;
    hdr.pid = 0;
    __user_cap_data_struct data[2]{};
    for (int i = 0; i < 2; ++i) {
        data[i].permitted = static_cast<uint32_t>((sets.permitted & held) >> (32 * i));
        data[i].effective = static_cast<uint32_t>((sets.effective & held) >> (32 * i));
        data[i].inheritable = static_cast<uint32_t>((sets.inheritable & held) >> (32 * i));
    }
    if (::syscall(SYS_capset, &hdr, data) < 0)
        throw_errno("set the capabilities (effective must be within permitted)");
    for (int c = 0; c < 64; ++c)
        if (has_cap(sets.ambient & sets.permitted & sets.inheritable & held, c))
            ::prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, c, 0, 0);
}

}  // namespace minirt
