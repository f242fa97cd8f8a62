#include <iostream>

#include "cli/cli.hpp"
#include "state/events.hpp"
#include "common/error.hpp"
#include "common/file.hpp"
#include "common/parse.hpp"

namespace minirt::cli {

namespace {

bool takes_value(const po::options_description& desc, const std::string& arg) {
    std::string name;
    if (arg.starts_with("--")) {
        if (arg.find('=') != std::string::npos) return false;
        name = arg.substr(2);
    } else {
        if (arg.size() != 2) return false;  // -eFOO: value attached
        name = arg;  // boost matches short names with their dash
    }
    const po::option_description* d = desc.find_nothrow(name, false, false, false);
    // An option with an implicit value (--pin-cpu[=N]) takes one only after "=".
    return d && d->semantic()->min_tokens() > 0;
}

}  // namespace

void container_event(const Context& ctx, const std::string& id, const char* action,
                     std::map<std::string, std::string> attributes) noexcept {
    ContainerConfig c;
    try {
        c = ctx.store.load_config(id);
    } catch (const Error&) {
        c.id = id;  // damaged: the id still says which
    }
    record_container_event(ctx.store.paths(), c, action, std::move(attributes));
}

std::vector<std::string> handles_or_all(const Context& ctx, const Parsed& p, const char* usage, bool running,
                                        bool restarting) {
    if (!p.vm.count("all")) {
        require_positional(p, 1, SIZE_MAX, usage);
        return p.positional;
    }
    require_positional(p, 0, 0, usage);
    std::vector<std::string> ids;
    for (const ContainerView& v : view_all(ctx.store))
        if (!running || v.status == Status::Running || v.status == Status::Paused || (restarting && v.waiting_to_restart()))
            ids.push_back(v.id);
    return ids;
}

std::vector<std::pair<std::string, std::string>> setting_file_lines(const std::string& flag, const std::string& file) {
    std::vector<std::pair<std::string, std::string>> out;
    std::string text = with_context(flag + " " + file, [&] { return read_file(file, 1 << 20); });
    size_t number = 0;
    for (size_t at = 0; at < text.size();) {
        size_t end = text.find('\n', at);
        if (end == std::string::npos) end = text.size();
        std::string line = text.substr(at, end - at);
        at = end + 1;
        ++number;
        if (!line.empty() && line.back() == '\r') line.pop_back();
        line.erase(0, line.find_first_not_of(" \t"));
        if (line.empty() || line[0] == '#') continue;
        out.emplace_back(flag + " " + file + ":" + std::to_string(number), std::move(line));
    }
    return out;
}

std::vector<std::string> env_file_entries(const std::vector<std::string>& files) {
    std::vector<std::string> out;
    for (const auto& file : files) {
        for (const auto& [where, line] : setting_file_lines("--env-file", file)) {
            auto eq = line.find('=');
            std::string key = line.substr(0, eq);
            if (key.empty() || key.find_first_of(" \t") != std::string::npos)
                throw Error("invalid " + where + ": " + quote_for_message(line) + " is not KEY=VALUE");
            if (eq != std::string::npos) {
                out.push_back(line);
            } else if (const char* v = std::getenv(key.c_str())) {
                out.push_back(key + "=" + v);
            }
        }
    }
    return out;
}

ContainerView view_named(const Context& ctx, const std::string& name) {
    ContainerView v = view_container(ctx.store, ctx.store.resolve(name));
    if (!v.load_error.empty()) throw Error(v.load_error);
    return v;
}

int stop_time_flag(const po::variables_map& vm) {
    if (!vm.count("time")) return -1;
    int t = vm["time"].as<int>();
    if (t < 0) throw Error("invalid --time " + std::to_string(t) + ": must not be negative");
    return t;
}

Parsed parse(const po::options_description& desc, const Args& args, const std::string& usage,
             bool stop_at_positional) {
    Parsed p;
    std::vector<std::string> options;
    bool positional_only = false;
    for (size_t i = 0; i < args.size(); ++i) {
        const std::string& a = args[i];
        if (positional_only) {
            p.positional.push_back(a);
        } else if (a == "--") {
            positional_only = true;
        } else if (a.size() > 1 && a[0] == '-') {
            if (a == "--help" || a == "-h") {
                std::cout << "Usage: " << usage << "\n\n" << desc;
                std::exit(0);
            }
            options.push_back(a);
            if (takes_value(desc, a) && i + 1 < args.size()) options.push_back(args[++i]);
        } else {
            p.positional.push_back(a);
            if (stop_at_positional) positional_only = true;
        }
    }
    try {
        po::store(po::command_line_parser(options)
                      .options(desc)
                      .style(po::command_line_style::default_style & ~po::command_line_style::allow_guessing)
                      .run(),
                  p.vm);
        po::notify(p.vm);
    } catch (const po::error& e) {
        throw Error(std::string(e.what()) + " (see --help)");
    }
    return p;
}

std::map<std::string, std::string> labels_from_flags(const po::variables_map& vm, const char* key) {
    std::map<std::string, std::string> labels;
    for (const auto& l : flag_values(vm, key)) {
        auto eq = l.find('=');
        std::string k = l.substr(0, eq);
        if (k.empty()) throw Error("invalid --" + std::string(key) + " " + quote_for_message(l) + ": expected KEY[=VALUE]");
        labels[k] = eq == std::string::npos ? "" : l.substr(eq + 1);
    }
    return labels;
}

bool label_filter_matches(const std::map<std::string, std::string>& labels, const std::string& value) {
    auto eq = value.find('=');
    auto it = labels.find(value.substr(0, eq));
    return it != labels.end() && (eq == std::string::npos || it->second == value.substr(eq + 1));
}

bool confirmed(const std::string& warning, const std::vector<std::string>& names) {
    std::cout << warning << "\n";
    for (const auto& n : names) std::cout << n << "\n";
    std::cout << "Are you sure you want to continue? [y/N] " << std::flush;
    std::string answer;
    return std::getline(std::cin, answer) && (answer == "y" || answer == "Y" || answer == "yes");
}

int run_subcommand(Context& ctx, const Args& args, const char* verb, const char* usage, const char* help,
                   const std::vector<Subcommand>& table) {
    if (args.empty()) throw Error(std::string("missing subcommand; usage: ") + usage);
    if (args[0] == "--help" || args[0] == "-h" || args[0] == "help") {
        std::cout << "Usage: " << usage << "\n\n" << help;
        return 0;
    }
    Args rest(args.begin() + 1, args.end());
    for (const auto& sub : table)
        for (const char* name : sub.names)
            if (args[0] == name) return sub.run(ctx, rest);
    throw Error("unknown " + std::string(verb) + " subcommand " + quote_for_message(args[0]) + "; usage: " + usage);
}

std::optional<bool> bool_word(std::string_view v) {
    for (std::string_view t : {"1", "t", "T", "true", "TRUE", "True"})
        if (v == t) return true;
    for (std::string_view f : {"0", "f", "F", "false", "FALSE", "False"})
        if (v == f) return false;
    return std::nullopt;
}

std::vector<std::string> flag_values(const po::variables_map& vm, const char* key) {
    return vm.count(key) ? vm[key].as<std::vector<std::string>>() : std::vector<std::string>{};
}

void require_positional(const Parsed& p, size_t min, size_t max, const std::string& usage) {
    if (p.positional.size() < min || p.positional.size() > max)
        throw Error((p.positional.size() < min ? "missing arguments" : "too many arguments") +
                    std::string("; usage: ") + usage);
}

}  // namespace minirt::cli
