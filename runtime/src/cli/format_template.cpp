#include "cli/format_template.hpp"

#include "common/error.hpp"
#include "common/parse.hpp"

namespace minirt::cli {

std::string expand_template(const std::string& tmpl, const std::function<std::string(const std::string&)>& field) {
    std::string out;
    for (size_t i = 0; i < tmpl.size();) {
        if (tmpl.compare(i, 2, "{{") == 0) {
            auto end = tmpl.find("}}", i);
            if (end == std::string::npos) throw Error("invalid --format: a {{ without }}");
            std::string inner = tmpl.substr(i + 2, end - i - 2);
            inner.erase(0, inner.find_first_not_of(' '));
            inner.erase(inner.find_last_not_of(' ') + 1);
            if (!inner.starts_with(".")) throw Error("invalid --format " + quote_for_message("{{" + inner + "}}") + ": {{.Field}}");
            out += field(inner.substr(1));
            i = end + 2;
        } else if (tmpl.compare(i, 2, "\\t") == 0) {
            out += '\t';
            i += 2;
        } else if (tmpl.compare(i, 2, "\\n") == 0) {
            out += '\n';
            i += 2;
        } else {
            out += tmpl[i++];
        }
    }
    return out;
}

}  // namespace minirt::cli
