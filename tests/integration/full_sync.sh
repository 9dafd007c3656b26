#!/usr/bin/env bash
# Full sync from a real master, disk-based ($<len>) and diskless ($EOF:):
# data of every type and encoding, binary keys and values, TTLs, several
# dbs; the master must list redsink as an online replica, WAIT 1 must
# return 1, and the views must equal the master key for key.
. "${top_srcdir:-$(dirname "$0")/../..}/tests/lib/lib.sh"

for diskless in no yes; do
    name="m_$diskless"
    start_redis "$name" --repl-diskless-sync "$diskless" --repl-diskless-sync-delay 0 \
        --enable-debug-command yes
    eval "port=\$${name}_PORT"
    $COMPARE load 127.0.0.1 "$port" all-types 1 || { fail "loading the dataset"; continue; }
    rcli "$port" debug populate 30000 pop: 20 >/dev/null
    db="$TMP/mirror-$diskless.db"
    start_redsink "rs_$diskless" "$port" "$db"
    eval "rpid=\$rs_${diskless}_PID"
    if poll_until 60 replica_online "$port"; then
        ok "diskless=$diskless: master lists redsink as $(rcli "$port" info replication | grep -o 'slave0:.*' | tr -d '\r')"
    else
        fail "diskless=$diskless: redsink never became an online replica"
    fi
    if wait_mirror "$port"; then ok "diskless=$diskless: WAIT 1 returned 1"; else fail "diskless=$diskless: WAIT 1"; fi
    compare_mirror "$port" "$db" "diskless=$diskless: mirror equals the master after the full sync"
    if [ "$diskless" = yes ]; then
        grep -q 'receiving the snapshot (diskless)' "$TMP/rs_$diskless.log" &&
            ok "diskless=yes: payload came as \$EOF:" || fail "diskless=yes: payload was not diskless"
    else
        grep -q 'receiving the snapshot (\$[0-9]' "$TMP/rs_$diskless.log" &&
            ok "diskless=no: payload came as \$<len>" || fail "diskless=no: payload was not length-framed"
    fi
    # The checkpoint is the master's replid and an offset WAIT has confirmed.
    replid=$(info_field "$port" replication master_replid)
    st=$(sqlite3 "$db" "SELECT master_replid, state FROM redsink_status")
    [ "$st" = "$replid|streaming" ] && ok "diskless=$diskless: redsink_status: $st" ||
        fail "diskless=$diskless: redsink_status '$st', master replid $replid"
    stop_pid "$rpid" TERM && ok "diskless=$diskless: SIGTERM exits 0" || fail "diskless=$diskless: SIGTERM exit status"
done
finish
