#!/usr/bin/env bash
# A disk I/O error on the mirror: redsink stops (exit 1) with one line that
# names the file, acknowledges nothing it could not commit, leaves an intact
# database, and a restart once the disk is healthy resumes with PSYNC.
# The error is injected by tests/lib/eio_shim.c (LD_PRELOAD, built here).
. "${top_srcdir:-$(dirname "$0")/../..}/tests/lib/lib.sh"

command -v cc >/dev/null || { echo "SKIP: no C compiler to build the fault shim"; exit 77; }
if redsink_sanitized; then
    echo "SKIP: the sanitizer runtime must come first; no LD_PRELOAD shim"; exit 77
fi
cc -shared -fPIC -o "$TMP/eio.so" "$top_srcdir/tests/lib/eio_shim.c" -ldl || { fail "build the shim"; finish; }

start_redis m
rcli "$m_PORT" mset a 1 b 2 >/dev/null
db="$TMP/mirror.db"
LD_PRELOAD="$TMP/eio.so" EIO_TARGET="$db" EIO_TRIGGER="$TMP/eio-on" start_redsink rs "$m_PORT" "$db"
wait_mirror "$m_PORT" && ok "synced through the shim (no fault yet)" || fail "initial sync"

touch "$TMP/eio-on"                           # the disk starts failing
rcli "$m_PORT" set during-eio x >/dev/null
wait "$rs_PID"; rc=$?
[ $rc -eq 1 ] && ok "I/O error: exit 1" || fail "I/O error: exit $rc"
line=$(grep -m1 'disk I/O error' "$TMP/rs.log")
case "$line" in
    *"$db"*) ok "I/O error: one line naming the file: $(echo "$line" | cut -d' ' -f3- | cut -c1-150)" ;;
    *) fail "I/O error: no line naming the file: $(grep -v debug "$TMP/rs.log" | tail -2)" ;;
esac
[ -z "$(sqlite3 "$db" "SELECT value FROM redis_strings WHERE key = 'during-eio'")" ] &&
    ok "I/O error: the failed write is not in the mirror" || fail "I/O error: uncommitted write visible"
[ "$(sqlite3 "$db" 'PRAGMA integrity_check')" = ok ] && ok "I/O error: integrity_check ok" || fail "integrity_check"

rm -f "$TMP/eio-on"                           # the disk is healthy again
start_redsink rs2 "$m_PORT" "$db"
wait_mirror "$m_PORT" && compare_mirror "$m_PORT" "$db" "after the disk recovers the mirror equals the master"
grep -q 'partial resync accepted' "$TMP/rs2.log" && ok "restart resumed with PSYNC" || fail "restart: no PSYNC"
finish
