#include "shim/attach_server.hpp"

#include <poll.h>
#include <sys/epoll.h>
#include <sys/socket.h>

#include <algorithm>
#include <cstring>

#include "common/file.hpp"
#include "linux/process.hpp"
#include "linux/terminal.hpp"
#include "common/protocol.hpp"
#include "linux/unix_socket.hpp"

namespace minirt {

namespace {

// Output kept for the first client, at most.
constexpr size_t kPendingOutputMax = 1 << 20;

}  // namespace

AttachServer::AttachServer(const std::filesystem::path& path) : listener_(listen_unix(path, SOCK_SEQPACKET)) {}

void AttachServer::broadcast(std::string_view output) {
    if (!had_client_) {
        if (pending_output_.size() + output.size() <= kPendingOutputMax) pending_output_.append(output);
        return;
    }
    for (auto& c : clients_)
        if (c && !send_packet(c.get(), AttachType::Output, output)) c.reset();
}

void AttachServer::accept_client() {
    UniqueFd c(::accept4(listener_.get(), nullptr, nullptr, SOCK_CLOEXEC));
    if (!c) return;
    if (!had_client_) {
        had_client_ = true;
        if (!pending_output_.empty() && !send_packet(c.get(), AttachType::Output, pending_output_)) return;
        pending_output_.clear();
        pending_output_.shrink_to_fit();
    }
    epoll_event ev{};
    ev.events = EPOLLIN;
    ev.data.fd = c.get();
    if (epoll_ >= 0 && ::epoll_ctl(epoll_, EPOLL_CTL_ADD, c.get(), &ev) < 0) return;
    clients_.push_back(std::move(c));
}

bool AttachServer::is_client(int fd) const {
    return std::any_of(clients_.begin(), clients_.end(), [fd](const UniqueFd& c) { return c.get() == fd; });
}

void AttachServer::await_first_client(int cli_fd, int timeout_ms) {
    if (had_client_ || cli_fd < 0) return;
    pollfd fds[2] = {{listener_.get(), POLLIN, 0}, {cli_fd, 0, 0}};
    int64_t deadline = monotonic_ms() + timeout_ms;
    while (!had_client_) {
        int left = static_cast<int>(std::max<int64_t>(0, deadline - monotonic_ms()));
        int n = ::poll(fds, 2, left);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0 || (fds[1].revents & (POLLERR | POLLHUP))) return;  // late, or the CLI is gone
        if (fds[0].revents & POLLIN) accept_client();
    }
}

void AttachServer::serve(int fd) {
    AttachType type;
    std::string payload;
    bool ok = recv_packet(fd, type, payload);
    if (ok && type == AttachType::Data) {
        int target = master_ >= 0 ? master_ : stdin_.get();
        if (target >= 0) write_all_nothrow(target, payload);
    } else if (ok && type == AttachType::Winsize && payload.size() == 4 && master_ >= 0) {
        WindowSize ws;
        std::memcpy(&ws.rows, payload.data(), 2);
        std::memcpy(&ws.cols, payload.data() + 2, 2);
        set_window_size(master_, ws);
    } else if (ok && type == AttachType::CloseStdin) {
        stdin_.reset();
        if (master_ >= 0) write_all_nothrow(master_, "\x04");  // EOF on a terminal
    }
    if (!ok) {
        if (epoll_ >= 0) ::epoll_ctl(epoll_, EPOLL_CTL_DEL, fd, nullptr);
        for (auto& c : clients_)
            if (c.get() == fd) c.reset();
        std::erase_if(clients_, [](const UniqueFd& c) { return !c; });
    }
}

void AttachServer::send_exit(int code) {
    for (auto& c : clients_)
        if (c) send_packet(c.get(), AttachType::Exit, std::to_string(code));
    clients_.clear();
}

}  // namespace minirt
