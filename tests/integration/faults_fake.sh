#!/usr/bin/env bash
# Master errors and broken bytes a real server will not produce on demand,
# through tests/lib/fake_master.py: transient refusals are retried, refused
# credentials stop redsink with a configuration error, +CONTINUE <new id>
# switches the replid, and a corrupt stream or payload gives one clear
# error line, no crash, no memory blow-up, an untouched mirror and a retry.
. "${top_srcdir:-$(dirname "$0")/../..}/tests/lib/lib.sh"

fx="$top_srcdir/tests/fixtures/rdb"
rdb="$fx/7.2.6/all-types.rdb"
printf '*2\r\n$6\r\nSELECT\r\n$1\r\n0\r\n*3\r\n$3\r\nSET\r\n$8\r\nfake:key\r\n$5\r\nhello\r\n' > "$TMP/stream.resp"

fake_value() { sqlite3 "$1" "SELECT value FROM redis_strings WHERE key='fake:key'" 2>/dev/null; }
has_value() { [ "$(fake_value "$1")" = "$2" ]; }
exited() { ! kill -0 "$1" 2>/dev/null; }
count_at_least() { [ "$(grep -c "$1" "$2" 2>/dev/null)" -ge "$3" ]; }

# 1. Transient refusals to PSYNC: retried, then the sync goes through.
for mode in loading nomasterlink masterdown; do
    start_fake "$mode" "$mode" "$rdb" "$TMP/stream.resp"
    db="$TMP/$mode.db"
    eval "port=\$${mode}_PORT"
    start_redsink "rs_$mode" "$port" "$db"
    if poll_until 20 has_value "$db" hello; then
        ok "$mode: retried: $(grep -m1 'reconnecting' "$TMP/rs_$mode.log" | cut -d' ' -f3- | cut -c1-120)"
    else
        fail "$mode: not retried"
    fi
    grep -q 'link to the master is back after 1 attempt (full)' "$TMP/rs_$mode.log" \
        && ok "$mode: 'link back' line" || fail "$mode: no 'link back' line"
    eval "stop_pid \$rs_${mode}_PID TERM"
done

# 2. Refused credentials: exit 1 at once with a configuration error.
for mode in noauth noperm wrongpass; do
    start_fake "$mode" "$mode" "$rdb" "$TMP/stream.resp"
    eval "port=\$${mode}_PORT"
    start_redsink "rs_$mode" "$port" "$TMP/$mode.db" --master-password secret
    eval "pid=\$rs_${mode}_PID"
    if poll_until 10 exited "$pid"; then
        wait "$pid"; rc=$?
        [ $rc = 1 ] && grep -q 'configuration error' "$TMP/rs_$mode.log" \
            && ok "$mode: exit 1: $(grep -m1 'configuration error' "$TMP/rs_$mode.log" | cut -d' ' -f3- | cut -c1-120)" \
            || fail "$mode: exit $rc, $(tail -1 "$TMP/rs_$mode.log")"
    else
        fail "$mode: still running"
    fi
done

# 3. +CONTINUE <new id>: redsink switches to it, offsets unchanged.
start_fake cont continue "$rdb" "$TMP/stream.resp"
db="$TMP/cont.db"
start_redsink rs_cont "$cont_PORT" "$db"
poll_until 20 has_value "$db" world && ok "+CONTINUE <new id>: stream after it applied" || fail "+CONTINUE <new id>: not applied"
grep -q '^PSYNC 0123456789abcdef0123456789abcdef01234567 ' "$TMP/cont.port.log" && ok "+CONTINUE <new id>: PSYNC with the old id" || fail "no PSYNC with the old id"
rid=$(sqlite3 "$db" "SELECT master_replid FROM redsink_status")
[ "$rid" = fedcba9876543210fedcba9876543210fedcba98 ] && ok "+CONTINUE <new id>: master_replid switched" || fail "master_replid=$rid"
off=$(sqlite3 "$db" "SELECT offset FROM redsink_status")
want=$((100 + $(stat -c %s "$TMP/stream.resp") + 38))
[ "$off" = "$want" ] && ok "+CONTINUE <new id>: offset $off" || fail "+CONTINUE <new id>: offset $off, want $want"
stop_pid "$rs_cont_PID" TERM

# 4. Broken stream after the snapshot; broken payload. The mirror holds the
# fixture (what was committed before), redsink retries and stays small.
good="$TMP/good.db"
"$REDSINK" import "$fx/7.4.1/all-types.rdb" --sqlite "$good" >/dev/null
printf '*2\r\n$6\r\nSELECT\r\n$1\r\n0\r\n*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$x\r\n' > "$TMP/malformed.resp"
printf '*2\r\n$6\r\nSELECT\r\n$1\r\n0\r\n*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$9999999999999\r\n' > "$TMP/hugebulk.resp"
printf '*2\r\n$6\r\nSELECT\r\n$1\r\n0\r\n*999999999999\r\n$3\r\nSET\r\n' > "$TMP/hugearray.resp"
for case in malformed hugebulk hugearray truncate; do
    db="$TMP/$case.db"
    if [ $case = truncate ]; then
        cp "$good" "$db"; start_fake "$case" truncate "$rdb" "$TMP/stream.resp"
    else
        start_fake "$case" psync "$rdb" "$TMP/$case.resp"
    fi
    eval "port=\$${case}_PORT"
    start_redsink "rs_$case" "$port" "$db"
    eval "pid=\$rs_${case}_PID"
    if poll_until 20 count_at_least "PSYNC" "$TMP/$case.port.log" 2; then
        ok "$case: retried: $(grep -m1 'reconnecting' "$TMP/rs_$case.log" | cut -d' ' -f3- | cut -c1-140)"
    else
        fail "$case: no retry"
    fi
    grep -m1 'reconnecting' "$TMP/rs_$case.log" | grep -q 'offset\|at byte' && ok "$case: the error names the offset" \
        || fail "$case: no offset in the error"
    kill -0 "$pid" && ok "$case: still running" || fail "$case: crashed"
    rss=$(sed -n 's/^VmHWM:[^0-9]*\([0-9]*\).*/\1/p' /proc/"$pid"/status 2>/dev/null)
    [ "${rss:-0}" -lt 200000 ] && ok "$case: peak RSS ${rss:-?} kB" || fail "$case: peak RSS $rss kB"
    stop_pid "$pid" TERM
    if [ $case = truncate ]; then
        $COMPARE compare-expected "$fx/7.4.1/expected.json" "$db" && ok "$case: previous mirror untouched" || fail "$case: mirror changed"
    else
        $COMPARE compare-expected "$fx/7.2.6/expected.json" "$db" && ok "$case: mirror holds the snapshot, nothing of the bad command" \
            || fail "$case: mirror content"
    fi
done
finish
