#include "oci/init.hpp"

#include <fcntl.h>
#include <grp.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>

#include "common/error.hpp"
#include "linux/process.hpp"
#include "common/file.hpp"
#include "linux/namespaces.hpp"
#include "linux/rootfs.hpp"
#include "linux/security.hpp"
#include "linux/userns.hpp"
#include "shim/attach.hpp"
#include "shim/container_init.hpp"
#include "shim/terminal.hpp"

namespace minirt::oci {

namespace {

[[noreturn]] void fail(int sync, int code, const std::string& message) noexcept {
    write_all_nothrow(sync, "error " + std::to_string(code) + " " + message + "\n");
    _exit(code);
}

void do_mount(const char* source, const std::string& target, const char* fstype, unsigned long flags,
              const char* data, const std::string& what) {
    if (::mount(source, target.c_str(), fstype, flags, data) < 0) throw_errno("mount " + what);
}

// The mount point for a bind of a file is a file, of anything else a directory.
UniqueFd mount_point(int root_fd, const Mount& m, bool file) {
    if (!file) return open_dir_in_root(root_fd, m.destination, true);
    fs::path dest(m.destination);
    UniqueFd parent = open_dir_in_root(root_fd, dest.parent_path().string(), true);
    std::string name = dest.filename().string();
    int fd = ::openat(parent.get(), name.c_str(), O_CREAT | O_RDONLY | O_NOFOLLOW | O_CLOEXEC, 0644);
    if (fd < 0 && errno == ELOOP) throw Error("mount " + m.destination + ": the target is a symlink");
    if (fd >= 0) ::close(fd);
    UniqueFd target = open_in_root(parent.get(), name, O_PATH | O_NOFOLLOW);
    if (!target) throw_errno("open mount point " + m.destination);
    return target;
}

void bind_entry(int root_fd, const Mount& m) {
    struct stat st{};
    if (::stat(m.source.c_str(), &st) < 0) throw_errno("bind mount " + m.destination + ": source " + m.source);
    UniqueFd target = mount_point(root_fd, m, !S_ISDIR(st.st_mode));
    do_mount(m.source.c_str(), fd_path(target.get()), nullptr, MS_BIND | (m.recursive ? MS_REC : 0), nullptr,
             "bind " + m.source + " on " + m.destination);
    unsigned long flags = m.flags & (MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC | MS_NOATIME | MS_NODIRATIME |
                                      MS_RELATIME | MS_STRICTATIME);
    // Re-open: the fd above still names the covered mount point.
    UniqueFd bound = open_in_root(root_fd, m.destination, O_PATH | O_NOFOLLOW);
    if (!bound) throw_errno("reopen " + m.destination);
    if (flags) {
        do_mount(nullptr, fd_path(bound.get()), nullptr, MS_REMOUNT | MS_BIND | flags | locked_mount_flags(bound.get()),
                 nullptr,
                 "remount " + m.destination);
    }
    if (m.propagation) do_mount(nullptr, fd_path(bound.get()), nullptr, m.propagation, nullptr, "propagation of " + m.destination);
}

}  // namespace

void mount_entry(int root_fd, const Mount& m) {
    if (m.bind) return bind_entry(root_fd, m);
    std::string type = m.type == "cgroup" ? "cgroup2" : m.type;
    UniqueFd target = open_dir_in_root(root_fd, m.destination, true);
    std::string source = m.source.empty() ? type : m.source;
    unsigned long flags = m.flags & ~static_cast<unsigned long>(MS_REMOUNT);
    do_mount(source.c_str(), fd_path(target.get()), type.c_str(), flags, m.data.empty() ? nullptr : m.data.c_str(),
             type + " on " + m.destination);
    if (m.propagation) {
        UniqueFd mounted = open_in_root(root_fd, m.destination, O_PATH | O_NOFOLLOW);
        if (!mounted) throw_errno("reopen " + m.destination);
        do_mount(nullptr, fd_path(mounted.get()), nullptr, m.propagation, nullptr, "propagation of " + m.destination);
    }
}

std::string resolve_executable(const std::vector<std::string>& args, const std::vector<std::string>& env, int& exit_code,
                               std::string& error) {
    std::string path;
    for (const auto& e : env)
        if (e.starts_with("PATH=")) path = e.substr(5);
    int err = 0;
    std::string exe = find_executable(args[0], path, err);
    if (!exe.empty()) return exe;
    exit_code = err == ENOENT ? kExitNotFound : kExitCannotInvoke;
    if (err == ENOENT && args[0].find('/') == std::string::npos)
        error = "exec: \"" + args[0] + "\": executable file not found in $PATH";
    else
        error = "exec: \"" + args[0] + "\": " + std::string(err == ENOENT ? "no such file or directory" : err == EACCES ? "permission denied" : std::strerror(err));
    return {};
}

void pass_preserved_fds(int count) {
    for (int fd = 3; fd < 3 + count; ++fd) {
        int flags = ::fcntl(fd, F_GETFD);
        if (flags >= 0) ::fcntl(fd, F_SETFD, flags & ~FD_CLOEXEC);
    }
}

SecuritySpec process_security(const Process& p, const Spec& spec) {
    SecuritySpec s;
    s.capabilities = p.capabilities;
    s.ambient = p.ambient;
    s.no_new_privileges = p.no_new_privileges;
    if (spec.seccomp) {
        s.seccomp = "custom";
        s.seccomp_profile = spec.seccomp->dump();
    } else {
        s.seccomp = "unconfined";
    }
    s.uid = p.uid;
    s.gid = p.gid;
    s.additional_gids = p.additional_gids;
    s.rlimits = p.rlimits;
    s.default_nofile = false;  // the engine says what it wants
    return s;
}

namespace {

void write_sysctls(int root_fd, const Spec& spec) {
    for (const auto& [key, value] : spec.sysctl) {
        std::string rel = "proc/sys/" + key;
        std::replace(rel.begin() + 9, rel.end(), '.', '/');
        UniqueFd f = open_in_root(root_fd, rel, O_WRONLY);
        if (!f) throw_errno("sysctl " + key + " (is /proc mounted in the container?)");
        try {
            write_all(f.get(), value);
        } catch (const Error& e) {
            throw e.wrap("sysctl " + key + "=" + value);
        }
    }
}

bool dev_is_host_bind(const Spec& spec) {
    return std::any_of(spec.mounts.begin(), spec.mounts.end(),
                       [](const Mount& m) { return m.destination == "/dev" && m.bind; });
}

void build_root(const Spec& spec, bool no_pivot) {
    unsigned long propagation = MS_SLAVE | MS_REC;
    if (!spec.rootfs_propagation.empty()) {
        Mount m;
        parse_mount_options({spec.rootfs_propagation}, m);
        propagation = m.propagation;
    }
    // Nothing mounted here may propagate to the host unless asked for.
    do_mount(nullptr, "/", nullptr, propagation == (MS_SHARED | MS_REC) ? MS_SLAVE | MS_REC : propagation, nullptr,
             "set / propagation");
    std::string root = spec.root.string();
    do_mount(root.c_str(), root, nullptr, MS_BIND | MS_REC, nullptr, "bind the root " + root);
    UniqueFd root_fd(::open(root.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC));
    if (!root_fd) throw_errno("open root " + root);
    for (const auto& m : spec.mounts) mount_entry(root_fd.get(), m);
    if (!dev_is_host_bind(spec)) populate_dev(root_fd.get());
    write_sysctls(root_fd.get(), spec);
    mask_paths(root_fd.get(), spec.masked_paths);
    make_paths_readonly(root_fd.get(), spec.readonly_paths);
    if (no_pivot) {
        // For roots pivot_root cannot leave (an initramfs): move and chroot.
        if (::chdir(root.c_str()) < 0) throw_errno("chdir " + root);
        do_mount(".", "/", nullptr, MS_MOVE, nullptr, "move the root");
        if (::chroot(".") < 0) throw_errno("chroot");
        if (::chdir("/") < 0) throw_errno("chdir /");
    } else {
        enter_rootfs(root);
    }
    if (propagation & MS_SHARED) do_mount(nullptr, "/", nullptr, propagation, nullptr, "make / shared");
    if (spec.root_readonly) {
        UniqueFd root_now(::open("/", O_PATH | O_DIRECTORY | O_CLOEXEC));
        if (!root_now) throw_errno("open /");
        do_mount(nullptr, "/", nullptr, MS_REMOUNT | MS_BIND | MS_RDONLY | locked_mount_flags(root_now.get()), nullptr,
                 "read-only root");
    }
}

// Blocks until `start` writes to exec.fifo. The read end was opened
// non-blocking before any privilege was dropped; poll only reports it
// readable once a writer has come and written.
void wait_for_start(int fifo) {
    for (;;) {
        pollfd p{fifo, POLLIN, 0};
        int n = ::poll(&p, 1, -1);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) throw_errno("wait on exec.fifo");
        char c;
        ssize_t r = ::read(fifo, &c, 1);
        if (r == 1) return;
        if (r < 0 && (errno == EAGAIN || errno == EINTR)) continue;
        _exit(kExitMinirtError);  // the fifo was abandoned: never start
    }
}

}  // namespace

