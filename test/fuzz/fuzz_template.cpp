// libFuzzer target: Go templates as --format takes them (common/go_template).
// The input is a template; it is parsed and run over a container-shaped
// document. Each step must give text or throw Error saying "template:",
// never crash, hang or exhaust the stack.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>

#include <nlohmann/json.hpp>

#include "common/error.hpp"
#include "common/go_template.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    using namespace minirt;
    static const nlohmann::json doc = nlohmann::json::parse(R"({
      "Id": "abc", "Name": "web", "Names": "web", "Pid": 7, "Ratio": 0.25, "Up": true, "Nil": null,
      "State": {"Status": "running", "Pid": 7, "Health": null},
      "Config": {"Env": ["A=1", "B=2"], "Labels": {"a": "1", "b": "2"}, "Cmd": ["sh", "-c", "x"]},
      "Mounts": [{"Source": "/a", "Destination": "/b"}, {"Source": "/c", "Destination": "/d"}]
    })");
    std::string text(reinterpret_cast<const char*>(data), size);
    FormatSpec spec = normalize_format(text);
    try {
        GoTemplate t = GoTemplate::parse(spec.text);
        t.set_map_fields({"Labels"});
        (void)t.mentions("Names");
        (void)t.headers([](const std::string& n) { return header_of_field(n); });
        std::string out = t.execute(doc);
        (void)align_tabs(out);
    } catch (const Error& e) {
        if (e.message().rfind("template: ", 0) != 0) std::abort();
    }
    return 0;
}
