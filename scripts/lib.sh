# shellcheck shell=bash
# Shell helpers shared by cleanup.sh, the tests, bench/run and experiments/run.

# cgroup2_mount: prints where the cgroup v2 hierarchy is mounted (the first
# cgroup2 line of /proc/self/mountinfo), or nothing. A mountinfo line has
# optional fields before its " - " separator, so the filesystem type is the
# first field after it, never at a fixed position from the start.
cgroup2_mount() {
    local line before after
    while IFS= read -r line; do
        before=${line%% - *}
        after=${line#* - }
        if [ "${after%% *}" = cgroup2 ]; then
            # Fields before the separator: id parent major:minor root mountpoint ...
            read -r _ _ _ _ line _ <<<"$before"
            printf '%s\n' "$line"
            return 0
        fi
    done </proc/self/mountinfo
    return 0
}
