#include "linux/namespaces.hpp"

#include <net/if.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <fcntl.h>
#include <sched.h>
#include <sys/vfs.h>

#include <linux/magic.h>
#include <linux/nsfs.h>

#include <cstring>
#include <thread>

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

void set_hostname(const std::string& hostname) {
    if (::sethostname(hostname.data(), hostname.size()) < 0) throw_errno("sethostname " + hostname);
}

UniqueFd new_network_namespace() {
    UniqueFd ns;
    int error = 0;
    std::thread t([&] {
        // The thread's namespace changes for good; it ends here.
        if (::unshare(CLONE_NEWNET) < 0) {
            error = errno;
            return;
        }
        try {
            bring_up_loopback();
        } catch (const Error& e) {
            error = e.errno_value() ? e.errno_value() : EIO;
            return;
        }
        ns.reset(::open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC));
        if (!ns) error = errno;
    });
    t.join();
    if (!ns) throw Error(error, "make a network namespace");
    return ns;
}

UniqueFd open_namespace(const std::string& path, int type, const std::string& what) {
    const char* kind = type == CLONE_NEWNET ? "network" : type == CLONE_NEWPID ? "PID" : type == CLONE_NEWIPC ? "IPC"
                       : type == CLONE_NEWNS ? "mount" : "UTS";
    std::string not_one = what + ": " + path + " is not a namespace of the " + kind + " kind";
    // Looked at through O_PATH first: opening a FIFO or a device for real
    // could block or do something.
    UniqueFd at(::open(path.c_str(), O_PATH | O_CLOEXEC));
    if (!at) throw_errno(what + ": open " + path);
    struct statfs fs{};
    if (::fstatfs(at.get(), &fs) < 0 || fs.f_type != NSFS_MAGIC) throw Error(not_one);
    std::string self = "/proc/self/fd/" + std::to_string(at.get());
    UniqueFd fd(::open(self.c_str(), O_RDONLY | O_CLOEXEC));
    if (!fd) throw_errno(what + ": open " + path);
    if (::ioctl(fd.get(), NS_GET_NSTYPE) != type) throw Error(not_one);
    return fd;
}

UniqueFd open_network_namespace(const std::string& path, const std::string& what) {
    return open_namespace(path, CLONE_NEWNET, what);
}

}  // namespace minirt
