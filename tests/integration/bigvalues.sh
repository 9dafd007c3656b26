#!/usr/bin/env bash
# Values of every size (issue 11), seeded: every internal threshold -1/0/+1
# (tests/lib/bigvalues.py sizes) as string value, key name, hash field and
# value, list element, set member, zset member, stream field value and name,
# compressible and not, plus a 16 MiB string of each form and keys of
# every type with heavy-tailed sizes; compared byte for byte, TEXT iff
# UTF-8, with the master after a full sync with $<len> framing, one with
# $EOF: framing (diskless), `redsink import` of the master's dump.rdb, the
# same kind of data written while streaming (SET/APPEND/SETRANGE, HSET,
# RPUSH, SADD, ZADD, XADD), RESTORE of every key, and commands on big hash
# fields and set members (HINCRBY, HDEL, SMOVE, SREM, S*STORE, COPY, RENAME),
# big sorted-set members (ZADD, ZINCRBY, ZREM, ZRANGESTORE, ZUNIONSTORE,
# ZREMRANGEBYRANK/BYSCORE, ZPOPMIN/MAX, COPY, RENAME, RESTORE; two of equal
# score and equal first 1 MiB) and on big key names (SET, APPEND, EXPIRE, RENAME, COPY, DEL, RESTORE) and
# big stream field names (XADD, XDEL, COPY, RESTORE);
# no big element value (gN_big) is left that no element row points at, and
# gN_bigm holds one row per placeholder of a big field, member or stream
# field name, gN_bign
# one per big key name.
# Replay: REDSINK_SEED=<seed> make check TESTS=tests/integration/bigvalues.sh
# REDSINK_BIG_SCALE=N scales the random part (default 1).
. "${top_srcdir:-$(dirname "$0")/../..}/tests/lib/lib.sh"

seed=${REDSINK_SEED:-$(( $(date +%s) % 100000 ))}
scale=${REDSINK_BIG_SCALE:-1}
BIG="python3 $top_srcdir/tests/lib/bigvalues.py"
echo "# seed $seed"
# no output buffer limit for the replica: a burst of big values may sit
# there while redsink commits
start_redis m --repl-diskless-sync no --repl-diskless-sync-delay 0 --enable-debug-command yes \
    --client-output-buffer-limit "replica 0 0 0"
# list elements of 100 KB and more are PLAIN quicklist nodes, smaller ones
# sit in listpack nodes
rcli "$m_PORT" debug quicklist-packed-threshold 100000 >/dev/null ||
    echo "# DEBUG QUICKLIST-PACKED-THRESHOLD refused: no PLAIN nodes"
bytes=$($BIG write 127.0.0.1 "$m_PORT" "$seed" "$scale") || { fail "writing the dataset (seed $seed): $bytes"; finish; }
echo "# $(rcli "$m_PORT" dbsize) keys, $bytes bytes written"

# synced LABEL DBFILE [N]: WAIT N (default 1) replicas, then compare. With
# two redsinks attached, WAIT 1 is met by the first alone, and a diskless
# master counts the second online (it ACKs offset 0) while it still loads:
# WAIT 2 waits for both. The WAIT goes on while the acknowledged offset grows
# (compare.py wait MS MAX_MS), up to 20 min, so a slow build (ASan) passes
# and a stuck redsink still fails after one slice; a slice must outlast the
# longest single command: under valgrind (REDSINK_VALGRIND) one 16 MiB
# RESTORE alone takes minutes.
wait_ms=300000
[ -n "${REDSINK_VALGRIND:-}" ] && wait_ms=1200000
synced() {
    if poll_until 120 replica_online "$m_PORT" && $COMPARE wait 127.0.0.1 "$m_PORT" "${3:-1}" "$wait_ms" 1200000 &&
        $COMPARE compare-redis 127.0.0.1 "$m_PORT" "$2" >"$TMP/cmp.out" 2>&1; then
        ok "$1 (seed $seed, ${SECONDS}s)"
    else
        fail "$1 (seed $seed)"; head -30 "$TMP/cmp.out"
    fi
}

# full sync, $<len> framing
start_redsink rs1 "$m_PORT" "$TMP/m1.db"
synced "full sync with \$<len> framing: the mirror equals the master" "$TMP/m1.db"
grep -q 'receiving the snapshot (\$[0-9]' "$TMP/rs1.log" && ok "payload came as \$<len>" ||
    fail "payload was not length-framed"

# full sync, $EOF: framing: a second replica while the first stays online
rcli "$m_PORT" config set repl-diskless-sync yes >/dev/null
start_redsink rs2 "$m_PORT" "$TMP/m2.db"
two_online() { [ "$(rcli "$m_PORT" info replication | grep -c 'state=online')" -eq 2 ]; }
poll_until 120 two_online ||
    fail "the second redsink never became an online replica"
synced "full sync with \$EOF: framing: the mirror equals the master" "$TMP/m2.db" 2
grep -q 'receiving the snapshot (diskless)' "$TMP/rs2.log" && ok "payload came as \$EOF:" ||
    fail "payload was not diskless"
stop_pid "$rs2_PID" TERM

# redsink import of the master's dump.rdb
rcli "$m_PORT" save >/dev/null
if out=$("$REDSINK" import "$TMP/m/dump.rdb" --sqlite "$TMP/imp.db" 2>&1) &&
    $COMPARE compare-redis 127.0.0.1 "$m_PORT" "$TMP/imp.db" >"$TMP/cmp.out" 2>&1; then
    ok "redsink import of dump.rdb: the mirror equals the master (seed $seed)"
else
    fail "redsink import of dump.rdb (seed $seed): $out"; head -30 "$TMP/cmp.out"
fi

