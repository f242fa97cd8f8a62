// Images: a read-only rootfs directory plus image.json (default command,
// environment, working directory). They are the lower layer of every
// container's overlay, so nothing ever writes into them after import.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "state/paths.hpp"

namespace minirt {

struct Image {
    std::string name;
    int64_t created_ns = 0;
    std::vector<std::string> cmd{"sh"};
    std::vector<std::string> env;
    std::string workdir = "/";
    std::vector<std::string> exposed_ports;  // "80/tcp": what run -P publishes
    std::string source;  // where it came from, for humans
};

// Throws Error (125) "no such image" or naming a corrupt image.json.
Image load_image(const Paths& paths, const std::string& name);
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
