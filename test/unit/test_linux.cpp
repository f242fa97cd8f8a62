#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <fstream>

#include "linux/cgroup.hpp"
#include "linux/process.hpp"
#include "linux/rootfs.hpp"
#include "engine/init.hpp"

using namespace minirt;
using minirt::engine::find_executable;

TEST_CASE("the cgroup2 mount is found in mountinfo", "[cgroup]") {
    std::string hybrid =
        "31 23 0:28 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755\n"
        "35 31 0:32 / /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory\n"
        "41 31 0:38 / /sys/fs/cgroup/unified rw,relatime shared:9 - cgroup2 cgroup2 rw\n";
    CHECK(find_cgroup2_mount(hybrid) == "/sys/fs/cgroup/unified");
    std::string pure = "30 23 0:26 / /sys/fs/cgroup rw,nosuid shared:4 - cgroup2 cgroup2 rw,nsdelegate\n";
    CHECK(find_cgroup2_mount(pure) == "/sys/fs/cgroup");
    CHECK_FALSE(find_cgroup2_mount("27 1 254:0 / / rw - ext4 /dev/vda rw\n"));
}

TEST_CASE("cgroup files are read from any tree", "[cgroup]") {
    char tmpl[] = "/tmp/minirt-cg-XXXXXX";
    std::filesystem::path dir = ::mkdtemp(tmpl);
    {
        std::ofstream(dir / "cpu.stat") << "usage_usec 1234\nuser_usec 1000\n";
        std::ofstream(dir / "memory.max") << "max\n";
        std::ofstream(dir / "memory.current") << "4096\n";
        std::ofstream(dir / "cgroup.procs") << "1\n22\n";
        std::ofstream(dir / "cgroup.events") << "populated 1\nfrozen 0\n";
    }
    Cgroup cg(dir);
    CHECK(cg.read_key("cpu.stat", "usage_usec") == 1234);
    CHECK_FALSE(cg.read_key("cpu.stat", "nope"));
    CHECK(cg.read_number("memory.max") == UINT64_MAX);
    CHECK(cg.read_number("memory.current") == 4096);
    CHECK(cg.pids() == std::vector<int>{1, 22});
    CHECK(cg.populated());
    CHECK_FALSE(cg.frozen());
    std::filesystem::remove_all(dir);
}

TEST_CASE("shared propagation is read from mountinfo", "[mounts]") {
    std::string info =
        "27 1 254:0 / / rw,relatime shared:1 - ext4 /dev/vda rw\n"
        "50 27 0:40 / /mnt/private rw,relatime - tmpfs tmpfs rw\n"
        "51 27 0:41 / /mnt/shared rw,relatime shared:7 - tmpfs tmpfs rw\n";
    CHECK(on_shared_mount("/srv/x", info));
    CHECK_FALSE(on_shared_mount("/mnt/private/x", info));
    CHECK_FALSE(on_shared_mount("/mnt/private", info));
    CHECK(on_shared_mount("/mnt/shared/a/b", info));
    CHECK(on_shared_mount("/mnt/privateer", info));  // a sibling, not below /mnt/private
}

TEST_CASE("the mounts below a directory, escapes decoded, prefix siblings not", "[mounts]") {
    std::string info =
        "27 1 254:0 / / rw,relatime shared:1 - ext4 /dev/vda rw\n"
        "50 27 0:40 / /b/rootfs rw - tmpfs tmpfs rw\n"
        "51 50 0:41 / /b/rootfs/proc rw - proc proc rw\n"
        "52 50 0:42 / /b/rootfs/my\\040dir rw - tmpfs tmpfs rw\n"
        "53 27 0:43 / /b/rootfs2/proc rw - proc proc rw\n";
    CHECK(mounts_below("/b/rootfs", info) == std::vector<MountPoint>{{51, "/b/rootfs/proc"}, {52, "/b/rootfs/my dir"}});
    CHECK(mounts_below("/b/rootfs/", info).size() == 2);
    CHECK(mounts_below("/c", info).empty());
}

TEST_CASE("overlay options", "[mounts]") {
    CHECK(overlay_options("/l", "/u", "/w") == "lowerdir=/l,upperdir=/u,workdir=/w");
}

TEST_CASE("process start time distinguishes processes", "[process]") {
    auto self = process_start_time(::getpid());
    REQUIRE(self);
    CHECK(process_alive(::getpid(), *self));
    CHECK_FALSE(process_alive(::getpid(), *self + 1));
    CHECK_FALSE(process_start_time(0));
    CHECK_FALSE(process_alive(4194304 + 1, 0));
}

TEST_CASE("executable lookup tells missing from not executable", "[exec]") {
    int err = 0;
    CHECK(find_executable("sh", "/nonexistent:/bin", err) == "/bin/sh");
    CHECK(err == 0);
    CHECK(find_executable("no-such-cmd-xyz", "/bin", err).empty());
    CHECK(err == ENOENT);
    char tmpl[] = "/tmp/minirt-noexec-XXXXXX";
    int fd = ::mkstemp(tmpl);
    REQUIRE(fd >= 0);
    ::close(fd);
    CHECK(find_executable(tmpl, "", err).empty());
    CHECK(err == EACCES);
    CHECK(find_executable("x", "/tmp", err).empty());
    ::unlink(tmpl);
    CHECK(find_executable("/", "", err).empty());
    CHECK(err == EACCES);
}

TEST_CASE("close_fds_from keeps exactly what it is told", "[process]") {
    pid_t child = ::fork();
    REQUIRE(child >= 0);
    if (child == 0) {
        int a = ::open("/dev/null", O_RDONLY), b = ::open("/dev/null", O_RDONLY), c = ::open("/dev/null", O_RDONLY);
        close_fds_from(3, c, -1, a);
        bool ok = ::fcntl(a, F_GETFD) >= 0 && ::fcntl(b, F_GETFD) < 0 && ::fcntl(c, F_GETFD) >= 0 &&
                  ::fcntl(0, F_GETFD) >= 0;
        close_fds_from(3);
        ok = ok && ::fcntl(a, F_GETFD) < 0 && ::fcntl(c, F_GETFD) < 0;
        _exit(ok ? 0 : 1);
    }
    int status = 0;
    ::waitpid(child, &status, 0);
    CHECK(WIFEXITED(status));
    CHECK(WEXITSTATUS(status) == 0);
}

TEST_CASE("our own process is no namespace's init; its info is read", "[process]") {
    CHECK_FALSE(is_namespace_init(::getpid()));
    auto me = process_info(::getpid());
    REQUIRE(me);
    CHECK(me->ppid == ::getppid());
    CHECK(me->start == process_start_time(::getpid()).value_or(0));
    CHECK(start_time_ns(me->start) > 0);
    CHECK_FALSE(process_info(-1));
}
