#include <catch2/catch.hpp>

#include <arpa/inet.h>
#include <fcntl.h>
#include <sys/socket.h>

#include <cstring>
#include <nlohmann/json.hpp>
#include <string>

#include "common/error.hpp"
#include "engine/trace_output.hpp"
#include "linux/trace_bpf.hpp"

using namespace minirt;

namespace {

mt_event event(uint32_t type) {
    mt_event e{};
    e.type = type;
    e.cgid = 42;
    e.host_pid = 4242;
    e.host_tid = 4242;
    e.ns_pid = 7;
    std::strcpy(e.comm, "sh");
    return e;
}

nlohmann::json json_of(const mt_event& e) {
    trace::Writer w(-1, trace::Format::Json, {});
    return nlohmann::json::parse(w.line(e, {"0123456789abcdef", "web"}));
}

std::string text_of(const mt_event& e) {
    trace::Writer w(-1, trace::Format::Text, {});
    return w.line(e, {"0123456789abcdef", "web"});
}

}  // namespace

TEST_CASE("trace events: names, lists, all, and a word it does not know") {
    CHECK(trace::parse_events("exec") == 1u << MT_EXEC);
    CHECK(trace::parse_events("exec,exit,fork") == ((1u << MT_EXEC) | (1u << MT_EXIT) | (1u << MT_FORK)));
    CHECK(trace::event_list(trace::parse_events(trace::kDefaultEvents)) == "exec,exit,fork");
    CHECK(trace::event_list(trace::parse_events("mount,exec")) == "exec,mount");
    CHECK(trace::event_list(trace::parse_events("all")) ==
          "exec,exit,fork,clone,open,mkdir,unlink,rename,connect,accept,oom,signal,mount");
    try {
        trace::parse_events("exec,execve");
        FAIL("accepted execve");
    } catch (const Error& e) {
        CHECK(e.message().find("unknown trace event \"execve\"") != std::string::npos);
    }
    CHECK_THROWS_AS(trace::parse_events(""), Error);
    CHECK_THROWS_AS(trace::parse_events("exec,"), Error);
    CHECK(trace::parse_format("json") == trace::Format::Json);
    CHECK(trace::parse_format("text") == trace::Format::Text);
    CHECK_THROWS_AS(trace::parse_format("yaml"), Error);
}

TEST_CASE("trace lines: exec's argv, exit codes and signals") {
    mt_event e = event(MT_EXEC);
    std::strcpy(e.path, "/bin/sh");
    const char argv[] = "sh\0-c\0echo a b";
    std::memcpy(e.path2, argv, sizeof argv);
    e.args_len = sizeof argv;  // the kernel's area ends with a NUL
    auto j = json_of(e);
    CHECK(j["container"] == "web");
    CHECK(j["id"] == "0123456789abcdef");
    CHECK(j["pid"] == 7);
    CHECK(j["host_pid"] == 4242);
    CHECK(j["event"] == "exec");
    CHECK(j["filename"] == "/bin/sh");
    CHECK(j["argv"] == nlohmann::json::array({"sh", "-c", "echo a b"}));
    std::string t = text_of(e);
    CHECK(t.find(" web ") != std::string::npos);
    CHECK(t.find("exec    filename=/bin/sh argv=[sh -c \"echo a b\"") != std::string::npos);

    mt_event x = event(MT_EXIT);
    x.ret = 3 << 8;
    CHECK(json_of(x)["code"] == 3);
    x.ret = 9;
    CHECK(json_of(x)["signal"] == "KILL");
    x.ret = 11 | 0x80;
    CHECK(json_of(x)["core"] == true);
}

TEST_CASE("trace lines: open flags, errors, addresses") {
    mt_event o = event(MT_OPEN);
    std::strcpy(o.path, "/etc/passwd");
    o.arg = O_WRONLY | O_CREAT | O_CLOEXEC;
    o.ret = -2;
    auto j = json_of(o);
    CHECK(j["flags"] == "O_WRONLY|O_CREAT|O_CLOEXEC");
    CHECK(j["result"] == -2);
    CHECK(j["error"] == "ENOENT");

    mt_event c = event(MT_CONNECT);
    c.family = AF_INET;
    c.port = 8080;
    in_addr a{};
    ::inet_pton(AF_INET, "10.1.2.3", &a);
    std::memcpy(c.addr, &a, 4);
    CHECK(json_of(c)["address"] == "10.1.2.3:8080");
    c.family = AF_INET6;
    in6_addr a6{};
    ::inet_pton(AF_INET6, "fd00::1", &a6);
    std::memcpy(c.addr, &a6, 16);
    CHECK(json_of(c)["address"] == "[fd00::1]:8080");
    c.family = AF_UNIX;
    std::memset(c.path, 0, sizeof c.path);
    std::strcpy(c.path + 1, "abstract");
    CHECK(json_of(c)["address"] == "@abstract");
}

TEST_CASE("trace lines: a path with spaces or a newline stays on its line") {
    mt_event m = event(MT_MKDIR);
    std::strcpy(m.path, "/a b\nc");
    m.arg = 0755;
    std::string t = text_of(m);
    CHECK(t.find("path=\"/a b\\nc\" mode=0755 result=0") != std::string::npos);
    CHECK(t.find('\n') == t.size() - 1);
}

TEST_CASE("trace lines: a long name and an escaped command push the columns, never cut them") {
    mt_event m = event(MT_MKDIR);
    std::strcpy(m.path, "/x");
    std::memset(m.comm, 1, sizeof m.comm - 1);  // 15 control bytes: 90 characters escaped
    trace::Writer w(-1, trace::Format::Text, {});
    std::string name(120, 'n');
    std::string t = w.line(m, {"0123456789abcdef", name});
    CHECK(t.find(" " + name + "       7     4242 \"\\u0001") != std::string::npos);
    CHECK(t.find("\" mkdir   path=/x mode=00 result=0\n") != std::string::npos);
}

TEST_CASE("trace lines: beyond ASCII is escaped in text, kept in JSON") {
    mt_event m = event(MT_OPEN);
    std::strcpy(m.path, "/a\xe2\x80\xae" "b");  // U+202E, the right-to-left override
    std::string t = text_of(m);
    CHECK(t.find("path=\"/a\\u202eb\"") != std::string::npos);
    CHECK(json_of(m)["path"] == "/a\xe2\x80\xae" "b");
}

TEST_CASE("trace lines: an exit by a signal and a signal from the kernel") {
    mt_event x = event(MT_EXIT);
    x.ret = 9;
    CHECK(text_of(x).find(" exit    signal=KILL\n") != std::string::npos);
    mt_event s = event(MT_SIGNAL);
    s.flags = MT_F_TARGET;
    s.arg = 14;
    CHECK(text_of(s).find(" signal  signal=ALRM from=kernel result=delivered\n") != std::string::npos);
    s.other_host_pid = 99;
    std::strcpy(s.extra, "minirt");
    CHECK(text_of(s).find("signal=ALRM from_host_pid=99 from_comm=minirt result=delivered") != std::string::npos);
}
