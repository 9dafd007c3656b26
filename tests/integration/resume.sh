#!/usr/bin/env bash
# The checkpoint (replid, offset, selected db) is committed with the data:
# after kill -9 and after SIGTERM, a restart resumes with PSYNC and gets
# +CONTINUE: the master's sync_full does not grow, sync_partial_ok does,
# and the mirror equals the master.
. "${top_srcdir:-$(dirname "$0")/../..}/tests/lib/lib.sh"

start_redis m --repl-diskless-sync yes --repl-diskless-sync-delay 0
db="$TMP/mirror.db"
start_redsink rs "$m_PORT" "$db"
wait_mirror "$m_PORT" || fail "initial sync"
$COMPARE load 127.0.0.1 "$m_PORT" stream-ops 3 && wait_mirror "$m_PORT"
# leave db 9 selected in the stream: the resumed stream will not repeat SELECT
rcli "$m_PORT" -n 9 set in9 before >/dev/null
wait_mirror "$m_PORT"
stop_pid "$rs_PID" KILL
rcli "$m_PORT" -n 9 set in9b after-kill >/dev/null
rcli "$m_PORT" -n 9 rpush l9 a b c >/dev/null
start_redsink rs2 "$m_PORT" "$db"
wait_mirror "$m_PORT" && ok "restart after kill -9: WAIT 1" || fail "restart after kill -9: WAIT"
compare_mirror "$m_PORT" "$db" "mirror equals the master after kill -9 and restart"
grep -q 'partial resync accepted' "$TMP/rs2.log" && ok "restart used PSYNC +CONTINUE" || fail "no partial resync after kill -9"
full=$(info_field "$m_PORT" stats sync_full); part=$(info_field "$m_PORT" stats sync_partial_ok)
[ "$full" = 1 ] && [ "$part" -ge 1 ] && ok "sync_full=$full sync_partial_ok=$part" || fail "sync_full=$full sync_partial_ok=$part"

stop_pid "$rs2_PID" TERM; rc=$?
[ $rc -eq 0 ] && ok "SIGTERM: exit 0" || fail "SIGTERM: exit $rc"
$COMPARE load 127.0.0.1 "$m_PORT" stream-ops 4
start_redsink rs3 "$m_PORT" "$db"
wait_mirror "$m_PORT" && compare_mirror "$m_PORT" "$db" "mirror equals the master after SIGTERM and restart"
full=$(info_field "$m_PORT" stats sync_full); part=$(info_field "$m_PORT" stats sync_partial_ok)
[ "$full" = 1 ] && [ "$part" -ge 2 ] && ok "after SIGTERM: sync_full=$full sync_partial_ok=$part" || fail "after SIGTERM: sync_full=$full sync_partial_ok=$part"
finish
