# shellcheck shell=bash
# Containers on bridge networks (docs/networking.md): the default network,
# user networks with names, published ports, container: and ns:, network
# connect, NAT out, the /etc files, and teardown after every kind of end.
# The runner sets MINIRT_NETWORK=none; these tests ask for networks.

need_netavark() {
    [ -x /usr/lib/podman/netavark ] || skip "netavark is not installed"
    command -v iptables-save >/dev/null || skip "no iptables-save"
}

# netavark's rules of containers and networks (its global chains and their
# jumps stay once made, as under podman).
netavark_rules() {
    iptables-save 2>/dev/null | grep -E '^-A' | grep -i netavark |
        grep -v -e 'NETAVARK-HOSTPORT-MASQ -m comment' -e 'NETAVARK-HOSTPORT-SETMARK -j MARK' \
            -e 'netavark firewall plugin rules' -e '-j NETAVARK-HOSTPORT-DNAT$' -e '-j NETAVARK-HOSTPORT-MASQ$' | sort ||
        true
}
bridge_veths() { ip -o link show type veth 2>/dev/null | grep -c 'master minirt' || true; }

bridge_setup() {
    need_netavark
    BASE_RULES=$(netavark_rules)
    BASE_VETHS=$(bridge_veths)
}

# Nothing of any container's network is left: records, namespace mounts,
# veths, rules, leases, aardvark-dns for our root, the default bridge.
no_network_leftovers() {
    local left
    left=$(ls -A "$MINIRT_ROOT/netns" 2>/dev/null || true)
    [ -z "$left" ] || fail "network records left: $left"
    ! grep -q " $MINIRT_ROOT/netns" /proc/self/mountinfo || fail "a network namespace is still mounted"
    expect_eq "$(bridge_veths)" "$BASE_VETHS" "veths on minirt bridges"
    expect_eq "$(netavark_rules)" "$BASE_RULES" "netavark's rules"
    # A container keeps its address while it exists (as under podman).
    local f id
    for f in "$MINIRT_STORAGE"/networks/*.leases/*; do
        [ -e "$f" ] || continue
        id=${f##*/}; id=${id#*-}
        [ -d "$MINIRT_STORAGE/containers/$id" ] || fail "a lease of a removed container: $f"
    done
    ! pgrep -f "aardvark-dns --config $MINIRT_ROOT/" >/dev/null || fail "aardvark-dns still runs for this root"
    ! ip link show minirt >/dev/null 2>&1 || fail "the default bridge minirt is still there"
}

no_network_records() { [ -z "$(ls -A "$MINIRT_ROOT/netns" 2>/dev/null)" ]; }
ipv4_of() { json_field "$1" ".network_settings.networks.$2.ip_address"; }

test_bridge_default_network_address_files_and_teardown() {
    bridge_setup
    expect_rc 0 run --rm --network bridge --name b1 busybox sh -c 'ip -4 -o addr show eth0; cat /etc/hosts /etc/hostname /etc/resolv.conf; ip route'
    expect_contains "$OUT" "inet 10.87." "the default network's address"
    expect_contains "$OUT" "default via 10.87.0.1" "the route out"
    expect_contains "$OUT" $'\tb1' "/etc/hosts names the container"
    expect_contains "$OUT" "host.containers.internal" "/etc/hosts"
    # --rm tears the network down after the exit is reported: wait for it.
    wait_for 30 no_network_records
    no_network_leftovers
    # The default network is listed, and cannot go.
    mr network ls -q
    expect_contains "$OUT" minirt
    expect_rc 125 network rm minirt
}

