#include "cdi/cdi.hpp"

#include <algorithm>
#include <map>
#include <set>

#include <nlohmann/json.hpp>
#include <yaml-cpp/yaml.h>

#include "common/error.hpp"
#include "common/file.hpp"
#include "common/parse.hpp"

namespace minirt::cdi {

using nlohmann::json;

namespace {

// Versions as numbers (0.6.0 → 600) for the minimum-version rules.
constexpr std::string_view kVersions[] = {"0.3.0", "0.4.0", "0.5.0", "0.6.0", "0.7.0", "0.8.0"};

int version_number(const std::string& v) { return (v[2] - '0') * 100; }

constexpr size_t kMaxYamlNodes = 100000;

// A YAML document as JSON: plain scalars that read as numbers, booleans
// or null become those (as a YAML 1.2 core schema loader reads them);
// quoted ones stay strings.
// `budget`: how many nodes may still be made. Aliases are expanded here,
// so a few hundred bytes of nested aliases could ask for gigabytes.
json yaml_to_json(const YAML::Node& n, size_t& budget, int depth = 0) {
    if (depth > 64) throw Error("nested too deeply");
    if (budget-- == 0) throw Error("more than " + std::to_string(kMaxYamlNodes) + " values (aliases expanded)");
    switch (n.Type()) {
        case YAML::NodeType::Null:
        case YAML::NodeType::Undefined:
            return nullptr;
        case YAML::NodeType::Sequence: {
            json a = json::array();
            for (const auto& e : n) a.push_back(yaml_to_json(e, budget, depth + 1));
            return a;
        }
        case YAML::NodeType::Map: {
            json o = json::object();
            for (const auto& kv : n) {
                if (!kv.first.IsScalar()) throw Error("a key that is not a string");
                o[kv.first.Scalar()] = yaml_to_json(kv.second, budget, depth + 1);
            }
            return o;
        }
        case YAML::NodeType::Scalar:
            break;
    }
    const std::string& s = n.Scalar();
    if (n.Tag() == "!") return s;  // quoted
    if (s == "true" || s == "True" || s == "TRUE") return true;
    if (s == "false" || s == "False" || s == "FALSE") return false;
    if (s == "null" || s == "~" || s.empty()) return nullptr;
    // Integers as YAML 1.1 reads them (Go's loaders, which wrote the
    // specs): 0640 and 0o640 are octal (a fileMode), 0x1f hexadecimal.
    auto all_of = [&](size_t from, std::string_view set) {
        return from < s.size() && s.size() <= 20 && s.find_first_not_of(set, from) == std::string::npos;
    };
    size_t sign = s[0] == '-' || s[0] == '+' ? 1 : 0;
    int64_t value = 0;
    if (s.compare(sign, 2, "0x") == 0 && s.size() - sign <= 17 && all_of(sign + 2, "0123456789abcdefABCDEF"))
        value = std::stoll(s.substr(sign + 2), nullptr, 16);
    else if (s.compare(sign, 2, "0o") == 0 && all_of(sign + 2, "01234567"))
        value = std::stoll(s.substr(sign + 2), nullptr, 8);
    else if (s[sign] == '0' && all_of(sign, "01234567"))
        value = std::stoll(s.substr(sign), nullptr, 8);
    else if (all_of(sign, "0123456789") && s.size() - sign <= 18)
        value = std::stoll(s.substr(sign));
    else
        return s;
    return sign && s[0] == '-' ? -value : value;
}

// Field readers that name what is wrong and where.
class Reader {
public:
    explicit Reader(std::string file) : file_(std::move(file)) {}

