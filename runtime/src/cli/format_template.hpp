// --format as podman's listing commands take it: "json" and "table" are
// each command's own; anything else is a Go template (common/go_template),
// run once per row, and "table TEMPLATE" adds a header row and lines the
// columns up as podman's tabwriter does.
#pragma once

#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "common/go_template.hpp"

namespace minirt::cli {

class TemplateFormat {
public:
    // nullopt for "json" and "table" (and ""); Error (exit 125) naming what
    // is wrong with a template, before anything is read. `map_fields`: the
    // rows' fields that are maps (a missing key prints "<no value>").
    static std::optional<TemplateFormat> parse(const std::string& format, std::set<std::string, std::less<>> map_fields = {});

    // Whether a row needs `field`: the template names it or takes a whole
    // value ({{json .}}). Rows may leave out what no one reads.
    bool wants(std::string_view field) const { return tmpl_.uses_whole_value() || tmpl_.mentions(field); }
    bool table() const { return table_; }

    // One row's text (streams: events).
    std::string render(const nlohmann::json& row) const;
    void add(const nlohmann::json& row) { body_ += render(row); }
    // The rows, after a header row unless `no_header` (table only): each
    // field's header is `headers`' entry for it or podman's derivation
    // ("CreatedAt": "CREATED AT").
    std::string finish(const std::map<std::string, std::string, std::less<>>& headers = {}, bool no_header = false) const;
    // The rows go (`stats` prints a round of them at a time).
    void clear() { body_.clear(); }

private:
    TemplateFormat(GoTemplate t, bool table, std::string text)
        : tmpl_(std::move(t)), table_(table), text_(std::move(text)) {}
    GoTemplate tmpl_;
    bool table_;
    std::string text_;  // as given, for messages
    std::string body_;
};

// A time as Go prints a time.Time (podman's CreatedAt): local, "2006-01-02
// 15:04:05.999999999 -0700 MST".
std::string format_go_time(int64_t ns);

}  // namespace minirt::cli
