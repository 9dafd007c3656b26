#!/usr/bin/env bash
# A master that refuses a full sync without an error reply (it closes the
# link after +FULLRESYNC, or in the middle of a diskless payload, as Valkey 9
# does when a key cannot be stored in the RDB version it chose for the
# replica) gets a log line that says so and where to look; redsink retries.
# Also: the handshake sends what a current replica sends, in its order
# (REPLCONF listening-port, capa eof capa psync2, version), before PSYNC.
. "${top_srcdir:-$(dirname "$0")/../..}/tests/lib/lib.sh"

rdb="$top_srcdir/tests/fixtures/rdb/7.2.6/all-types.rdb"
: > "$TMP/stream.resp"
count_at_least() { [ "$(grep -c "$1" "$2" 2>/dev/null)" -ge "$3" ]; }

for mode in refuse refuse-diskless; do
    name=$(echo "$mode" | tr - _)
    start_fake "$name" "$mode" "$rdb" "$TMP/stream.resp"
    eval "port=\$${name}_PORT"
    start_redsink "rs_$name" "$port" "$TMP/$name.db"
    if [ $mode = refuse ]; then
        what='connection closed by the master after +FULLRESYNC, before the snapshot'
    else
        what='connection closed by the master during the snapshot, at byte 9'
    fi
    # logged once per streak of the same failure (main.c retry_after), retried
    if poll_until 30 count_at_least "sent PSYNC" "$TMP/rs_$name.log" 3 &&
       grep -q "$what (the master gave up the full sync: its log says why" "$TMP/rs_$name.log"; then
        ok "$mode: logged and retried: $(grep -m1 "$what" "$TMP/rs_$name.log" | cut -d' ' -f3- | cut -c1-200)"
    else
        fail "$mode: no hint in the log"; tail -5 "$TMP/rs_$name.log"
    fi
    eval "stop_pid \$rs_${name}_PID TERM"
done

# The handshake, as the fake master received it (first connection).
got=$(sed -n '1,/^PSYNC/p' "$TMP/refuse.port.log" | tr '\n' '|')
want='PING|INFO server|REPLCONF listening-port 0|REPLCONF capa eof capa psync2|REPLCONF version 9.2.0|PSYNC ? -1|'
[ "$got" = "$want" ] && ok "handshake: $got" || fail "handshake: got '$got', want '$want'"

finish
