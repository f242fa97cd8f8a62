#include "image/image_store.hpp"

#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <map>
#include <set>

#include "common/error.hpp"
#include "common/file.hpp"
#include "common/parse.hpp"
#include "common/sha256.hpp"
#include "image/reference.hpp"

namespace minirt {

using nlohmann::json;

namespace {

StoredImage import_layout(const Paths& paths, const fs::path& layout, const std::string& ref,
                          const std::vector<std::string>& names, const LayerLimits& limits);


StoredImage parse_stored(const std::string& text, const fs::path& source) {
    try {
        json j = json::parse(text);
        StoredImage i;
        i.id = j.at("id").get<std::string>();
        i.names = j.value("names", std::vector<std::string>{});
        i.digest = j.value("digest", std::string());
        i.layers = j.at("layers").get<std::vector<std::string>>();
        i.created_ns = j.value("created_ns", int64_t{0});
        i.size = j.value("size", uint64_t{0});
        i.config = j.value("config", json::object());
        validate_digest(i.id, "the image id");
        for (const auto& l : i.layers) validate_digest(l, "a layer");
        return i;
    } catch (const json::exception& e) {
        throw Error("corrupt " + source.string() + ": " + e.what());
    } catch (const Error& e) {
        throw Error("corrupt " + source.string() + ": " + e.message());
    }
}

bool hex_prefix(const std::string& s) {
    return s.size() >= 3 && s.size() <= 64 &&
           std::all_of(s.begin(), s.end(), [](char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); });
}

// A blob of an OCI layout, by digest (checked first: it names a path).
fs::path blob_path(const fs::path& layout, const std::string& digest, const std::string& what) {
    validate_digest(digest, what);
    fs::path p = layout / "blobs" / "sha256" / digest_hex(digest);
    if (::access(p.c_str(), R_OK) < 0) throw Error("the image's " + what + " " + digest + " is missing from the archive");
    return p;
}

std::string read_blob(const fs::path& layout, const std::string& digest, const std::string& what) {
    std::string text = read_file(blob_path(layout, digest, what), 8 << 20);
    if (sha256_digest(text) != digest) throw Error("the image's " + what + " does not match its digest " + digest);
    return text;
}

int64_t parse_created(const json& config) {
    try {
        if (config.contains("created") && config["created"].is_string())
            return parse_time_spec(config["created"].get<std::string>(), "created");
    } catch (const Error&) {
    }
    return 0;
}

}  // namespace

json stored_image_json(const StoredImage& i) {
    return json{{"schema_version", 1}, {"id", i.id},           {"names", i.names},  {"digest", i.digest},
                {"layers", i.layers},  {"created_ns", i.created_ns}, {"size", i.size}, {"config", i.config}};
}

FileLock ImageStore::lock() const {
    make_dirs(paths_.root / "locks", 0700);
    return FileLock::acquire(paths_.root / "locks" / "images.lock");
}

fs::path ImageStore::dir(const std::string& id) const { return paths_.oci_images_dir() / digest_hex(id); }

std::vector<StoredImage> ImageStore::list() const {
    std::vector<StoredImage> out;
    std::error_code ec;
    for (fs::directory_iterator it(paths_.oci_images_dir(), ec), end; !ec && it != end; it.increment(ec)) {
        if (it->path().filename().string().starts_with(".")) continue;
        auto text = read_file_if_exists(it->path() / "image.json", 16 << 20);
        if (text) out.push_back(parse_stored(*text, it->path() / "image.json"));
    }
    std::sort(out.begin(), out.end(), [](const StoredImage& a, const StoredImage& b) { return a.created_ns > b.created_ns; });
    return out;
}

std::optional<StoredImage> ImageStore::by_id(const std::string& id) const {
    auto text = read_file_if_exists(dir(id) / "image.json", 16 << 20);
    if (!text) return std::nullopt;
    return parse_stored(*text, dir(id) / "image.json");
}

