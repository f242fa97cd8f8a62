// Tar streams as copy_tree's sources and sinks: what `cp -` reads and
// writes, and `export` writes (pax, numeric owners).
#pragma once

#include <string>

#include "linux/copy_tree.hpp"

namespace minirt {

// Writes entries as a tar stream to `fd`, each named `prefix`/path (the
// entry "" as `prefix` itself, or not at all when prefix is empty).
class TarSink : public TreeSink {
public:
    TarSink(int fd, std::string prefix);
    ~TarSink() override;
    void put(const TreeEntry& e) override;
    void finish() override;

private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

// Reads the tar stream (or any archive libarchive reads, compressed or not)
// on `fd` into `sink`. Leading "/" and "./" are dropped from names; a name
// or hard link with a ".." component is refused (Error), as is anything
// but a file, directory, link, FIFO or device. `what` names the stream in
// errors.
void read_tar(int fd, TreeSink& sink, const std::string& what);

// "a/./b//c" -> "a/b/c", "/x" -> "x"; nullopt for a path with "..".
std::optional<std::string> clean_archive_path(const std::string& name);

}  // namespace minirt
