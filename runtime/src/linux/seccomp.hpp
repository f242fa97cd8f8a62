// Seccomp filters built with libseccomp: minirt's default profile and
// profiles in podman's JSON format (containers-common seccomp.json).
#pragma once

#include <linux/filter.h>

#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "linux/capabilities.hpp"

namespace minirt {

struct SeccompFilterDeleter {
    void operator()(void* ctx) const noexcept;
};
using SeccompFilter = std::unique_ptr<void, SeccompFilterDeleter>;

// The default filter for a container holding `caps`: everything is allowed
// except the calls that reach the kernel's global state (modules, kexec,
// reboot, keyrings, bpf, perf, swap, clock, mounts, new user namespaces,
// handle-based opens, ...), which fail with EPERM. A group of calls is let
// through when the container holds the capability that guards it (as
// podman's profile does with "includes.caps"), except those no container
// needs at all. x86-64, i386 and x32 entry points are all covered: a
// default-allow filter that forgot the 32-bit ABI would be bypassed by
// `int $0x80`.
// The profile is written out in the OCI runtime spec's linux.seccomp form,
// with the capability rules already resolved for `caps` (as podman writes
// it into config.json); the filter is that profile compiled.
nlohmann::json default_seccomp_profile(CapMask caps);
SeccompFilter default_seccomp_filter(CapMask caps);

// A filter from podman's profile format (defaultAction, defaultErrnoRet,
// architectures, syscalls[].names/action/errnoRet/args/includes/excludes).
// Names this libseccomp does not know are skipped, like podman does; any
// other malformed field throws Error naming it.
SeccompFilter seccomp_filter_from_json(const std::string& profile_text, CapMask caps);
// The same from a parsed profile (a spec's linux.seccomp).
SeccompFilter seccomp_filter_from_profile(const nlohmann::json& profile, CapMask caps);

// A filter compiled to the kernel's classic BPF: what is loaded. Compiling
// takes libseccomp most of a millisecond: the engine does it (or reads it
// from linux/seccomp_cache.hpp) while the container's init builds its root,
// and hands the program over in the Seccomp message.
using SeccompProgram = std::vector<sock_filter>;
SeccompProgram compile_seccomp(const SeccompFilter& filter);

// Loads the program into the calling thread. It does not set no_new_privs
// itself: the caller decides (and without it must still hold CAP_SYS_ADMIN
// here).
void load_seccomp(const SeccompProgram& program);

// The syscall names the default filter refuses for `caps` (unit tests, docs).
std::string default_seccomp_summary(CapMask caps);

}  // namespace minirt