std::optional<StoredImage> ImageStore::find(const std::string& text) const {
    auto images = list();
    std::string id = text.starts_with("sha256:") ? text.substr(7) : text;
    if (hex_prefix(id)) {
        std::optional<StoredImage> hit;
        for (const auto& i : images)
            if (digest_hex(i.id).starts_with(id)) {
                if (hit && hit->id != i.id) throw Error("the image id prefix " + quote_for_message(text) + " is ambiguous");
                hit = i;
            }
        if (hit) return hit;
    }
    ImageReference want;
    try {
        want = parse_reference(text);
    } catch (const Error&) {
        return std::nullopt;
    }
    std::string full = want.str();
    std::optional<StoredImage> shortmatch;
    for (const auto& i : images)
        for (const auto& n : i.names) {
            if (n == full) return i;
            if (!want.registry.empty()) continue;
            ImageReference have = parse_reference(n);
            if (short_name_matches(have, want) && (!shortmatch || have.registry == "localhost")) shortmatch = i;
        }
    return shortmatch;
}

void ImageStore::write(const StoredImage& image) const {
    write_file_atomic(dir(image.id) / "image.json", stored_image_json(image).dump(2) + "\n", 0600);
}

void ImageStore::add(const StoredImage& image, const std::string& manifest_text, const std::string& config_text) const {
    for (const auto& n : image.names) {
        // Taken from whatever image had it: a name is on one image.
        for (const auto& other : list())
            if (other.id != image.id && std::find(other.names.begin(), other.names.end(), n) != other.names.end())
                untag(other.id, n);
    }
    if (auto existing = by_id(image.id)) {
        StoredImage merged = *existing;
        for (const auto& n : image.names)
            if (std::find(merged.names.begin(), merged.names.end(), n) == merged.names.end()) merged.names.push_back(n);
        write(merged);
        return;
    }
    make_dirs(paths_.oci_images_dir(), 0700);
    fs::path tmp = paths_.oci_images_dir() / (".new-" + digest_hex(image.id));
    remove_tree(tmp);
    try {
        make_dirs(tmp, 0700);
        write_new_file(tmp / "manifest.json", manifest_text, 0600);
        write_new_file(tmp / "config.json", config_text, 0600);
        write_new_file(tmp / "image.json", stored_image_json(image).dump(2) + "\n", 0600);
        if (::rename(tmp.c_str(), dir(image.id).c_str()) < 0) throw_errno("store the image " + image.id);
    } catch (...) {
        remove_tree(tmp);
        throw;
    }
}

void ImageStore::tag(const std::string& id, const std::string& name) const {
    StoredImage i = by_id(id).value();
    i.names.push_back(name);
    add(i, "", "");
}

void ImageStore::untag(const std::string& id, const std::string& name) const {
    auto i = by_id(id);
    if (!i) return;
    std::erase(i->names, name);
    write(*i);
}

void ImageStore::remove(const std::string& id) const {
    fs::path trash = paths_.oci_images_dir() / (".trash-" + digest_hex(id));
    if (::rename(dir(id).c_str(), trash.c_str()) < 0) throw_errno("remove the image " + id);
    remove_tree(trash);
    std::set<std::string> used;
    for (const auto& i : list()) used.insert(i.layers.begin(), i.layers.end());
    remove_unused_layers(paths_, used);
    remove_unused_blobs();
}

json ImageStore::manifest(const StoredImage& image) const {
    fs::path p = dir(image.id) / "manifest.json";
    try {
        return json::parse(read_file(p, 8 << 20));
    } catch (const json::exception& e) {
        throw Error("corrupt " + p.string() + ": " + e.what());
    }
}

// Blobs only the removed images named. One that an import links in right
// now is not named yet either, but imports and removals both hold lock().
void ImageStore::remove_unused_blobs() const {
    std::set<std::string> used;
    for (const auto& i : list()) {
        json m = manifest(i);
        for (const auto& l : m.value("layers", json::array())) used.insert(digest_hex(l.value("digest", "")));
    }
    std::error_code ec;
    for (fs::directory_iterator it(paths_.blobs_dir(), ec), end; !ec && it != end; it.increment(ec))
        if (!used.contains(it->path().filename().string())) ::unlink(it->path().c_str());
}

