// minirt attach, and the attach session that `run -it` uses: the user's
// terminal in raw mode, relayed both ways through the shim's attach socket,
// window size changes passed on, a detach key sequence to leave.
#include <poll.h>
#include <signal.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include <cstring>
#include <iostream>

#include "cli/attach.hpp"
#include "cli/cli.hpp"
#include "common/file.hpp"
#include "container/ops.hpp"
#include "linux/process.hpp"
#include "common/protocol.hpp"
#include "linux/unix_socket.hpp"
#include "linux/terminal.hpp"

namespace minirt::cli {

std::string parse_detach_keys(const std::string& spec) {
    std::string keys;
    size_t start = 0;
    while (start <= spec.size()) {
        size_t comma = spec.find(',', start);
        std::string k = spec.substr(start, comma == std::string::npos ? std::string::npos : comma - start);
        if (k.size() == 6 && k.starts_with("ctrl-") && std::isalpha(static_cast<unsigned char>(k[5])))
            keys += static_cast<char>(std::tolower(static_cast<unsigned char>(k[5])) - 'a' + 1);
        else if (k.size() == 1)
            keys += k;
        else
            throw Error("invalid --detach-keys \"" + spec + "\": use keys like ctrl-p,ctrl-q or single characters");
        if (comma == std::string::npos) break;
        start = comma + 1;
    }
    return keys;
}

namespace {

void send_winsize(int sock, int tty) {
    auto ws = window_size(tty);
    if (!ws) return;
    char buf[4];
    std::memcpy(buf, &ws->rows, 2);
    std::memcpy(buf + 2, &ws->cols, 2);
    send_packet(sock, AttachType::Winsize, std::string_view(buf, 4));
}

}  // namespace

AttachResult attach_session(int sock, const AttachOptions& opts) {
    sigset_t mask;
    sigemptyset(&mask);
    for (int s : {SIGWINCH, SIGTERM, SIGHUP, SIGINT, SIGQUIT}) sigaddset(&mask, s);
    sigset_t old;
    ::sigprocmask(SIG_BLOCK, &mask, &old);
    UniqueFd sigfd(::signalfd(-1, &mask, SFD_CLOEXEC));
    std::optional<RawTerminal> raw;
    if (opts.tty && ::isatty(0)) raw.emplace(0);
    if (opts.tty && ::isatty(0)) send_winsize(sock, 0);

    bool stdin_open = opts.stdin_open;
    size_t matched = 0;  // how much of the detach sequence was typed
    AttachResult result;
    for (bool done = false; !done;) {
        pollfd fds[3] = {{sock, POLLIN, 0}, {sigfd.get(), POLLIN, 0}, {stdin_open ? 0 : -1, POLLIN, 0}};
        if (::poll(fds, 3, -1) < 0) {
            if (errno == EINTR) continue;
            break;
        }
        if (fds[0].revents & (POLLIN | POLLHUP | POLLERR)) {
            AttachType type;
            std::string payload;
            if (!recv_packet(sock, type, payload)) break;  // the shim went away
            if (type == AttachType::Output) write_all_nothrow(1, payload);
            if (type == AttachType::Exit) {
                result.exit_code = static_cast<int>(std::strtol(payload.c_str(), nullptr, 10));
                break;
            }
        }
        if (fds[1].revents & POLLIN) {
            signalfd_siginfo si{};
            if (::read(sigfd.get(), &si, sizeof si) == sizeof si) {
                int sig = static_cast<int>(si.ssi_signo);
                if (sig == SIGWINCH) send_winsize(sock, 0);
                else if (opts.forward_signal) opts.forward_signal(sig);
            }
        }
        if (stdin_open && (fds[2].revents & (POLLIN | POLLHUP))) {
            char buf[4096];
            ssize_t n = ::read(0, buf, sizeof buf);
            if (n <= 0) {
                send_packet(sock, AttachType::CloseStdin, "");
                stdin_open = false;
                continue;
            }
            std::string out;
            for (ssize_t i = 0; i < n && !done; ++i) {
                char c = buf[i];
                if (!opts.detach_keys.empty() && c == opts.detach_keys[matched]) {
                    if (++matched == opts.detach_keys.size()) done = result.detached = true;  // leave it running
                    continue;
                }
                out.append(opts.detach_keys, 0, matched);  // a partial match was just typing
                matched = 0;
                out += c;
            }
            if (!out.empty() && !send_packet(sock, AttachType::Data, out)) break;
        }
    }
    raw.reset();
    ::sigprocmask(SIG_SETMASK, &old, nullptr);
    return result;
}

int cmd_attach(Context& ctx, const Args& args) {
    const char* usage = "minirt attach [--detach-keys KEYS] [--no-stdin] NAME";
    po::options_description desc("Options");
    desc.add_options()
        ("detach-keys", po::value<std::string>()->default_value("ctrl-p,ctrl-q"), "key sequence that detaches")
        ("no-stdin", "do not send input");
    Parsed p = parse(desc, args, usage);
    require_positional(p, 1, 1, usage);
    ContainerView v = view_named(ctx, p.positional[0]);
    const std::string& id = v.id;
    if (v.status != Status::Running && v.status != Status::Paused) throw Error("container is not running");
    if (!v.config->tty && !v.config->interactive)
        throw Error("container was started without -t or -i: nothing to attach to (use `minirt logs -f`)");
    UniqueFd sock = connect_unix(ctx.store.paths().state_dir(id) / "attach.sock", SOCK_SEQPACKET);
    AttachOptions o;
    o.tty = v.config->tty;
    o.stdin_open = !p.vm.count("no-stdin");
    o.detach_keys = parse_detach_keys(p.vm["detach-keys"].as<std::string>());
    AttachResult r = attach_session(sock.get(), o);
    if (r.exit_code) return *r.exit_code;
    if (r.detached) {
        if (::isatty(1)) std::cout << "\r\n";
        return 0;
    }
    auto code = wait_container(ctx.store, id);
    return code.value_or(kExitMinirtError);
}

}  // namespace minirt::cli
