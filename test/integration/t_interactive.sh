# shellcheck shell=bash
# Interactive containers, driven through a real terminal (tmux): run -it,
# window sizes, attach/detach, exec -it, stdin with -i, terminal restored.

# Each test gets its own tmux server (socket named after its directory).
tm() { tmux -L "minirt-$$" "$@"; }
tm_start() {
    tm kill-server 2>/dev/null || true
    tm new-session -d -x "${2:-100}" -y "${3:-30}" -s t "$1"
    tm set-option -t t remain-on-exit on >/dev/null
}
tm_screen() { tm capture-pane -t t -p; }
tm_has() { tm_screen | grep -qF -- "$1"; }
tm_stop() { tm kill-server 2>/dev/null || true; }
# tm_wait TEXT: until the pane shows TEXT.
tm_wait() { wait_for "${2:-30}" tm_has "$1"; }
# tm_raw: the pane's terminal is in raw mode (no icanon): a minirt attach or
# run -it has taken it over, and keys typed now go to the container.
tm_raw() { stty -a -F "$(tm display-message -p -t t '#{pane_tty}')" | grep -qw -- -icanon; }

test_run_it_shell_computes_and_exits_with_its_status() {
    trap tm_stop RETURN
    tm_start "stty -g > $TESTDIR/before; $MINIRT run -it --name it busybox sh; echo EXIT=\$?; stty -g > $TESTDIR/after"
    tm_wait "/ #"
    tm send-keys -t t 'echo $((6*7)); tty; exit 3' Enter
    tm_wait "EXIT="
    local screen
    screen=$(tm_screen)
    expect_contains "$screen" "42"
    expect_contains "$screen" "/dev/pts/0"
    expect_contains "$screen" "EXIT=3"
    wait_for 30 test -s "$TESTDIR/after"
    expect_eq "$(cat "$TESTDIR/after")" "$(cat "$TESTDIR/before")" "terminal modes restored (stty -g)"
    mr logs it
    expect_contains "$OUT" "42" "terminal output in the log"
    expect_rc 0 rm it
}

test_window_size_follows_the_terminal() {
    trap tm_stop RETURN
    tm_start "$MINIRT run -it --rm busybox sh; echo EXIT=\$?" 100 30
    tm_wait "/ #"
    tm send-keys -t t 'stty size' Enter
    tm_wait "30 100"
    tm resize-window -t t -x 120 -y 40
    # The new size reaches the container's terminal a moment later (the CLI
    # gets SIGWINCH and passes it on): the shell waits for it itself, with
    # a ceiling, then shows it.
    tm send-keys -t t 'i=0; while [ "$(stty size)" = "30 100" ] && [ $i -lt 600 ]; do sleep 0.05; i=$((i+1)); done; clear; stty size' Enter
    tm_wait "40 120" 60
    tm send-keys -t t 'exit' Enter
    tm_wait "EXIT=0"
}

test_ctrl_c_reaches_the_container_as_a_character() {
    trap tm_stop RETURN
    tm_start "$MINIRT run -it --rm --name cc busybox sh; echo EXIT=\$?"
    tm_wait "/ #"
    tm send-keys -t t 'sleep 1000' Enter
    # Ctrl-C once the sleep runs in the container (in its cgroup).
    local cg
    cg=$(json_field cc .state.cgroup)
    wait_for 30 it_cgroup_runs "$cg" "sleep 1000 "
    tm send-keys -t t C-c
    # The container's shell survives; only its sleep was interrupted.
    wait_for 30 eval '! it_cgroup_runs "$cg" "sleep 1000 "'
    tm send-keys -t t 'echo alive-$((1+1))' Enter
    tm_wait "alive-2"
    expect_contains "$(tm_screen)" "^C"
    tm send-keys -t t 'exit 0' Enter
    tm_wait "EXIT=0"
}

test_attach_detach_and_attach_again() {
    trap tm_stop RETURN
    expect_rc 0 run -dit --name bg busybox sh
    tm_start "$MINIRT attach bg; echo DETACHED=\$?"
    # Output from before the first attach is kept for it: the prompt.
    tm_wait "/ #"
    tm send-keys -t t 'echo first-$((1+1))' Enter
    tm_wait "first-2"
    tm send-keys -t t C-p C-q
    tm_wait "DETACHED=0"
    expect_eq "$(status_of bg)" running "still running after detach"
    tm_start "$MINIRT attach bg; echo ENDED=\$?"
    # Typed once attach has the terminal (raw mode), so no key is lost.
    wait_for 30 tm_raw
    tm send-keys -t t 'echo second-$((2+2)); exit 6' Enter
    tm_wait "ENDED=6"
    expect_contains "$(tm_screen)" "second-4"
    expect_eq "$(exit_code_of bg)" 6
    expect_rc 125 attach bg
    expect_rc 0 rm bg
}

test_exec_it_into_a_running_container() {
    trap tm_stop RETURN
    expect_rc 0 run -d --name host1 --hostname inner busybox sleep 60
    tm_start "$MINIRT exec -it host1 sh; echo EXEC=\$?"
    tm_wait "#"
    tm send-keys -t t 'hostname; echo pid1=$(cat /proc/1/comm); exit 7' Enter
    tm_wait "EXEC=7"
    expect_contains "$(tm_screen)" "inner"
    expect_contains "$(tm_screen)" "pid1=sleep"
    expect_rc 0 rm -f host1
}

