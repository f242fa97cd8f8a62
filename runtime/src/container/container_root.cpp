#include "container/container_root.hpp"

#include <fcntl.h>
#include <sched.h>
#include <sys/mount.h>
#include <sys/stat.h>

#include "common/error.hpp"
#include "common/file.hpp"
#include "common/parse.hpp"
#include "container/ops.hpp"
#include "engine/init.hpp"
#include "linux/process.hpp"
#include "linux/userns.hpp"
#include "oci/spec.hpp"

namespace minirt {

namespace {

bool live(Status s) { return s == Status::Running || s == Status::Paused; }

// The init's root, if the init is still the process the state names once
// the root is open (a recycled PID must not hand us another's root).
UniqueFd running_root(const ContainerState& st) {
    UniqueFd pidfd = open_pidfd(st.pid, st.pid_start);
    if (!pidfd) return {};
    std::string path = "/proc/" + std::to_string(st.pid) + "/root";
    UniqueFd root(::open(path.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC));
    if (!root || !signal_pidfd(pidfd.get(), 0)) return {};
    return root;
}

// A stopped container's mounts that cp reaches: binds (volumes are binds of
// their data) anywhere but the kernel's filesystems.
bool copy_reaches(const oci::Mount& m) {
    if (!m.bind) return false;
    for (const char* top : {"/proc", "/sys", "/dev"})
        if (path_is_under(m.destination, top)) return false;
    return true;
}

UniqueFd mount_stopped_root(const Store& store, const std::string& id, const oci::Spec& spec, bool with_mounts) {
    if (::unshare(CLONE_NEWNS) < 0) throw_errno("make a mount namespace for the copy");
    if (::mount(nullptr, "/", nullptr, MS_REC | MS_SLAVE, nullptr) < 0) throw_errno("make / a slave");
    fs::path at = store.paths().merged_dir(id);
    if (::mkdir(at.c_str(), 0700) < 0 && errno != EEXIST) throw_errno("create " + at.string());
    UniqueFd userns;
    if (!spec.uid_mappings.empty()) userns = make_userns(spec.uid_mappings, spec.gid_mappings);
    int userns_fd = userns ? userns.get() : -1;
    if (spec.overlay) {
        engine::mount_overlay(*spec.overlay, at.string(), userns_fd);
    } else if (::mount(spec.root.c_str(), at.c_str(), nullptr, MS_BIND | MS_REC, nullptr) < 0) {
        throw_errno("bind " + spec.root.string());
    }
    UniqueFd root(::open(at.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC));
    if (!root) throw_errno("open " + at.string());
    if (with_mounts)
        for (const auto& m : spec.mounts)
            // Not the files its shim writes under --root at each start
            // (/etc/hosts, ...): a stopped container shows its image's.
            if (copy_reaches(m) && !path_is_under(m.source, store.paths().root.string()))
                engine::mount_entry(root.get(), m, userns_fd, &spec);
    return root;
}

}  // namespace

ContainerRoot open_container_root(const Store& store, const std::string& id, bool with_mounts) {
    ContainerRoot r;
    ContainerView v = view_container(store, id);
    if (!v.load_error.empty()) throw Error(v.load_error);
    r.shown = v.config->name.empty() ? id.substr(0, 12) : v.config->name;
    r.workdir = v.config->workdir;
    r.uid = v.config->security.uid.value_or(0);
    r.gid = v.config->security.gid.value_or(0);
    auto text = read_file_if_exists(store.paths().oci_config_file(id));
    if (!text) throw Error("container " + r.shown + " has no config.json");
    oci::Spec spec = oci::parse_spec(*text, store.paths().container_dir(id));
    r.uid_map = spec.uid_mappings;
    r.gid_map = spec.gid_mappings;
    if (live(v.status) && v.state && (r.fd = running_root(*v.state))) {
        r.running = true;
        return r;
    }
    // Stopped (or it stopped just now): nothing may start it while its
    // root is mounted here.
    r.lock = store.lock(id);
    if (r.lock.stale()) throw Error("container " + r.shown + " was removed meanwhile");
    v = view_container(store, id);
    if (live(v.status) && v.state) {
        r.lock.release();
        if (!(r.fd = running_root(*v.state))) throw Error("container " + r.shown + " is starting or stopping; try again");
        r.running = true;
        return r;
    }
    r.fd = with_context("mount the filesystem of container " + r.shown,
                        [&] { return mount_stopped_root(store, id, spec, with_mounts); });
    return r;
}

}  // namespace minirt
