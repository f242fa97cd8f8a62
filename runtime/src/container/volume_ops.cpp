#include "container/volume_ops.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>

#include "common/error.hpp"
#include "common/fd.hpp"
#include "common/file.hpp"
#include "common/parse.hpp"
#include "container/ops.hpp"
#include "linux/copy_tree.hpp"
#include "linux/rootfs.hpp"
#include "linux/userns.hpp"

namespace minirt {

namespace {

bool empty_dir(const fs::path& dir) {
    std::error_code ec;
    return fs::is_empty(dir, ec) && !ec;
}

// Fills an empty volume with the image's files at `dest`. They are copied
// beside _data first and swapped in, so a copy cut short (kill -9, a full
// disk) leaves the volume as it was, to be filled at its next mount.
void copy_up(const Paths& paths, const ContainerConfig& c, const std::string& volume, const std::string& dest,
             const Owners& owners) {
    const std::string& image = c.image;
    // A layered image's files as its containers see them: the union of its layers.
    UniqueFd image_root = c.image_layers.empty()
                              ? UniqueFd(::open(paths.image_rootfs(image).c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC))
                              : overlay_view(c.image_layers);
    if (!image_root) throw_errno("open the rootfs of image " + quote_for_message(image));
    UniqueFd from = open_in_root(image_root.get(), dest, O_RDONLY | O_DIRECTORY);
    if (!from) return;  // nothing there in the image (or not a directory): nothing to copy
    struct stat st {};
    if (::fstat(from.get(), &st) < 0) throw_errno("stat " + dest + " in image " + quote_for_message(image));
    fs::path staging = paths.volume_dir(volume) / ".copy-up";
    remove_tree(staging);
    if (::mkdir(staging.c_str(), 0700) < 0) throw_errno("create " + staging.string());
    try {
        UniqueFd to(::open(staging.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
        if (!to) throw_errno("open " + staging.string());
        with_context("copy " + dest + " of image " + quote_for_message(image) + " into volume " + quote_for_message(volume),
                     [&] { copy_tree(from.get(), to.get(), owners); });
        // The volume's root takes the owner and mode of the image's directory.
        if (::fchown(to.get(), host_id_of(owners.uid_map, st.st_uid), host_id_of(owners.gid_map, st.st_gid)) < 0 ||
            ::fchmod(to.get(), st.st_mode & 07777) < 0)
            throw_errno("set the owner of volume " + quote_for_message(volume));
        fs::path data = paths.volume_data(volume);
        if (::rmdir(data.c_str()) < 0 && errno != ENOENT) throw_errno("replace " + data.string());
        if (::rename(staging.c_str(), data.c_str()) < 0) throw_errno("replace " + data.string());
    } catch (...) {
        remove_tree(staging);
        throw;
    }
}

// The U option: the source (a host directory, or a volume's data) and all
// in it become the container's user's, as the host sees them through the
// container's mapping (podman chowns the same way).
void chown_for_U(const Store& store, const ContainerConfig& c) {
    uid_t uid = host_id_of(c.security.uid_map, c.security.uid.value_or(0));
    gid_t gid = host_id_of(c.security.gid_map, c.security.gid.value_or(0));
    Volumes volumes(store.paths());
    for (const auto& m : c.mounts) {
        if (!m.has_option("U")) continue;
        fs::path source = m.type == "volume" ? store.paths().volume_data(m.source) : fs::path(m.source);
        // A volume that is a bind of a device directory: that directory.
        if (auto v = m.type == "volume" ? volumes.find(m.source) : std::nullopt; v && v->mounts_device()) {
            const std::string& type = v->options.at("type");
            if (type != "none" && type != "bind")
                throw Error("invalid mount on " + m.destination + ": U cannot chown a " + type + " volume");
            source = v->options.at("device");
        }
        // What the mount shows: a symlink's target, not the link.
        std::error_code ec;
        fs::path real = fs::canonical(source, ec);
        if (ec) throw Error(ec.value(), "chown " + source.string() + " for " + m.destination + " (U)");
        source = real;
        with_context("chown " + source.string() + " for " + m.destination + " (U)", [&] {
            chown_tree(AT_FDCWD, source.string(), uid, gid);
        });
    }
}

}  // namespace

PreparedVolumes prepare_volumes(const Store& store, ContainerConfig& c) {
    PreparedVolumes out;
    Volumes volumes(store.paths());
    for (auto& m : c.mounts) {
        if (m.type != "volume") continue;
        if (!out.lock) out.lock = volumes.lock();
        std::optional<Volume> v;
        if (m.source.empty()) {
            m.source = generate_id();
            v = volumes.create(m.source, m.volume_labels, true, m.volume_options);
            out.made.push_back(m.source);
        } else {
            v = volumes.find(m.source);
            if (!v) {
                v = volumes.create(m.source, m.volume_labels, false, m.volume_options);
                out.made.push_back(m.source);
            }
        }
        fs::path data = store.paths().volume_data(m.source);
        // A copy-up cut short took _data away: it comes back, to be filled.
        if (::mkdir(data.c_str(), 0755) < 0 && errno != EEXIST) throw_errno("create " + data.string());
        if (!v->needs_copy) continue;
        if (v->mounts_device()) {  // its files are the device's: nothing to copy or give away
            volumes.mark_copied(m.source);
            continue;
        }
        // In a user namespace the image's files are its root's, and so is
        // a new volume (as podman makes it): host ids through the mapping.
        Owners owners;
        owners.uid_map = c.security.uid_map;
        owners.gid_map = c.security.gid_map;
        if (c.security.userns() && ::chown(data.c_str(), host_id_of(owners.uid_map, 0), host_id_of(owners.gid_map, 0)) < 0)
            throw_errno("give volume " + quote_for_message(m.source) + " to the container's root");
        if (!m.has_option("nocopy") && empty_dir(data))
            copy_up(store.paths(), c, m.source, m.destination, owners);
        volumes.mark_copied(m.source);
    }
    chown_for_U(store, c);
    return out;
}

void undo_volumes(const Store& store, PreparedVolumes& prepared) noexcept {
    Volumes volumes(store.paths());
    for (const auto& name : prepared.made) {
        try {
            volumes.remove(name);
        } catch (const Error&) {
        }
    }
    prepared.made.clear();
    prepared.lock.reset();
}

namespace {

// Calls `each` with the id and the volumes of every container that mounts any.
template <typename F>
void for_each_volume_user(const Store& store, F each) {
    for (const auto& id : store.list_ids()) {
        ContainerConfig c;
        try {
            c = store.load_config(id);
        } catch (const Error&) {
            continue;  // a container whose config cannot be read mounts nothing
        }
        for (const auto& m : c.mounts)
            if (m.type == "volume") each(id, m.source);
    }
}

}  // namespace

std::vector<std::string> containers_using(const Store& store, const std::string& name) {
    std::vector<std::string> out;
    for_each_volume_user(store, [&](const std::string& id, const std::string& volume) {
        if (volume == name && (out.empty() || out.back() != id)) out.push_back(id);
    });
    return out;
}

std::set<std::string> volumes_in_use(const Store& store) {
    std::set<std::string> out;
    for_each_volume_user(store, [&](const std::string&, const std::string& volume) { out.insert(volume); });
    return out;
}

void remove_volume(const Store& store, const std::string& name, bool force) {
    Volumes volumes(store.paths());
    FileLock lock = volumes.lock();
    volumes.load(name);  // "no such volume"
    auto users = containers_using(store, name);
    if (!users.empty() && !force)
        throw Error("volume " + quote_for_message(name) + " is being used by the following container(s): " +
                        names_of(store, users) + "; remove them first, or use -f",
                    kExitStateImproper);
    for (const auto& id : removal_order(store, users)) remove_container(store, id, true);
    volumes.remove(name);
}

}  // namespace minirt
