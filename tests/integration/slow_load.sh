#!/usr/bin/env bash
# While redsink loads a snapshot slowly, it keeps reading the master at
# network speed (spooling the stream), so the master's output buffer for
# it stays small instead of growing towards client-output-buffer-limit.
# The load is held by a test hook: it pauses while REDSINK_TEST_HOLD_LOAD
# names an existing file, and the test removes the file when done.
. "${top_srcdir:-$(dirname "$0")/../..}/tests/lib/lib.sh"

for diskless in no yes; do
    start_redis "m_$diskless" --repl-diskless-sync "$diskless" --repl-diskless-sync-delay 0 \
        --enable-debug-command yes
    eval "port=\$m_${diskless}_PORT"
    rcli "$port" debug populate 40000 key 100 >/dev/null     # ~4.6 MB of RDB
    db="$TMP/mirror-$diskless.db"
    touch "$TMP/hold-$diskless"
    REDSINK_TEST_HOLD_LOAD="$TMP/hold-$diskless" start_redsink "rs_$diskless" "$port" "$db"
    # the master must be streaming to redsink while redsink still loads
    poll_until 30 replica_online "$port" || { fail "diskless=$diskless: never online"; continue; }
    syncing() { [ "$(sqlite3 "$db" 'SELECT state FROM redsink_status' 2>/dev/null)" = syncing ]; }
    # ~6 MB of writes during the load; the master queues them for redsink
    python3 - "$port" <<'PY' || fail "diskless=$diskless: writes during the load"
import sys
sys.path.insert(0, __import__("os").environ["top_srcdir"] + "/tests/lib")
from compare import Redis
r = Redis("127.0.0.1", sys.argv[1])
for b in range(60):
    r.pipeline([("SET", "during:%d:%d" % (b, i), "x" * 1000) for i in range(100)])
PY
    omem() { rcli "$port" client list type replica | sed -n 's/.* omem=\([0-9]*\).*/\1/p' | head -1; }
    drained() { [ "$(omem)" -lt 100000 ]; }
    # the master's buffer for redsink drains (redsink reads it) ...
    if poll_until 10 drained; then d=$(omem); else d=$(omem); fail "diskless=$diskless: omem stayed at $d"; fi
    # ... while redsink is still loading the snapshot
    if syncing; then
        ok "diskless=$diskless: master's output buffer for redsink drained to omem=$d during the load"
    else
        fail "diskless=$diskless: redsink is not loading any more (omem=$d)"
    fi
    rm -f "$TMP/hold-$diskless"
    wait_mirror "$port" && compare_mirror "$port" "$db" "diskless=$diskless: mirror equals the master after the slow load"
done
finish
