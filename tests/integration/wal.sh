#!/usr/bin/env bash
# The WAL stays bounded while the background checkpointer races a busy
# writer (sinks/sqlite/sqlite_ckpt.c): a write burst that pushes far
# more than the bound through the WAL leaves a -wal file no larger than
# the writer's hard limit (16 MB of pages) plus one batch (batches are
# kept small here: 500 commands, 5,000 while catching up), and the mirror
# still equals the master.
. "${top_srcdir:-$(dirname "$0")/../..}/tests/lib/lib.sh"
command -v redis-benchmark >/dev/null || { echo "SKIP: redis-benchmark missing"; exit 77; }

start_redis m --repl-diskless-sync yes --repl-diskless-sync-delay 0
db="$TMP/mirror.db"
printf 'sqlite: { batch_commands = 500; batch_ms = 5; catchup_batch_commands = 5000; };\n' > "$TMP/rs.conf"
start_redsink rs "$m_PORT" "$db" -c "$TMP/rs.conf"
wait_mirror "$m_PORT" || fail "initial sync"

# sample the -wal size while the burst runs (until the sampler is stopped)
( max=0; while :; do s=$(stat -c %s "$db-wal" 2>/dev/null || echo 0)
      [ "$s" -gt "$max" ] && { max=$s; echo "$max" > "$TMP/walmax"; }; done ) & sampler=$!
redis-benchmark -p "$m_PORT" -q -P 16 -n 150000 -r 150000 -d 200 -t set,hset >/dev/null 2>&1
wait_mirror "$m_PORT" && ok "the burst is applied" || fail "WAIT after the burst"
stop_pid "$sampler"
walmax=$(cat "$TMP/walmax" 2>/dev/null || echo 0)
# 4096 pages of 4096 bytes plus 24-byte frame headers, and one more batch
# (5,000 commands, each dirtying at most 4 pages: key row, key index,
# hash row, and a parent page now and then); without checkpoints the WAL
# of this burst grows to several hundred MB
limit=$((4096 * 4120 + 5000 * 4 * 4120))
written=$(sqlite3 "$db" "SELECT count(*) FROM redis_keys")
[ "$walmax" -gt 0 ] && [ "$walmax" -le "$limit" ] &&
    ok "largest -wal file $walmax bytes (bound $limit; $written keys written)" ||
    fail "largest -wal file $walmax bytes, bound $limit"
compare_mirror "$m_PORT" "$db" "mirror equals the master after the burst"
finish
