#!/usr/bin/env bash
# Master restarts and failover with a real redis-server (7.0+ for the
# restart part): the master restarted from its RDB keeps the old replid as
# replid2 and answers +CONTINUE <new id>; a master killed and restarted
# without data gets a full sync; a promoted replica continues redsink's
# history (+CONTINUE <new id>, no full sync). The mirror equals the master
# each time, and redsink_status.master_replid follows the new id.
. "${top_srcdir:-$(dirname "$0")/../..}/tests/lib/lib.sh"

# run_redis NAME: (re)start redis NAME on its ${NAME}_PORT and directory
run_redis() {
    local name=$1; shift
    local port; eval "port=\$${name}_PORT"
    redis-server --bind 127.0.0.1 --port "$port" --save '' --appendonly no \
        --dir "$TMP/$name" --logfile "$TMP/$name/redis.log" --daemonize no \
        --repl-diskless-sync-delay 0 "$@" &
    local pid=$!
    PIDS="$PIDS $pid"
    eval "${name}_PID=$pid"
    poll_until 10 redis-cli -p "$port" ping || { echo "FAIL: redis-server $name did not restart"; exit 99; }
}
mirror_replid() { sqlite3 "$1" "SELECT master_replid FROM redsink_status"; }
replid_is() { [ "$(mirror_replid "$1")" = "$(info_field "$2" replication master_replid)" ]; }
count_at_least() { [ "$(grep -c "$2" "$TMP/$1.log")" -ge "$3" ]; }
major=$(redis-server --version | sed -n 's/.*v=\([0-9]*\)\..*/\1/p')

start_redis m --repl-diskless-sync-delay 0
db="$TMP/mirror.db"
start_redsink rs "$m_PORT" "$db"
$COMPARE load 127.0.0.1 "$m_PORT" all-types 5
wait_mirror "$m_PORT" || fail "initial sync"

# 1. SHUTDOWN (saves the RDB with repl-id/repl-offset), restart on the same port and dir.
if [ "${major:-0}" -ge 7 ]; then
    old=$(info_field "$m_PORT" replication master_replid)
    rcli "$m_PORT" shutdown save >/dev/null 2>&1
    wait "$m_PID" 2>/dev/null
    run_redis m
    poll_until 30 count_at_least rs 'link to the master is back' 1 || fail "restart: link not back"
    grep -q "master continues with a new replication id" "$TMP/rs.log" \
        && ok "restart: +CONTINUE with a new replid" || fail "restart: no +CONTINUE <new id>"
    rcli "$m_PORT" set after:restart 1 >/dev/null
    wait_mirror "$m_PORT" || fail "restart: WAIT"
    compare_mirror "$m_PORT" "$db" "restart: mirror equals the restarted master"
    full=$(info_field "$m_PORT" stats sync_full); part=$(info_field "$m_PORT" stats sync_partial_ok)
    [ "$full" = 0 ] && [ "$part" = 1 ] && ok "restart: sync_full=$full sync_partial_ok=$part" \
        || fail "restart: sync_full=$full sync_partial_ok=$part"
    replid_is "$db" "$m_PORT" && [ "$(mirror_replid "$db")" != "$old" ] \
        && ok "restart: redsink_status.master_replid is the new id" || fail "restart: master_replid $(mirror_replid "$db")"
    [ "$(grep -c 'reconnecting (attempt' "$TMP/rs.log")" -le 2 ] \
        && ok "restart: one line per reason while the master was down" || fail "restart: too many reconnect lines"
else
    echo "# skipping the SHUTDOWN/restart case: redis-server < 7.0"
fi

# 2. kill -9, restart with no data: full sync, the mirror is emptied.
backs=$(grep -c 'link to the master is back' "$TMP/rs.log")
stop_pid "$m_PID" KILL
rm -f "$TMP/m/dump.rdb"
run_redis m
poll_until 30 count_at_least rs 'full sync done' 2 \
    && ok "kill -9: link back with a full sync" || fail "kill -9: no full sync"
wait_mirror "$m_PORT" || fail "kill -9: WAIT"
compare_mirror "$m_PORT" "$db" "kill -9: mirror equals the new, empty master"
[ "$(sqlite3 "$db" "SELECT count(*) FROM redis_strings")" -le 1 ] && ok "kill -9: old keys gone" || fail "kill -9: old keys left"
replid_is "$db" "$m_PORT" && ok "kill -9: master_replid follows" || fail "kill -9: master_replid"
stop_pid "$rs_PID" TERM

# 3. Failover: a real replica r of f, redsink on f; promote r, point redsink at r.
start_redis f --repl-diskless-sync-delay 0
start_redis r --replicaof 127.0.0.1 "$f_PORT"
db="$TMP/failover.db"
start_redsink rsf "$f_PORT" "$db"
$COMPARE load 127.0.0.1 "$f_PORT" all-types 6
$COMPARE wait 127.0.0.1 "$f_PORT" 2 20000 || fail "failover: WAIT 2"
$COMPARE load 127.0.0.1 "$f_PORT" stream-ops 7
$COMPARE wait 127.0.0.1 "$f_PORT" 2 20000 || fail "failover: WAIT 2"
stop_pid "$rsf_PID" TERM
rcli "$r_PORT" replicaof no one >/dev/null
start_redsink rsf2 "$r_PORT" "$db"
poll_until 20 grep -q 'partial resync accepted' "$TMP/rsf2.log" && ok "failover: +CONTINUE from the promoted replica" \
    || fail "failover: no partial resync"
grep -q 'master continues with a new replication id' "$TMP/rsf2.log" && ok "failover: switched to the new replid" \
    || fail "failover: replid not switched"
$COMPARE random 127.0.0.1 "$r_PORT" 8 300 string,hash,list,set,zset >/dev/null
wait_mirror "$r_PORT" || fail "failover: WAIT"
compare_mirror "$r_PORT" "$db" "failover: mirror equals the promoted master"
full=$(info_field "$r_PORT" stats sync_full); part=$(info_field "$r_PORT" stats sync_partial_ok)
[ "$full" = 0 ] && [ "$part" -ge 1 ] && ok "failover: sync_full=$full sync_partial_ok=$part" \
    || fail "failover: sync_full=$full sync_partial_ok=$part"
replid_is "$db" "$r_PORT" && ok "failover: master_replid is the promoted master's" || fail "failover: master_replid"
finish