void write_oci_layout(const Paths& paths, const StoredImage& image, const fs::path& dir, const std::string& ref) {
    ImageStore store(paths);
    fs::path from = paths.oci_images_dir() / digest_hex(image.id);
    std::string manifest_text = read_file(from / "manifest.json", 8 << 20);
    std::string config_text = read_file(from / "config.json", 8 << 20);
    json manifest = json::parse(manifest_text);
    fs::path blobs = dir / "blobs" / "sha256";
    make_dirs(blobs, 0700);
    if (::access((dir / "oci-layout").c_str(), F_OK) < 0)
        write_new_file(dir / "oci-layout", "{\"imageLayoutVersion\": \"1.0.0\"}\n", 0600);
    write_file_atomic(blobs / digest_hex(image.digest), manifest_text, 0600, false);
    write_file_atomic(blobs / digest_hex(image.id), config_text, 0600, false);
    for (const auto& l : manifest.value("layers", json::array())) {
        std::string digest = l.value("digest", "");
        validate_digest(digest, "a layer blob");
        fs::path kept = paths.blobs_dir() / digest_hex(digest);
        if (::link(kept.c_str(), (blobs / digest_hex(digest)).c_str()) < 0 && errno != EEXIST) {
            if (errno == ENOENT)
                throw Error("the layer " + digest + " of image " + digest_hex(image.id).substr(0, 12) +
                            " was not kept (pulled by an older minirt): pull or load it again");
            throw_errno("link " + kept.string());
        }
    }
    // Added to the layout's index: a layout may hold several images.
    json index{{"schemaVersion", 2}, {"manifests", json::array()}};
    if (auto text = read_file_if_exists(dir / "index.json", 4 << 20)) index = json::parse(*text);
    index["manifests"].push_back({{"mediaType", manifest.value("mediaType", "application/vnd.oci.image.manifest.v1+json")},
                                  {"digest", image.digest},
                                  {"size", manifest_text.size()},
                                  {"annotations", {{"org.opencontainers.image.ref.name", ref}}}});
    write_file_atomic(dir / "index.json", index.dump() + "\n", 0600, false);
}

std::vector<std::string> ImageStore::lowers(const StoredImage& image) const {
    // A layer twice (the empty layer, often) only once, where it is
    // topmost: overlayfs refuses a lower twice, and the copy above hides
    // all of the one below anyway.
    std::vector<std::string> out;
    std::set<std::string> seen;
    for (auto it = image.layers.rbegin(); it != image.layers.rend(); ++it)
        if (seen.insert(*it).second) out.push_back(layer_root(paths_, *it).string());
    return out;
}

namespace {

// What a killed pull, load, commit or removal left in oci-images: staging
// layouts of processes that are gone, and half-made or half-removed images
// (only ever there under the lock, which the caller holds).
void sweep_leftovers(const Paths& paths) {
    std::error_code ec;
    std::vector<fs::path> gone;
    for (fs::directory_iterator it(paths.oci_images_dir(), ec), end; !ec && it != end; it.increment(ec)) {
        std::string n = it->path().filename().string();
        if (n.starts_with(".new-") || n.starts_with(".trash-")) {
            gone.push_back(it->path());
            continue;
        }
        for (const char* prefix : {".staging-", ".commit-", ".import-"}) {
            if (!n.starts_with(prefix)) continue;
            std::string pid = n.substr(std::strlen(prefix));
            if (!pid.empty() && std::all_of(pid.begin(), pid.end(), ::isdigit) && ::access(("/proc/" + pid).c_str(), F_OK) < 0)
                gone.push_back(it->path());
        }
    }
    for (const auto& g : gone) fs::remove_all(g, ec);  // an import's aside tarball is a file
}

}  // namespace

StoredImage import_oci_layout(const Paths& paths, const fs::path& layout, const std::string& ref,
                              const std::vector<std::string>& names, const LayerLimits& limits) {
    try {
        return import_layout(paths, layout, ref, names, limits);
    } catch (const json::exception& e) {
        throw Error("the image's metadata is malformed: " + std::string(e.what()));
    }
}

