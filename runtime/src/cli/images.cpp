// minirt images, pull, load, tag, rmi, image import|ls|rm.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <iostream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "cli/cli.hpp"
#include "state/events.hpp"
#include "common/parse.hpp"
#include "common/ports.hpp"
#include "common/archive_lib.hpp"
#include "common/file.hpp"
#include "container/ops.hpp"
#include "image/image.hpp"
#include "image/image_store.hpp"
#include "image/reference.hpp"
#include "linux/skopeo.hpp"
#include "linux/tar_stream.hpp"
#include "state/store.hpp"

namespace minirt::cli {

namespace {


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
    record_object_event(ctx.store.paths(), "image", "import", img.name, img.name);
    std::cout << img.name << "\n";
    return 0;
}

// A private OCI layout beside the store (same filesystem), gone after.
struct Staging {
    fs::path dir;
    explicit Staging(const Paths& paths) {
        make_dirs(paths.oci_images_dir(), 0700);
        dir = paths.oci_images_dir() / (".staging-" + std::to_string(::getpid()));
        remove_tree(dir);
        make_dirs(dir, 0700);
    }
    ~Staging() {
        try {
            remove_tree(dir);
        } catch (const Error&) {
        }
    }
    Staging(const Staging&) = delete;
    Staging& operator=(const Staging&) = delete;
};


// Where a short name is looked for: localhost/ is what this host made.
std::vector<ImageReference> candidates(const ImageReference& ref) {
    if (!ref.registry.empty()) return {ref};
    std::vector<ImageReference> out;
    for (const auto& reg : search_registries()) out.push_back(ref.in_registry(reg));
    return out;
}

}  // namespace

std::string pull_image(Context& ctx, const std::string& text, bool tls_verify, bool quiet) {
    ImageReference ref = parse_reference(text);
    std::string last_error;
    for (const auto& r : candidates(ref)) {
        Staging staging(ctx.store.paths());
        SkopeoOptions o;
        o.tls_verify = tls_verify;
        o.progress = !quiet && ::isatty(2);
        try {
            skopeo_copy("docker://" + r.str(), "oci:" + (staging.dir / "layout").string() + ":pulled", o);
        } catch (const Error& e) {
            last_error = e.message();
            continue;
        }
        StoredImage img = import_oci_layout(ctx.store.paths(), staging.dir / "layout", "pulled", {r.str()}, layer_limits());
        record_object_event(ctx.store.paths(), "image", "pull", digest_hex(img.id), r.str());
        return img.id;
    }
    throw Error("pull " + text + ": " + last_error);
}

