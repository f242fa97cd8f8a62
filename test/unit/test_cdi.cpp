#include <catch2/catch.hpp>

#include <fstream>

#include "cdi/cdi.hpp"
#include "common/error.hpp"
#include "temp_dir.hpp"

using namespace minirt;
using namespace minirt::cdi;

namespace {

std::string error_of(const std::string& text, const std::string& file) {
    try {
        parse_spec(text, file);
    } catch (const Error& e) {
        return e.message();
    }
    return "";
}

void write(const std::filesystem::path& p, const std::string& text) { std::ofstream(p) << text; }

const char* kYaml = R"(cdiVersion: "0.7.0"
kind: example.com/dev
containerEdits:
  env: [SPEC=1]
devices:
  - name: a
    containerEdits:
      deviceNodes:
        - {path: /dev/ex-a, hostPath: /dev/null, permissions: rw, fileMode: 0640, major: 1, minor: 3}
      mounts:
        - {hostPath: /srv/share, containerPath: /opt/ex, options: [ro, bind]}
      hooks:
        - {hookName: createContainer, path: /usr/bin/true, args: [hook, x], timeout: 5}
      additionalGids: [4242]
  - name: "0"
    containerEdits:
      env: ["NUM=0"]
)";

}  // namespace

TEST_CASE("CDI specs parse from YAML and JSON", "[cdi]") {
    Spec s = parse_spec(kYaml, "/etc/cdi/ex.yaml");
    CHECK(s.kind == "example.com/dev");
    CHECK(s.edits.env == std::vector<std::string>{"SPEC=1"});
    REQUIRE(s.devices.size() == 2);
    const auto& a = s.devices[0].edits;
    REQUIRE(a.device_nodes.size() == 1);
    CHECK(a.device_nodes[0].host_path == "/dev/null");
    CHECK(a.device_nodes[0].file_mode == 0640u);  // YAML's 0640 is octal
    CHECK(a.device_nodes[0].major == 1);
    CHECK(a.mounts[0].options == std::vector<std::string>{"ro", "bind"});
    CHECK(a.hooks[0].hook_name == "createContainer");
    CHECK(a.hooks[0].timeout == 5);
    CHECK(a.additional_gids == std::vector<uint32_t>{4242});
    CHECK(s.devices[1].name == "0");  // quoted: a string

    Spec j = parse_spec(R"({"cdiVersion":"0.5.0","kind":"vendor.io/gpu","devices":[
        {"name":"g0","containerEdits":{"deviceNodes":[{"path":"/dev/g0","type":"c","major":1,"minor":3}]}}]})",
                        "/etc/cdi/g.json");
    CHECK(j.devices[0].edits.device_nodes[0].type == 'c');
}

TEST_CASE("CDI specs are refused with the file and the field named", "[cdi]") {
    auto err = [](const std::string& text) { return error_of(text, "/d/x.json"); };
    CHECK(err("{") .find("CDI spec /d/x.json: JSON") == 0);
    CHECK(err(R"({"cdiVersion":"0.9.0","kind":"a.com/b","devices":[]})").find("cdiVersion") != std::string::npos);
    CHECK(err(R"({"cdiVersion":"0.6.0","kind":"nokind","devices":[]})").find("kind") != std::string::npos);
    CHECK(err(R"({"cdiVersion":"0.6.0","kind":"a.com/b","devices":[]})").find("at least one device") != std::string::npos);
    CHECK(err(R"({"cdiVersion":"0.6.0","kind":"a.com/b","extra":1,"devices":[]})").find("unknown field \"extra\"") !=
          std::string::npos);
    auto with = [&](const std::string& v, const std::string& edits) {
        return err(R"({"cdiVersion":")" + v + R"(","kind":"a.com/b","devices":[{"name":"d","containerEdits":)" + edits +
                   "}]}");
    };
    CHECK(with("0.6.0", "{}").empty());
    CHECK(with("0.4.0", R"({"deviceNodes":[{"path":"/dev/x","hostPath":"/dev/null"}]})").find("needs cdiVersion 0.5.0") !=
          std::string::npos);
    CHECK(with("0.6.0", R"({"additionalGids":[1]})").find("needs cdiVersion 0.7.0") != std::string::npos);
    CHECK(with("0.3.0", R"({"mounts":[{"hostPath":"/a","containerPath":"/b","type":"bind"}]})").find("0.4.0") !=
          std::string::npos);
    CHECK(with("0.6.0", R"({"deviceNodes":[{"path":"dev/x"}]})").find("devices[0].containerEdits.deviceNodes[0].path") !=
          std::string::npos);
    CHECK(with("0.6.0", R"({"hooks":[{"hookName":"later","path":"/x"}]})").find("unknown hook") != std::string::npos);
    CHECK(with("0.6.0", R"({"env":["NOEQUALS"]})").find("KEY=VALUE") != std::string::npos);
    CHECK(with("0.7.0", R"({"intelRdt":{"closID":"x"}})").find("not supported") != std::string::npos);
    CHECK(with("0.6.0", R"({"deviceNodes":[{"path":"/dev/x","permissions":"rwx"}]})").find("r, w and m") !=
          std::string::npos);
    CHECK(error_of("cdiVersion: [unclosed", "/d/y.yaml").find("CDI spec /d/y.yaml: YAML") == 0);
}

