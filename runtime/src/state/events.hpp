// The event journal: what happened to containers, images, networks and
// volumes, one JSON object a line in $MINIRT_ROOT/events.log, appended by
// whoever did it (the CLI, a shim). Bounded: at kEventsMaxSize the file
// becomes events.log.1 (the one before goes) and a new one begins. A
// record is whole or absent: each is one write(2), a short one (a full
// disk) is cut back, and a writer that finds a record cut short by a
// killed writer cuts it off before it appends.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "state/paths.hpp"

namespace minirt {

struct ContainerConfig;

struct Event {
    int64_t time_ns = 0;
    std::string type;    // container, image, network, volume
    std::string action;  // create, start, died, ... (podman's Status)
    std::string id;      // the container's, image's, network's or volume's
    std::string name;
    std::string image;   // containers: their image
    std::map<std::string, std::string> attributes;  // exitCode, signal, reason, health_status, ...
};

constexpr uint64_t kEventsMaxSize = 1 << 20;

// Appends `e` (its time set now if 0). Never throws: an event that cannot
// be written (no --root, a full disk) is lost, not the operation's error.
void record_event(const Paths& paths, Event e) noexcept;
// A container's event: its id, name and image from its config.
void record_container_event(const Paths& paths, const ContainerConfig& c, std::string action,
                            std::map<std::string, std::string> attributes = {}) noexcept;

// An image's, network's or volume's event (type "image", "network", "volume").
void record_object_event(const Paths& paths, const char* type, std::string action, std::string id, std::string name,
                         std::map<std::string, std::string> attributes = {}) noexcept;

// The journal line of `e`, and back (nullopt for a line that is not one).
std::string event_line(const Event& e);
std::optional<Event> parse_event_line(std::string_view line);

// Follows the journal: the records already there (the rotated file's,
// then the current one's), then those appended later. Survives rotation.
class EventReader {
public:
    explicit EventReader(const Paths& paths);
    ~EventReader();
    EventReader(const EventReader&) = delete;
    EventReader& operator=(const EventReader&) = delete;
    // The complete records written since the last call (none: empty).
    std::vector<Event> read_new();

private:
    void open_current();
    void read_from(int fd, std::vector<Event>& out);
    Paths paths_;
    int fd_ = -1;
    uint64_t inode_ = 0;
    bool started_ = false;
    std::string partial_;
};

}  // namespace minirt
