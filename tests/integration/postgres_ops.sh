#!/usr/bin/env bash
# Operating the PostgreSQL downstream (issue 16, "Operations"): a real
# cluster made here (tests/lib/pg.sh) listening on 127.0.0.1 with
# scram-sha-256 for the role redsink uses, then TLS on with a certificate
# made by openssl; real masters and the real redsink.
#  - a password from postgres.password_file connects; the password is in
#    neither /proc/PID/cmdline nor the log; a wrong one gives one log line;
#    PGPASSFILE and a service file (PGSERVICEFILE) work;
#  - sslmode=require and verify-ca (sslrootcert) connect over TLS (the
#    server says so in pg_stat_ssl); require against a server without TLS
#    and verify-ca against another root give one clear line each;
#  - two redsink daemons on two masters share the database, each in its own
#    schema, and each schema's views equal its master (pg_snapshot.py).
. "${top_srcdir:-$(dirname "$0")/../..}/tests/lib/lib.sh"
. "$top_srcdir/tests/lib/pg.sh"
command -v openssl >/dev/null || { echo "SKIP: openssl not installed"; exit 77; }
pgport=$(free_port)
pg_test_cluster "$pgport"
pglog=$TMP/pg/server.log
# distinctive, so that a grep for it cannot match anything else
PW="pw-$$-$RANDOM-x7Qz"
psql -X -q -v ON_ERROR_STOP=1 -c "CREATE ROLE rsuser LOGIN PASSWORD '$PW'" \
    -c "GRANT CREATE ON DATABASE postgres TO rsuser" || fail "creating the role"
# the superuser keeps the socket (the test's psql); rsuser needs its password
cat > "$PGDATA/pg_hba.conf" <<EOF
local all postgres trust
local all all scram-sha-256
host all all 127.0.0.1/32 scram-sha-256
EOF
psql -X -q -c "SELECT pg_reload_conf()" >/dev/null
no_trust() { ! PGPASSWORD= psql -X -w -h 127.0.0.1 -U rsuser -c 'SELECT 1' >/dev/null 2>&1; }
poll_until 10 no_trust && ok "rsuser needs a password over TCP (scram-sha-256)" ||
    fail "rsuser connects without a password"
[ "$(psql -X -At -c "SELECT rolpassword LIKE 'SCRAM-SHA-256%' FROM pg_authid WHERE rolname = 'rsuser'")" = t ] ||
    fail "rsuser's password is not stored as SCRAM"

TCP="host=127.0.0.1 port=$pgport dbname=postgres user=rsuser"
printf '%s\n' "$PW" > "$TMP/pw"
printf 'wrong-%s\n' "$PW" > "$TMP/badpw"
chmod 600 "$TMP/pw" "$TMP/badpw"

start_redis m
port=$m_PORT
$COMPARE load 127.0.0.1 "$port" all-types 7 || fail "loading the dataset"

pg_offset() { psql -X -At -c "SELECT \"offset\" FROM $1.redsink_status" 2>/dev/null; }
caught_up() {  # caught_up SCHEMA DBFILE
    local o; o=$(pg_offset "$1")
    [ -n "$o" ] && [ "$o" = "$(sqlite3 "$2" "SELECT offset FROM redsink_status")" ]
}
compare_pg() {  # compare_pg SCHEMA DBFILE PORT LABEL: the schema's views vs that master
    if poll_until 60 caught_up "$1" "$2" &&
        python3 "$top_srcdir/tests/lib/pg_snapshot.py" "$1" "$TMP/$1.sqlite" &&
        $COMPARE compare-redis-pipelined 127.0.0.1 "$3" "$TMP/$1.sqlite"; then
        ok "$4"
    else
        fail "$4 (PostgreSQL offset '$(pg_offset "$1")', SQLite '$(sqlite3 "$2" "SELECT offset FROM redsink_status")')"
    fi
}
conf() {  # conf FILE CONNINFO PASSWORD_FILE SCHEMA
    printf 'postgres: { conninfo = "%s"; password_file = "%s"; schema = "%s"; };\n' "$2" "$3" "$4" > "$1"
}
# the backend redsink holds: user, ssl (pg_stat_activity, pg_stat_ssl)
backend() {
    psql -X -At -c "SELECT a.usename || CASE WHEN s.ssl THEN ' tls' ELSE ' plain' END FROM pg_stat_activity a JOIN pg_stat_ssl s
                    USING (pid) WHERE a.application_name = 'redsink' AND a.client_addr IS NOT NULL"
}
# no_secret NAME PID: the password is neither in the process's argv nor its log
no_secret() {
    if tr '\0' ' ' < "/proc/$2/cmdline" | grep -qF "$PW"; then
        fail "$1: the password is in /proc/$2/cmdline"
    else
        ok "$1: the password is not in /proc/PID/cmdline ($(tr '\0' ' ' < "/proc/$2/cmdline" | cut -c1-100)...)"
    fi
    grep -qF "$PW" "$TMP/$1.log" && fail "$1: the password is in the log" ||
        ok "$1: the password is not in the log ($(wc -l < "$TMP/$1.log") lines at debug level)"
}
# one_line NAME PATTERN LABEL: the log has exactly one line matching PATTERN
one_line() {
    local n; n=$(grep -c -- "$2" "$TMP/$1.log")
    [ "$n" = 1 ] && ok "$3: $(grep -m1 -- "$2" "$TMP/$1.log" | sed 's/^.*redsink\[[a-z]*\]: //' | cut -c1-220)" ||
        fail "$3: $n lines match '$2'"
}