# it_cgroup_runs GROUP CMDLINE: a process of GROUP has that command line
# (its arguments joined by spaces, a trailing one included).
it_cgroup_runs() {
    local p
    while read -r p; do
        [ "$(tr '\0' ' ' <"/proc/$p/cmdline" 2>/dev/null)" = "$2" ] && return 0
    done <"$1/cgroup.procs"
    return 1
}

test_exec_joins_namespaces_and_cgroup() {
    expect_rc 0 run -d --name ex busybox sleep 60
    mr exec ex sh -c 'hostname; readlink /proc/self/ns/pid; readlink /proc/self/ns/mnt; ls /proc | grep -c "^[0-9]"'
    expect_eq "$RC" 0
    local pid
    pid=$(pid_of ex)
    expect_eq "$(echo "$OUT" | sed -n 1p)" ex "hostname"
    expect_eq "$(echo "$OUT" | sed -n 2p)" "$(readlink "/proc/$pid/ns/pid")" "PID namespace"
    expect_eq "$(echo "$OUT" | sed -n 3p)" "$(readlink "/proc/$pid/ns/mnt")" "mount namespace"
    # In the container's group (seen from the host) and its cgroup namespace.
    local cg
    cg=$(json_field ex .state.cgroup)
    "$MINIRT" exec ex sleep 31 >/dev/null 2>&1 &
    wait_for 30 it_cgroup_runs "$cg" "sleep 31 "
    mr exec ex sh -c 'tail -n1 /proc/self/cgroup; readlink /proc/self/ns/cgroup'
    expect_eq "$OUT" "0::/"$'\n'"$(readlink "/proc/$pid/ns/cgroup")" "exec'd process's cgroup namespace"
    # The same confinement as the container's own command.
    local restrictions
    restrictions=$("$MINIRT" exec ex grep -E '^(CapEff|CapBnd|Seccomp|NoNewPrivs):' /proc/self/status)
    expect_eq "$restrictions" "$("$MINIRT" exec ex grep -E '^(CapEff|CapBnd|Seccomp|NoNewPrivs):' /proc/1/status)" "exec vs init"
    expect_contains "$restrictions" "Seccomp:	2"
    expect_contains "$restrictions" "NoNewPrivs:	1"
    expect_contains "$restrictions" "CapEff:	00000000800405fb"
    # A command that ends at once must never leave exec waiting (its exit
    # used to race with our signal setup).
    local i
    for i in $(seq 20); do
        timeout 60 "$MINIRT" exec ex true || fail "exec of an instant command hung or failed (try $i)"
    done
    expect_rc 4 exec ex sh -c 'exit 4'
    expect_rc 127 exec ex no-such-command
    expect_rc 0 exec -e FOO=bar -w /tmp ex sh -c 'echo $FOO $(pwd)'
    expect_eq "$OUT" "bar /tmp"
    OUT=$(echo piped | "$MINIRT" exec -i ex cat)
    expect_eq "$OUT" piped "exec -i"
    expect_rc 0 exec -u 65534:65534 ex id -u
    expect_eq "$OUT" 65534
    expect_rc 0 freeze ex
    expect_rc 255 exec ex true
    expect_contains "$ERR" "paused"
    expect_rc 0 thaw ex
    expect_rc 0 stop -t 0 ex
    expect_rc 255 exec ex true
    expect_contains "$ERR" "can only exec into a running container: ex is exited"
    expect_rc 0 rm ex
}

test_run_i_passes_stdin() {
    OUT=$(echo hi | "$MINIRT" run --rm -i busybox cat)
    expect_eq "$OUT" hi
    OUT=$(printf 'a\nb\n' | "$MINIRT" run --rm -i busybox wc -l)
    expect_eq "$OUT" 2
    # Without -i the container's stdin is empty.
    OUT=$(echo hi | "$MINIRT" run --rm busybox cat)
    expect_eq "$OUT" ""
}

test_detached_interactive_without_tty() {
    expect_rc 0 run -di --name cat1 busybox cat
    # attach without a terminal: stdin goes in, output comes back, EOF ends it.
    OUT=$(printf 'line1\nline2\n' | "$MINIRT" attach cat1)
    expect_eq "$OUT" "$(printf 'line1\nline2')"
    wait_for 30 is_exited cat1
    expect_rc 0 rm cat1
    expect_rc 0 run -d --name plain busybox sleep 30
    expect_rc 125 attach plain
    expect_contains "$ERR" "without -t or -i"
    expect_rc 0 rm -f plain
}

# create -it, then start -ai: the terminal is attached as run -it's is.
test_create_it_then_start_ai() {
    trap tm_stop RETURN
    expect_rc 0 create -it --name cit busybox sh
    tm_start "$MINIRT start -ai cit; echo EXIT=\$?"
    tm_wait "/ #"
    tm send-keys -t t 'echo $((6*7)); exit 5' Enter
    tm_wait "EXIT="
    expect_contains "$(tm_screen)" "42"
    expect_contains "$(tm_screen)" "EXIT=5"
    expect_rc 0 rm cit
}
