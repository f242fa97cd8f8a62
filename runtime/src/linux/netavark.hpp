// Running netavark, podman's network setup tool: it makes the bridge, the
// container's veth, its addresses and routes, the NAT and port-forwarding
// rules, and starts aardvark-dns, all from one JSON description on its
// stdin, and undoes it the same way. minirt never writes those itself.
#pragma once

#include <sys/types.h>

#include <filesystem>
#include <string>
#include <utility>

#include "common/fd.hpp"

namespace minirt {

namespace fs = std::filesystem;

// Where Debian (and podman) put netavark and aardvark-dns: the first
// helper directory of podman's list that holds netavark. Error (125) naming
// the package when none does.
struct NetavarkBinaries {
    std::string netavark, aardvark;
};
NetavarkBinaries find_netavark();

// One run of `netavark setup|teardown NETNS`, started at once (so that it
// overlaps the caller's other work) and waited for by wait().
class NetavarkRun {
public:
    // `config_dir`: netavark's own state (aardvark-dns's files), made if
    // missing. The child gets default signal dispositions and an empty
    // signal mask (aardvark-dns, which it starts, relies on SIGHUP).
    static NetavarkRun start(const std::string& verb, const fs::path& netns, const std::string& input,
                             const fs::path& config_dir);
    // Started before its description is known: it starts up (exec, its
    // loader, its runtime) and waits on its stdin while the caller decides
    // what to tell it (feed()); the netns must be there already (netavark
    // checks its path first thing). If the caller gives up instead,
    // netavark reads EOF and fails having done nothing.
    static NetavarkRun start_unfed(const std::string& verb, const fs::path& netns, const fs::path& config_dir);
    void feed(const std::string& input);
    NetavarkRun(NetavarkRun&& o) noexcept
        : pid_(std::exchange(o.pid_, -1)), in_(std::move(o.in_)), in_read_(std::move(o.in_read_)),
          out_(std::move(o.out_)), err_(std::move(o.err_)), verb_(std::move(o.verb_)) {}
    NetavarkRun& operator=(NetavarkRun&&) = delete;
    ~NetavarkRun();
    pid_t pid() const { return pid_; }
    // netavark's stdout (setup: the JSON status of each network); Error with
    // netavark's own message when it failed, or when it has not finished
    // within a minute (killed: a stuck iptables lock must not hold every
    // start behind it).
    std::string wait();

private:
    NetavarkRun() = default;
    pid_t pid_ = -1;
    // Its stdin, and our copy of the far end until it is fed: a netavark
    // that died early must not make our write a SIGPIPE.
    UniqueFd in_, in_read_, out_, err_;
    std::string verb_;
};

}  // namespace minirt
