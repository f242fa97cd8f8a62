// Images as a container is made from: either a read-only rootfs directory
// plus image.json (`image import`'s, under <storage>/images/NAME), or a
// layered image (image/image_store.hpp: pulled, loaded). Either is the
// lower layers of its containers' overlays; nothing writes into them.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <utility>
#include <string>
#include <vector>

#include "state/health.hpp"
#include "state/paths.hpp"

namespace minirt {

struct Image {
    std::string name;
    int64_t created_ns = 0;
    std::vector<std::string> entrypoint;  // the OCI config's, layered images only
    std::vector<std::string> cmd{"sh"};
    std::vector<std::string> env;
    std::string workdir = "/";
    std::string user;  // "", "UID[:GID]" or "NAME[:GROUP]", resolved in the image
    std::vector<std::string> exposed_ports;  // "80/tcp": what run -P publishes
    std::vector<std::string> volumes;        // paths that get an anonymous volume
    std::string stop_signal;                 // "SIGQUIT", "3": what stop sends first
    // Its HEALTHCHECK (Docker's Healthcheck), unless it says NONE; one it
    // could not read is refused by `run` unless the flags replace it.
    std::optional<Healthcheck> healthcheck;
    std::string healthcheck_error;
    std::map<std::string, std::string> labels;
    std::string source;  // where it came from, for humans
    // Layered images: the id, and the overlay lower directories, top first.
    std::string id;
    std::vector<std::string> lowers;
};

// By name (an imported image's, or a layered image's full or short name)
// or id. Throws Error (125) "no such image" or naming a corrupt image.json.
Image load_image(const Paths& paths, const std::string& name);
// nullopt where there is no such image (Error for a damaged one).
std::optional<Image> find_image(const Paths& paths, const std::string& name);
// The content of `path` (relative) as the image's layers show it, the top
// one first; nullopt where none has it (or a whiteout hides it).
std::optional<std::string> read_image_file(const std::vector<std::string>& lowers, const std::string& path);
// USER[:GROUP] (names or numbers) as /etc/passwd and /etc/group of `roots`
// (a layered image's lowers, an imported image's rootfs, a running
// container's /proc/PID/root) say them: a user's group is its passwd
// entry's unless GROUP is given; none for a uid without an entry.
struct UserIds {
    uint32_t uid = 0;
    std::optional<uint32_t> gid;
};
UserIds resolve_user(const std::vector<std::string>& roots, const std::string& spec);
// A group's gid: a number, or a name in the image's /etc/group (Error if not).
uint32_t resolve_group(const std::vector<std::string>& roots, const std::string& group);
// Whether USER[:GROUP] is numbers only (then no file is read).
bool numeric_user(const std::string& spec);
// The directories a container of `image` sees its files in, top first.
std::vector<std::string> image_roots(const Paths& paths, const Image& image);
std::vector<Image> list_images(const Paths& paths);

struct ImportOptions {
    std::string source;  // tarball (any compression libarchive reads) or directory
    std::string name;
    std::vector<std::string> cmd;
    std::vector<std::string> env;
    std::string workdir = "/";
    std::vector<std::string> exposed_ports;
    bool replace = false;
};
// Unpacks into a temp dir and renames it into place, so a failed import
// leaves nothing. Entries that would land outside the rootfs (.., absolute
// paths, through symlinks) are refused; device nodes are skipped and
// setuid/setgid bits dropped.
Image import_image(const Paths& paths, const ImportOptions& opts);
// Refused while any container uses the image.
void remove_image(const Paths& paths, const std::string& name);

uint64_t directory_size(const std::string& path);

}  // namespace minirt
