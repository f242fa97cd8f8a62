// minirt system df (disk use of images, containers and volumes, shared
// layers counted once) and minirt image prune.
#include <iostream>
#include <map>
#include <nlohmann/json.hpp>
#include <set>

#include "cli/cli.hpp"
#include "common/file.hpp"
#include "common/parse.hpp"
#include "container/ops.hpp"
#include "image/image.hpp"
#include "image/image_store.hpp"
#include "image/reference.hpp"
#include "state/store.hpp"
#include "state/volumes.hpp"

namespace minirt::cli {

using nlohmann::json;

namespace {

// Who uses what: image ids (or an imported image's name) and volume names
// of every container, and whether it runs.
struct Usage {
    std::map<std::string, int> images;         // image id hex (or name) -> containers
    std::set<std::string> running_images;      // of running ones
    std::set<std::string> volumes;             // named by some container
    std::map<std::string, bool> containers;    // id -> running
};

Usage usage_of(const Store& store) {
    Usage u;
    for (const auto& v : view_all(store)) {
        bool running = v.status == Status::Running || v.status == Status::Paused;
        u.containers[v.id] = running;
        try {
            ContainerConfig c = store.load_config(v.id);
            std::string key = c.image_id.empty() ? c.image : digest_hex(c.image_id);
            ++u.images[key];
            if (running) u.running_images.insert(key);
            for (const auto& m : c.mounts)
                if (m.type == "volume") u.volumes.insert(m.source);
        } catch (const Error&) {
        }
    }
    return u;
}

std::string with_share(uint64_t part, uint64_t whole) {
    int pct = whole ? static_cast<int>(part * 100 / whole) : 0;
    return human_size(part) + " (" + std::to_string(pct) + "%)";
}

}  // namespace

int cmd_system(Context& ctx, const Args& args) {
    const char* usage = "minirt system df [-v] [--format table|json]";
    if (args.empty() || args[0] == "--help" || args[0] == "-h") {
        std::cout << "Usage: minirt system df|info|prune ...\n\nCommands:\n"
                     "  df [-v]             disk used by images, containers and volumes\n"
                     "  info                the host (as minirt info)\n"
                     "  prune [-a] [--volumes] [-f]  remove stopped containers, unused networks, images (and volumes)\n";
        return args.empty() ? kExitMinirtError : 0;
    }
    if (!args.empty() && args[0] == "prune") return cmd_system_prune(ctx, Args(args.begin() + 1, args.end()));
    if (!args.empty() && args[0] == "info") return cmd_info(ctx, Args(args.begin() + 1, args.end()));
    if (args.empty() || args[0] != "df")
        throw Error("unknown or missing system subcommand: use df, info or prune (minirt system df|info|prune ...)");
    po::options_description desc("Options");
    desc.add_options()("verbose,v", "each image, container and volume")(
        "format", po::value<std::string>()->default_value("table"), "table or json");
    Parsed p = parse(desc, Args(args.begin() + 1, args.end()), usage);
    require_positional(p, 0, 0, usage);
    std::string format = p.vm["format"].as<std::string>();
    if (format != "table" && format != "json") throw Error("invalid --format " + quote_for_message(format) + ": table or json");
    const Paths& paths = ctx.store.paths();
    Usage u = usage_of(ctx.store);

    // Images: every layer once; an image's shared size is that of its
    // layers another image has too.
    ImageStore store(paths);
    std::vector<StoredImage> layered = store.list();
    std::map<std::string, uint64_t> layer_size;
    std::map<std::string, int> layer_images;
    for (const auto& img : layered)
        for (const auto& l : std::set<std::string>(img.layers.begin(), img.layers.end())) {
            ++layer_images[l];
            if (!layer_size.contains(l)) {
                auto text = read_file_if_exists(layer_dir(paths, l) / "size", 64);
                layer_size[l] = text ? std::strtoull(text->c_str(), nullptr, 10) : 0;
            }
        }
    struct ImageRow {
        std::string name, id;
        int64_t created_ns;
        uint64_t size, shared, unique;
        int containers;
    };
    std::vector<ImageRow> rows;
    uint64_t images_total = 0, images_reclaimable = 0;
    int images_active = 0;
    std::map<std::string, bool> layer_in_use;
    for (const auto& img : layered) {
        std::string hex = digest_hex(img.id);
        ImageRow r{img.names.empty() ? "<none>" : img.names.front(), hex, img.created_ns, 0, 0, 0,
                   u.images.contains(hex) ? u.images[hex] : 0};
        for (const auto& l : std::set<std::string>(img.layers.begin(), img.layers.end())) {
            r.size += layer_size[l];
            (layer_images[l] > 1 ? r.shared : r.unique) += layer_size[l];
            if (r.containers) layer_in_use[l] = true;
        }
        if (r.containers) ++images_active;
        rows.push_back(r);
    }
    for (const auto& [l, size] : layer_size) {
        images_total += size;
        if (!layer_in_use[l]) images_reclaimable += size;
    }
    for (const auto& img : list_images(paths)) {
        uint64_t size = directory_size(paths.image_rootfs(img.name).string());
        int n = u.images.contains(img.name) ? u.images[img.name] : 0;
        rows.push_back({img.name, "", img.created_ns, size, 0, size, n});
        images_total += size;
        if (n) ++images_active;
        else images_reclaimable += size;
    }

    // Containers: their writable layers. Volumes: their data.
    uint64_t containers_total = 0, containers_reclaimable = 0;
    int containers_active = 0;
    std::map<std::string, uint64_t> container_size;
    for (const auto& [id, running] : u.containers) {
        uint64_t size = directory_size(paths.upper_dir(id).string());
        container_size[id] = size;
        containers_total += size;
        if (running) ++containers_active;
        else containers_reclaimable += size;
    }
    uint64_t volumes_total = 0, volumes_reclaimable = 0;
    int volumes_active = 0;
    std::vector<Volume> volumes = Volumes(paths).list();
    std::map<std::string, uint64_t> volume_size;
    for (const auto& v : volumes) {
        uint64_t size = directory_size(paths.volume_data(v.name).string());
        volume_size[v.name] = size;
        volumes_total += size;
        if (u.volumes.contains(v.name)) ++volumes_active;
        else volumes_reclaimable += size;
    }

    if (format == "json") {
        json out = json::array();
        out.push_back({{"Type", "Images"}, {"Total", rows.size()}, {"Active", images_active}, {"Size", images_total},
                       {"Reclaimable", images_reclaimable}});
        out.push_back({{"Type", "Containers"}, {"Total", u.containers.size()}, {"Active", containers_active},
                       {"Size", containers_total}, {"Reclaimable", containers_reclaimable}});
        out.push_back({{"Type", "Local Volumes"}, {"Total", volumes.size()}, {"Active", volumes_active},
                       {"Size", volumes_total}, {"Reclaimable", volumes_reclaimable}});
        if (p.vm.count("verbose")) {
            json imgs = json::array();
            for (const auto& r : rows)
                imgs.push_back({{"Repository", r.name}, {"ImageID", r.id}, {"Size", r.size}, {"SharedSize", r.shared},
                                {"UniqueSize", r.unique}, {"Containers", r.containers}});
            out[0]["Images"] = imgs;
        }
        std::cout << out.dump(4) << "\n";
        return 0;
    }
    std::printf("%-14s %-6s %-7s %-11s %s\n", "TYPE", "TOTAL", "ACTIVE", "SIZE", "RECLAIMABLE");
    std::printf("%-14s %-6zu %-7d %-11s %s\n", "Images", rows.size(), images_active, human_size(images_total).c_str(),
                with_share(images_reclaimable, images_total).c_str());
    std::printf("%-14s %-6zu %-7d %-11s %s\n", "Containers", u.containers.size(), containers_active,
                human_size(containers_total).c_str(), with_share(containers_reclaimable, containers_total).c_str());
    std::printf("%-14s %-6zu %-7d %-11s %s\n", "Local Volumes", volumes.size(), volumes_active,
                human_size(volumes_total).c_str(), with_share(volumes_reclaimable, volumes_total).c_str());
    if (!p.vm.count("verbose")) return 0;
    int64_t now = now_ns();
    std::printf("\nImages space usage:\n\n%-40s  %-14s  %-16s  %-10s  %-11s  %-11s  %s\n", "REPOSITORY", "IMAGE ID", "CREATED",
                "SIZE", "SHARED SIZE", "UNIQUE SIZE", "CONTAINERS");
    for (const auto& r : rows)
        std::printf("%-40s  %-14s  %-16s  %-10s  %-11s  %-11s  %d\n", r.name.c_str(),
                    r.id.empty() ? "-" : r.id.substr(0, 12).c_str(), human_age(r.created_ns, now).c_str(),
                    human_size(r.size).c_str(), human_size(r.shared).c_str(), human_size(r.unique).c_str(), r.containers);
    std::printf("\nContainers space usage:\n\n%-14s  %-10s  %s\n", "CONTAINER ID", "SIZE", "RUNNING");
    for (const auto& [id, running] : u.containers)
        std::printf("%-14s  %-10s  %s\n", id.substr(0, 12).c_str(), human_size(container_size[id]).c_str(), running ? "yes" : "no");
    std::printf("\nLocal Volumes space usage:\n\n%-30s  %-10s  %s\n", "VOLUME NAME", "SIZE", "USED");
    for (const auto& v : volumes)
        std::printf("%-30s  %-10s  %s\n", v.name.c_str(), human_size(volume_size[v.name]).c_str(),
                    u.volumes.contains(v.name) ? "yes" : "no");
    return 0;
}

int cmd_image_prune(Context& ctx, const Args& args) {
    const char* usage = "minirt image prune [-a] [-f]";
    po::options_description desc("Options");
    desc.add_options()("all,a", "every layered image no container was made from, not only those without a name")(
        "force,f", "no confirmation (minirt never asks)");
    Parsed p = parse(desc, args, usage);
    require_positional(p, 0, 0, usage);
    bool all = p.vm.count("all") > 0;
    ImageStore store(ctx.store.paths());
    FileLock lock = store.lock();
    // Looked at under the lock (as rmi does); a container made from an
    // image in the moment between fails to start with "no such image".
    Usage u = usage_of(ctx.store);
    for (const auto& img : store.list()) {
        std::string hex = digest_hex(img.id);
        if (u.images.contains(hex) || (!all && !img.names.empty())) continue;
        store.remove(img.id);
        std::cout << hex << "\n";
    }
    return 0;
}

}  // namespace minirt::cli
