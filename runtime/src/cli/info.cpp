// minirt info: what this host gives minirt (like `podman info`): the kernel,
// the cgroup version, mount and controllers, the memory monitor backend,
// CDI devices, whether `minirt trace` works here.
#include <sys/utsname.h>
#include <unistd.h>

#include <iostream>
#include <optional>
#include <nlohmann/json.hpp>
#include <cstdio>
#include <sstream>

#include "cdi/cdi.hpp"
#include "cli/cli.hpp"
#include "cli/format_template.hpp"
#include "container/ops.hpp"
#include "image/image.hpp"
#include "image/image_store.hpp"
#include "common/file.hpp"
#include "linux/cgroup.hpp"
#include "linux/monitor.hpp"
#include "linux/monitor_bpf.hpp"
#include "linux/trace_bpf.hpp"

namespace minirt::cli {

namespace {

nlohmann::ordered_json host_info() {
    struct utsname u {};
    ::uname(&u);
    nlohmann::ordered_json h = {{"kernel", u.release}, {"kernel_version", u.version}, {"arch", u.machine},
                        {"hostname", u.nodename}};
    if (auto os = read_file_if_exists("/etc/os-release")) {
        std::istringstream in(*os);
        std::string line;
        while (std::getline(in, line))
            if (line.rfind("PRETTY_NAME=", 0) == 0) {
                std::string v = line.substr(12);
                if (v.size() >= 2 && v.front() == '"') v = v.substr(1, v.size() - 2);
                h["os"] = v;
            }
    }
    h["btf"] = ::access("/sys/kernel/btf/vmlinux", R_OK) == 0;
    return h;
}

nlohmann::ordered_json cgroup_info() {
    std::string mountinfo = read_file_if_exists("/proc/self/mountinfo").value_or("");
    bool v1 = false;
    std::istringstream in(mountinfo);
    std::string line;
    while (std::getline(in, line)) {
        auto dash = line.find(" - ");
        if (dash != std::string::npos && line.compare(dash + 3, 7, "cgroup ") == 0) v1 = true;
    }
    auto v2 = find_cgroup2_mount(mountinfo);
    nlohmann::ordered_json c;
    c["version"] = v2 ? (v1 ? "hybrid (v1 controllers, v2 unified)" : "v2") : (v1 ? "v1 only" : "none");
    c["v2_mount"] = v2 ? nlohmann::ordered_json(v2->string()) : nlohmann::ordered_json();
    c["parent"] = cgroup_parent_name();
    nlohmann::ordered_json ctl = nlohmann::ordered_json::array();
    if (v2)
        if (auto text = read_file_if_exists(*v2 / "cgroup.controllers")) {
            std::istringstream words(*text);
            std::string w;
            while (words >> w) ctl.push_back(w);
        }
    c["v2_controllers"] = ctl;
    // cgroup.kill (Linux 5.14) exists in every non-root group.
    struct utsname u {};
    ::uname(&u);
    int major = 0, minor = 0;
    std::sscanf(u.release, "%d.%d", &major, &minor);
    c["v2_kill"] = v2.has_value() && (major > 5 || (major == 5 && minor >= 14));
    return c;
}

nlohmann::ordered_json monitor_info() {
    nlohmann::ordered_json m;
    bool kmod = kmod_monitor_available();
    auto bpf_why = bpf_monitor_unsupported_reason();
    m["backend"] = kmod ? "kernel module" : !bpf_why ? "eBPF" : "none";
    m["module"] = kmod ? "/dev/container_monitor" : "not loaded (/dev/container_monitor does not exist)";
    nlohmann::ordered_json b;
    b["usable"] = !bpf_why;
    if (bpf_why) b["why_not"] = *bpf_why;
    auto st = bpf_monitor_status();
    b["loaded"] = st.pinned;
    b["pins"] = std::string(kBpfPinRoot);
    if (st.pinned) {
        b["containers"] = st.containers;
        b["lost_events"] = st.lost_events;
    }
    m["ebpf"] = b;
    if (!kmod && bpf_why) m["why_none"] = monitor_unavailable_reason();
    return m;
}

void print_yaml(const nlohmann::ordered_json& j, size_t indent) {
    for (auto it = j.begin(); it != j.end(); ++it) {
        std::cout << std::string(indent, ' ') << it.key() << ":";
        const auto& v = it.value();
        if (v.is_object()) {
            std::cout << "\n";
            print_yaml(v, indent + 2);
        } else if (v.is_array()) {
            std::string words;
            for (const auto& e : v) words += (words.empty() ? "" : " ") + (e.is_string() ? e.get<std::string>() : e.dump());
            std::cout << " [" << words << "]\n";
        } else if (v.is_string()) {
            std::cout << " " << v.get<std::string>() << "\n";
        } else {
            std::cout << " " << v.dump() << "\n";
        }
    }
}

// podman's `info` fields for templates ({{.Host.Arch}},
// {{.Store.GraphRoot}}, {{.Version.Version}}), beside minirt's own keys.
// Counting containers and images costs a read of each: done only for a
// template that asks for them.
nlohmann::json podman_info_fields(const Store& store, const nlohmann::ordered_json& ours, const TemplateFormat& tmpl) {
    nlohmann::json j = nlohmann::json::parse(ours.dump());
    const auto& host = ours["host"];
    std::string version = ours["cgroup"]["version"].get<std::string>();
    j["Host"] = {{"Arch", host["arch"] == "x86_64" ? "amd64" : host["arch"] == "aarch64" ? "arm64" : host["arch"]},
                 {"Kernel", host["kernel"]},
                 {"Hostname", host["hostname"]},
                 {"OS", "linux"},
                 {"Distribution", {{"Distribution", host.value("os", "")}}},
                 {"CgroupManager", "cgroupfs"},
                 {"CgroupVersion", version == "v2" ? "v2" : "v1"},
                 {"CgroupControllers", ours["cgroup"]["v2_controllers"]}};
    j["Store"] = {{"GraphRoot", store.paths().storage.string()},
                  {"RunRoot", store.paths().root.string()},
                  {"GraphDriverName", "overlay"},
                  {"VolumePath", store.paths().volumes_dir().string()}};
    if (tmpl.wants("ContainerStore")) {
        int running = 0, paused = 0, stopped = 0;
        for (const auto& v : view_all(store)) {
            if (v.status == Status::Running) ++running;
            else if (v.status == Status::Paused) ++paused;
            else ++stopped;
        }
        j["Store"]["ContainerStore"] = {
            {"Number", running + paused + stopped}, {"Running", running}, {"Paused", paused}, {"Stopped", stopped}};
    }
    if (tmpl.wants("ImageStore"))
        j["Store"]["ImageStore"] = {
            {"Number", ImageStore(store.paths()).list().size() + list_images(store.paths()).size()}};
    std::string arch = j["Host"]["Arch"];
    j["Version"] = {{"Version", MINIRT_VERSION}, {"OsArch", "linux/" + arch}};
    return j;
}

}  // namespace

namespace {

// The CDI devices --device can name, and the spec files that could not
// be read (left out).
nlohmann::ordered_json cdi_info(const Context& ctx) {
    std::vector<cdi::fs::path> dirs(ctx.cdi_spec_dirs.begin(), ctx.cdi_spec_dirs.end());
    if (dirs.empty()) dirs = cdi::default_spec_dirs();
    cdi::Registry reg = cdi::Registry::load(dirs);
    nlohmann::ordered_json c;
    nlohmann::ordered_json spec_dirs = nlohmann::ordered_json::array();
    for (const auto& d : dirs) spec_dirs.push_back(d.string());
    c["spec_dirs"] = spec_dirs;
    c["devices"] = reg.device_names();
    if (!reg.broken_files().empty()) c["unreadable_specs"] = reg.broken_files();
    return c;
}

}  // namespace

int cmd_info(Context& ctx, const Args& args) {
    const char* usage = "minirt info [--format text|json|TEMPLATE]";
    po::options_description desc("Options");
    desc.add_options()("format,f", po::value<std::string>()->default_value("text"),
                       "text, json, or a Go template such as {{.Host.Arch}}");
    Parsed p = parse(desc, args, usage);
    require_positional(p, 0, 0, usage);
    std::string format = p.vm["format"].as<std::string>();
    std::optional<TemplateFormat> tmpl;
    if (format != "text") tmpl = TemplateFormat::parse(format);
    nlohmann::ordered_json j;
    j["host"] = host_info();
    j["cgroup"] = cgroup_info();
    j["memory_monitor"] = monitor_info();
    j["store"] = {{"root", ctx.store.paths().root.string()}, {"storage", ctx.store.paths().storage.string()}};
    j["cdi"] = cdi_info(ctx);
    // `minirt trace` and run --trace: whether this host (and this user) can.
    auto trace_why = trace::unsupported_reason();
    j["trace"] = {{"available", !trace_why}};
    if (trace_why) j["trace"]["why_not"] = *trace_why;
    else j["trace"]["events"] = trace::event_list(trace::parse_events("all"));
    if (tmpl)
        std::cout << tmpl->render(podman_info_fields(ctx.store, j, *tmpl));
    else if (format == "json")
        std::cout << j.dump(2) << "\n";
    else
        print_yaml(j, 0);
    return 0;
}

}  // namespace minirt::cli
