// Small file helpers. Every write of a state file is atomic: temp file,
// fsync, rename, so readers never see a torn file.
#pragma once

#include <filesystem>
#include <optional>
#include <string>
#include <string_view>

#include "common/fd.hpp"

namespace minirt {

namespace fs = std::filesystem;

// Reads a whole file; throws Error naming the path. Files larger than
// max_bytes are refused (a state file is never that big; a huge one is damage).
std::string read_file(const fs::path& path, size_t max_bytes = 16 << 20);
// Like read_file but returns nullopt when the file does not exist.
std::optional<std::string> read_file_if_exists(const fs::path& path,
                                               size_t max_bytes = 16 << 20);
// Same, for `rel` opened relative to the directory fd `dirfd` (no path walk
// from / for each of many files in one directory); errors name `shown`.
std::optional<std::string> read_file_at(int dirfd, const char* rel, const fs::path& shown,
                                        size_t max_bytes = 16 << 20);

// Writes `data` to `path` atomically (temp + rename): readers see the old or
// the new file, never a torn one. `durable` adds fsync of the file and its
// directory, for what must survive a crash or reboot (config, images); the
// runtime state under /run is lost on reboot anyway and skips it.
void write_file_atomic(const fs::path& path, std::string_view data, mode_t mode = 0644, bool durable = true);

// A file that must not exist yet, in a directory nobody else sees (one
// built under a temporary name and renamed into place whole): no temp
// file and rename of its own, as write_file_atomic needs.
void write_new_file(const fs::path& path, std::string_view data, mode_t mode);
// fsyncs a file written with durable=false, and its directory (so its
// rename is durable too). Best effort: errors are ignored.
void make_durable(const fs::path& file) noexcept;

// One line from a pipe or socket, without its newline; empty at EOF.
// Byte by byte, so nothing after the newline is consumed.
std::string read_line(int fd);
// Writes all of `data` to fd, retrying on EINTR and short writes.
void write_all(int fd, std::string_view data);
// Same, but returns false instead of throwing (for use after fork).
bool write_all_nothrow(int fd, std::string_view data) noexcept;

// Writes a value to a kernel control file (cgroup, /proc) with one write(2),
// so the errno the kernel gives (EBUSY, EINVAL, ...) reaches the caller.
void write_control_file(const fs::path& path, std::string_view value);

// mkdir -p with mode; throws Error naming the path.
void make_dirs(const fs::path& path, mode_t mode = 0755);

// Removes a tree without following symlinks; ignores a missing path.
void remove_tree(const fs::path& path);

}  // namespace minirt
