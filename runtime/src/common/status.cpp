#include "common/status.hpp"

namespace minirt {

const char* to_string(Status s) {
    switch (s) {
        case Status::Creating: return "creating";
        case Status::Created: return "created";
        case Status::Running: return "running";
        case Status::Paused: return "paused";
        case Status::Stopping: return "stopping";
        case Status::Exited: return "exited";
        case Status::Unknown: break;
    }
    return "unknown";
}

const char* oci_status_name(Status s) {
    switch (s) {
        case Status::Creating: return "creating";
        case Status::Created: return "created";
        case Status::Running:
        case Status::Stopping: return "running";
        case Status::Paused: return "paused";
        case Status::Exited:
        case Status::Unknown: break;
    }
    return "stopped";
}

}  // namespace minirt
