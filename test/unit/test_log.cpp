#include <catch2/catch.hpp>

#include <fcntl.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>

#include "common/fd.hpp"
#include "common/file.hpp"
#include "common/parse.hpp"
#include "state/log.hpp"
#include "temp_dir.hpp"

using namespace minirt;

TEST_CASE("log chunks become one record per line", "[log]") {
    std::string text = format_log_chunk(1795528031000000000LL, "stdout", "a\nb\n");
    CHECK(text == "2026-11-24T13:47:11.000000000Z stdout F a\n2026-11-24T13:47:11.000000000Z stdout F b\n");
    std::vector<LogRecord> recs;
    PartialLines carry;
    parse_log(text, recs, carry);
    REQUIRE(recs.size() == 2);
    CHECK(recs[0].text == "a\n");
    CHECK(recs[1].stream == "stdout");
    CHECK(carry.empty());
}

TEST_CASE("partial lines are joined", "[log]") {
    std::string text = format_log_chunk(1, "stdout", "hel") + format_log_chunk(2, "stdout", "lo\nwor");
    std::vector<LogRecord> recs;
    PartialLines carry;
    parse_log(text, recs, carry);
    REQUIRE(recs.size() == 1);
    CHECK(recs[0].text == "hello\n");
    REQUIRE(carry.count("stdout"));
    CHECK(carry["stdout"].text == "wor");
    CHECK(carry["stdout"].time_ns == 2);
}

TEST_CASE("empty lines and malformed records", "[log]") {
    std::string text = format_log_chunk(1, "stderr", "\n") + "garbage\n" + format_log_chunk(1, "stdout", "x\n");
    std::vector<LogRecord> recs;
    PartialLines carry;
    parse_log(text, recs, carry);
    REQUIRE(recs.size() == 2);
    CHECK(recs[0].text == "\n");
    CHECK(recs[0].stream == "stderr");
}

TEST_CASE("an unfinished line is never completed by the other stream", "[log]") {
    std::string text = format_log_chunk(1, "stdout", "no newline yet") + format_log_chunk(2, "stderr", "err\n") +
                       format_log_chunk(3, "stdout", " done\n");
    std::vector<LogRecord> recs;
    PartialLines carry;
    parse_log(text, recs, carry);
    REQUIRE(recs.size() == 2);
    CHECK(recs[0].stream == "stderr");
    CHECK(recs[0].text == "err\n");
    CHECK(recs[1].stream == "stdout");
    CHECK(recs[1].text == "no newline yet done\n");
    CHECK(take_partials(carry).empty());
}

namespace {

// Every record of a log file, checked to be well formed (k8s-file: time,
// stream, P or F, text).
std::vector<std::string> records_of(const std::filesystem::path& file) {
    std::string text = read_file_if_exists(file).value_or("");
    std::vector<std::string> lines;
    size_t at = 0;
    while (at < text.size()) {
        size_t nl = text.find('\n', at);
        REQUIRE(nl != std::string::npos);  // no torn record
        std::string line = text.substr(at, nl - at);
        at = nl + 1;
        auto s1 = line.find(' ');
        REQUIRE(s1 != std::string::npos);
        CHECK_NOTHROW(parse_time_spec(line.substr(0, s1), "timestamp"));
        auto s2 = line.find(' ', s1 + 1);
        REQUIRE(s2 != std::string::npos);
        REQUIRE(line.size() >= s2 + 3);
        CHECK((line[s2 + 1] == 'F' || line[s2 + 1] == 'P'));
        CHECK(line[s2 + 2] == ' ');
        lines.push_back(line);
    }
    return lines;
}

}  // namespace

