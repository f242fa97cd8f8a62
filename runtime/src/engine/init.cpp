#include "engine/init.hpp"

#include <fcntl.h>
#include <grp.h>
#include <linux/mount.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <sys/mount.h>
#include <sys/personality.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <linux/magic.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>

#include "linux/fd_passing.hpp"
#include "common/error.hpp"
#include "common/parse.hpp"
#include "common/file.hpp"
#include "common/protocol.hpp"
#include "linux/namespaces.hpp"
#include "linux/process.hpp"
#include "linux/rootfs.hpp"
#include "linux/seccomp.hpp"
#include "linux/terminal.hpp"
#include "linux/copy_tree.hpp"
#include "linux/userns.hpp"
#include "oci/hooks.hpp"

namespace minirt::engine {

using oci::Mount;
using oci::Spec;

namespace {

[[noreturn]] void fail(int sync, int code, const std::string& message) noexcept {
    send_message(sync, Message::failed(code, message));
    _exit(code);
}

void do_mount(const char* source, const std::string& target, const char* fstype, unsigned long flags,
              const char* data, const std::string& what) {
    if (::mount(source, target.c_str(), fstype, flags, data) < 0) throw_errno("mount " + what);
}

// The mount point for a bind of a file is a file, of anything else a
// directory. It is never opened for reading: a fifo or socket an earlier
// mount put there is covered like any file.
UniqueFd mount_point(int root_fd, const Mount& m, bool file) {
    if (!file) return open_dir_in_root(root_fd, m.destination, true);
    fs::path dest(m.destination);
    UniqueFd parent = open_dir_in_root(root_fd, dest.parent_path().string(), true);
    std::string name = dest.filename().string();
    if (::mknodat(parent.get(), name.c_str(), S_IFREG | 0644, 0) < 0 && errno != EEXIST)
        throw_errno("create mount point " + m.destination);
    UniqueFd target = open_in_root(parent.get(), name, O_PATH | O_NOFOLLOW);
    if (!target) throw_errno("open mount point " + m.destination);
    struct stat st {};
    if (::fstat(target.get(), &st) < 0) throw_errno("stat mount point " + m.destination);
    if (S_ISLNK(st.st_mode)) throw Error("mount " + m.destination + ": the target is a symlink");
    return target;
}

void set_recursive_attrs(int fd, uint64_t attrs, const std::string& what) {
    if (!attrs) return;
    mount_attr attr{};
    attr.attr_set = attrs;
    if (::mount_setattr(fd, "", AT_EMPTY_PATH | AT_RECURSIVE, &attr, sizeof attr) < 0)
        throw_errno("recursive mount flags of " + what);
}

// The user namespace whose mapping an idmapped bind shows its files
// through: the container's own when the mount asks for no other.
UniqueFd idmap_userns(const Mount& m, int container_userns, const Spec* spec) {
    bool own = m.uid_mappings.empty() ||
               (spec && m.uid_mappings == spec->uid_mappings && m.gid_mappings == spec->gid_mappings);
    if (own && container_userns >= 0) return UniqueFd(::fcntl(container_userns, F_DUPFD_CLOEXEC, 0));
    if (m.uid_mappings.empty())
        throw Error("mount " + m.destination + ": an idmapped mount needs uidMappings or a user namespace");
    return make_userns(m.uid_mappings, m.gid_mappings);
}

void bind_entry(int root_fd, const Mount& m, int userns, const Spec* spec) {
    struct stat st{};
    if (::fstatat(m.tree_fd >= 0 ? m.tree_fd : AT_FDCWD, m.tree_fd >= 0 ? "" : m.source.c_str(), &st,
                  m.tree_fd >= 0 ? AT_EMPTY_PATH : 0) < 0)
        throw_errno("bind mount " + m.destination + ": source " + m.source);
    UniqueFd target = mount_point(root_fd, m, !S_ISDIR(st.st_mode));
    if (m.tree_fd >= 0) {
        if (::move_mount(m.tree_fd, "", target.get(), "", MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH) < 0)
            throw_errno("mount " + m.source + " on " + m.destination);
    } else if (m.idmap) {
        UniqueFd ns = idmap_userns(m, userns, spec);
        UniqueFd tree = idmapped_tree(m.source, ns.get(), m.recursive);
        if (::move_mount(tree.get(), "", target.get(), "", MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH) < 0)
            throw_errno("mount the idmapped " + m.source + " on " + m.destination);
    } else {
        do_mount(m.source.c_str(), fd_path(target.get()), nullptr, MS_BIND | (m.recursive ? MS_REC : 0), nullptr,
                 "bind " + m.source + " on " + m.destination);
    }
    unsigned long flags = m.flags & (MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC | MS_NOATIME | MS_NODIRATIME |
                                      MS_RELATIME | MS_STRICTATIME);
    // Re-open: the fd above still names the covered mount point.
    UniqueFd bound = open_in_root(root_fd, m.destination, O_PATH | O_NOFOLLOW);
    if (!bound) throw_errno("reopen " + m.destination);
    if (flags) {
        do_mount(nullptr, fd_path(bound.get()), nullptr, MS_REMOUNT | MS_BIND | flags | locked_mount_flags(bound.get()),
                 nullptr, "remount " + m.destination);
    }
    if (m.propagation)
        do_mount(nullptr, fd_path(bound.get()), nullptr, m.propagation, nullptr, "propagation of " + m.destination);
    set_recursive_attrs(bound.get(), m.recursive_attrs, m.destination);
}

}  // namespace

void mount_entry(int root_fd, const Mount& entry, int userns, const Spec* spec) {
    // A destination through a symlink of the image's is where the link
    // leads inside the root, as runc resolves it...
    Mount m = entry;
    m.destination = resolve_in_root(root_fd, entry.destination);
    std::string written = fs::path(entry.destination).lexically_normal().string();
    while (written.size() > 1 && written.back() == '/') written.pop_back();
    // ... but never into /proc or /sys, where the mount would cover files
    // the init still writes (oom_score_adj, sysctls) ...
    auto under = [](const std::string& p, const std::string& dir) { return p == dir || p.starts_with(dir + "/"); };
    for (const char* dir : {"/proc", "/sys"})
        if (under(m.destination, dir) && !under(written, dir))
            throw Error("mount " + entry.destination + ": a symlink in the root leads it into " + dir + " (" +
                        m.destination + ")");
    std::string type = m.type == "cgroup" ? "cgroup2" : m.type;
    // ... and proc and sysfs only on a directory reached without one (runc's rule).
    if ((type == "proc" || type == "sysfs") && m.destination != written)
        throw Error("mount " + entry.destination + ": " + type + " must be mounted on an ordinary directory, not through a symlink");
    if (m.bind) return bind_entry(root_fd, m, userns, spec);
    // A tmpfs's root takes the mode of the directory it covers (unless its
    // options give one), as with runc; a directory made for it keeps 1777.
    struct stat covered {};
    bool had_dir = false;
    if (UniqueFd old = open_in_root(root_fd, m.destination, O_PATH | O_DIRECTORY))
        had_dir = ::fstat(old.get(), &covered) == 0;
    // Given as mode=, as runc gives it: a read-only tmpfs cannot be chmod'ed after.
    if (type == "tmpfs" && had_dir && m.data.find("mode=") == std::string::npos) {
        char mode[16];
        std::snprintf(mode, sizeof mode, "mode=%o", covered.st_mode & 07777);
        m.data += (m.data.empty() ? "" : ",") + std::string(mode);
    }
    UniqueFd target = open_dir_in_root(root_fd, m.destination, true);
    std::string source = m.source.empty() ? type : m.source;
    unsigned long flags = m.flags & ~static_cast<unsigned long>(MS_REMOUNT);
    // tmpcopyup: what the image has there, still reachable through this
    // descriptor once the tmpfs covers it.
    UniqueFd below;
    if (m.tmpcopyup) below = UniqueFd(::openat(target.get(), ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    do_mount(source.c_str(), fd_path(target.get()), type.c_str(), flags, m.data.empty() ? nullptr : m.data.c_str(),
             type + " on " + m.destination);
    if (below) {
        UniqueFd fresh = open_in_root(root_fd, m.destination, O_RDONLY | O_DIRECTORY);
        if (!fresh) throw_errno("open the tmpfs on " + m.destination);
        with_context("copy the image's " + m.destination + " into its tmpfs", [&] { copy_tree(below.get(), fresh.get()); });
        // The tmpfs's root takes the directory's owner too.
        struct stat st {};
        if (::fstat(below.get(), &st) < 0 || ::fchown(fresh.get(), st.st_uid, st.st_gid) < 0)
            throw_errno("give the tmpfs on " + m.destination + " its directory's owner");
    }
    if (m.propagation || m.recursive_attrs) {
        UniqueFd mounted = open_in_root(root_fd, m.destination, O_PATH | O_NOFOLLOW);
        if (!mounted) throw_errno("reopen " + m.destination);
        if (m.propagation)
            do_mount(nullptr, fd_path(mounted.get()), nullptr, m.propagation, nullptr, "propagation of " + m.destination);
        set_recursive_attrs(mounted.get(), m.recursive_attrs, m.destination);
    }
}

void reset_signals() {
    // The shim blocks and ignores signals for its own loop; the command must
    // start with the defaults, or e.g. an ignored SIGPIPE would survive exec.
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, nullptr);
    for (int sig = 1; sig < NSIG; ++sig) {
        if (sig == SIGKILL || sig == SIGSTOP) continue;
        signal(sig, SIG_DFL);
    }
}

void enter_workdir(const std::string& workdir) {
    if (::chdir(workdir.c_str()) == 0) return;
    // Like podman, a missing working directory is created.
    std::error_code ec;
    std::filesystem::create_directories(workdir, ec);
    if (::chdir(workdir.c_str()) < 0) throw_errno("chdir to working directory " + workdir);
}

std::string find_executable(const std::string& name, const std::string& path_env, int& err) {
    err = ENOENT;
    if (name.empty()) return {};
    if (name.find('/') != std::string::npos) {
        if (::access(name.c_str(), X_OK) == 0) {
            struct stat st{};
            if (::stat(name.c_str(), &st) == 0 && S_ISDIR(st.st_mode)) {
                err = EACCES;
                return {};
            }
            err = 0;
            return name;
        }
        err = errno;
        return {};
    }
    std::string path = path_env.empty() ? "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin" : path_env;
    bool saw_eacces = false;
    size_t start = 0;
    while (start <= path.size()) {
        size_t end = path.find(':', start);
        if (end == std::string::npos) end = path.size();
        std::string dir = path.substr(start, end - start);
        std::string candidate = (dir.empty() ? "." : dir) + "/" + name;
        struct stat st{};
        if (::stat(candidate.c_str(), &st) == 0 && !S_ISDIR(st.st_mode)) {
            if (::access(candidate.c_str(), X_OK) == 0) {
                err = 0;
                return candidate;
            }
            saw_eacces = true;
        }
        start = end + 1;
    }
    err = saw_eacces ? EACCES : ENOENT;
    return {};
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
        error = "exec: \"" + args[0] + "\": " +
                std::string(err == ENOENT ? "no such file or directory" : err == EACCES ? "permission denied" : std::strerror(err));
    return {};
}

namespace {

// The home directory /etc/passwd (the container's, as the caller sees it
// now) gives `uid`, or "/" when it names none. Never blocks: a fifo or a
// socket put there reads as no file.
std::string home_of(uint32_t uid) {
    UniqueFd fd(::open("/etc/passwd", O_RDONLY | O_NONBLOCK | O_CLOEXEC));
    struct stat st {};
    if (!fd || ::fstat(fd.get(), &st) < 0 || !S_ISREG(st.st_mode)) return "/";
    std::string text;
    char buf[8192];
    ssize_t n;
    while (text.size() < (1 << 20) && (n = ::read(fd.get(), buf, sizeof buf)) > 0) text.append(buf, static_cast<size_t>(n));
    const std::string id = std::to_string(uid);
    for (std::string_view line : split(text, '\n')) {
        // name:password:uid:gid:gecos:home:shell
        auto f = split(line, ':');
        if (f.size() >= 6 && f[2] == id && !f[5].empty()) return std::string(f[5]);
    }
    return "/";
}

}  // namespace

std::vector<std::string> with_home(const std::vector<std::string>& env, uint32_t uid) {
    for (const auto& e : env)
        if (e.starts_with("HOME=")) return env;
    std::vector<std::string> out = env;
    out.push_back("HOME=" + home_of(uid));
    return out;
}

void pass_preserved_fds(int count) {
    for (int fd = 3; fd < 3 + count; ++fd) {
        int flags = ::fcntl(fd, F_GETFD);
        if (flags >= 0) ::fcntl(fd, F_SETFD, flags & ~FD_CLOEXEC);
    }
}

SecuritySpec process_security(const oci::Process& p, const Spec& spec) {
    SecuritySpec s;
    s.caps = p.caps;
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
    s.default_nofile = false;  // the spec says what it wants
    return s;
}

bool wants_apparmor(const std::string& profile) { return !profile.empty() && profile != "unconfined"; }

UniqueFd open_apparmor_exec_attr(const std::string& profile) {
    if (!wants_apparmor(profile)) return {};
    UniqueFd f(::open("/proc/thread-self/attr/apparmor/exec", O_WRONLY | O_CLOEXEC));
    if (!f) f = UniqueFd(::open("/proc/thread-self/attr/exec", O_WRONLY | O_CLOEXEC));
    if (!f) throw_errno("process.apparmorProfile: open /proc/thread-self/attr/exec");
    // A real procfs, not whatever a container mounted there.
    struct statfs sf {};
    if (::fstatfs(f.get(), &sf) < 0 || sf.f_type != PROC_SUPER_MAGIC)
        throw Error("process.apparmorProfile: /proc/thread-self/attr/exec is not on a procfs");
    return f;
}

void apply_apparmor(int attr, const std::string& profile) {
    if (attr < 0) return;
    // The profile takes over at the next exec (libapparmor's change_onexec).
    try {
        write_all(attr, "exec " + profile);
    } catch (const Error& e) {
        throw e.wrap("process.apparmorProfile \"" + profile + "\" (is it loaded?)");
    }
}

void apply_scheduling(const oci::Process& p) {
    if (p.personality && ::personality(*p.personality) < 0) throw_errno("linux.personality");
    // ioprio_set(IOPRIO_WHO_PROCESS, self, ...): glibc has no wrapper.
    if (p.io_priority && ::syscall(SYS_ioprio_set, 1, 0, *p.io_priority) < 0) throw_errno("process.ioPriority");
    if (p.nice) {
        if (::setpriority(PRIO_PROCESS, 0, *p.nice) < 0) throw_errno("process.scheduler.nice: setpriority");
        // The container's processes share one autogroup (they are one
        // session): its nice weighs them against the host's sessions.
        set_autogroup_nice(*p.nice);
    }
    if (!p.cpu_affinity.empty()) {
        cpu_set_t set;
        CPU_ZERO(&set);
        for (int c : parse_cpu_list(p.cpu_affinity, "process.execCPUAffinity.final"))
            if (c < CPU_SETSIZE) CPU_SET(static_cast<size_t>(c), &set);
        if (::sched_setaffinity(0, sizeof set, &set) < 0) throw_errno("pin to CPUs " + p.cpu_affinity);
    }
    if (p.sched_policy && (*p.sched_policy != SCHED_OTHER || p.sched_priority != 0)) {
        sched_param sp{};
        sp.sched_priority = p.sched_priority;
        if (::sched_setscheduler(0, *p.sched_policy, &sp) < 0) throw_errno("set the scheduling policy");
    }
}

// A native container's root: the image under its writable layer, mounted
// here, inside the container's mount namespace, so that nothing is left on
// the host however the container ends. nodev: a device node in an image (or
// one made in the upper layer by a container given CAP_MKNOD) opens
// nothing. With a user namespace the image is seen through its id mapping.
//
// A layered image's lowers are named by descriptors, relative to
// /proc/self/fd made the working directory for the mount ("12:13:..."):
// mount(2) takes its options in one page, which full layer paths (or even
// /proc/self/fd/N for each) would overflow long before overlayfs's 500.
void mount_overlay(const oci::Overlay& o, const std::string& root, int userns) {
    std::vector<std::string> lowers = o.lowers();
    if (lowers.size() == 1 && userns < 0) {
        std::string opts = overlay_options(o.lower, o.upper, o.work);
        do_mount("overlay", root, "overlay", MS_NODEV, opts.c_str(), "overlay on " + root);
        return;
    }
    std::string lower;
    std::vector<UniqueFd> held;
    for (const auto& l : lowers) {
        UniqueFd fd = userns >= 0 ? idmapped_tree(l, userns) : UniqueFd(::open(l.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC));
        if (!fd) throw_errno("open the image layer " + l);
        lower += (lower.empty() ? "" : ":") + std::to_string(fd.get());
        held.push_back(std::move(fd));
    }
    std::string opts = overlay_options(lower, o.upper, o.work);
    if (opts.size() >= 4096)
        throw Error("the overlay of " + std::to_string(lowers.size()) + " layers does not fit in mount's options (" +
                    std::to_string(opts.size()) + " bytes of 4095)");
    UniqueFd cwd(::open(".", O_PATH | O_DIRECTORY | O_CLOEXEC));
    if (!cwd) throw_errno("open the working directory");
    if (::chdir("/proc/self/fd") < 0) throw_errno("chdir /proc/self/fd");
    int rc = ::mount("overlay", root.c_str(), "overlay", MS_NODEV, opts.c_str());
    int err = errno;
    if (::fchdir(cwd.get()) < 0) throw_errno("return to the working directory");
    if (rc < 0) throw Error(err, "overlay on " + root);
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

// rootfsPropagation as a mount flag (MS_SLAVE | MS_REC unless given).
unsigned long root_propagation(const Spec& spec) {
    if (spec.rootfs_propagation.empty()) return MS_SLAVE | MS_REC;
    Mount m;
    oci::parse_mount_options({spec.rootfs_propagation}, m);
    return m.propagation;
}

// pivot_root refuses a shared parent mount, and a bind of the root would
// leak to the host through one (or fail on an unbindable one): the mount
// the root lies on becomes private (slave if slave was asked), as runc does.
void unshare_root_parent(const fs::path& root, unsigned long propagation) {
    unsigned long flag = propagation & MS_SLAVE ? MS_SLAVE : MS_PRIVATE;
    for (fs::path p = root;; p = p.parent_path()) {
        if (::mount(nullptr, p.c_str(), nullptr, flag, nullptr) == 0) return;
        // EINVAL: not a mount point; its parent may be.
        if (errno != EINVAL || p == p.root_path()) throw_errno("make the mount of " + root.string() + " private");
    }
}

// The process's working directory is made if missing, as root and before
// the root turns read-only (runc makes it there too).
void make_workdir(const std::string& cwd) {
    std::error_code ec;
    fs::create_directories(cwd, ec);
}

// The mounts config.json lists, /dev's nodes, linux.devices, sysctls and
// the masks, below the root at `root_fd`.
void mount_all(const Spec& spec, const InitOptions& o, int root_fd) {
    for (const auto& m : spec.mounts) mount_entry(root_fd, m, o.userns, &spec);
    // A /dev bound whole from the host has its nodes already (runc then
    // makes none either: they would be made on the host's /dev). Without a
    // mount namespace, only a /dev mounted for the container gets them, not
    // the bundle's own directory.
    bool own_dev = spec.has_namespace("mount") ||
                   std::any_of(spec.mounts.begin(), spec.mounts.end(), [](const Mount& m) { return m.destination == "/dev"; });
    if (!dev_is_host_bind(spec) && own_dev) {
        populate_dev(root_fd);
        bool userns = spec.has_namespace("user");
        for (DeviceNode d : spec.device_nodes) {
            // Its owner is an id inside the container: the host's through
            // the mapping (the root filesystem is built as host root).
            d.uid = host_id_of(spec.uid_mappings, d.uid);
            d.gid = host_id_of(spec.gid_mappings, d.gid);
            with_context("config.json: linux.devices " + d.path, [&] { make_device_node(root_fd, d, userns); });
        }
    }
    write_sysctls(root_fd, spec);
    mask_paths(root_fd, spec.masked_paths);
    make_paths_readonly(root_fd, spec.readonly_paths);
}

// The state the hooks the init runs get: create's, with the init's own pid
// (as runc reports it) and `status`.
std::string hook_state(const InitOptions& o, const char* status) {
    nlohmann::json state = nlohmann::json::parse(o.hook_state);
    state["pid"] = ::getpid();
    state["status"] = status;
    return state.dump();
}

// createContainer hooks: in the container's namespaces, before the root is
// entered, so their paths are the host's (the runtime spec's rule).
void run_create_container_hooks(const Spec& spec, const InitOptions& o) {
    if (spec.hooks.create_container.empty()) return;
    oci::run_hooks(spec.hooks.create_container, "createContainer", hook_state(o, "creating"));
}

void build_root(const Spec& spec, const InitOptions& o) {
    unsigned long propagation = root_propagation(spec);
    // Anything but rslave (the default) and rprivate leaves mounts that
    // share propagation with the host's.
    bool shares = propagation != (MS_SLAVE | MS_REC) && propagation != (MS_PRIVATE | MS_REC);
    do_mount(nullptr, "/", nullptr, propagation, nullptr, "set / propagation");
    if (shares) unshare_root_parent(spec.root, propagation);
    std::string root = spec.root.string();
    if (spec.overlay) mount_overlay(*spec.overlay, root, o.userns);
    else do_mount(root.c_str(), root, nullptr, MS_BIND | MS_REC, nullptr, "bind the root " + root);
    UniqueFd root_fd(::open(root.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC));
    if (!root_fd) throw_errno("open root " + root);
    mount_all(spec, o, root_fd.get());
    run_create_container_hooks(spec, o);
    if (o.no_pivot) {
        // For roots pivot_root cannot leave (an initramfs): move and chroot.
        if (::chdir(root.c_str()) < 0) throw_errno("chdir " + root);
        do_mount(".", "/", nullptr, MS_MOVE, nullptr, "move the root");
        if (::chroot(".") < 0) throw_errno("chroot");
        if (::chdir("/") < 0) throw_errno("chdir /");
    } else {
        enter_rootfs(root, shares);
    }
    // Shared or unbindable applies to the new root itself, now that it is
    // one (before, it would have reached the host's).
    if (propagation & (MS_SHARED | MS_UNBINDABLE))
        do_mount(nullptr, "/", nullptr, propagation, nullptr, "set the root's propagation");
    make_workdir(spec.process.cwd);
    if (spec.root_readonly) {
        // Only this mount turns read-only (MS_BIND): the mounts on top of
        // it keep their own flags.
        UniqueFd root_now(::open("/", O_PATH | O_DIRECTORY | O_CLOEXEC));
        if (!root_now) throw_errno("open /");
        do_mount(nullptr, "/", nullptr, MS_REMOUNT | MS_BIND | MS_RDONLY | locked_mount_flags(root_now.get()), nullptr,
                 "read-only root");
    }
}

// Without a mount namespace of its own, as runc does it: the mounts are
// made in the caller's, below the root (`minirt oci delete` takes them
// away again), and the root is entered by chroot.
void enter_root_without_mount_namespace(const Spec& spec, const InitOptions& o) {
    UniqueFd root_fd(::open(spec.root.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC));
    if (!root_fd) throw_errno("open root " + spec.root.string());
    if (!spec.mounts.empty()) mount_all(spec, o, root_fd.get());
    else write_sysctls(root_fd.get(), spec);
    run_create_container_hooks(spec, o);
    if (::chroot(spec.root.c_str()) < 0 || ::chdir("/") < 0) throw_errno("chroot " + spec.root.string());
    make_workdir(spec.process.cwd);
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

void setup_stdio(const InitOptions& o) {
    const int from[3] = {o.stdin_fd, o.stdout_fd, o.stderr_fd};
    for (int fd = 0; fd < 3; ++fd)
        if (from[fd] >= 0 && from[fd] != fd && ::dup2(from[fd], fd) < 0) throw_errno("dup2 stdio");
}

// The terminal comes from the container's own devpts, so `tty` inside shows
// /dev/pts/0 and nothing of the host's terminals is reachable.
void setup_terminal(int console) {
    Pty pty = open_pty();
    adopt_terminal(pty.slave.get());
    if (!send_fd(console, pty.master.get())) throw_errno("send the terminal's master");
    ::close(console);
}

}  // namespace

void container_init(const InitOptions& o) noexcept {
    const Spec& spec = *o.spec;
    try {
        // If the shim dies, so does the container: nothing runs unowned.
        if (o.die_with_parent && ::prctl(PR_SET_PDEATHSIG, SIGKILL) < 0) throw_errno("prctl PDEATHSIG");
        setup_stdio(o);
        int joined = 0;
        for (const auto& [flag, fd] : o.join) {
            if (::setns(fd, flag) < 0) throw_errno("join the namespace given in config.json");
            joined |= flag;
        }
        const oci::Namespace* net = spec.find_namespace("network");
        bool own_net = net && net->path.empty() && o.netns < 0;
        if (o.netns >= 0 && ::setns(o.netns, CLONE_NEWNET) < 0) throw_errno("join the network namespace");
        int unshare_flags = 0;
        for (const auto& n : spec.namespaces)
            if (n.path.empty() && n.type != "pid" && n.type != "user" && !(n.type == "network" && o.netns >= 0))
                unshare_flags |= oci::namespace_flag(n.type);
        unshare_flags &= ~joined;  // handed in by the parent (another container's)
        // In its cgroup already (born there), so a new cgroup namespace is
        // rooted at the container's own group.
        if (unshare_flags && ::unshare(unshare_flags) < 0) throw_errno("unshare namespaces");
        if (!send_message(o.sync, Message::of(MessageType::NamespacesReady))) _exit(kExitMinirtError);
        // Nothing more until the parent says go (EOF: it is gone).
        auto go = receive_message(o.sync);
        if (!go || go->type != MessageType::Go) _exit(kExitMinirtError);

        // Opened through the host's /proc, before the root is the container's.
        UniqueFd apparmor = open_apparmor_exec_attr(spec.process.apparmor_profile);
        if (own_net) bring_up_loopback();
        if (!spec.hostname.empty()) set_hostname(spec.hostname);
        if (spec.has_namespace("mount")) build_root(spec, o);
        else enter_root_without_mount_namespace(spec, o);
        if (spec.process.terminal) setup_terminal(o.console);
        if (o.userns >= 0) {
            const oci::Namespace* ipc = spec.find_namespace("ipc");
            // A namespace handed to us (a bridge network's, another
            // container's) is kept: its owner set it up.
            join_userns({o.userns, spec.hostname, own_net, ipc && ipc->path.empty()});
        }
        enter_workdir(spec.process.cwd);
        ::umask(spec.process.umask.value_or(022));
        if (spec.process.oom_score_adj) {
            UniqueFd f(::open("/proc/self/oom_score_adj", O_WRONLY | O_CLOEXEC));
            if (!f) throw_errno("open /proc/self/oom_score_adj");
            write_all(f.get(), std::to_string(*spec.process.oom_score_adj));
        }
        apply_scheduling(spec.process);
        // The parent compiled the filter meanwhile, and attached the device
        // filter before sending it (EOF: it failed or died, and kills us).
        auto filter = receive_message(o.sync);
        if (!filter || filter->type != MessageType::Seccomp ||
            filter->payload.size() % sizeof(sock_filter) != 0)
            _exit(kExitMinirtError);
        SeccompProgram program(filter->payload.size() / sizeof(sock_filter));
        if (!program.empty()) std::memcpy(program.data(), filter->payload.data(), filter->payload.size());

        int code = 0;
        std::string error;
        std::string exe = resolve_executable(spec.process.args, spec.process.env, code, error);
        if (exe.empty()) fail(o.sync, code, error);

        // Only stdio, the preserved fds, the sync socket and the fifo remain
        // (the last two close on exec): no host file leaks into the container.
        apply_apparmor(apparmor.get(), spec.process.apparmor_profile);
        apparmor.reset();
        close_fds_from(3 + o.preserve_fds, o.sync, o.fifo);
        for (int fd : o.vacant_fds) ::close(fd);
        pass_preserved_fds(o.preserve_fds);
        apply_security(process_security(spec.process, spec), program);
        if (!send_message(o.sync, Message::of(MessageType::Ready))) _exit(kExitMinirtError);
        if (o.fifo >= 0) wait_for_start(o.fifo);
        std::vector<std::string> env = with_home(spec.process.env, spec.process.uid);
        if (!spec.hooks.start_container.empty()) {
            // In the container, its root entered: the hook's path is the
            // container's (a failure stops the container, which never runs).
            // One without env gets the process's, as runc's do (its init's
            // environment is the process's by then).
            std::vector<oci::Hook> hooks = spec.hooks.start_container;
            for (auto& h : hooks)
                if (h.env.empty()) h.env = env;
            oci::run_hooks(hooks, "startContainer", hook_state(o, "created"));
        }

        std::vector<char*> argv = exec_vector(spec.process.args), envp = exec_vector(env);
        reset_signals();
        ::execve(exe.c_str(), argv.data(), envp.data());
        int e = errno;
        std::string msg = "exec \"" + spec.process.args[0] + "\": " + std::strerror(e);
        // After `oci create` has returned, our stderr is all that is left.
        if (o.fifo >= 0) write_all_nothrow(2, "minirt-oci: " + msg + "\n");
        fail(o.sync, e == ENOENT ? kExitNotFound : kExitCannotInvoke, msg);
    } catch (const Error& e) {
        fail(o.sync, e.exit_code(), e.message());
    } catch (const std::exception& e) {
        fail(o.sync, kExitMinirtError, e.what());
    }
}

}  // namespace minirt::engine
