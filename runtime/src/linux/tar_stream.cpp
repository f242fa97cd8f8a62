#include "linux/tar_stream.hpp"

#include <vector>

#include "common/archive_lib.hpp"
#include "common/error.hpp"
#include "common/parse.hpp"

namespace minirt {

std::optional<std::string> clean_archive_path(const std::string& name) {
    std::string out;
    for (std::string_view part : split(name, '/')) {
        if (part.empty() || part == ".") continue;
        if (part == "..") return std::nullopt;
        if (!out.empty()) out += '/';
        out += part;
    }
    return out;
}

struct TarSink::Impl {
    ArchivePtr a{nullptr, nullptr};
    std::string prefix;
    std::vector<char> buf = std::vector<char>(256 * 1024);

    std::string name_of(const std::string& path) const {
        if (prefix.empty()) return path;
        return path.empty() ? prefix : prefix + "/" + path;
    }

    void check(int r, const std::string& what) {
        if (r < ARCHIVE_WARN) throw Error("write " + what + " to the archive: " + archive_error(a.get()));
    }
};

TarSink::TarSink(int fd, std::string prefix) : impl_(new Impl) {
    const ArchiveLib& l = archive_lib();
    impl_->a = ArchivePtr(l.archive_write_new(), l.archive_write_free);
    impl_->prefix = std::move(prefix);
    impl_->check(l.archive_write_set_format_pax_restricted(impl_->a.get()), "the format");
    // A pipe reader wants the stream's end, not padding to 10 KiB.
    l.archive_write_set_bytes_in_last_block(impl_->a.get(), 1);
    impl_->check(l.archive_write_open_fd(impl_->a.get(), fd), "the stream");
}

TarSink::~TarSink() = default;

void TarSink::put(const TreeEntry& e) {
    const ArchiveLib& l = archive_lib();
    std::string name = impl_->name_of(e.path);
    if (name.empty()) return;
    std::string shown = quote_for_message(name);
    std::unique_ptr<archive_entry, void (*)(archive_entry*)> entry(l.archive_entry_new(), l.archive_entry_free);
    l.archive_entry_copy_stat(entry.get(), &e.st);
    l.archive_entry_set_pathname(entry.get(), name.c_str());
    bool has_data = S_ISREG(e.st.st_mode) && e.hardlink.empty();
    if (!has_data) l.archive_entry_set_size(entry.get(), 0);
    if (S_ISLNK(e.st.st_mode)) l.archive_entry_set_symlink(entry.get(), e.symlink.c_str());
    if (!e.hardlink.empty()) l.archive_entry_set_hardlink(entry.get(), impl_->name_of(e.hardlink).c_str());
    impl_->check(l.archive_write_header(impl_->a.get(), entry.get()), shown);
    if (!has_data || !e.content) return;
    // Exactly the size the header says: a file that grew is cut there, one
    // that shrank is padded (by libarchive) with zeros.
    auto left = static_cast<size_t>(e.st.st_size);
    while (left > 0) {
        size_t n = with_context("read " + shown, [&] { return e.content->read(impl_->buf.data(), std::min(left, impl_->buf.size())); });
        if (n == 0) break;
        la_ssize_t w = l.archive_write_data(impl_->a.get(), impl_->buf.data(), n);
        if (w < 0) throw Error("write " + shown + " to the archive: " + archive_error(impl_->a.get()));
        left -= n;
    }
}

void TarSink::finish() { impl_->check(archive_lib().archive_write_close(impl_->a.get()), "the end"); }

namespace {

class ArchiveContent : public Content {
public:
    ArchiveContent(archive* a, const std::string& what) : a_(a), what_(what) {}
    size_t read(char* buf, size_t size) override {
        la_ssize_t n = archive_lib().archive_read_data(a_, buf, size);
        if (n < 0) throw Error(what_ + ": " + archive_error(a_));
        return static_cast<size_t>(n);
    }

private:
    archive* a_;
    const std::string& what_;
};

}  // namespace

void read_tar(int fd, TreeSink& sink, const std::string& what) {
    const ArchiveLib& l = archive_lib();
    ArchivePtr a(l.archive_read_new(), l.archive_read_free);
    l.archive_read_support_filter_all(a.get());
    l.archive_read_support_format_all(a.get());
    if (l.archive_read_open_fd(a.get(), fd, 256 * 1024) != ARCHIVE_OK)
        throw Error("read " + what + ": " + archive_error(a.get()));
    for (;;) {
        archive_entry* entry = nullptr;
        int r = l.archive_read_next_header(a.get(), &entry);
        if (r == ARCHIVE_EOF) break;
        if (r < ARCHIVE_WARN) throw Error("read " + what + ": " + archive_error(a.get()));
        std::string raw = l.archive_entry_pathname(entry) ? l.archive_entry_pathname(entry) : "";
        auto path = clean_archive_path(raw);
        if (!path) throw Error(what + ": refusing the entry " + quote_for_message(raw) + ", whose path has \"..\"");
        if (path->empty()) continue;  // "." or "/": the destination itself
        TreeEntry e;
        e.path = *path;
        e.st = *l.archive_entry_stat(entry);
        if (const char* hard = l.archive_entry_hardlink(entry)) {
            auto target = clean_archive_path(hard);
            if (!target || target->empty())
                throw Error(what + ": refusing the hard link " + quote_for_message(raw) + " to " + quote_for_message(hard));
            e.hardlink = *target;
        }
        mode_t type = e.st.st_mode & S_IFMT;
        if (e.hardlink.empty() && type != S_IFREG && type != S_IFDIR && type != S_IFLNK && type != S_IFIFO &&
            type != S_IFCHR && type != S_IFBLK)
            throw Error(what + ": " + quote_for_message(raw) + " is of a type a copy cannot make");
        if (type == S_IFLNK) e.symlink = l.archive_entry_symlink(entry) ? l.archive_entry_symlink(entry) : "";
        std::string where = what + ": " + quote_for_message(e.path);
        ArchiveContent content(a.get(), where);
        if (type == S_IFREG && e.hardlink.empty()) e.content = &content;
        sink.put(e);
    }
}

}  // namespace minirt