TEST_CASE("the writer writes what format_log_chunk describes", "[log]") {
    TempDir t("unit-log");
    auto file = t.dir / "ctr.log";
    std::string out = "one\ntwo\nthree without newline";
    std::string err = "\nerr\n";
    {
        LogWriter w(file, 0);
        w.append("stdout", out);
        w.append("stderr", err);
        w.append("stdout", std::string(LogWriter::kBlockSize + 10, 'x') + "\nafter\n");  // a record larger than a block
        w.note("minirt says");
    }
    std::vector<LogRecord> recs;
    PartialLines carry;
    parse_log(read_file(file), recs, carry);
    REQUIRE(recs.size() == 7);
    CHECK(recs[0].text == "one\n");
    CHECK(recs[1].text == "two\n");
    CHECK(recs[2].stream == "stderr");
    CHECK(recs[2].text == "\n");
    CHECK(recs[3].text == "err\n");
    CHECK(recs[4].stream == "stdout");
    CHECK(recs[4].text == "three without newline" + std::string(LogWriter::kBlockSize + 10, 'x') + "\n");
    CHECK(recs[5].text == "after\n");
    CHECK(recs[6].stream == "minirt");
    CHECK(recs[6].text == "minirt says\n");
    CHECK(take_partials(carry).empty());
    // Same bytes as the reference form, timestamps aside.
    auto strip = [](std::string s) {
        std::string r;
        for (size_t at = 0; at < s.size();) {
            size_t nl = s.find('\n', at);
            r += s.substr(s.find(' ', at), nl + 1 - s.find(' ', at));
            at = nl + 1;
        }
        return r;
    };
    std::string written = read_file(file);
    CHECK(strip(written).starts_with(strip(format_log_chunk(1, "stdout", out) + format_log_chunk(1, "stderr", err))));
}

TEST_CASE("rotation keeps every record, in order, and no file above the limit", "[log]") {
    TempDir t("unit-log");
    auto file = t.dir / "ctr.log";
    const uint64_t max = 4096;
    const int n = 5000;
    std::string all;
    for (int i = 1; i <= n; ++i) all += std::to_string(i) + "\n";
    {
        LogWriter w(file, max);
        // Odd chunk sizes: lines are cut into P records at chunk ends.
        size_t at = 0, step = 1;
        while (at < all.size()) {
            size_t len = std::min(all.size() - at, step);
            w.append("stdout", std::string_view(all).substr(at, len));
            at += len;
            step = step * 7 % 1013 + 1;
        }
    }
    auto older = t.dir / "ctr.log.1";
    REQUIRE(std::filesystem::exists(older));
    CHECK(std::filesystem::file_size(older) <= max);
    CHECK(std::filesystem::file_size(file) <= max);
    // The file rotated out of ctr.log.1 is gone, and nothing else is left.
    CHECK(std::distance(std::filesystem::directory_iterator(t.dir), {}) == 2);
    records_of(older);
    records_of(file);
    std::vector<LogRecord> recs;
    PartialLines carry;
    parse_log(read_file(older) + read_file(file), recs, carry);
    CHECK(take_partials(carry).empty());
    REQUIRE(recs.size() > 100);
    // ctr.log.1 may start with the tail of a line rotated away: skip it.
    int prev = std::stoi(recs[1].text);
    for (size_t i = 2; i < recs.size(); ++i) {
        INFO("record " << i << ": " << recs[i].text);
        REQUIRE(std::stoi(recs[i].text) == prev + 1);
        prev = std::stoi(recs[i].text);
    }
    CHECK(prev == n);
}

TEST_CASE("a rotation left half done by a killed shim does not stop the next", "[log]") {
    TempDir t("unit-log");
    auto file = t.dir / "ctr.log";
    write_file_atomic(t.dir / ".ctr.log.1.old", "stale\n");
    {
        LogWriter w(file, 100);
        for (int i = 0; i < 10; ++i) w.append("stdout", "0123456789012345678901234567890123456789\n");
    }
    CHECK(!std::filesystem::exists(t.dir / ".ctr.log.1.old"));
    CHECK(records_of(t.dir / "ctr.log.1").size() == 1);
    CHECK(records_of(file).size() == 1);
}

TEST_CASE("sync returns with everything appended in the file, the writer still open", "[log]") {
    TempDir t("unit-log");
    auto file = t.dir / "ctr.log";
    LogWriter w(file, 0);
    std::string line(99, 'y');
    line += '\n';
    std::string chunk;
    while (chunk.size() < (1 << 20)) chunk += line;
    // More than the writer's queue holds: append must wait for it, not drop.
    const int chunks = static_cast<int>(2 * LogWriter::kQueuedBlocks * LogWriter::kBlockSize / chunk.size()) + 3;
    for (int i = 0; i < chunks; ++i) w.append("stdout", chunk);
    w.sync();
    std::vector<LogRecord> recs;
    PartialLines carry;
    parse_log(read_file(file, 1ull << 30), recs, carry);
    CHECK(recs.size() == static_cast<size_t>(chunks) * (chunk.size() / line.size()));
    CHECK(take_partials(carry).empty());
}

