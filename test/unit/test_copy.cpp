// copy_tree's sources and sinks, tar streams, and diff's layer comparison.
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <fstream>
#include <string>

#include "common/error.hpp"
#include "common/fd.hpp"
#include "common/file.hpp"
#include "container/diff.hpp"
#include "linux/copy_tree.hpp"
#include "linux/rootfs.hpp"
#include "linux/tar_stream.hpp"
#include "linux/userns.hpp"
#include "temp_dir.hpp"

using namespace minirt;
namespace fs = std::filesystem;

namespace {

void write(const fs::path& p, const std::string& text) { std::ofstream(p) << text; }

std::string slurp(const fs::path& p) {
    auto t = read_file_if_exists(p);
    return t ? *t : "<missing>";
}

UniqueFd open_dir(const fs::path& p) { return UniqueFd(::open(p.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC)); }

struct stat lstat_of(const fs::path& p) {
    struct stat st {};
    REQUIRE(::lstat(p.c_str(), &st) == 0);
    return st;
}

// A small tree: a file with odd mode and owner, a setuid file, a hard link,
// a symlink, a FIFO, a nested directory.
void make_tree(const fs::path& d) {
    fs::create_directories(d / "sub/deeper");
    write(d / "f", "file");
    REQUIRE(::chown((d / "f").c_str(), 12, 34) == 0);
    REQUIRE(::chmod((d / "f").c_str(), 0640) == 0);
    write(d / "suid", "s");
    REQUIRE(::chmod((d / "suid").c_str(), 04755) == 0);
    REQUIRE(::link((d / "f").c_str(), (d / "sub/hard").c_str()) == 0);
    fs::create_symlink("/etc/passwd", d / "link");
    REQUIRE(::mkfifo((d / "fifo").c_str(), 0600) == 0);
    write(d / "sub/deeper/x", "deep");
    REQUIRE(::chmod((d / "sub").c_str(), 0555) == 0);  // read-only: the copy must still fill it
}

void check_tree(const fs::path& d) {
    CHECK(slurp(d / "f") == "file");
    struct stat f = lstat_of(d / "f");
    CHECK((f.st_mode & 07777) == 0640);
    CHECK(f.st_uid == 12);
    CHECK(f.st_gid == 34);
    CHECK((lstat_of(d / "suid").st_mode & 07777) == 04755);
    CHECK(lstat_of(d / "sub/hard").st_ino == f.st_ino);
    CHECK(fs::read_symlink(d / "link") == "/etc/passwd");
    CHECK(S_ISFIFO(lstat_of(d / "fifo").st_mode));
    CHECK(slurp(d / "sub/deeper/x") == "deep");
    CHECK((lstat_of(d / "sub").st_mode & 07777) == 0555);
}

Owners no_chown() {
    Owners o;
    o.mode = Owners::Mode::none;
    return o;
}

}  // namespace

TEST_CASE("copy_tree keeps modes, owners, links and FIFOs") {
    TempDir t("copy");
    make_tree(t.dir / "src");
    fs::create_directory(t.dir / "dst");
    copy_tree(open_dir(t.dir / "src").get(), open_dir(t.dir / "dst").get());
    check_tree(t.dir / "dst");
}

TEST_CASE("copy_tree maps owners through a container's mapping") {
    TempDir t("copy");
    make_tree(t.dir / "src");
    fs::create_directory(t.dir / "dst");
    Owners o;
    o.uid_map = {{0, 100000, 65536}};
    o.gid_map = {{0, 200000, 65536}};
    copy_tree(open_dir(t.dir / "src").get(), open_dir(t.dir / "dst").get(), o);
    CHECK(lstat_of(t.dir / "dst/f").st_uid == 100012);
    CHECK(lstat_of(t.dir / "dst/f").st_gid == 200034);
}

TEST_CASE("a host DirSink never writes through a symlink below its base") {
    TempDir t("copy");
    fs::create_directories(t.dir / "dst");
    fs::create_directories(t.dir / "elsewhere");
    fs::create_directory_symlink(t.dir / "elsewhere", t.dir / "dst/l");
    UniqueFd dst = open_dir(t.dir / "dst");
    DirSink sink(dst.get(), "", false, no_chown());
    TreeEntry e;
    e.path = "l/x";
    e.st.st_mode = S_IFDIR | 0755;
    CHECK_THROWS_AS(sink.put(e), Error);
    CHECK_FALSE(fs::exists(t.dir / "elsewhere/x"));
}