void container_init(const InitArgs& a) noexcept {
    const Spec& spec = *a.spec;
    try {
        for (const auto& [flag, fd] : a.join)
            if (::setns(fd, flag) < 0) throw_errno("join the namespace given in config.json");
        int unshare_flags = 0;
        for (const auto& n : spec.namespaces)
            if (n.path.empty() && n.type != "pid" && n.type != "user") unshare_flags |= namespace_flag(n.type);
        if (unshare_flags && ::unshare(unshare_flags) < 0) throw_errno("unshare namespaces");
        write_all(a.sync, "ns\n");
        if (read_line(a.sync) != "go") _exit(kExitMinirtError);

        const Namespace* net = spec.find_namespace("network");
        if (net && net->path.empty()) bring_up_loopback();
        if (!spec.hostname.empty()) set_hostname(spec.hostname);
        if (spec.has_namespace("mount")) build_root(spec, a.no_pivot);
        else if (::chroot(spec.root.c_str()) < 0 || ::chdir("/") < 0) throw_errno("chroot " + spec.root.string());
        if (spec.process.terminal) {
            Pty pty = open_pty();
            adopt_terminal(pty.slave.get());
            if (!send_fd(a.console, pty.master.get())) throw_errno("send the terminal to the console socket");
            ::close(a.console);
        }
        if (a.userns >= 0) {
            const Namespace* ipc = spec.find_namespace("ipc");
            join_userns({a.userns, spec.hostname, net && net->path.empty(), ipc && ipc->path.empty()});
        }
        enter_workdir(spec.process.cwd);
        ::umask(spec.process.umask.value_or(022));
        if (spec.process.oom_score_adj) {
            UniqueFd f(::open("/proc/self/oom_score_adj", O_WRONLY | O_CLOEXEC));
            if (!f) throw_errno("open /proc/self/oom_score_adj");
            write_all(f.get(), std::to_string(*spec.process.oom_score_adj));
        }
        int code = 0;
        std::string error;
        std::string exe = resolve_executable(spec.process.args, spec.process.env, code, error);
        if (exe.empty()) fail(a.sync, code, error);

        // Only stdio, the preserved fds, the sync socket and the fifo remain
        // (the last two are close-on-exec).
        int keep_from = 3 + a.preserve_fds;
        int lo = std::min(a.sync, a.fifo), hi = std::max(a.sync, a.fifo);
        if (keep_from < lo) ::close_range(static_cast<unsigned>(keep_from), static_cast<unsigned>(lo - 1), 0);
        if (lo + 1 < hi) ::close_range(static_cast<unsigned>(lo + 1), static_cast<unsigned>(hi - 1), 0);
        ::close_range(static_cast<unsigned>(hi + 1), ~0U, 0);
        pass_preserved_fds(a.preserve_fds);
        apply_security(process_security(spec.process, spec));
        write_all(a.sync, "ready\n");
        wait_for_start(a.fifo);

        std::vector<char*> argv = exec_vector(spec.process.args), envp = exec_vector(spec.process.env);
        reset_signals();
        ::execve(exe.c_str(), argv.data(), envp.data());
        // create has returned by now: our stderr is all that is left.
        std::string msg = "minirt-oci: exec \"" + spec.process.args[0] + "\": " + std::strerror(errno) + "\n";
        write_all_nothrow(2, msg);
        _exit(errno == ENOENT ? kExitNotFound : kExitCannotInvoke);
    } catch (const Error& e) {
        fail(a.sync, e.exit_code(), e.message());
    } catch (const std::exception& e) {
        fail(a.sync, kExitMinirtError, e.what());
    }
}

}  // namespace minirt::oci