TEST_CASE("a chatty log reserves disk blocks ahead, and gives back what it did not fill", "[log]") {
    TempDir t("unit-log");
    auto file = t.dir / "ctr.log";
    auto allocated = [&] {
        struct stat st{};
        REQUIRE(::stat(file.c_str(), &st) == 0);
        return std::pair<uint64_t, uint64_t>(static_cast<uint64_t>(st.st_blocks) * 512, static_cast<uint64_t>(st.st_size));
    };
    {
        LogWriter w(file, 16 << 20);
        std::string chunk(999, 'z');
        chunk += '\n';
        while (chunk.size() < 3 * LogWriter::kBlockSize) chunk += chunk;
        w.append("stdout", chunk);
        w.sync();
        auto [blocks, size] = allocated();
        // Where the filesystem can fallocate (ext4, xfs, tmpfs), a chunk
        // lies reserved past the end while the log streams.
        UniqueFd probe(::open((t.dir / "probe").c_str(), O_WRONLY | O_CREAT | O_CLOEXEC, 0600));
        if (::fallocate(probe.get(), FALLOC_FL_KEEP_SIZE, 0, 4096) == 0)
            CHECK(blocks >= size + LogWriter::kReserveChunk / 2);
    }
    auto [blocks, size] = allocated();
    CHECK(blocks < size + 64 * 1024);  // trimmed back when the writer closed
}

TEST_CASE("a full disk drops whole records and counts them", "[log]") {
    // /dev/full refuses every write with ENOSPC.
    LogWriter w("/dev/full", 0);
    w.append("stdout", "one\ntwo\nthree\n");
    w.sync();
    CHECK(w.dropped().lines == 3);
    CHECK(w.dropped().bytes > 3 * 30);
    CHECK(w.take_drops_changed());
    CHECK_FALSE(w.take_drops_changed());
}

TEST_CASE("after a loss the log says how much was dropped", "[log]") {
    char dir[] = "/tmp/minirt-log-drop.XXXXXX";
    REQUIRE(::mkdtemp(dir));
    // A tiny tmpfs would need root; a file size limit does the same to write(2).
    std::string path = std::string(dir) + "/ctr.log";
    pid_t child = ::fork();
    REQUIRE(child >= 0);
    if (child == 0) {
        ::signal(SIGXFSZ, SIG_IGN);  // EFBIG instead of a signal
        rlimit lim{};
        ::getrlimit(RLIMIT_FSIZE, &lim);
        rlim_t hard = lim.rlim_max;
        rlimit small{4096, hard};
        if (::setrlimit(RLIMIT_FSIZE, &small) < 0) _exit(2);
        LogWriter w(path, 0);
        std::string lines;
        for (int i = 0; i < 100; ++i) lines += "line " + std::to_string(i) + "\n";
        w.append("stdout", lines);
        w.sync();
        bool dropped = w.dropped().lines > 0;
        // Room again: the next record first says what was lost.
        rlimit big{hard, hard};
        if (::setrlimit(RLIMIT_FSIZE, &big) < 0) _exit(3);
        w.append("stdout", "after\n");
        w.sync();
        _exit(dropped ? 0 : 1);
    }
    int status = 0;
    ::waitpid(child, &status, 0);
    REQUIRE(WIFEXITED(status));
    CHECK(WEXITSTATUS(status) == 0);
    std::string text = read_file(path);
    std::vector<LogRecord> recs;
    PartialLines carry;
    parse_log(text, recs, carry);
    INFO(text.substr(text.size() > 400 ? text.size() - 400 : 0));
    CHECK(carry.empty());  // no record was left half written
    REQUIRE(recs.size() >= 2);
    CHECK(recs[recs.size() - 2].stream == "minirt");
    CHECK(recs[recs.size() - 2].text.find("minirt: log: dropped ") == 0);
    CHECK(recs[recs.size() - 2].text.find("File too large") != std::string::npos);
    CHECK(recs.back().text == "after\n");
    std::filesystem::remove_all(dir);
}
