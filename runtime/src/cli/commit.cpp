// minirt commit: a container's writable layer as a new image (image/commit.hpp).
#include <iostream>

#include "cli/cli.hpp"
#include "common/parse.hpp"
#include "image/commit.hpp"
#include "image/reference.hpp"

namespace minirt::cli {

int cmd_commit(Context& ctx, const Args& args) {
    const char* usage = "minirt commit [OPTIONS] CONTAINER [IMAGE]";
    po::options_description desc("Options");
    desc.add_options()
        ("change,c", po::value<std::vector<std::string>>(),
         "a Dockerfile instruction for the image: CMD, ENTRYPOINT, ENV, EXPOSE, LABEL, STOPSIGNAL, USER, VOLUME, WORKDIR")
        ("author,a", po::value<std::string>(), "the image's author")
        ("message,m", po::value<std::string>(), "a comment in the image's history")
        ("pause,p", po::value<std::string>()->default_value("true"), "freeze a running container meanwhile (true or false)")
        ("quiet,q", "no progress (the id is printed still, as podman does)");
    Parsed p = parse(desc, args, usage);
    require_positional(p, 1, 2, usage);
    CommitOptions o;
    o.changes = flag_values(p.vm, "change");
    if (p.vm.count("author")) o.author = p.vm["author"].as<std::string>();
    if (p.vm.count("message")) o.message = p.vm["message"].as<std::string>();
    std::string pause = p.vm["pause"].as<std::string>();
    if (pause != "true" && pause != "false") throw Error("invalid --pause " + quote_for_message(pause) + ": true or false");
    o.pause = pause == "true";
    if (p.positional.size() > 1) {
        ImageReference r = parse_reference(p.positional[1]);
        if (!r.digest.empty()) throw Error("an image name cannot carry a digest: " + quote_for_message(p.positional[1]));
        o.names.push_back((r.registry.empty() ? r.in_registry("localhost") : r).str());
    }
    std::string id = ctx.store.resolve(p.positional[0]);
    StoredImage img = commit_container(ctx.store, id, o);
    std::cout << img.id.substr(7) << "\n";
    return 0;
}

}  // namespace minirt::cli