# ships NAME SCHEMA BACKEND LABEL: daemon NAME (started, mirror $TMP/NAME.db)
# fills SCHEMA with the master's data over a connection that is BACKEND
ships() {
    wait_mirror "$port" || fail "$4: WAIT"
    compare_pg "$2" "$TMP/$1.db" "$port" "$4: PostgreSQL equals the master"
    [ "$(backend)" = "$3" ] && ok "$4: the connection is '$3'" || fail "$4: backend '$(backend)', want '$3'"
}
# refused NAME CONF PATTERN LABEL: a daemon with CONF cannot connect, says so
# in one line matching PATTERN, and its SQLite mirror goes on
refused() {
    local pid
    start_redsink "$1" "$port" "$TMP/$1.db" -c "$2"
    eval "pid=\$${1}_PID"
    wait_mirror "$port" || fail "$4: WAIT"
    poll_until 20 grep -q "postgres: cannot connect" "$TMP/$1.log" || true
    one_line "$1" "$3" "$4"
    stop_pid "$pid" TERM && ok "$4: SIGTERM exits 0" || fail "$4: SIGTERM"
}

# ---- (a) passwords ----

# postgres.password_file
conf "$TMP/a.conf" "$TCP" "$TMP/pw" pwfile
start_redsink a "$port" "$TMP/a.db" -c "$TMP/a.conf"
ships a pwfile "rsuser plain" "password_file"
no_secret a "$a_PID"
stop_pid "$a_PID" TERM || fail "SIGTERM a"

# a wrong password: the SQLite mirror goes on, one line says why
conf "$TMP/b.conf" "$TCP" "$TMP/badpw" badpw
before=$(grep -c 'password authentication failed for user "rsuser"' "$pglog")
start_redsink b "$port" "$TMP/b.db" -c "$TMP/b.conf"
wait_mirror "$port" || fail "WAIT with a wrong password"
compare_mirror "$port" "$TMP/b.db" "wrong password: the SQLite mirror equals the master"
retried() { [ "$(grep -c 'password authentication failed for user "rsuser"' "$pglog")" -ge $((before + 3)) ]; }
poll_until 30 retried && ok "wrong password: redsink retried (3 refusals in the server's log)" ||
    fail "wrong password: no retries seen"
one_line b 'postgres: cannot connect to host=127.0.0.1 port=.* password authentication failed for user "rsuser"' \
    "wrong password: one line for 3 attempts"
pg_state() { [ "$(sqlite3 "$1" "SELECT pg_state FROM redsink_status" 2>/dev/null)" = "$2" ]; }
poll_until 20 pg_state "$TMP/b.db" down && ok "wrong password: redsink_status.pg_state is down" ||
    fail "wrong password: pg_state '$(sqlite3 "$TMP/b.db" "SELECT pg_state FROM redsink_status")'"
grep -qF "wrong-$PW" "$TMP/b.log" "$TMP/b.db" && fail "wrong password: the password is in the log or the mirror" ||
    ok "wrong password: it is in neither the log nor the mirror file"
stop_pid "$b_PID" TERM && ok "wrong password: SIGTERM exits 0" || fail "SIGTERM b"

# a password file that cannot be read: a configuration error at start
conf "$TMP/c.conf" "$TCP" "$TMP/nonexistent" nofile
"$REDSINK" --master "127.0.0.1:$port" --sqlite "$TMP/c.db" -c "$TMP/c.conf" > "$TMP/c.log" 2>&1
rc=$?
[ "$rc" != 0 ] && grep -q "postgres: cannot read password file '$TMP/nonexistent'" "$TMP/c.log" &&
    ok "a missing password file: exit $rc, '$(grep -m1 'password file' "$TMP/c.log" | sed 's/^.*postgres: /postgres: /')'" ||
    fail "a missing password file: exit $rc, $(cat "$TMP/c.log")"

# PGPASSFILE: libpq finds the password itself
printf '127.0.0.1:%s:postgres:rsuser:%s\n' "$pgport" "$PW" > "$TMP/pgpass"
chmod 600 "$TMP/pgpass"
PGPASSFILE=$TMP/pgpass start_redsink d "$port" "$TMP/d.db" --postgres "$TCP" --postgres-schema pgpass
ships d pgpass "rsuser plain" "PGPASSFILE"
no_secret d "$d_PID"
stop_pid "$d_PID" TERM || fail "SIGTERM d"

