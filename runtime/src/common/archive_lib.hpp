// libarchive, loaded when a command first needs it rather than linked: it
// drags in a dozen libraries (libxml2, ICU, the compressors) that every
// other command would otherwise map and relocate at its start.
#pragma once

#include <archive.h>
#include <archive_entry.h>

#include <memory>
#include <string>

namespace minirt {

#define MINIRT_ARCHIVE_FUNCTIONS(X)               \
    X(archive_entry_copy_stat)                    \
    X(archive_entry_filetype)                     \
    X(archive_entry_free)                         \
    X(archive_entry_hardlink)                     \
    X(archive_entry_new)                          \
    X(archive_entry_pathname)                     \
    X(archive_entry_perm)                         \
    X(archive_entry_set_hardlink)                 \
    X(archive_entry_set_pathname)                 \
    X(archive_entry_set_perm)                     \
    X(archive_entry_set_size)                     \
    X(archive_entry_set_symlink)                  \
    X(archive_entry_size)                         \
    X(archive_entry_stat)                         \
    X(archive_entry_symlink)                      \
    X(archive_entry_xattr_add_entry)              \
    X(archive_entry_xattr_clear)                  \
    X(archive_entry_xattr_next)                   \
    X(archive_entry_xattr_reset)                  \
    X(archive_errno)                              \
    X(archive_error_string)                       \
    X(archive_read_data)                          \
    X(archive_read_data_block)                    \
    X(archive_read_disk_descend)                  \
    X(archive_read_disk_new)                      \
    X(archive_read_disk_open)                     \
    X(archive_read_disk_set_standard_lookup)      \
    X(archive_read_disk_set_symlink_physical)     \
    X(archive_read_free)                          \
    X(archive_read_new)                           \
    X(archive_read_next_header)                   \
    X(archive_read_open)                          \
    X(archive_read_open_fd)                       \
    X(archive_read_open_filename)                 \
    X(archive_read_support_filter_all)            \
    X(archive_read_support_filter_bzip2)          \
    X(archive_read_support_filter_gzip)           \
    X(archive_read_support_filter_xz)             \
    X(archive_read_support_filter_zstd)           \
    X(archive_read_support_format_all)            \
    X(archive_read_support_format_raw)            \
    X(archive_read_support_format_tar)            \
    X(archive_write_close)                        \
    X(archive_write_data)                         \
    X(archive_write_data_block)                   \
    X(archive_write_disk_new)                     \
    X(archive_write_disk_set_options)             \
    X(archive_write_disk_set_standard_lookup)     \
    X(archive_write_finish_entry)                 \
    X(archive_write_free)                         \
    X(archive_write_header)                       \
    X(archive_write_new)                          \
    X(archive_write_open_fd)                      \
    X(archive_write_set_bytes_in_last_block)      \
    X(archive_write_set_format_pax_restricted)

struct ArchiveLib {
#define MINIRT_ARCHIVE_POINTER(name) decltype(&::name) name = nullptr;
    MINIRT_ARCHIVE_FUNCTIONS(MINIRT_ARCHIVE_POINTER)
#undef MINIRT_ARCHIVE_POINTER
};

// Loads libarchive on first use; Error naming the Debian package if it is
// missing.
const ArchiveLib& archive_lib();

using ArchivePtr = std::unique_ptr<archive, int (*)(archive*)>;

// libarchive's message for the last failure on `a`, with errno's words
// where its own do not say why.
std::string archive_error(archive* a);

// libarchive's disk writer works relative to the cwd: this moves there
// (the directory `dir`) for its lifetime, and back.
class WorkingDirectory {
public:
    explicit WorkingDirectory(int dir);
    ~WorkingDirectory();
    WorkingDirectory(const WorkingDirectory&) = delete;
    WorkingDirectory& operator=(const WorkingDirectory&) = delete;

private:
    int old_ = -1;
};

}  // namespace minirt
