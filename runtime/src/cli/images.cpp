// minirt images / image import / image rm.
#include <iostream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "cli/cli.hpp"
#include "common/parse.hpp"
#include "common/ports.hpp"
#include "image/image.hpp"

namespace minirt::cli {

namespace {

int list(Context& ctx, const Args& args) {
    const char* usage = "minirt images [--format table|json] [-q]";
    po::options_description desc("Options");
    desc.add_options()("quiet,q", "print only names")("format", po::value<std::string>()->default_value("table"),
                                                        "table or json");
    Parsed p = parse(desc, args, usage);
    require_positional(p, 0, 0, usage);
    std::string format = p.vm["format"].as<std::string>();
    if (format != "table" && format != "json") throw Error("invalid --format \"" + format + "\": use table or json");
    auto images = list_images(ctx.store.paths());
    if (p.vm.count("quiet")) {
        for (const auto& i : images) std::cout << i.name << "\n";
        return 0;
    }
    if (format == "json") {
        nlohmann::json arr = nlohmann::json::array();
        for (const auto& i : images)
            arr.push_back({{"name", i.name}, {"created", format_rfc3339(i.created_ns)}, {"cmd", i.cmd},
                           {"source", i.source},
                           {"size", directory_size(ctx.store.paths().image_rootfs(i.name).string())}});
        std::cout << arr.dump(2) << "\n";
        return 0;
    }
    int64_t now = now_ns();
    std::printf("%-20s  %-16s  %-10s  %s\n", "NAME", "CREATED", "SIZE", "COMMAND");
    for (const auto& i : images) {
        std::string cmd;
        for (const auto& a : i.cmd) cmd += (cmd.empty() ? "" : " ") + a;
        std::printf("%-20s  %-16s  %-10s  %s\n", i.name.c_str(), human_age(i.created_ns, now).c_str(),
                    human_size(directory_size(ctx.store.paths().image_rootfs(i.name).string())).c_str(), cmd.c_str());
    }
    return 0;
}

int import(Context& ctx, const Args& args) {
    const char* usage = "minirt image import [OPTIONS] TARBALL|DIR NAME";
    po::options_description desc("Options");
    desc.add_options()
        ("cmd", po::value<std::string>(), "default command, words separated by spaces (default: sh)")
        ("env", po::value<std::vector<std::string>>(), "default environment KEY=VALUE")
        ("workdir", po::value<std::string>()->default_value("/"), "default working directory")
        ("expose", po::value<std::vector<std::string>>(), "PORT[/PROTOCOL] the image exposes (what run -P publishes)")
        ("replace", "replace an existing image of that name");
    Parsed p = parse(desc, args, usage);
    require_positional(p, 2, 2, usage);
    ImportOptions o;
    o.source = p.positional[0];
    o.name = p.positional[1];
    if (p.vm.count("cmd")) {
        std::istringstream in(p.vm["cmd"].as<std::string>());
        std::string w;
        while (in >> w) o.cmd.push_back(w);
        if (o.cmd.empty()) throw Error("invalid --cmd: empty");
    }
    if (p.vm.count("env"))
        for (const auto& e : p.vm["env"].as<std::vector<std::string>>()) {
            auto [k, v] = parse_env(e);
            o.env.push_back(k + "=" + v);
        }
    o.workdir = p.vm["workdir"].as<std::string>();
    if (o.workdir.empty() || o.workdir[0] != '/') throw Error("invalid --workdir: must be absolute");
    for (const auto& e : flag_values(p.vm, "expose")) {
        parse_exposed(e);
        o.exposed_ports.push_back(e.find('/') == std::string::npos ? e + "/tcp" : e);
    }
    o.replace = p.vm.count("replace") > 0;
    Image img = import_image(ctx.store.paths(), o);
    std::cout << img.name << "\n";
    return 0;
}

int remove(Context& ctx, const Args& args) {
    const char* usage = "minirt image rm NAME...";
    po::options_description desc("Options");
    Parsed p = parse(desc, args, usage);
    require_positional(p, 1, SIZE_MAX, usage);
    int rc = 0;
    for (const auto& name : p.positional) {
        try {
            remove_image(ctx.store.paths(), name);
            std::cout << name << "\n";
        } catch (const Error& e) {
            std::cerr << ctx.program << ": " << e.message() << "\n";
            rc = e.exit_code();
        }
    }
    return rc;
}

}  // namespace

int cmd_images(Context& ctx, const Args& args) { return list(ctx, args); }

int cmd_image(Context& ctx, const Args& args) {
    const char* usage = "minirt image import|ls|rm ...";
    if (args.empty()) throw Error(std::string("missing subcommand; usage: ") + usage);
    if (args[0] == "--help" || args[0] == "-h" || args[0] == "help") {
        std::cout << "Usage: " << usage << "\n\n"
                     "Commands:\n"
                     "  import TARBALL|DIR NAME  make an image from a root filesystem (minirt image import --help)\n"
                     "  ls                       list images (also: minirt images)\n"
                     "  rm NAME...               remove images no container uses\n";
        return 0;
    }
    Args rest(args.begin() + 1, args.end());
    if (args[0] == "import") return import(ctx, rest);
    if (args[0] == "ls" || args[0] == "list") return list(ctx, rest);
    if (args[0] == "rm" || args[0] == "remove") return remove(ctx, rest);
    throw Error("unknown image subcommand \"" + args[0] + "\"; usage: " + usage);
}

}  // namespace minirt::cli
