// minirt logs: the container's stdout and stderr from its log, in order,
// also after it exited; -f follows until the container is gone.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <deque>
#include <iostream>
#include <thread>

#include "cli/cli.hpp"
#include "common/file.hpp"
#include "common/parse.hpp"
#include "container/ops.hpp"
#include "state/log.hpp"

namespace minirt::cli {

namespace {

struct LogFilter {
    int64_t since = 0, until = INT64_MAX;
    bool timestamps = false;
};

void emit(const LogRecord& r, const LogFilter& f) {
    if (r.time_ns < f.since || r.time_ns > f.until) return;
    std::ostream& os = r.stream == "stderr" ? std::cerr : std::cout;
    if (f.timestamps) os << format_rfc3339(r.time_ns) << " ";
    os << r.text;
}

// Follows `path` from `offset`, across rotations, until the container stops.
void follow(const Store& store, const std::string& id, const fs::path& path, off_t offset, const LogFilter& f) {
    UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
    if (fd) ::lseek(fd.get(), offset, SEEK_SET);
    std::string pending;
    PartialLines carry;
    auto drain = [&] {
        char buf[65536];
        ssize_t n;
        while (fd && (n = ::read(fd.get(), buf, sizeof buf)) > 0) pending.append(buf, static_cast<size_t>(n));
        std::vector<LogRecord> recs;
        auto last_nl = pending.rfind('\n');
        if (last_nl == std::string::npos) return;
        parse_log(std::string_view(pending).substr(0, last_nl + 1), recs, carry);
        pending.erase(0, last_nl + 1);
        for (const auto& r : recs) emit(r, f);
        std::cout.flush();
        std::cerr.flush();
    };
    for (;;) {
        drain();
        struct stat now{}, held{};
        bool rotated = ::stat(path.c_str(), &now) == 0 && (!fd || (::fstat(fd.get(), &held) == 0 && held.st_ino != now.st_ino));
        if (rotated) {
            drain();
            fd.reset(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
            continue;
        }
        ContainerView v = view_container(store, id);
        bool live = v.status == Status::Running || v.status == Status::Paused || v.status == Status::Stopping ||
                    (v.status == Status::Created && v.shim_alive);
        if (!live || !store.exists(id)) {
            drain();  // whatever the shim wrote last
            for (const auto& r : take_partials(carry)) emit(r, f);  // unterminated last lines
            return;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
}

}  // namespace

int cmd_logs(Context& ctx, const Args& args) {
    const char* usage = "minirt logs [-f] [--tail N] [--timestamps] [--since T] [--until T] NAME";
    po::options_description desc("Options");
    desc.add_options()
        ("follow,f", "keep printing new output until the container exits")
        ("tail,n", po::value<std::string>(), "only the last N lines")
        ("timestamps,t", "prefix each line with its time (RFC 3339)")
        ("since", po::value<std::string>(), "only lines at or after T (RFC 3339, Unix seconds, or 10m ago)")
        ("until", po::value<std::string>(), "only lines at or before T");
    Parsed p = parse(desc, args, usage);
    require_positional(p, 1, 1, usage);
    std::string id = ctx.store.resolve(p.positional[0]);
    LogFilter f;
    f.timestamps = p.vm.count("timestamps") > 0;
    if (p.vm.count("since")) f.since = parse_time_spec(p.vm["since"].as<std::string>(), "--since");
    if (p.vm.count("until")) f.until = parse_time_spec(p.vm["until"].as<std::string>(), "--until");
    std::optional<size_t> tail;
    if (p.vm.count("tail")) tail = static_cast<size_t>(parse_int(p.vm["tail"].as<std::string>(), "--tail", 0, INT32_MAX));

    fs::path path = ctx.store.paths().log_file(id);
    fs::path rotated = path;
    rotated += ".1";
    std::vector<LogRecord> recs;
    PartialLines carry;
    if (auto old = read_file_if_exists(rotated, SIZE_MAX)) parse_log(*old, recs, carry);
    std::string current = read_file_if_exists(path, SIZE_MAX).value_or("");
    // Only whole records; a half-written last line is picked up by follow.
    size_t complete = current.rfind('\n');
    complete = complete == std::string::npos ? 0 : complete + 1;
    parse_log(std::string_view(current).substr(0, complete), recs, carry);
    // Output that never ended its line is shown as it is, unless following
    // (then its end may still come).
    if (!p.vm.count("follow"))
        for (auto& r : take_partials(carry)) recs.push_back(std::move(r));
    size_t first = tail && *tail < recs.size() ? recs.size() - *tail : 0;
    for (size_t i = first; i < recs.size(); ++i) emit(recs[i], f);
    std::cout.flush();
    if (p.vm.count("follow")) follow(ctx.store, id, path, static_cast<off_t>(complete), f);
    return 0;
}

}  // namespace minirt::cli
