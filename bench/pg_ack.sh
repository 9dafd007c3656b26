#!/bin/bash
# pg_ack.sh [N] - how long WAIT 1 takes with --postgres-ack (issue 16): a
# throw-away cluster (tests/lib/pg.sh), a redis-server, redsink; N rounds
# (default 300) of "SET key i" then "WAIT 1 5000" on one connection, each
# round timed from the SET's send to WAIT's reply. Prints the median, p90
# and largest round in ms for redsink without --postgres (ACK = SQLite
# commit), with --postgres (the same ACK, the shipper running) and with
# --postgres --postgres-ack (ACK = committed in PostgreSQL too).
# REDSINK=path: another build of redsink (a before/after comparison).
# Run from the build tree after make.
N=${1:-300}
NAME=pgack
. "$(dirname "$0")/pg_setup.sh"

rounds() {   # N rounds of SET + WAIT 1 on one connection: "median p90 max" in ms
    python3 - "$PORT" "$N" "$top_srcdir/tests/lib" <<'EOF'
import sys, time
sys.path.insert(0, sys.argv[3])
from compare import Redis
r, n, ts = Redis("127.0.0.1", sys.argv[1]), int(sys.argv[2]), []
for i in range(n):
    t0 = time.monotonic()
    r("SET", "ack:key", str(i))
    if r("WAIT", 1, 5000) != 1:
        raise SystemExit("WAIT 1 gave 0 in round %d" % i)
    ts.append((time.monotonic() - t0) * 1000)
ts.sort()
print("%.2f %.2f %.2f" % (ts[len(ts) // 2], ts[len(ts) * 9 // 10], ts[-1]))
EOF
}

run() {   # run LABEL [redsink options]
    local label=$1; shift
    rm -f "$TMP/m.db"*
    "${REDSINK:-$top_srcdir/daemon/redsink}" --master "127.0.0.1:$PORT" --sqlite "$TMP/m.db" "$@" \
        >"$TMP/rs.log" 2>&1 &
    RPID=$!
    until redis-cli -p "$PORT" info replication | grep -q 'state=online'; do sleep 0.1; done
    redis-cli -p "$PORT" wait 1 10000 >/dev/null
    if [ $# -gt 0 ]; then   # PostgreSQL has its first copy
        until [ "$(psql -X -At -c 'SELECT generation FROM redis.redsink_status' 2>/dev/null)" \
                -gt 0 ] 2>/dev/null; do sleep 0.1; done
    fi
    read -r med p90 max < <(rounds)
    printf '%-32s %d rounds of SET + WAIT 1: median %s ms, p90 %s ms, max %s ms\n' \
        "$label:" "$N" "$med" "$p90" "$max"
    kill "$RPID"; wait "$RPID" 2>/dev/null; RPID=
}

run "SQLite only"
run "--postgres" --postgres "$CONN"
run "--postgres --postgres-ack" --postgres "$CONN" --postgres-ack
