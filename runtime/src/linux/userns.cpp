#include "linux/userns.hpp"

#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/error.hpp"
#include "common/file.hpp"
#include "linux/namespaces.hpp"

namespace minirt {

std::string id_map_text(const std::vector<IdMapping>& maps) {
    std::string out;
    for (const auto& m : maps)
        out += std::to_string(m.container_id) + " " + std::to_string(m.host_id) + " " + std::to_string(m.size) + "\n";
    return out;
}

uint32_t host_id_of(const std::vector<IdMapping>& maps, uint32_t container_id) {
    if (maps.empty()) return container_id;
    for (const auto& m : maps)
        if (container_id >= m.container_id && container_id - m.container_id < m.size)
            return m.host_id + (container_id - m.container_id);
    if (container_id != kOverflowId) return host_id_of(maps, kOverflowId);
    return kOverflowId;
}

uint32_t container_id_of(const std::vector<IdMapping>& maps, uint32_t host_id) {
    if (maps.empty()) return host_id;
    for (const auto& m : maps)
        if (host_id >= m.host_id && host_id - m.host_id < m.size) return m.container_id + (host_id - m.host_id);
    return kOverflowId;
}

namespace {

void write_map(pid_t pid, const char* file, const std::string& text) {
    std::string path = "/proc/" + std::to_string(pid) + "/" + file;
    UniqueFd fd(::open(path.c_str(), O_WRONLY | O_CLOEXEC));
    if (!fd) throw_errno("open " + path);
    // The kernel takes the whole map in a single write.
    ssize_t n = ::write(fd.get(), text.data(), text.size());
    if (n != static_cast<ssize_t>(text.size())) throw_errno("write " + path);
}

}  // namespace

UniqueFd make_userns(const std::vector<IdMapping>& uid_map, const std::vector<IdMapping>& gid_map) {
    Pipe ready = make_pipe();
    Pipe hold = make_pipe();
    pid_t pid = ::fork();
    if (pid < 0) throw_errno("fork user namespace holder");
    if (pid == 0) {
        ::prctl(PR_SET_PDEATHSIG, SIGKILL);
        ready.read.reset();
        hold.write.reset();
        char c = ::unshare(CLONE_NEWUSER) == 0 ? 'u' : 'e';
        if (::write(ready.write.get(), &c, 1) != 1) _exit(1);
        // Stay until the parent has the namespace's descriptor (EOF).
        while (::read(hold.read.get(), &c, 1) < 0 && errno == EINTR) {
        }
        _exit(0);
    }
    ready.write.reset();
    hold.read.reset();
    struct Reap {
        pid_t pid;
        Pipe& hold;
        ~Reap() {
            hold.write.reset();
            while (::waitpid(pid, nullptr, 0) < 0 && errno == EINTR) {
            }
        }
    } reap{pid, hold};
    char c = 0;
    ssize_t n;
    do {
        n = ::read(ready.read.get(), &c, 1);
    } while (n < 0 && errno == EINTR);
    if (n != 1 || c != 'u') throw Error(EPERM, "unshare a user namespace");
    write_map(pid, "uid_map", id_map_text(uid_map));
    write_map(pid, "gid_map", id_map_text(gid_map));
    std::string ns = "/proc/" + std::to_string(pid) + "/ns/user";
    UniqueFd fd(::open(ns.c_str(), O_RDONLY | O_CLOEXEC));
    if (!fd) throw_errno("open " + ns);
    return fd;
}

void join_userns(const UsernsJoin& j) {
    if (::setns(j.userns_fd, CLONE_NEWUSER) < 0) throw_errno("join the user namespace");
    // Root of the new namespace (host id: the range's first).
    if (::setresgid(0, 0, 0) < 0) throw_errno("setresgid 0 in the user namespace");
    if (::setresuid(0, 0, 0) < 0) throw_errno("setresuid 0 in the user namespace");
    int flags = CLONE_NEWUTS;
    if (j.new_net) flags |= CLONE_NEWNET;
    if (j.new_ipc) flags |= CLONE_NEWIPC;
    if (::unshare(flags) < 0) throw_errno("unshare namespaces in the user namespace");
    set_hostname(j.hostname);
    if (j.new_net) bring_up_loopback();
}

uint32_t pick_auto_range(const std::vector<IdMapping>& taken) {
    for (uint64_t base = kAutoUsernsBase; base + kAutoUsernsSize <= 0xffffffffULL; base += kAutoUsernsSize) {
        bool clash = false;
        for (const auto& t : taken)
            if (base < uint64_t{t.host_id} + t.size && t.host_id < base + kAutoUsernsSize) clash = true;
        if (!clash) return static_cast<uint32_t>(base);
    }
    throw Error("--userns=auto: no free range of host ids left");
}

}  // namespace minirt
