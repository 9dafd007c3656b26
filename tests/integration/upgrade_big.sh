#!/usr/bin/env bash
# A mirror made by an older redsink holds a set member, a sorted-set member
# and a hash field of 1 MiB or more whole in their rows (no placeholder, no
# gN_bigm row, no 'ord' column): made here from a current mirror by hand.
# Restarted on it, redsink logs that the checkpoint is cleared and takes a
# full sync (the master's sync_full grows) instead of PSYNC; then SREM, ZREM
# and HDEL of those members reach the mirror, which equals the master. With
# PSYNC they would bind the placeholder, miss the whole rows, and leave the
# members in the mirror.
. "${top_srcdir:-$(dirname "$0")/../..}/tests/lib/lib.sh"

start_redis m --repl-diskless-sync yes --repl-diskless-sync-delay 0
db="$TMP/mirror.db"
start_redsink rs "$m_PORT" "$db"
wait_mirror "$m_PORT" || fail "initial sync"
# three big binary members (1 MiB + 3 bytes, seeded) beside small ones
python3 - "$top_srcdir/tests/lib" "$m_PORT" <<'EOF' || fail "write the big members"
import random, sys
sys.path.insert(0, sys.argv[1])
from compare import Redis
r = Redis("127.0.0.1", sys.argv[2])
rng = random.Random(7)
big = [bytes(rng.getrandbits(8) for _ in range((1 << 20) + 3)) for _ in range(3)]
r("SADD", "s", "a", big[0], "z")
r("ZADD", "z", 1, "a", 1, big[1], 2, "b")
r("HSET", "h", big[2], "v", "f", "w")
EOF
wait_mirror "$m_PORT" || fail "WAIT after the big members"
compare_mirror "$m_PORT" "$db" "mirror equals the master (big members stored once)"
stop_pid "$rs_PID" TERM || fail "SIGTERM"

# the older form: each big member back in its row, gN_bigm emptied, no ord
python3 - "$db" <<'EOF' || fail "make the mirror's older form"
import sqlite3, sys
c = sqlite3.connect(sys.argv[1], isolation_level=None)
g = c.execute("SELECT generation FROM redsink_status").fetchone()[0]
n = c.execute(f"SELECT count(*) FROM g{g}_bigm").fetchone()[0]
assert n == 3, "gN_bigm rows: %d, want 3" % n
c.executescript(f"""
BEGIN;
DROP VIEW redis_zsets; DROP TRIGGER IF EXISTS g{g}_zset_bigmdel;
DROP INDEX IF EXISTS g{g}_zset_order;
UPDATE g{g}_set SET member = (SELECT v FROM g{g}_bigm AS m WHERE m.kid = g{g}_set.kid
  AND m.ph = g{g}_set.member) WHERE member IN (SELECT ph FROM g{g}_bigm);
UPDATE g{g}_zset SET member = (SELECT v FROM g{g}_bigm AS m WHERE m.kid = g{g}_zset.kid
  AND m.ph = g{g}_zset.member), ord = NULL WHERE member IN (SELECT ph FROM g{g}_bigm);
UPDATE g{g}_hash SET field = (SELECT v FROM g{g}_bigm AS m WHERE m.kid = g{g}_hash.kid
  AND m.ph = g{g}_hash.field) WHERE field IN (SELECT ph FROM g{g}_bigm);
DELETE FROM g{g}_bigm;
ALTER TABLE g{g}_zset DROP COLUMN ord;
COMMIT;
""")
n = sum(c.execute(f"SELECT count(*) FROM g{g}_{t} WHERE length(CAST({col} AS BLOB)) > 1048576")
        .fetchone()[0] for t, col in (("set", "member"), ("zset", "member"), ("hash", "field")))
assert n == 3, "whole big rows: %d, want 3" % n
EOF
full0=$(info_field "$m_PORT" stats sync_full)
start_redsink rs2 "$m_PORT" "$db"
wait_mirror "$m_PORT" || fail "WAIT after the restart"
grep -q "holds 3 key names, fields or members of 1 MiB or more stored whole by an older redsink" \
    "$TMP/rs2.log" && ok "the older form is logged with its 3 rows" || fail "no line on the older form"
full=$(info_field "$m_PORT" stats sync_full)
[ "$full" -eq $((full0 + 1)) ] && ok "a full sync instead of PSYNC (sync_full $full0 -> $full)" ||
    fail "sync_full $full0 -> $full"
compare_mirror "$m_PORT" "$db" "mirror equals the master after the full sync"
python3 - "$top_srcdir/tests/lib" "$m_PORT" <<'EOF' || fail "remove the big members"
import random, sys
sys.path.insert(0, sys.argv[1])
from compare import Redis
r = Redis("127.0.0.1", sys.argv[2])
rng = random.Random(7)
big = [bytes(rng.getrandbits(8) for _ in range((1 << 20) + 3)) for _ in range(3)]
assert r("SREM", "s", big[0]) == 1 and r("ZREM", "z", big[1]) == 1 and r("HDEL", "h", big[2]) == 1
EOF
wait_mirror "$m_PORT" || fail "WAIT after SREM/ZREM/HDEL"
compare_mirror "$m_PORT" "$db" "SREM, ZREM and HDEL of the big members reach the mirror"
stop_pid "$rs2_PID" TERM || fail "SIGTERM (2)"
finish
