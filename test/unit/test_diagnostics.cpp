#include <catch2/catch.hpp>

#include <unistd.h>

#include <cstdio>
#include <string>

#include "common/diagnostics.hpp"
#include "common/fd.hpp"

using namespace minirt;

namespace {

// What `body` writes to stderr (fd 2), through a pipe.
template <class F>
std::string stderr_of(F body) {
    int p[2];
    REQUIRE(::pipe(p) == 0);
    UniqueFd read_end(p[0]), write_end(p[1]);
    UniqueFd saved(::dup(STDERR_FILENO));
    ::dup2(write_end.get(), STDERR_FILENO);
    body();
    ::dup2(saved.get(), STDERR_FILENO);
    write_end.reset();
    std::string out;
    char buf[512];
    for (ssize_t n; (n = ::read(read_end.get(), buf, sizeof buf)) > 0;) out.append(buf, static_cast<size_t>(n));
    return out;
}

}  // namespace

TEST_CASE("log levels are podman's words", "[diagnostics]") {
    CHECK(parse_log_level("debug") == LogLevel::Debug);
    CHECK(parse_log_level("warn") == LogLevel::Warn);
    CHECK(parse_log_level("warning") == LogLevel::Warn);
    CHECK(parse_log_level("panic") == LogLevel::Panic);
    CHECK(!parse_log_level("DEBUG"));
    CHECK(!parse_log_level(""));
}

TEST_CASE("messages below the level set are not written", "[diagnostics]") {
    set_log_level(LogLevel::Info);
    CHECK(stderr_of([] { log_debug("hidden"); }).empty());
    CHECK(stderr_of([] { log_info("shown"); }) == "minirt: info: shown\n");
    set_log_level(LogLevel::Error);
    CHECK(stderr_of([] { log_warning("hidden"); }).empty());
    set_log_level(LogLevel::Warn);
    CHECK(stderr_of([] { log_warning("careful"); }) == "minirt: warning: careful\n");
}

TEST_CASE("programs run are shown quoted as a shell needs them", "[diagnostics]") {
    set_log_level(LogLevel::Debug);
    std::string out = stderr_of([] { log_program({"/usr/bin/skopeo", "copy", "a b", "it's", "x\ny", ""}); });
    set_log_level(LogLevel::Warn);
    CHECK(out == "minirt: debug: running /usr/bin/skopeo copy 'a b' 'it'\\''s' 'x?y' ''\n");
}
