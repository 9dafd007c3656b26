#!/bin/bash
# pg_bigdel.sh [N] - redsink's memory for one transaction of many rows with
# --postgres: a hash of up to N fields (default 1000000: redis-benchmark's
# HSET on random fields of one key), a full sync copied into PostgreSQL,
# then one DEL of that hash, whose keys the outbox records (spilled past
# 1 MiB, sqlite_outbox.c) and the shipper ships (its set of keys restarted
# past 4 MiB, shipper.c). Prints redsink's peak RSS after the copy and
# after PostgreSQL holds the DEL.
# Run from the build tree after make.
N=${1:-1000000}
NAME=pgbigdel
. "$(dirname "$0")/pg_setup.sh"
export PGHOST PGPORT
pgq() { psql -X -At -U postgres -d postgres -c "$1" 2>/dev/null; }
hwm() { awk '/VmHWM/ { printf "%.1f MB", $2 / 1024 }' "/proc/$RPID/status"; }

redis-benchmark -p "$PORT" -t hset -n $((N * 3 / 2)) -r "$N" -P 64 -q >/dev/null 2>&1
fields=$(redis-cli -p "$PORT" hlen myhash)
"$top_srcdir/daemon/redsink" --master "127.0.0.1:$PORT" --sqlite "$TMP/m.db" --postgres "$CONN" \
    >"$TMP/rs.log" 2>&1 &
RPID=$!
until [ "$(pgq 'SELECT count(*) FROM redis.hash')" = "$fields" ]; do sleep 0.2; done
echo "a hash of $fields fields copied into PostgreSQL: redsink peak RSS $(hwm)"
redis-cli -p "$PORT" del myhash >/dev/null
t0=$(date +%s.%N)
until [ "$(pgq 'SELECT count(*) FROM redis.hash')" = 0 ]; do sleep 0.05; done
printf 'DEL of it in PostgreSQL %.2f s later: redsink peak RSS %s\n' \
    "$(echo "$(date +%s.%N) - $t0" | bc)" "$(hwm)"
