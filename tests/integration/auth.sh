#!/usr/bin/env bash
# AUTH: a master with requirepass, an ACL user holding only the replication
# permissions, and a wrong password (a configuration error: redsink says
# so and stops instead of retrying).
. "${top_srcdir:-$(dirname "$0")/../..}/tests/lib/lib.sh"

start_redis m --requirepass 's3cret pass' --repl-diskless-sync no
export REDISCLI_AUTH='s3cret pass'       # for redis-cli and compare.py
rcli "$m_PORT" acl setuser repl on '>repl-pw' -@all +psync +replconf +ping >/dev/null
$COMPARE load 127.0.0.1 "$m_PORT" stream-ops 5

db="$TMP/pw.db"
start_redsink rs_pw "$m_PORT" "$db" --master-password 's3cret pass'
wait_mirror "$m_PORT" && compare_mirror "$m_PORT" "$db" "password: mirror equals the master" || fail "password: WAIT"
stop_pid "$rs_pw_PID" TERM

db="$TMP/acl.db"
start_redsink rs_acl "$m_PORT" "$db" --master-user repl --master-password repl-pw
wait_mirror "$m_PORT" && compare_mirror "$m_PORT" "$db" "ACL user with +psync +replconf +ping only: mirror equals the master" ||
    fail "ACL user: WAIT"
stop_pid "$rs_acl_PID" TERM

db="$TMP/bad.db"
start_redsink rs_bad "$m_PORT" "$db" --master-password wrong
wait "$rs_bad_PID"; rc=$?
if [ $rc -ne 0 ] && grep -q 'AUTH refused: WRONGPASS.*configuration error' "$TMP/rs_bad.log"; then
    ok "wrong password: exit $rc, $(grep -m1 'AUTH refused' "$TMP/rs_bad.log" | cut -d' ' -f3-)"
else
    fail "wrong password: exit $rc"; cat "$TMP/rs_bad.log"
fi
finish
