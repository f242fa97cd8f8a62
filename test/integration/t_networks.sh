# shellcheck shell=bash
# Network definitions (docs/cli.md "network"): create with podman's flags,
# netavark's JSON in inspect and ls, the refusals, rm, prune, exists.
# Containers on them: t_bridge.sh.

net_file() { echo "$MINIRT_STORAGE/networks/$1.json"; }

test_network_create_ls_inspect_exists_rm() {
    expect_rc 0 network create --label team=web --subnet 10.231.7.0/24 --ip-range 10.231.7.128/25 --internal n1
    expect_eq "$OUT" n1
    mr network inspect n1
    expect_eq "$(jq -r '.[0].subnets[0].subnet' <<<"$OUT")" 10.231.7.0/24
    expect_eq "$(jq -r '.[0].subnets[0].gateway' <<<"$OUT")" 10.231.7.1
    expect_eq "$(jq -r '.[0].subnets[0].lease_range.start_ip' <<<"$OUT")" 10.231.7.128
    expect_eq "$(jq -r '.[0].internal, .[0].dns_enabled, .[0].driver, .[0].labels.team' <<<"$OUT")" $'true\ntrue\nbridge\nweb'
    expect_eq "$(jq -r '.[0].id | length' <<<"$OUT")" 64
    # Without --subnet: a free 10.90.N.0/24 each, never the same twice.
    expect_rc 0 network create --disable-dns n2
    expect_rc 0 network create n3
    local s2 s3
    s2=$(jq -r '.subnets[0].subnet' "$(net_file n2)")
    s3=$(jq -r '.subnets[0].subnet' "$(net_file n3)")
    expect_contains "$s3" "10.90." "a default subnet"
    expect_ne "$s2" "$s3" "two networks' default subnets"
    expect_eq "$(jq -r '.dns_enabled' "$(net_file n2)")" false "--disable-dns"
    expect_ne "$(jq -r '.network_interface' "$(net_file n2)")" "$(jq -r '.network_interface' "$(net_file n3)")" "bridge names"
    mr network ls -q --filter label=team=web
    expect_eq "$OUT" n1
    mr network ls --format json
    expect_eq "$(jq -r '[.[].name] | sort | join(",")' <<<"$OUT")" minirt,n1,n2,n3
    expect_rc 0 network exists n2
    expect_rc 1 network exists nope
    expect_rc 1 network rm nope
    expect_rc 0 network rm -f nope
    expect_rc 0 network rm n1 n2
    [ ! -e "$(net_file n1)" ] || fail "network rm left the record"
    expect_rc 0 network create --ignore n3
    expect_rc 0 network prune -f
    expect_eq "$(ls -A "$MINIRT_STORAGE/networks")" "" "after prune"
}

test_network_refusals_are_one_line_and_make_nothing() {
    expect_rc 0 network create --subnet 10.231.8.0/24 base
    local host_route
    host_route=$(ip -4 route show scope link | awk '$1 ~ /\// {print $1; exit}')
    local bad
    for bad in "--subnet 10.231.8.128/25 x" "--subnet 10.231.9.1/24 x" "--subnet 10.231.9.0/31 x" "--subnet nonsense x" \
        "--gateway 10.231.9.1 x" "--subnet 10.231.9.0/24 --gateway 10.231.10.1 x" \
        "--subnet 10.231.9.0/24 --ip-range 10.231.10.0/25 x" "--driver macvlan x" "bad/name" "base" \
        ${host_route:+"--subnet $host_route x"}; do
        # shellcheck disable=SC2086 # each case is several words on purpose
        mr network create $bad
        expect_eq "$RC" 125 "network create $bad"
        [ "$(wc -l <<<"$ERR")" = 1 ] || fail "network create $bad: more than one line: $ERR"
    done
    [ ! -e "$(net_file x)" ] || fail "a refused create made the network"
    expect_rc 0 network rm base
}

test_network_side_by_side_with_podmans_json() {
    command -v podman >/dev/null || skip "no podman on this host"
    local pm=(podman --root "$TESTDIR/podman/root" --runroot "$TESTDIR/podman/run" --tmpdir "$TESTDIR/podman/tmp"
        --network-config-dir "$TESTDIR/podman/net")
    "${pm[@]}" network create --subnet 10.231.11.0/24 --label a=b pn >/dev/null 2>&1 || skip "podman network create failed here"
    expect_rc 0 network create --subnet 10.231.12.0/24 --label a=b mn
    local theirs mine
    theirs=$("${pm[@]}" network inspect pn | jq -c '.[0] | keys')
    mine=$("$MINIRT" network inspect mn | jq -c '.[0] | keys')
    "${pm[@]}" network rm pn >/dev/null 2>&1 || true
    "${pm[@]}" system reset -f >/dev/null 2>&1 || true
    expect_eq "$mine" "$theirs" "network inspect's fields"
    expect_rc 0 network rm mn
}
