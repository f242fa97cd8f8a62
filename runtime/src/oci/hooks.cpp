#include "oci/hooks.hpp"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstring>

#include "common/error.hpp"
#include "common/fd.hpp"
#include "common/file.hpp"
#include "linux/process.hpp"

namespace minirt::oci {

namespace {

constexpr size_t kStderrKept = 4096;

[[noreturn]] void exec_hook(const Hook& hook, int stdin_r, int stderr_w) noexcept {
    ::dup2(stdin_r, 0);
    int devnull = ::open("/dev/null", O_WRONLY);
    ::dup2(devnull, 1);
    ::dup2(stderr_w, 2);
    ::close_range(3, ~0U, 0);
    sigset_t none;
    sigemptyset(&none);
    ::sigprocmask(SIG_SETMASK, &none, nullptr);
    std::vector<std::string> args = hook.args.empty() ? std::vector<std::string>{hook.path} : hook.args;
    std::vector<char*> argv = exec_vector(args), envp = exec_vector(hook.env);
    // A hook that names no environment gets the runtime's (runc's too:
    // PATH, and what the engine set).
    ::execve(hook.path.c_str(), argv.data(), hook.env.empty() ? environ : envp.data());
    std::string msg = "exec " + hook.path + ": " + std::strerror(errno);
    write_all_nothrow(2, msg);
    _exit(127);
}

void run_hook(const Hook& hook, const std::string& stage, const std::string& state) {
    Pipe in = make_pipe(O_CLOEXEC), err = make_pipe(O_CLOEXEC | O_NONBLOCK);
    pid_t pid = ::fork();
    if (pid < 0) throw_errno(stage + " hook " + hook.path + ": fork");
    if (pid == 0) exec_hook(hook, in.read.get(), err.write.get());
    in.read.reset();
    err.write.reset();
    // The state is small (well under a pipe's buffer); a hook that does
    // not read it must not block us.
    ::signal(SIGPIPE, SIG_IGN);
    write_all_nothrow(in.write.get(), state);
    in.write.reset();
    UniqueFd pidfd = child_pidfd(pid);
    int64_t deadline = hook.timeout ? monotonic_ms() + int64_t{*hook.timeout} * 1000 : -1;
    std::string errors;
    bool exited = false, timed_out = false;
    while (!exited) {
        int wait_ms = deadline < 0 ? -1 : static_cast<int>(std::max<int64_t>(0, deadline - monotonic_ms()));
        pollfd fds[2] = {{pidfd.get(), POLLIN, 0}, {err.read.get(), POLLIN, 0}};
        int n = ::poll(fds, 2, wait_ms);
        if (n < 0 && errno != EINTR) throw_errno("wait for " + stage + " hook " + hook.path);
        if (n == 0) {
            timed_out = true;
            ::kill(pid, SIGKILL);
            break;
        }
        if (fds[1].revents & (POLLIN | POLLHUP)) {
            char buf[1024];
            ssize_t r = ::read(err.read.get(), buf, sizeof buf);
            if (r > 0 && errors.size() < kStderrKept) errors.append(buf, static_cast<size_t>(r));
        }
        if (fds[0].revents & POLLIN) exited = true;
    }
    char buf[1024];
    ssize_t r;
    while (errors.size() < kStderrKept && (r = ::read(err.read.get(), buf, sizeof buf)) > 0)
        errors.append(buf, static_cast<size_t>(r));
    int status = 0;
    while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
    while (!errors.empty() && (errors.back() == '\n' || errors.back() == ' ')) errors.pop_back();
    // One line, as every error: the hook's lines joined, nothing that
    // would move the terminal's cursor.
    for (char& c : errors)
        if (c == '\n') c = ';';
        else if (static_cast<unsigned char>(c) < 0x20 && c != '\t') c = ' ';
    std::string what = stage + " hook " + hook.path;
    if (timed_out) throw Error(what + " did not finish within " + std::to_string(*hook.timeout) + " s (killed)");
    if (WIFSIGNALED(status)) throw Error(what + " was killed by signal " + std::to_string(WTERMSIG(status)));
    if (WEXITSTATUS(status) != 0)
        throw Error(what + " failed with exit code " + std::to_string(WEXITSTATUS(status)) +
                    (errors.empty() ? "" : ": " + errors));
}

}  // namespace

void run_hooks(const std::vector<Hook>& hooks, const std::string& stage, const std::string& state_json) {
    for (const auto& h : hooks) run_hook(h, stage, state_json);
}

}  // namespace minirt::oci
