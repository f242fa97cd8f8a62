// Device access control for a cgroup v2 group: an eBPF program of type
// BPF_PROG_TYPE_CGROUP_DEVICE, built here from OCI-style rules (cgroup v2
// has no devices.allow file). Rules are matched last-to-first, so a later
// rule overrides an earlier one, as cgroup v1's list did.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <linux/bpf.h>

namespace minirt {

struct DeviceAccessRule {
    bool allow = false;
    char type = 'a';             // 'a' (any), 'c', 'b'
    int64_t major = -1, minor = -1;  // -1: any
    std::string access = "rwm";
};

// What every container may use whatever its rules say (runc's list):
// mknod of anything, /dev/null, zero, full, random, urandom, tty, console,
// ptmx, the pts devices and /dev/net/tun.
const std::vector<DeviceAccessRule>& default_allowed_devices();

// The program for `rules` (exposed so unit tests can check its shape).
std::vector<bpf_insn> device_filter_program(const std::vector<DeviceAccessRule>& rules);

// Loads the program and attaches it to the group at `cgroup_dir`.
void attach_device_filter(const std::string& cgroup_dir, const std::vector<DeviceAccessRule>& rules);

}  // namespace minirt
