#include "cli/container_filter.hpp"

#include <unistd.h>

#include <algorithm>

#include "cli/cli.hpp"
#include "common/error.hpp"
#include "common/parse.hpp"
#include "image/layers.hpp"
#include "image/reference.hpp"

namespace minirt::cli {

namespace {

const std::vector<std::string> kStatuses{"created", "running", "paused", "stopping", "exited", "restarting"};
const std::vector<std::string> kHealth{"starting", "healthy", "unhealthy", "none"};
const std::vector<std::string> kConfigKeys{"label", "ancestor", "network", "volume", "restart-policy"};

std::string joined(const std::vector<std::string>& words) {
    std::string out;
    for (const auto& w : words) out += (out.empty() ? "" : ", ") + w;
    return out;
}

bool contains(const std::vector<std::string>& v, const std::string& x) { return std::find(v.begin(), v.end(), x) != v.end(); }

// ancestor=: the image by the name the container was made with, as
// given (its :latest implied) or as a short name of it, or the image's id
// (prefix).
bool image_matches(const ContainerConfig& c, const std::string& value) {
    if (c.image == value) return true;
    try {
        ImageReference have = parse_reference(c.image), want = parse_reference(value);
        if (have.str() == want.str() || short_name_matches(have, want)) return true;
    } catch (const Error&) {
        // Not a reference (an imported image's plain name): by its name alone.
    }
    std::string id = digest_hex(c.image_id);
    std::string want = value.starts_with("sha256:") ? value.substr(7) : value;
    return !id.empty() && want.size() >= 3 && id.starts_with(want);
}

}  // namespace

ContainerFilter ContainerFilter::parse(const Store& store, const std::vector<std::string>& specs,
                                       const std::vector<std::string>& keys, bool at_boot) {
    ContainerFilter f;
    f.at_boot_ = at_boot;
    for (const auto& spec : specs) {
        auto eq = spec.find('=');
        if (eq == std::string::npos || eq == 0) throw Error("invalid --filter " + quote_for_message(spec) + ": KEY=VALUE");
        std::string key = spec.substr(0, eq), value = spec.substr(eq + 1);
        if (!contains(keys, key)) throw Error("invalid --filter " + quote_for_message(key) + ": use " + joined(keys));
        std::string shown = "invalid --filter " + quote_for_message(spec);
        if (key == "status" && !contains(kStatuses, value)) throw Error(shown + ": a status is one of " + joined(kStatuses));
        if (key == "health" && !contains(kHealth, value)) throw Error(shown + ": one of " + joined(kHealth));
        if (key == "exited") parse_int(value, "--filter exited", 0, 255);
        if (key == "restart-policy") {
            RestartPolicy p = parse_restart_policy(value, "--filter restart-policy");
            if (p.max_retries) throw Error(shown + ": a policy without its count");
        }
        if (key == "name") {
            try {
                f.names_.emplace_back(value, std::regex::ECMAScript | std::regex::optimize);
            } catch (const std::regex_error& e) {
                throw Error(shown + ": not a regular expression (" + e.what() + ")");
            }
        }
        if (key == "before" || key == "since") {
            auto id = store.find(value);
            if (!id) throw Error(shown + ": no such container");
            f.created_ns_[key].push_back(store.load_config(*id).created_ns);
        }
        f.by_key_[key].push_back(value);
    }
    return f;
}

bool ContainerFilter::needs_config() const {
    return std::any_of(kConfigKeys.begin(), kConfigKeys.end(), [&](const std::string& k) { return by_key_.count(k) > 0; });
}

bool ContainerFilter::matches(const Store& store, const ContainerView& v, const ContainerConfig* config) const {
    if (!v.load_error.empty()) return false;  // nothing known to match
    for (const auto& [key, values] : by_key_) {
        bool any = false;
        for (size_t i = 0; i < values.size() && !any; ++i) any = matches_one(store, key, i, v, config);
        if (!any) return false;
    }
    return true;
}

bool ContainerFilter::matches_one(const Store& store, const std::string& key, size_t i, const ContainerView& v,
                                  const ContainerConfig* c) const {
    const std::string& value = by_key_.at(key)[i];
    if (key == "id") return v.id.starts_with(value);
    // A regular expression matched anywhere in the name, as podman's.
    if (key == "name") return std::regex_search(v.summary.name, names_[i]);
    if (key == "status") return value == "restarting" ? v.waiting_to_restart() : to_string(v.status) == value;
    if (key == "exited")
        return v.status == Status::Exited && v.state && v.state->exit_code &&
               *v.state->exit_code == parse_int(value, "exited", 0, 255);
    if (key == "health") return value == "none" ? v.health.empty() : v.health == value;
    if (key == "before") return v.summary.created_ns < created_ns_.at(key)[i];
    if (key == "since") return v.summary.created_ns > created_ns_.at(key)[i];
    if (!c) return false;
    if (key == "label") return label_filter_matches(c->labels, value);
    if (key == "ancestor") return image_matches(*c, value);
    if (key == "network")
        return std::any_of(c->networks.begin(), c->networks.end(), [&](const NetworkRequest& n) { return n.name == value; });
    if (key == "volume")
        return std::any_of(c->mounts.begin(), c->mounts.end(), [&](const MountRequest& m) {
            return (m.type == "volume" && m.source == value) || m.destination == value;
        });
    if (key == "restart-policy") {
        RestartPolicy::Kind kind = parse_restart_policy(value).kind;
        if (c->restart.kind != kind) return false;
        // At boot: only those the user had not stopped (Docker's rule).
        return !at_boot_ || kind != RestartPolicy::Kind::UnlessStopped ||
               ::access(store.paths().user_stopped_file(v.id).c_str(), F_OK) < 0;
    }
    return false;
}

}  // namespace minirt::cli
