#include "common/file.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <system_error>

#include "common/error.hpp"

namespace minirt {

Pipe make_pipe(int flags) {
    int fds[2];
    if (::pipe2(fds, flags | O_CLOEXEC) < 0) throw_errno("pipe2");
    return Pipe{UniqueFd(fds[0]), UniqueFd(fds[1])};
}

std::optional<std::string> read_file_at(int dirfd, const char* rel, const fs::path& shown, size_t max_bytes) {
    UniqueFd fd(::openat(dirfd, rel, O_RDONLY | O_CLOEXEC));
    if (!fd) {
        if (errno == ENOENT) return std::nullopt;
        throw_errno("open " + shown.string());
    }
    // Read straight into the result: state files are a few KiB, one read.
    std::string out(4096, '\0');
    size_t len = 0;
    for (;;) {
        if (len == out.size()) {
            if (len > max_bytes)
                throw Error(EFBIG, "read " + shown.string() + ": larger than " + std::to_string(max_bytes) + " bytes");
            // One byte over the limit tells a file that exceeds it.
            out.resize(std::min(out.size() * 2, std::max(max_bytes, max_bytes + 1)));
        }
        ssize_t n = ::read(fd.get(), out.data() + len, out.size() - len);
        if (n < 0) {
            if (errno == EINTR) continue;
            throw_errno("read " + shown.string());
        }
        if (n == 0) break;
        len += static_cast<size_t>(n);
    }
    if (len > max_bytes)
        throw Error(EFBIG, "read " + shown.string() + ": larger than " + std::to_string(max_bytes) + " bytes");
    out.resize(len);
    return out;
}

std::optional<std::string> read_file_if_exists(const fs::path& path, size_t max_bytes) {
    return read_file_at(AT_FDCWD, path.c_str(), path, max_bytes);
}

std::string read_file(const fs::path& path, size_t max_bytes) {
    auto data = read_file_if_exists(path, max_bytes);
    if (!data) throw Error(ENOENT, "open " + path.string());
    return std::move(*data);
}

bool write_all_nothrow(int fd, std::string_view data) noexcept {
    while (!data.empty()) {
        ssize_t n = ::write(fd, data.data(), data.size());
        if (n < 0) {
            if (errno == EINTR) continue;
            return false;
        }
        data.remove_prefix(static_cast<size_t>(n));
    }
    return true;
}

std::string read_line(int fd) {
    std::string line;
    char c;
    for (;;) {
        ssize_t n = ::read(fd, &c, 1);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0 || c == '\n') return line;
        line += c;
    }
}

void write_all(int fd, std::string_view data) {
    if (!write_all_nothrow(fd, data)) throw_errno("write");
}

void write_file_atomic(const fs::path& path, std::string_view data, mode_t mode, bool durable) {
    // The temp name carries our pid so concurrent writers never share one.
    fs::path tmp = path;
    tmp += ".tmp." + std::to_string(::getpid());
    {
        UniqueFd fd(::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode));
        if (!fd) throw_errno("create " + tmp.string());
        if (!write_all_nothrow(fd.get(), data) || (durable && ::fsync(fd.get()) < 0)) {
            int err = errno;
            ::unlink(tmp.c_str());
            throw Error(err, "write " + tmp.string());
        }
    }
    if (::rename(tmp.c_str(), path.c_str()) < 0) {
        int err = errno;
        ::unlink(tmp.c_str());
        throw Error(err, "rename " + tmp.string() + " to " + path.string());
    }
    if (!durable) return;
    // Make the rename itself durable.
    UniqueFd dir(::open(path.parent_path().c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    if (dir) ::fsync(dir.get());
}

void write_new_file(const fs::path& path, std::string_view data, mode_t mode) {
    UniqueFd fd(::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode));
    if (!fd) throw_errno("create " + path.string());
    if (!write_all_nothrow(fd.get(), data)) throw_errno("write " + path.string());
}

void make_durable(const fs::path& file) noexcept {
    for (const fs::path& p : {file, file.parent_path(), file.parent_path().parent_path()}) {
        UniqueFd fd(::open(p.c_str(), O_RDONLY | O_CLOEXEC));
        if (fd) ::fsync(fd.get());
    }
}

void write_control_file(const fs::path& path, std::string_view value) {
    UniqueFd fd(::open(path.c_str(), O_WRONLY | O_CLOEXEC));
    if (!fd) throw_errno("open " + path.string());
    ssize_t n;
    do {
        n = ::write(fd.get(), value.data(), value.size());
    } while (n < 0 && errno == EINTR);
    if (n < 0) throw_errno("write \"" + std::string(value) + "\" to " + path.string());
}

void make_dirs(const fs::path& path, mode_t mode) {
    std::error_code ec;
    fs::create_directories(path, ec);
    if (ec) throw Error(ec.value(), "create directory " + path.string());
    ::chmod(path.c_str(), mode);
}

void remove_tree(const fs::path& path) {
    // Another process may be deleting entries of the same tree (a removal
    // and a garbage collection): ENOENT anywhere just means "already gone".
    std::error_code ec;
    for (int attempt = 0; attempt < 3; ++attempt) {
        fs::remove_all(path, ec);
        if (!ec || !fs::exists(path)) return;
        if (ec.value() != ENOENT) break;
    }
    if (ec && ec.value() != ENOENT) throw Error(ec.value(), "remove " + path.string());
}

}  // namespace minirt
