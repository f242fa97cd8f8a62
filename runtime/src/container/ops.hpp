// Operations on one container: the live view (status derived from the
// kernel, not trusted from the file), stop, kill, wait, freeze and removal
// (starting one is container/launch.hpp).
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "state/store.hpp"

namespace minirt {

struct ContainerView {
    std::string id;
    ContainerSummary summary;               // name, image, command, created
    std::optional<ContainerConfig> config;  // not loaded by view_all()
    std::optional<ContainerState> state;
    Status status = Status::Unknown;
    std::string reason;      // why it is in that status, for humans
    std::string load_error;  // set when config or state could not be read
    bool shim_alive = false;
    bool init_alive = false;
    // A running container's health check status ("starting", "healthy",
    // "unhealthy"); empty without one.
    std::string health;

    // Exited, and its live shim starts it again after its backoff (--restart).
    bool waiting_to_restart() const { return status == Status::Exited && state && state->restarting; }
};

// Never throws for a damaged container: the error lands in load_error.
ContainerView view_container(const Store& store, const std::string& id);
// Every container, as cheaply as it can be known (for `list`): one read of
// state.json each, which holds the summary (config.json is read only when
// it does not), and the kernel is asked only about containers whose record
// says they may be live. A damaged container is listed with its load_error.
std::vector<ContainerView> view_all(const Store& store);

// "Exited (137) 3 seconds ago" style text for tables.
std::string status_text(const ContainerView& v, int64_t now);

// SIGTERM (or `signal`), then after timeout_s the whole cgroup gets SIGKILL;
// returns once the shim has recorded the exit. A container that is not
// running is left alone; one waiting to restart (--restart) is not started
// again. Holds the container lock only while marking it.
// signal 0: the container's stop signal (SIGTERM unless it was given one);
// timeout_s < 0: its stop timeout (--stop-timeout, 10 unless given).
void stop_container(const Store& store, const std::string& id, int timeout_s, int signal = 0);
// A container waiting to restart (view.waiting_to_restart(), seen under
// `lock`): marks it stop_requested under the lock, releases it, and wakes
// its shim, which gives the restart up; returns once that shim is gone.
void call_off_restart(const Store& store, FileLock& lock, const ContainerView& v);
// Sends `sig` to the container's init; Error if it is not running.
void kill_container(const Store& store, const std::string& id, int sig);
// Blocks until the container is not running; returns its exit code, or
// nullopt when it is unknown (the shim was lost).
std::optional<int> wait_container(const Store& store, const std::string& id);
// Freezes (or thaws) every process of a running container through
// cgroup.freeze, recording paused (running) around it; Error if it is not
// in the state to change.
void set_frozen(const Store& store, const std::string& id, bool frozen);
// Removes a stopped container, or (force) stops it first; `volumes`: its
// anonymous volumes too (rm -v, and a run undone).
void remove_container(const Store& store, const std::string& id, bool force, bool volumes = false);
// `ids` in an order they can be removed in: each container that joins
// another's namespaces (container:ID) before that one (rm -a, prune, the
// -f removals of an image's, a network's or a volume's containers).
std::vector<std::string> removal_order(const Store& store, const std::vector<std::string>& ids);
// "web, db, 3f2a1b9c0d4e": each container's name (its short id when its
// config cannot be read), for messages naming several.
std::string names_of(const Store& store, const std::vector<std::string>& ids);

}  // namespace minirt
