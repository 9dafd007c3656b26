#!/usr/bin/env bash
# The link is cut in the middle of a full sync from a real master (a
# multi-megabyte RDB made with DEBUG POPULATE): the previous mirror stays
# as it was until the new one is complete, then redsink reconnects, does
# a new full sync and the mirror equals the new master.
. "${top_srcdir:-$(dirname "$0")/../..}/tests/lib/lib.sh"

start_proxy() {  # start_proxy NAME TARGET_PORT: sets ${NAME}_PORT, ${NAME}_CTL
    local ctl="$TMP/$1.ctl"
    mkdir -p "$ctl"
    python3 "$top_srcdir/tests/lib/proxy.py" "$ctl" "$2" &
    PIDS="$PIDS $!"
    poll_until 10 test -s "$ctl/port" || { echo "proxy did not start"; exit 99; }
    eval "${1}_PORT=$(cat "$ctl/port"); ${1}_CTL=$ctl"
}

for diskless in yes no; do
    a=a_$diskless b=b_$diskless
    # the previous mirror, from another master
    start_redis "$a" --repl-diskless-sync-delay 0
    eval "ap=\$${a}_PORT"
    db="$TMP/mirror-$diskless.db"
    $COMPARE load 127.0.0.1 "$ap" all-types 3
    start_redsink "rs0_$diskless" "$ap" "$db"
    wait_mirror "$ap" || fail "diskless=$diskless: first mirror"
    eval "stop_pid \$rs0_${diskless}_PID TERM"

    start_redis "$b" --repl-diskless-sync "$diskless" --repl-diskless-sync-delay 0 \
        --enable-debug-command yes
    eval "bp=\$${b}_PORT"
    rcli "$bp" debug populate 50000 big 20 >/dev/null
    start_proxy "p_$diskless" "$bp"
    eval "pp=\$p_${diskless}_PORT ctl=\$p_${diskless}_CTL"
    echo "200000 stall" > "$ctl/cut_after"
    start_redsink "rs_$diskless" "$pp" "$db"
    if poll_until 30 grep -q 'connection closed by the master during the snapshot, at byte [0-9]*.*; reconnecting (attempt 1)' "$TMP/rs_$diskless.log"; then
        ok "diskless=$diskless: cut mid-RDB: $(grep -m1 'connection closed' "$TMP/rs_$diskless.log" | cut -d' ' -f3-)"
    else
        fail "diskless=$diskless: cut mid-RDB not reported"
    fi
    grep -q 'receiving the snapshot' "$TMP/rs_$diskless.log" && ! grep -q 'full sync done' "$TMP/rs_$diskless.log" \
        && ok "diskless=$diskless: the cut came during the snapshot" || fail "diskless=$diskless: cut not during the snapshot"
    compare_mirror "$ap" "$db" "diskless=$diskless: previous mirror untouched after the cut"
    rm -f "$ctl/stall"
    poll_until 60 grep -q 'full sync done' "$TMP/rs_$diskless.log" || fail "diskless=$diskless: no second full sync"
    grep -q 'link to the master is back after 1 attempt (full)' "$TMP/rs_$diskless.log" \
        && ok "diskless=$diskless: link back with a full sync" || fail "diskless=$diskless: no 'link back' line"
    wait_mirror "$bp" || fail "diskless=$diskless: WAIT"
    compare_mirror "$bp" "$db" "diskless=$diskless: mirror equals the new master"
    full=$(info_field "$bp" stats sync_full)
    [ "$full" = 2 ] && ok "diskless=$diskless: sync_full=$full" || fail "diskless=$diskless: sync_full=$full"
    eval "stop_pid \$rs_${diskless}_PID TERM"
done
finish
