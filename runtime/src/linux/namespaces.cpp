#include "linux/namespaces.hpp"

#include <fcntl.h>
#include <net/if.h>
#include <sched.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstring>
#include <system_error>
#include <utility>

#include "common/error.hpp"
#include "common/fd.hpp"

namespace minirt {

void bring_up_loopback() {
    UniqueFd sock(::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0));
    if (!sock) throw_errno("socket for loopback setup");
    ifreq ifr{};
    std::strncpy(ifr.ifr_name, "lo", IFNAMSIZ - 1);
    if (::ioctl(sock.get(), SIOCGIFFLAGS, &ifr) < 0) throw_errno("get flags of lo");
    ifr.ifr_flags = static_cast<short>(ifr.ifr_flags | IFF_UP | IFF_RUNNING);
    if (::ioctl(sock.get(), SIOCSIFFLAGS, &ifr) < 0) throw_errno("bring up lo");
}

NetnsMaker::NetnsMaker() {
    try {
        // The thread's own network namespace changes for good; it ends here.
        thread_ = std::jthread([this] {
            try {
                if (::unshare(CLONE_NEWNET) < 0) throw_errno("unshare network namespace");
                bring_up_loopback();
                fd_.reset(::open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC));
                if (!fd_) throw_errno("open /proc/thread-self/ns/net");
            } catch (...) {
                error_ = std::current_exception();
            }
        });
    } catch (const std::system_error&) {
        // No thread: take() returns nothing and the init unshares its own.
    }
}

UniqueFd NetnsMaker::take() {
    if (thread_.joinable()) thread_.join();
    if (error_) std::rethrow_exception(std::exchange(error_, nullptr));
    return std::move(fd_);
}

void set_hostname(const std::string& hostname) {
    if (::sethostname(hostname.data(), hostname.size()) < 0) throw_errno("sethostname " + hostname);
}

}  // namespace minirt
