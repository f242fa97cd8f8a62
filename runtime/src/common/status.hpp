// The one status model of a container, native or OCI: the OCI runtime
// spec's states (creating, created, running, stopped) and paused, plus
// minirt's own derived ones (stopping: a stop is in progress; unknown: its
// owner was lost). A native container that has ended is "exited", which
// is OCI's "stopped".
#pragma once

namespace minirt {

enum class Status { Creating, Created, Running, Paused, Stopping, Exited, Unknown };

// minirt's word: created, running, paused, stopping, exited, unknown.
const char* to_string(Status s);
// The OCI runtime spec's word (`minirt oci state`, hooks' stdin): an ended
// container is "stopped", as is one whose owner is lost.
const char* oci_status_name(Status s);

}  // namespace minirt
