#!/usr/bin/env bash
# Old masters as they really speak (checked against the tags' replication.c),
# through tests/lib/fake_master.py, and a real master with rdbchecksum no:
#  - Redis 2.4/2.6: REPLCONF capa refused, PSYNC unknown, SYNC; SELECT comes
#    inline ("select 3\r\n"), PING as RESP; every reconnection is a full sync
#    that replaces the mirror.
#  - Redis 2.8/3.0: +FULLRESYNC, then after a cut PSYNC <runid> <off+1> gets
#    a bare +CONTINUE (no replication id); the stream after it is applied, the
#    offset keeps counting, the checkpoint keeps the old id. Both the masters
#    that refuse REPLCONF capa (2.8.0-2.8.21, 3.0.0-3.0.3) and those that
#    answer +OK.
#  - newline keep-alives before +FULLRESYNC and before "$<len>" are skipped
#    and not counted in the offset.
#  - rdbchecksum no (an all-zero CRC trailer) from a real redis-server, disk
#    and diskless.
. "${top_srcdir:-$(dirname "$0")/../..}/tests/lib/lib.sh"

fx="$top_srcdir/tests/fixtures/rdb"
REPLID=0123456789abcdef0123456789abcdef01234567
q() { sqlite3 "$1" "$2" 2>/dev/null; }
value_is() { [ "$(q "$1" "SELECT value FROM redis_strings WHERE db=$2 AND key='$3'")" = "$4" ]; }
offset_is() { [ "$(q "$1" "SELECT offset FROM redsink_status")" = "$2" ]; }
size() { stat -c %s "$1"; }

# --- Redis 2.6: SYNC only ------------------------------------------------
{
    printf 'select 0\r\n'                        # 2.6's shared.select: inline
    resp SET fake:key hello
    resp PING                                    # replicationCron's PING
    printf 'select 3\r\n'
    resp SET in3 x
} > "$TMP/s26a.resp"
{ printf 'select 0\r\n'; resp SET fake:key2 world; } > "$TMP/s26b.resp"
start_fake o26 sync-only "$fx/2.6.17/all-types.rdb" "$TMP/s26a.resp" "$TMP/s26b.resp"
db="$TMP/o26.db"
start_redsink rs26 "$o26_PORT" "$db"
if poll_until 30 value_is "$db" 3 in3 x && value_is "$db" 0 fake:key hello; then
    ok "2.6: inline 'select 3' and the commands after it applied"
else
    fail "2.6: stream with inline SELECT not applied"; cat "$TMP/rs26.log" | tail -5
fi
grep -q '^REPLCONF capa eof capa psync2$' "$TMP/o26.port.log" && grep -q '^SYNC$' "$TMP/o26.port.log" \
    && ok "2.6: REPLCONF capa refused, PSYNC unknown, SYNC sent" || fail "2.6: handshake"
kill -USR1 "$o26_FAKE_PID"                       # cut the link: 2.6 has no PSYNC
if poll_until 30 value_is "$db" 0 fake:key2 world; then ok "2.6: reconnected"; else fail "2.6: no reconnection"; fi
[ "$(grep -c '^SYNC$' "$TMP/o26.port.log")" = 2 ] && ! grep -q "^PSYNC $REPLID" "$TMP/o26.port.log" \
    && ok "2.6: the reconnection was a full SYNC" || fail "2.6: reconnection was not a SYNC"
[ -z "$(q "$db" "SELECT value FROM redis_strings WHERE key IN ('fake:key','in3')")" ] \
    && ok "2.6: the second full sync replaced the mirror (first stream's keys gone)" \
    || fail "2.6: keys of the first session survived the full sync"
$COMPARE compare-expected "$fx/2.6.17/expected.json" "$db" --ignore fake:key2 \
    && ok "2.6: mirror equals the 2.6.17 fixture" || fail "2.6: mirror content"
stop_pid "$rs26_PID" TERM

