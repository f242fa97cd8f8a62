#include "linux/cgroup.hpp"

#include <sys/stat.h>
#include <linux/magic.h>
#include <sys/statfs.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <charconv>
#include <thread>

#include "common/error.hpp"
#include "common/parse.hpp"
#include "common/file.hpp"
#include "linux/process.hpp"
#include "linux/resources.hpp"

namespace minirt {

std::optional<fs::path> find_cgroup2_mount(const std::string& mountinfo) {
    for (std::string_view line : split(mountinfo, '\n')) {
        // Fields: id parent maj:min root mountpoint options [optional...] - fstype source super
        auto dash = line.find(" - ");
        if (dash == std::string_view::npos) continue;
        auto tail = words(line.substr(dash + 3));
        if (tail.empty() || tail[0] != "cgroup2") continue;
        auto head = words(line.substr(0, dash));
        if (head.size() < 5) continue;
        return fs::path(head[4]);
    }
    return std::nullopt;
}

std::optional<fs::path> find_cgroup2_mount() {
    // The usual places first (one statfs each), mountinfo only if neither
    // is cgroup2: it can be thousands of lines on a busy host.
    for (const char* candidate : {"/sys/fs/cgroup", "/sys/fs/cgroup/unified"}) {
        struct statfs sf{};
        if (::statfs(candidate, &sf) == 0 && sf.f_type == CGROUP2_SUPER_MAGIC) return fs::path(candidate);
    }
    auto text = read_file_if_exists("/proc/self/mountinfo");
    if (!text) return std::nullopt;
    return find_cgroup2_mount(*text);
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

std::string cgroup_parent_name() {
    const char* v = std::getenv("MINIRT_CGROUP_PARENT");
    std::string name = (v && *v) ? v : "minirt";
    // A path of plain names below the v2 root: never the root itself, never
    // outside it (cleanup.sh kills what it finds under every parent used).
    bool ok = name.front() != '/' && name.back() != '/' && name.find("//") == std::string::npos;
    for (const auto& part : fs::path(name))
        if (part.empty() || part == "." || part == "..") ok = false;
    if (!ok) throw Error("invalid MINIRT_CGROUP_PARENT " + quote_for_message(name) + ": a relative path of names, no . or ..");
    return name;
}

void check_controllers(const Resources& r, const std::vector<ControllerNeed>& more) {
    std::vector<ControllerNeed> needs;
    for (const auto& w : cgroup_writes(r)) needs.push_back({w.controller, w.flag});
    needs.insert(needs.end(), more.begin(), more.end());
    if (needs.empty()) return;
    auto mount = find_cgroup2_mount();
    if (!mount) throw Error(needs[0].what + " needs cgroup v2, and this host has no cgroup2 mount");
    std::string controllers = read_cgroup_file(*mount / "cgroup.controllers").value_or("");
    auto available = words(controllers);
    for (const auto& n : needs)
        if (!n.controller.empty() && std::find(available.begin(), available.end(), n.controller) == available.end())
            throw Error(n.what + " needs the cgroup v2 \"" + n.controller + "\" controller, which this host's v2 hierarchy (" +
                        mount->string() + ") does not have" +
                        (mount->string().ends_with("/unified") ? " (cgroups are in hybrid mode: boot with systemd.unified_cgroup_hierarchy=1)" : ""));
}

void enable_controllers(const fs::path& mount, const fs::path& leaf, const Resources& r) {
    std::vector<std::string> needed;
    for (const auto& w : cgroup_writes(r))
        if (std::find(needed.begin(), needed.end(), w.controller) == needed.end()) needed.push_back(w.controller);
    // Every controller the host offers is enabled, as crun does, so that each
    // container gets the same files (memory.current for stats, cpu.max, ...)
    // whether or not it has limits; only the ones a flag needs must succeed.
    std::string controllers = read_cgroup_file(mount / "cgroup.controllers").value_or("");
    auto available = words(controllers);
    fs::path dir = mount;
    for (const auto& part : leaf.lexically_relative(mount)) {
        std::string subtree = read_cgroup_file(dir / "cgroup.subtree_control").value_or("");
        auto enabled = words(subtree);
        for (std::string_view c : available) {
            if (std::find(enabled.begin(), enabled.end(), c) != enabled.end()) continue;
            bool required = std::find(needed.begin(), needed.end(), c) != needed.end();
            // EBUSY can come from a racing sibling doing the same: retry a little.
            for (int attempt = 0;; ++attempt) {
                try {
                    write_control_file(dir / "cgroup.subtree_control", "+" + std::string(c));
                    break;
                } catch (const Error& e) {
                    if (e.errno_value() == EBUSY && attempt < 20) {
                        std::this_thread::sleep_for(std::chrono::milliseconds(5));
                        continue;
                    }
                    if (required) throw e.wrap("enable the " + std::string(c) + " controller");
                    break;
                }
            }
        }
        dir /= part;
    }
}

void apply_resources(const fs::path& group, const Resources& r) {
    // --nice is the container's priority against other work: where the
    // group can be weighted (the cpu controller), its weight follows the
    // nice value as a task's does (cpu.weight.nice); elsewhere the init's
    // autogroup carries it (container_init). Never a reason to refuse.
    if (r.nice && !r.cpu_weight && ::access((group / "cpu.weight.nice").c_str(), W_OK) == 0) {
        try {
            write_control_file(group / "cpu.weight.nice", std::to_string(*r.nice));
        } catch (const Error& e) {
            throw e.wrap("--nice");
        }
    }
    for (const auto& w : cgroup_writes(r)) {
        try {
            write_control_file(group / w.file, w.value);
        } catch (const Error& e) {
            throw e.wrap(w.flag);
        }
    }
}

std::optional<Cgroup> container_cgroup(const std::string& id) {
    auto mount = find_cgroup2_mount();
    if (!mount) return std::nullopt;
    return Cgroup(*mount / cgroup_parent_name() / id);
}


bool Cgroup::exists() const { return ::access(path_.c_str(), F_OK) == 0; }

void Cgroup::create(const Resources& r) {
    auto mount = find_cgroup2_mount();
    for (int attempt = 0;; ++attempt) {
        try {
            std::error_code ec;
            fs::create_directories(path_.parent_path(), ec);
            if (mount) enable_controllers(*mount, path_, r);
            if (::mkdir(path_.c_str(), 0755) == 0) return;
            throw_errno("create cgroup " + path_.string());
        } catch (const Error& e) {
            // ENOENT: a concurrent remove() just took away the empty parent.
            if (e.errno_value() != ENOENT || attempt >= 5) throw;
        }
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
    for (std::string_view w : words(*text)) {
        int pid = 0;
        if (std::from_chars(w.data(), w.data() + w.size(), pid).ec != std::errc()) break;
        out.push_back(pid);
    }
    return out;
}

void Cgroup::teardown(bool remove_empty_parent) {
    if (!exists()) return;
    if (populated()) kill_all();
    for (int attempt = 0;; ++attempt) {
        if (::rmdir(path_.c_str()) == 0 || errno == ENOENT) break;
        // EBUSY while the last processes are still exiting.
        if (errno != EBUSY || attempt >= 200) throw_errno("remove cgroup " + path_.string());
        if (attempt == 20) kill_all();
        std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    // Leave no empty minirt parent behind; EBUSY/ENOTEMPTY means others use it.
    if (remove_empty_parent) ::rmdir(path_.parent_path().c_str());
}

std::optional<uint64_t> Cgroup::read_key(const std::string& file, const std::string& key) const {
    auto text = read_cgroup_file(path_ / file);
    if (!text) return std::nullopt;
    // Lines of "key value".
    auto w = words(*text);
    for (size_t i = 0; i + 1 < w.size(); i += 2) {
        uint64_t v = 0;
        if (std::from_chars(w[i + 1].data(), w[i + 1].data() + w[i + 1].size(), v).ec != std::errc()) break;
        if (w[i] == key) return v;
    }
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
