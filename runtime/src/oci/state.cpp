#include "oci/state.hpp"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/error.hpp"
#include "common/json_number.hpp"
#include "common/file.hpp"
#include "linux/cgroup.hpp"
#include "linux/process.hpp"
#include "linux/rootfs.hpp"
#include "oci/spec.hpp"

namespace minirt::oci {

using nlohmann::json;

StateDir::StateDir(fs::path root, std::string id) : root_(std::move(root)), id_(std::move(id)), dir_(root_ / id_) {}

bool StateDir::exists() const { return ::access(dir_.c_str(), F_OK) == 0; }

void StateDir::create() const {
    make_dirs(root_, 0700);
    if (::mkdir(dir_.c_str(), 0700) < 0) {
        if (errno == EEXIST) throw Error("container \"" + id_ + "\" already exists");
        throw_errno("create " + dir_.string());
    }
}

UniqueFd StateDir::lock() const {
    UniqueFd fd(::open(dir_.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    if (!fd) {
        if (errno == ENOENT) throw Error("container \"" + id_ + "\" does not exist");
        throw_errno("open " + dir_.string());
    }
    while (::flock(fd.get(), LOCK_EX) < 0)
        if (errno != EINTR) throw_errno("lock " + dir_.string());
    return fd;
}

bool StateDir::busy() const {
    UniqueFd fd(::open(dir_.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    if (!fd) return false;
    // Released when fd closes; only a holder elsewhere makes it fail.
    return ::flock(fd.get(), LOCK_SH | LOCK_NB) < 0 && errno == EWOULDBLOCK;
}

State StateDir::load() const {
    auto text = read_file_if_exists(state_file());
    if (!text) throw Error("container \"" + id_ + "\" does not exist");
    try {
        json j = json::parse(*text);
        State s;
        s.id = j.at("id").get<std::string>();
        s.pid = json_integer<pid_t>(j.at("pid"), "pid");
        s.pid_start = json_integer<uint64_t>(j.at("pid_start"), "pid_start");
        s.bundle = j.at("bundle").get<std::string>();
        s.rootfs = j.at("rootfs").get<std::string>();
        s.created = j.at("created").get<std::string>();
        s.cgroup = j.at("cgroup").get<std::string>();
        s.owns_cgroup = j.value("owns_cgroup", true);
        s.default_cgroup = j.value("default_cgroup", false);
        if (j.contains("mounts_before")) s.mounts_before = j.at("mounts_before").get<std::vector<int>>();
        s.annotations = j.value("annotations", json::object());
        return s;
    } catch (const json::exception& e) {
        throw Error("state of container \"" + id_ + "\" is damaged (" + state_file().string() + "): " + e.what());
    }
}

void StateDir::save(const State& s) const {
    json j{{"id", s.id},
           {"pid", s.pid},
           {"pid_start", s.pid_start},
           {"bundle", s.bundle.string()},
           {"rootfs", s.rootfs.string()},
           {"created", s.created},
           {"cgroup", s.cgroup.string()},
           {"owns_cgroup", s.owns_cgroup},
           {"default_cgroup", s.default_cgroup},
           {"annotations", s.annotations}};
    if (s.mounts_before) j["mounts_before"] = *s.mounts_before;
    // /run is gone after a reboot anyway: no fsync on this path.
    write_file_atomic(state_file(), j.dump(2) + "\n", 0600, false);
}

void StateDir::remove() const { remove_tree(dir_); }

Status live_status(const StateDir& dir, const State& s) {
    if (s.pid <= 0 || !process_alive(s.pid, s.pid_start)) return Status::Exited;
    if (::access(dir.fifo().c_str(), F_OK) == 0) return Status::Created;
    if (!s.cgroup.empty() && Cgroup(s.cgroup).frozen()) return Status::Paused;
    return Status::Running;
}

void unmount_container_mounts(const State& s) {
    if (!s.mounts_before) return;
    std::vector<MountPoint> made;
    for (auto& m : mounts_below(fs::weakly_canonical(s.rootfs).string()))
        if (std::find(s.mounts_before->begin(), s.mounts_before->end(), m.id) == s.mounts_before->end())
            made.push_back(std::move(m));
    unmount(made);
}

json state_json(const State& s, Status status) {
    json j{{"ociVersion", kOciVersion},
           {"id", s.id},
           {"status", oci_status_name(status)},
           {"pid", status == Status::Exited ? 0 : s.pid},
           {"bundle", s.bundle.string()},
           {"rootfs", s.rootfs.string()},
           {"created", s.created},
           {"owner", ""}};
    if (!s.annotations.empty()) j["annotations"] = s.annotations;
    return j;
}

}  // namespace minirt::oci