# the command stream: the same kind of data written while rs1 streams
rcli "$m_PORT" flushall >/dev/null
bytes=$($BIG write 127.0.0.1 "$m_PORT" "$((seed + 1))" "$scale") || fail "streaming writes: $bytes"
synced "streaming writes of $bytes bytes: the mirror equals the master" "$TMP/m1.db"

# RESTORE of every key (DUMP payloads of every encoding and size)
n=$($BIG restore 127.0.0.1 "$m_PORT") || fail "RESTORE: $n"
synced "RESTORE ... REPLACE of $n keys: the mirror equals the master" "$TMP/m1.db"

# commands on big hash fields and set members (a placeholder in the row,
# the bytes in gN_bigm): each must find the row the bytes name
n=$($BIG members 127.0.0.1 "$m_PORT" 2>&1) || fail "commands on big members: $n"
synced "HSET/HINCRBY/HDEL/SMOVE/SREM/S*STORE/COPY/RENAME/RESTORE on big fields and members, ZADD/ZINCRBY/ZREM/ZRANGESTORE/ZUNIONSTORE/ZREMRANGEBY*/ZPOP*/COPY/RENAME/RESTORE on big zset members, SET/APPEND/EXPIRE/RENAME/COPY/DEL on big key names, XADD/XDEL/COPY on big stream field names ($n keys): the mirror equals the master" "$TMP/m1.db"

# big element values (1 MiB and more) live in gN_big: every mirror has
# some, and none that no hash, list, stream or array row points at (the
# FLUSHALL, the overwrites and RESTORE ... REPLACE above deleted many)
big_rows() {
    python3 - "$1" <<'PY'
import sqlite3, sys
con = sqlite3.connect("file:%s?mode=ro" % sys.argv[1], uri=True)
g = con.execute("SELECT generation FROM redsink_status").fetchone()[0]
refs = " UNION ALL ".join("SELECT big FROM g%d_%s WHERE big IS NOT NULL" % (g, t)
                          for t in ("hash", "list", "stream", "array"))
print(*con.execute("SELECT count(*), (SELECT count(*) FROM g%d_big WHERE id NOT IN (%s))"
                   " FROM g%d_big" % (g, refs, g)).fetchone())
# big fields and members: a gN_bigm row per placeholder, no more, no less
stray = " + ".join(
    "(SELECT count(*) FROM g{g}_{t} AS e WHERE {c} >= CAST(X'FF' AS TEXT) AND {c} < X''"
    " AND NOT EXISTS (SELECT 1 FROM g{g}_bigm AS m WHERE m.kid = e.kid AND m.ph = e.{c}))"
    " + (SELECT count(*) FROM g{g}_bigm AS m WHERE NOT EXISTS (SELECT 1 FROM g{g}_{t} AS e"
    " WHERE e.kid = m.kid AND e.{c} = m.ph) AND m.kid IN (SELECT kid FROM g{g}_{t}))"
    .format(g=g, t=t, c=c) for t, c in (("hash", "field"), ("set", "member"),
                                         ("zset", "member"), ("stream", "field")))
orphans = "SELECT count(*) FROM g%d_bigm WHERE kid NOT IN (SELECT kid FROM g%d_hash UNION" \
          " SELECT kid FROM g%d_set UNION SELECT kid FROM g%d_zset UNION SELECT kid FROM" \
          " g%d_stream)" % (g, g, g, g, g)
print(*con.execute("SELECT (SELECT count(*) FROM g%d_bigm), %s + (%s)" % (g, stray, orphans))
      .fetchone())
# big key names: a gN_bign row per placeholder name, no more, no less
ph = "k.key >= CAST(X'FF' AS TEXT) AND k.key < X''"
print(*con.execute("SELECT (SELECT count(*) FROM g{g}_bign), (SELECT count(*) FROM g{g}_keys AS k"
                   " WHERE {ph} AND k.id NOT IN (SELECT kid FROM g{g}_bign)) + (SELECT count(*)"
                   " FROM g{g}_bign WHERE kid NOT IN (SELECT id FROM g{g}_keys AS k WHERE {ph}))"
                   .format(g=g, ph=ph)).fetchone())
PY
}
for db in m1 m2 imp; do
    { read -r nbig orphans; read -r nbigm strays; read -r nbign nstray; } <<<"$(big_rows "$TMP/$db.db")"
    [ "${nbig:-0}" -gt 0 ] && [ "$orphans" = 0 ] &&
        ok "$db.db: $nbig big element values in gN_big, none orphaned" ||
        fail "$db.db: $nbig big element values, $orphans orphaned"
    [ "${nbigm:-0}" -gt 0 ] && [ "$strays" = 0 ] &&
        ok "$db.db: $nbigm big fields and members in gN_bigm, each with its row" ||
        fail "$db.db: $nbigm big fields and members, $strays without their row or bytes"
    [ "${nbign:-0}" -gt 0 ] && [ "$nstray" = 0 ] &&
        ok "$db.db: $nbign big key names in gN_bign, each with its row" ||
        fail "$db.db: $nbign big key names, $nstray without their row or bytes"
done

# no full sync happened after the first one
[ "$(info_field "$m_PORT" stats sync_full)" = 2 ] && ok "two full syncs in all" ||
    fail "sync_full is $(info_field "$m_PORT" stats sync_full), expected 2"
hwm=$(sed -n 's/^VmHWM:[[:space:]]*//p' "/proc/$rs1_PID/status" 2>/dev/null)
echo "# redsink's peak RSS: $hwm (largest item 16 MiB)"
[ "$FAILS" -eq 0 ] || echo "# replay: REDSINK_SEED=$seed make check TESTS=tests/integration/bigvalues.sh"
finish
