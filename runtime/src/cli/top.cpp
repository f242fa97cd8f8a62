// minirt top CONTAINER [DESCRIPTOR...]: podman's. The processes of a
// running container, read from /proc for each process of its cgroup, with
// the PIDs and users the container sees (its PID namespace, its own
// /etc/passwd and /etc/group through /proc/PID/root).
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <iostream>
#include <map>
#include <optional>
#include <sstream>

#include "cli/cli.hpp"
#include "common/error.hpp"
#include "common/file.hpp"
#include "common/go_template.hpp"
#include "common/parse.hpp"
#include "container/ops.hpp"
#include "linux/cgroup.hpp"

namespace minirt::cli {

namespace {

// podman's AIX-style descriptors and their headers.
const std::vector<std::pair<std::string, std::string>> kDescriptors{
    {"user", "USER"},   {"pid", "PID"},       {"ppid", "PPID"},       {"pcpu", "%CPU"},  {"%cpu", "%CPU"},
    {"etime", "ELAPSED"}, {"elapsed", "ELAPSED"}, {"tty", "TTY"},      {"time", "TIME"},  {"comm", "COMMAND"},
    {"args", "COMMAND"}, {"group", "GROUP"},  {"huser", "HUSER"},     {"hgroup", "HGROUP"}, {"hpid", "HPID"},
    {"nice", "NI"},     {"state", "STATE"},   {"rss", "RSS"},         {"vsz", "VSZ"}};

struct Process {
    int host_pid = 0;
    std::string status, stat, comm, cmdline;
    // /proc/PID/stat after the command's name: field 3 (state) onwards.
    std::vector<std::string> fields;
    std::string value(const std::string& key) const {
        std::istringstream in(status);
        std::string line;
        while (std::getline(in, line))
            if (line.starts_with(key + ":")) {
                auto v = line.substr(key.size() + 1);
                v.erase(0, v.find_first_not_of(" \t"));
                return v;
            }
        return "";
    }
    std::string field(size_t n) const { return n >= 3 && n - 3 < fields.size() ? fields[n - 3] : "0"; }
};

std::optional<Process> read_process(int pid) {
    std::string dir = "/proc/" + std::to_string(pid);
    Process p;
    p.host_pid = pid;
    auto status = read_file_if_exists(dir + "/status");
    auto stat = read_file_if_exists(dir + "/stat");
    if (!status || !stat) return std::nullopt;  // gone meanwhile
    p.status = *status;
    auto close = stat->rfind(')');
    if (close == std::string::npos) return std::nullopt;
    std::istringstream rest(stat->substr(close + 2));
    std::string w;
    while (rest >> w) p.fields.push_back(w);
    p.comm = read_file_if_exists(dir + "/comm").value_or("");
    while (!p.comm.empty() && p.comm.back() == '\n') p.comm.pop_back();
    p.cmdline = read_file_if_exists(dir + "/cmdline").value_or("");
    for (char& c : p.cmdline)
        if (c == '\0') c = ' ';
    while (!p.cmdline.empty() && p.cmdline.back() == ' ') p.cmdline.pop_back();
    if (p.cmdline.empty()) p.cmdline = "[" + p.comm + "]";
    return p;
}

// The last (innermost) of a status line's numbers: the container's PID.
std::string innermost(const std::string& list) {
    auto words_of = words(list);
    return words_of.empty() ? std::string() : std::string(words_of.back());
}

// A name for `id` from an /etc/passwd or /etc/group text, else the number.
std::string name_of(const std::optional<std::string>& file, const std::string& id) {
    auto entry = file ? colon_entry(*file, id, true) : std::nullopt;
    return entry ? (*entry)[0] : id;
}

// Go's time.Duration as podman prints ELAPSED and TIME: "1h2m3.5s", "0s".
std::string go_duration(double seconds) {
    if (seconds <= 0) return "0s";
    char small[64];
    if (seconds < 1) {
        std::snprintf(small, sizeof small, "%.6gms", seconds * 1000);
        return small;
    }
    auto whole = static_cast<long long>(seconds);
    long long h = whole / 3600, m = whole / 60 % 60;
    double s = seconds - static_cast<double>(h * 3600 + m * 60);
    char buf[64];
    std::string out;
    if (h) out += std::to_string(h) + "h";
    if (h || m) out += std::to_string(m) + "m";
    std::snprintf(buf, sizeof buf, "%.9g", s);
    return out + buf + "s";
}

std::string tty_name(const std::string& nr) {
    long n = std::strtol(nr.c_str(), nullptr, 10);
    if (n == 0) return "?";
    unsigned major = static_cast<unsigned>((n >> 8) & 0xfff), minor = static_cast<unsigned>((n & 0xff) | ((n >> 12) & 0xfff00));
    if (major >= 136 && major <= 143) return "pts/" + std::to_string((major - 136) * 256 + minor);
    return "tty" + std::to_string(minor);
}

}  // namespace

int cmd_top(Context& ctx, const Args& args) {
    const char* usage = "minirt top CONTAINER [DESCRIPTOR...]";
    po::options_description desc("Options");
    Parsed p = parse(desc, args, usage);
    require_positional(p, 1, SIZE_MAX, usage);
    std::vector<std::string> wanted(p.positional.begin() + 1, p.positional.end());
    // podman's default, and its comma-separated form ("pid,comm").
    if (wanted.empty()) wanted = {"user", "pid", "ppid", "pcpu", "etime", "tty", "time", "args"};
    std::vector<std::string> columns;
    for (const auto& w : wanted)
        for (auto part : split(w, ','))
            if (!part.empty()) columns.emplace_back(part);
    for (auto& c : columns) {
        if (c == "-eo" || c == "-o" || c == "-ef" || c.starts_with("-"))
            throw Error("invalid descriptor " + quote_for_message(c) + ": ps(1) options are not taken, only descriptors (" +
                        "pid, ppid, user, group, comm, args, etime, time, pcpu, tty, nice, state, rss, vsz, hpid, huser, hgroup)");
        bool known = false;
        for (const auto& [name, header] : kDescriptors) known = known || name == c;
        if (!known) throw Error("unknown descriptor " + quote_for_message(c) + " (see minirt top --help)");
    }
    ContainerView v = view_named(ctx, p.positional[0]);
    if (v.status != Status::Running && v.status != Status::Paused)
        throw Error("container " + quote_for_message(p.positional[0]) + " is not running");
    if (!v.state || v.state->cgroup.empty()) throw Error("top needs the container's cgroup v2 group");
    long hz = ::sysconf(_SC_CLK_TCK);
    double uptime = std::strtod(read_file_if_exists("/proc/uptime").value_or("0").c_str(), nullptr);
    std::string root = "/proc/" + std::to_string(v.state->pid) + "/root";
    auto passwd = read_file_if_exists(root + "/etc/passwd", 1 << 20);
    auto group = read_file_if_exists(root + "/etc/group", 1 << 20);
    auto host_passwd = read_file_if_exists("/etc/passwd", 1 << 20);
    auto host_group = read_file_if_exists("/etc/group", 1 << 20);

    // The container's processes: those of its group in its PID namespace
    // (an exec's bridge joins the group from outside, and is not one).
    auto pid_ns = [](int pid) {
        struct stat st{};
        return ::stat(("/proc/" + std::to_string(pid) + "/ns/pid").c_str(), &st) == 0 ? st.st_ino : ino_t{0};
    };
    ino_t own_ns = pid_ns(v.state->pid);
    std::vector<Process> procs;
    for (int pid : Cgroup(v.state->cgroup).pids())
        if (pid_ns(pid) == own_ns)
            if (auto pr = read_process(pid)) procs.push_back(std::move(*pr));
    std::map<int, std::string> container_pid;
    for (const auto& pr : procs) container_pid[pr.host_pid] = innermost(pr.value("NSpid"));

    std::string out;
    for (size_t i = 0; i < columns.size(); ++i) {
        for (const auto& [name, header] : kDescriptors)
            if (name == columns[i]) out += header;
        out += i + 1 < columns.size() ? "\t" : "\n";
    }
    for (const auto& pr : procs) {
        double start = std::strtod(pr.field(22).c_str(), nullptr) / static_cast<double>(hz);
        double cpu = (std::strtod(pr.field(14).c_str(), nullptr) + std::strtod(pr.field(15).c_str(), nullptr)) /
                     static_cast<double>(hz);
        double elapsed = uptime - start;
        // Real, effective, saved, filesystem: ps's USER is the effective one.
        std::string uid_line = pr.value("Uid"), gid_line = pr.value("Gid");
        auto uids = words(uid_line), gids = words(gid_line);
        std::string uid = uids.size() > 1 ? std::string(uids[1]) : "0";
        std::string gid = gids.size() > 1 ? std::string(gids[1]) : "0";
        for (size_t i = 0; i < columns.size(); ++i) {
            const std::string& c = columns[i];
            std::string cell;
            if (c == "user") cell = name_of(passwd, uid);
            else if (c == "group") cell = name_of(group, gid);
            else if (c == "huser") cell = name_of(host_passwd, uid);
            else if (c == "hgroup") cell = name_of(host_group, gid);
            else if (c == "pid") cell = container_pid[pr.host_pid];
            else if (c == "hpid") cell = std::to_string(pr.host_pid);
            else if (c == "ppid") {
                int ppid = static_cast<int>(std::strtol(pr.value("PPid").c_str(), nullptr, 10));
                // A parent outside the container (its shim) is 0, as the container sees it.
                cell = container_pid.count(ppid) ? container_pid[ppid] : "0";
            } else if (c == "pcpu" || c == "%cpu") {
                char buf[32];
                std::snprintf(buf, sizeof buf, "%.3f", elapsed > 0 ? 100.0 * cpu / elapsed : 0.0);
                cell = buf;
            } else if (c == "etime" || c == "elapsed") cell = go_duration(elapsed);
            else if (c == "time") cell = go_duration(cpu);
            else if (c == "tty") cell = tty_name(pr.field(7));
            else if (c == "comm") cell = pr.comm;
            else if (c == "args") cell = pr.cmdline;
            else if (c == "nice") cell = pr.field(19);
            else if (c == "state") cell = pr.field(3);
            else if (c == "rss") cell = std::to_string(std::strtoll(pr.field(24).c_str(), nullptr, 10) * (::getpagesize() / 1024));
            else if (c == "vsz") cell = std::to_string(std::strtoll(pr.field(23).c_str(), nullptr, 10) / 1024);
            out += cell;
            out += i + 1 < columns.size() ? "\t" : "\n";
        }
    }
    std::cout << align_tabs(out);
    return 0;
}

}  // namespace minirt::cli