namespace {

int pull(Context& ctx, const Args& args) {
    const char* usage = "minirt pull [--tls-verify=false] [-q] IMAGE";
    po::options_description desc("Options");
    desc.add_options()("quiet,q", "no progress")("tls-verify", po::value<std::string>()->default_value("true"),
                                                  "false: a registry over plain http or with an untrusted certificate");
    Parsed p = parse(desc, args, usage);
    require_positional(p, 1, 1, usage);
    std::string tls = p.vm["tls-verify"].as<std::string>();
    if (tls != "true" && tls != "false") throw Error("invalid --tls-verify " + quote_for_message(tls) + ": true or false");
    std::string id = pull_image(ctx, p.positional[0], tls == "true", p.vm.count("quiet") > 0);
    std::cout << digest_hex(id) << "\n";
    return 0;
}

// What an archive holds: its kind (docker-archive has manifest.json with
// RepoTags, oci-archive an index.json with ref.name annotations) and, for
// each image, how skopeo names it in the archive and the names it carries.
struct ArchiveImage {
    std::string suffix;  // "", ":@N" (docker-archive) or ":REF" (oci-archive)
    std::vector<std::string> names;
};
struct ArchiveContents {
    std::string transport;
    std::vector<ArchiveImage> images;
};

ArchiveContents archive_contents(const std::string& file) {
    using nlohmann::json;
    const ArchiveLib& lib = archive_lib();
    ArchivePtr in(lib.archive_read_new(), lib.archive_read_free);
    // A compressed archive by a library's reader, never an external program's.
    lib.archive_read_support_filter_gzip(in.get());
    lib.archive_read_support_filter_zstd(in.get());
    lib.archive_read_support_filter_xz(in.get());
    lib.archive_read_support_filter_bzip2(in.get());
    lib.archive_read_support_format_tar(in.get());
    if (lib.archive_read_open_filename(in.get(), file.c_str(), 1 << 16) != ARCHIVE_OK)
        throw Error("open " + file + ": " + archive_error(in.get()));
    ArchiveContents out;
    auto name_of = [](const json& v, const char* default_registry) -> std::optional<std::string> {
        if (!v.is_string() || !looks_like_reference(v.get<std::string>())) return std::nullopt;
        ImageReference named = parse_reference(v.get<std::string>());
        return (named.registry.empty() ? named.in_registry(default_registry) : named).str();
    };
    for (;;) {
        archive_entry* e = nullptr;
        int r = lib.archive_read_next_header(in.get(), &e);
        if (r == ARCHIVE_EOF) break;
        if (r < ARCHIVE_WARN) throw Error(file + " is not an image archive: " + archive_error(in.get()));
        std::string name = lib.archive_entry_pathname(e);
        if (name.starts_with("./")) name.erase(0, 2);
        if (name != "manifest.json" && name != "index.json") continue;
        if (lib.archive_entry_size(e) > (4 << 20)) throw Error(file + ": " + name + " is too large");
        std::string text(static_cast<size_t>(lib.archive_entry_size(e)), '\0');
        if (lib.archive_read_data(in.get(), text.data(), text.size()) != static_cast<la_ssize_t>(text.size()))
            throw Error("read " + name + " in " + file + ": " + archive_error(in.get()));
        json j = json::parse(text, nullptr, false);
        if (name == "manifest.json" && j.is_array()) {
            out.transport = "docker-archive";
            out.images.clear();
            for (size_t i = 0; i < j.size(); ++i) {
                ArchiveImage img;
                img.suffix = j.size() > 1 ? ":@" + std::to_string(i) : "";
                if (j[i].is_object() && j[i].contains("RepoTags") && j[i]["RepoTags"].is_array())
                    for (const auto& t : j[i]["RepoTags"])
                        if (auto n = name_of(t, "docker.io")) img.names.push_back(*n);  // docker's: a short one is docker.io's
                out.images.push_back(img);
            }
            return out;
        }
        if (name == "index.json" && j.is_object() && j.contains("manifests") && j["manifests"].is_array()) {
            out.transport = "oci-archive";
            const json& ms = j["manifests"];
            for (const auto& m : ms) {
                ArchiveImage img;
                std::string ref;
                if (m.is_object() && m.contains("annotations") && m["annotations"].is_object() &&
                    m["annotations"].contains("org.opencontainers.image.ref.name") &&
                    m["annotations"]["org.opencontainers.image.ref.name"].is_string())
                    ref = m["annotations"]["org.opencontainers.image.ref.name"].get<std::string>();
                if (ms.size() > 1) {
                    if (ref.empty()) throw Error(file + " holds several images, one of them without a name");
                    img.suffix = ":" + ref;
                }
                // A full reference names the image; a bare tag ("latest") does not.
                if (ref.find('/') != std::string::npos)
                    if (auto n = name_of(json(ref), "localhost")) img.names.push_back(*n);
                out.images.push_back(img);
            }
        }
    }
    if (out.transport.empty()) throw Error(file + " is neither an oci-archive nor a docker-archive (no index.json or manifest.json)");
    if (out.images.empty()) throw Error(file + " holds no image");
    return out;
}

// A stream (stdin, a pipe) copied into `to`: skopeo reads archives from files.
void save_stream(int from, const fs::path& to) {
    UniqueFd out(::open(to.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600));
    if (!out) throw_errno("create " + to.string());
    char buf[1 << 16];
    for (;;) {
        ssize_t n = ::read(from, buf, sizeof buf);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) throw_errno("read the archive");
        if (n == 0) break;
        write_all(out.get(), std::string_view(buf, static_cast<size_t>(n)));
    }
}

