// Compiled seccomp programs kept between starts. libseccomp takes most of a
// millisecond to build and compile a profile, on every container start and
// every exec, and the same profile always compiles to the same program for
// the same capabilities, libseccomp and kernel. So the program is kept in a
// directory under minirt's root: root's alone (0700), on tmpfs by default,
// and so gone at a reboot, when the kernel may have changed.
//
// An entry is found by a hash of its key (profile, capabilities,
// libseccomp's version, the kernel's release and machine) and then checked
// against the whole key and a checksum of the program, so neither a hash
// collision nor a torn or damaged file can load the wrong program: such an
// entry is compiled again and replaced. The cache is a speed-up only: a
// directory that cannot be read or written costs the compile, nothing else.
#pragma once

#include <filesystem>
#include <string>

#include <nlohmann/json_fwd.hpp>

#include "linux/capabilities.hpp"
#include "linux/seccomp.hpp"

namespace minirt {

namespace fs = std::filesystem;

class SeccompCache {
public:
    // `dir`: where the entries live (made on first store); empty: no cache,
    // every program is compiled.
    explicit SeccompCache(fs::path dir = {});
    // The cache of a state root (minirt's --root, or `minirt oci`'s): a
    // directory there named so that no container id can take it.
    static SeccompCache in_root(const fs::path& state_root) { return SeccompCache(state_root / "@seccomp-cache"); }

    // The program of `profile` (an OCI linux.seccomp) for a process holding
    // `caps`: the cached one, or compiled now and stored. A profile that
    // does not compile throws Error, as seccomp_filter_from_profile does.
    SeccompProgram program(const nlohmann::json& profile, CapMask caps) const;

    // The entries kept at most; storing one more empties the directory first.
    static constexpr size_t kMaxEntries = 64;

private:
    fs::path dir_;
};

}  // namespace minirt
