#include <catch2/catch.hpp>
#include <sys/stat.h>
#include <sys/sysmacros.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <thread>
#include <set>
#include <algorithm>

#include "common/error.hpp"
#include "common/file.hpp"
#include "common/parse.hpp"
#include "state/store.hpp"

using namespace minirt;
namespace fs = std::filesystem;

namespace {

struct TempStore {
    fs::path dir;
    Store store;
    TempStore() : dir(make()), store(Paths{dir / "run", dir / "lib"}) {}
    ~TempStore() { fs::remove_all(dir); }
    static fs::path make() {
        char tmpl[] = "/tmp/minirt-unit-XXXXXX";
        return fs::path(::mkdtemp(tmpl));
    }
    ContainerConfig config(const std::string& name) {
        ContainerConfig c;
        c.id = generate_id();
        c.name = name;
        c.image = "busybox";
        c.created_ns = now_ns();
        c.command = {"true"};
        c.hostname = name;
        return c;
    }
    // What the store is given to write as config.json (the CLI's is the
    // container's OCI spec; here only its presence matters).
    FileLock create(ContainerConfig& c) {
        return store.create(c, [](const ContainerConfig& done) { return "{\"id\": \"" + done.id + "\"}\n"; });
    }
};

}  // namespace

TEST_CASE("create, resolve by name, id and prefix", "[store]") {
    TempStore t;
    auto c = t.config("web");
    t.create(c);
    CHECK(t.store.resolve("web") == c.id);
    CHECK(t.store.resolve(c.id) == c.id);
    CHECK(t.store.resolve(c.id.substr(0, 6)) == c.id);
    CHECK_THROWS_AS(t.store.resolve("nope"), Error);
    CHECK_THROWS_AS(t.store.resolve("../web"), Error);
    // find() tells "no such container" apart from every other error.
    CHECK(t.store.find("web") == c.id);
    CHECK_FALSE(t.store.find("nope"));
    CHECK_FALSE(t.store.find("fedcba"));
    CHECK_FALSE(t.store.find(generate_id()));
    CHECK_THROWS_AS(t.store.find("../web"), Error);
    CHECK_THROWS_AS(t.store.find(""), Error);
    auto st = t.store.load_state(c.id);
    REQUIRE(st);
    CHECK(st->status == Status::Created);
    CHECK(t.store.load_config(c.id).name == "web");
}

TEST_CASE("duplicate names are refused and leave nothing", "[store]") {
    TempStore t;
    auto first = t.config("web");
    t.create(first);
    auto dup = t.config("web");
    CHECK_THROWS_AS(t.create(dup), Error);
    CHECK(t.store.list_ids().size() == 1);
    CHECK_FALSE(fs::exists(t.store.paths().container_dir(dup.id)));
    CHECK_FALSE(fs::exists(t.store.paths().state_dir(dup.id)));
}

TEST_CASE("unnamed containers get distinct free names and a hostname", "[store]") {
    TempStore t;
    std::set<std::string> names;
    for (int i = 0; i < 50; ++i) {
        auto c = t.config("");
        c.hostname.clear();
        t.create(c);
        CHECK_NOTHROW(validate_container_name(c.name));
        CHECK(c.hostname == c.name);
        CHECK(std::count(c.env.begin(), c.env.end(), "HOSTNAME=" + c.name) == 1);
        names.insert(c.name);
    }
    CHECK(names.size() == 50);
}

TEST_CASE("ambiguous prefixes are an error", "[store]") {
    TempStore t;
    auto a = t.config("a");
    auto b = t.config("b");
    a.id = "abc" + a.id.substr(3);
    b.id = "abc" + b.id.substr(3);
    t.create(a);
    t.create(b);
    try {
        t.store.resolve("abc");
        FAIL("resolved");
    } catch (const Error& e) {
        CHECK(std::string(e.what()).find("ambiguous") != std::string::npos);
    }
    CHECK_THROWS_AS(t.store.find("abc"), Error);
}

