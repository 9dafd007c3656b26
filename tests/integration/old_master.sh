#!/usr/bin/env bash
# What old masters (2.6 - 6.2) send verbatim, through the scripted fake
# master: relative TTLs converted with the local clock at receipt,
# BRPOPLPUSH from 3.x, SELECT before MULTI, uppercase PING; and a verbatim
# EVAL (script replication, <= 4.0) stops redsink with a clear error.
. "${top_srcdir:-$(dirname "$0")/../..}/tests/lib/lib.sh"

fx="$top_srcdir/tests/fixtures/rdb"
{
    resp SELECT 0
    resp SET old:ex v EX 1000
    resp SET old:px v PX 2000000
    resp SETEX old:setex 1000 v
    resp SET old:plain v
    resp EXPIRE old:plain 1000
    resp PSETEX old:psetex 3000000 v
    resp RPUSH src a b
    resp BRPOPLPUSH src dst 0
    resp PING
    resp SELECT 2
    resp MULTI
    resp SET m1 1
    resp INCR m1
    resp EXEC
    resp SELECT 0
    resp SET done yes
} > "$TMP/stream.resp"
{
    resp SELECT 0
    resp SET before-eval 1
    resp EVAL "redis.call('set', KEYS[1], 'x')" 1 ev
    resp SET after-eval 1
} > "$TMP/eval.resp"

q() { sqlite3 "$db" "$1" 2>/dev/null; }

start_fake old sync-only "$fx/2.6.17/all-types.rdb" "$TMP/stream.resp"
db="$TMP/old.db"
t0=$(date +%s%3N)
start_redsink rs_old "$old_PORT" "$db"
stream_done() { [ "$(q "SELECT value FROM redis_strings WHERE key='done'")" = yes ]; }
poll_until 30 stream_done ||
    { fail "old-master stream not applied"; finish; }
t1=$(date +%s%3N)
near() {  # near KEY MS: expire_at within [t0+MS, t1+MS]
    local e; e=$(q "SELECT expire_at FROM redis_keys WHERE key='$1'")
    if [ -n "$e" ] && [ "$e" -ge $(( t0 + $2 )) ] && [ "$e" -le $(( t1 + $2 )) ]; then
        ok "$1: relative TTL converted at receipt (expire_at $e)"
    else
        fail "$1: expire_at '$e' not within [$((t0 + $2)), $((t1 + $2))]"
    fi
}
near old:ex 1000000
near old:px 2000000
near old:setex 1000000
near old:plain 1000000
near old:psetex 3000000
[ "$(q "SELECT group_concat(value) FROM (SELECT value FROM redis_lists WHERE key='src' ORDER BY idx)")" = a ] &&
[ "$(q "SELECT group_concat(value) FROM (SELECT value FROM redis_lists WHERE key='dst' ORDER BY idx)")" = b ] &&
    ok "verbatim BRPOPLPUSH (3.x) applied as RPOPLPUSH" || fail "verbatim BRPOPLPUSH"
[ "$(q "SELECT value FROM redis_strings WHERE db=2 AND key='m1'")" = 2 ] &&
    ok "SELECT before MULTI (<= 7.0 placement)" || fail "SELECT before MULTI"

start_fake ev sync-only "$fx/2.6.17/all-types.rdb" "$TMP/eval.resp"
db="$TMP/eval.db"
start_redsink rs_ev "$(cat "$TMP/ev.port")" "$db"
wait "$rs_ev_PID"; rc=$?
if [ $rc -ne 0 ] && grep -q "error\].*scripts verbatim.*lua-replicate-commands.*(stopping)" "$TMP/rs_ev.log"; then
    ok "verbatim EVAL stops redsink (exit $rc): $(grep -m1 'scripts verbatim' "$TMP/rs_ev.log" | cut -d' ' -f3- | cut -c1-160)"
else
    fail "verbatim EVAL: exit $rc, log: $(grep -v debug "$TMP/rs_ev.log" | tail -2)"
fi
[ "$(q "SELECT value FROM redis_strings WHERE key='before-eval'")" = 1 ] &&
    ok "commands before the EVAL were applied" || fail "commands before the EVAL were lost"
[ -z "$(q "SELECT value FROM redis_strings WHERE key='after-eval'")" ] &&
    ok "nothing after the EVAL was applied" || fail "commands after EVAL were applied"
finish
