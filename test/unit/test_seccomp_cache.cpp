#include <sys/stat.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <fstream>
#include <nlohmann/json.hpp>

#include "linux/capabilities.hpp"
#include "linux/seccomp.hpp"
#include "linux/seccomp_cache.hpp"
#include "temp_dir.hpp"

using namespace minirt;
namespace fs = std::filesystem;

namespace {

bool same_program(const SeccompProgram& a, const SeccompProgram& b) {
    return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](const sock_filter& x, const sock_filter& y) {
               return x.code == y.code && x.jt == y.jt && x.jf == y.jf && x.k == y.k;
           });
}

std::vector<fs::path> entries(const fs::path& dir) {
    std::vector<fs::path> out;
    std::error_code ec;
    for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) out.push_back(it->path());
    return out;
}

ino_t inode(const fs::path& p) {
    struct stat st {};
    REQUIRE(::stat(p.c_str(), &st) == 0);
    return st.st_ino;
}

}  // namespace

TEST_CASE("a seccomp program comes from the cache once compiled, identical", "[seccomp]") {
    TempDir t("unit-seccomp");
    SeccompCache cache(t.dir / "cache");
    CapMask caps = default_capabilities();
    nlohmann::json profile = default_seccomp_profile(caps);
    SeccompProgram compiled = compile_seccomp(seccomp_filter_from_profile(profile, caps));

    SeccompProgram first = cache.program(profile, caps);
    CHECK(same_program(first, compiled));
    auto files = entries(t.dir / "cache");
    REQUIRE(files.size() == 1);
    struct stat st {};
    REQUIRE(::stat((t.dir / "cache").c_str(), &st) == 0);
    CHECK((st.st_mode & 0777) == 0700);
    REQUIRE(::stat(files[0].c_str(), &st) == 0);
    CHECK((st.st_mode & 0777) == 0600);

    // Read back, not written again (a store replaces the file: a new inode).
    ino_t stored = inode(files[0]);
    CHECK(same_program(cache.program(profile, caps), compiled));
    CHECK(inode(files[0]) == stored);

    // Other capabilities, another entry.
    CapMask all = all_known_capabilities();
    nlohmann::json wide = default_seccomp_profile(all);
    CHECK(same_program(cache.program(wide, all), compile_seccomp(seccomp_filter_from_profile(wide, all))));
    CHECK(entries(t.dir / "cache").size() == 2);

    // No directory: compiled every time.
    CHECK(same_program(SeccompCache().program(profile, caps), compiled));
}

TEST_CASE("a damaged, foreign or unsafe cache entry is compiled again", "[seccomp]") {
    TempDir t("unit-seccomp");
    SeccompCache cache(t.dir);
    CapMask caps = default_capabilities();
    nlohmann::json profile = default_seccomp_profile(caps);
    SeccompProgram compiled = compile_seccomp(seccomp_filter_from_profile(profile, caps));
    cache.program(profile, caps);
    fs::path entry = entries(t.dir).at(0);
    auto original = [&] {
        std::ifstream in(entry, std::ios::binary);
        return std::string(std::istreambuf_iterator<char>(in), {});
    }();
    auto rewrite = [&](const std::string& bytes, mode_t mode) {
        fs::remove(entry);
        std::ofstream(entry, std::ios::binary) << bytes;
        ::chmod(entry.c_str(), mode);
        return inode(entry);
    };
    auto replaced = [&](ino_t before) {
        CHECK(same_program(cache.program(profile, caps), compiled));
        return inode(entry) != before;
    };

    std::string flipped = original;
    flipped[flipped.size() - 20] ^= 0x5a;  // inside the program: the checksum fails
    CHECK(replaced(rewrite(flipped, 0600)));
    CHECK(replaced(rewrite(original.substr(0, original.size() - 8), 0600)));  // torn
    CHECK(replaced(rewrite("", 0600)));
    std::string other_key = original;
    other_key[0] = 'M';  // the key differs (as after a hash collision)
    CHECK(replaced(rewrite(other_key, 0600)));
    CHECK(replaced(rewrite(original, 0666)));  // writable by others: not trusted
    // A symlink in its place is not followed.
    fs::remove(entry);
    fs::path elsewhere = t.dir / "elsewhere";
    std::ofstream(elsewhere, std::ios::binary) << original;
    fs::create_symlink(elsewhere, entry);
    CHECK(same_program(cache.program(profile, caps), compiled));
    CHECK_FALSE(fs::is_symlink(entry));
    // The untouched entry is used as it is.
    ino_t good = inode(entry);
    CHECK_FALSE(replaced(good));
}

TEST_CASE("the seccomp cache is bounded and never in the way", "[seccomp]") {
    TempDir t("unit-seccomp");
    CapMask caps = default_capabilities();
    nlohmann::json profile = default_seccomp_profile(caps);
    SeccompProgram compiled = compile_seccomp(seccomp_filter_from_profile(profile, caps));
    for (size_t i = 0; i < SeccompCache::kMaxEntries; ++i) std::ofstream(t.dir / ("old" + std::to_string(i)));
    SeccompCache(t.dir).program(profile, caps);
    CHECK(entries(t.dir).size() == 1);

    // A cache that cannot be made (a file where its directory would be).
    std::ofstream(t.dir / "file");
    CHECK(same_program(SeccompCache(t.dir / "file" / "cache").program(profile, caps), compiled));
    // A profile that does not compile throws, cache or not.
    CHECK_THROWS(SeccompCache(t.dir).program(nlohmann::json::object({{"defaultAction", "SCMP_ACT_NOPE"}}), caps));
}
