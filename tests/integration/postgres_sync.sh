#!/usr/bin/env bash
# The PostgreSQL downstream end to end (issue 16, CONTRACT.md §5): a real
# master, the real redsink with --postgres, a real PostgreSQL cluster made
# here (tests/lib/pg.sh). The PostgreSQL views, read through X_bytes
# (tests/lib/pg_snapshot.py), must equal the master key for key after the
# full sync, after streaming, after PostgreSQL was stopped mid-stream and
# restarted (the SQLite mirror going on meanwhile), and after redsink was
# killed with -9; --postgres-ack makes WAIT wait for PostgreSQL. Key names
# of 1 MiB or more (a placeholder in keys, the bytes in bign) come through
# the copy (binary) and the outbox (UTF-8), and so do stream field names and
# sorted-set members of 1 MiB or more (the bytes in bigm).
. "${top_srcdir:-$(dirname "$0")/../..}/tests/lib/lib.sh"
. "$top_srcdir/tests/lib/pg.sh"
pg_test_cluster
start_redis m
port=$m_PORT
db="$TMP/mirror.db"

pg_offset() { psql -X -At -c 'SELECT "offset" FROM redis.redsink_status' 2>/dev/null; }
sqlite_offset() { sqlite3 "$db" "SELECT offset FROM redsink_status"; }
caught_up() { [ -n "$(pg_offset)" ] && [ "$(pg_offset)" = "$(sqlite_offset)" ]; }
compare_pg() {  # compare_pg LABEL: PostgreSQL's views vs the master
    if poll_until 60 caught_up && python3 "$top_srcdir/tests/lib/pg_snapshot.py" redis "$TMP/pg.sqlite" &&
        $COMPARE compare-redis-pipelined 127.0.0.1 "$port" "$TMP/pg.sqlite"; then
        ok "$1"
    else
        fail "$1 (PostgreSQL offset '$(pg_offset)', SQLite '$(sqlite_offset)')"
    fi
}

$COMPARE load 127.0.0.1 "$port" all-types 7 || fail "loading the dataset"
big_name() {  # big_name binary|utf8: SET a key whose name is 1 MiB and a bit
    python3 -c "import sys
k = bytes(range(256)) * 4097 if sys.argv[1] == 'binary' else 'h\u00e9'.encode() * 350000
a = [b'SET', k, sys.argv[1].encode()]
sys.stdout.buffer.write(b'*3\r\n' + b''.join(b'\$%d\r\n%s\r\n' % (len(x), x) for x in a))" "$1" |
        redis-cli -p "$port" --pipe >/dev/null
}
big_name binary || fail "writing a big key name"
big_field() {  # big_field KEY: XADD KEY * <a field name of 1 MiB and a bit> v, twice
    for i in 1 2; do
        python3 -c "import sys
a = [b'XADD', sys.argv[1].encode(), b'*', bytes(range(255, -1, -1)) * 4097, b'v']
sys.stdout.buffer.write(b'*5\r\n' + b''.join(b'\$%d\r\n%s\r\n' % (len(x), x) for x in a))" "$1"
    done | redis-cli -p "$port" --pipe >/dev/null
}
big_field bigfield:copied || fail "writing a big stream field name"
big_zmember() {  # big_zmember KEY: ZADD KEY 1 <a member of 1 MiB and a bit> 2 small
    python3 -c "import sys
a = [b'ZADD', sys.argv[1].encode(), b'1', bytes(range(256)) * 4097, b'2', b'small']
sys.stdout.buffer.write(b'*6\r\n' + b''.join(b'\$%d\r\n%s\r\n' % (len(x), x) for x in a))" "$1" |
        redis-cli -p "$port" --pipe >/dev/null
}
big_zmember bigz:copied || fail "writing a big sorted-set member"

# A PostgreSQL that cannot be reached: one clear line, the SQLite mirror unharmed.
start_redsink rs0 "$port" "$TMP/bad.db" --postgres "host=$TMP/nowhere port=5999 dbname=none"
wait_mirror "$port" && ok "WAIT 1 with an unreachable PostgreSQL" || fail "WAIT with an unreachable PostgreSQL"
compare_mirror "$port" "$TMP/bad.db" "the SQLite mirror equals the master with PostgreSQL unreachable"
poll_until 20 grep -q "postgres: cannot connect to host=$TMP/nowhere port=5999 dbname=none" "$TMP/rs0.log" &&
    ok "one line names the target: $(grep -m1 'postgres: cannot connect' "$TMP/rs0.log" | cut -c1-140)" ||
    fail "no 'cannot connect' line naming the target"
