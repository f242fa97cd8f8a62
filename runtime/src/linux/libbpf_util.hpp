// What the eBPF memory monitor and `minirt trace` share of libbpf: its
// messages kept for the error that follows them, and the filesystems a
// tracepoint program needs. Only in a build with eBPF (MINIRT_HAVE_BPF).
#pragma once

#include <optional>
#include <string>

namespace minirt {

// Routes libbpf's messages (warnings and errors, not debug) into a buffer
// that libbpf_detail() empties.
void quiet_libbpf();
// " (libbpf: LAST LINE)" of what libbpf said since the last call, or "".
std::string libbpf_detail();
// Clears what libbpf said (after a probe whose failure is expected).
void forget_libbpf_messages();

// Why this host cannot run minirt's tracepoint programs (a BTF kernel,
// tracefs, BPF tracepoint programs, ring buffers; and eBPF in this build),
// or nullopt. Cheap: it loads no program, it probes at most.
std::optional<std::string> bpf_tracing_unsupported_reason();

// Mounts tracefs if no tracing directory is there: libbpf finds a
// tracepoint's id in it. `what` names the user, for the error.
void ensure_tracefs(const std::string& what);

}  // namespace minirt
