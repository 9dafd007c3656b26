#!/usr/bin/env bash
# A mirror pointed at a different master (another replication history):
# PSYNC with the old replid gets +FULLRESYNC, the mirror is reloaded, and
# nothing of the first master's data survives (never a mixed mirror).
. "${top_srcdir:-$(dirname "$0")/../..}/tests/lib/lib.sh"

start_redis a
start_redis b
rcli "$a_PORT" mset only:a 1 shared from-a >/dev/null
rcli "$a_PORT" -n 3 rpush list:a x y >/dev/null
rcli "$b_PORT" mset only:b 2 shared from-b >/dev/null
db="$TMP/mirror.db"

start_redsink rs_a "$a_PORT" "$db"
wait_mirror "$a_PORT" && compare_mirror "$a_PORT" "$db" "mirror of master A" || fail "sync with A"
stop_pid "$rs_a_PID" TERM
replid_a=$(sqlite3 "$db" "SELECT master_replid FROM redsink_status")

start_redsink rs_b "$b_PORT" "$db"
wait_mirror "$b_PORT" || fail "sync with B: WAIT"
grep -q "sent PSYNC $replid_a " "$TMP/rs_b.log" && grep -q 'full resync from the master' "$TMP/rs_b.log" &&
    ok "B answered the old replid's PSYNC with a full resync" || fail "no full resync from B"
compare_mirror "$b_PORT" "$db" "after switching: mirror equals master B, nothing of A left"
replid_b=$(info_field "$b_PORT" replication master_replid)
[ "$(sqlite3 "$db" "SELECT master_replid FROM redsink_status")" = "$replid_b" ] &&
    ok "checkpoint names B's replid" || fail "checkpoint replid is not B's"
[ "$(info_field "$a_PORT" stats sync_full)" = 1 ] && ok "A saw one full sync only" || fail "A sync_full"
finish