n=$(grep -c 'postgres: cannot connect' "$TMP/rs0.log")
[ "$n" = 1 ] && ok "logged once, not once per retry" || fail "logged $n times"
stop_pid "$rs0_PID" TERM && ok "SIGTERM exits 0 while PostgreSQL is unreachable" || fail "SIGTERM rs0"

sport=$(free_port)
start_redsink rs "$port" "$db" --postgres "$CONN" --listening-port "$sport"
wait_mirror "$port" && ok "WAIT 1 with --postgres" || fail "WAIT 1"
compare_pg "PostgreSQL equals the master after the full sync"
pg_state() { [ "$(sqlite3 "$db" "SELECT pg_state FROM redsink_status" 2>/dev/null)" = "$1" ]; }
poll_until 20 pg_state streaming && ok "redsink_status.pg_state is streaming" ||
    fail "redsink_status.pg_state: '$(sqlite3 "$db" "SELECT pg_state FROM redsink_status")'"

# A PostgreSQL that blocks the shipper mid-round (a reader holding the
# checkpoint row FOR UPDATE): the lag shows while the round waits, measured
# from SQLite's committed offset (it read 0 until the round ended).
mkfifo "$TMP/lockin"
psql -X -q <"$TMP/lockin" >/dev/null 2>&1 &
lock_PID=$!
exec 7>"$TMP/lockin"
echo "BEGIN; SELECT 1 FROM redis.redsink_status FOR UPDATE;" >&7
locked() { [ "$(psql -X -At -c "SELECT count(*) FROM pg_stat_activity WHERE state = 'idle in transaction'")" -ge 1 ]; }
pg_lag() { sqlite3 "$db" "SELECT pg_lag_bytes FROM redsink_status" 2>/dev/null; }
pg_lag_ms() { sqlite3 "$db" "SELECT pg_lag_ms FROM redsink_status" 2>/dev/null; }
lag_shown() { [ "$(pg_lag)" -gt 0 ] 2>/dev/null && pg_state streaming; }
if poll_until 20 locked; then
    rcli "$port" set lag:probe "$(printf '%1000s' | tr ' ' x)" >/dev/null
    wait_mirror "$port" || fail "WAIT while PostgreSQL is blocked"
    # the row is stored every 2 s while commits come, every 10 s when idle
    poll_until 40 lag_shown && ok "PostgreSQL blocked mid-round: redsink_status.pg_lag_bytes $(pg_lag), state streaming" ||
        fail "PostgreSQL blocked mid-round: pg_lag_bytes '$(pg_lag)', pg_state '$(sqlite3 "$db" "SELECT pg_state FROM redsink_status")'"
    # and in ms: the age of the first commit PostgreSQL lacks (it read 0 too)
    ms_shown() { [ "$(pg_lag_ms)" -gt 0 ] 2>/dev/null; }
    poll_until 40 ms_shown && ok "PostgreSQL blocked mid-round: redsink_status.pg_lag_ms $(pg_lag_ms)" ||
        fail "PostgreSQL blocked mid-round: pg_lag_ms '$(pg_lag_ms)'"
    # INFO reads the same lag (the endpoint once deadlocked on it)
    info=$(timeout 10 redis-cli -p "$sport" info redsink | tr -d '\r')
    info_lag=$(echo "$info" | sed -n 's/^postgres_lag_bytes://p')
    info_ms=$(echo "$info" | sed -n 's/^postgres_lag_ms://p')
    [ "${info_lag:-0}" -gt 0 ] 2>/dev/null && [ "${info_ms:-0}" -gt 0 ] 2>/dev/null &&
        ok "INFO redsink while blocked: postgres_lag_bytes $info_lag, postgres_lag_ms $info_ms" ||
        fail "INFO redsink while blocked: postgres_lag_bytes '$info_lag', postgres_lag_ms '$info_ms'"
else
    fail "could not hold the checkpoint row"
