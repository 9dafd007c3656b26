# bench/pg_setup.sh - sourced by pg_lag.sh and pg_ack.sh: a throw-away
# PostgreSQL cluster (tests/lib/pg.sh; CONN is its conninfo), a redis-server
# on PORT, TMP; the EXIT trap kills redsink ($RPID), stops both servers and
# removes TMP. NAME: the temp directory's name.
set -u
: "${top_srcdir:=$(cd "$(dirname "$0")/.." && pwd)}"
. "$top_srcdir/tests/lib/pg.sh"
TMP=$(mktemp -d "${TMPDIR:-/tmp}/redsink-$NAME.XXXXXX")
chmod 755 "$TMP"
PORT=$((20000 + RANDOM % 20000))
RPID=
trap 'kill -9 $RPID 2>/dev/null; redis-cli -p $PORT shutdown nosave >/dev/null 2>&1; pg_stop; rm -rf "$TMP"' EXIT
pg_start "$TMP/pg" || exit 1
CONN="host=$PGHOST port=$PGPORT dbname=postgres user=postgres"
redis-server --port "$PORT" --bind 127.0.0.1 --save "" --appendonly no --daemonize yes \
    --logfile "$TMP/redis.log" --dir "$TMP" >/dev/null
