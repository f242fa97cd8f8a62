#include "linux/cgroup.hpp"

#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <sstream>
#include <thread>

#include "common/error.hpp"
#include "common/file.hpp"
#include "linux/process.hpp"

namespace minirt {

std::optional<fs::path> find_cgroup2_mount(const std::string& mountinfo) {
    std::istringstream in(mountinfo);
    std::string line;
    while (std::getline(in, line)) {
        // Fields: id parent maj:min root mountpoint options [optional...] - fstype source super
        auto dash = line.find(" - ");
        if (dash == std::string::npos) continue;
        std::istringstream tail(line.substr(dash + 3));
        std::string fstype;
        tail >> fstype;
        if (fstype != "cgroup2") continue;
        std::istringstream head(line.substr(0, dash));
        std::string id, parent, dev, root, mountpoint;
        head >> id >> parent >> dev >> root >> mountpoint;
        return fs::path(mountpoint);
    }
    return std::nullopt;
}

std::optional<fs::path> find_cgroup2_mount() {
    auto text = read_file_if_exists("/proc/self/mountinfo");
    if (!text) return std::nullopt;
    return find_cgroup2_mount(*text);
}

std::string cgroup_parent_name() {
    const char* v = std::getenv("MINIRT_CGROUP_PARENT");
    std::string name = (v && *v) ? v : "minirt";
    if (name.find("..") != std::string::npos || name.front() == '/')
        throw Error("invalid MINIRT_CGROUP_PARENT \"" + name + "\"");
    return name;
}

std::optional<Cgroup> container_cgroup(const std::string& id) {
    auto mount = find_cgroup2_mount();
    if (!mount) return std::nullopt;
    return Cgroup(*mount / cgroup_parent_name() / id);
}

namespace {
// A group can vanish between our look and our read (ENOENT, ENODEV): for a
// reader that only means "no value".
std::optional<std::string> read_cgroup_file(const fs::path& path) {
    try {
        return read_file_if_exists(path);
    } catch (const Error&) {
        return std::nullopt;
    }
}
}  // namespace

bool Cgroup::exists() const { return ::access(path_.c_str(), F_OK) == 0; }

void Cgroup::create() {
    for (int attempt = 0;; ++attempt) {
        std::error_code ec;
        fs::create_directories(path_.parent_path(), ec);
        if (::mkdir(path_.c_str(), 0755) == 0) return;
        // ENOENT: a concurrent remove() just took away the empty parent.
        if (errno == ENOENT && attempt < 5) continue;
        throw_errno("create cgroup " + path_.string());
    }
}

void Cgroup::add_process(int pid) {
    write_control_file(path_ / "cgroup.procs", std::to_string(pid));
}

bool Cgroup::kill_all() {
    if (::access((path_ / "cgroup.kill").c_str(), W_OK) != 0) return false;
    write_control_file(path_ / "cgroup.kill", "1");
    return true;
}

void Cgroup::set_frozen(bool frozen) {
    write_control_file(path_ / "cgroup.freeze", frozen ? "1" : "0");
}

bool Cgroup::frozen() const { return read_number("cgroup.freeze").value_or(0) == 1; }

bool Cgroup::wait_frozen(bool frozen, int timeout_ms) const {
    int64_t deadline = monotonic_ms() + timeout_ms;
    for (;;) {
        auto v = read_key("cgroup.events", "frozen");
        if (v && (*v == 1) == frozen) return true;
        if (monotonic_ms() >= deadline) return false;
        std::this_thread::sleep_for(std::chrono::milliseconds(2));
    }
}

bool Cgroup::populated() const { return read_key("cgroup.events", "populated").value_or(0) == 1; }

std::vector<int> Cgroup::pids() const {
    std::vector<int> out;
    auto text = read_cgroup_file(path_ / "cgroup.procs");
    if (!text) return out;
    std::istringstream in(*text);
    int pid;
    while (in >> pid) out.push_back(pid);
    return out;
}

void Cgroup::remove() {
    if (!exists()) return;
    for (int attempt = 0;; ++attempt) {
        if (::rmdir(path_.c_str()) == 0 || errno == ENOENT) break;
        // EBUSY while the last processes are still exiting.
        if (errno != EBUSY || attempt >= 200) throw_errno("remove cgroup " + path_.string());
        if (attempt == 20) kill_all();
        std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    // Leave no empty minirt parent behind; EBUSY/ENOTEMPTY means others use it.
    ::rmdir(path_.parent_path().c_str());
}

std::optional<uint64_t> Cgroup::read_key(const std::string& file, const std::string& key) const {
    auto text = read_cgroup_file(path_ / file);
    if (!text) return std::nullopt;
    std::istringstream in(*text);
    std::string k;
    uint64_t v;
    while (in >> k >> v)
        if (k == key) return v;
    return std::nullopt;
}

std::optional<uint64_t> Cgroup::read_number(const std::string& file) const {
    auto text = read_cgroup_file(path_ / file);
    if (!text) return std::nullopt;
    if (text->starts_with("max")) return UINT64_MAX;
    try {
        return std::stoull(*text);
    } catch (...) {
        return std::nullopt;
    }
}

}  // namespace minirt
