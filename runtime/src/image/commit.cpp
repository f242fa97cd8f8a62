#include "image/commit.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>

#include "common/error.hpp"
#include "common/fd.hpp"
#include "common/file.hpp"
#include "common/parse.hpp"
#include "common/ports.hpp"
#include "common/sha256.hpp"
#include "common/archive_lib.hpp"
#include "container/ops.hpp"
#include "image/image.hpp"
#include "linux/tar_stream.hpp"

namespace minirt {

using nlohmann::json;

namespace {

constexpr const char* kLayerTar = "application/vnd.oci.image.layer.v1.tar";

// "[\"a\", \"b\"]" as a JSON array, or shell form run by /bin/sh -c.
json command_form(const std::string& value) {
    if (value.starts_with("[")) {
        json j = json::parse(value, nullptr, false);
        if (j.is_array() && std::all_of(j.begin(), j.end(), [](const json& v) { return v.is_string(); })) return j;
        throw Error("invalid --change: " + quote_for_message(value) + " is not a JSON array of strings");
    }
    return json::array({"/bin/sh", "-c", value});
}

// KEY=VALUE pairs, or one "KEY VALUE" (the Dockerfile's two forms).
std::vector<std::pair<std::string, std::string>> pairs_of(const std::string& value, const std::string& what) {
    std::vector<std::pair<std::string, std::string>> out;
    auto eq = value.find('='), sp = value.find(' ');
    if (eq == std::string::npos || (sp != std::string::npos && sp < eq)) {
        if (sp == std::string::npos) throw Error("invalid --change " + what + " " + quote_for_message(value) + ": KEY=VALUE");
        auto rest = value.find_first_not_of(' ', sp);
        if (rest == std::string::npos) throw Error("invalid --change " + what + " " + quote_for_message(value) + ": KEY VALUE");
        out.emplace_back(value.substr(0, sp), value.substr(rest));
        return out;
    }
    for (size_t start = 0; start < value.size();) {
        size_t end = value.find(' ', start);
        std::string kv = value.substr(start, end == std::string::npos ? std::string::npos : end - start);
        start = end == std::string::npos ? value.size() : end + 1;
        if (kv.empty()) continue;
        auto e = kv.find('=');
        if (e == std::string::npos || e == 0) throw Error("invalid --change " + what + " " + quote_for_message(kv) + ": KEY=VALUE");
        out.emplace_back(kv.substr(0, e), kv.substr(e + 1));
    }
    return out;
}

// The tree at `dir` (its contents) as an uncompressed layer tar in `blobs`;
// its digest (the blob's and the diff_id: the same bytes).
std::pair<std::string, uint64_t> write_layer(const fs::path& dir, const fs::path& blobs, const WalkOptions& walk) {
    fs::path tmp = blobs / "layer.tmp";
    {
        UniqueFd out(::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600));
        if (!out) throw_errno("create " + tmp.string());
        TarSink sink(out.get(), "");
        UniqueFd parent(::open(dir.parent_path().c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
        if (!parent) throw_errno("open " + dir.parent_path().string());
        walk_tree(parent.get(), dir.filename().string(), sink, walk);
        sink.finish();
    }
    Sha256 h;
    UniqueFd in(::open(tmp.c_str(), O_RDONLY | O_CLOEXEC));
    if (!in) throw_errno("open " + tmp.string());
    uint64_t size = 0;
    char buf[1 << 16];
    for (;;) {
        ssize_t n = ::read(in.get(), buf, sizeof buf);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) throw_errno("read " + tmp.string());
        if (n == 0) break;
        h.update(buf, static_cast<size_t>(n));
        size += static_cast<uint64_t>(n);
    }
    std::string digest = h.digest();
    if (::rename(tmp.c_str(), (blobs / digest_hex(digest)).c_str()) < 0) throw_errno("rename " + tmp.string());
    return {digest, size};
}

// The config an imported (single-directory) image would have had.
json legacy_config(const Image& img) {
    json c{{"Cmd", img.cmd}, {"Env", img.env}, {"WorkingDir", img.workdir}};
    if (!img.exposed_ports.empty()) {
        c["ExposedPorts"] = json::object();
        for (const auto& p : img.exposed_ports) c["ExposedPorts"][p] = json::object();
    }
    return json{{"architecture", "amd64"},
                {"os", "linux"},
                {"created", format_rfc3339(img.created_ns)},
                {"config", c},
                {"rootfs", {{"type", "layers"}, {"diff_ids", json::array()}}},
                {"history", json::array()}};
}

// The config and manifest as blobs of `layout` (whose layer blobs are
// there), its index, and the import of it all under `names`.
StoredImage finish_layout(const Paths& paths, const fs::path& layout, const json& config, json manifest,
                          const std::vector<std::string>& names, const LayerLimits& limits) {
    fs::path blobs = layout / "blobs" / "sha256";
    std::string config_text = config.dump();
    std::string config_digest = sha256_digest(config_text);
    write_new_file(blobs / digest_hex(config_digest), config_text, 0600);
    manifest["config"] = {{"mediaType", "application/vnd.oci.image.config.v1+json"},
                          {"digest", config_digest},
                          {"size", config_text.size()}};
    std::string manifest_text = manifest.dump();
    std::string manifest_digest = sha256_digest(manifest_text);
    write_new_file(blobs / digest_hex(manifest_digest), manifest_text, 0600);
    write_new_file(layout / "oci-layout", "{\"imageLayoutVersion\": \"1.0.0\"}\n", 0600);
    json index{{"schemaVersion", 2},
               {"manifests", json::array({{{"mediaType", "application/vnd.oci.image.manifest.v1+json"},
                                           {"digest", manifest_digest},
                                           {"size", manifest_text.size()},
                                           {"annotations", {{"org.opencontainers.image.ref.name", "built"}}}}})}};
    write_new_file(layout / "index.json", index.dump() + "\n", 0600);
    return import_oci_layout(paths, layout, "built", names, limits);
}

// A layout being built under oci-images/.commit-PID, gone with the object.
struct BuildDir {
    fs::path dir, blobs;
    explicit BuildDir(const Paths& paths) {
        make_dirs(paths.oci_images_dir(), 0700);
        dir = paths.oci_images_dir() / (".commit-" + std::to_string(::getpid()));
        remove_tree(dir);
        blobs = dir / "blobs" / "sha256";
        make_dirs(blobs, 0700);
    }
    ~BuildDir() {
        try {
            remove_tree(dir);
        } catch (const Error&) {
        }
    }
    BuildDir(const BuildDir&) = delete;
    BuildDir& operator=(const BuildDir&) = delete;
};

json empty_manifest() {
    return json{{"schemaVersion", 2}, {"mediaType", "application/vnd.oci.image.manifest.v1+json"}, {"layers", json::array()}};
}

// Freezes a running container for its lifetime (podman commit's --pause).
struct Paused {
    const Store& store;
    std::string id;
    bool on = false;
    ~Paused() {
        if (!on) return;
        try {
            set_frozen(store, id, false);
        } catch (const Error&) {
        }
    }
};

}  // namespace

void apply_change(json& config, const std::string& change) {
    std::string c = change;
    auto sep = c.find_first_of(" =");
    if (sep == std::string::npos) throw Error("invalid --change " + quote_for_message(change) + ": INSTRUCTION VALUE");
    std::string op = c.substr(0, sep);
    std::transform(op.begin(), op.end(), op.begin(), [](unsigned char ch) { return static_cast<char>(std::toupper(ch)); });
    std::string value = c.substr(sep + 1);
    value.erase(0, value.find_first_not_of(' '));
    if (value.empty()) throw Error("invalid --change " + quote_for_message(change) + ": no value");
    if (op == "CMD") {
        config["Cmd"] = command_form(value);
    } else if (op == "ENTRYPOINT") {
        config["Entrypoint"] = command_form(value);
    } else if (op == "ENV") {
        json env = config.value("Env", json::array());
        for (const auto& [k, v] : pairs_of(value, "ENV")) {
            json kept = json::array();
            for (const auto& e : env)
                if (!e.get<std::string>().starts_with(k + "=")) kept.push_back(e);
            kept.push_back(k + "=" + v);
            env = kept;
        }
        config["Env"] = env;
    } else if (op == "WORKDIR") {
        if (value[0] != '/') throw Error("invalid --change WORKDIR " + quote_for_message(value) + ": an absolute path");
        config["WorkingDir"] = value;
    } else if (op == "USER") {
        config["User"] = value;
    } else if (op == "EXPOSE") {
        if (!config.contains("ExposedPorts") || !config["ExposedPorts"].is_object()) config["ExposedPorts"] = json::object();
        for (size_t start = 0; start < value.size();) {
            size_t end = value.find(' ', start);
            std::string port = value.substr(start, end == std::string::npos ? std::string::npos : end - start);
            start = end == std::string::npos ? value.size() : end + 1;
            if (port.empty()) continue;
            parse_exposed(port);
            config["ExposedPorts"][port.find('/') == std::string::npos ? port + "/tcp" : port] = json::object();
        }
    } else if (op == "LABEL") {
        if (!config.contains("Labels") || !config["Labels"].is_object()) config["Labels"] = json::object();
        for (const auto& [k, v] : pairs_of(value, "LABEL")) config["Labels"][k] = v;
    } else if (op == "STOPSIGNAL") {
        with_context("invalid --change STOPSIGNAL", [&] { return parse_signal(value); });
        config["StopSignal"] = value;
    } else if (op == "VOLUME") {
        if (!config.contains("Volumes") || !config["Volumes"].is_object()) config["Volumes"] = json::object();
        json paths = value.starts_with("[") ? command_form(value) : json::array({value});
        for (const auto& p : paths) {
            const std::string& v = p.get<std::string>();
            if (v.empty() || v[0] != '/' || v.find_first_of(":,") != std::string::npos)
                throw Error("invalid --change VOLUME " + quote_for_message(v) + ": an absolute path, without ':' or ','");
            config["Volumes"][p.get<std::string>()] = json::object();
        }
    } else {
        throw Error("invalid --change " + quote_for_message(change) +
                    ": use CMD, ENTRYPOINT, ENV, EXPOSE, LABEL, STOPSIGNAL, USER, VOLUME or WORKDIR");
    }
}

StoredImage commit_container(const Store& store, const std::string& id, const CommitOptions& o) {
    const Paths& paths = store.paths();
    ContainerConfig c = store.load_config(id);
    // The changes are checked before anything is written.
    json probe = json::object();
    for (const auto& ch : o.changes) apply_change(probe, ch);
    fs::path upper = paths.upper_dir(id);
    if (::access(upper.c_str(), F_OK) < 0) throw Error("container " + id.substr(0, 12) + " has no layer of its own to commit");

    BuildDir build(paths);
    const fs::path& layout = build.dir;
    const fs::path& blobs = build.blobs;

    // The parent: the image's manifest, config and blobs, or, for an
    // imported image, its rootfs as a first layer.
    json config, manifest = empty_manifest();
    if (!c.image_id.empty()) {
        ImageStore images(paths);
        FileLock lock = images.lock();
        auto parent = images.by_id(c.image_id);
        if (!parent) throw Error("the image of container " + id.substr(0, 12) + " is gone");
        config = json::parse(read_file(paths.oci_images_dir() / digest_hex(parent->id) / "config.json", 8 << 20));
        manifest["layers"] = images.manifest(*parent).value("layers", json::array());
        for (const auto& l : manifest["layers"]) {
            std::string d = l.value("digest", "");
            validate_digest(d, "a layer blob");
            if (::link((paths.blobs_dir() / digest_hex(d)).c_str(), (blobs / digest_hex(d)).c_str()) < 0 && errno != EEXIST)
                throw Error(errno, "the layer " + d + " of the image was not kept (pulled by an older minirt): pull it again");
        }
    } else {
        Image img = load_image(paths, c.image);
        config = legacy_config(img);
        WalkOptions whole;
        whole.contents_only = true;
        auto [digest, size] = write_layer(paths.image_rootfs(c.image), blobs, whole);
        manifest["layers"].push_back({{"mediaType", kLayerTar}, {"digest", digest}, {"size", size}});
        config["rootfs"]["diff_ids"].push_back(digest);
    }

    // The container's layer, read with its processes frozen.
    Paused paused{store, id};
    if (o.pause) {
        try {
            set_frozen(store, id, true);
            paused.on = true;
        } catch (const Error&) {
            // Not running: nothing changes its layer.
        }
    }
    WalkOptions walk;
    walk.contents_only = true;
    walk.overlay_whiteouts = true;
    walk.uid_map = c.security.uid_map;
    walk.gid_map = c.security.gid_map;
    auto [digest, size] = write_layer(upper, blobs, walk);
    if (paused.on) {
        set_frozen(store, id, false);
        paused.on = false;
    }
    manifest["layers"].push_back({{"mediaType", kLayerTar}, {"digest", digest}, {"size", size}});
    if (manifest["layers"].size() > kMaxImageLayers)
        throw Error("the image would have " + std::to_string(manifest["layers"].size()) + " layers; overlayfs stacks at most " +
                    std::to_string(kMaxImageLayers));

    // Its config: the parent's, with the container's command, environment
    // and working directory (as podman's commit), then the changes.
    json& cc = config["config"];
    if (!cc.is_object()) cc = json::object();
    // The container's entrypoint as run made it (--entrypoint or the
    // image's), then the rest of its command (podman's commit).
    std::vector<std::string> entrypoint;
    if (c.entrypoint) {
        entrypoint = *c.entrypoint;
    } else if (cc.contains("Entrypoint") && cc["Entrypoint"].is_array()) {  // a container from before the field
        for (const auto& v : cc["Entrypoint"])
            if (v.is_string()) entrypoint.push_back(v.get<std::string>());
    }
    std::vector<std::string> cmd = c.command;
    if (cmd.size() >= entrypoint.size() && std::equal(entrypoint.begin(), entrypoint.end(), cmd.begin()))
        cmd.erase(cmd.begin(), cmd.begin() + static_cast<std::ptrdiff_t>(entrypoint.size()));
    else
        entrypoint.clear();
    if (entrypoint.empty()) cc.erase("Entrypoint");
    else cc["Entrypoint"] = entrypoint;
    cc["Cmd"] = cmd;
    json env = json::array();
    for (const auto& e : c.env)
        if (!e.starts_with("HOSTNAME=") && e != "container=minirt") env.push_back(e);
    cc["Env"] = env;
    cc["WorkingDir"] = c.workdir;
    for (const auto& ch : o.changes) apply_change(cc, ch);
    int64_t now = now_ns();
    config["created"] = format_rfc3339(now);
    if (!o.author.empty()) config["author"] = o.author;
    if (!config.contains("rootfs") || !config["rootfs"].is_object()) config["rootfs"] = {{"type", "layers"}};
    if (!config["rootfs"].contains("diff_ids")) config["rootfs"]["diff_ids"] = json::array();
    config["rootfs"]["diff_ids"].push_back(digest);
    if (!config.contains("history") || !config["history"].is_array()) config["history"] = json::array();
    json h{{"created", format_rfc3339(now)}, {"created_by", "minirt commit " + id.substr(0, 12)}};
    if (!o.message.empty()) h["comment"] = o.message;
    if (!o.author.empty()) h["author"] = o.author;
    config["history"].push_back(h);

    return finish_layout(paths, layout, config, manifest, o.names, LayerLimits{});  // our own layer: no tar bomb to fear
}

namespace {

// `source` (a tar, compressed any way layers are) as an uncompressed tar
// blob in `blobs`: its digest and size.
std::pair<std::string, uint64_t> decompressed_blob(const fs::path& source, const fs::path& blobs, uint64_t max_bytes) {
    const ArchiveLib& lib = archive_lib();
    ArchivePtr raw(lib.archive_read_new(), lib.archive_read_free);
    lib.archive_read_support_filter_gzip(raw.get());
    lib.archive_read_support_filter_zstd(raw.get());
    lib.archive_read_support_filter_xz(raw.get());
    lib.archive_read_support_filter_bzip2(raw.get());
    lib.archive_read_support_format_raw(raw.get());
    if (lib.archive_read_open_filename(raw.get(), source.c_str(), 1 << 16) != ARCHIVE_OK)
        throw Error("open " + source.string() + ": " + archive_error(raw.get()));
    archive_entry* whole = nullptr;
    if (lib.archive_read_next_header(raw.get(), &whole) != ARCHIVE_OK)
        throw Error("read " + source.string() + ": " + archive_error(raw.get()));
    fs::path tmp = blobs / "layer.tmp";
    UniqueFd out(::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600));
    if (!out) throw_errno("create " + tmp.string());
    Sha256 h;
    uint64_t size = 0;
    char buf[1 << 16];
    for (;;) {
        la_ssize_t n = lib.archive_read_data(raw.get(), buf, sizeof buf);
        if (n < 0) throw Error("read " + source.string() + ": " + archive_error(raw.get()));
        if (n == 0) break;
        h.update(buf, static_cast<size_t>(n));
        size += static_cast<uint64_t>(n);
        if (max_bytes && size > max_bytes)
            throw Error(source.string() + " is larger than the limit of " + std::to_string(max_bytes) + " bytes uncompressed");
        write_all(out.get(), std::string_view(buf, static_cast<size_t>(n)));
    }
    std::string digest = h.digest();
    if (::rename(tmp.c_str(), (blobs / digest_hex(digest)).c_str()) < 0) throw_errno("rename " + tmp.string());
    return {digest, size};
}

}  // namespace

StoredImage import_tarball(const Paths& paths, const fs::path& tarball, const CommitOptions& o, const LayerLimits& limits) {
    json cc = json::object();
    for (const auto& ch : o.changes) apply_change(cc, ch);
    BuildDir build(paths);
    auto [digest, size] = decompressed_blob(tarball, build.blobs, limits.max_bytes);
    int64_t now = now_ns();
    json h{{"created", format_rfc3339(now)}, {"created_by", "minirt import"}};
    if (!o.message.empty()) h["comment"] = o.message;
    json config{{"architecture", "amd64"},
                {"os", "linux"},
                {"created", format_rfc3339(now)},
                {"config", cc},
                {"rootfs", {{"type", "layers"}, {"diff_ids", json::array({digest})}}},
                {"history", json::array({h})}};
    json manifest = empty_manifest();
    manifest["layers"].push_back({{"mediaType", kLayerTar}, {"digest", digest}, {"size", size}});
    return finish_layout(paths, build.dir, config, manifest, o.names, limits);
}

}  // namespace minirt
