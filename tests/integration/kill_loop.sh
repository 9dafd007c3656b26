#!/usr/bin/env bash
# Seeded randomized kill loop: a real master with a background write
# workload (random commands of every family plus MULTI/EXEC blocks), and
# redsink killed with kill -9 at random moments, restarted each time on the
# same --sqlite file:
#  - phase A: in the middle of the first full sync (a DEBUG POPULATE'd
#    dataset, diskless on or off per attempt), then a full sync that completes;
#  - phase B: during the handshake, in streaming, inside MULTI/EXEC traffic,
#    between a commit and its ACK (random delays after the resync).
# Then the workload stops, WAIT, and the whole keyspace is compared.
# Asserts: mirror == master; no full resync after the first completed one
# (log lines and the master's sync_full), sync_partial_ok grew; a killed
# half load leaves no table behind; no temp files beside the mirror.
# Replay: REDSINK_SEED=<seed> make check TESTS=tests/integration/kill_loop.sh
# More rounds: REDSINK_KILL_ROUNDS=50 (default 12).
. "${top_srcdir:-$(dirname "$0")/../..}/tests/lib/lib.sh"
command -v sqlite3 >/dev/null || { echo "SKIP: sqlite3 not installed"; exit 77; }

seeded_rounds kill_loop.sh 12

start_redis m --repl-backlog-size 64mb --enable-debug-command yes \
    --repl-diskless-sync yes --repl-diskless-sync-delay 0
# a dataset whose load takes about a second: strings, big hashes and lists
rcli "$m_PORT" debug populate 150000 key 64 >/dev/null
rcli "$m_PORT" eval "for i=1,120 do for j=1,5000 do redis.call('hset','bh:'..i,'f'..j,'value-'..j) end
  for j=1,5000,50 do local t={} for k=j,j+49 do t[#t+1]='e'..k end redis.call('rpush','bl:'..i,unpack(t)) end end" 0 >/dev/null

mdir="$TMP/mirror"; mkdir -p "$mdir"; db="$mdir/mirror.db"
sq() { sqlite3 -readonly "$db" "$@"; }
# tables of a generation that redsink_status does not name (a half-built or an old one)
stray_tables() {
    sq "SELECT name FROM sqlite_master, redsink_status WHERE type = 'table'
          AND name GLOB 'g[0-9]*_*' AND substr(name, 2, instr(name, '_') - 2) <> CAST(generation AS TEXT)"
}
no_stray() { local s; s=$(stray_tables) && [ -z "$s" ]; }
half_load_started() { [ -n "$(stray_tables 2>/dev/null)" ]; }
generations() {
    sq "SELECT DISTINCT substr(name, 1, instr(name, '_')) FROM sqlite_master
          WHERE type = 'table' AND name GLOB 'g[0-9]*_*'" | tr '\n' ' '
}
logged() { grep -q "$2" "$TMP/$1.log" 2>/dev/null; }
set_diskless() {
    rnd 2; local d; d=$([ "$R" = 1 ] && echo yes || echo no)
    rcli "$m_PORT" config set repl-diskless-sync "$d" >/dev/null
    DISKLESS=$d
}
no_temp_files() {  # only the database and its WAL files beside the mirror
    local extra
    [ -d "$mdir" ] || { fail "$1: $mdir is gone"; return; }
    extra=$(ls -A "$mdir" | grep -v -x -e mirror.db -e mirror.db-wal -e mirror.db-shm)
    if [ -z "$extra" ]; then ok "$1: no temp files beside the mirror ($(ls -A "$mdir" | tr '\n' ' '))"
    else fail "$1: leftover files beside the mirror: $extra"; fi
}

stop_file="$TMP/stop-workload"
$COMPARE workload-loop 127.0.0.1 "$m_PORT" "$seed" "$stop_file" 600 >"$TMP/workload.out" 2>&1 &
wl_PID=$!; PIDS="$PIDS $wl_PID"

# ---- phase A: kill -9 in the middle of the first full sync -------------
n=0; completed=""
rnd 3; attempts=$(( R + 1 ))
for a in $(seq 1 "$attempts"); do
    n=$((n + 1)); set_diskless
    start_redsink "rs$n" "$m_PORT" "$db"
    eval "pid=\$rs${n}_PID"
    if ! poll_until 30 half_load_started; then
        fail "attempt $a: no half-built generation appeared (seed $seed)"; replay; finish
    fi
    rnd 400; nap_ms "$R"
    stop_pid "$pid" KILL
    if logged "rs$n" 'full sync done'; then
        echo "# attempt $a (diskless $DISKLESS): the load completed before the kill after ${R} ms"
        completed="rs$n"; break
    fi
    echo "# attempt $a (diskless $DISKLESS): killed ${R} ms into the load; stray: $(stray_tables | tr '\n' ' ')"
    killed_mid_load=1
done
if [ -z "$completed" ]; then
    n=$((n + 1)); set_diskless
    start_redsink "rs$n" "$m_PORT" "$db"
    eval "pid=\$rs${n}_PID"
    poll_until 60 logged "rs$n" 'full sync done' || { fail "full sync after the killed loads did not complete"; replay; finish; }
    logged "rs$n" 'full resync from the master' && ! logged "rs$n" 'partial resync accepted' &&
        ok "after a kill during the first full sync, the restart did a full sync (diskless $DISKLESS)" ||
        fail "restart after a killed first load: no full resync"
    poll_until 10 no_stray
    gens=$(generations)
    [ "$(echo "$gens" | wc -w)" = 1 ] && ok "no trace of the killed half load: tables of one generation only ($gens)" ||
        fail "tables of several generations after the completed full sync: $gens"
    completed="rs$n"
fi
full0=$(info_field "$m_PORT" stats sync_full); part0=$(info_field "$m_PORT" stats sync_partial_ok)
echo "# first completed full sync by $completed; sync_full=$full0 sync_partial_ok=$part0"
first_b=$((n + 1))

# ---- phase B: kill -9 at random moments after the first full sync -------
if [ "$completed" = "rs$n" ] && kill -0 "$pid" 2>/dev/null; then
    rnd 300; nap_ms "$R"; stop_pid "$pid" KILL       # the rs of phase A still runs
fi
kinds=""
for round in $(seq 1 "$ROUNDS"); do
    n=$((n + 1)); set_diskless
    start_redsink "rs$n" "$m_PORT" "$db"
    eval "pid=\$rs${n}_PID"
    rnd 4
    case $R in
    0)  kind=handshake; rnd 40; nap_ms "$R" ;;
    1)  kind=streaming; poll_until 20 logged "rs$n" 'partial resync accepted'; rnd 1000; nap_ms "$R" ;;
    *)  kind=commit-ack; poll_until 20 logged "rs$n" 'partial resync accepted'; rnd 30; nap_ms "$R" ;;
    esac
    stop_pid "$pid" KILL
    kinds="$kinds $kind"
    if logged "rs$n" 'full resync'; then fail "round $round ($kind): full resync after the first completed one"; fi
