// minirt generate systemd [--new] CONTAINER: a systemd unit that runs a
// container, as podman's does. Its units are Type=notify: with
// --sdnotify=conmon the CLI tells systemd, before it exits, that the
// container's shim is the service's main process and that it is ready;
// the shim exits with the container's exit code (shim_main.cpp), so
// systemd's Restart= sees the container fail. --new makes a fresh
// container at each start from the command line that made this one.
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstddef>
#include <cstring>

#include <fstream>
#include <iostream>
#include <set>

#include "cli/cli.hpp"
#include "common/error.hpp"
#include "common/parse.hpp"

namespace minirt::cli {

bool parse_sdnotify(const std::string& value) {
    if (value == "conmon") return true;
    if (value == "ignore") return false;
    if (value == "container" || value == "healthy")
        throw Error("--sdnotify=" + value + " is not supported: minirt passes no NOTIFY_SOCKET into containers (use conmon or ignore)");
    throw Error("invalid --sdnotify " + quote_for_message(value) + ": use conmon or ignore");
}

void notify_systemd_ready(const Store& store, const std::string& id) {
    const char* where = std::getenv("NOTIFY_SOCKET");
    if (!where || (where[0] != '/' && where[0] != '@')) return;  // not under systemd: nothing to say
    auto st = store.load_state(id);
    if (!st || st->shim_pid <= 0) throw Error("--sdnotify=conmon: container " + id.substr(0, 12) + " has no shim");
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    size_t len = std::strlen(where);
    if (len >= sizeof addr.sun_path) throw Error("--sdnotify=conmon: NOTIFY_SOCKET is too long");
    std::memcpy(addr.sun_path, where, len);
    if (where[0] == '@') addr.sun_path[0] = '\0';  // an abstract socket
    UniqueFd sock(::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0));
    if (!sock) throw_errno("--sdnotify=conmon: socket");
    // The shim stays; we, the process systemd started, are about to go.
    std::string message = "MAINPID=" + std::to_string(st->shim_pid) + "\nREADY=1\n";
    auto size = static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + len);
    if (::sendto(sock.get(), message.data(), message.size(), MSG_NOSIGNAL, reinterpret_cast<sockaddr*>(&addr), size) < 0)
        throw_errno("--sdnotify=conmon: tell systemd at " + std::string(where));
}

