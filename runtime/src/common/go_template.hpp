// The part of Go's text/template that podman's --format takes, evaluated
// over nlohmann::json (Debian has no C++ library for Go templates):
//   {{.Field.Sub}}, {{.}}, $ and $var (:= and =), "strings", `raw`,
//   numbers, true/false/nil, (pipelines), a | b,
//   {{if}} {{else if}} {{else}} {{end}}, {{range}} (with $i, $e :=),
//   {{with}}, {{/* comments */}}, {{- and -}} trimming;
//   Go's and, or, not, len, index, print, printf, println, eq, ne, lt,
//   le, gt, ge; podman's json, join, lower, upper, title, split, truncate.
// Anything else ({{template}}, {{define}}, {{break}}, other functions) is
// refused when parsed, with an Error naming it. As in Go, a key missing
// from a map prints "<no value>", and a field missing from a struct is an
// error: an object is a struct unless its field name is in `map_fields`.
#pragma once

#include <functional>
#include <memory>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

namespace minirt {

struct TemplateList;

class GoTemplate {
public:
    // Error (exit 125) for a malformed template or one outside the subset.
    static GoTemplate parse(std::string_view text);

    // Evaluates the template with `data` as dot: Error for a failure at
    // execution (a field that does not exist, a bad argument), naming it.
    std::string execute(const nlohmann::json& data) const;

    // The fields whose objects are maps (Labels, Annotations, ...).
    void set_map_fields(std::set<std::string, std::less<>> names) { map_fields_ = std::move(names); }

    // The header row of a `table` template: the text between actions as it
    // is, and for each action the header of the last field it names
    // (`header(name)`); if, range and with give nothing.
    std::string headers(const std::function<std::string(const std::string&)>& header) const;

    // Whether the template names `.name` anywhere (in any chain), and whether
    // it takes some value whole (`.` or `$` alone, {{json .}}): a caller
    // may leave out of the data what the template cannot reach.
    bool mentions(std::string_view name) const { return fields_.count(name) > 0; }
    bool uses_whole_value() const { return whole_; }

    GoTemplate(GoTemplate&&) noexcept;
    GoTemplate& operator=(GoTemplate&&) noexcept;
    ~GoTemplate();

private:
    GoTemplate();
    std::unique_ptr<TemplateList> root_;
    std::set<std::string, std::less<>> fields_;
    std::set<std::string, std::less<>> map_fields_;
    bool whole_ = false;
};

// podman's --format as a command takes it: `\t` and `\n` written as two
// characters become a tab and a newline, a leading "table " is cut off
// (`table` is set; spaces between its actions become tabs, the columns'
// separators), and the row ends in a newline.
struct FormatSpec {
    std::string text;
    bool table = false;
};
FormatSpec normalize_format(std::string_view format);

// A header as podman derives it from a field's name: "CreatedAt" becomes
// "CREATED AT", "ImageID" "IMAGE ID".
std::string header_of_field(std::string_view name);

// Go's text/tabwriter as podman sets it up (minimum cell width 12, padding
// 2, spaces): the tab-terminated cells of consecutive lines line up.
std::string align_tabs(std::string_view text);

}  // namespace minirt
