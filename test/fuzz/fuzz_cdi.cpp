// libFuzzer target: CDI spec files (cdi/cdi.cpp), as vendors' tools and
// users write them. The first byte picks the format (odd: JSON, even:
// YAML); the rest is the file. Each input must parse or throw Error naming
// the file, never crash, hang, exhaust the stack or throw anything else.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>

#include "cdi/cdi.hpp"
#include "common/error.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    using namespace minirt;
    if (size == 0) return 0;
    std::string file = (data[0] & 1) ? "/etc/cdi/f.json" : "/etc/cdi/f.yaml";
    std::string text(reinterpret_cast<const char*>(data) + 1, size - 1);
    try {
        cdi::Spec s = cdi::parse_spec(text, file);
        // What a parsed spec promises: a kind and at least one device.
        if (s.kind.find('/') == std::string::npos || s.devices.empty()) std::abort();
        for (const auto& d : s.devices)
            if (!cdi::is_qualified_name(s.kind + "=" + d.name)) std::abort();
    } catch (const Error& e) {
        if (e.message().find("CDI spec " + file + ": ") != 0) std::abort();
    }
    return 0;
}
