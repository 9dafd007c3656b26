#!/usr/bin/env bash
# Hash field TTLs through a full sync, disk-based and diskless, against a
# master that has them (Valkey 9+, Redis 7.4+; run with REDSINK_SERVER, see
# tests/README): Valkey 9 writes such hashes as HASH_2 only in RDB 80, which
# it sends only to a replica that announced REPLCONF version >= 9.0 (else it
# gives up the sync: "Can't store key ... in RDB version 11"). The mirror
# must equal the master, field TTLs included, then follow HEXPIRE/HPERSIST.
. "${top_srcdir:-$(dirname "$0")/../..}/tests/lib/lib.sh"

skip_unless_server "needs hash field TTLs (Valkey 9+, Redis 7.4+)" \
    [ "$SERVER_NAME" = valkey -a "$SERVER_VNUM" -ge 90000 -o "$SERVER_NAME" = redis -a "$SERVER_VNUM" -ge 70400 ]
# HSETEX: Valkey 9.0, Redis 8.0; else HSET + HPEXPIREAT
hsetex=0
[ "$SERVER_NAME" = valkey -o "$SERVER_VNUM" -ge 80000 ] && hsetex=1

load() {   # load PORT: small (listpack) and big (hashtable) hashes, some fields volatile
    local port=$1 far=$(( ($(date +%s) + 86400) * 1000 )) i
    {
        for i in $(seq 1 40); do
            if [ $hsetex = 1 ]; then
                echo "HSETEX h:small:$i PXAT $((far + i)) FIELDS 2 v1 a$i v2 b$i"
            else
                echo "HSET h:small:$i v1 a$i v2 b$i"
                echo "HPEXPIREAT h:small:$i $((far + i)) FIELDS 2 v1 v2"
            fi
            echo "HSET h:small:$i keep k$i"
            printf 'HSET h:big:%d' "$i"; for f in $(seq 1 300); do printf ' f%d value-%d-%d' "$f" "$i" "$f"; done; echo
            echo "HPEXPIREAT h:big:$i $((far + 1000 * i)) FIELDS 3 f1 f2 f$((i + 3))"
            echo "SET s:$i v$i"
            [ $((i % 4)) = 0 ] && echo "PEXPIREAT h:big:$i $((far + 5000))"
        done
    } | rcli "$port" >/dev/null
}

for diskless in no yes; do
    start_redis "m_$diskless" --repl-diskless-sync "$diskless" --repl-diskless-sync-delay 0
    eval "port=\$m_${diskless}_PORT"
    load "$port"
    db="$TMP/mirror-$diskless.db"
    start_redsink "rs_$diskless" "$port" "$db"
    if wait_mirror "$port"; then
        compare_mirror "$port" "$db" "diskless=$diskless: mirror equals the master, field TTLs included"
    else
        fail "diskless=$diskless: no sync"; grep -v debug "$TMP/rs_$diskless.log" | tail -5
        tail -5 "$TMP/m_$diskless/redis.log"
        continue
    fi
    n=$(sqlite3 "$db" "SELECT count(*) FROM redis_hashes WHERE expire_at IS NOT NULL" 2>/dev/null)
    [ "${n:-0}" -eq 200 ] && ok "diskless=$diskless: 200 volatile fields in the mirror" \
        || fail "diskless=$diskless: $n volatile fields in the mirror, expected 200"
    grep -q "Can't store key\|SYNC failed" "$TMP/m_$diskless/redis.log" \
        && fail "diskless=$diskless: the master refused a sync: $(grep -m1 "Can't store\|SYNC failed" "$TMP/m_$diskless/redis.log")" \
        || ok "diskless=$diskless: no refused sync in the master's log"
    # then the stream: field TTLs changed, removed, fields expired by the master
    {
        echo "HEXPIRE h:small:1 5000 FIELDS 1 keep"
        echo "HPERSIST h:small:2 FIELDS 1 v1"
        echo "HPEXPIRE h:big:3 1 FIELDS 2 f1 f2"
        echo "HSET h:big:3 f1 again"
        # HINCRBY keeps a field's TTL (the mirror sums in one statement)
        echo "HSET h:small:4 n 41"
        echo "HPEXPIREAT h:small:4 $((far + 7)) FIELDS 1 n"
        echo "HINCRBY h:small:4 n 1"
        echo "HINCRBY h:small:4 m -5"
    } | rcli "$port" >/dev/null
    wait_mirror "$port" && compare_mirror "$port" "$db" "diskless=$diskless: mirror equals the master after HEXPIRE/HPERSIST/HINCRBY"
    eval "stop_pid \$rs_${diskless}_PID TERM"
done

finish