test_bridge_httpd_published_port_from_the_host() {
    bridge_setup
    mkdir www && echo hello-from-httpd >www/index.html
    expect_rc 0 run -d --name web --network bridge -v "$PWD/www:/www:ro" -p 127.0.0.1::8080 busybox httpd -f -p 8080 -h /www
    mr port web 8080
    local hostport=${OUT##*:}
    expect_eq "${OUT%:*}" 127.0.0.1 "the published address"
    wait_for 30 curl -sf "http://127.0.0.1:$hostport/" -o got
    expect_eq "$(cat got)" hello-from-httpd
    mr port web
    expect_eq "$OUT" "8080/tcp -> 127.0.0.1:$hostport"
    expect_eq "$(json_field web '.network_settings.ports[0].host_port')" "$hostport"
    # Nothing else on the host can take the port while it is published.
    expect_rc 125 run --rm --network bridge -p "127.0.0.1:$hostport:80" busybox true
    expect_contains "$ERR" "port $hostport/tcp is already in use on the host"
    expect_rc 0 stop -t 0 web
    no_network_leftovers
    # A start sets it up again (a new host port: none was asked for).
    expect_rc 0 start web
    mr port web 8080
    wait_for 30 curl -sf "http://${OUT}/" -o got
    expect_rc 0 rm -f web
    no_network_leftovers
}

test_bridge_port_in_use_is_refused_and_nothing_made() {
    bridge_setup
    # A server of the host's (in a container on the host's network).
    expect_rc 0 run -d --name holder --network host busybox nc -l -p 0
    local port=""
    wait_for 30 sh -c "ss -ltnp | grep -q 'pid=$(pid_of holder),'"
    port=$(ss -ltnp | grep "pid=$(pid_of holder)," | awk '{print $4}' | sed 's/.*://' | head -1)
    [ -n "$port" ] || fail "no port held by the server"
    expect_rc 125 run --network bridge --name late -p "$port:80" busybox true
    expect_contains "$ERR" "port $port/tcp is already in use on the host"
    ! container_exists late || fail "a refused run left its container"
    expect_rc 0 rm -f holder
    no_network_leftovers
}

container_exists() { "$MINIRT" inspect "$1" >/dev/null 2>&1; }

test_bridge_bad_flags_refused_before_anything() {
    bridge_setup
    local bad
    for bad in "-p 70000:80" "-p abc" "-p 1-3:1-2" "-p 1.2.3:80:80" "--network nosuch" "--network host -p 80" \
        "--network none --ip 10.87.0.9" "--ip 10.1.2.3" "--mac-address 01:00:00:00:00:01" "--network bridge:ip=1.2.3.4" \
        "--add-host nohostip" "--dns notanip" "--dns 1::2\nx" "--network none --network host" "--network-alias x" \
        "-p 1-2000:1-2000"; do
        # shellcheck disable=SC2086
        expect_rc 125 run --network bridge $bad --name bad busybox true
        expect_eq "$(grep -c . <<<"$ERR")" 1 "one line of error for $bad"
    done
    mr ps -aq
    expect_eq "$OUT" "" "containers after refusals"
    no_network_leftovers
}

test_bridge_user_network_names_resolve_and_connect() {
    bridge_setup
    expect_rc 0 network create un1
    expect_rc 0 run -d --name srv --network un1 --network-alias web busybox sh -c \
        'echo ready; while true; do echo served | nc -l -p 7000; done'
    wait_for 30 log_has srv ready
    expect_rc 0 run --rm --network un1 busybox sh -c 'nslookup web | tail -n +3; echo hi | nc -w 5 srv 7000'
    expect_contains "$OUT" "$(ipv4_of srv un1)" "web resolves to srv"
    expect_contains "$OUT" served "srv reached by name"
    # Peers on a user network are in each other's /etc/hosts while both run.
    local srv_line
    srv_line="$(ipv4_of srv un1)"$'\t'"srv web $(json_field srv .id | cut -c1-12)"
    expect_rc 0 run -d --name peer --network un1 busybox sleep 1000
    local peer_line
    peer_line="$(ipv4_of peer un1)"$'\t'"peer $(json_field peer .id | cut -c1-12)"
    expect_rc 0 exec peer cat /etc/hosts
    expect_contains "$OUT" "$srv_line" "srv in peer's /etc/hosts"
    expect_rc 0 exec srv cat /etc/hosts
    expect_contains "$OUT" "$peer_line" "peer in srv's /etc/hosts"
    # A kill -9 of peer's shim: the collector takes its line out.
    local s
    s=$(shim_of peer)
    kill -9 "$s"
    wait_for 30 process_gone "$s"
    expect_rc 0 rm -f peer
    expect_rc 0 exec srv cat /etc/hosts
    expect_not_contains "$OUT" "$peer_line" "peer's line after its removal"
    # The default network has no names, as podman's.
    expect_rc 0 run --rm --network bridge busybox cat /etc/hosts
    expect_not_contains "$OUT" "srv" "a peer on the default network"
    # container: shares srv's namespace, address and /etc/hosts.
    expect_rc 0 run --rm --network container:srv busybox sh -c 'ip -4 -o addr show eth0; cat /etc/hosts'
    expect_contains "$OUT" "$(ipv4_of srv un1)/"
    expect_contains "$OUT" $'\tsrv'
    # A running container joins another network at once, and leaves it.
    expect_rc 0 network create un2
    expect_rc 0 run -d --name c2 --network bridge busybox sleep 1000
    expect_rc 0 network connect --alias other un2 c2
    expect_rc 0 exec c2 ip -4 -o addr show eth1
    expect_contains "$OUT" "$(ipv4_of c2 un2)/"
    expect_rc 0 exec c2 cat /etc/hosts
    local c2_un2
    c2_un2=$(ipv4_of c2 un2)
    expect_contains "$OUT" "$c2_un2"$'\t'"c2" "its new address in /etc/hosts"
    expect_rc 0 run --rm --network un2 busybox sh -c 'nslookup other; cat /etc/hosts'
    expect_contains "$OUT" "$(ipv4_of c2 un2)"
    expect_contains "$OUT" "$(ipv4_of c2 un2)"$'\t'"c2 other" "c2 in its new peer's /etc/hosts"
    expect_rc 125 network connect un2 c2
    expect_rc 2 network rm un2
    expect_contains "$ERR" "is used by container c2"
    expect_rc 0 network disconnect un2 c2
    mr exec c2 ip link show eth1
    expect_ne "$RC" 0 "eth1 after disconnect"
    expect_rc 0 exec c2 cat /etc/hosts
    expect_not_contains "$OUT" "$c2_un2" "the address it left in /etc/hosts"
    expect_rc 0 network rm un2
    expect_rc 0 rm -f srv c2
    expect_rc 0 network rm un1
    no_network_leftovers
}

test_bridge_udp_published() {
    bridge_setup
    local listener="${MINIRT%/runtime/minirt}/test/udp-listen"
    [ -x "$listener" ] || skip "no udp-listen beside $MINIRT (ninja -C build)"
    expect_rc 0 run -d --name u1 --network bridge -v "$listener:/udp-listen:ro" -p 127.0.0.1::5353/udp \
        busybox /udp-listen 5353
    wait_for 30 log_has u1 ready
    mr port u1 5353/udp
    local hostport=${OUT##*:}
    # UDP has no connection: sent until the container has it.
    wait_for 30 bash -c "echo udp-payload >/dev/udp/127.0.0.1/$hostport; $MINIRT logs u1 2>/dev/null | grep -q udp-payload"
    expect_rc 0 rm -f u1
    no_network_leftovers
}

# NAT out: a server in a namespace of the test's own, linked to the host by
# a veth (never an address outside this machine), sees the host's address
# as the container's.
test_bridge_nat_out_shows_the_host_address() {
    bridge_setup
    local ns="mrnat-$$" hv="mrh$$" sv="mrs$$"
    ip netns add "$ns"
    trap 'ip netns del "$ns" 2>/dev/null; ip link del "$hv" 2>/dev/null; true' EXIT
    ip link add "$hv" type veth peer name "$sv"
    ip link set "$sv" netns "$ns"
    ip addr add 198.18.77.1/30 dev "$hv"
    ip link set "$hv" up
    ip -n "$ns" addr add 198.18.77.2/30 dev "$sv"
    ip -n "$ns" link set "$sv" up
    ip -n "$ns" link set lo up
    ip -n "$ns" route add default via 198.18.77.1
    mkdir -p cgi/cgi-bin
    printf '#!/bin/sh\nprintf "Content-type: text/plain\\r\\n\\r\\n%%s\\n" "$REMOTE_ADDR"\n' >cgi/cgi-bin/addr
    chmod 755 cgi/cgi-bin/addr
    expect_rc 0 run -d --name natsrv --network "ns:/run/netns/$ns" -v "$PWD/cgi:/www:ro" busybox sh -c 'echo ready; httpd -f -p 80 -h /www'
    wait_for 30 log_has natsrv ready
    expect_rc 0 run --rm --network bridge busybox sh -c 'for i in $(seq 50); do wget -qO- http://198.18.77.2/cgi-bin/addr && exit 0; sleep 0.1; done; exit 1'
    expect_contains "$OUT" 198.18.77.1 "the source the server saw"
    expect_rc 0 rm -f natsrv
    ip netns del "$ns"
    trap - EXIT
    wait_for 30 no_network_records
    no_network_leftovers
}

test_bridge_resolv_and_hosts_flags() {
    bridge_setup
    expect_rc 0 run --rm --network bridge --dns 192.0.2.53 --dns-search example.test --dns-option ndots:2 \
        --add-host db.example.test:192.0.2.7 --hostname hh busybox cat /etc/resolv.conf /etc/hosts /etc/hostname
    expect_contains "$OUT" "nameserver 192.0.2.53"
    expect_contains "$OUT" "search example.test"
    expect_contains "$OUT" "options ndots:2"
    expect_contains "$OUT" $'192.0.2.7\tdb.example.test'
    expect_contains "$OUT" $'\thh'
    expect_eq "$(tail -n1 <<<"$OUT")" hh "/etc/hostname"
    # --no-hosts: the image's own (busybox's image has none).
    expect_rc 0 run --rm --network bridge --no-hosts busybox sh -c 'cat /etc/hosts 2>&1 || true'
    expect_not_contains "$OUT" host.containers.internal
    # --network none has the files too, loopback only.
    expect_rc 0 run --rm --network none --name nn busybox sh -c 'cat /etc/hosts; ip -o link | wc -l'
    expect_contains "$OUT" $'127.0.1.1\tnn'
    expect_eq "$(tail -n1 <<<"$OUT")" 1 "links with --network none"
    wait_for 30 no_network_records
    no_network_leftovers
}

# A shim killed with -9 leaves its network set up (the namespace is
# mounted); rm and start tear it down from the record.
test_bridge_kill9_of_the_shim_is_cleaned_up() {
    bridge_setup
    expect_rc 0 run -d --name k1 --network bridge -p 127.0.0.1::80 busybox sleep 1000
    expect_rc 0 run -d --name k2 --network bridge -p 127.0.0.1::80 busybox sleep 1000
    local s1 s2
    s1=$(shim_of k1)
    s2=$(shim_of k2)
    kill -9 "$s1" "$s2"
    wait_for 30 process_gone "$s1"
    wait_for 30 process_gone "$s2"
    [ -e "$MINIRT_ROOT/netns/$(json_field k1 .id)" ] || fail "the record went with the shim"
    expect_rc 0 start k2
    expect_rc 0 exec k2 true
    expect_rc 0 rm -f k1 k2
    no_network_leftovers
}

# A start whose shim fails, or never comes, leaves no network behind: the
# CLI's thread sets the network up only for a spawned shim, and undoes
# what that shim did not take over.
test_bridge_a_start_that_fails_leaves_no_network() {
    bridge_setup
    # No shim beside the CLI: refused before anything is set up (a stopped
    # container's start, which no removal would clean up after).
    mkdir alone
    cp "$MINIRT" alone/minirt
    expect_rc 0 run -d --name noshim --network bridge -p 127.0.0.1::80 busybox sleep 1000
    expect_rc 0 stop -t 0 noshim
    MINIRT=$PWD/alone/minirt mr start noshim
    expect_eq "$RC" 125 "start without a shim"
    expect_contains "$ERR" "minirt-shim"
    no_network_leftovers
    MINIRT=$PWD/alone/minirt mr run --network bridge -p 127.0.0.1::80 busybox true
    expect_eq "$RC" 125 "run without a shim"
    no_network_leftovers
    expect_rc 0 rm -f noshim
    # A shim that fails before it takes the network over (its image is
    # gone by the time it starts): the thread tears it down.
    local shared
    shared=$(readlink -f "$MINIRT_STORAGE/images")
    rm "$MINIRT_STORAGE/images"
    mkdir "$MINIRT_STORAGE/images"
    cp -a "$shared/busybox" "$MINIRT_STORAGE/images/busy2"
    expect_rc 0 run -d --name gone --network bridge -p 127.0.0.1::80 busy2 sleep 1000
    expect_rc 0 stop -t 0 gone
    no_network_records || fail "a stopped container's network is still set up"
    rm -rf "$MINIRT_STORAGE/images/busy2"
    mr start gone
    expect_eq "$RC" 125 "start without its image"
    expect_contains "$ERR" "no such image"
    wait_for 30 no_network_records
    no_network_leftovers
    expect_rc 0 rm -f gone
    no_network_leftovers
}

test_bridge_parallel_starts_never_share_an_address() {
    bridge_setup
    expect_rc 0 network create --subnet 10.199.0.0/22 par1
    local n=200
    seq "$n" | xargs -P 16 -I{} "$MINIRT" run -d --name p{} --network par1 busybox sleep 1000 >/dev/null
    local addrs
    addrs=$(for i in $(seq "$n"); do ipv4_of "p$i" par1; done)
    expect_eq "$(sort -u <<<"$addrs" | grep -c '^10\.199\.')" "$n" "distinct addresses"
    expect_eq "$(find "$MINIRT_STORAGE/networks/par1.leases" -type f | wc -l)" "$n" "leases"
    # Each has all the others in /etc/hosts, however the starts interleaved.
    local i
    for i in 1 "$n"; do
        expect_rc 0 exec "p$i" cat /etc/hosts
        expect_eq "$(grep -c $'^10\\.199\\.[0-9.]*\tp[0-9]' <<<"$OUT")" "$n" "addresses in p$i's /etc/hosts"
    done
    # shellcheck disable=SC2046
    "$MINIRT" rm -f $(seq -f 'p%g' "$n") >/dev/null
    expect_rc 0 network rm par1
    no_network_leftovers
}

# 8 loops of run/stop/start/rm with a published port while shims are
# killed at random: afterwards nothing of any network is left.
test_bridge_chaos_loops_leave_nothing() {
    bridge_setup
    local loop
    for loop in $(seq 8); do
        (
            for i in 1 2 3 4; do
                c="ch$loop-$i"
                "$MINIRT" run -d --name "$c" --network bridge -p 127.0.0.1::80 busybox sleep 1000 >/dev/null 2>&1 || continue
                "$MINIRT" stop -t 0 "$c" >/dev/null 2>&1 || true
                "$MINIRT" start "$c" >/dev/null 2>&1 || true
                if [ $((RANDOM % 2)) = 0 ]; then
                    s=$("$MINIRT" inspect "$c" 2>/dev/null | jq -r '.[0].state.shim_pid // 0')
                    [ "$s" -gt 0 ] && kill -9 "$s" 2>/dev/null
                fi
                "$MINIRT" rm -f "$c" >/dev/null 2>&1 || true
            done
        ) &
    done
    wait
    # Whatever a killed shim or a racing rm left is still removable.
    mr ps -aq
    # shellcheck disable=SC2086
    [ -z "$OUT" ] || "$MINIRT" rm -f $OUT >/dev/null
    no_network_leftovers
}

test_bridge_exhausted_subnet_and_taken_ip_are_refused() {
    bridge_setup
    # A /30: the gateway and one container.
    expect_rc 0 network create --subnet 10.198.0.0/30 tiny
    expect_rc 0 run -d --name t1 --network tiny busybox sleep 1000
    expect_rc 125 run -d --name t2 --network tiny busybox sleep 1000
    expect_contains "$ERR" "has no address left"
    ! container_exists t2 || fail "a refused run left its container"
    expect_rc 0 network create --subnet 10.198.1.0/24 ipnet
    expect_rc 0 run -d --name s1 --network ipnet --ip 10.198.1.50 busybox sleep 1000
    expect_eq "$(ipv4_of s1 ipnet)" 10.198.1.50
    expect_rc 125 run -d --name s2 --network ipnet --ip 10.198.1.50 busybox sleep 1000
    expect_contains "$ERR" "is taken"
    expect_rc 0 rm -f t1 s1
    expect_rc 0 network rm tiny ipnet
    no_network_leftovers
}

test_bridge_publish_all_several_networks_and_mac() {
    bridge_setup
    # An image that exposes a port: -P publishes it, and --expose's too.
    # Imported into an images directory of this test's (the shared one is
    # read-only), beside the shared busybox.
    local shared
    shared=$(readlink -f "$MINIRT_STORAGE/images")
    rm "$MINIRT_STORAGE/images"
    mkdir "$MINIRT_STORAGE/images"
    ln -s "$shared/busybox" "$MINIRT_STORAGE/images/busybox"
    expect_rc 0 image import --expose 8080 --cmd "httpd -f -p 8080 -h /www" "$shared/busybox/rootfs" webimg
    mkdir www && echo exposed >www/index.html
    expect_rc 0 run -d --name pa --network bridge -P --expose 9090/udp -v "$PWD/www:/www:ro" webimg
    mr port pa
    expect_contains "$OUT" "8080/tcp -> 0.0.0.0:"
    expect_contains "$OUT" "9090/udp -> 0.0.0.0:"
    mr port pa 8080
    wait_for 30 curl -sf "http://127.0.0.1:${OUT##*:}/" -o got
    expect_eq "$(cat got)" exposed
    expect_rc 0 rm -f pa
    # Two networks at once: eth0 and eth1, a name on each; --mac-address.
    expect_rc 0 network create mn1
    expect_rc 0 network create mn2
    expect_rc 0 run -d --name two --network mn1 --net mn2 busybox sleep 1000
    expect_rc 0 exec two ip -4 -o addr
    expect_contains "$OUT" "eth0    inet $(ipv4_of two mn1)/"
    expect_contains "$OUT" "eth1    inet $(ipv4_of two mn2)/"
    expect_rc 0 run --rm --network mn2 busybox nslookup two
    expect_contains "$OUT" "$(ipv4_of two mn2)"
    expect_rc 0 run --rm --network mn1 --mac-address 92:d0:c6:0a:29:33 busybox cat /sys/class/net/eth0/address
    expect_eq "$OUT" 92:d0:c6:0a:29:33
    expect_rc 0 rm -f two
    expect_rc 0 network rm mn1 mn2
    wait_for 30 no_network_records
    no_network_leftovers
}

# A lost /run (a reboot): the namespace, bridge and rules went with it; the
# container keeps its address (the lease is in storage) and starts again.
test_bridge_start_after_a_lost_run_keeps_the_address() {
    bridge_setup
    expect_rc 0 run -d --name lr --network bridge busybox sleep 1000
    local addr
    addr=$(ipv4_of lr minirt)
    expect_rc 0 stop -t 0 lr
    no_network_leftovers
    rm -rf "$MINIRT_ROOT"
    expect_rc 0 start lr
    expect_eq "$(ipv4_of lr minirt)" "$addr" "the address after the lost /run"
    expect_rc 0 exec lr ip -4 -o addr show eth0
    expect_contains "$OUT" "$addr/"
    expect_rc 0 rm -f lr
    no_network_leftovers
}

# kill -9 of `minirt run` at random moments: whatever it had made is
# removable, and nothing of a network is left.
test_bridge_cli_killed_at_random_moments() {
    bridge_setup
    local i pid
    for i in $(seq 12); do
        "$MINIRT" run -d --name "kc$i" --network bridge -p 127.0.0.1::80 busybox sleep 1000 >/dev/null 2>&1 &
        pid=$!
        sleep "0.0$((RANDOM % 10))"
        kill -9 "$pid" 2>/dev/null || true
        wait "$pid" 2>/dev/null || true
    done
    mr ps -aq
    # shellcheck disable=SC2086
    [ -z "$OUT" ] || "$MINIRT" rm -f $OUT >/dev/null
    wait_for 30 no_network_records
    no_network_leftovers
}
