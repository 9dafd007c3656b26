#!/usr/bin/env bash
# Link faults against a real master, through tests/lib/proxy.py: a cut in the
# middle of the stream, a silent master (--timeout), the master dropping
# the replica (CLIENT KILL TYPE replica, as an output-buffer overflow does).
# Each time: the log says so once, redsink reconnects with PSYNC +CONTINUE
# (sync_partial_ok grows, sync_full does not) and the mirror equals the master.
. "${top_srcdir:-$(dirname "$0")/../..}/tests/lib/lib.sh"

start_proxy() {  # start_proxy NAME TARGET_PORT: sets ${NAME}_PORT, ${NAME}_CTL
    local ctl="$TMP/$1.ctl"
    mkdir -p "$ctl"
    python3 "$top_srcdir/tests/lib/proxy.py" "$ctl" "$2" &
    PIDS="$PIDS $!"
    poll_until 10 test -s "$ctl/port" || { echo "proxy did not start"; exit 99; }
    eval "${1}_PORT=$(cat "$ctl/port"); ${1}_CTL=$ctl"
}
log_count() { grep -c "$2" "$TMP/$1.log" 2>/dev/null || echo 0; }
count_at_least() { [ "$(log_count "$1" "$2")" -ge "$3" ]; }
stats() { echo "sync_full=$(info_field "$1" stats sync_full) sync_partial_ok=$(info_field "$1" stats sync_partial_ok)"; }
partial_only() {  # partial_only PORT FULL MIN_PARTIAL
    [ "$(info_field "$1" stats sync_full)" = "$2" ] && [ "$(info_field "$1" stats sync_partial_ok)" -ge "$3" ]
}

start_redis m --repl-ping-replica-period 1 --repl-diskless-sync-delay 0
start_proxy p "$m_PORT"
db="$TMP/mirror.db"
start_redsink rs "$p_PORT" "$db" --timeout 2
wait_mirror "$m_PORT" || fail "initial sync"
$COMPARE load 127.0.0.1 "$m_PORT" all-types 1 && wait_mirror "$m_PORT"

# 1. Cut in the middle of a write burst.
echo 20000 > "$p_CTL/cut_after"
$COMPARE random 127.0.0.1 "$m_PORT" 11 3000 string,hash,list,set,zset >/dev/null
poll_until 20 count_at_least rs 'link to the master is back after 1 attempt (continue)' 1 \
    && ok "cut mid-stream: $(grep -m1 'reconnecting (attempt' "$TMP/rs.log" | cut -d' ' -f3-)" \
    || fail "cut mid-stream: no reconnection with +CONTINUE"
grep -q 'cut 1 connection' "$p_CTL/log" || fail "cut mid-stream: the proxy did not cut"
wait_mirror "$m_PORT" || fail "cut mid-stream: WAIT"
compare_mirror "$m_PORT" "$db" "cut mid-stream: mirror equals the master"
partial_only "$m_PORT" 1 1 && ok "cut mid-stream: $(stats "$m_PORT")" || fail "cut mid-stream: $(stats "$m_PORT")"

# 2. A silent master: nothing forwarded, socket open. Detected after --timeout.
touch "$p_CTL/stall"
rcli "$m_PORT" set during:stall 1 >/dev/null
# wait_mirror's WAIT that goes on while the acknowledged offset grows gives
# up on a replica that acknowledges nothing new in one slice
out=$($COMPARE wait 127.0.0.1 "$m_PORT" 1 1000 60000) && fail "stall: WAIT 1 with progress succeeded" ||
    case $out in *"no progress in the last 1000 ms"*) ok "stall: WAIT 1 with progress gives up: $out" ;;
                 *) fail "stall: WAIT 1 with progress: '$out'" ;; esac
poll_until 15 grep -q 'master timeout: no data nor PING for 2 s; reconnecting' "$TMP/rs.log" \
    && ok "stall: detected after --timeout 2" || fail "stall: not detected"
[ "$(log_count rs 'master timeout')" = 1 ] && ok "stall: one log line" || fail "stall: $(log_count rs 'master timeout') lines"
rm -f "$p_CTL/stall"
poll_until 20 count_at_least rs 'link to the master is back' 2 && ok "stall: link back" || fail "stall: link not back"
wait_mirror "$m_PORT" || fail "stall: WAIT"
compare_mirror "$m_PORT" "$db" "stall: mirror equals the master"
partial_only "$m_PORT" 1 2 && ok "stall: $(stats "$m_PORT")" || fail "stall: $(stats "$m_PORT")"

# 3. The master drops redsink.
rcli "$m_PORT" client kill type replica >/dev/null
rcli "$m_PORT" rpush during:kill a b >/dev/null
poll_until 20 count_at_least rs 'link to the master is back' 3 && ok "client kill: link back" || fail "client kill: link not back"
wait_mirror "$m_PORT" || fail "client kill: WAIT"
compare_mirror "$m_PORT" "$db" "client kill: mirror equals the master"
partial_only "$m_PORT" 1 3 && ok "client kill: $(stats "$m_PORT")" || fail "client kill: $(stats "$m_PORT")"

# 4. A slow link still converges. The backlog takes several seconds at
# 20 kB/s: one WAIT of 2 s is too short, WAIT 2 s at a time while the
# acknowledged offset grows is not (wait_mirror's way, kill_loop.sh on a
# loaded machine).
echo 20000 > "$p_CTL/rate"
off0=$(info_field "$m_PORT" replication master_repl_offset)
$COMPARE random 127.0.0.1 "$m_PORT" 12 500 string,hash >/dev/null
big=$(printf '%4000s' | tr ' ' x)
for i in $(seq 1 100); do echo "SET slow:$i $big"; done | rcli "$m_PORT" >/dev/null
echo "# slow link: $(( $(info_field "$m_PORT" replication master_repl_offset) - off0 )) bytes at 20000 bytes/s"
out=$($COMPARE wait 127.0.0.1 "$m_PORT" 1 2000) && fail "slow link: one WAIT of 2 s was enough (backlog too small)" ||
    ok "slow link: one WAIT of 2 s is too short: $out"
out=$($COMPARE wait 127.0.0.1 "$m_PORT" 1 2000 120000) &&
    case $out in *"met by the WAIT 1, "*) fail "slow link: WAIT with progress met at once, the backlog is too small: '$out'" ;;
                 *"met by the WAIT "[0-9]*) ok "slow link: WAIT 2 s at a time while the offset grows: $out" ;;
                 *) fail "slow link: WAIT with progress: unexpected answer '$out'" ;; esac ||
    fail "slow link: WAIT with progress: $out"
compare_mirror "$m_PORT" "$db" "slow link: mirror equals the master"
rm -f "$p_CTL/rate"
stop_pid "$rs_PID" TERM
grep -q 'reconnecting (attempt 2)' "$TMP/rs.log" && fail "attempt counter not reset when the link came back" || ok "attempt counter reset when the link came back"
finish
