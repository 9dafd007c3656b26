#!/usr/bin/env bash
# Consumer-group state, which the SQL views do not show: random group
# traffic (XGROUP, XREADGROUP with and without NOACK, XACK, XCLAIM,
# XAUTOCLAIM, XDEL, XTRIM, XSETID, MULTI blocks) on a real master, part
# before the full sync (RDB path) and part after (command path); then
# XINFO STREAM FULL on the master against the mirror's internal tables.
# Replay a failure with: REDSINK_SEED=<seed> make check TESTS=tests/integration/stream_groups.sh
. "${top_srcdir:-$(dirname "$0")/../..}/tests/lib/lib.sh"

STATE="python3 $top_srcdir/tests/lib/stream_state.py"
# Redis 7.2+ and Valkey create XCLAIM/XAUTOCLAIM's consumer without
# propagating it when nothing is claimed (a real replica lacks it too)
[ "$SERVER_NAME" = valkey ] || [ "$SERVER_VNUM" -ge 70200 ] && export REDSINK_UNPROPAGATED_CONSUMERS=1
seed=${REDSINK_SEED:-$(( $(date +%s) % 100000 ))}
N=${REDSINK_GROUPS_N:-1500}
echo "# seed $seed"

start_redis m --repl-diskless-sync no
$STATE workload 127.0.0.1 "$m_PORT" "$seed" 300 || fail "workload before the sync (seed $seed)"
db="$TMP/mirror.db"
start_redsink rs "$m_PORT" "$db"
wait_mirror "$m_PORT" || { fail "initial sync"; finish; }
if $STATE compare 127.0.0.1 "$m_PORT" "$db" >"$TMP/sync.diff" 2>&1; then
    ok "after the full sync: stream metadata and groups equal the master's ($(tail -1 "$TMP/sync.diff" | tr -d '#'))"
else
    fail "after the full sync: stream state differs (seed $seed)"; head -30 "$TMP/sync.diff"
fi

for round in 1 2 3; do
    $STATE workload 127.0.0.1 "$m_PORT" "$((seed + round))" "$N" || fail "workload round $round"
    wait_mirror "$m_PORT" || { fail "round $round: WAIT"; continue; }
    if $STATE compare 127.0.0.1 "$m_PORT" "$db" >"$TMP/r$round.diff" 2>&1; then
        ok "round $round: stream metadata and groups equal the master's ($(tail -1 "$TMP/r$round.diff" | tr -d '#'))"
    else
        fail "round $round: stream state differs (seed $seed)"; head -30 "$TMP/r$round.diff"
    fi
    compare_mirror "$m_PORT" "$db" "round $round: stream entries equal the master's"
done
if grep -q "skipping '" "$TMP/rs.log"; then
    echo "# commands redsink skipped: $(grep -c "skipping '" "$TMP/rs.log")"
fi
if grep -q "unknown command '" "$TMP/rs.log"; then
    fail "commands redsink did not apply: $(grep -o "unknown command '[^']*'" "$TMP/rs.log" | cut -d"'" -f2 | sort -u | tr '\n' ' ')"
fi
[ "$FAILS" -eq 0 ] || echo "# replay: REDSINK_SEED=$seed make check TESTS=tests/integration/stream_groups.sh"
finish
