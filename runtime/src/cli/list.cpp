// minirt list / ps: every container (list, ps -a) or the running ones (ps).
#include <algorithm>
#include <cstdio>
#include <functional>
#include <string_view>
#include <variant>
#include <iomanip>
#include <iostream>
#include <map>
#include <unordered_map>
#include <nlohmann/json.hpp>

#include "cli/cli.hpp"
#include "cli/container_filter.hpp"
#include "cli/format_template.hpp"
#include "common/parse.hpp"
#include "container/ops.hpp"
#include "image/image.hpp"
#include "image/image_store.hpp"
#include "image/layers.hpp"

namespace minirt::cli {

namespace {

std::string command_text(const ContainerSummary& c) {
    std::string s;
    for (const auto& a : c.command) {
        if (!s.empty()) s += ' ';
        s += a;
    }
    return s;
}

const std::vector<std::string> kListFilterKeys{"id",     "name",   "label",   "status",  "exited", "ancestor", "health",
                                               "before", "since",  "network", "volume",  "restart-policy"};

std::string truncate(const std::string& s, size_t n) { return s.size() <= n ? s : s.substr(0, n - 3) + "..."; }

nlohmann::json row_json(const ContainerView& v) {
    nlohmann::json j{{"id", v.id}, {"status", v.load_error.empty() ? to_string(v.status) : "error"}};
    if (!v.load_error.empty()) {
        j["error"] = v.load_error;
        return j;
    }
    const auto& c = v.summary;
    j["name"] = c.name;
    j["image"] = c.image;
    j["command"] = c.command;
    j["created"] = format_rfc3339(c.created_ns);
    j["reason"] = v.reason;
    j["pid"] = (v.status == Status::Running || v.status == Status::Paused) ? v.state->pid : 0;
    j["exit_code"] = nullptr;
    if (v.state) {
        if (v.status == Status::Exited && v.state->exit_code && v.reason != "shim-lost")
            j["exit_code"] = *v.state->exit_code;
        j["started_at"] = v.state->started_ns ? nlohmann::json(format_rfc3339(v.state->started_ns)) : nlohmann::json();
        j["finished_at"] = v.state->finished_ns ? nlohmann::json(format_rfc3339(v.state->finished_ns)) : nlohmann::json();
        j["restarting"] = v.waiting_to_restart();
        j["restarts"] = v.state->restart_count;
    }
    if (!v.health.empty()) j["health"] = v.health;
    return j;
}

// The rows as nlohmann's dump(2) of row_json() would print them (keys in
// its sorted order), written straight into one string: building 1000 DOM
// objects cost more than reading the containers. Strings with bytes outside
// ASCII are left to nlohmann (its UTF-8 checks and errors); nullopt then.
class JsonRows {
public:
    bool add(const ContainerView& v) {
        out_ += first_ ? "\n  {" : ",\n  {";
        first_ = false;
        bool ok = true;
        if (!v.load_error.empty()) {
            ok &= field("error", v.load_error);
            ok &= field("id", v.id);
            ok &= field("status", "error");
            close_object();
            return ok;
        }
        const auto& c = v.summary;
        key("command");
        if (c.command.empty()) {
            out_ += "[]";
        } else {
            out_ += "[";
            for (size_t i = 0; i < c.command.size(); ++i) {
                out_ += i ? ",\n      " : "\n      ";
                ok &= string(c.command[i]);
            }
            out_ += "\n    ]";
        }
        ok &= field("created", format_rfc3339(c.created_ns));
        key("exit_code");
        if (v.state && v.status == Status::Exited && v.state->exit_code && v.reason != "shim-lost")
            out_ += std::to_string(*v.state->exit_code);
        else
            out_ += "null";
        if (v.state) ok &= time_field("finished_at", v.state->finished_ns);
        if (!v.health.empty()) ok &= field("health", v.health);
        ok &= field("id", v.id);
        ok &= field("image", c.image);
        ok &= field("name", c.name);
        key("pid");
        out_ += std::to_string((v.status == Status::Running || v.status == Status::Paused) ? v.state->pid : 0);
        ok &= field("reason", v.reason);
        if (v.state) {
            key("restarting");
            out_ += v.waiting_to_restart() ? "true" : "false";
            key("restarts");
            out_ += std::to_string(v.state->restart_count);
            ok &= time_field("started_at", v.state->started_ns);
        }
        ok &= field("status", to_string(v.status));
        close_object();
        return ok;
    }
    std::string finish() {
        if (first_) return "[]\n";
        out_ += "\n]\n";
        return std::move(out_);
    }

private:
    std::string out_ = "[";
    bool first_ = true;
    bool first_key_ = true;

