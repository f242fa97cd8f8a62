// minirt images (image ls): podman's columns, -q, --digests, --filter,
// --format table|json|TEMPLATE.
#include <fnmatch.h>

#include <algorithm>
#include <iostream>
#include <map>
#include <nlohmann/json.hpp>
#include <set>

#include "cli/cli.hpp"
#include "cli/format_template.hpp"
#include "common/parse.hpp"
#include "image/image.hpp"
#include "image/image_store.hpp"
#include "image/reference.hpp"
#include "state/store.hpp"

namespace minirt::cli {

using nlohmann::json;

namespace {

// One row: a name of an image (or <none> for an image without any).
struct Row {
    std::string repository, tag, id, digest;  // id: 64 hex digits ("" for an imported image)
    std::vector<std::string> names;           // all of the image's
    int64_t created_ns = 0;
    uint64_t size = 0;
    bool dangling = false;
    json labels = json::object();
    std::string handle() const { return id.empty() ? repository : id.substr(0, 12); }
};

std::vector<Row> all_rows(const Paths& paths) {
    std::vector<Row> rows;
    ImageStore store(paths);
    for (const auto& s : store.list()) {
        Row r;
        r.id = digest_hex(s.id);
        r.digest = s.digest;
        r.names = s.names;
        r.created_ns = s.created_ns;
        r.size = s.size;
        r.dangling = s.names.empty();
        json c = s.config.value("config", json::object());
        if (c.is_object() && c.contains("Labels") && c["Labels"].is_object()) r.labels = c["Labels"];
        if (s.names.empty()) {
            r.repository = r.tag = "<none>";
            rows.push_back(r);
        }
        for (const auto& n : s.names) {
            ImageReference ref = parse_reference(n);
            r.repository = ref.registry.empty() ? ref.repository : ref.registry + "/" + ref.repository;
            r.tag = ref.tag.empty() ? "<none>" : ref.tag;
            rows.push_back(r);
        }
    }
    // Imported images: a name, no tag, no layers.
    for (const auto& i : list_images(paths)) {
        Row r;
        r.repository = i.name;
        r.tag = "latest";
        r.names = {i.name};
        r.created_ns = i.created_ns;
        r.size = directory_size(paths.image_rootfs(i.name).string());
        rows.push_back(r);
    }
    std::stable_sort(rows.begin(), rows.end(), [](const Row& a, const Row& b) { return a.created_ns > b.created_ns; });
    return rows;
}

// podman's --filter KEY=VALUE: reference, dangling, label, before, since, id.
std::function<bool(const Row&)> filter_of(const std::string& spec, const std::vector<Row>& rows) {
    auto eq = spec.find('=');
    if (eq == std::string::npos) throw Error("invalid --filter " + quote_for_message(spec) + ": KEY=VALUE");
    std::string key = spec.substr(0, eq), value = spec.substr(eq + 1);
    if (key == "reference")
        return [value](const Row& r) {
            std::string full = r.repository + ":" + r.tag;
            auto last = r.repository.rfind('/');
            std::string tail = last == std::string::npos ? r.repository : r.repository.substr(last + 1);
            for (const auto& candidate : {full, r.repository, tail + ":" + r.tag, tail})
                if (::fnmatch(value.c_str(), candidate.c_str(), 0) == 0) return true;
            return false;
        };
    if (key == "dangling") {
        if (value != "true" && value != "false") throw Error("invalid --filter dangling=" + value + ": true or false");
        bool want = value == "true";
        return [want](const Row& r) { return r.dangling == want; };
    }
    if (key == "label") {
        auto e = value.find('=');
        std::string k = value.substr(0, e);
        std::optional<std::string> v;
        if (e != std::string::npos) v = value.substr(e + 1);
        return [k, v](const Row& r) {
            return r.labels.contains(k) && (!v || (r.labels[k].is_string() && r.labels[k].get<std::string>() == *v));
        };
    }
    if (key == "id") return [value](const Row& r) { return !r.id.empty() && r.id.starts_with(value); };
    if (key == "before" || key == "since") {
        const Row* ref = nullptr;
        for (const auto& r : rows)
            if ((!r.id.empty() && r.id.starts_with(value)) || r.repository + ":" + r.tag == value ||
                r.repository == value || std::find(r.names.begin(), r.names.end(), value) != r.names.end())
                ref = &r;
        if (!ref) throw Error("invalid --filter " + quote_for_message(spec) + ": no such image");
        int64_t at = ref->created_ns;
        bool before = key == "before";
        return [at, before](const Row& r) { return before ? r.created_ns < at : r.created_ns > at; };
    }
    throw Error("invalid --filter " + quote_for_message(key) + ": use reference, dangling, label, before, since or id");
}

// podman's `images --format TEMPLATE` fields.
json template_fields(const Row& r, int64_t now, bool no_trunc) {
    json names = json::array();
    for (const auto& n : r.names) names.push_back(n);
    std::string id = r.id.empty() ? r.repository : r.id;
    return json{{"Repository", r.repository},
                {"Tag", r.tag},
                {"ID", r.id.empty() ? r.repository : no_trunc ? "sha256:" + r.id : r.id.substr(0, 12)},
                {"Id", id},
                {"Digest", r.digest},
                {"CreatedAt", format_rfc3339(r.created_ns)},
                {"Created", format_rfc3339(r.created_ns)},
                {"CreatedSince", human_age(r.created_ns, now)},
                {"Size", human_size(r.size)},
                {"VirtualSize", human_size(r.size)},
                {"Names", names},
                {"Labels", r.labels},
                {"Dangling", r.dangling}};
}

json row_json(const Row& r, const Paths& paths, const std::map<std::string, int>& containers) {
    json tags = json::array();
    for (const auto& n : r.names) tags.push_back(n);
    auto used = containers.find(r.id.empty() ? r.repository : r.id);
    return json{{"Id", r.id.empty() ? r.repository : r.id},
                {"RepoTags", tags},
                {"Names", tags},
                {"Digest", r.digest},
                {"Created", r.created_ns / 1000000000},
                {"CreatedAt", format_rfc3339(r.created_ns)},
                {"Size", r.size},
                {"VirtualSize", r.size},
                {"Labels", r.labels},
                {"Dangling", r.dangling},
                {"Containers", used == containers.end() ? 0 : used->second},
                {"RootFS", r.id.empty() ? paths.image_rootfs(r.repository).string() : ""}};
}

}  // namespace

int cmd_images(Context& ctx, const Args& args) {
    const char* usage = "minirt images [-a] [-q] [--digests] [--no-trunc] [-n] [--filter KEY=VALUE]... [--format table|json|TEMPLATE]";
    po::options_description desc("Options");
    desc.add_options()
        ("all,a", "all images (minirt keeps no intermediate ones: the same as without)")
        ("quiet,q", "print only image ids (an imported image's name)")
        ("digests", "show the manifest digest")
        ("no-trunc", "whole image ids")
        ("noheading,n", "no header line")
        ("filter,f", po::value<std::vector<std::string>>(), "reference=PATTERN, dangling=true|false, label=K[=V], before=IMAGE, since=IMAGE, id=PREFIX")
        ("format", po::value<std::string>()->default_value("table"), "table, json, or a template such as {{.Repository}}:{{.Tag}}");
    Parsed p = parse(desc, args, usage);
    require_positional(p, 0, 1, usage);
    std::vector<Row> rows = all_rows(ctx.store.paths());
    std::vector<std::function<bool(const Row&)>> filters;
    for (const auto& f : flag_values(p.vm, "filter")) filters.push_back(filter_of(f, rows));
    if (p.positional.size() == 1) filters.push_back(filter_of("reference=" + p.positional[0], rows));
    std::erase_if(rows, [&](const Row& r) { return !std::all_of(filters.begin(), filters.end(), [&](const auto& f) { return f(r); }); });
    bool no_trunc = p.vm.count("no-trunc") > 0;
    std::string format = p.vm["format"].as<std::string>();
    TemplateFormat::parse(format);  // a bad template is refused before anything is read
    int64_t now = now_ns();
    if (p.vm.count("quiet")) {
        std::set<std::string> seen;
        for (const auto& r : rows) {
            std::string h = no_trunc && !r.id.empty() ? "sha256:" + r.id : r.handle();
            if (seen.insert(h).second) std::cout << h << "\n";
        }
        return 0;
    }
    if (format == "json") {
        std::map<std::string, int> containers;
        for (const auto& id : ctx.store.list_ids()) {
            try {
                ContainerConfig c = ctx.store.load_config(id);
                ++containers[c.image_id.empty() ? c.image : digest_hex(c.image_id)];
            } catch (const Error&) {
            }
        }
        json arr = json::array();
        std::set<std::string> seen;
        for (const auto& r : rows)
            if (seen.insert(r.handle()).second) arr.push_back(row_json(r, ctx.store.paths(), containers));
        std::cout << arr.dump(4) << "\n";
        return 0;
    }
    if (auto tmpl = TemplateFormat::parse(format, {"Labels"})) {
        for (const auto& r : rows) tmpl->add(template_fields(r, now, no_trunc));
        std::cout << tmpl->finish({{"ID", "IMAGE ID"}, {"Id", "IMAGE ID"}, {"CreatedSince", "CREATED"}},
                                  p.vm.count("noheading") > 0);
        return 0;
    }
    bool digests = p.vm.count("digests") > 0;
    if (!p.vm.count("noheading")) {
        if (digests) std::printf("%-40s  %-12s  %-73s  %-14s  %-16s  %s\n", "REPOSITORY", "TAG", "DIGEST", "IMAGE ID", "CREATED", "SIZE");
        else std::printf("%-40s  %-12s  %-14s  %-16s  %s\n", "REPOSITORY", "TAG", "IMAGE ID", "CREATED", "SIZE");
    }
    for (const auto& r : rows) {
        std::string id = r.id.empty() ? "-" : no_trunc ? "sha256:" + r.id : r.id.substr(0, 12);
        if (digests)
            std::printf("%-40s  %-12s  %-73s  %-14s  %-16s  %s\n", r.repository.c_str(), r.tag.c_str(),
                        (r.digest.empty() ? "<none>" : r.digest).c_str(), id.c_str(), human_age(r.created_ns, now).c_str(),
                        human_size(r.size).c_str());
        else
            std::printf("%-40s  %-12s  %-14s  %-16s  %s\n", r.repository.c_str(), r.tag.c_str(), id.c_str(),
                        human_age(r.created_ns, now).c_str(), human_size(r.size).c_str());
    }
    return 0;
}

}  // namespace minirt::cli
