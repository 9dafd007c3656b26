#!/usr/bin/env bash
# The status endpoint (--listening-port), progress during a full sync and
# `redsink status`: redis-cli sees a replica with priority 0 whose offset
# equals the master's after WAIT, the master sees redsink's announced
# port, a held full sync logs progress lines and stores its progress in
# redsink_status, and `redsink status` prints the state and offset.
. "${top_srcdir:-$(dirname "$0")/../..}/tests/lib/lib.sh"

for diskless in no yes; do
    name="m_$diskless"
    start_redis "$name" --repl-diskless-sync "$diskless" --repl-diskless-sync-delay 0 \
        --enable-debug-command yes
    eval "port=\$${name}_PORT"
    rcli "$port" debug populate 200000 pop: 20 >/dev/null
    db="$TMP/mirror-$diskless.db"
    lp=$(free_port)
    hold="$TMP/hold-$diskless"
    touch "$hold"
    REDSINK_TEST_HOLD_LOAD="$hold" start_redsink "rs_$diskless" "$port" "$db" --listening-port "$lp"
    eval "rpid=\$rs_${diskless}_PID"
    log="$TMP/rs_$diskless.log"

    # Progress while the load is held: a log line every ~2 s, and the row.
    if poll_until 30 grep -q 'full sync: .* received, [0-9]* keys loaded' "$log"; then
        ok "diskless=$diskless: progress: $(grep -m1 'full sync: ' "$log" | sed 's/.*redsink\[info\]: //')"
    else
        fail "diskless=$diskless: no progress line during the full sync"
    fi
    row_syncing() {
        [ "$(sqlite3 "$db" "SELECT state, bytes_received > 0 FROM redsink_status")" = "syncing|1" ]
    }
    if poll_until 10 row_syncing; then ok "diskless=$diskless: redsink_status shows the snapshot bytes"
    else fail "diskless=$diskless: redsink_status: $(sqlite3 "$db" 'SELECT state, bytes_received, bytes_total FROM redsink_status')"; fi
    if [ "$diskless" = no ]; then
        t=$(sqlite3 "$db" "SELECT bytes_total FROM redsink_status")
        [ "${t:-0}" -gt 0 ] && grep -q 'full sync: .* of .* received' "$log" &&
            ok "diskless=no: progress shows the total ($t bytes)" || fail "diskless=no: no total in the progress"
    fi
    info_sync=$(rcli "$lp" info replication | tr -d '\r')
    echo "$info_sync" | grep -q '^master_sync_in_progress:1' &&
        ok "diskless=$diskless: INFO shows the sync in progress" ||
        fail "diskless=$diskless: INFO during the sync: $info_sync"
    rm -f "$hold"

    poll_until 60 replica_online "$port" || fail "diskless=$diskless: redsink never became an online replica"
    rcli "$port" set k v >/dev/null
    if wait_mirror "$port"; then ok "diskless=$diskless: WAIT 1 returned 1"; else fail "diskless=$diskless: WAIT 1"; fi

    [ "$(rcli "$lp" ping)" = PONG ] && ok "diskless=$diskless: status endpoint answers PING" ||
        fail "diskless=$diskless: PING on the status port"
    [ "$(info_field "$lp" replication role)" = slave ] &&
        [ "$(info_field "$lp" replication slave_priority)" = 0 ] &&
        [ "$(info_field "$lp" replication master_link_status)" = up ] &&
        [ "$(info_field "$lp" replication master_port)" = "$port" ] &&
        ok "diskless=$diskless: INFO replication: role slave, priority 0, link up" ||
        fail "diskless=$diskless: INFO replication: $(rcli "$lp" info replication | tr -d '\r' | tr '\n' ' ')"
    same_offset() {
        [ "$(info_field "$lp" replication slave_repl_offset)" = "$(info_field "$port" replication master_repl_offset)" ]
    }
    if poll_until 10 same_offset; then
        ok "diskless=$diskless: slave_repl_offset equals the master's ($(info_field "$port" replication master_repl_offset))"
    else
        fail "diskless=$diskless: slave_repl_offset $(info_field "$lp" replication slave_repl_offset), master $(info_field "$port" replication master_repl_offset)"
    fi
    [ "$(info_field "$lp" replication master_replid)" = "$(info_field "$port" replication master_replid)" ] &&
        ok "diskless=$diskless: master_replid matches" || fail "diskless=$diskless: master_replid differs"
    rcli "$port" info replication | grep -q "slave0:ip=127.0.0.1,port=$lp," &&
        ok "diskless=$diskless: the master lists redsink on port $lp" ||
        fail "diskless=$diskless: master: $(rcli "$port" info replication | grep slave0)"
    [ "$(rcli "$lp" role | head -1)" = slave ] && ok "diskless=$diskless: ROLE says slave" ||
        fail "diskless=$diskless: ROLE: $(rcli "$lp" role | tr '\n' ' ')"
    rcli "$lp" get k | grep -q ERR && ok "diskless=$diskless: other commands get -ERR" ||
        fail "diskless=$diskless: GET on the status port did not fail"
    rcli "$lp" info redsink | tr -d '\r' | grep -q '^keys_loaded:200000$' &&
        ok "diskless=$diskless: INFO redsink counts the keys loaded" ||
        fail "diskless=$diskless: INFO redsink: $(rcli "$lp" info redsink | tr -d '\r' | tr '\n' ' ')"

    # redsink status, on the running mirror
    # The master PINGs every repl-ping-replica-period, so the committed
    # offset may move while status runs: it must lie between two reads.
    off1=$(sqlite3 "$db" "SELECT offset FROM redsink_status")
    out=$("$REDSINK" status --sqlite "$db"); rc=$?
    off2=$(sqlite3 "$db" "SELECT offset FROM redsink_status")
    off=$(echo "$out" | sed -n 's/^offset: *\([0-9]*\)$/\1/p')
    if [ $rc -eq 0 ] && echo "$out" | grep -q '^state: *streaming' &&
       [ -n "$off" ] && [ "$off" -ge "$off1" ] && [ "$off" -le "$off2" ] &&
       echo "$out" | grep -q "^master: *127.0.0.1:$port\$" &&
       echo "$out" | grep -q '^keys_loaded: *200000$'; then
        ok "diskless=$diskless: redsink status shows state streaming, offset $off"
    else
        fail "diskless=$diskless: redsink status (exit $rc): $out"
    fi
    stop_pid "$rpid" TERM && ok "diskless=$diskless: SIGTERM exits 0" || fail "diskless=$diskless: SIGTERM exit status"