TEST_CASE("remove deletes everything and frees the name", "[store]") {
    TempStore t;
    auto c = t.config("web");
    t.create(c);
    FileLock lock = t.store.lock(c.id);
    t.store.remove(c.id, lock);
    CHECK(t.store.list_ids().empty());
    CHECK_FALSE(fs::exists(t.store.paths().container_dir(c.id)));
    CHECK_FALSE(fs::exists(t.store.paths().state_dir(c.id)));
    CHECK_FALSE(fs::exists(t.store.paths().name_link("web")));
    auto again = t.config("web");
    CHECK_NOTHROW(t.create(again));
}

namespace {

// True once a flock request waits for the lock held on PATH: /proc/locks
// lists a blocked request as a "->" line under the lock it waits for, with
// the same device and inode ("MAJ:MIN:INODE", the major and minor in hex).
bool flock_waiter_on(const fs::path& path) {
    struct stat st{};
    if (::stat(path.c_str(), &st) != 0) return false;
    char file_id[64];
    std::snprintf(file_id, sizeof file_id, " %02x:%02x:%lu ", major(st.st_dev), minor(st.st_dev),
                  static_cast<unsigned long>(st.st_ino));
    std::ifstream locks("/proc/locks");
    for (std::string line; std::getline(locks, line);) {
        if (line.find("-> FLOCK") != std::string::npos && line.find(file_id) != std::string::npos) return true;
    }
    return false;
}

}  // namespace

TEST_CASE("a lock unlinked by a remover is seen as stale", "[store]") {
    TempStore t;
    auto c = t.config("web");
    t.create(c);
    FileLock first = t.store.lock(c.id);
    bool stale = false;
    // flock conflicts between open files even in one process: wait in a thread.
    std::thread waiter([&] {
        FileLock second = t.store.lock(c.id);
        stale = second.stale();
    });
    // Released only once the waiter is queued on this lock: released before
    // the waiter opened the file, the waiter would make a new one and lock
    // that, which is not stale. The ceiling is there for a kernel that shows
    // no waiters, not for a slow machine.
    const fs::path lock_file = t.store.paths().lock_file(c.id);
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
    bool queued = flock_waiter_on(lock_file);
    while (!queued && std::chrono::steady_clock::now() < deadline) {
        std::this_thread::sleep_for(std::chrono::milliseconds(1));
        queued = flock_waiter_on(lock_file);
    }
    CHECK(queued);
    first.unlink_and_release();
    waiter.join();
    CHECK(stale);
    FileLock fresh = t.store.lock(c.id);
    CHECK_FALSE(fresh.stale());
}

TEST_CASE("a corrupt state file is reported with its path", "[store]") {
    TempStore t;
    auto c = t.config("web");
    t.create(c);
    write_file_atomic(t.store.paths().state_file(c.id), "{not json");
    try {
        t.store.load_state(c.id);
        FAIL("loaded");
    } catch (const Error& e) {
        CHECK(std::string(e.what()).find(t.store.paths().state_file(c.id).string()) != std::string::npos);
    }
}

TEST_CASE("atomic writes leave no temp files", "[store]") {
    TempStore t;
    fs::create_directories(t.dir / "x");
    write_file_atomic(t.dir / "x" / "f.json", "one");
    write_file_atomic(t.dir / "x" / "f.json", "two");
    CHECK(read_file(t.dir / "x" / "f.json") == "two");
    CHECK(std::distance(fs::directory_iterator(t.dir / "x"), fs::directory_iterator()) == 1);
}

TEST_CASE("files are read whole, up to their limit", "[store]") {
    TempStore t;
    std::string big(100000, 'x');
    write_file_atomic(t.dir / "big", big);
    CHECK(read_file(t.dir / "big") == big);
    CHECK(read_file_if_exists(t.dir / "big", SIZE_MAX) == big);  // no limit
    CHECK(read_file(t.dir / "big", big.size()) == big);
    CHECK_THROWS_AS(read_file(t.dir / "big", big.size() - 1), Error);
    CHECK_FALSE(read_file_if_exists(t.dir / "none"));
}
