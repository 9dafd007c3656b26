#!/usr/bin/env bash
# 512 MiB values into PostgreSQL (issue 16): the largest string Redis takes
# (proto-max-bulk-len), once through the full sync's COPY and once through a
# streamed shipping (an outbox key read at the snapshot), valid UTF-8 and not. PostgreSQL holds each value once
# (value_bytes + value_utf8, the view makes the text): a row holding it
# twice, or a message carrying it twice, would pass PostgreSQL's 1 GB
# limit. Needs about 6 GB of memory and minutes: runs only with
# REDSINK_PG_HUGE=1 (make check TESTS=tests/integration/postgres_huge.sh).
. "${top_srcdir:-$(dirname "$0")/../..}/tests/lib/lib.sh"
[ -n "${REDSINK_PG_HUGE:-}" ] || { echo "SKIP: set REDSINK_PG_HUGE=1 (512 MiB values, ~6 GB of memory)"; exit 77; }
. "$top_srcdir/tests/lib/pg.sh"
pg_test_cluster
start_redis m --client-output-buffer-limit "replica 0 0 0"
port=$m_PORT

# set_huge KEY UTF8(1|0): SET KEY to 512 MiB, prints the value's md5
set_huge() {
    python3 - "$port" "$1" "$2" <<'EOF'
import hashlib, socket, sys
n = 512 << 20
v = b"\xc3\xa9" * (n // 2) if sys.argv[3] == "1" else b"\xff" + b"a" * (n - 1)
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
key = sys.argv[2].encode()
s.sendall(b"*3\r\n$3\r\nSET\r\n$%d\r\n%s\r\n$%d\r\n" % (len(key), key, n) + v + b"\r\n")
if s.recv(16) != b"+OK\r\n":
    raise SystemExit("SET %s refused" % sys.argv[2])
print(hashlib.md5(v).hexdigest())
EOF
}
in_pg() { [ "$(psql -X -At -c "SELECT count(*) FROM redis.redis_strings WHERE key = '$1'")" = 1 ]; }
# check_huge KEY MD5 TEXT_LENGTH LABEL: PostgreSQL holds the value byte-exact
check_huge() {
    local got want="$((512 << 20))|$3|$2"
    if poll_until 300 in_pg "$1"; then
        got=$(psql -X -At -c "SELECT length(value_bytes), coalesce(length(value)::text, 'NULL'),
                                     md5(value_bytes) FROM redis.redis_strings WHERE key = '$1'")
        [ "$got" = "$want" ] && ok "$4: $got" || fail "$4: got '$got', want '$want'"
    else
        fail "$4: not in PostgreSQL after 300 s ($(grep -m1 'postgres: cannot' "$TMP/rs.log"))"
    fi
}

md1=$(set_huge big:utf8 1) || fail "SET big:utf8"
start_redsink rs "$port" "$TMP/m.db" --postgres "$CONN"
check_huge big:utf8 "$md1" $((256 << 20)) "a 512 MiB UTF-8 string through COPY"
md2=$(set_huge big:bin 0) || fail "SET big:bin"
check_huge big:bin "$md2" NULL "a 512 MiB binary string through the outbox"
grep -q "postgres: cannot" "$TMP/rs.log" && fail "PostgreSQL errors: $(grep -m1 'postgres: cannot' "$TMP/rs.log")" ||
    ok "no PostgreSQL error in the log"
echo "# redsink peak RSS $(awk '/VmHWM/ { print int($2 / 1024) " MB" }' "/proc/$rs_PID/status")"
stop_pid "$rs_PID" TERM && ok "SIGTERM exits 0" || fail "SIGTERM"
finish
