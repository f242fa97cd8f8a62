// minirt volume create / ls / inspect / rm / prune / exists: podman's
// commands, exit codes and JSON fields.
#include <unistd.h>

#include <algorithm>
#include <iostream>
#include <map>
#include <optional>
#include <set>
#include <nlohmann/json.hpp>

#include "cli/cli.hpp"
#include "cli/format_template.hpp"
#include "state/events.hpp"
#include "common/parse.hpp"
#include "container/volume_ops.hpp"
#include "state/volumes.hpp"

namespace minirt::cli {

namespace {

using nlohmann::json;

// podman's exit codes for `volume rm` and `volume exists`.
constexpr int kExitNoSuchVolume = 1;

json volume_json(const Paths& paths, const Volume& v) {
    return json{{"Name", v.name},
                {"Driver", "local"},
                {"Mountpoint", paths.volume_data(v.name).string()},
                {"CreatedAt", format_rfc3339(v.created_ns)},
                {"Labels", v.labels},
                {"Scope", "local"},
                {"Options", v.options.empty() ? json::object() : json(v.options)},
                {"Anonymous", v.anonymous},
                {"NeedsCopyUp", v.needs_copy}};
}

int create(Context& ctx, const Args& args) {
    const char* usage = "minirt volume create [--label KEY=VALUE]... [--opt KEY=VALUE]... [--ignore] [NAME]";
    po::options_description desc("Options");
    desc.add_options()
        ("label,l", po::value<std::vector<std::string>>(), "set a label (KEY=VALUE or KEY)")
        ("opt,o", po::value<std::vector<std::string>>(),
         "the local driver's type=FSTYPE, device=DEV and o=MOUNT-OPTIONS (or o=uid=N,gid=N alone)")
        ("ignore", "succeed when the volume exists already");
    Parsed p = parse(desc, args, usage);
    require_positional(p, 0, 1, usage);
    std::map<std::string, std::string> options;
    for (const auto& o : flag_values(p.vm, "opt")) {
        auto eq = o.find('=');
        if (eq == std::string::npos || eq == 0) throw Error("invalid --opt " + quote_for_message(o) + ": expected KEY=VALUE");
        if (!options.emplace(o.substr(0, eq), o.substr(eq + 1)).second)
            throw Error("invalid --opt " + quote_for_message(o) + ": " + o.substr(0, eq) + " given twice");
    }
    validate_volume_options(options);  // before anything is made
    auto labels = labels_from_flags(p.vm);
    std::string name = p.positional.empty() ? generate_id() : p.positional[0];
    validate_volume_name(name);
    Volumes volumes(ctx.store.paths());
    FileLock lock = volumes.lock();
    if (p.vm.count("ignore") && volumes.find(name)) {
        std::cout << name << "\n";
        return 0;
    }
    volumes.create(name, labels, false, options);
    record_object_event(ctx.store.paths(), "volume", "create", name, name);
    std::cout << name << "\n";
    return 0;
}

// --filter KEY=VALUE: name (substring, as podman), label (KEY or KEY=VALUE),
// dangling (true: no container uses it), driver (local).
// `used`: volumes_in_use(), asked for only when a dangling filter needs it.
bool matches(const std::optional<std::set<std::string>>& used, const Volume& v, const std::vector<std::string>& filters) {
    for (const auto& f : filters) {
        auto eq = f.find('=');
        if (eq == std::string::npos) throw Error("invalid --filter " + quote_for_message(f) + ": expected KEY=VALUE");
        std::string key = f.substr(0, eq), value = f.substr(eq + 1);
        if (key == "name") {
            if (v.name.find(value) == std::string::npos) return false;
        } else if (key == "label") {
            if (!label_filter_matches(v.labels, value)) return false;
        } else if (key == "dangling") {
            if (value != "true" && value != "false")
                throw Error("invalid --filter " + quote_for_message(f) + ": dangling=true or dangling=false");
            if (used->contains(v.name) == (value == "true")) return false;
        } else if (key == "driver") {
            if (value != "local") return false;
        } else {
            throw Error("invalid --filter " + quote_for_message(f) + ": use name, label, dangling or driver");
        }
    }
    return true;
}

int ls(Context& ctx, const Args& args) {
    const char* usage = "minirt volume ls [--format table|json|TEMPLATE] [-q] [--filter KEY=VALUE]...";
    po::options_description desc("Options");
    desc.add_options()
        ("format", po::value<std::string>()->default_value("table"), "table, json, or a Go template such as {{.Name}}")
        ("noheading,n", "no header line")
        ("quiet,q", "print only names")
        ("filter,f", po::value<std::vector<std::string>>(), "name=, label=, dangling=true|false, driver=local");
    Parsed p = parse(desc, args, usage);
    require_positional(p, 0, 0, usage);
    std::string format = p.vm["format"].as<std::string>();
    std::optional<TemplateFormat> tmpl = TemplateFormat::parse(format, {"Labels", "Options"});
    auto filters = flag_values(p.vm, "filter");
    std::optional<std::set<std::string>> used;
    if (std::any_of(filters.begin(), filters.end(), [](const std::string& f) { return f.starts_with("dangling="); }))
        used = volumes_in_use(ctx.store);
    std::vector<Volume> shown;
    for (auto& v : Volumes(ctx.store.paths()).list())
        if (matches(used, v, filters)) shown.push_back(std::move(v));
    if (p.vm.count("quiet")) {
        for (const auto& v : shown) std::cout << v.name << "\n";
    } else if (tmpl) {
        for (const auto& v : shown) tmpl->add(volume_json(ctx.store.paths(), v));
        std::cout << tmpl->finish({{"Name", "VOLUME NAME"}}, p.vm.count("noheading") > 0);
    } else if (format == "json") {
        json a = json::array();
        for (const auto& v : shown) a.push_back(volume_json(ctx.store.paths(), v));
        std::cout << a.dump(4) << "\n";
    } else {
        if (!p.vm.count("noheading")) std::printf("%-12s%s\n", "DRIVER", "VOLUME NAME");
        for (const auto& v : shown) std::printf("%-12s%s\n", "local", v.name.c_str());
    }
    return 0;
}

int inspect(Context& ctx, const Args& args) {
    const char* usage = "minirt volume inspect [--format json|TEMPLATE] NAME...";
    po::options_description desc("Options");
    desc.add_options()("format,f", po::value<std::string>()->default_value("json"), "json, or a Go template such as {{.Mountpoint}}");
    Parsed p = parse(desc, args, usage);
    require_positional(p, 1, SIZE_MAX, usage);
    std::optional<TemplateFormat> tmpl = TemplateFormat::parse(p.vm["format"].as<std::string>(), {"Labels", "Options"});
    Volumes volumes(ctx.store.paths());
    json a = json::array();
    for (const auto& name : p.positional) a.push_back(volume_json(ctx.store.paths(), volumes.load(name)));
    if (tmpl)
        for (const auto& v : a) std::cout << tmpl->render(v);
    else
        std::cout << a.dump(4) << "\n";
    return 0;
}

int rm(Context& ctx, const Args& args) {
    const char* usage = "minirt volume rm [-f] NAME...";
    po::options_description desc("Options");
    desc.add_options()("force,f", "remove the containers that use it first");
    Parsed p = parse(desc, args, usage);
    require_positional(p, 1, SIZE_MAX, usage);
    bool force = p.vm.count("force") > 0;
    int rc = 0;
    Volumes volumes(ctx.store.paths());
    for (const auto& name : p.positional) {
        try {
            validate_volume_name(name);
            if (!volumes.find(name)) throw Error("no such volume " + quote_for_message(name), kExitNoSuchVolume);
            remove_volume(ctx.store, name, force);
            record_object_event(ctx.store.paths(), "volume", "remove", name, name);
            std::cout << name << "\n";
        } catch (const Error& e) {
            std::cerr << ctx.program << ": " << e.message() << "\n";
            // podman: 2 (in use) outranks 1 (missing); anything else is 125.
            if (rc == 0 || e.exit_code() == kExitStateImproper || e.exit_code() == kExitMinirtError) rc = e.exit_code();
        }
    }
    return rc;
}

int prune(Context& ctx, const Args& args) {
    const char* usage = "minirt volume prune [-f]";
    po::options_description desc("Options");
    desc.add_options()("force,f", "do not ask for confirmation");
    Parsed p = parse(desc, args, usage);
    require_positional(p, 0, 0, usage);
    if (!p.vm.count("force")) {
        std::vector<std::string> names;
        auto used = volumes_in_use(ctx.store);
        for (const auto& v : Volumes(ctx.store.paths()).list())
            if (!used.contains(v.name)) names.push_back(v.name);
        if (!confirmed("WARNING! This will remove all volumes not used by at least one container. The following "
                       "volumes will be removed:",
                       names))
            return 0;
    }
    Volumes volumes(ctx.store.paths());
    FileLock lock = volumes.lock();
    auto used = volumes_in_use(ctx.store);
    for (const auto& v : volumes.list()) {
        if (used.contains(v.name)) continue;
        volumes.remove(v.name);
        record_object_event(ctx.store.paths(), "volume", "remove", v.name, v.name);
        std::cout << v.name << "\n";
    }
    return 0;
}

int exists(Context& ctx, const Args& args) {
    const char* usage = "minirt volume exists NAME";
    po::options_description desc("Options");
    Parsed p = parse(desc, args, usage);
    require_positional(p, 1, 1, usage);
    validate_volume_name(p.positional[0]);
    return Volumes(ctx.store.paths()).find(p.positional[0]) ? 0 : kExitNoSuchVolume;
}

}  // namespace

int cmd_volume(Context& ctx, const Args& args) {
    return run_subcommand(ctx, args, "volume", "minirt volume create|ls|inspect|rm|prune|exists ...",
                          "Commands:\n"
                          "  create [NAME]     make a volume (<storage>/volumes/NAME/_data)\n"
                          "  ls                list volumes (--format json, --filter, -q)\n"
                          "  inspect NAME...   show volumes as JSON\n"
                          "  rm [-f] NAME...   remove volumes no container uses (-f: remove those containers first)\n"
                          "  prune [-f]        remove every volume no container uses\n"
                          "  exists NAME       exit 0 if the volume exists, 1 if not\n",
                          {{{"create"}, create}, {{"ls", "list"}, ls}, {{"inspect"}, inspect}, {{"rm", "remove"}, rm},
                           {{"prune"}, prune}, {{"exists"}, exists}});
}

}  // namespace minirt::cli