fi
echo "COMMIT;" >&7; exec 7>&-
wait "$lock_PID" 2>/dev/null
poll_until 60 caught_up && ok "PostgreSQL caught up once the row was released" || fail "PostgreSQL did not catch up"
info_lags() { timeout 10 redis-cli -p "$sport" info redsink | tr -d '\r' |
    sed -n 's/^postgres_lag_\(bytes\|ms\)://p' | tr '\n' ' '; }
info_no_lag() { [ "$(info_lags)" = "0 0 " ]; }
poll_until 20 info_no_lag && ok "INFO: postgres_lag_bytes and postgres_lag_ms back to 0" ||
    fail "INFO after catching up: postgres_lag_bytes, postgres_lag_ms '$(info_lags)'"
no_lag() { [ "$(pg_lag)" = 0 ] && [ "$(pg_lag_ms)" = 0 ]; }
poll_until 40 no_lag && ok "redsink_status: pg_lag_bytes and pg_lag_ms back to 0" ||
    fail "pg_lag_bytes '$(pg_lag)', pg_lag_ms '$(pg_lag_ms)' after catching up"

$COMPARE load 127.0.0.1 "$port" stream-ops 8 || fail "stream workload"
big_name utf8 || fail "writing a big UTF-8 key name"
big_field bigfield:streamed || fail "writing a big stream field name"
big_zmember bigz:streamed || fail "writing a big sorted-set member"
wait_mirror "$port" || fail "WAIT after the workload"
compare_pg "PostgreSQL equals the master after streaming"
zbig=$(psql -X -At -c "SELECT string_agg(z.key || ':' || length(z.member_bytes) || ':' ||
    (z.member_bytes = w.b)::text, ',' ORDER BY z.key) FROM redis.redis_zsets AS z,
    (SELECT decode(repeat(string_agg(lpad(to_hex(i), 2, '0'), '' ORDER BY i), 4097), 'hex') AS b
     FROM generate_series(0, 255) AS i) AS w WHERE z.key LIKE 'bigz:%' AND z.score = 1")
[ "$zbig" = "bigz:copied:1048832:true,bigz:streamed:1048832:true" ] &&
    ok "PostgreSQL's redis_zsets shows the big members' bytes (copy and outbox)" ||
    fail "big sorted-set members in PostgreSQL: '$zbig'"
[ "$(psql -X -At -c "SELECT string_agg(length(key_bytes) || ':' || coalesce(length(key), -1) || ':' ||
    (SELECT value FROM redis.redis_strings AS s WHERE s.key_bytes = k.key_bytes), ',' ORDER BY 1)
    FROM redis.redis_keys AS k WHERE length(key_bytes) > 1000000")" = "1048832:-1:binary,1050000:700000:utf8" ] &&
    ok "PostgreSQL's views show the big key names' bytes (binary: key NULL; UTF-8: key text)" ||
    fail "big key names in PostgreSQL: $(psql -X -At -c "SELECT length(key_bytes), length(key) FROM redis.redis_keys WHERE length(key_bytes) > 1000000 OR key_bytes::text LIKE '\\xff%'" | tr '\n' ' ')"

# PostgreSQL down: the SQLite mirror and the link go on; then it catches up.
pg_ctl_run -w -m fast stop >/dev/null
writes() {  # writes PREFIX: strings, hash fields, list elements, set members
    for i in $(seq 300); do
        echo "SET $1:s:$i v$i"; echo "HSET $1:h f$i $i"; echo "RPUSH $1:l e$i"; echo "SADD $1:set m$i"
    done | redis-cli -p "$port" >/dev/null
}
writes down
if wait_mirror "$port"; then ok "WAIT 1 returns while PostgreSQL is down"; else fail "WAIT while PostgreSQL is down"; fi
compare_mirror "$port" "$db" "the SQLite mirror goes on while PostgreSQL is down"
poll_until 20 pg_state down && ok "redsink_status.pg_state is down" || fail "pg_state not down"
poll_until 30 grep -q "postgres: cannot" "$TMP/rs.log" && ok "the outage is logged: $(grep -m1 "postgres: cannot" "$TMP/rs.log" | cut -c1-160)" ||
    fail "no log line about PostgreSQL"
pg_up || fail "starting PostgreSQL again"
compare_pg "PostgreSQL catches up after its restart, nothing lost or applied twice"