int load(Context& ctx, const Args& args) {
    const char* usage = "minirt load [-i FILE] [-q]   (without -i, or with -i -: the archive on stdin)";
    po::options_description desc("Options");
    desc.add_options()("input,i", po::value<std::string>()->default_value("-"), "the archive (oci-archive or docker-archive)")(
        "quiet,q", "print nothing but errors");
    Parsed p = parse(desc, args, usage);
    require_positional(p, 0, 0, usage);
    std::string input = p.vm["input"].as<std::string>();
    Staging staging(ctx.store.paths());
    std::string file;
    struct stat st{};
    if (input != "-" && ::stat(input.c_str(), &st) == 0 && S_ISREG(st.st_mode)) {
        file = fs::absolute(input).string();
        if (::access(file.c_str(), R_OK) < 0) throw_errno("read " + file);
    } else {
        if (input == "-" && ::isatty(0)) throw Error(std::string("no archive: give -i FILE, or one on stdin; usage: ") + usage);
        UniqueFd in(input == "-" ? ::dup(0) : ::open(input.c_str(), O_RDONLY | O_CLOEXEC));
        if (!in) throw_errno("read " + input);
        file = (staging.dir / "input.tar").string();
        save_stream(in.get(), file);
    }
    ArchiveContents a = archive_contents(file);
    for (size_t i = 0; i < a.images.size(); ++i) {
        const ArchiveImage& ai = a.images[i];
        fs::path layout = staging.dir / ("layout-" + std::to_string(i));
        skopeo_copy(a.transport + ":" + file + ai.suffix, "oci:" + layout.string() + ":loaded", SkopeoOptions{});
        StoredImage img = import_oci_layout(ctx.store.paths(), layout, "loaded", ai.names, layer_limits());
        remove_tree(layout);
        record_object_event(ctx.store.paths(), "image", "load", digest_hex(img.id), ai.names.empty() ? "" : ai.names[0]);
        if (p.vm.count("quiet")) continue;
        if (ai.names.empty()) std::cout << "Loaded image: " << digest_hex(img.id) << "\n";
        for (const auto& n : ai.names) std::cout << "Loaded image: " << n << "\n";
    }
    return 0;
}

// A name as tag and run take it: localhost/ for a short one.
std::string local_name(const std::string& text) {
    ImageReference r = parse_reference(text);
    if (!r.digest.empty()) throw Error("a tag cannot name a digest: " + quote_for_message(text));
    return (r.registry.empty() ? r.in_registry("localhost") : r).str();
}

StoredImage layered_image(const ImageStore& store, const Paths& paths, const std::string& text) {
    if (auto s = store.find(text)) return *s;
    if (find_image(paths, text)) throw Error("image " + quote_for_message(text) + " is an imported image: it has no tags");
    throw Error("no such image " + quote_for_message(text) + " (see `minirt images`)");
}

// The image's first name for an archive or a push (its id's first 12
// digits as localhost/ when it has none).
std::string name_for_out(const StoredImage& img) {
    return img.names.empty() ? "localhost/" + digest_hex(img.id).substr(0, 12) + ":latest" : img.names.front();
}

