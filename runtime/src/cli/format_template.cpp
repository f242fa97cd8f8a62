#include "cli/format_template.hpp"

#include <ctime>

#include "common/error.hpp"
#include "common/parse.hpp"

namespace minirt::cli {

std::optional<TemplateFormat> TemplateFormat::parse(const std::string& format,
                                                    std::set<std::string, std::less<>> map_fields) {
    if (format.empty() || format == "json" || format == "table") return std::nullopt;
    FormatSpec spec = normalize_format(format);
    try {
        GoTemplate t = GoTemplate::parse(spec.text);
        t.set_map_fields(std::move(map_fields));
        return TemplateFormat(std::move(t), spec.table, format);
    } catch (const Error& e) {
        throw Error("invalid --format " + quote_for_message(format) + ": " + e.message());
    }
}

std::string TemplateFormat::render(const nlohmann::json& row) const {
    try {
        return tmpl_.execute(row);
    } catch (const Error& e) {
        throw Error("--format " + quote_for_message(text_) + ": " + e.message());
    }
}

std::string TemplateFormat::finish(const std::map<std::string, std::string, std::less<>>& headers, bool no_header) const {
    if (!table_) return body_;
    std::string out;
    if (!no_header) {
        out = tmpl_.headers([&](const std::string& field) {
            auto it = headers.find(field);
            return it != headers.end() ? it->second : header_of_field(field);
        });
    }
    return align_tabs(out + body_);
}

std::string format_go_time(int64_t ns) {
    time_t secs = static_cast<time_t>(ns / 1000000000LL);
    tm t{};
    ::localtime_r(&secs, &t);
    char date[64], zone[64];
    std::strftime(date, sizeof date, "%Y-%m-%d %H:%M:%S", &t);
    std::strftime(zone, sizeof zone, " %z %Z", &t);
    std::string s = date;
    // Go's .999999999: the fraction without its trailing zeros, if any.
    if (long frac = static_cast<long>(ns % 1000000000LL); frac > 0) {
        char f[16];
        std::snprintf(f, sizeof f, ".%09ld", frac);
        std::string fs = f;
        while (fs.back() == '0') fs.pop_back();
        s += fs;
    }
    return s + zone;
}

}  // namespace minirt::cli