    void key(std::string_view k) {
        out_ += first_key_ ? "\n    \"" : ",\n    \"";
        first_key_ = false;
        out_ += k;
        out_ += "\": ";
    }
    void close_object() {
        out_ += "\n  }";
        first_key_ = true;
    }
    bool field(std::string_view k, std::string_view value) {
        key(k);
        return string(value);
    }
    bool time_field(std::string_view k, int64_t ns) {
        if (ns) return field(k, format_rfc3339(ns));
        key(k);
        out_ += "null";
        return true;
    }
    bool string(std::string_view s) {
        out_ += '"';
        for (char ch : s) {
            auto c = static_cast<unsigned char>(ch);
            switch (c) {
                case '"': out_ += "\\\""; break;
                case '\\': out_ += "\\\\"; break;
                case '\b': out_ += "\\b"; break;
                case '\f': out_ += "\\f"; break;
                case '\n': out_ += "\\n"; break;
                case '\r': out_ += "\\r"; break;
                case '\t': out_ += "\\t"; break;
                default:
                    if (c >= 0x80) return false;
                    if (c < 0x20) {
                        char buf[8];
                        std::snprintf(buf, sizeof buf, "\\u%04x", c);
                        out_ += buf;
                    } else {
                        out_ += ch;
                    }
            }
        }
        out_ += '"';
        return true;
    }
};

// ps -s: a container's writable layer and, with its image, its whole root
// (podman's "12B (virtual 1.5MB)"). Images are measured once per listing.
class Sizes {
public:
    explicit Sizes(const Store& store) : store_(store) {}
    std::pair<uint64_t, uint64_t> of(const ContainerView& v) {
        uint64_t rw = directory_size(store_.paths().upper_dir(v.id).string());
        auto [it, fresh] = images_.try_emplace(v.summary.image, 0);
        if (fresh) {
            if (auto img = ImageStore(store_.paths()).find(v.summary.image)) it->second = img->size;
            else it->second = directory_size(store_.paths().image_rootfs(v.summary.image).string());
        }
        return {rw, rw + it->second};
    }
    std::string text(const ContainerView& v) {
        auto [rw, all] = of(v);
        return human_size(rw) + " (virtual " + human_size(all) + ")";
    }

private:
    const Store& store_;
    std::map<std::string, uint64_t> images_;
};

// podman's `ps --format TEMPLATE` fields (its psReporter's), those the
// template reads: labels, mounts and networks cost a read of the config.
// `config`: minirt.json when the caller read it already (for a filter).
nlohmann::json ps_fields(const Store& store, const ContainerView& v, const TemplateFormat& fmt, int64_t now,
                         bool no_trunc, Sizes* sizes, const ContainerConfig* config_read) {
    nlohmann::json j = nlohmann::json::object();
    auto want = [&](std::string_view f) { return fmt.wants(f); };
    if (want("ID")) j["ID"] = no_trunc ? v.id : v.id.substr(0, 12);
    if (want("Id")) j["Id"] = v.id;
    const auto& c = v.summary;
    bool live = v.status == Status::Running || v.status == Status::Paused;
    if (want("Names")) j["Names"] = c.name;
    if (want("Image")) j["Image"] = c.image;
    if (want("Command")) {
        // podman's: cut at 17 characters unless --no-trunc.
        std::string cmd = command_text(c);
        j["Command"] = no_trunc || cmd.size() <= 17 ? cmd : cmd.substr(0, 17) + "...";
    }
    if (want("CreatedAt")) j["CreatedAt"] = format_go_time(c.created_ns);
    if (want("Created")) j["Created"] = c.created_ns / 1000000000;
    if (want("CreatedHuman")) j["CreatedHuman"] = human_age(c.created_ns, now);
    if (want("RunningFor")) j["RunningFor"] = human_age(c.created_ns, now);
    if (want("Status")) j["Status"] = status_text(v, now);
    if (want("State")) j["State"] = to_string(v.status);
    if (want("Pid")) j["Pid"] = live ? v.state->pid : 0;
    if (want("Ports")) j["Ports"] = v.state ? v.state->ports : "";
    bool exited = v.status == Status::Exited;
    if (want("Exited")) j["Exited"] = exited;
    if (want("ExitCode"))
        j["ExitCode"] = v.state && exited && v.state->exit_code && v.reason != "shim-lost" ? *v.state->exit_code : 0;
    // Go's zero time in Unix seconds where there is none, as podman's.
    constexpr int64_t kGoZeroTime = -62135596800;
    if (want("StartedAt")) j["StartedAt"] = v.state && v.state->started_ns ? v.state->started_ns / 1000000000 : kGoZeroTime;
    if (want("ExitedAt"))
        j["ExitedAt"] = v.state && exited && v.state->finished_ns ? v.state->finished_ns / 1000000000 : kGoZeroTime;
    if (want("Restarts")) j["Restarts"] = v.state ? v.state->restart_count : 0;
    // podman's: empty unless -s asked for sizes.
    if (want("Size")) j["Size"] = sizes ? sizes->text(v) : "";
    if (want("Labels") || want("Mounts") || want("Networks") || want("ImageID") || want("AutoRemove")) {
        ContainerConfig loaded;
        if (!config_read) {
            try {
                loaded = store.load_config(v.id);
            } catch (const Error&) {
            }
        }
        const ContainerConfig& config = config_read ? *config_read : loaded;
        j["Labels"] = config.labels;
        nlohmann::json mounts = nlohmann::json::array();
        for (const auto& m : config.mounts) mounts.push_back(m.destination);
        j["Mounts"] = mounts;
        std::string networks;
        if (config.network == "bridge")
            for (const auto& n : config.networks) networks += (networks.empty() ? "" : ",") + n.name;
        j["Networks"] = networks;
        std::string image_id = digest_hex(config.image_id);
        j["ImageID"] = no_trunc ? image_id : image_id.substr(0, std::min<size_t>(12, image_id.size()));
        j["AutoRemove"] = config.auto_remove;
    }
    // A damaged container still has every field (empty ones), so that a
    // template asking for any prints its row instead of failing the listing.
    if (!v.load_error.empty()) {
        j["Names"] = "?";
        j["State"] = "error";
        j["Status"] = "Error: " + v.load_error;
    }
    return j;
}

const std::vector<std::string_view> kSortKeys{"command", "created", "id", "image", "names", "runningfor", "size", "status"};

bool is_sort_key(std::string_view key) { return std::find(kSortKeys.begin(), kSortKeys.end(), key) != kSortKeys.end(); }

// podman's --sort: ascending by the key (created: oldest first; runningfor:
// started first), ties in the listing's order. A damaged container sorts
// by its id.
void sort_views(std::vector<std::reference_wrapper<const ContainerView>>& views, const std::string& key, Sizes& sizes) {
    using Key = std::variant<int64_t, uint64_t, std::string>;
    auto key_of = [&](const ContainerView& v) -> Key {
        if (!v.load_error.empty()) return v.id;
        if (key == "command") return command_text(v.summary);
        if (key == "created") return v.summary.created_ns;
        if (key == "image") return v.summary.image;
        if (key == "names") return v.summary.name;
        if (key == "runningfor") return v.state ? v.state->started_ns : int64_t{0};
        if (key == "size") return sizes.of(v).second;
        if (key == "status") return std::string(to_string(v.status));
        return v.id;
    };
    std::vector<std::pair<Key, std::reference_wrapper<const ContainerView>>> keyed;
    keyed.reserve(views.size());
    for (const ContainerView& v : views) keyed.emplace_back(key_of(v), v);
    std::stable_sort(keyed.begin(), keyed.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
    views.clear();
    for (auto& [k, v] : keyed) views.push_back(v);
}

int list_containers(Context& ctx, const Args& args, const char* usage, bool default_all) {
    po::options_description desc("Options");
    desc.add_options()
        ("all,a", "show all containers, not only running ones")
        ("quiet,q", "print only the ids")
        ("no-trunc", "print full ids and commands")
        ("format", po::value<std::string>()->default_value("table"),
         "table, json, or a Go template such as {{.Names}} or \"table {{.ID}}\\t{{.Status}}\"")
        ("noheading", "no header line")
        ("size,s", "the size of each container's writable layer (and of its whole root: virtual)")
        ("filter,f", po::value<std::vector<std::string>>(),
         "KEY=VALUE: id, name (a regex), label, status, exited, ancestor, health, before, since, network, volume, "
         "restart-policy (implies -a)")
        ("last,n", po::value<int>(), "the N containers made last (implies -a)")
        ("latest,l", "the container made last (implies -a)")
        ("sort", po::value<std::string>(),
         "order by command, created (oldest first), id, image, names, runningfor, size or status (default: newest first)");
    Parsed p = parse(desc, args, usage);
    require_positional(p, 0, 0, usage);
    std::string sort_key = p.vm.count("sort") ? p.vm["sort"].as<std::string>() : "";
    if (!sort_key.empty() && !is_sort_key(sort_key))
        throw Error("invalid --sort " + quote_for_message(sort_key) +
                    ": use command, created, id, image, names, runningfor, size or status");
    ContainerFilter filter = ContainerFilter::parse(ctx.store, flag_values(p.vm, "filter"), kListFilterKeys);
    std::optional<size_t> last;
    if (p.vm.count("last")) {
        int n = p.vm["last"].as<int>();
        if (n < 0) throw Error("invalid --last " + std::to_string(n) + ": must not be negative");
        last = static_cast<size_t>(n);
    }
    if (p.vm.count("latest")) last = 1;
    // podman's: a filter or --last says which containers, running or not.
    bool all = default_all || p.vm.count("all") || !filter.empty() || last;
    std::string format = p.vm["format"].as<std::string>();
    std::optional<TemplateFormat> tmpl = TemplateFormat::parse(format, {"Labels"});
    bool no_trunc = p.vm.count("no-trunc") > 0;
    bool no_header = p.vm.count("noheading") > 0;
    std::optional<Sizes> sizes;
    if (p.vm.count("size")) sizes.emplace(ctx.store);

    // Sorted by reference: a ContainerView is large, and moving 1000 of
    // them about cost more than the comparisons.
    std::vector<ContainerView> all_views = view_all(ctx.store);
    std::unordered_map<std::string, ContainerConfig> configs;
    std::vector<std::reference_wrapper<const ContainerView>> views;
    views.reserve(all_views.size());
    for (const ContainerView& v : all_views) {
        if (!all && v.status != Status::Running && v.status != Status::Paused) continue;
        if (!filter.empty()) {
            // Labels, image, networks and volumes are the config's: read
            // only for a filter that asks about them.
            std::optional<ContainerConfig> config;
            if (filter.needs_config() && v.load_error.empty()) {
                try {
                    config = ctx.store.load_config(v.id);
                } catch (const Error&) {
                    continue;  // damaged: matches nothing
                }
            }
            if (!filter.matches(ctx.store, v, config ? &*config : nullptr)) continue;
            // Kept for a template that reads the config too.
            if (config && tmpl) configs.emplace(v.id, std::move(*config));
        }
        views.emplace_back(v);
    }
    std::sort(views.begin(), views.end(), [](const ContainerView& a, const ContainerView& b) {
        return a.summary.created_ns > b.summary.created_ns;
    });
    if (last && views.size() > *last) views.erase(views.begin() + static_cast<long>(*last), views.end());
    if (!sort_key.empty()) {
        std::optional<Sizes> measured;
        sort_views(views, sort_key, sizes ? *sizes : measured.emplace(ctx.store));
    }

    if (p.vm.count("quiet")) {
        for (const ContainerView& v : views) std::cout << (no_trunc ? v.id : v.id.substr(0, 12)) << "\n";
        return 0;
    }
    if (tmpl) {
        int64_t now = now_ns();
        for (const ContainerView& v : views) {
            auto read = configs.find(v.id);
            tmpl->add(ps_fields(ctx.store, v, *tmpl, now, no_trunc, sizes ? &*sizes : nullptr,
                                read == configs.end() ? nullptr : &read->second));
        }
        std::cout << tmpl->finish({{"ID", "CONTAINER ID"}, {"Id", "CONTAINER ID"}, {"CreatedHuman", "CREATED"}}, no_header);
        return 0;
    }
    if (format == "json") {
        if (sizes) {
            nlohmann::json arr = nlohmann::json::array();
            for (const ContainerView& v : views) {
                nlohmann::json row = row_json(v);
                if (v.load_error.empty()) {
                    auto [rw, root_fs] = sizes->of(v);
                    row["size_rw"] = rw;
                    row["size_root_fs"] = root_fs;
                }
                arr.push_back(row);
            }
            std::cout << arr.dump(2) << "\n";
            return 0;
        }
        JsonRows rows;
        bool plain = true;
        for (const ContainerView& v : views) plain = plain && rows.add(v);
        if (plain) {
            std::cout << rows.finish();
            return 0;
        }
        nlohmann::json arr = nlohmann::json::array();
        for (const ContainerView& v : views) arr.push_back(row_json(v));
        std::cout << arr.dump(2) << "\n";
        return 0;
    }
    int64_t now = now_ns();
    std::vector<std::array<std::string, 9>> rows;
    if (!no_header)
        rows.push_back({"CONTAINER ID", "NAME", "IMAGE", "COMMAND", "STATUS", "CREATED", "PID", "PORTS", sizes ? "SIZE" : ""});
    for (const ContainerView& v : views) {
        std::string id = no_trunc ? v.id : v.id.substr(0, 12);
        if (!v.load_error.empty()) {
            rows.push_back({id, "?", "?", truncate(v.load_error, no_trunc ? 4096 : 60), "Error", "", "", "", ""});
            continue;
        }
        std::string cmd = command_text(v.summary);
        bool live = v.status == Status::Running || v.status == Status::Paused;
        rows.push_back({id, v.summary.name, v.summary.image, no_trunc ? cmd : truncate(cmd, 24), status_text(v, now),
                        human_age(v.summary.created_ns, now), live ? std::to_string(v.state->pid) : "-",
                        v.state ? v.state->ports : "", sizes ? sizes->text(v) : ""});
    }
    std::array<size_t, 9> width{};
    for (const auto& r : rows)
        for (size_t i = 0; i < r.size(); ++i) width[i] = std::max(width[i], r[i].size());
    std::string out;
    for (const auto& r : rows) {
        std::string line;
        for (size_t i = 0; i < r.size(); ++i) {
            line += r[i];
            if (i + 1 < r.size()) line += std::string(width[i] - r[i].size() + 2, ' ');
        }
        while (!line.empty() && line.back() == ' ') line.pop_back();
        out += line + "\n";
    }
    std::cout << out;
    return 0;
}

}  // namespace

nlohmann::json view_json(const ContainerView& v) { return row_json(v); }

int cmd_list(Context& ctx, const Args& args) { return list_containers(ctx, args, "minirt list [OPTIONS]", true); }
int cmd_ps(Context& ctx, const Args& args) { return list_containers(ctx, args, "minirt ps [-a] [OPTIONS]", false); }

}  // namespace minirt::cli