done

# Unknown commands are listed by name.
sqlite3 "$db" "INSERT INTO redsink_unknown_commands(name, count) VALUES ('frob', 2)"
"$REDSINK" status --sqlite "$db" | grep -q '^unknown_commands: .*frob (2)' &&
    ok "redsink status names the unknown commands" || fail "redsink status: no unknown command names"
# Missing file and a file that is no mirror: one line, exit 1, nothing created.
out=$("$REDSINK" status --sqlite "$TMP/none.db" 2>&1); rc=$?
[ $rc -eq 1 ] && [ "$(echo "$out" | wc -l)" -eq 1 ] && [ ! -e "$TMP/none.db" ] &&
    ok "missing file: exit 1: $out" || fail "missing file: exit $rc: $out"
echo "not a database" >"$TMP/text.db"
out=$("$REDSINK" status --sqlite "$TMP/text.db" 2>&1); rc=$?
[ $rc -eq 1 ] && [ "$(echo "$out" | wc -l)" -eq 1 ] && ok "not a mirror: exit 1: $out" ||
    fail "not a mirror: exit $rc: $out"
sqlite3 "$TMP/other.db" "CREATE TABLE t(x)"
"$REDSINK" status --sqlite "$TMP/other.db" >/dev/null 2>&1; rc=$?
[ $rc -eq 1 ] && ok "another SQLite file: exit 1" || fail "another SQLite file: exit $rc"

# A mirror made before the progress columns existed opens, and gains them.
old="$TMP/old.db"
sqlite3 "$db" ".dump" | grep -v -i 'master_host\|INSERT INTO redsink_status' >/dev/null
cp "$db" "$old"
for c in master_host master_port read_offset last_ack_at lag_bytes lag_ms bytes_received bytes_total keys_per_sec; do
    sqlite3 "$old" "ALTER TABLE redsink_status DROP COLUMN $c"
done
"$REDSINK" status --sqlite "$old" | grep -q '^state: *' && ok "an old mirror reads with redsink status" ||
    fail "redsink status on an old mirror"
start_redsink rs_old "$m_no_PORT" "$old"
if poll_until 30 sh -c "sqlite3 '$old' 'SELECT master_host FROM redsink_status' | grep -q 127.0.0.1"; then
    ok "an old mirror opens and gains the progress columns"
else
    fail "old mirror: $(tail -3 "$TMP/rs_old.log")"
fi
stop_pid "$rs_old_PID" TERM
finish
