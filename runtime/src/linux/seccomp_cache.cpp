#include "linux/seccomp_cache.hpp"

#include <fcntl.h>
#include <seccomp.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <cstdio>
#include <cstring>
#include <nlohmann/json.hpp>
#include <optional>
#include <system_error>

#include "common/error.hpp"
#include "common/fd.hpp"
#include "common/file.hpp"

namespace minirt {

namespace {

// FNV-1a: the file name, and a checksum that a torn or damaged entry fails.
// Not a defence against a forger: only root can write the directory.
uint64_t fnv1a(std::string_view bytes, uint64_t h = 0xcbf29ce484222325ULL) {
    for (char c : bytes) {
        h ^= static_cast<unsigned char>(c);
        h *= 0x100000001b3ULL;
    }
    return h;
}

std::string hex64(uint64_t v) {
    char buf[17];
    std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(v));
    return buf;
}

// Everything the compiled program depends on.
std::string cache_key(const nlohmann::json& profile, CapMask caps) {
    const scmp_version* v = seccomp_version();
    struct utsname u {};
    ::uname(&u);
    std::string key = "minirt seccomp cache 1\nlibseccomp ";
    key += std::to_string(v->major) + "." + std::to_string(v->minor) + "." + std::to_string(v->micro);
    key += "\nkernel ";
    key += u.release;
    key += ' ';
    key += u.machine;
    key += "\ncaps " + hex64(caps) + "\n";
    key += profile.dump();
    return key;
}

// An entry: the key, a NUL, the program, and the checksum of all before it.
std::string encode_entry(const std::string& key, const SeccompProgram& program) {
    std::string bytes = key;
    bytes.push_back('\0');
    bytes.append(reinterpret_cast<const char*>(program.data()), program.size() * sizeof(sock_filter));
    uint64_t sum = fnv1a(bytes);
    bytes.append(reinterpret_cast<const char*>(&sum), sizeof sum);
    return bytes;
}

std::optional<SeccompProgram> decode_entry(const std::string& bytes, const std::string& key) {
    size_t head = key.size() + 1;
    if (bytes.size() < head + sizeof(sock_filter) + sizeof(uint64_t)) return std::nullopt;
    size_t body = bytes.size() - head - sizeof(uint64_t);
    if (body % sizeof(sock_filter) != 0 || body / sizeof(sock_filter) > BPF_MAXINSNS) return std::nullopt;
    if (bytes.compare(0, key.size(), key) != 0 || bytes[key.size()] != '\0') return std::nullopt;
    uint64_t sum = 0;
    std::memcpy(&sum, bytes.data() + head + body, sizeof sum);
    if (sum != fnv1a(std::string_view(bytes).substr(0, head + body))) return std::nullopt;
    SeccompProgram program(body / sizeof(sock_filter));
    std::memcpy(program.data(), bytes.data() + head, body);
    return program;
}

// The entry's bytes if it is a plain file of ours that nobody else could
// have written, and not larger than an entry for `key` can be.
std::optional<std::string> read_entry(const fs::path& path, size_t max_bytes) {
    UniqueFd fd(::open(path.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC));
    if (!fd) return std::nullopt;
    struct stat st {};
    if (::fstat(fd.get(), &st) < 0 || !S_ISREG(st.st_mode) || st.st_uid != ::geteuid() || (st.st_mode & 022) != 0 ||
        static_cast<size_t>(st.st_size) > max_bytes)
        return std::nullopt;
    std::string bytes(static_cast<size_t>(st.st_size), '\0');
    size_t done = 0;
    while (done < bytes.size()) {
        ssize_t n = ::pread(fd.get(), bytes.data() + done, bytes.size() - done, static_cast<off_t>(done));
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) return std::nullopt;
        done += static_cast<size_t>(n);
    }
    return bytes;
}

// Best effort: a cache that cannot be written only costs the next compile.
void store_entry(const fs::path& dir, const fs::path& path, const std::string& bytes) noexcept {
    try {
        if (::mkdir(dir.c_str(), 0700) < 0 && errno != EEXIST) return;
        struct stat st {};
        if (::lstat(dir.c_str(), &st) < 0 || !S_ISDIR(st.st_mode) || st.st_uid != ::geteuid()) return;
        std::error_code ec;
        size_t entries = 0;
        for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) ++entries;
        if (entries >= SeccompCache::kMaxEntries)
            for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) ::unlink(it->path().c_str());
        write_file_atomic(path, bytes, 0600, false);
    } catch (...) {
    }
}

}  // namespace

SeccompCache::SeccompCache(fs::path dir) : dir_(std::move(dir)) {}

SeccompProgram SeccompCache::program(const nlohmann::json& profile, CapMask caps) const {
    if (dir_.empty()) return compile_seccomp(seccomp_filter_from_profile(profile, caps));
    std::string key = cache_key(profile, caps);
    fs::path path = dir_ / (hex64(fnv1a(key)) + ".bpf");
    size_t max_bytes = key.size() + 1 + BPF_MAXINSNS * sizeof(sock_filter) + sizeof(uint64_t);
    if (auto bytes = read_entry(path, max_bytes))
        if (auto program = decode_entry(*bytes, key)) return *program;
    SeccompProgram program = compile_seccomp(seccomp_filter_from_profile(profile, caps));
    store_entry(dir_, path, encode_entry(key, program));
    return program;
}

}  // namespace minirt
