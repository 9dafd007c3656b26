#!/bin/sh
# postgres.sh - the PostgreSQL shipper against a real cluster: a cluster in
# a temp dir (tests/lib/pg.sh), then tests/unit/test_shipper, which checks
# the copy, streaming, a restart of PostgreSQL, a re-copy under an open
# reader and a role without privileges (see that file).
set -u
: "${top_srcdir:=$(cd "$(dirname "$0")/../.." && pwd)}"
: "${top_builddir:=$top_srcdir}"
. "$top_srcdir/tests/lib/pg.sh"

TMP=$(mktemp -d "${TMPDIR:-/tmp}/redsink-pg.XXXXXX")
chmod 755 "$TMP"
cleanup() { pg_stop; [ "${KEEP:-}" ] || rm -rf "$TMP"; }
trap cleanup EXIT
trap 'exit 1' INT TERM

pg_start "$TMP/pg" || { echo "FAIL: cannot start PostgreSQL"; exit 99; }
as=
[ "$(id -u)" = 0 ] && as="runuser -u postgres --"
PG_STOP_CMD="$as $PG_BIN/pg_ctl -D $PGDATA -w -m fast stop >/dev/null"
PG_START_CMD="$as $PG_BIN/pg_ctl -D $PGDATA -w -l $TMP/pg/server.log -o '-k $TMP/pg -c listen_addresses= -p $PGPORT' start >/dev/null"
PG_CRASH_CMD="$as $PG_BIN/pg_ctl -D $PGDATA -w -m immediate stop >/dev/null"
export PG_STOP_CMD PG_START_CMD PG_CRASH_CMD
TMPDIR=$TMP "$top_builddir/tests/unit/test_shipper"
rc=$?
# the postmaster may have been restarted by the test: stop the new one
[ -f "$PGDATA/postmaster.pid" ] && PG_PID=$(head -1 "$PGDATA/postmaster.pid")
exit $rc