// The layout directory `dir` as a tar (what an oci-archive is), into `fd`.
void tar_layout(const fs::path& dir, int fd) {
    TarSink sink(fd, "");
    UniqueFd parent(::open(dir.parent_path().c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    if (!parent) throw_errno("open " + dir.parent_path().string());
    WalkOptions walk;
    walk.contents_only = true;
    walk_tree(parent.get(), dir.filename().string(), sink, walk);
    sink.finish();
}

int save(Context& ctx, const Args& args) {
    const char* usage = "minirt save -o FILE [--format docker-archive|oci-archive] IMAGE...";
    po::options_description desc("Options");
    desc.add_options()("output,o", po::value<std::string>(), "the archive to write")(
        "format", po::value<std::string>()->default_value("docker-archive"),
        "docker-archive (podman's default; one image, all its names) or oci-archive (any number)")(
        "quiet,q", "print nothing but errors");
    Parsed p = parse(desc, args, usage);
    require_positional(p, 1, SIZE_MAX, usage);
    if (!p.vm.count("output")) throw Error(std::string("save needs -o FILE; usage: ") + usage);
    std::string format = p.vm["format"].as<std::string>();
    if (format != "oci-archive" && format != "docker-archive")
        throw Error("invalid --format " + quote_for_message(format) + ": oci-archive or docker-archive");
    std::string file = fs::absolute(p.vm["output"].as<std::string>()).string();
    ImageStore store(ctx.store.paths());
    std::vector<StoredImage> images;
    for (const auto& text : p.positional) {
        StoredImage img = layered_image(store, ctx.store.paths(), text);
        if (std::none_of(images.begin(), images.end(), [&](const StoredImage& i) { return i.id == img.id; }))
            images.push_back(img);
    }
    if (format == "docker-archive" && images.size() > 1)
        throw Error("a docker-archive holds one image here; --format oci-archive holds several");
    Staging staging(ctx.store.paths());
    fs::path layout = staging.dir / "layout";
    {
        FileLock lock = store.lock();  // no rmi takes the blobs meanwhile
        for (const auto& img : images) write_oci_layout(ctx.store.paths(), img, layout, name_for_out(img));
    }
    // Written aside and renamed: a save cut short leaves no half archive under FILE.
    std::string tmp = file + ".minirt-" + std::to_string(::getpid());
    ::unlink(tmp.c_str());
    try {
        if (format == "oci-archive") {
            UniqueFd out(::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644));
            if (!out) throw_errno("create " + tmp);
            tar_layout(layout, out.get());
            if (::fsync(out.get()) < 0) throw_errno("write " + tmp);
        } else {
            SkopeoOptions o;
            const StoredImage& img = images.front();
            for (size_t i = 1; i < img.names.size(); ++i) o.additional_tags.push_back(img.names[i]);
            std::string name = name_for_out(img);
            skopeo_copy("oci:" + layout.string() + ":" + name, format + ":" + tmp + ":" + name, o);
        }
        if (::rename(tmp.c_str(), file.c_str()) < 0) throw_errno("rename into " + file);
    } catch (...) {
        ::unlink(tmp.c_str());
        throw;
    }
    record_object_event(ctx.store.paths(), "image", "save", "", p.positional[0], {{"file", file}});
    return 0;
}

int push(Context& ctx, const Args& args) {
    const char* usage = "minirt push [--tls-verify=false] [-q] IMAGE [DESTINATION]";
    po::options_description desc("Options");
    desc.add_options()("quiet,q", "no progress")("tls-verify", po::value<std::string>()->default_value("true"),
                                                  "false: a registry over plain http or with an untrusted certificate");
    Parsed p = parse(desc, args, usage);
    require_positional(p, 1, 2, usage);
    std::string tls = p.vm["tls-verify"].as<std::string>();
    if (tls != "true" && tls != "false") throw Error("invalid --tls-verify " + quote_for_message(tls) + ": true or false");
    ImageStore store(ctx.store.paths());
    StoredImage img = layered_image(store, ctx.store.paths(), p.positional[0]);
    std::string dest = p.positional.size() > 1 ? p.positional[1] : p.positional[0];
    if (dest.starts_with("docker://")) dest.erase(0, 9);
    ImageReference ref = parse_reference(dest);
    if (ref.registry.empty() || ref.registry == "localhost")
        throw Error("push needs a registry in the destination, as in 127.0.0.1:5000/" + ref.repository + ":" +
                    (ref.tag.empty() ? "latest" : ref.tag));
    Staging staging(ctx.store.paths());
    {
        FileLock lock = store.lock();
        write_oci_layout(ctx.store.paths(), img, staging.dir, "push");
    }
    SkopeoOptions o;
    o.tls_verify = tls == "true";
    o.progress = !p.vm.count("quiet") && ::isatty(2);
    skopeo_copy("oci:" + staging.dir.string() + ":push", "docker://" + ref.str(), o);
    record_object_event(ctx.store.paths(), "image", "push", digest_hex(img.id), ref.str());
    return 0;
}

int tag(Context& ctx, const Args& args) {
    const char* usage = "minirt tag IMAGE NAME...";
    po::options_description desc("Options");
    Parsed p = parse(desc, args, usage);
    require_positional(p, 2, SIZE_MAX, usage);
    ImageStore store(ctx.store.paths());
    FileLock lock = store.lock();
    StoredImage img = layered_image(store, ctx.store.paths(), p.positional[0]);
    for (size_t i = 1; i < p.positional.size(); ++i) {
        std::string name = local_name(p.positional[i]);
        store.tag(img.id, name);
        record_object_event(ctx.store.paths(), "image", "tag", digest_hex(img.id), name);
    }
    return 0;
}

int untag(Context& ctx, const Args& args) {
    const char* usage = "minirt untag IMAGE [NAME...]";
    po::options_description desc("Options");
    Parsed p = parse(desc, args, usage);
    require_positional(p, 1, SIZE_MAX, usage);
    ImageStore store(ctx.store.paths());
    FileLock lock = store.lock();
    StoredImage img = layered_image(store, ctx.store.paths(), p.positional[0]);
    auto untag_one = [&](const std::string& n) {
        store.untag(img.id, n);
        record_object_event(ctx.store.paths(), "image", "untag", digest_hex(img.id), n);
    };
    if (p.positional.size() == 1)
        for (const auto& n : img.names) untag_one(n);
    for (size_t i = 1; i < p.positional.size(); ++i) {
        std::string n = local_name(p.positional[i]);
        if (std::find(img.names.begin(), img.names.end(), n) == img.names.end())
            throw Error("image " + quote_for_message(p.positional[0]) + " is not tagged " + quote_for_message(n));
        untag_one(n);
    }
    return 0;
}

// The containers made from image `id`.
std::vector<std::string> users_of(const Store& store, const std::string& id) {
    std::vector<std::string> out;
    for (const auto& c : store.list_ids()) {
        try {
            if (store.load_config(c).image_id == id) out.push_back(c);
        } catch (const Error&) {
        }
    }
    return out;
}

// Which of the image's names `text` says: itself, its localhost/ form, or
// a short name (localhost/ first, as find() resolves it); "" for an id.
std::string named_by(const StoredImage& img, const std::string& text) {
    if (std::find(img.names.begin(), img.names.end(), text) != img.names.end()) return text;
    std::string best;
    try {
        ImageReference want = parse_reference(text);
        if (!want.registry.empty()) return "";
        for (const auto& n : img.names) {
            ImageReference have = parse_reference(n);
            if (short_name_matches(have, {"", want.repository, want.tag, ""}) && (best.empty() || have.registry == "localhost"))
                best = n;
        }
    } catch (const Error&) {
    }
    return best;
}

void remove_layered(Context& ctx, const std::string& text, bool force) {
    ImageStore store(ctx.store.paths());
    FileLock lock = store.lock();
    StoredImage img = layered_image(store, ctx.store.paths(), text);
    std::string name = named_by(img, text);
    // One of several names, named: only that name goes (as podman's rmi).
    if (img.names.size() > 1 && !name.empty()) {
        store.untag(img.id, name);
        record_object_event(ctx.store.paths(), "image", "untag", digest_hex(img.id), name);
        std::cout << "Untagged: " << name << "\n";
        return;
    }
    if (img.names.size() > 1 && !force)
        throw Error("image " + digest_hex(img.id).substr(0, 12) + " has " + std::to_string(img.names.size()) +
                        " names; remove them one by one, or all with rmi -f",
                    kExitStateImproper);
    auto users = users_of(ctx.store, img.id);
    if (!users.empty() && !force)
        throw Error("image " + quote_for_message(text) + " is in use by container " + users.front().substr(0, 12) +
                        " (rmi -f removes it too)",
                    kExitStateImproper);
    if (!users.empty()) {
        // Not under the images lock: a removal takes container locks.
        lock.release();
        for (const auto& c : removal_order(ctx.store, users)) remove_container(ctx.store, c, true, true);
        lock = store.lock();
        // What came meanwhile wins: a new container of it, a name given to it.
        auto again = store.by_id(img.id);
        if (!again) return;
        if (!users_of(ctx.store, img.id).empty())
            throw Error("image " + quote_for_message(text) + " got a new container meanwhile; run rmi again", kExitStateImproper);
        img = *again;
    }
    store.remove(img.id);
    record_object_event(ctx.store.paths(), "image", "remove", digest_hex(img.id), img.names.empty() ? "" : img.names[0]);
    for (const auto& n : img.names) std::cout << "Untagged: " << n << "\n";
    std::cout << "Deleted: " << digest_hex(img.id) << "\n";
}

int rmi(Context& ctx, const Args& args) {
    const char* usage = "minirt rmi [-f] IMAGE...";
    po::options_description desc("Options");
    desc.add_options()("force,f", "remove the containers using it too");
    Parsed p = parse(desc, args, usage);
    require_positional(p, 1, SIZE_MAX, usage);
    int rc = 0;
    for (const auto& name : p.positional) {
        try {
            if (ImageStore(ctx.store.paths()).find(name)) {
                remove_layered(ctx, name, p.vm.count("force") > 0);
            } else {
                remove_image(ctx.store.paths(), name);
                record_object_event(ctx.store.paths(), "image", "remove", name, name);
                std::cout << name << "\n";
            }
        } catch (const Error& e) {
            std::cerr << ctx.program << ": " << e.message() << "\n";
            rc = e.exit_code();
        }
    }
    return rc;
}

}  // namespace

