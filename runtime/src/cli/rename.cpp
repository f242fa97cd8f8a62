// minirt rename CONTAINER NEW_NAME: podman's. The container keeps its
// hostname; a running one keeps running. Its shim's events (died, say)
// still carry the name it had when it started.
#include "cli/cli.hpp"
#include "common/error.hpp"
#include "common/parse.hpp"
#include "state/events.hpp"

namespace minirt::cli {

int cmd_rename(Context& ctx, const Args& args) {
    const char* usage = "minirt rename CONTAINER NEW_NAME";
    po::options_description desc("Options");
    Parsed p = parse(desc, args, usage);
    require_positional(p, 2, 2, usage);
    auto id = ctx.store.find(p.positional[0]);
    if (!id) throw Error("no such container " + quote_for_message(p.positional[0]), kExitNoSuchContainer);
    FileLock lock = ctx.store.lock(*id);
    ctx.store.rename(*id, lock, p.positional[1]);
    lock.release();
    container_event(ctx, *id, "rename");
    return 0;
}

}  // namespace minirt::cli