# a service file: the conninfo is "service=NAME" (the password from PGPASSFILE)
printf '[mirror]\nhost=127.0.0.1\nport=%s\ndbname=postgres\nuser=rsuser\n' "$pgport" > "$TMP/pg_service.conf"
PGSERVICEFILE=$TMP/pg_service.conf PGPASSFILE=$TMP/pgpass \
    start_redsink e "$port" "$TMP/e.db" --postgres "service=mirror" --postgres-schema svc
ships e svc "rsuser plain" "service file"
stop_pid "$e_PID" TERM || fail "SIGTERM e"

# ---- (b) TLS ----

# sslmode=require against a server without TLS
conf "$TMP/f.conf" "$TCP sslmode=require" "$TMP/pw" tlsreq
refused f "$TMP/f.conf" 'postgres: cannot connect to host=127.0.0.1 .*server does not support SSL, but SSL was required' \
    "sslmode=require without TLS on the server"

# TLS on: a self-signed certificate for 127.0.0.1
mkcert() {  # mkcert NAME: $TMP/pg/NAME.crt and NAME.key
    openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=127.0.0.1" \
        -keyout "$TMP/pg/$1.key" -out "$TMP/pg/$1.crt" >/dev/null 2>&1
}
mkcert server && mkcert other || fail "openssl req"
chmod 600 "$TMP/pg/server.key"
[ "$(id -u)" = 0 ] && chown postgres "$TMP/pg/server.key" "$TMP/pg/server.crt"
printf "ssl = on\nssl_cert_file = '%s'\nssl_key_file = '%s'\n" "$TMP/pg/server.crt" "$TMP/pg/server.key" \
    >> "$PGDATA/postgresql.conf"
pg_restart || fail "restarting PostgreSQL with ssl = on"
[ "$(psql -X -At -c 'SHOW ssl')" = on ] && ok "PostgreSQL runs with ssl = on" || fail "ssl is not on"

# the same configuration again (and the mirror file of that attempt)
start_redsink f "$port" "$TMP/f.db" -c "$TMP/f.conf"
ships f tlsreq "rsuser tls" "sslmode=require"
stop_pid "$f_PID" TERM || fail "SIGTERM f"

conf "$TMP/g.conf" "$TCP sslmode=verify-ca sslrootcert=$TMP/pg/server.crt" "$TMP/pw" tlsca
start_redsink g "$port" "$TMP/g.db" -c "$TMP/g.conf"
ships g tlsca "rsuser tls" "sslmode=verify-ca"
stop_pid "$g_PID" TERM || fail "SIGTERM g"

# verify-ca against a root that did not sign the server's certificate
conf "$TMP/h.conf" "$TCP sslmode=verify-ca sslrootcert=$TMP/pg/other.crt" "$TMP/pw" tlsbad
refused h "$TMP/h.conf" 'postgres: cannot connect to host=127.0.0.1 .*certificate verify failed' \
    "verify-ca with another root certificate"

# ---- (c) two daemons, two masters, one database ----
start_redis m2
$COMPARE load 127.0.0.1 "$m2_PORT" all-types 8 || fail "loading the second dataset"
conf "$TMP/s1.conf" "$TCP sslmode=require" "$TMP/pw" one
conf "$TMP/s2.conf" "$TCP sslmode=require" "$TMP/pw" two
start_redsink s1 "$port" "$TMP/s1.db" -c "$TMP/s1.conf"
start_redsink s2 "$m2_PORT" "$TMP/s2.db" -c "$TMP/s2.conf"
wait_mirror "$port" || fail "WAIT on master 1"
wait_mirror "$m2_PORT" || fail "WAIT on master 2"
$COMPARE load 127.0.0.1 "$port" stream-ops 21 & l1=$!
$COMPARE load 127.0.0.1 "$m2_PORT" stream-ops 22 & l2=$!
wait $l1 || fail "stream workload on master 1"
wait $l2 || fail "stream workload on master 2"
wait_mirror "$port" || fail "WAIT on master 1 after the workload"
wait_mirror "$m2_PORT" || fail "WAIT on master 2 after the workload"
compare_pg one "$TMP/s1.db" "$port" "schema one equals master 1"
compare_pg two "$TMP/s2.db" "$m2_PORT" "schema two equals master 2"
r1=$(psql -X -At -c "SELECT master_replid FROM one.redsink_status")
r2=$(psql -X -At -c "SELECT master_replid FROM two.redsink_status")
[ "$r1" = "$(info_field "$port" replication master_replid)" ] && [ "$r2" = "$(info_field "$m2_PORT" replication master_replid)" ] &&
    [ "$r1" != "$r2" ] && ok "each schema's checkpoint names its own master" ||
    fail "replids: one '$r1', two '$r2'"
n=$(psql -X -At -c "SELECT count(*) FROM pg_stat_activity WHERE application_name = 'redsink'")
[ "$n" = 2 ] && ok "two redsink connections to one database" || fail "$n redsink connections"
stop_pid "$s1_PID" TERM || fail "SIGTERM s1"
stop_pid "$s2_PID" TERM || fail "SIGTERM s2"
finish
