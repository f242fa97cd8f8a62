#include "linux/copy_tree.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <string>
#include <vector>

#include "common/error.hpp"
#include "common/fd.hpp"

namespace minirt {

namespace {

void copy_bytes(int from, int to, off_t size, const std::string& what) {
    off_t done = 0;
    while (done < size) {
        ssize_t n = ::copy_file_range(from, nullptr, to, nullptr, static_cast<size_t>(size - done), 0);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0 && (errno == EXDEV || errno == EINVAL || errno == EOPNOTSUPP || errno == ENOSYS)) break;
        if (n < 0) throw_errno("copy " + what);
        if (n == 0) return;  // the file shrank meanwhile
        done += n;
    }
    // Where copy_file_range cannot (across some filesystems): plain reads.
    char buf[65536];
    for (;;) {
        ssize_t n = ::read(from, buf, sizeof buf);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) throw_errno("read " + what);
        if (n == 0) return;
        for (ssize_t off = 0; off < n;) {
            ssize_t w = ::write(to, buf + off, static_cast<size_t>(n - off));
            if (w < 0 && errno == EINTR) continue;
            if (w < 0) throw_errno("write " + what);
            off += w;
        }
    }
}

// Owner first: a chown clears the setuid and setgid bits the mode restores.
void set_owner_mode_times(int fd, const struct stat& st, const std::string& what) {
    if (::fchown(fd, st.st_uid, st.st_gid) < 0) throw_errno("chown " + what);
    if (::fchmod(fd, st.st_mode & 07777) < 0) throw_errno("chmod " + what);
    const timespec times[2] = {st.st_atim, st.st_mtim};
    if (::futimens(fd, times) < 0) throw_errno("set the times of " + what);
}

void copy_entry(int src_dir, int dst_dir, const char* name, const std::string& what);

void copy_dir_contents(int src_dir, int dst_dir, const std::string& what) {
    UniqueFd listing(::openat(src_dir, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    if (!listing) throw_errno("open " + what);
    DIR* d = ::fdopendir(listing.get());
    if (!d) throw_errno("list " + what);
    (void)listing.release();
    std::vector<std::string> names;
    while (dirent* e = ::readdir(d)) {
        std::string n = e->d_name;
        if (n != "." && n != "..") names.push_back(n);
    }
    ::closedir(d);
    for (const auto& n : names) copy_entry(src_dir, dst_dir, n.c_str(), what + "/" + n);
}

void copy_entry(int src_dir, int dst_dir, const char* name, const std::string& what) {
    struct stat st {};
    if (::fstatat(src_dir, name, &st, AT_SYMLINK_NOFOLLOW) < 0) throw_errno("stat " + what);
    if (S_ISDIR(st.st_mode)) {
        UniqueFd from(::openat(src_dir, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
        if (!from) throw_errno("open " + what);
        if (::mkdirat(dst_dir, name, 0700) < 0) throw_errno("create " + what);
        UniqueFd to(::openat(dst_dir, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
        if (!to) throw_errno("open the copy of " + what);
        copy_dir_contents(from.get(), to.get(), what);
        set_owner_mode_times(to.get(), st, what);
    } else if (S_ISREG(st.st_mode)) {
        UniqueFd from(::openat(src_dir, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC));
        if (!from) throw_errno("open " + what);
        UniqueFd to(::openat(dst_dir, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600));
        if (!to) throw_errno("create " + what);
        copy_bytes(from.get(), to.get(), st.st_size, what);
        set_owner_mode_times(to.get(), st, what);
    } else if (S_ISLNK(st.st_mode)) {
        std::string target(static_cast<size_t>(st.st_size) + 1, '\0');
        ssize_t n = ::readlinkat(src_dir, name, target.data(), target.size());
        if (n < 0) throw_errno("read link " + what);
        target.resize(static_cast<size_t>(n));
        if (::symlinkat(target.c_str(), dst_dir, name) < 0) throw_errno("create link " + what);
        if (::fchownat(dst_dir, name, st.st_uid, st.st_gid, AT_SYMLINK_NOFOLLOW) < 0) throw_errno("chown " + what);
        const timespec times[2] = {st.st_atim, st.st_mtim};
        ::utimensat(dst_dir, name, times, AT_SYMLINK_NOFOLLOW);
    } else if (S_ISFIFO(st.st_mode)) {
        if (::mknodat(dst_dir, name, S_IFIFO | 0600, 0) < 0) throw_errno("create " + what);
        if (::fchownat(dst_dir, name, st.st_uid, st.st_gid, AT_SYMLINK_NOFOLLOW) < 0) throw_errno("chown " + what);
        if (::fchmodat(dst_dir, name, st.st_mode & 07777, 0) < 0) throw_errno("chmod " + what);
    }
    // Device nodes and sockets: skipped.
}

}  // namespace

void copy_tree(int src_dir, int dst_dir) { copy_dir_contents(src_dir, dst_dir, "."); }

}  // namespace minirt
