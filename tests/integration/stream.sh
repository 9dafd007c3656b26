#!/usr/bin/env bash
# After the full sync, a stream of writes (the command subset of the first
# release, with its edge cases) is applied with Redis' semantics: the
# views must equal the master after WAIT, with diskless sync off and on.
. "${top_srcdir:-$(dirname "$0")/../..}/tests/lib/lib.sh"

for diskless in no yes; do
    name="m_$diskless"
    start_redis "$name" --repl-diskless-sync "$diskless" --repl-diskless-sync-delay 0
    eval "port=\$${name}_PORT"
    rcli "$port" set before sync >/dev/null
    db="$TMP/mirror-$diskless.db"
    start_redsink "rs_$diskless" "$port" "$db"
    wait_mirror "$port" || { fail "diskless=$diskless: initial sync"; continue; }
    $COMPARE load 127.0.0.1 "$port" stream-ops 7 || fail "diskless=$diskless: stream-ops load"
    wait_mirror "$port" && ok "diskless=$diskless: WAIT after the stream" || fail "diskless=$diskless: WAIT"
    compare_mirror "$port" "$db" "diskless=$diskless: mirror equals the master after the command stream"
    $COMPARE load 127.0.0.1 "$port" flushall 1 && wait_mirror "$port"
    compare_mirror "$port" "$db" "diskless=$diskless: FLUSHALL"
    # offsets: what redsink acknowledged is exactly the master's offset
    wait_mirror "$port"
    moff=$(info_field "$port" replication master_repl_offset)
    if poll_until 5 sh -c "rcli() { redis-cli -p $port \"\$@\"; }; rcli info replication | grep -q 'offset=$moff,'"; then
        ok "diskless=$diskless: acknowledged offset equals master_repl_offset ($moff)"
    else
        fail "diskless=$diskless: ack offset $(rcli "$port" info replication | grep slave0) vs master $moff"
    fi
    soff=$(sqlite3 "$db" "SELECT offset FROM redsink_status")
    [ "$soff" = "$moff" ] && ok "diskless=$diskless: checkpoint offset $soff" || fail "diskless=$diskless: checkpoint offset $soff vs $moff"
done
finish
