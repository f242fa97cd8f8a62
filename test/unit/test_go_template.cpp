#include <catch2/catch.hpp>

#include <string>

#include <nlohmann/json.hpp>

#include "common/error.hpp"
#include "common/go_template.hpp"

using namespace minirt;
using nlohmann::json;

namespace {

const json kData = json::parse(R"({
  "Id": "abc123",
  "Name": "web",
  "State": {"Status": "running", "Running": true, "Pid": 42, "ExitCode": 0, "Health": null},
  "Config": {"Env": ["A=1", "B=2"], "Cmd": ["sleep", "1000"], "Labels": {"app": "db", "tier": "back"},
             "User": ""},
  "Mounts": [{"Source": "/a", "Destination": "/x"}, {"Source": "/b", "Destination": "/y"}],
  "Memory": 104857600,
  "Ratio": 0.5,
  "Empty": []
})");

std::string run(const std::string& t, const json& data = kData) {
    GoTemplate tmpl = GoTemplate::parse(t);
    tmpl.set_map_fields({"Labels"});
    return tmpl.execute(data);
}

std::string error_of(const std::string& t) {
    try {
        run(t);
    } catch (const Error& e) {
        return e.message();
    }
    return "(no error)";
}

}  // namespace

TEST_CASE("fields, chains and Go's printing of values") {
    CHECK(run("{{.Name}}") == "web");
    CHECK(run("{{ .State.Pid }} {{.State.Running}}") == "42 true");
    CHECK(run("{{.Config.Env}}") == "[A=1 B=2]");
    CHECK(run("{{.Config.Labels}}") == "map[app:db tier:back]");
    CHECK(run("{{.State.Health}}") == "<nil>");
    CHECK(run("{{.Memory}} {{.Ratio}}") == "104857600 0.5");
    CHECK(run("{{.Config.User}}|") == "|");
    CHECK(run("plain text") == "plain text");
}

TEST_CASE("a key missing from a map prints <no value>; a missing field is an error") {
    CHECK(run("{{.Config.Labels.app}}") == "db");
    CHECK(run("{{.Config.Labels.nope}}") == "<no value>");
    CHECK(run(R"({{index .Config.Labels "nope"}}|)") == "|");
    CHECK(error_of("{{.Config.Nope}}") == "template: can't evaluate field Nope in {{.Config.Nope}}");
    CHECK(error_of("{{.Name.First}}").find("can't evaluate field First in type string") != std::string::npos);
    CHECK(error_of("{{.State.Health.Status}}").find("nil pointer evaluating .Status") != std::string::npos);
}

TEST_CASE("functions podman scripts use") {
    CHECK(run("{{json .Config.Env}}") == R"(["A=1","B=2"])");
    CHECK(run("{{json .Config.Labels}}") == R"({"app":"db","tier":"back"})");
    CHECK(run("{{json .Config.Labels.nope}}") == "null");
    CHECK(run(R"({{join .Config.Cmd " "}})") == "sleep 1000");
    CHECK(run("{{lower .State.Status}} {{upper .Name}} {{title \"hello big world\"}}") == "running WEB Hello Big World");
    CHECK(run("{{len .Config.Env}} {{len .Name}} {{len .Config.Labels}}") == "2 3 2");
    CHECK(run(R"({{index .Config.Env 1}} {{index .Config.Labels "tier"}})") == "B=2 back");
    CHECK(run(R"({{printf "%s has pid %d" .Name .State.Pid}})") == "web has pid 42");
    CHECK(run(R"({{printf "%-6s|%5d|%05d|%q|%v|%t|%x" .Name 7 -42 "a\"b" .Config.Env true 255}})") ==
          "web   |    7|-0042|\"a\\\"b\"|[A=1 B=2]|true|ff");
    CHECK(run(R"({{printf "%d %s" "x"}})") == "%!d(string=x) %!s(MISSING)");
    CHECK(run(R"({{printf "%.2f" .Ratio}})") == "0.50");
    CHECK(run("{{println .Name .State.Pid}}") == "web 42\n");
    CHECK(run("{{print .Name .State.Pid 1 2}}") == "web42 1 2");
    CHECK(run(R"({{split "a,b,c" ","}} {{truncate .Id 3}})") == "[a b c] abc");
    CHECK(run(".Name | upper: {{.Name | upper}} {{.Config.Cmd | json}}") == ".Name | upper: WEB [\"sleep\",\"1000\"]");
    CHECK(run("{{(index .Mounts 1).Destination}}") == "/y");
}

TEST_CASE("comparisons and logic") {
    CHECK(run(R"({{if eq .State.Status "running"}}up{{else}}down{{end}})") == "up");
    CHECK(run(R"({{if eq .State.Status "paused" "running"}}one of{{end}})") == "one of");
    CHECK(run(R"({{if ne .State.Pid 42}}x{{else if gt .State.Pid 40}}big{{else}}small{{end}})") == "big");
    CHECK(run("{{if and .State.Running (not .State.ExitCode)}}ok{{end}}") == "ok");
    CHECK(run("{{or .Config.User \"root\"}}") == "root");
    CHECK(run("{{and .Config.User .Nope}}|") == "|");  // stops at the first false: .Nope is never read
    CHECK(run("{{if lt 1.5 2}}{{if le \"a\" \"b\"}}yes{{end}}{{end}}") == "yes");
    CHECK(error_of(R"({{eq .State.Pid "42"}})").find("incompatible types for comparison") != std::string::npos);
    CHECK(error_of("{{lt true false}}").find("invalid type for comparison") != std::string::npos);
}