namespace {

StoredImage import_layout(const Paths& paths, const fs::path& layout, const std::string& ref,
                          const std::vector<std::string>& names, const LayerLimits& limits) {
    json index;
    try {
        index = json::parse(read_file(layout / "index.json", 4 << 20));
    } catch (const json::exception& e) {
        throw Error("the image's index.json: " + std::string(e.what()));
    }
    if (!index.contains("manifests") || !index["manifests"].is_array() || index["manifests"].empty())
        throw Error("the image's index.json lists no manifest");
    const json* chosen = nullptr;
    for (const auto& m : index["manifests"]) {
        if (!m.is_object()) throw Error("the image's index.json is malformed");
        const json& ann = m.contains("annotations") && m["annotations"].is_object() ? m["annotations"] : json::object();
        std::string name = ann.contains("org.opencontainers.image.ref.name") && ann["org.opencontainers.image.ref.name"].is_string()
                               ? ann["org.opencontainers.image.ref.name"].get<std::string>()
                               : "";
        if (ref.empty() ? index["manifests"].size() == 1 : name == ref) chosen = &m;
    }
    if (!chosen) throw Error("the archive holds several images; name the one to load");
    std::string manifest_digest = chosen->value("digest", "");
    std::string manifest_text = read_blob(layout, manifest_digest, "manifest");
    json manifest, config;
    try {
        manifest = json::parse(manifest_text);
    } catch (const json::exception& e) {
        throw Error("the image's manifest: " + std::string(e.what()));
    }
    if (!manifest.is_object() || !manifest.contains("config") || !manifest["config"].is_object() ||
        !manifest.contains("layers") || !manifest["layers"].is_array())
        throw Error("the image's manifest has no config or layers");
    std::string config_digest = manifest["config"].value("digest", "");
    std::string config_text = read_blob(layout, config_digest, "config");
    try {
        config = json::parse(config_text);
    } catch (const json::exception& e) {
        throw Error("the image's config: " + std::string(e.what()));
    }
    if (!config.is_object() || !config.contains("rootfs") || !config["rootfs"].is_object() ||
        !config["rootfs"].contains("diff_ids") || !config["rootfs"]["diff_ids"].is_array())
        throw Error("the image's config has no rootfs.diff_ids");
    const json& diff_ids = config["rootfs"]["diff_ids"];
    const json& layers = manifest["layers"];
    if (diff_ids.size() != layers.size())
        throw Error("the image's config names " + std::to_string(diff_ids.size()) + " layers, its manifest " +
                    std::to_string(layers.size()));
    if (layers.empty()) throw Error("the image has no layers");
    if (layers.size() > kMaxImageLayers)
        throw Error("the image has " + std::to_string(layers.size()) + " layers; overlayfs stacks at most " +
                    std::to_string(kMaxImageLayers));
    StoredImage img;
    img.id = config_digest;
    img.names = names;
    img.digest = manifest_digest;
    img.config = config;
    img.created_ns = parse_created(config);
    ImageStore store(paths);
    std::map<std::string, LayerHold> holds;  // one each: a layer may come twice
    try {
        for (size_t i = 0; i < layers.size(); ++i) {
            if (!layers[i].is_object() || !diff_ids[i].is_string()) throw Error("the image's manifest or config is malformed");
            std::string blob_digest = layers[i].value("digest", "");
            std::string diff_id = diff_ids[i].get<std::string>();
            fs::path blob = blob_path(layout, blob_digest, "layer");
            if (!holds.contains(diff_id)) {
                try {
                    holds.emplace(diff_id, ensure_layer(paths, blob, diff_id, limits));
                } catch (const Error& e) {
                    throw e.wrap("layer " + std::to_string(i + 1) + " of " + std::to_string(layers.size()));
                }
                img.size += holds.at(diff_id).size;
            }
            img.layers.push_back(diff_id);
        }
    } catch (...) {
        // The layers it did unpack go again, unless another image has them.
        holds.clear();
        FileLock lock = store.lock();
        std::set<std::string> used;
        for (const auto& i : store.list()) used.insert(i.layers.begin(), i.layers.end());
        remove_unused_layers(paths, used);
        throw;
    }
    FileLock lock = store.lock();
    sweep_leftovers(paths);
    // The blobs as they came, kept for save and push (links: the staging
    // layout goes after).
    make_dirs(paths.blobs_dir(), 0700);
    for (const auto& l : layers) {
        std::string digest = l.value("digest", "");
        if (::access((paths.blobs_dir() / digest_hex(digest)).c_str(), F_OK) == 0) continue;
        fs::path kept = paths.blobs_dir() / digest_hex(digest);
        if (::link(blob_path(layout, digest, "layer").c_str(), kept.c_str()) < 0 && errno != EEXIST)
            throw_errno("keep the layer blob " + digest);
    }
    store.add(img, manifest_text, config_text);
    return img;
}

}  // namespace

}  // namespace minirt
