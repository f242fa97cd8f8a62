#include "linux/netavark.hpp"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>

#include <nlohmann/json.hpp>

#include "common/diagnostics.hpp"
#include "common/error.hpp"
#include "common/file.hpp"
#include "linux/process.hpp"

extern char** environ;

namespace minirt {

namespace {

constexpr size_t kOutputKept = 1 << 20;
constexpr int kTimeoutMs = 60000;

// podman's helper_binaries_dir, in its order.
constexpr const char* kHelperDirs[] = {"/usr/local/libexec/podman", "/usr/local/lib/podman", "/usr/libexec/podman",
                                       "/usr/lib/podman"};

// Reads what is there without blocking, up to the cap.
void drain(int fd, std::string& into) {
    char buf[4096];
    ssize_t r;
    while ((r = ::read(fd, buf, sizeof buf)) > 0)
        if (into.size() < kOutputKept) into.append(buf, static_cast<size_t>(r));
}

// netavark reports a failure as {"error": "..."} (on stdout or stderr), and
// logs lines on stderr; the message is the error, else the last line.
std::string failure_message(const std::string& out, const std::string& err) {
    for (const std::string* text : {&out, &err}) {
        auto j = nlohmann::json::parse(*text, nullptr, false);
        if (j.is_object() && j.contains("error") && j["error"].is_string()) return j["error"].get<std::string>();
    }
    std::string all = err.empty() ? out : err;
    while (!all.empty() && (all.back() == '\n' || all.back() == ' ')) all.pop_back();
    auto nl = all.rfind('\n');
    return nl == std::string::npos ? all : all.substr(nl + 1);
}

}  // namespace

NetavarkBinaries find_netavark() {
    for (const char* dir : kHelperDirs) {
        std::string n = std::string(dir) + "/netavark";
        if (::access(n.c_str(), X_OK) == 0) return {n, std::string(dir) + "/aardvark-dns"};
    }
    throw Error("netavark is not installed (apt-get install netavark aardvark-dns): a bridge network needs it; "
                "--network none or host does not");
}

NetavarkRun NetavarkRun::start(const std::string& verb, const fs::path& netns, const std::string& input,
                               const fs::path& config_dir) {
    NetavarkRun run = start_unfed(verb, netns, config_dir);
    run.feed(input);
    return run;
}

void NetavarkRun::feed(const std::string& input) {
    // Far below a pipe's buffer (made bigger for a big one): never waits
    // for netavark.
    if (input.size() > 60000 && ::fcntl(in_.get(), F_SETPIPE_SZ, static_cast<int>(input.size() + 4096)) < 0)
        throw_errno("make room for netavark's description (" + std::to_string(input.size()) + " bytes)");
    write_all(in_.get(), input);
    in_.reset();
    in_read_.reset();
}

NetavarkRun NetavarkRun::start_unfed(const std::string& verb, const fs::path& netns, const fs::path& config_dir) {
    NetavarkBinaries bin = find_netavark();
    make_dirs(config_dir, 0700);
    Pipe in = make_pipe(O_CLOEXEC), out = make_pipe(O_CLOEXEC), err = make_pipe(O_CLOEXEC);
    std::vector<std::string> args{bin.netavark, "--config", config_dir.string(), "--rootless", "false",
                                  "--aardvark-binary", bin.aardvark, verb, netns.string()};
    log_program(args);
    std::vector<char*> argv = exec_vector(args);
    SpawnSetup setup;
    posix_spawn_file_actions_t* fa = setup.actions();
    posix_spawnattr_t* attr = setup.attr();
    ::posix_spawn_file_actions_adddup2(fa, in.read.get(), 0);
    ::posix_spawn_file_actions_adddup2(fa, out.write.get(), 1);
    ::posix_spawn_file_actions_adddup2(fa, err.write.get(), 2);
    // Nothing else of ours: aardvark-dns, which netavark may start, lives on
    // and would hold it (a shim's report pipe, a container's lock).
    ::posix_spawn_file_actions_addclosefrom_np(fa, 3);
    // A shim blocks and ignores signals of its own; aardvark-dns must not
    // inherit that (netavark tells it of changes with SIGHUP).
    sigset_t none, all;
    sigemptyset(&none);
    sigfillset(&all);
    ::posix_spawnattr_setsigmask(attr, &none);
    ::posix_spawnattr_setsigdefault(attr, &all);
    // Nor the caller's terminal or directory (a CLI's: a Ctrl-C meant for
    // the container must not stop a setup halfway, and aardvark-dns must
    // not keep the user's directory busy).
    ::posix_spawnattr_setflags(attr, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSID);
    ::posix_spawn_file_actions_addchdir_np(fa, "/");
    NetavarkRun run;
    int rc = ::posix_spawn(&run.pid_, bin.netavark.c_str(), fa, attr, argv.data(), environ);
    if (rc != 0) throw Error(rc, "exec " + bin.netavark);
    run.in_ = std::move(in.write);
    run.in_read_ = std::move(in.read);
    run.out_ = std::move(out.read);
    run.err_ = std::move(err.read);
    run.verb_ = verb;
    return run;
}

NetavarkRun::~NetavarkRun() {
    in_.reset();  // never fed: it reads EOF and gives up
    in_read_.reset();
    if (pid_ > 0) {
        // Not waited for (an error elsewhere): let it finish, and reap it.
        int status;
        while (::waitpid(pid_, &status, 0) < 0 && errno == EINTR) {
        }
    }
}

std::string NetavarkRun::wait() {
    in_.reset();
    in_read_.reset();
    // aardvark-dns, which setup may start, could hold copies of the pipes
    // (it does not today): read until netavark itself is gone, not to EOF.
    std::string out, err;
    ::fcntl(out_.get(), F_SETFL, O_NONBLOCK);
    ::fcntl(err_.get(), F_SETFL, O_NONBLOCK);
    UniqueFd pidfd = child_pidfd(pid_);
    bool exited = false, timed_out = false;
    int64_t deadline = monotonic_ms() + kTimeoutMs;
    while (!exited) {
        pollfd fds[3] = {{out_.get(), POLLIN, 0}, {err_.get(), POLLIN, 0}, {pidfd.get(), POLLIN, 0}};
        int left = static_cast<int>(std::max<int64_t>(0, deadline - monotonic_ms()));
        int n = ::poll(fds, pidfd ? 3 : 2, left);
        if (n < 0 && errno != EINTR) throw_errno("wait for netavark " + verb_);
        if (n == 0) {
            ::kill(pid_, SIGKILL);
            timed_out = true;
            break;
        }
        drain(out_.get(), out);
        drain(err_.get(), err);
        if (fds[2].revents & POLLIN) exited = true;
        if (!pidfd && (fds[0].revents & POLLHUP) && (fds[1].revents & POLLHUP)) exited = true;
    }
    drain(out_.get(), out);
    drain(err_.get(), err);
    int status = 0;
    while (::waitpid(pid_, &status, 0) < 0 && errno == EINTR) {
    }
    pid_ = -1;
    out_.reset();
    err_.reset();
    if (timed_out) throw Error("netavark " + verb_ + " did not finish within a minute (killed)");
    if (WIFSIGNALED(status))
        throw Error("netavark " + verb_ + " was killed by signal " + std::to_string(WTERMSIG(status)));
    if (WEXITSTATUS(status) != 0) throw Error("netavark " + verb_ + ": " + failure_message(out, err));
    return out;
}

}  // namespace minirt