int cmd_pull(Context& ctx, const Args& args) { return pull(ctx, args); }
int cmd_load(Context& ctx, const Args& args) { return load(ctx, args); }
int cmd_tag(Context& ctx, const Args& args) { return tag(ctx, args); }
int cmd_untag(Context& ctx, const Args& args) { return untag(ctx, args); }
int cmd_rmi(Context& ctx, const Args& args) { return rmi(ctx, args); }
int cmd_save(Context& ctx, const Args& args) { return save(ctx, args); }
int cmd_push(Context& ctx, const Args& args) { return push(ctx, args); }


int cmd_image(Context& ctx, const Args& args) {
    const char* usage = "minirt image import|ls|rm|pull|load|save|push|tag|untag|inspect|exists|history|prune ...";
    if (args.empty()) throw Error(std::string("missing subcommand; usage: ") + usage);
    if (args[0] == "--help" || args[0] == "-h" || args[0] == "help") {
        std::cout << "Usage: " << usage << "\n\n"
                     "Commands:\n"
                     "  import TARBALL|DIR NAME  make an image from a root filesystem (minirt image import --help)\n"
                     "  ls                       list images (also: minirt images)\n"
                     "  rm NAME...               remove images no container uses (rmi)\n"
                     "  pull, load, save, push   move images in and out (as minirt pull, load, save, push)\n"
                     "  tag, untag               add and take off names\n"
                     "  inspect IMAGE...         an image's config, layers and history as JSON\n"
                     "  exists IMAGE             exit 0 if there is such an image, 1 if not\n"
                     "  history IMAGE            the steps that made its layers\n"
                     "  prune [-a]               remove layered images without a name (-a: every one no container uses)\n";
        return 0;
    }
    Args rest(args.begin() + 1, args.end());
    if (args[0] == "import") return import(ctx, rest);
    if (args[0] == "ls" || args[0] == "list") return cmd_images(ctx, rest);
    if (args[0] == "rm" || args[0] == "remove") return rmi(ctx, rest);
    if (args[0] == "pull") return pull(ctx, rest);
    if (args[0] == "load") return load(ctx, rest);
    if (args[0] == "tag") return tag(ctx, rest);
    if (args[0] == "untag") return untag(ctx, rest);
    if (args[0] == "save") return save(ctx, rest);
    if (args[0] == "push") return push(ctx, rest);
    if (args[0] == "inspect") return cmd_image_inspect(ctx, rest);
    if (args[0] == "exists") return cmd_image_exists(ctx, rest);
    if (args[0] == "history") return cmd_image_history(ctx, rest);
    if (args[0] == "prune") return cmd_image_prune(ctx, rest);
    throw Error("unknown image subcommand \"" + args[0] + "\"; usage: " + usage);
}

}  // namespace minirt::cli
