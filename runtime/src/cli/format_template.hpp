// --format TEMPLATE as podman takes it, for the fields-only subset of Go's
// templates: {{.Field}} (spaces inside the braces allowed), \t and \n.
#pragma once

#include <functional>
#include <string>

namespace minirt::cli {

// `field(name)` gives a field's text (name without the dot), or throws
// Error naming the fields there are.
std::string expand_template(const std::string& tmpl, const std::function<std::string(const std::string&)>& field);

}  // namespace minirt::cli
