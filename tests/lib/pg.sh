# tests/lib/pg.sh - a throw-away PostgreSQL cluster for one test (sourced).
#
# pg_start DIR [TCP_PORT]: initdb in DIR/data, start it with pg_ctl on a unix
# socket in DIR (no TCP; with TCP_PORT also on 127.0.0.1:TCP_PORT, the
# socket then named after that port), export PGHOST PGPORT PGUSER
# PGDATABASE PGDATA and PG_PID.
# pg_up: start it again after a stop or a crash.
# pg_restart: stop and start it again with the same options (after an
# edit of postgresql.conf that needs it), PG_PID updated.
# pg_stop: stop it (pg_ctl, then its postmaster's pid); safe in a trap.
# pg_ctl_run ARGS: pg_ctl on that cluster (as its owner).
# Skips the test (exit 77) when initdb is not found. As root the cluster
# belongs to the "postgres" user (initdb refuses root), else to the caller.

PG_BIN=
for d in "$(dirname "$(command -v initdb 2>/dev/null || echo /none/x)")" /usr/lib/postgresql/*/bin; do
    [ -x "$d/initdb" ] && [ -x "$d/pg_ctl" ] && { PG_BIN=$d; break; }
done
[ -n "$PG_BIN" ] || { echo "SKIP: initdb not found (postgresql)"; exit 77; }
PG_PID=

pg_as_owner() {
    if [ "$(id -u)" = 0 ]; then
        runuser -u postgres -- "$@"
    else
        "$@"
    fi
}

pg_ctl_run() {
    pg_as_owner "$PG_BIN/pg_ctl" -D "$PGDATA" "$@"
}

pg_start() {
    local dir=$1 tcp=${2:-}
    PG_DIR=$dir
    mkdir -p "$dir"
    [ "$(id -u)" = 0 ] && chown postgres "$dir"
    pg_as_owner "$PG_BIN/initdb" -D "$dir/data" -U postgres -A trust -E UTF8 --no-locale \
        >"$dir/initdb.log" 2>&1 || { cat "$dir/initdb.log"; return 1; }
    export PGHOST=$dir PGPORT=${tcp:-5432} PGUSER=postgres PGDATABASE=postgres PGDATA=$dir/data
    PG_LISTEN=${tcp:+127.0.0.1}
    pg_up
}

# pg_up: start the cluster pg_start made (again, after a stop or a crash).
pg_up() {
    pg_ctl_run -w -l "$PG_DIR/server.log" \
        -o "-k $PG_DIR -c listen_addresses='$PG_LISTEN' -p $PGPORT -c fsync=off" start >/dev/null ||
        { cat "$PG_DIR/server.log"; return 1; }
    PG_PID=$(head -1 "$PGDATA/postmaster.pid")
}

pg_restart() {
    pg_ctl_run -w -m fast -l "$PG_DIR/server.log" restart >/dev/null ||
        { cat "$PG_DIR/server.log"; return 1; }
    PG_PID=$(head -1 "$PGDATA/postmaster.pid")
}

pg_stop() {
    [ -n "${PGDATA:-}" ] && [ -f "$PGDATA/postmaster.pid" ] || return 0
    pg_ctl_run -w -m fast stop >/dev/null 2>&1 ||
        { [ -n "$PG_PID" ] && kill -9 "$PG_PID" 2>/dev/null; }
    return 0
}

# pg_test_cluster [TCP_PORT]: for a test that sourced lib.sh: skip without
# psql, stop the cluster from the EXIT trap, start one in $TMP/pg, set CONN
# (the superuser on the unix socket).
pg_test_cluster() {
    command -v psql >/dev/null || { echo "SKIP: psql not installed"; exit 77; }
    trap 'pg_stop; cleanup' EXIT
    chmod 755 "$TMP"
    pg_start "$TMP/pg" "$@" || { fail "PostgreSQL cluster"; finish; }
    CONN="host=$PGHOST port=$PGPORT dbname=postgres user=postgres"
}
