// Device nodes beyond the six every container gets: the linux.devices
// entry, the --device and --device-cgroup-rule text, and the host's nodes
// (read for --device and --privileged). The init makes them in the
// container's root (make_device_node, rootfs.hpp); which of them may be
// opened is the device filter's business (device_filter.hpp).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "linux/device_filter.hpp"

namespace minirt {

// One linux.devices entry: a node at `path` inside the container.
struct DeviceNode {
    std::string path;
    char type = 'c';  // c, b, u (unbuffered, made as c) or p (a fifo)
    int64_t major = 0, minor = 0;
    uint32_t file_mode = 0666;  // permission bits only
    uint32_t uid = 0, gid = 0;
};

// Why `path` cannot hold a device node in a container ("" if it can): it
// must be absolute, name something below /, have no ".." and stay out of
// /proc and /sys (the kernel's, where a node would hide what it shows).
std::string device_path_problem(const std::string& path);

// --device HOST[:CONTAINER][:PERMS], split as podman splits it (a second
// field made of r, w and m is PERMS); nothing on the host looked at yet.
struct DeviceFlag {
    std::string host, container;
    std::string permissions = "rwm";
};
DeviceFlag parse_device_flag(const std::string& text);

// --device-cgroup-rule "TYPE MAJOR:MINOR ACCESS" (podman's syntax: TYPE a,
// b or c; MAJOR and MINOR a number or *; ACCESS made of r, w and m): an
// allow rule of the device filter.
DeviceAccessRule parse_device_cgroup_rule(const std::string& text);

// The node at `path` on the host (symlinks followed) as an entry at the
// same path; nullopt when it is no character or block device. A failed
// stat is an Error with its errno.
std::optional<DeviceNode> host_device_node(const std::string& path);
// Every character and block device below the host directory `dir`,
// symlinks not followed, in path order; `skip` names paths left out with
// all below them.
std::vector<DeviceNode> host_devices_under(const std::string& dir, const std::vector<std::string>& skip = {});
// What --privileged adds to a container: the host's /dev as podman walks it,
// less what every container has of its own (pts, shm, mqueue, console,
// ptmx, fd, and minirt's null, zero, full, random, urandom and tty).
std::vector<DeviceNode> privileged_host_devices();

}  // namespace minirt