namespace {

// One word of an Exec line as systemd splits them: bare when it is plain,
// else in double quotes with C escapes; % and $ doubled, which systemd
// would otherwise expand.
std::string systemd_word(const std::string& w) {
    bool plain = !w.empty();
    for (char ch : w)
        if (!(std::isalnum(static_cast<unsigned char>(ch)) || std::string_view("_./:=,@+-").find(ch) != std::string_view::npos))
            plain = false;
    std::string out = plain ? "" : "\"";
    for (char ch : w) {
        switch (ch) {
        case '%': out += "%%"; break;
        case '$': out += "$$"; break;
        case '"': out += "\\\""; break;
        case '\\': out += "\\\\"; break;
        case '\n': out += "\\n"; break;
        case '\t': out += "\\t"; break;
        default: out += ch;
        }
    }
    return plain ? out : out + "\"";
}

std::string command_line(const std::vector<std::string>& words) {
    std::string line;
    for (const auto& w : words) line += (line.empty() ? "" : " ") + systemd_word(w);
    return line;
}

// What --new runs: the recorded `run`/`create` arguments, without those the
// unit sets itself (-d, --name, --sdnotify), those systemd does instead
// (--restart: its Restart=; --rm: ExecStopPost removes it), up to the
// image; the image and the command stay as they were.
std::vector<std::string> new_run_arguments(const std::vector<std::string>& recorded) {
    po::options_description desc = run_options(false);
    const std::set<std::string> dropped{"detach", "name", "sdnotify", "restart", "rm"};
    std::vector<std::string> out;
    size_t i = 1;  // past the verb
    for (; i < recorded.size(); ++i) {
        const std::string& a = recorded[i];
        if (a == "--") break;  // the image and its command follow, kept with it
        if (a.size() < 2 || a[0] != '-') break;  // the image
        if (a[1] != '-') {
            // Short flags: booleans together (-dit), or one that takes a
            // value (-e K=V, -eK=V).
            std::string kept = "-";
            bool takes_value = false;
            for (size_t k = 1; k < a.size(); ++k) {
                const po::option_description* o = desc.find_nothrow(std::string("-") + a[k], false);
                if (!o) throw Error("the recorded command has an unknown flag " + quote_for_message(a));
                // As parse() reads it: an optional value (--pin-cpu) is only
                // ever given with =, never as the next word.
                if (o->semantic()->min_tokens() > 0) {
                    takes_value = k + 1 == a.size();  // else the rest is its value
                    kept += a.substr(k);
                    break;
                }
                if (a[k] != 'd') kept += a[k];
            }
            if (kept.size() > 1) out.push_back(kept);
            if (takes_value && i + 1 < recorded.size()) out.push_back(recorded[++i]);
            continue;
        }
        std::string name = a.substr(2, a.find('=') - 2);
        const po::option_description* o = desc.find_nothrow(name, false);
        if (!o) throw Error("the recorded command has an unknown flag " + quote_for_message(a));
        bool value_follows = o->semantic()->min_tokens() > 0 && a.find('=') == std::string::npos;
        bool drop = dropped.count(o->long_name()) > 0;
        if (!drop) out.push_back(a);
        if (value_follows && i + 1 < recorded.size()) {
            ++i;
            if (!drop) out.push_back(recorded[i]);
        }
    }
    out.insert(out.end(), recorded.begin() + static_cast<long>(std::min(i, recorded.size())), recorded.end());
    return out;
}

std::string own_executable() {
    std::error_code ec;
    fs::path self = fs::read_symlink("/proc/self/exe", ec);
    if (ec) throw Error("cannot tell where minirt is: " + ec.message());
    return self.string();
}

const std::set<std::string> kRestartValues{"no", "on-success", "on-failure", "on-abnormal", "on-watchdog", "on-abort", "always"};

int generate_systemd(Context& ctx, const Args& args) {
    const char* usage = "minirt generate systemd [--new] [--name] [--files] [--restart-policy P] [-t SECS] CONTAINER";
    po::options_description desc("Options");
    desc.add_options()
        ("new", "make a fresh container at each start (from the command that made this one), remove it at stop")
        ("name,n", "name the unit and commands by the container's name, not its id")
        ("files,f", "write container-NAME.service here and print its path")
        ("restart-policy", po::value<std::string>()->default_value("on-failure"), "the unit's Restart= (systemd's values)")
        ("time,t", po::value<int>(), "stop timeout in seconds (default: the container's --stop-timeout)")
        ("container-prefix", po::value<std::string>()->default_value("container"), "the unit name's prefix")
        ("separator", po::value<std::string>()->default_value("-"), "between prefix and name");
    Parsed p = parse(desc, args, usage);
    require_positional(p, 1, 1, usage);
    ContainerView v = view_named(ctx, p.positional[0]);
    const ContainerConfig& c = *v.config;
    std::string restart = p.vm["restart-policy"].as<std::string>();
    if (!kRestartValues.count(restart))
        throw Error("invalid --restart-policy " + quote_for_message(restart) +
                    ": use no, on-success, on-failure, on-abnormal, on-watchdog, on-abort or always");
    int stop_time = stop_time_flag(p.vm);
    if (stop_time < 0) stop_time = c.stop_timeout;
    bool fresh = p.vm.count("new") > 0;
    bool by_name = p.vm.count("name") > 0 || fresh;  // a fresh container's id is new each time
    std::string handle = by_name ? c.name : v.id;
    for (const char* flag : {"container-prefix", "separator"}) {
        const std::string& part = p.vm[flag].as<std::string>();
        if (part.find_first_not_of("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789:_.-") != std::string::npos)
            throw Error(std::string("invalid --") + flag + " " + quote_for_message(part) +
                        ": a unit name takes letters, digits, ':', '_', '.' and '-'");
    }
    std::string unit = p.vm["container-prefix"].as<std::string>() + p.vm["separator"].as<std::string>() + handle + ".service";
    if (fresh && c.create_command.empty())
        throw Error("container " + c.name + " has no recorded run command (made by an older minirt): generate it without --new");

    std::vector<std::string> minirt{own_executable(), "--root", ctx.store.paths().root.string(), "--storage",
                                    ctx.store.paths().storage.string()};
    auto with = [&](std::vector<std::string> words) {
        std::vector<std::string> line = minirt;
        line.insert(line.end(), words.begin(), words.end());
        return command_line(line);
    };
    std::string service;
    if (fresh) {
        std::vector<std::string> run{"run", "--sdnotify=conmon", "-d", "--name", c.name};
        std::vector<std::string> rest = new_run_arguments(c.create_command);
        run.insert(run.end(), rest.begin(), rest.end());
        service = "ExecStartPre=-" + with({"rm", "-f", c.name}) + "\n" +
                  "ExecStart=" + with(run) + "\n" +
                  "ExecStop=" + with({"stop", "-t", std::to_string(stop_time), c.name}) + "\n" +
                  "ExecStopPost=-" + with({"rm", "-f", c.name}) + "\n";
    } else {
        service = "ExecStart=" + with({"start", "--sdnotify=conmon", handle}) + "\n" +
                  "ExecStop=" + with({"stop", "-t", std::to_string(stop_time), handle}) + "\n" +
                  "ExecStopPost=" + with({"stop", "-t", std::to_string(stop_time), handle}) + "\n";
    }
    std::string text = "# " + unit + "\n# autogenerated by minirt " MINIRT_VERSION "\n\n"
                       "[Unit]\n"
                       "Description=minirt " + unit + "\n"
                       "Wants=network-online.target\n"
                       "After=network-online.target\n"
                       "RequiresMountsFor=" + systemd_word(ctx.store.paths().root.string()) + " " +
                       systemd_word(ctx.store.paths().storage.string()) + "\n\n"
                       "[Service]\n"
                       "Restart=" + restart + "\n"
                       // The stop's own wait, and time for the shim to record the exit.
                       "TimeoutStopSec=" + std::to_string(stop_time + 60) + "\n" +
                       service +
                       "Type=notify\n"
                       // The shim, not the command systemd started, says READY.
                       "NotifyAccess=all\n\n"
                       "[Install]\n"
                       "WantedBy=default.target\n";
    if (!p.vm.count("files")) {
        std::cout << text;
        return 0;
    }
    fs::path file = fs::current_path() / unit;
    std::ofstream out(file);
    out << text;
    out.close();
    if (!out) throw Error("cannot write " + file.string());
    std::cout << file.string() << "\n";
    return 0;
}

}  // namespace

int cmd_generate(Context& ctx, const Args& args) {
    return run_subcommand(ctx, args, "generate", "minirt generate systemd [--new] CONTAINER",
                          "Commands:\n"
                          "  systemd CONTAINER   a systemd unit that runs it (--new: a fresh one at each start)\n",
                          {{{"systemd"}, generate_systemd}});
}

}  // namespace minirt::cli
