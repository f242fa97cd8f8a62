// minirt image inspect | exists | history.
#include <iostream>
#include <nlohmann/json.hpp>

#include "cli/cli.hpp"
#include "cli/format_template.hpp"
#include "common/parse.hpp"
#include "image/image.hpp"
#include "image/image_store.hpp"

namespace minirt::cli {

using nlohmann::json;

namespace {

// podman's image inspect fields, of a layered image or an imported one.
// A string member of an image's JSON, or "" (an image may say anything there).
std::string text_of(const json& j, const char* key) {
    return j.is_object() && j.contains(key) && j[key].is_string() ? j[key].get<std::string>() : "";
}

json inspect_json(const Paths& paths, const std::string& text) {
    ImageStore store(paths);
    if (auto s = store.find(text)) {
        const json& cfg = s->config;
        json c = cfg.is_object() && cfg.contains("config") && cfg["config"].is_object() ? cfg["config"] : json::object();
        json history = cfg.is_object() && cfg.contains("history") && cfg["history"].is_array() ? cfg["history"] : json::array();
        return json{{"Id", digest_hex(s->id)},
                    {"Digest", s->digest},
                    {"RepoTags", s->names},
                    {"Created", format_rfc3339(s->created_ns)},
                    {"Config", c},
                    {"Author", text_of(cfg, "author")},
                    {"Architecture", text_of(cfg, "architecture")},
                    {"Os", text_of(cfg, "os")},
                    {"Size", s->size},
                    {"User", text_of(c, "User")},
                    {"Labels", c.contains("Labels") && c["Labels"].is_object() ? c["Labels"] : json::object()},
                    {"RootFS", {{"Type", "layers"}, {"Layers", s->layers}}},
                    {"History", history}};
    }
    Image img = load_image(paths, text);
    json c{{"Cmd", img.cmd}, {"Env", img.env}, {"WorkingDir", img.workdir}};
    for (const auto& p : img.exposed_ports) c["ExposedPorts"][p] = json::object();
    return json{{"Id", ""},
                {"RepoTags", json::array({img.name})},
                {"Created", format_rfc3339(img.created_ns)},
                {"Config", c},
                {"Size", directory_size(paths.image_rootfs(img.name).string())},
                {"RootFS", {{"Type", "directory"}, {"Path", paths.image_rootfs(img.name).string()}}}};
}

int inspect(Context& ctx, const Args& args) {
    const char* usage = "minirt image inspect [--format json|TEMPLATE] IMAGE...";
    po::options_description desc("Options");
    desc.add_options()("format,f", po::value<std::string>()->default_value("json"), "json, or a Go template such as {{.Config.Cmd}}");
    Parsed p = parse(desc, args, usage);
    require_positional(p, 1, SIZE_MAX, usage);
    std::optional<TemplateFormat> tmpl = TemplateFormat::parse(p.vm["format"].as<std::string>(),
                                                               {"Labels", "ExposedPorts", "Volumes", "Annotations"});
    json out = json::array();
    int rc = 0;
    for (const auto& name : p.positional) {
        try {
            json j = inspect_json(ctx.store.paths(), name);
            if (tmpl) {
                j["ID"] = j["Id"];  // podman's field is ID, its JSON's Id: templates take both
                std::cout << tmpl->render(j) << std::flush;
                continue;
            }
            out.push_back(std::move(j));
        } catch (const Error& e) {
            std::cerr << ctx.program << ": " << e.message() << "\n";
            rc = e.exit_code();
        }
    }
    if (!tmpl) std::cout << out.dump(4) << "\n";
    return rc;
}

int exists(Context& ctx, const Args& args) {
    const char* usage = "minirt image exists IMAGE";
    po::options_description desc("Options");
    Parsed p = parse(desc, args, usage);
    require_positional(p, 1, 1, usage);
    return find_image(ctx.store.paths(), p.positional[0]) ? 0 : 1;
}

int history(Context& ctx, const Args& args) {
    const char* usage = "minirt image history [--format table|json] IMAGE";
    po::options_description desc("Options");
    desc.add_options()("format", po::value<std::string>()->default_value("table"), "table or json");
    Parsed p = parse(desc, args, usage);
    require_positional(p, 1, 1, usage);
    std::string format = p.vm["format"].as<std::string>();
    if (format != "table" && format != "json") throw Error("invalid --format " + quote_for_message(format) + ": table or json");
    json i = inspect_json(ctx.store.paths(), p.positional[0]);
    json rows = json::array();
    // Newest first, as podman shows it; a layer's diff_id beside the step that made it.
    const json& layers = i["RootFS"].value("Layers", json::array());
    size_t layer = 0;
    // The image's own words, shown without control characters: a hostile
    // image must not drive the user's terminal.
    auto shown = [](const std::string& t) {
        std::string out;
        for (char c : t) out += (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) ? ' ' : c;
        return out;
    };
    for (const auto& h : i.value("History", json::array())) {
        bool empty = h.is_object() && h.contains("empty_layer") && h["empty_layer"].is_boolean() && h["empty_layer"].get<bool>();
        std::string id = !empty && layer < layers.size() ? layers[layer++].get<std::string>() : "";
        rows.insert(rows.begin(), json{{"id", id.empty() ? "<missing>" : digest_hex(id).substr(0, 12)},
                                       {"created", shown(text_of(h, "created"))},
                                       {"created_by", shown(text_of(h, "created_by"))},
                                       {"comment", shown(text_of(h, "comment"))}});
    }
    if (format == "json") {
        std::cout << rows.dump(2) << "\n";
        return 0;
    }
    std::printf("%-14s  %-32s  %-40s  %s\n", "ID", "CREATED", "CREATED BY", "COMMENT");
    for (const auto& r : rows)
        std::printf("%-14s  %-32s  %-40.40s  %s\n", r["id"].get<std::string>().c_str(), r["created"].get<std::string>().c_str(),
                    r["created_by"].get<std::string>().c_str(), r["comment"].get<std::string>().c_str());
    return 0;
}

}  // namespace

int cmd_image_inspect(Context& ctx, const Args& args) { return inspect(ctx, args); }
int cmd_image_exists(Context& ctx, const Args& args) { return exists(ctx, args); }
int cmd_image_history(Context& ctx, const Args& args) { return history(ctx, args); }

}  // namespace minirt::cli
