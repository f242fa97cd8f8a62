// A bridge network set up by the CLI while the shim starts. `run` and
// `start` make the container's network namespace on a thread of their own
// (container/launch.hpp's NetnsMaker); for a bridge container that thread
// goes on to take the addresses, write the record and start netavark, so
// the setup begins a couple of milliseconds sooner than the shim could
// begin it. The shim gets, over a SOCK_SEQPACKET socket:
//
//   the namespace   {"namespace": true} with its descriptor, at once;
//   the bridge      {"bridge": true} once the record and the /etc files
//                   are written (a bridge container only), which the shim
//                   answers {"adopted": true};
//   the setup       {"ports": [...], "holds": N, "status": TEXT} once
//                   netavark is done (TEXT: what it printed), then the N
//                   published ports' bound sockets, in packets of at most
//                   kMaxPacketFds;
//
// or {"error": TEXT, "code": N} in place of the last two. The shim owns the
// teardown once it has answered (from the record, under the networks
// lock, as anyone may: a shim killed later leaves it to the collector);
// until then the thread does, and undoes it when the answer never comes.
// EOF before the namespace: the shim makes its own; before the bridge
// packet: it sets the network up itself (the thread failed, or the CLI
// died), first tearing down whatever the record holds.
#pragma once

#include "common/error.hpp"
#include "common/fd.hpp"
#include "engine/network.hpp"

namespace minirt::engine {

// The CLI's side. False: the shim is gone.
bool hand_namespace(int sock, int netns) noexcept;
bool hand_bridge(int sock) noexcept;
bool hand_setup(int sock, const ContainerNetwork& n) noexcept;
bool hand_error(int sock, const Error& e) noexcept;
// The shim's answer to the bridge packet: false on EOF (it is gone).
bool await_adoption(int sock) noexcept;

// The shim's side. An error the CLI sent is thrown as it was.
// Invalid: none came (EOF).
UniqueFd receive_namespace(int sock);
// True: the CLI is setting the bridge networks up; false: EOF.
bool receive_bridge(int sock);
// Tells the CLI's thread the network is ours now (false: it is gone).
bool acknowledge_adoption(int sock) noexcept;
// The published ports, their holds and netavark's output, into `n` (an
// adopted network).
// Error if the CLI ends first.
void receive_setup(int sock, ContainerNetwork& n);

}  // namespace minirt::engine