TEST_CASE("range, with, variables") {
    CHECK(run("{{range .Config.Env}}[{{.}}]{{end}}") == "[A=1][B=2]");
    CHECK(run("{{range $i, $e := .Config.Env}}{{$i}}={{$e}} {{end}}") == "0=A=1 1=B=2 ");
    CHECK(run("{{range $k, $v := .Config.Labels}}{{$k}}:{{$v}},{{end}}") == "app:db,tier:back,");
    CHECK(run("{{range .Mounts}}{{.Source}}->{{.Destination}} {{end}}") == "/a->/x /b->/y ");
    CHECK(run("{{range .Empty}}x{{else}}none{{end}}") == "none");
    CHECK(run("{{range .Mounts}}{{$.Name}}{{end}}") == "webweb");
    CHECK(run("{{with .State}}{{.Status}}{{end}}") == "running");
    CHECK(run("{{with .Config.User}}{{.}}{{else}}nobody{{end}}") == "nobody");
    CHECK(run("{{$n := .Name}}{{range .Config.Env}}{{$n}}{{end}}") == "webweb");
    CHECK(run("{{$n := 1}}{{$n = 2}}{{$n}}") == "2");
    CHECK(run("{{with $s := .State}}{{$s.Pid}}{{end}}") == "42");
    CHECK(error_of("{{range .Name}}{{end}}").find("range can't iterate over web") != std::string::npos);
}

TEST_CASE("trim markers and comments") {
    CHECK(run("a  {{- .Name -}}  \n b") == "awebb");
    CHECK(run("a {{/* a comment */}}b") == "a b");
    CHECK(run("a {{- /* a comment */ -}} b") == "ab");
    CHECK(run("{{\"}}\"}}") == "}}");
}

TEST_CASE("what is outside the subset, or malformed, is refused when parsed") {
    auto parse_error = [](const std::string& t) {
        try {
            GoTemplate::parse(t);
        } catch (const Error& e) {
            return e.message();
        }
        return std::string("(no error)");
    };
    CHECK(parse_error("{{.Name") == "template: unclosed action {{.Name");
    CHECK(parse_error("{{foo .Name}}") == "template: function \"foo\" not defined in {{foo .Name}}");
    CHECK(parse_error("{{template \"x\"}}") == "template: {{template}} is not supported in --format");
    CHECK(parse_error("{{define \"x\"}}{{end}}") == "template: {{define}} is not supported in --format");
    CHECK(parse_error("{{if .Name}}x") == "template: unexpected EOF: {{if .Name}} has no {{end}}");
    CHECK(parse_error("{{end}}") == "template: unexpected {{end}}");
    CHECK(parse_error("{{$x}}") == "template: undefined variable $x in {{$x}}");
    CHECK(parse_error("{{.Name .Id}}") == "template: can't give argument to non-function in {{.Name .Id}}");
    CHECK(parse_error("{{.Name | .Id}}") == "template: can't give argument to non-function in {{.Name | .Id}}");
    CHECK(parse_error("{{}}") == "template: missing value for command in {{}}");
    CHECK(parse_error("{{\"abc}}") .find("unterminated quoted string") != std::string::npos);
    CHECK(parse_error("{{(.Name}}") == "template: unclosed left paren in {{(.Name}}");
    CHECK(parse_error("{{/* x }}").find("unclosed comment") != std::string::npos);
    std::string deep;
    for (int i = 0; i < 100; ++i) deep += "{{if .Name}}";
    CHECK(parse_error(deep) == "template: nested too deeply");
    std::string parens = "{{" + std::string(200, '(') + ".Name" + std::string(200, ')') + "}}";
    CHECK(parse_error(parens) == "template: nested too deeply");
}

TEST_CASE("what a template reaches") {
    GoTemplate t = GoTemplate::parse("{{.Names}} {{range .Labels}}{{.}}{{end}}");
    CHECK(t.mentions("Names"));
    CHECK(t.mentions("Labels"));
    CHECK_FALSE(t.mentions("Ports"));
    CHECK(t.uses_whole_value());  // the range's {{.}}
    CHECK_FALSE(GoTemplate::parse("{{.ID}}\t{{.Names}}").uses_whole_value());
    CHECK(GoTemplate::parse("{{json .}}").uses_whole_value());
}

TEST_CASE("table formats: headers, tabs, alignment") {
    FormatSpec f = normalize_format(R"(table {{.ID}}\t{{.Names}})");
    CHECK(f.table);
    CHECK(f.text == "{{.ID}}\t{{.Names}}\n");
    CHECK(normalize_format("{{.ID}}\n").text == "{{.ID}}\n");
    CHECK_FALSE(normalize_format("{{.ID}}").table);
    GoTemplate t = GoTemplate::parse(f.text);
    CHECK(t.headers([](const std::string& n) { return n == "ID" ? "CONTAINER ID" : header_of_field(n); }) ==
          "CONTAINER ID\tNAMES\n");
    CHECK(header_of_field("CreatedAt") == "CREATED AT");
    CHECK(header_of_field("ImageID") == "IMAGE ID");
    CHECK(header_of_field("ID") == "ID");
    CHECK(align_tabs("CONTAINER ID\tNAMES\nabc\tweb\n") == "CONTAINER ID  NAMES\nabc           web\n");
    CHECK(align_tabs("a\tb\tc\nlonger-than-twelve\tx\ty\n") == "a                   b           c\nlonger-than-twelve  x           y\n");
    CHECK(align_tabs("no tabs\n") == "no tabs\n");
}

TEST_CASE("floats print as Go prints them") {
    CHECK(run("{{.}}", json(1000000.0)) == "1e+06");
    CHECK(run("{{.}}", json(100000.0)) == "100000");
    CHECK(run("{{.}}", json(0.0001)) == "0.0001");
    CHECK(run("{{.}}", json(0.00001)) == "1e-05");
    CHECK(run("{{.}}", json(2.5)) == "2.5");
}
