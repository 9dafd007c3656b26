#!/usr/bin/env bash
# Faults and old masters a real server will not produce on demand, through
# a scripted fake master speaking the real protocol bytes.
. "${top_srcdir:-$(dirname "$0")/../..}/tests/lib/lib.sh"

fx="$top_srcdir/tests/fixtures/rdb"
# the stream after the snapshot: SELECT 0, SET fake:key hello
printf '*2\r\n$6\r\nSELECT\r\n$1\r\n0\r\n*3\r\n$3\r\nSET\r\n$8\r\nfake:key\r\n$5\r\nhello\r\n' > "$TMP/stream.resp"

has_fake_key() { [ "$(sqlite3 "$1" "SELECT value FROM redis_strings WHERE key='fake:key'" 2>/dev/null)" = hello ]; }

# 1. A master that rejects PSYNC (Redis < 2.8): redsink falls back to SYNC.
start_fake old sync-only "$fx/2.6.17/all-types.rdb" "$TMP/stream.resp"
db="$TMP/old.db"
start_redsink rs_old "$old_PORT" "$db"
if poll_until 30 has_fake_key "$db"; then ok "SYNC fallback: snapshot loaded and stream applied"; else fail "SYNC fallback"; fi
grep -q '^SYNC$' "$TMP/old.port.log" && ok "SYNC sent after PSYNC was rejected" || fail "no SYNC sent"
$COMPARE compare-expected "$fx/2.6.17/expected.json" "$db" --ignore fake:key \
    && ok "SYNC fallback: mirror equals the 2.6.17 fixture" || fail "SYNC fallback: mirror content"

# 2. Diskless framing with the end mark split across two writes.
start_fake dl diskless "$fx/7.2.6/all-types.rdb" "$TMP/stream.resp"
db="$TMP/dl.db"
start_redsink rs_dl "$dl_PORT" "$db"
if poll_until 30 has_fake_key "$db"; then ok "diskless: stream flowed after redsink's ACK"; else fail "diskless: no stream"; fi
$COMPARE compare-expected "$fx/7.2.6/expected.json" "$db" --ignore fake:key \
    && ok "diskless: mirror equals the 7.2.6 fixture" || fail "diskless: mirror content"
grep -q 'REPLCONF ACK 0' "$TMP/dl.port.log" && ok "diskless: first ACK carried offset 0 (nothing committed yet)" || fail "diskless: no ACK 0"
off=$(sqlite3 "$db" "SELECT offset FROM redsink_status")
[ "$off" = $((100 + $(stat -c %s "$TMP/stream.resp"))) ] && ok "diskless: offset $off counts the stream bytes" || fail "diskless: offset $off"

# 3. Bad CRC: one-line error naming the offset, previous mirror untouched.
db="$TMP/crc.db"
"$REDSINK" import "$fx/7.4.1/all-types.rdb" --sqlite "$db" >/dev/null
start_fake crc badcrc "$fx/7.2.6/all-types.rdb" "$TMP/stream.resp"
start_redsink rs_crc "$crc_PORT" "$db"
if poll_until 30 grep -q 'CRC.*offset\|offset.*CRC' "$TMP/rs_crc.log"; then
    ok "bad CRC: $(grep -m1 CRC "$TMP/rs_crc.log" | cut -c1-160)"
else
    fail "bad CRC: no error naming the offset"
fi
stop_pid "$rs_crc_PID" TERM
$COMPARE compare-expected "$fx/7.4.1/expected.json" "$db" && ok "bad CRC: previous mirror untouched" || fail "bad CRC: mirror changed"

# 4. Link cut in the middle of the RDB: the half payload leaves no trace.
start_fake tr truncate "$fx/7.2.6/all-types.rdb" "$TMP/stream.resp"
start_redsink rs_tr "$tr_PORT" "$db"
if poll_until 30 grep -q 'connection closed by the master' "$TMP/rs_tr.log"; then ok "link cut mid-RDB detected"; else fail "link cut mid-RDB"; fi
stop_pid "$rs_tr_PID" TERM
$COMPARE compare-expected "$fx/7.4.1/expected.json" "$db" && ok "link cut mid-RDB: previous mirror untouched" || fail "link cut mid-RDB: mirror changed"
finish