done
echo "# rounds:$kinds"

# ---- the end: a last start, the workload stopped, WAIT, compare ---------
n=$((n + 1))
start_redsink "rs$n" "$m_PORT" "$db"
eval "last=\$rs${n}_PID"
poll_until 30 logged "rs$n" 'partial resync accepted' && ok "final restart: partial resync accepted" ||
    fail "final restart: no partial resync ($(grep -m1 -o 'full resync.*' "$TMP/rs$n.log"))"
touch "$stop_file"; wait "$wl_PID"; wl_rc=$?
read -r wl_rounds maxexp <"$TMP/workload.out" || true
[ "$wl_rc" = 0 ] && ok "workload: $wl_rounds rounds" || { fail "workload failed: $(tail -3 "$TMP/workload.out")"; maxexp=0; }
now_ms() { date +%s%3N; }
past() { [ "$(now_ms)" -gt "$1" ]; }
poll_until 5 past "${maxexp:-0}"
$COMPARE expire-all 127.0.0.1 "$m_PORT"
# a failed WAIT is not a differing mirror: say which one it is
if ! wait_mirror "$m_PORT" >"$TMP/wait.out" 2>&1; then
    fail "the mirror did not catch up with the master (seed $seed): $(cat "$TMP/wait.out")"
elif $COMPARE compare-redis-pipelined 127.0.0.1 "$m_PORT" "$db" >"$TMP/compare.out" 2>&1; then
    ok "mirror equals the master after $ROUNDS kill rounds (seed $seed): $(tail -1 "$TMP/compare.out") $(cat "$TMP/wait.out")"
else
    fail "mirror differs from the master (seed $seed)"; head -30 "$TMP/compare.out"
fi

full=$(info_field "$m_PORT" stats sync_full); part=$(info_field "$m_PORT" stats sync_partial_ok)
accepted=$(cat $(seq -f "$TMP/rs%g.log" "$first_b" "$n") 2>/dev/null | grep -c 'partial resync accepted')
fulls=$(cat $(seq -f "$TMP/rs%g.log" "$first_b" "$n") 2>/dev/null | grep -c 'full resync')
[ "$full" = "$full0" ] && [ "$fulls" = 0 ] && ok "no full sync after the first completed one (sync_full=$full, no 'full resync' line)" ||
    fail "sync_full $full0 -> $full, $fulls 'full resync' line(s) after the first completed full sync"
[ $((part - part0)) -ge "$accepted" ] && [ "$accepted" -ge 1 ] &&
    ok "sync_partial_ok $part0 -> $part, $accepted 'partial resync accepted' line(s)" ||
    fail "sync_partial_ok $part0 -> $part, but $accepted 'partial resync accepted' line(s)"
gens=$(generations)
[ "$(echo "$gens" | wc -w)" = 1 ] && ok "tables of one generation ($gens)" || fail "tables of several generations: $gens"
no_temp_files "while running"
stop_pid "$last" TERM; rc=$?
[ $rc -eq 0 ] && ok "SIGTERM: exit 0" || fail "SIGTERM: exit $rc"
no_temp_files "after SIGTERM"
[ "$FAILS" -eq 0 ] || replay
finish