TEST_CASE("a container DirSink resolves links inside its root") {
    TempDir t("copy");
    fs::create_directories(t.dir / "root/etc");
    fs::create_directory_symlink("/etc", t.dir / "root/etclink");
    UniqueFd root = open_dir(t.dir / "root");
    DirSink sink(root.get(), "etclink", true, no_chown());
    TreeEntry e;
    e.path = "new";
    e.st.st_mode = S_IFDIR | 0700;
    sink.put(e);
    sink.finish();
    CHECK(fs::is_directory(t.dir / "root/etc/new"));
}

TEST_CASE("a replaced entry: files replace files, never directories") {
    TempDir t("copy");
    fs::create_directories(t.dir / "dst/d");
    write(t.dir / "dst/f", "old");
    UniqueFd dst = open_dir(t.dir / "dst");
    DirSink sink(dst.get(), "", false, no_chown());
    TreeEntry dir;
    dir.path = "f";
    dir.st.st_mode = S_IFDIR | 0755;
    CHECK_THROWS_WITH(sink.put(dir), Catch::Matchers::Contains("with a directory"));
    TreeEntry link;
    link.path = "d";
    link.st.st_mode = S_IFLNK | 0777;
    link.symlink = "x";
    CHECK_THROWS_WITH(sink.put(link), Catch::Matchers::Contains("with a non-directory"));
    link.path = "f";
    sink.put(link);
    CHECK(fs::is_symlink(t.dir / "dst/f"));
}

TEST_CASE("a tar stream round trip keeps the tree") {
    TempDir t("copy");
    make_tree(t.dir / "src");
    {
        UniqueFd out(::open((t.dir / "a.tar").c_str(), O_WRONLY | O_CREAT | O_CLOEXEC, 0600));
        TarSink sink(out.get(), "top");
        walk_tree(open_dir(t.dir).get(), "src", sink, WalkOptions{});
        sink.finish();
    }
    fs::create_directory(t.dir / "dst");
    UniqueFd in(::open((t.dir / "a.tar").c_str(), O_RDONLY | O_CLOEXEC));
    UniqueFd dst = open_dir(t.dir / "dst");
    DirSink sink(dst.get(), "", false, Owners{});
    read_tar(in.get(), sink, "a.tar");
    sink.finish();
    check_tree(t.dir / "dst/top");
}

TEST_CASE("archive paths lose leading slashes and dots, and never climb") {
    CHECK(clean_archive_path("/a/./b//c") == "a/b/c");
    CHECK(clean_archive_path("./") == "");
    CHECK(clean_archive_path("a/../b") == std::nullopt);
    CHECK(clean_archive_path("..") == std::nullopt);
    CHECK(split_parent("a/b/c") == std::pair<std::string, std::string>{"a/b", "c"});
    CHECK(split_parent("c") == std::pair<std::string, std::string>{"", "c"});
}

TEST_CASE("ids through a mapping, and the overflow id outside it") {
    std::vector<IdMapping> m{{0, 100000, 1000}, {1000, 5000, 10}};
    CHECK(host_id_of(m, 0) == 100000);
    CHECK(host_id_of(m, 1005) == 5005);
    CHECK(host_id_of(m, 2000) == kOverflowId);
    CHECK(container_id_of(m, 100999) == 999);
    CHECK(container_id_of(m, 5009) == 1009);
    CHECK(container_id_of(m, 0) == kOverflowId);
    CHECK(host_id_of({}, 42) == 42);
    // Left out of a mapping that has 65534: the container's own overflow id.
    std::vector<IdMapping> full{{0, 100000, 65536}};
    CHECK(host_id_of(full, 70000) == 100000 + kOverflowId);
}

