#!/bin/bash
# pg_lag.sh [N] - the PostgreSQL downstream under a write load (issue 16):
# a throw-away cluster (tests/lib/pg.sh), a redis-server, redsink with
# --postgres; redis-benchmark sends N SETs (default 500000, -P 16, 50
# clients, 100k keys; PIPE= and CLIENTS= change those for a lower rate), then
# the script measures
#   - the master's rate, and how long after the load SQLite and then
#     PostgreSQL hold the master's offset (catch-up);
#   - the largest PostgreSQL lag seen during the load (INFO redsink's
#     postgres_lag_bytes and postgres_lag_ms, sampled every 50 ms from
#     redsink's status endpoint, --listening-port);
#   - redsink's peak RSS (the shipper is a thread of it), against a run
#     without --postgres.
# Run from the build tree after make.
N=${1:-500000}
NAME=pglag
. "$(dirname "$0")/pg_setup.sh"
SPORT=$((PORT + 1))

now() { date +%s.%N; }
master_off() { redis-cli -p "$PORT" info replication | tr -d '\r' | sed -n 's/^master_repl_offset://p'; }

run() {   # run LABEL [redsink options]
    local label=$1; shift
    rm -f "$TMP/m.db"*
    redis-cli -p "$PORT" flushall >/dev/null
    "$top_srcdir/daemon/redsink" --master "127.0.0.1:$PORT" --sqlite "$TMP/m.db" \
        --listening-port "$SPORT" "$@" >"$TMP/rs.log" 2>&1 &
    RPID=$!
    until redis-cli -p "$PORT" info replication | grep -q 'state=online'; do sleep 0.1; done
    local t0 t1 rate maxlag=0 maxms=0 lag ms off sq pg t_sq= t_pg= info
    t0=$(now)
    redis-benchmark -p "$PORT" -t set -n "$N" -r 100000 -P "${PIPE:-16}" -c "${CLIENTS:-50}" -q \
        >/dev/null 2>&1 &
    local bpid=$!
    while kill -0 $bpid 2>/dev/null; do
        info=$(redis-cli -p "$SPORT" info redsink 2>/dev/null | tr -d '\r')
        lag=$(echo "$info" | sed -n 's/^postgres_lag_bytes://p')
        ms=$(echo "$info" | sed -n 's/^postgres_lag_ms://p')
        [ -n "$lag" ] && [ "$lag" -gt "$maxlag" ] && maxlag=$lag
        [ -n "$ms" ] && [ "$ms" -gt "$maxms" ] && maxms=$ms
        sleep 0.05
    done
    t1=$(now)
    off=$(master_off)
    while :; do
        sq=$(sqlite3 "$TMP/m.db" "SELECT offset FROM redsink_status" 2>/dev/null)
        [ -z "$t_sq" ] && [ "${sq:-0}" -ge "$off" ] && t_sq=$(now)
        if [ $# -gt 0 ]; then
            pg=$(psql -X -At -c 'SELECT "offset" FROM redis.redsink_status' 2>/dev/null)
            [ "${pg:-0}" -ge "$off" ] && { t_pg=$(now); t_sq=${t_sq:-$t_pg}; break; }
        elif [ -n "$t_sq" ]; then
            break
        fi
        sleep 0.01
    done
    rate=$(echo "$N / ($t1 - $t0)" | bc)
    local rss
    rss=$(grep VmHWM /proc/$RPID/status | awk '{print $2}')
    printf '%s: master %s SET/s; SQLite caught up %.2f s after the load' "$label" "$rate" \
        "$(echo "$t_sq - $t1" | bc)"
    [ -n "$t_pg" ] && printf ', PostgreSQL %.2f s; largest PostgreSQL lag seen %s bytes, %s ms' \
        "$(echo "$t_pg - $t1" | bc)" "$maxlag" "$maxms"
    printf '; redsink peak RSS %d MB\n' $((rss / 1024))
    kill "$RPID"; wait "$RPID" 2>/dev/null; RPID=
}

run "SQLite only" 
run "with --postgres" --postgres "$CONN"