# --- Redis 2.8 / 3.0: PSYNC without psync2 -------------------------------
{ resp SELECT 0; resp SET fake:key hello; } > "$TMP/p1a.resp"
{ resp SET fake:key2 world; resp PING; resp MULTI; resp INCR n; resp INCR n; resp EXEC; } > "$TMP/p1b.resp"
off1=$((100 + $(size "$TMP/p1a.resp")))
off2=$((off1 + $(size "$TMP/p1b.resp")))
for case in p28:psync1-nocapa:2.8.24 p30:psync1:3.0.7; do
    IFS=: read -r name mode ver <<< "$case"
    start_fake "$name" "$mode" "$fx/$ver/all-types.rdb" "$TMP/p1a.resp" "$TMP/p1b.resp"
    eval "port=\$${name}_PORT fpid=\$${name}_FAKE_PID"
    db="$TMP/$name.db"
    start_redsink "rs_$name" "$port" "$db"
    if poll_until 30 offset_is "$db" "$off1" && value_is "$db" 0 fake:key hello; then
        ok "$mode: full sync, stream applied, offset $off1 (keep-alives not counted)"
    else
        fail "$mode: offset $(q "$db" "SELECT offset FROM redsink_status"), want $off1"
    fi
    if [ "$mode" = psync1-nocapa ]; then
        grep -q 'REPLCONF capa: master answered ERR Unrecognized REPLCONF option: capa' "$TMP/rs_$name.log" \
            && ok "$mode: the refused REPLCONF capa is ignored" || fail "$mode: REPLCONF capa refusal"
    fi
    kill -USR1 "$fpid"                           # cut the link
    if poll_until 30 offset_is "$db" "$off2" && [ "$(q "$db" "SELECT value FROM redis_strings WHERE key='n'")" = 2 ]; then
        ok "$mode: after the bare +CONTINUE the stream is applied, offset $off2"
    else
        fail "$mode: after +CONTINUE offset $(q "$db" "SELECT offset FROM redsink_status"), want $off2"
    fi
    grep -q "^PSYNC $REPLID $((off1 + 1))$" "$TMP/$name.port.log" && grep -q 'partial resync accepted' "$TMP/rs_$name.log" \
        && ok "$mode: PSYNC <runid> $((off1 + 1)) answered by +CONTINUE" || fail "$mode: no partial resync"
    [ "$(grep -c '^PSYNC ? -1$' "$TMP/$name.port.log")" = 1 ] && ok "$mode: one full sync only" || fail "$mode: more than one full sync"
    [ "$(q "$db" "SELECT master_replid FROM redsink_status")" = $REPLID ] \
        && ok "$mode: the checkpoint keeps the runid" || fail "$mode: checkpoint replid changed"
    $COMPARE compare-expected "$fx/$ver/expected.json" "$db" --ignore fake:key --ignore fake:key2 --ignore n \
        && ok "$mode: mirror equals the $ver fixture" || fail "$mode: mirror content"
    eval "stop_pid \$rs_${name}_PID TERM"
done

# --- keep-alives before +FULLRESYNC and before $<len> ---------------------
start_fake ka psync "$fx/7.2.6/all-types.rdb" "$TMP/p1a.resp"
db="$TMP/ka.db"
start_redsink rs_ka "$ka_PORT" "$db"
if poll_until 30 offset_is "$db" "$off1" && value_is "$db" 0 fake:key hello; then
    ok "keep-alives before +FULLRESYNC and \$len: skipped, offset $off1"
else
    fail "keep-alives: offset $(q "$db" "SELECT offset FROM redsink_status"), want $off1"
fi
$COMPARE compare-expected "$fx/7.2.6/expected.json" "$db" --ignore fake:key \
    && ok "keep-alives: mirror equals the 7.2.6 fixture" || fail "keep-alives: mirror content"
stop_pid "$rs_ka_PID" TERM

# --- a real master with rdbchecksum no ------------------------------------
for diskless in no yes; do
    start_redis "nc_$diskless" --rdbchecksum no --repl-diskless-sync "$diskless" --repl-diskless-sync-delay 0
    eval "port=\$nc_${diskless}_PORT"
    $COMPARE load 127.0.0.1 "$port" all-types
    db="$TMP/nc-$diskless.db"
    start_redsink "rs_nc_$diskless" "$port" "$db"
    wait_mirror "$port" || fail "rdbchecksum no, diskless $diskless: WAIT"
    compare_mirror "$port" "$db" "rdbchecksum no, diskless $diskless: mirror equals the master"
    if [ $diskless = no ]; then
        [ "$(tail -c 8 "$TMP/nc_no/dump.rdb" | od -An -tx1 | tr -d ' \n')" = 0000000000000000 ] \
            && ok "rdbchecksum no: the RDB the master sent ends in a zero checksum" \
            || fail "rdbchecksum no: the master's RDB has a checksum"
    fi
    eval "stop_pid \$rs_nc_${diskless}_PID TERM; stop_pid \$nc_${diskless}_PID KILL"
done
finish