TEST_CASE("layer_changes: added, changed, whiteouts") {
    TempDir t("diff");
    fs::create_directories(t.dir / "lower/etc");
    fs::create_directories(t.dir / "lower/bin");
    write(t.dir / "lower/etc/passwd", "root");
    write(t.dir / "lower/bin/ls", "ls");
    fs::create_directories(t.dir / "upper/etc");
    fs::create_directories(t.dir / "upper/bin");
    fs::create_directories(t.dir / "upper/new/dir");
    write(t.dir / "upper/etc/passwd", "changed");
    REQUIRE(::mknod((t.dir / "upper/bin/ls").c_str(), S_IFCHR | 0600, makedev(0, 0)) == 0);
    auto changes = layer_changes((t.dir / "upper").string(), (t.dir / "lower").string());
    std::string text;
    for (const auto& c : changes) text += std::string(1, c.kind) + " " + c.path + "\n";
    CHECK(text == "C /bin\nD /bin/ls\nC /etc\nC /etc/passwd\nA /new\nA /new/dir\n");
}

TEST_CASE("open_dir_in_root: absolute links met on the way are the root's, and stay in it") {
    TempDir t("root");
    fs::create_directories(t.dir / "root/run");
    fs::create_directories(t.dir / "root/var");
    fs::create_directory_symlink("/run", t.dir / "root/var/run");      // Debian's
    fs::create_directory_symlink("/", t.dir / "root/var/escape");      // to the root, not the host's
    UniqueFd root = open_dir(t.dir / "root");
    UniqueFd made = open_dir_in_root(root.get(), "/var/run/app/data", true);
    CHECK(fs::is_directory(t.dir / "root/run/app/data"));
    UniqueFd up = open_dir_in_root(root.get(), "/var/escape/tmp-made", true);
    CHECK(fs::is_directory(t.dir / "root/tmp-made"));
}

TEST_CASE("chown_tree: setuid bits kept, symlinks changed themselves, never followed") {
    TempDir t("chown");
    fs::create_directories(t.dir / "src/sub");
    write(t.dir / "src/sub/suid", "x");
    REQUIRE(::chmod((t.dir / "src/sub/suid").c_str(), 04755) == 0);
    write(t.dir / "outside", "y");
    REQUIRE(::chmod((t.dir / "outside").c_str(), 0600) == 0);
    fs::create_symlink(t.dir / "outside", t.dir / "src/link");
    chown_tree(AT_FDCWD, (t.dir / "src").string(), 1234, 5678);
    struct stat suid = lstat_of(t.dir / "src/sub/suid");
    CHECK(suid.st_uid == 1234);
    CHECK(suid.st_gid == 5678);
    CHECK((suid.st_mode & 07777) == 04755);
    CHECK(lstat_of(t.dir / "src/link").st_uid == 1234);
    struct stat out = lstat_of(t.dir / "outside");
    CHECK(out.st_uid == 0);
    CHECK((out.st_mode & 07777) == 0600);
}

TEST_CASE("copy_tree keeps holes: a sparse file stays sparse, its bytes the same") {
    TempDir t("sparse");
    fs::create_directories(t.dir / "src");
    fs::create_directories(t.dir / "dst");
    {
        UniqueFd f(::open((t.dir / "src/s").c_str(), O_WRONLY | O_CREAT | O_CLOEXEC, 0644));
        REQUIRE(::ftruncate(f.get(), 1 << 30) == 0);
        REQUIRE(::pwrite(f.get(), "middle", 6, 1 << 20) == 6);
        REQUIRE(::pwrite(f.get(), "end", 3, (1 << 30) - 3) == 3);
    }
    copy_tree(open_dir(t.dir / "src").get(), open_dir(t.dir / "dst").get());
    struct stat st = lstat_of(t.dir / "dst/s");
    CHECK(st.st_size == 1 << 30);
    CHECK(st.st_blocks * 512 < 1 << 20);  // not a gigabyte of zeros
    UniqueFd f(::open((t.dir / "dst/s").c_str(), O_RDONLY | O_CLOEXEC));
    char buf[7] = {};
    REQUIRE(::pread(f.get(), buf, 6, 1 << 20) == 6);
    CHECK(std::string(buf) == "middle");
    REQUIRE(::pread(f.get(), buf, 3, (1 << 30) - 3) == 3);
    CHECK(std::string(buf, 3) == "end");
    REQUIRE(::pread(f.get(), buf, 6, 4096) == 6);
    CHECK(std::string(buf, 6) == std::string(6, '\0'));
}
