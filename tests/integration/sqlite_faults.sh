#!/usr/bin/env bash
# SQLite faults under a running redsink (issue 4): the mirror is never
# corrupted, no offset is acknowledged that is not committed, and redsink
# either waits (a lock held by another process) or stops with a one-line
# error (disk full, the file deleted or replaced), resuming correctly once
# the cause is gone.
#
# A disk I/O error (SQLITE_IOERR) is injected in tests/integration/io_error.sh.
. "${top_srcdir:-$(dirname "$0")/../..}/tests/lib/lib.sh"

MNT=""
faults_cleanup() {
    for p in $PIDS; do kill -9 "$p" 2>/dev/null; done
    for p in $PIDS; do wait "$p" 2>/dev/null; done
    PIDS=""
    [ -n "$MNT" ] && umount "$MNT" 2>/dev/null
    cleanup
}
trap faults_cleanup EXIT

start_redis m --repl-diskless-sync no --repl-backlog-size 64mb

# hold_lock DB MODE FLAG RELEASE: hold a write lock on DB (BEGIN MODE) from
# another process; FLAG appears once it is held, it ends when RELEASE does.
hold_lock() {
    python3 - "$@" <<'PY' &
import os, sqlite3, sys, time
db, mode, flag, release = sys.argv[1:5]
c = sqlite3.connect(db, isolation_level=None, timeout=30)
c.execute("BEGIN " + mode)
c.execute("SELECT count(*) FROM redis_keys").fetchone()
open(flag, "w").close()
end = time.time() + 60
while not os.path.exists(release) and time.time() < end:
    time.sleep(0.02)
c.execute("ROLLBACK")
PY
    LOCK_PID=$!
    PIDS="$PIDS $LOCK_PID"
}

# write_wait KEY WANT: INCR KEY then WAIT 1 100 on the same connection
# (WAIT counts from the connection's own last write) returns WANT.
write_wait() {
    [ "$(printf 'incr %s\nwait 1 100\n' "$1" | rcli "$m_PORT" | tail -1 | tr -d '\r')" = "$2" ]
}

more_lock_lines() {  # more_lock_lines N: the log has more than N lock waits
    [ "$(grep -c "is locked by another process" "$TMP/rs.log")" -gt "$1" ]
}

integrity_ok() {  # integrity_ok DB
    [ "$(python3 -c 'import sqlite3,sys; print(sqlite3.connect(sys.argv[1]).execute("PRAGMA integrity_check").fetchone()[0])' "$1")" = ok ]
}

# ---------------------------------------------------------------- lock
db="$TMP/lock.db"
start_redsink rs "$m_PORT" "$db"
wait_mirror "$m_PORT" || fail "lock: initial sync"
$COMPARE load 127.0.0.1 "$m_PORT" stream-ops 5 && wait_mirror "$m_PORT"
for mode in IMMEDIATE EXCLUSIVE; do
    rm -f "$TMP/held" "$TMP/release"
    nlog=$(grep -c "is locked by another process" "$TMP/rs.log")
    hold_lock "$db" "$mode" "$TMP/held" "$TMP/release"
    poll_until 10 test -e "$TMP/held" || fail "lock $mode: not taken"
    rcli "$m_PORT" rpush "locked:list" "$mode" >/dev/null
    write_wait "locked:$mode" 0 && ok "lock $mode: WAIT 1 returns 0 while locked" || fail "lock $mode: WAIT returned 1 while locked"
    poll_until 10 more_lock_lines "$nlog" &&
        ok "lock $mode: the wait is logged" || fail "lock $mode: no log line"
    write_wait "locked:$mode" 0 && ok "lock $mode: still 0 after the busy timeout" || fail "lock $mode: WAIT 1 after 1 s"
    touch "$TMP/release"
    wait "$LOCK_PID" 2>/dev/null
    wait_mirror "$m_PORT" && ok "lock $mode: WAIT 1 returns 1 after release" || fail "lock $mode: no WAIT after release"
    poll_until 10 grep -q "is unlocked after" "$TMP/rs.log" && ok "lock $mode: the end is logged" ||
        fail "lock $mode: no end log line"
    compare_mirror "$m_PORT" "$db" "lock $mode: mirror equals the master (no loss, no double apply)"
done
n=$(grep -c "is locked by another process" "$TMP/rs.log")
[ "$n" = 2 ] && ok "one log line per lock wait" || fail "$n lock log lines for 2 waits"
grep -q "reconnecting\|full resync" <(sed 1,/streaming/d "$TMP/rs.log") &&
    fail "lock: the link was dropped" || ok "lock: the link stayed up"
# SIGTERM while a lock holds a commit back: exits at once, restart resumes
rm -f "$TMP/held" "$TMP/release"
hold_lock "$db" IMMEDIATE "$TMP/held" "$TMP/release"
poll_until 10 test -e "$TMP/held"
rcli "$m_PORT" set "term-while-locked" 1 >/dev/null
poll_until 10 grep -c "is locked by another process" "$TMP/rs.log" >/dev/null
t0=$(date +%s); stop_pid "$rs_PID" TERM; rc=$?
[ $rc -eq 0 ] && [ $(( $(date +%s) - t0 )) -le 3 ] && ok "SIGTERM while locked: exit 0 at once" ||
    fail "SIGTERM while locked: exit $rc after $(( $(date +%s) - t0 )) s"