TEST_CASE("a YAML spec whose aliases would expand without end is refused", "[cdi]") {
    std::string bomb = "a: &a [x, x, x, x, x, x, x, x, x, x]\n";
    for (char c = 'b'; c <= 'h'; ++c) {
        std::string prev(1, static_cast<char>(c - 1));
        bomb += std::string(1, c) + ": &" + c + " [";
        for (int i = 0; i < 10; ++i) bomb += (i ? ", *" : "*") + prev;
        bomb += "]\n";
    }
    CHECK(error_of(bomb, "/d/bomb.yaml").find("more than 100000 values") != std::string::npos);
}

TEST_CASE("CDI names are vendor/class=name", "[cdi]") {
    CHECK(is_qualified_name("nvidia.com/gpu=0"));
    CHECK(is_qualified_name("nvidia.com/gpu=all"));
    CHECK(is_qualified_name("example.com/dev=a:b"));
    CHECK(!is_qualified_name("/dev/null"));
    CHECK(!is_qualified_name("nvidia.com/gpu"));
    CHECK(!is_qualified_name("nvidia.com=0"));
    CHECK(!is_qualified_name("nvidia.com/gpu=-x"));
}

TEST_CASE("the registry resolves devices, merges edits and names conflicts", "[cdi]") {
    TempDir low("cdi"), high("cdi");
    write(low.dir / "ex.yaml", kYaml);
    write(low.dir / "broken.json", "{not json");
    write(low.dir / "ignored.txt", "not a spec");
    Registry reg = Registry::load({low.dir, high.dir});
    CHECK(reg.device_names() == std::vector<std::string>{"example.com/dev=0", "example.com/dev=a"});
    CHECK(reg.broken_files().size() == 1);

    ContainerEdits e = reg.resolve({"example.com/dev=a", "example.com/dev=0"});
    CHECK(e.env == std::vector<std::string>{"SPEC=1", "NUM=0"});  // the spec's own edits once
    CHECK(e.device_nodes.size() == 1);
    CHECK(reg.resolve({"example.com/dev=all"}).env.size() == 2);

    try {
        reg.resolve({"example.com/dev=zz"});
        FAIL("an unknown device resolved");
    } catch (const Error& e2) {
        CHECK(e2.message().find("unknown CDI device \"example.com/dev=zz\" (example.com/dev has a, 0)") == 0);
        CHECK(e2.message().find("broken.json") != std::string::npos);
    }

    // A later directory overrides; two files of one directory conflict.
    write(high.dir / "ex.json", R"({"cdiVersion":"0.6.0","kind":"example.com/dev","devices":[
        {"name":"a","containerEdits":{"env":["FROM=high"]}}]})");
    CHECK(Registry::load({low.dir, high.dir}).resolve({"example.com/dev=a"}).env ==
          std::vector<std::string>{"FROM=high"});
    write(high.dir / "ex2.json", R"({"cdiVersion":"0.6.0","kind":"example.com/dev","devices":[
        {"name":"a","containerEdits":{"env":["FROM=other"]}}]})");
    CHECK_THROWS_WITH(Registry::load({low.dir, high.dir}).resolve({"example.com/dev=a"}),
                      Catch::Contains("defined in both"));

    // Edits that disagree.
    TempDir c("cdi");
    write(c.dir / "x.json", R"({"cdiVersion":"0.6.0","kind":"x.com/y","devices":[
        {"name":"p","containerEdits":{"env":["V=1"],"deviceNodes":[{"path":"/dev/q","hostPath":"/dev/null"}]}},
        {"name":"q","containerEdits":{"env":["V=2"]}},
        {"name":"r","containerEdits":{"deviceNodes":[{"path":"/dev/q","hostPath":"/dev/zero"}]}}]})");
    Registry x = Registry::load({c.dir});
    CHECK(x.resolve({"x.com/y=p", "x.com/y=q"}).env == std::vector<std::string>{"V=2"});  // the last wins, as CDI's
    CHECK_THROWS_WITH(x.resolve({"x.com/y=p", "x.com/y=r"}), Catch::Contains("set the device node /dev/q differently"));
}
