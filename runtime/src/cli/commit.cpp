// minirt commit (a container's writable layer as a new image) and minirt
// import (a tarball as one): image/commit.hpp.
#include <fcntl.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <iostream>

#include "cli/cli.hpp"
#include "state/events.hpp"
#include "common/parse.hpp"
#include "image/commit.hpp"
#include "image/layers.hpp"
#include "image/reference.hpp"
#include "common/fd.hpp"
#include "common/file.hpp"
#include "linux/process.hpp"

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
    record_object_event(ctx.store.paths(), "image", "commit", img.id.substr(7), o.names.empty() ? "" : o.names[0],
                        {{"container", id}});
    std::cout << img.id.substr(7) << "\n";
    return 0;
}

namespace {

// A URL's body into `to`, by curl.
void download(const std::string& url, const fs::path& to) {
    if (::access("/usr/bin/curl", X_OK) < 0) throw Error("importing from a URL needs curl (apt-get install curl)");
    // -q first: no ~/.curlrc; what a tar bomb may take of the disk is capped too.
    std::string cap = std::to_string(layer_limits().max_bytes);
    std::vector<std::string> args{"/usr/bin/curl", "-q", "-fsSL", "--proto", "=http,https", "--max-filesize", cap, "-o", to.string(), "--", url};
    std::vector<char*> argv = exec_vector(args);
    pid_t pid;
    int rc = ::posix_spawn(&pid, argv[0], nullptr, nullptr, argv.data(), environ);
    if (rc != 0) throw Error(rc, "exec curl");
    int status = 0;
    while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
    if (WIFSIGNALED(status)) throw Error("could not download " + url + " (curl killed by signal " + std::to_string(WTERMSIG(status)) + ")");
    if (WEXITSTATUS(status) != 0)
        throw Error("could not download " + url + " (curl exit " + std::to_string(WEXITSTATUS(status)) +
                    (WEXITSTATUS(status) == 63 ? ": larger than MINIRT_MAX_LAYER_SIZE" : "") + ")");
}

}  // namespace

int cmd_import(Context& ctx, const Args& args) {
    const char* usage = "minirt import [-c INSTRUCTION]... [-m MESSAGE] [-q] FILE|URL|- [IMAGE]";
    po::options_description desc("Options");
    desc.add_options()
        ("change,c", po::value<std::vector<std::string>>(),
         "a Dockerfile instruction for the image: CMD, ENTRYPOINT, ENV, EXPOSE, LABEL, STOPSIGNAL, USER, VOLUME, WORKDIR")
        ("message,m", po::value<std::string>(), "a comment in the image's history")
        ("quiet,q", "no progress (the id is printed still)");
    Parsed p = parse(desc, args, usage);
    require_positional(p, 1, 2, usage);
    CommitOptions o;
    o.changes = flag_values(p.vm, "change");
    if (p.vm.count("message")) o.message = p.vm["message"].as<std::string>();
    if (p.positional.size() > 1) {
        ImageReference r = parse_reference(p.positional[1]);
        if (!r.digest.empty()) throw Error("an image name cannot carry a digest: " + quote_for_message(p.positional[1]));
        o.names.push_back((r.registry.empty() ? r.in_registry("localhost") : r).str());
    }
    for (const auto& ch : o.changes) {
        nlohmann::json probe = nlohmann::json::object();
        apply_change(probe, ch);  // refused before anything is read
    }
    const std::string& source = p.positional[0];
    fs::path file = source;
    fs::path aside = ctx.store.paths().oci_images_dir() / (".import-" + std::to_string(::getpid()));
    struct Aside {
        fs::path path;
        ~Aside() { ::unlink(path.c_str()); }
    } cleanup{aside};
    make_dirs(ctx.store.paths().oci_images_dir(), 0700);
    if (source.starts_with("http://") || source.starts_with("https://")) {
        download(source, aside);
        file = aside;
    } else if (source == "-") {
        if (::isatty(0)) throw Error("no tarball on stdin");
        UniqueFd out(::open(aside.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600));
        if (!out) throw_errno("create " + aside.string());
        char buf[1 << 16];
        uint64_t total = 0, cap = layer_limits().max_bytes;
        for (ssize_t n; (n = ::read(0, buf, sizeof buf)) != 0;) {
            if (n < 0 && errno == EINTR) continue;
            if (n < 0) throw_errno("read stdin");
            total += static_cast<uint64_t>(n);
            if (cap && total > cap) throw Error("the tarball on stdin is larger than MINIRT_MAX_LAYER_SIZE (" + std::to_string(cap) + " bytes)");
            write_all(out.get(), std::string_view(buf, static_cast<size_t>(n)));
        }
        file = aside;
    } else if (::access(source.c_str(), R_OK) < 0) {
        throw_errno("read " + source);
    }
    StoredImage img = import_tarball(ctx.store.paths(), file, o, layer_limits());
    record_object_event(ctx.store.paths(), "image", "import", img.id.substr(7), o.names.empty() ? "" : o.names[0]);
    std::cout << img.id.substr(7) << "\n";
    return 0;
}

}  // namespace minirt::cli