# kill -9 redsink mid-stream, write, restart: resumes from both checkpoints.
kill -9 "$rs_PID"; wait "$rs_PID" 2>/dev/null
$COMPARE load 127.0.0.1 "$port" stream-ops 10 || fail "writes while redsink is down"
start_redsink rs2 "$port" "$db" --postgres "$CONN"
wait_mirror "$port" || fail "WAIT after the restart"
compare_pg "PostgreSQL equals the master after kill -9 and restart"
grep -i "postgres.*cannot" "$TMP/rs2.log" && fail "PostgreSQL errors after the restart" || ok "no PostgreSQL error after the restart"
stop_pid "$rs2_PID" TERM && ok "SIGTERM exits 0 with the shipper running" || fail "SIGTERM exit status"

# --postgres-ack: WAIT means "in PostgreSQL too". ACKs every 30 s only: a
# WAIT returns because PostgreSQL's commit wakes the ACK, not on a tick.
printf 'replica: { ack_interval = 30.0; };\n' > "$TMP/ack.conf"
start_redsink rs3 "$port" "$db" -c "$TMP/ack.conf" --postgres "$CONN" --postgres-ack
wait_mirror "$port" || fail "WAIT with --postgres-ack"
pg_ctl_run -w -m fast stop >/dev/null
# SET and WAIT on one connection: WAIT counts from that client's last write
n=$(printf 'SET ackkey 1\nWAIT 1 1500\n' | rcli "$port" | tail -1)
[ "$n" = 0 ] && ok "--postgres-ack: WAIT 1 gets 0 while PostgreSQL is down" || fail "--postgres-ack: WAIT gave '$n' with PostgreSQL down"
pg_up || fail "starting PostgreSQL again"
n=$(printf 'SET ackkey 1\nWAIT 1 20000\n' | rcli "$port" | tail -1)
[ "$n" = 1 ] && ok "--postgres-ack: WAIT 1 returns once PostgreSQL has it" || fail "--postgres-ack: WAIT gave '$n'"
[ "$(psql -X -At -c "SELECT value FROM redis.redis_strings WHERE key = 'ackkey'")" = 1 ] &&
    ok "--postgres-ack: the key is in PostgreSQL when WAIT returns" || fail "ackkey not in PostgreSQL"
n=$(for i in $(seq 20); do printf 'SET ackloop %s\nWAIT 1 5000\n' "$i"; done | rcli "$port" | grep -cx 1)
[ "$n" = 20 ] && ok "--postgres-ack: 20 rounds of SET + WAIT 1 5000 all get 1 (ACK interval 30 s)" ||
    fail "--postgres-ack: $n of 20 WAITs got 1"
stop_pid "$rs3_PID" TERM || fail "SIGTERM rs3"

# The outbox limit: PostgreSQL down while more than postgres.outbox_max_mb of
# primary keys arrive (set members of 300 kB: the member is the key); the
# outbox is dropped, and the whole mirror copied again.
printf 'postgres: { conninfo = "%s"; outbox_max_mb = 1; };\n' "$CONN" > "$TMP/pg.conf"
start_redsink rs4 "$port" "$db" -c "$TMP/pg.conf"
wait_mirror "$port" || fail "WAIT with outbox_max_mb = 1"
compare_pg "PostgreSQL equals the master before the outbox limit"
pg_ctl_run -w -m fast stop >/dev/null
for i in 1 2 3 4 5; do      # 300 kB members, through stdin (-x): too long for argv
    head -c 300000 /dev/zero | tr '\0' "$i" | rcli "$port" -x sadd "over:$i" >/dev/null
done
wait_mirror "$port" || fail "WAIT past the outbox limit"
poll_until 20 grep -q "passed its limit" "$TMP/rs4.log" && ok "the outbox limit is logged" ||
    fail "no 'passed its limit' line"
[ "$(sqlite3 "$db" "SELECT CAST(total(length(pks)) AS INTEGER) FROM redsink_outbox")" -lt 1048576 ] &&
    ok "the outbox stays under its limit" || fail "the outbox passed its limit"
pg_up || fail "starting PostgreSQL again"
compare_pg "PostgreSQL equals the master after a whole copy past the outbox limit"
poll_until 20 grep -q "postgres: copied the mirror" "$TMP/rs4.log" && ok "the mirror was copied again" || fail "no copy after the limit"
stop_pid "$rs4_PID" TERM || fail "SIGTERM rs4"
finish
