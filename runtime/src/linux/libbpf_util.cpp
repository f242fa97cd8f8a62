#include "linux/libbpf_util.hpp"

#include <linux/magic.h>
#include <sys/mount.h>
#include <sys/statfs.h>
#include <unistd.h>

#include <cstdarg>
#include <cstdio>

#include "common/error.hpp"

#if MINIRT_HAVE_BPF
#include <bpf/libbpf.h>
#endif

namespace minirt {

namespace {

std::string& libbpf_log() {
    static std::string log;
    return log;
}

#if MINIRT_HAVE_BPF
int libbpf_print(enum libbpf_print_level level, const char* fmt, va_list ap) {
    if (level == LIBBPF_DEBUG) return 0;
    char buf[512];
    int n = std::vsnprintf(buf, sizeof buf, fmt, ap);
    if (libbpf_log().size() < 4096) libbpf_log() += buf;
    return n;
}
#endif

}  // namespace

void quiet_libbpf() {
#if MINIRT_HAVE_BPF
    static bool done = false;
    if (!done) libbpf_set_print(libbpf_print);
    done = true;
#endif
}

std::string libbpf_detail() {
    std::string s = libbpf_log();
    libbpf_log().clear();
    while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) s.pop_back();
    if (s.empty()) return "";
    // The last line says most.
    auto nl = s.rfind('\n');
    return " (libbpf: " + (nl == std::string::npos ? s : s.substr(nl + 1)) + ")";
}

void forget_libbpf_messages() { libbpf_log().clear(); }

std::optional<std::string> bpf_tracing_unsupported_reason() {
#if !MINIRT_HAVE_BPF
    return std::string(
        "this minirt was built without eBPF support (the build needs clang, bpftool, libbpf-dev and "
        "/sys/kernel/btf/vmlinux)");
#else
    if (::access("/sys/kernel/btf/vmlinux", R_OK) != 0)
        return std::string("the kernel has no BTF (/sys/kernel/btf/vmlinux, CONFIG_DEBUG_INFO_BTF)");
    if (::access("/sys/kernel/tracing", F_OK) != 0 && ::access("/sys/kernel/debug", F_OK) != 0)
        return std::string("the kernel has no tracefs (/sys/kernel/tracing)");
    quiet_libbpf();
    if (libbpf_probe_bpf_prog_type(BPF_PROG_TYPE_TRACEPOINT, nullptr) != 1)
        return "the kernel refuses BPF tracepoint programs (needs CONFIG_BPF_EVENTS and CAP_BPF/root)" + libbpf_detail();
    if (libbpf_probe_bpf_map_type(BPF_MAP_TYPE_RINGBUF, nullptr) != 1)
        return "the kernel has no BPF ring buffers (Linux 5.8 or later)" + libbpf_detail();
    forget_libbpf_messages();
    return std::nullopt;
#endif
}

void ensure_tracefs(const std::string& what) {
    struct statfs st {};
    bool mounted = ::statfs("/sys/kernel/tracing", &st) == 0 && static_cast<long>(st.f_type) == TRACEFS_MAGIC;
    if (mounted || ::access("/sys/kernel/debug/tracing/events", F_OK) == 0) return;
    if (::mount("tracefs", "/sys/kernel/tracing", "tracefs", MS_NOSUID | MS_NODEV | MS_NOEXEC, nullptr) < 0)
        throw_errno("mount tracefs at /sys/kernel/tracing, which " + what + " needs to find its tracepoints");
}

}  // namespace minirt
