#include "linux/skopeo.hpp"

#include <fcntl.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <regex>

#include "common/diagnostics.hpp"
#include "common/error.hpp"
#include "common/fd.hpp"
#include "common/file.hpp"
#include "linux/process.hpp"

extern char** environ;

namespace minirt {

namespace {

constexpr const char* kConfigDir = "/etc/minirt";

// /etc/minirt/registries.conf, or MINIRT_REGISTRIES_CONF (a test's own).
fs::path registries_conf() {
    if (const char* e = std::getenv("MINIRT_REGISTRIES_CONF"); e && *e) return e;
    return fs::path(kConfigDir) / "registries.conf";
}

std::string find_skopeo() {
    for (const char* dir : {"/usr/bin", "/usr/local/bin", "/bin"}) {
        std::string s = std::string(dir) + "/skopeo";
        if (::access(s.c_str(), X_OK) == 0) return s;
    }
    throw Error("skopeo is not installed (apt-get install skopeo): images move in and out through it");
}

std::string policy_file() {
    fs::path p = fs::path(kConfigDir) / "policy.json";
    if (::access(p.c_str(), F_OK) < 0) {
        make_dirs(kConfigDir, 0755);
        // podman's default (Debian's /etc/containers/policy.json): signatures
        // are not required. An administrator tightens it here.
        write_file_atomic(p, "{\n  \"default\": [{\"type\": \"insecureAcceptAnything\"}]\n}\n", 0644);
    }
    return p.string();
}

// The last non-empty line skopeo wrote, its "time=... level=fatal msg=" gone.
std::string last_words(const std::string& out) {
    std::string line;
    size_t end = out.find_last_not_of("\n ");
    if (end == std::string::npos) return "failed without a word";
    size_t start = out.rfind('\n', end);
    line = out.substr(start == std::string::npos ? 0 : start + 1, end - (start == std::string::npos ? 0 : start + 1) + 1);
    if (auto m = line.find("msg=\""); m != std::string::npos) {
        line.erase(0, m + 5);
        if (!line.empty() && line.back() == '"') line.pop_back();
        for (size_t q; (q = line.find("\\\"")) != std::string::npos;) line.erase(q, 1);  // its \" quoting
    }
    return line;
}

}  // namespace

void skopeo_copy(const std::string& src, const std::string& dest, const SkopeoOptions& o) {
    std::vector<std::string> args{find_skopeo(), "--policy", policy_file(), "copy"};
    if (!o.progress) args.push_back("--quiet");
    if (!o.tls_verify) {
        if (src.starts_with("docker://")) args.push_back("--src-tls-verify=false");
        if (dest.starts_with("docker://")) args.push_back("--dest-tls-verify=false");
    }
    for (const auto& t : o.additional_tags) args.push_back("--additional-tag=" + t);
    args.push_back(src);
    args.push_back(dest);
    log_program(args);
    std::vector<char*> argv = exec_vector(args);
    std::vector<std::string> env_strings;
    for (char** e = environ; *e; ++e) env_strings.emplace_back(*e);
    fs::path registries = registries_conf();
    if (::access(registries.c_str(), R_OK) == 0) env_strings.push_back("CONTAINERS_REGISTRIES_CONF=" + registries.string());
    std::vector<char*> envp = exec_vector(env_strings);
    Pipe err = make_pipe(O_CLOEXEC);
    SpawnSetup setup;
    UniqueFd devnull(::open("/dev/null", O_RDWR | O_CLOEXEC));
    ::posix_spawn_file_actions_adddup2(setup.actions(), devnull.get(), 0);
    if (!o.progress) ::posix_spawn_file_actions_adddup2(setup.actions(), err.write.get(), 1);
    else ::posix_spawn_file_actions_adddup2(setup.actions(), 2, 1);
    ::posix_spawn_file_actions_adddup2(setup.actions(), err.write.get(), 2);
    pid_t pid;
    int rc = ::posix_spawn(&pid, argv[0], setup.actions(), setup.attr(), argv.data(), envp.data());
    if (rc != 0) throw Error(rc, std::string("exec ") + argv[0]);
    err.write.reset();
    std::string out;
    char buf[4096];
    for (;;) {
        ssize_t n = ::read(err.read.get(), buf, sizeof buf);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) break;
        out.append(buf, static_cast<size_t>(n));
        if (out.size() > (1 << 20)) out.erase(0, out.size() - (1 << 16));
    }
    int status = 0;
    while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) throw Error("skopeo copy " + src + ": " + last_words(out));
}

std::vector<std::string> search_registries() {
    auto text = read_file_if_exists(registries_conf(), 1 << 20);
    std::vector<std::string> out;
    if (text) {
        std::smatch m;
        std::regex line(R"(unqualified-search-registries\s*=\s*\[([^\]]*)\])");
        if (std::regex_search(*text, m, line)) {
            std::string list = m[1];
            std::regex item(R"re("([^"]+)")re");
            for (auto it = std::sregex_iterator(list.begin(), list.end(), item); it != std::sregex_iterator(); ++it)
                out.push_back((*it)[1]);
            return out;
        }
    }
    return {"docker.io"};
}

}  // namespace minirt
