#!/usr/bin/env bash
# bench/full_sync.sh [KEYS] [RUNS]: full-sync time of redsink vs a real
# `redis-server --replicaof` replica of the same master, and redsink's peak
# RSS. Prints one line per run and the medians with the redsink/Redis ratio.
#
# Both replicas are timed from process start until the data is usable: the
# Redis replica until INFO says master_link_status:up, redsink until its
# first WAIT 1 returns (its mirror is committed and readable in SQL).
set -u
KEYS=${1:-1000000}
RUNS=${2:-3}
here=$(cd "$(dirname "$0")/.." && pwd)
REDSINK=${REDSINK:-$here/daemon/redsink}
TMP=$(mktemp -d /tmp/redsink-bench.XXXXXX)
PIDS=""
trap 'for p in $PIDS; do kill -9 $p 2>/dev/null; wait $p 2>/dev/null; done; rm -rf "$TMP"' EXIT

port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
now() { date +%s.%N; }
until_ok() { until "$@" >/dev/null 2>&1; do sleep 0.02; done; }

MP=$(port)
redis-server --bind 127.0.0.1 --port "$MP" --save '' --appendonly no --dir "$TMP" \
    --enable-debug-command yes --repl-diskless-sync yes --repl-diskless-sync-delay 0 \
    --logfile "$TMP/master.log" & PIDS="$PIDS $!"
until_ok redis-cli -p "$MP" ping
redis-cli -p "$MP" debug populate "$KEYS" key 12 >/dev/null
echo "master: $(redis-cli -p "$MP" dbsize) keys, $(redis-cli -p "$MP" info memory | grep used_memory_human | tr -d '\r')"

r_times=(); s_times=(); s_rss=()
for run in $(seq "$RUNS"); do
    RP=$(port)
    t0=$(now)
    redis-server --bind 127.0.0.1 --port "$RP" --save '' --appendonly no --dir "$TMP" \
        --replicaof 127.0.0.1 "$MP" --logfile "$TMP/replica.log" & rpid=$!; PIDS="$PIDS $rpid"
    until redis-cli -p "$RP" info replication 2>/dev/null | grep -q 'master_link_status:up'; do sleep 0.02; done
    t1=$(now)
    kill "$rpid"; wait "$rpid" 2>/dev/null
    r=$(awk "BEGIN{print $t1 - $t0}")

    rm -f "$TMP"/mirror.db*
    t0=$(now)
    "$REDSINK" --master "127.0.0.1:$MP" --sqlite "$TMP/mirror.db" 2>"$TMP/redsink.log" & spid=$!; PIDS="$PIDS $spid"
    # WAIT counts acknowledgements of this connection's own last write, so
    # the marker and the WAIT go through one connection.
    until [ "$(printf 'SET bench:marker %s\nWAIT 1 200\n' "$run" | redis-cli -p "$MP" | tail -1)" = 1 ]; do :; done
    t1=$(now)
    rss=$(sed -n 's/^VmHWM:\s*//p' /proc/$spid/status)
    kill "$spid"; wait "$spid" 2>/dev/null
    s=$(awk "BEGIN{print $t1 - $t0}")
    n=$(sqlite3 "$TMP/mirror.db" "select count(*) from redis_keys")
    echo "run $run: redis replica ${r}s, redsink ${s}s (peak RSS $rss, $n keys in SQL)"
    r_times+=("$r"); s_times+=("$s"); s_rss+=("${rss% kB}")
done
median() { printf '%s\n' "$@" | sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
mr=$(median "${r_times[@]}"); ms=$(median "${s_times[@]}"); mrss=$(median "${s_rss[@]}")
printf 'median of %d runs, %d keys: redis replica %.2fs, redsink %.2fs, ratio %.2fx, redsink peak RSS %.1f MB\n' \
    "$RUNS" "$KEYS" "$mr" "$ms" "$(awk "BEGIN{print $ms / $mr}")" "$(awk "BEGIN{print $mrss / 1024}")"