touch "$TMP/release"; wait "$LOCK_PID" 2>/dev/null
start_redsink rs2 "$m_PORT" "$db"
wait_mirror "$m_PORT" && compare_mirror "$m_PORT" "$db" "restart after SIGTERM while locked"
grep -q 'partial resync accepted' "$TMP/rs2.log" && ok "lock: restart used PSYNC" || fail "lock: restart without PSYNC"
stop_pid "$rs2_PID" TERM

# ------------------------------------------------- deleted or replaced
db="$TMP/del/mirror.db"; mkdir -p "$TMP/del"
start_redsink rd "$m_PORT" "$db"
wait_mirror "$m_PORT" || fail "delete: initial sync"
rm -f "$db" "$db-wal" "$db-shm"
rcli "$m_PORT" set after-rm 1 >/dev/null
poll_until 10 sh -c "! kill -0 $rd_PID" && ok "delete: redsink stopped" || fail "delete: redsink still runs"
wait "$rd_PID"; rc=$?
[ $rc -eq 1 ] && ok "delete: exit 1" || fail "delete: exit $rc"
grep -q "deleted or replaced" "$TMP/rd.log" && ok "delete: one-line error" || fail "delete: no error line"
full0=$(info_field "$m_PORT" stats sync_full)
start_redsink rd2 "$m_PORT" "$db"
wait_mirror "$m_PORT" && compare_mirror "$m_PORT" "$db" "delete: restart makes a new full mirror"
full1=$(info_field "$m_PORT" stats sync_full)
[ "$full1" -gt "$full0" ] && ok "delete: restart did a full sync" || fail "delete: no full sync"
# replace: an older copy of the mirror moved over it
python3 -c 'import sqlite3,sys; s=sqlite3.connect(sys.argv[1]); d=sqlite3.connect(sys.argv[2]); s.backup(d); d.close()' \
    "$db" "$TMP/del/other.db"
$COMPARE load 127.0.0.1 "$m_PORT" stream-ops 6 && wait_mirror "$m_PORT"
mv "$TMP/del/other.db" "$db"
rcli "$m_PORT" set after-mv 1 >/dev/null
poll_until 10 sh -c "! kill -0 $rd2_PID" && ok "replace: redsink stopped" || fail "replace: redsink still runs"
wait "$rd2_PID"; rc=$?
[ $rc -eq 1 ] && grep -q "deleted or replaced" "$TMP/rd2.log" && ok "replace: exit 1 with the error" ||
    fail "replace: exit $rc"
integrity_ok "$db" && ok "replace: the new file is intact" || fail "replace: integrity_check"
start_redsink rd3 "$m_PORT" "$db"
wait_mirror "$m_PORT" && compare_mirror "$m_PORT" "$db" "replace: restart resumes from the copy's checkpoint"
grep -q 'partial resync accepted' "$TMP/rd3.log" && ok "replace: restart used PSYNC" || fail "replace: no PSYNC"
stop_pid "$rd3_PID" TERM

# ----------------------------------------------------------- disk full
MNT="$TMP/full"; mkdir -p "$MNT"
if ! mount -t tmpfs -o size=4m tmpfs "$MNT" 2>/dev/null; then
    MNT=""
    echo "ok - # SKIP disk full: cannot mount a tmpfs here"
    finish
fi
db="$MNT/mirror.db"
start_redsink rf "$m_PORT" "$db"
wait_mirror "$m_PORT" || fail "full: initial sync"
i=0
while kill -0 "$rf_PID" 2>/dev/null && [ $i -lt 200 ]; do
    rcli "$m_PORT" eval "for j=1,4 do redis.call('set', 'big:'..ARGV[1]..':'..j, string.rep(ARGV[1], 50000)) end" 0 "$i" >/dev/null
    rcli "$m_PORT" wait 1 200 >/dev/null
    i=$((i + 1))
done
poll_until 20 sh -c "! kill -0 $rf_PID" && ok "full: redsink stopped" || fail "full: redsink still runs"
wait "$rf_PID"; rc=$?
[ $rc -eq 1 ] && ok "full: exit 1" || fail "full: exit $rc"
grep -q "disk full" "$TMP/rf.log" && ok "full: one-line error: $(grep 'disk full' "$TMP/rf.log" | tail -1 | cut -c1-160)" ||
    fail "full: no 'disk full' line"
write_wait full:after 0 && ok "full: WAIT 1 is 0 for what was not committed" || fail "full: WAIT 1 returned 1"
mount -o remount,size=64m "$MNT" || fail "full: remount"
integrity_ok "$db" && ok "full: integrity_check ok" || fail "full: integrity_check"
start_redsink rf2 "$m_PORT" "$db"
wait_mirror "$m_PORT" && compare_mirror "$m_PORT" "$db" "full: after space is freed the mirror equals the master"
grep -q 'partial resync accepted' "$TMP/rf2.log" && ok "full: restart used PSYNC" || fail "full: no PSYNC"
stop_pid "$rf2_PID" TERM
finish
