#!/usr/bin/env bash
# Seeded randomized differential test: thousands of random writes over
# every command family (colliding keys of every type, MULTI/EXEC blocks,
# EVAL scripts, short TTLs that expire during the run, several dbs) on a
# real master; then WAIT and the whole keyspace compared both ways, hash
# field TTLs included. A newer master (Redis 7.4-8.x, Valkey 8.1-9.x) gets
# its own commands too, chosen by its version.
# Replay a failure with: REDSINK_SEED=<seed> make check TESTS=tests/integration/differential.sh
. "${top_srcdir:-$(dirname "$0")/../..}/tests/lib/lib.sh"

seed=${REDSINK_SEED:-$(( $(date +%s) % 100000 ))}
N=${REDSINK_DIFF_N:-1500}
echo "# seed $seed"
start_redis m --repl-diskless-sync yes --repl-diskless-sync-delay 0 --databases 40
db="$TMP/mirror.db"
start_redsink rs "$m_PORT" "$db"
wait_mirror "$m_PORT" || { fail "initial sync"; finish; }

now_ms() { date +%s%3N; }
past() { [ "$(now_ms)" -gt "$1" ]; }

phase() {  # phase NAME FAMILIES [GENERATOR COMPARE]
    local name=$1 fams=$2 gen=${3:-random} cmp=${4:-compare-redis} maxexp
    rcli "$m_PORT" flushall >/dev/null
    if ! maxexp=$($COMPARE "$gen" 127.0.0.1 "$m_PORT" "$seed" "$N" "$fams"); then
        fail "$name: workload (seed $seed): $maxexp"; return
    fi
    # every short TTL of the workload has passed: make the master delete
    # those keys (its DELs reach redsink too), then compare
    poll_until 5 past "$maxexp"
    $COMPARE expire-all 127.0.0.1 "$m_PORT"
    if wait_mirror "$m_PORT" && $COMPARE "$cmp" 127.0.0.1 "$m_PORT" "$db" >"$TMP/$name.diff" 2>&1; then
        ok "$name: mirror equals the master after $N random commands (seed $seed)"
    else
        fail "$name: mirror differs from the master (seed $seed)"; head -30 "$TMP/$name.diff"
    fi
}

# The newer servers' commands, by the master's version (INFO server):
# field TTLs (Redis 7.4+, Valkey 9+), HSETEX/HGETEX/HGETDEL (Redis 8.0+,
# Valkey 9+ with its NX/XX), SET IF*/DELEX/MSETEX (Redis 8.4+), XDELEX/
# XACKDEL and BITOP DIFF/DIFF1/ANDOR/ONE (Redis 8.2+), SET IFEQ (Valkey
# 8.1+) and DELIFEQ (Valkey 9+).
ver_ge() { [ "$(printf '%s\n%s\n' "$2" "$1" | sort -V | head -1)" = "$2" ]; }
rver=$(info_field "$m_PORT" server redis_version)
vver=$(info_field "$m_PORT" server valkey_version)
newer=""
if [ -n "$vver" ]; then
    echo "# master: valkey $vver"
    ver_ge "$vver" 8.1.0 && newer="$newer ifeq"
    ver_ge "$vver" 9.0.0 && newer="$newer hfe hash9v delifeq"
else
    echo "# master: redis $rver"
    ver_ge "$rver" 7.4.0 && newer="$newer hfe"
    ver_ge "$rver" 8.0.0 && newer="$newer hash8"
    ver_ge "$rver" 8.2.0 && newer="$newer stream,stream82 bitop82"
    ver_ge "$rver" 8.4.0 && newer="$newer string84"
fi

# REDSINK_DIFF_FAMILIES="list hash" runs only those phases (and no mixed
# one); "dbs" names the last phase
for fam in ${REDSINK_DIFF_FAMILIES:-string keys list hash set zset stream script$newer}; do
    [ "$fam" = dbs ] || phase "$fam" "$fam"
done
all="string,keys,list,hash,set,zset,stream,script$(for f in $newer; do printf ',%s' "$f"; done)"
[ -n "${REDSINK_DIFF_FAMILIES:-}" ] || phase "all families" "$all"
# Keys over 40 dbs, names either side of the key cache's 40/120-byte
# tables, 140,600 distinct names first (past its 131,072 + 4,096 entries),
# SWAPDB/MOVE/COPY DB/RENAME/FLUSHDB, MULTI with a failing command
# (compare.py DbWorkload; its own random stream)
case " ${REDSINK_DIFF_FAMILIES:-dbs} " in *" dbs "*)
    phase "dbs" "string,keys,list,hash,set,zset" random-dbs compare-redis-pipelined ;;
esac
if grep -q "unknown command '" "$TMP/rs.log"; then
    echo "# commands redsink did not apply: $(grep -o "unknown command '[^']*'" "$TMP/rs.log" | cut -d"'" -f2 | sort -u | tr '\n' ' ')"
fi
[ "$FAILS" -eq 0 ] || echo "# replay: REDSINK_SEED=$seed make check TESTS=tests/integration/differential.sh"
finish