    [[noreturn]] void bad(const std::string& where, const std::string& why) const {
        throw Error("CDI spec " + file_ + ": " + where + ": " + why);
    }
    void only(const json& o, const std::string& where, std::initializer_list<const char*> keys) const {
        if (!o.is_object()) bad(where, "must be an object");
        for (const auto& item : o.items()) {
            const std::string& k = item.key();
            if (std::none_of(keys.begin(), keys.end(), [&](const char* key) { return k == key; }))
                bad(where, "unknown field " + quote_for_message(k));
        }
    }
    std::string string(const json& o, const char* key, const std::string& where, bool required) const {
        if (!o.contains(key) || o[key].is_null()) {
            if (required) bad(where, std::string("needs \"") + key + "\"");
            return {};
        }
        if (!o[key].is_string()) bad(where + "." + key, "must be a string");
        return o[key].get<std::string>();
    }
    std::vector<std::string> strings(const json& o, const char* key, const std::string& where) const {
        std::vector<std::string> out;
        if (!o.contains(key) || o[key].is_null()) return out;
        if (!o[key].is_array()) bad(where + "." + key, "must be a list of strings");
        for (const auto& e : o[key]) {
            if (!e.is_string()) bad(where + "." + key, "must be a list of strings");
            out.push_back(e.get<std::string>());
        }
        return out;
    }
    template <class T>
    std::optional<T> integer(const json& o, const char* key, const std::string& where, int64_t lo, int64_t hi) const {
        if (!o.contains(key) || o[key].is_null()) return std::nullopt;
        const json& v = o[key];
        if (!v.is_number_integer()) bad(where + "." + key, "must be an integer");
        int64_t x = v.is_number_unsigned() && v.get<uint64_t>() > static_cast<uint64_t>(INT64_MAX) ? hi + 1 : v.get<int64_t>();
        if (x < lo || x > hi) bad(where + "." + key, "out of range (" + std::to_string(lo) + " to " + std::to_string(hi) + ")");
        return static_cast<T>(x);
    }
    const json& list(const json& o, const char* key, const std::string& where) const {
        static const json kEmpty = json::array();
        if (!o.contains(key) || o[key].is_null()) return kEmpty;
        if (!o[key].is_array()) bad(where + "." + key, "must be a list");
        return o[key];
    }

private:
    std::string file_;
};

bool absolute_clean(const std::string& p) {
    return !p.empty() && p[0] == '/' && p.find('\0') == std::string::npos;
}

ContainerEdits parse_edits(const Reader& r, const json& o, const std::string& where, int version) {
    ContainerEdits e;
    if (o.is_null()) return e;
    r.only(o, where, {"env", "deviceNodes", "hooks", "mounts", "intelRdt", "additionalGids", "additionalGIDs"});
    if (o.contains("intelRdt") && !o["intelRdt"].is_null())
        r.bad(where + ".intelRdt", "not supported by minirt (Intel RDT classes are not set up)");
    e.env = r.strings(o, "env", where);
    for (const auto& kv : e.env)
        if (kv.find('=') == std::string::npos || kv[0] == '=') r.bad(where + ".env", quote_for_message(kv) + " is not KEY=VALUE");
    size_t i = 0;
    for (const auto& d : r.list(o, "deviceNodes", where)) {
        std::string at = where + ".deviceNodes[" + std::to_string(i++) + "]";
        r.only(d, at, {"path", "hostPath", "type", "major", "minor", "fileMode", "permissions", "uid", "gid"});
        DeviceNodeEdit n;
        n.path = r.string(d, "path", at, true);
        if (!absolute_clean(n.path)) r.bad(at + ".path", "must be an absolute path");
        n.host_path = r.string(d, "hostPath", at, false);
        if (!n.host_path.empty() && version < 500) r.bad(at + ".hostPath", "needs cdiVersion 0.5.0 or later");
        if (!n.host_path.empty() && !absolute_clean(n.host_path)) r.bad(at + ".hostPath", "must be an absolute path");
        std::string type = r.string(d, "type", at, false);
        if (!type.empty()) {
            if (type != "c" && type != "b" && type != "u" && type != "p") r.bad(at + ".type", "must be c, b, u or p");
            n.type = type[0];
        }
        n.major = r.integer<int64_t>(d, "major", at, 0, 0xfffff);
        n.minor = r.integer<int64_t>(d, "minor", at, 0, 0xfffff);
        n.file_mode = r.integer<uint32_t>(d, "fileMode", at, 0, 07777);
        n.uid = r.integer<uint32_t>(d, "uid", at, 0, 0xffffffff);
        n.gid = r.integer<uint32_t>(d, "gid", at, 0, 0xffffffff);
        n.permissions = r.string(d, "permissions", at, false);
        if (n.permissions.find_first_not_of("rwm") != std::string::npos)
            r.bad(at + ".permissions", "must be made of r, w and m");
        e.device_nodes.push_back(std::move(n));
    }
    i = 0;
    for (const auto& m : r.list(o, "mounts", where)) {
        std::string at = where + ".mounts[" + std::to_string(i++) + "]";
        r.only(m, at, {"hostPath", "containerPath", "options", "type"});
        MountEdit me;
        me.host_path = r.string(m, "hostPath", at, true);
        me.container_path = r.string(m, "containerPath", at, true);
        me.type = r.string(m, "type", at, false);
        if (!me.type.empty() && version < 400) r.bad(at + ".type", "needs cdiVersion 0.4.0 or later");
        if (!absolute_clean(me.container_path)) r.bad(at + ".containerPath", "must be an absolute path");
        me.options = r.strings(m, "options", at);
        if ((me.type.empty() || me.type == "bind") && !absolute_clean(me.host_path))
            r.bad(at + ".hostPath", "must be an absolute path");
        e.mounts.push_back(std::move(me));
    }
    i = 0;
    for (const auto& h : r.list(o, "hooks", where)) {
        std::string at = where + ".hooks[" + std::to_string(i++) + "]";
        r.only(h, at, {"hookName", "path", "args", "env", "timeout"});
        HookEdit he;
        he.hook_name = r.string(h, "hookName", at, true);
        static const std::set<std::string> kHooks{"prestart", "createRuntime", "createContainer", "startContainer",
                                                  "poststart", "poststop"};
        if (!kHooks.count(he.hook_name)) r.bad(at + ".hookName", "unknown hook " + quote_for_message(he.hook_name));
        he.path = r.string(h, "path", at, true);
        if (!absolute_clean(he.path)) r.bad(at + ".path", "must be an absolute path");
        he.args = r.strings(h, "args", at);
        he.env = r.strings(h, "env", at);
        he.timeout = r.integer<int>(h, "timeout", at, 1, 86400);
        e.hooks.push_back(std::move(he));
    }
    for (const char* key : {"additionalGids", "additionalGIDs"}) {
        if (!o.contains(key) || o[key].is_null()) continue;
        if (version < 700) r.bad(where + "." + key, "needs cdiVersion 0.7.0 or later");
        if (!o[key].is_array()) r.bad(where + "." + key, "must be a list of gids");
        for (const auto& g : o[key]) {
            if (!g.is_number_integer() || g.get<int64_t>() < 0 || g.get<int64_t>() > 0xffffffff)
                r.bad(where + "." + key, "must be a list of gids");
            e.additional_gids.push_back(static_cast<uint32_t>(g.get<int64_t>()));
        }
    }
    return e;
}

// vendor: DNS-like labels; class: alphanumerics with - _ . between; name:
// alphanumerics with - _ . : between.
bool valid_segment(std::string_view s, std::string_view inner) {
    auto alnum = [](char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'); };
    if (s.empty() || s.size() > 253 || !alnum(s.front()) || !alnum(s.back())) return false;
    return std::all_of(s.begin(), s.end(), [&](char c) { return alnum(c) || inner.find(c) != std::string_view::npos; });
}

bool valid_kind(std::string_view kind) {
    auto slash = kind.find('/');
    if (slash == std::string_view::npos) return false;
    std::string_view vendor = kind.substr(0, slash), cls = kind.substr(slash + 1);
    return valid_segment(vendor, "-.") && cls.size() <= 63 && valid_segment(cls, "-_.");
}

bool valid_device_name(std::string_view name) { return valid_segment(name, "-_.:"); }

// Merged edits, each conflict named: two nodes at one path from different
// host nodes, two mounts on one place from different sources.
class Merger {
public:
    void add(const ContainerEdits& e, const std::string& from) {
        // A variable set twice takes the last value (CDI's own rule: a
        // spec's per-device X_VISIBLE_DEVICES=N, say, is not a conflict).
        for (const auto& kv : e.env) {
            std::string key = kv.substr(0, kv.find('=') + 1);
            auto same = std::find_if(out_.env.begin(), out_.env.end(), [&](const std::string& x) { return x.starts_with(key); });
            if (same != out_.env.end()) *same = kv;
            else out_.env.push_back(kv);
        }
        for (const auto& n : e.device_nodes) {
            std::string host = n.host_path.empty() ? n.path : n.host_path;
            auto [it, fresh] = nodes_.try_emplace(n.path, host, from);
            if (!fresh && it->second.first != host) conflict("the device node " + n.path, it->second.second, from);
            if (fresh) out_.device_nodes.push_back(n);
        }
        for (const auto& m : e.mounts) {
            auto [it, fresh] = mounts_.try_emplace(m.container_path, m.host_path, from);
            if (!fresh && it->second.first != m.host_path) conflict("the mount on " + m.container_path, it->second.second, from);
            if (fresh) out_.mounts.push_back(m);
        }
        for (const auto& h : e.hooks) out_.hooks.push_back(h);
        for (uint32_t g : e.additional_gids)
            if (std::find(out_.additional_gids.begin(), out_.additional_gids.end(), g) == out_.additional_gids.end())
                out_.additional_gids.push_back(g);
    }
    ContainerEdits take() { return std::move(out_); }

private:
    [[noreturn]] static void conflict(const std::string& what, const std::string& a, const std::string& b) {
        throw Error("CDI devices conflict: " + a + " and " + b + " set " + what + " differently");
    }
    ContainerEdits out_;
    std::map<std::string, std::pair<std::string, std::string>> nodes_, mounts_;
};

}  // namespace

Spec parse_spec(const std::string& text, const std::string& file) {
    Reader r(file);
    json doc;
    try {
        if (file.size() >= 5 && file.compare(file.size() - 5, 5, ".json") == 0) {
            doc = json::parse(text);
        } else {
            size_t budget = kMaxYamlNodes;
            doc = yaml_to_json(YAML::Load(text), budget);
        }
    } catch (const json::exception& e) {
        r.bad("JSON", e.what());
    } catch (const YAML::Exception& e) {
        r.bad("YAML", e.what());
    } catch (const Error& e) {
        r.bad("YAML", e.message());
    }
    r.only(doc, "the spec", {"cdiVersion", "kind", "annotations", "devices", "containerEdits"});
    Spec s;
    s.file = file;
    s.version = r.string(doc, "cdiVersion", "the spec", true);
    if (std::find(std::begin(kVersions), std::end(kVersions), s.version) == std::end(kVersions))
        r.bad("cdiVersion", quote_for_message(s.version) + " is not one minirt reads (0.3.0 to 0.8.0)");
    int version = version_number(s.version);
    s.kind = r.string(doc, "kind", "the spec", true);
    if (!valid_kind(s.kind)) r.bad("kind", quote_for_message(s.kind) + " is not vendor.com/class");
    if (version < 600 && s.kind.substr(s.kind.find('/') + 1).find('.') != std::string::npos)
        r.bad("kind", "a dot in the class needs cdiVersion 0.6.0 or later");
    auto annotations = [&](const json& o, const std::string& where) {
        if (!o.contains("annotations") || o["annotations"].is_null()) return;
        if (version < 600) r.bad(where + ".annotations", "needs cdiVersion 0.6.0 or later");
        if (!o["annotations"].is_object()) r.bad(where + ".annotations", "must be a map of strings");
        for (const auto& [k, v] : o["annotations"].items())
            if (!v.is_string()) r.bad(where + ".annotations", "must be a map of strings");
    };
    annotations(doc, "the spec");
    if (doc.contains("containerEdits")) s.edits = parse_edits(r, doc["containerEdits"], "containerEdits", version);
    const json& devices = r.list(doc, "devices", "the spec");
    if (devices.empty()) r.bad("devices", "a spec must define at least one device");
    std::set<std::string> names;
    size_t i = 0;
    for (const auto& d : devices) {
        std::string at = "devices[" + std::to_string(i++) + "]";
        r.only(d, at, {"name", "annotations", "containerEdits"});
        Device dev;
        dev.name = r.string(d, "name", at, true);
        if (!valid_device_name(dev.name)) r.bad(at + ".name", quote_for_message(dev.name) + " is not a device name");
        if (version < 500 && dev.name[0] >= '0' && dev.name[0] <= '9')
            r.bad(at + ".name", "a name that starts with a digit needs cdiVersion 0.5.0 or later");
        if (!names.insert(dev.name).second) r.bad(at + ".name", quote_for_message(dev.name) + " is defined twice");
        annotations(d, at);
        if (!d.contains("containerEdits") || d["containerEdits"].is_null()) r.bad(at, "needs \"containerEdits\"");
        dev.edits = parse_edits(r, d["containerEdits"], at + ".containerEdits", version);
        s.devices.push_back(std::move(dev));
    }
    return s;
}

bool is_qualified_name(std::string_view name) {
    auto eq = name.find('=');
    return eq != std::string_view::npos && valid_kind(name.substr(0, eq)) && valid_device_name(name.substr(eq + 1));
}

std::vector<fs::path> default_spec_dirs() { return {"/etc/cdi", "/var/run/cdi"}; }

Registry Registry::load(const std::vector<fs::path>& dirs) {
    Registry reg;
    reg.dirs_ = dirs;
    for (size_t d = 0; d < dirs.size(); ++d) {
        std::vector<fs::path> files;
        std::error_code ec;
        for (fs::directory_iterator it(dirs[d], ec), end; !ec && it != end; it.increment(ec)) {
            std::string ext = it->path().extension().string();
            if ((ext == ".json" || ext == ".yaml" || ext == ".yml") && it->is_regular_file(ec)) files.push_back(it->path());
        }
        std::sort(files.begin(), files.end());
        for (const auto& f : files) {
            try {
                std::error_code size_ec;
                if (fs::file_size(f, size_ec) > (16u << 20) && !size_ec)
                    throw Error("CDI spec " + f.string() + ": larger than 16 MiB");
                auto text = read_file_if_exists(f);
                if (!text) continue;  // removed meanwhile
                if (text->size() > (16u << 20)) throw Error("CDI spec " + f.string() + ": larger than 16 MiB");
                reg.specs_.push_back(parse_spec(*text, f.string()));
                reg.priority_.push_back(d);
            } catch (const Error& e) {
                reg.broken_.push_back(e.message());
            }
        }
    }
    return reg;
}

std::optional<Registry::Found> Registry::find(const std::string& kind, const std::string& name) const {
    std::optional<Found> found;
    std::optional<size_t> at;
    for (size_t i = 0; i < specs_.size(); ++i) {
        if (specs_[i].kind != kind) continue;
        for (const auto& d : specs_[i].devices) {
            if (d.name != name) continue;
            if (found && priority_[*at] == priority_[i])
                throw Error("CDI device " + kind + "=" + name + " is defined in both " + found->spec->file + " and " +
                            specs_[i].file);
            found = Found{&specs_[i], &d};  // a later directory overrides
            at = i;
        }
    }
    return found;
}

ContainerEdits Registry::resolve(const std::vector<std::string>& names) const {
    Merger merged;
    std::set<const Spec*> spec_edits_done;
    std::set<std::pair<const Spec*, const Device*>> done;
    for (const auto& qualified : names) {
        if (!is_qualified_name(qualified))
            throw Error("invalid CDI device " + quote_for_message(qualified) + ": vendor.com/class=name");
        auto eq = qualified.find('=');
        std::string kind = qualified.substr(0, eq), name = qualified.substr(eq + 1);
        std::vector<Found> chosen;
        if (auto f = find(kind, name)) {
            chosen.push_back(*f);
        } else if (name == "all") {
            std::set<std::string> seen;
            for (auto it = specs_.rbegin(); it != specs_.rend(); ++it)
                if (it->kind == kind)
                    for (const auto& d : it->devices)
                        if (seen.insert(d.name).second) chosen.push_back(*find(kind, d.name));
        }
        if (chosen.empty()) {
            std::string dirs;
            for (const auto& d : dirs_) dirs += (dirs.empty() ? "" : ", ") + d.string();
            std::string known;
            for (const auto& s : specs_)
                if (s.kind == kind)
                    for (const auto& d : s.devices) known += (known.empty() ? "" : ", ") + d.name;
            // A file that could not be read may be the one that defines it.
            std::string broken = broken_.empty() ? "" : "; " + broken_.front();
            throw Error("unknown CDI device " + quote_for_message(qualified) +
                        (known.empty() ? " (no spec for " + kind + " in " + dirs + ")" : " (" + kind + " has " + known + ")") +
                        broken);
        }
        for (const Found& f : chosen) {
            if (!done.insert({f.spec, f.device}).second) continue;
            if (spec_edits_done.insert(f.spec).second) merged.add(f.spec->edits, f.spec->file);
            merged.add(f.device->edits, kind + "=" + f.device->name + " (" + f.spec->file + ")");
        }
    }
    return merged.take();
}

std::vector<std::string> Registry::device_names() const {
    std::set<std::string> out;
    for (const auto& s : specs_)
        for (const auto& d : s.devices) out.insert(s.kind + "=" + d.name);
    return {out.begin(), out.end()};
}

DeviceNode host_node_of(const DeviceNodeEdit& n) {
    std::string host = n.host_path.empty() ? n.path : n.host_path;
    std::string shown = "CDI device node " + n.path;
    auto node = host_device_node(host);
    if (!node) throw Error(shown + ": " + host + " is not a character or block device on this host");
    if (n.type && *n.type != node->type && !(*n.type == 'u' && node->type == 'c'))
        throw Error(shown + ": the spec says type " + std::string(1, *n.type) + ", " + host + " is " +
                    std::string(1, node->type));
    if ((n.major && *n.major != node->major) || (n.minor && *n.minor != node->minor))
        throw Error(shown + ": the spec's numbers are not those of " + host);
    return *node;
}

namespace {

json& array_at(json& parent, const char* key) {
    if (!parent.contains(key) || parent[key].is_null()) parent[key] = json::array();
    if (!parent[key].is_array()) throw Error(std::string("config.json: ") + key + " is not a list");
    return parent[key];
}

void add_node(json& spec, const DeviceNodeEdit& n) {
    json& linux_ = spec["linux"];
    json& devices = array_at(linux_, "devices");
    const DeviceNode node = host_node_of(n);
    std::string shown = "CDI device node " + n.path;
    std::string type(1, node.type);
    for (const auto& d : devices) {
        if (d.value("path", "") != n.path) continue;
        // An engine made it already: the same node, or a refusal.
        if (d.value("type", "") != type || d.value("major", int64_t{-1}) != node.major ||
            d.value("minor", int64_t{-1}) != node.minor)
            throw Error(shown + ": config.json has another node there");
        return;
    }
    json entry{{"path", n.path}, {"type", type}, {"major", node.major}, {"minor", node.minor},
               {"fileMode", n.file_mode.value_or(node.file_mode)}, {"uid", n.uid.value_or(0)}, {"gid", n.gid.value_or(0)}};
    devices.push_back(entry);
    json& resources = linux_["resources"];
    if (resources.is_null()) resources = json::object();
    array_at(resources, "devices").push_back({{"allow", true}, {"type", type}, {"major", node.major},
                                              {"minor", node.minor}, {"access", n.permissions.empty() ? "rwm" : n.permissions}});
}

void add_mount(json& spec, const MountEdit& m) {
    json& mounts = array_at(spec, "mounts");
    bool bind = m.type.empty() || m.type == "bind" ||
                std::any_of(m.options.begin(), m.options.end(), [](const std::string& o) { return o == "bind" || o == "rbind"; });
    std::string source = bind ? m.host_path : (m.host_path.empty() ? m.type : m.host_path);
    for (const auto& existing : mounts) {
        if (existing.value("destination", "") != m.container_path) continue;
        if (existing.value("source", "") == source) return;
        throw Error("CDI mount on " + m.container_path + ": config.json mounts " + existing.value("source", "?") +
                    " there already");
    }
    std::vector<std::string> options = m.options;
    if (bind && std::none_of(options.begin(), options.end(), [](const std::string& o) { return o == "bind" || o == "rbind"; }))
        options.push_back("rbind");
    mounts.push_back({{"destination", m.container_path}, {"type", bind ? "bind" : m.type}, {"source", source}, {"options", options}});
}

void set_env(json& spec, const std::string& kv) {
    json& env = array_at(spec["process"], "env");
    std::string key = kv.substr(0, kv.find('=') + 1);
    for (auto& e : env)
        if (e.is_string() && e.get<std::string>().starts_with(key)) {
            e = kv;  // CDI's rule: the device's value wins
            return;
        }
    env.push_back(kv);
}

void add_hook(json& spec, const HookEdit& h) {
    json& hooks = spec["hooks"];
    if (hooks.is_null()) hooks = json::object();
    json& stage = array_at(hooks, h.hook_name.c_str());
    for (const auto& e : stage)
        if (e.value("path", "") == h.path && e.value("args", std::vector<std::string>{}) == h.args) return;
    json entry{{"path", h.path}};
    if (!h.args.empty()) entry["args"] = h.args;
    if (!h.env.empty()) entry["env"] = h.env;
    if (h.timeout) entry["timeout"] = *h.timeout;
    stage.push_back(entry);
}

}  // namespace

namespace {

bool apply_annotated(json& spec, const std::vector<fs::path>& dirs);

}  // namespace

bool apply_annotated_devices(json& spec, const std::vector<fs::path>& dirs) {
    try {
        return apply_annotated(spec, dirs);
    } catch (const json::exception& e) {
        // A field of config.json of the wrong type where an edit goes.
        throw Error(std::string("config.json: applying its CDI devices: ") + e.what());
    }
}

namespace {

bool apply_annotated(json& spec, const std::vector<fs::path>& dirs) {
    std::vector<std::string> names;
    if (spec.contains("annotations") && spec["annotations"].is_object())
        for (const auto& item : spec["annotations"].items()) {
            if (!std::string_view(item.key()).starts_with(kAnnotationPrefix) || !item.value().is_string()) continue;
            const std::string value = item.value().get<std::string>();
            for (const auto& name : split(value, ',')) {
                std::string n(name);
                n.erase(0, n.find_first_not_of(' '));
                n.erase(n.find_last_not_of(' ') + 1);
                if (!is_qualified_name(n))
                    throw Error("config.json: annotation " + item.key() + ": " + quote_for_message(n) +
                                " is not a CDI device (vendor.com/class=name)");
                if (std::find(names.begin(), names.end(), n) == names.end()) names.push_back(n);
            }
        }
    if (names.empty()) return false;
    if (!spec["process"].is_object()) throw Error("config.json: CDI devices need a process");
    ContainerEdits e = Registry::load(dirs).resolve(names);
    for (const auto& n : e.device_nodes) add_node(spec, n);
    for (const auto& m : e.mounts) add_mount(spec, m);
    for (const auto& kv : e.env) set_env(spec, kv);
    if (!e.additional_gids.empty()) {
        json& user = spec["process"]["user"];
        if (user.is_null()) user = json::object();
        json& gids = array_at(user, "additionalGids");
        for (uint32_t g : e.additional_gids)
            if (std::find(gids.begin(), gids.end(), json(g)) == gids.end()) gids.push_back(g);
    }
    for (const auto& h : e.hooks) add_hook(spec, h);
    return true;
}

}  // namespace

}  // namespace minirt::cdi
