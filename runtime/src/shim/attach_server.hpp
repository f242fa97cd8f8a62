// The shim's side of the attach socket (common/protocol.hpp): the clients of
// a -t or detached -i container (`run -it`, `attach`). Their input goes to
// the container's terminal or stdin pipe; its output goes to every client,
// and what came before the first one connected is kept for it (bounded),
// so `run -it` never misses the shell's first prompt.
#pragma once

#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include "common/fd.hpp"

namespace minirt {

class AttachServer {
public:
    // Listens at `path`.
    explicit AttachServer(const std::filesystem::path& path);
    int listener() const { return listener_.get(); }
    // Where input goes: the container's pty master (-t), or the write end of
    // its stdin pipe (-i), which the server owns (a client may close it).
    void set_terminal(int master) { master_ = master; }
    void set_stdin(UniqueFd write_end) { stdin_ = std::move(write_end); }
    int stdin_fd() const { return stdin_.get(); }
    // Clients are added to this epoll set as they connect (-1: none).
    void watch_with(int epoll_fd) { epoll_ = epoll_fd; }

    void accept_client();
    bool is_client(int fd) const;
    // One packet of a client's: input, window size, close stdin. A client
    // that is gone is dropped.
    void serve(int fd);
    void broadcast(std::string_view output);
    // `run -t` in the foreground connects once it hears Started: a command
    // quicker than that (a loaded host, `echo`) has ended before. Its output
    // waits for that client while `cli_fd` (the report pipe) is open, up to
    // `timeout_ms`.
    void await_first_client(int cli_fd, int timeout_ms);
    // The exit code to every client; then there are none.
    void send_exit(int code);

private:
    UniqueFd listener_;
    std::vector<UniqueFd> clients_;
    std::string pending_output_;  // output before the first client connected
    bool had_client_ = false;
    int epoll_ = -1;
    int master_ = -1;  // not ours: the shim closes it
    UniqueFd stdin_;
};

}  // namespace minirt
