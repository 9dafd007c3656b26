# tests/lib/lib.sh - shared helpers for the integration tests (sourced).
#
# Every process a test starts is recorded and killed by pid from the EXIT
# trap, even when the test fails. Synchronisation is by WAIT on the master
# and by polling state the servers report, never by fixed sleeps.
# Exit codes follow Automake: 0 pass, 77 skip, 99 hard failure, 1 fail.

set -u
: "${top_srcdir:=$(cd "$(dirname "$0")/../.." && pwd)}"
: "${top_builddir:=$top_srcdir}"
: "${REDSINK:=$top_builddir/daemon/redsink}"
export top_srcdir top_builddir REDSINK
COMPARE="python3 $top_srcdir/tests/lib/compare.py"

command -v python3 >/dev/null || { echo "SKIP: python3 not installed"; exit 77; }
[ -x "$REDSINK" ] || { echo "FAIL: $REDSINK not built"; exit 99; }

TMP=$(mktemp -d "${TMPDIR:-/tmp}/redsink-test.XXXXXX")

# REDSINK_SERVER=/path/to/valkey-server (or redis-server): the master every
# test starts, instead of the redis-server on PATH; REDSINK_CLI its client
# (default: the valkey-cli or redis-cli beside it, else redis-cli). Both
# take the names redis-server and redis-cli in a directory put first on
# PATH, so the tests need not know. tests/tools/build_servers.sh builds them.
if [ -n "${REDSINK_SERVER:-}" ]; then
    [ -x "$REDSINK_SERVER" ] || { echo "FAIL: REDSINK_SERVER=$REDSINK_SERVER is not an executable"; exit 99; }
    if [ -z "${REDSINK_CLI:-}" ]; then
        for c in valkey-cli redis-cli; do
            [ -x "$(dirname "$REDSINK_SERVER")/$c" ] && { REDSINK_CLI=$(dirname "$REDSINK_SERVER")/$c; break; }
        done
    fi
    mkdir -p "$TMP/bin"
    ln -s "$(cd "$(dirname "$REDSINK_SERVER")" && pwd)/$(basename "$REDSINK_SERVER")" "$TMP/bin/redis-server"
    [ -n "${REDSINK_CLI:-}" ] && ln -s "$(cd "$(dirname "$REDSINK_CLI")" && pwd)/$(basename "$REDSINK_CLI")" "$TMP/bin/redis-cli"
    PATH=$TMP/bin:$PATH
fi
command -v redis-server >/dev/null || { rm -rf "$TMP"; echo "SKIP: redis-server not installed"; exit 77; }

# The master's flavour and version: SERVER_NAME redis|valkey, SERVER_VERSION
# x.y.z and SERVER_VNUM (x*10000 + y*100 + z), for checks that depend on it.
SERVER_VERSION=$(redis-server --version | sed -n 's/.* v=\([0-9.]*\).*/\1/p')
case "$(redis-server --version)" in [Vv]alkey*) SERVER_NAME=valkey ;; *) SERVER_NAME=redis ;; esac
SERVER_VNUM=$(echo "$SERVER_VERSION" | awk -F. '{ print $1 * 10000 + $2 * 100 + $3 }')

# skip_unless_server TEXT CONDITION...: skip the whole test (exit 77) when
# the master does not meet CONDITION (a shell test on the variables above).
skip_unless_server() {
    local why=$1; shift
    "$@" && return 0
    echo "SKIP: $why (master is $SERVER_NAME $SERVER_VERSION)"; exit 77
}
PIDS=""
RS_PIDS=""
FAILS=0

# redsink_sanitized: true when $REDSINK was built with --enable-sanitizers
# (ASan's runtime linked in): such a build is several times slower, and an
# LD_PRELOAD shim cannot come before the sanitizer runtime.
redsink_sanitized() { ldd "$REDSINK" 2>/dev/null | grep -q 'libasan'; }

# REDSINK_VALGRIND=1: every redsink this test runs (daemon, import, ...)
# runs under valgrind, through a wrapper that takes REDSINK's place; each
# process writes its report to $TMP/valgrind.<pid>.log, which -q leaves
# empty unless valgrind found something. finish() fails the test then.
# Leaks shown and counted: definite and indirect ("possibly lost" is the
# detached signal thread's stack at exit, by design).
if [ -n "${REDSINK_VALGRIND:-}" ]; then
    command -v valgrind >/dev/null || { echo "SKIP: REDSINK_VALGRIND set, valgrind not installed"; exit 77; }
    printf '#!/bin/sh\nexec valgrind -q --error-exitcode=99 --leak-check=full --show-leak-kinds=definite,indirect --errors-for-leak-kinds=definite,indirect --track-fds=no --log-file=%s/valgrind.%%p.log %s "$@"\n' \
        "$TMP" "$REDSINK" > "$TMP/redsink-valgrind"
    chmod +x "$TMP/redsink-valgrind"
    REDSINK=$TMP/redsink-valgrind
fi

cleanup() {
    for p in $PIDS; do kill -9 "$p" 2>/dev/null; done
    for p in $PIDS; do wait "$p" 2>/dev/null; done
    if [ "$FAILS" -eq 0 ] && [ -z "${KEEP_TMP:-}" ]; then rm -rf "$TMP"; else echo "# files kept in $TMP"; fi
}
trap cleanup EXIT

ok()   { echo "ok - $*"; }
fail() { echo "not ok - $*"; FAILS=$((FAILS + 1)); }
finish() {
    # valgrind's leak check and gcov's counters (tests/tools/coverage.sh) are
    # written at exit: stop the daemons before the EXIT trap's kill -9
    [ -n "${REDSINK_VALGRIND:-}${REDSINK_COVERAGE:-}" ] && stop_daemons
    [ -n "${REDSINK_VALGRIND:-}" ] && valgrind_check
    [ "$FAILS" -eq 0 ] && exit 0; echo "$FAILS check(s) failed"; exit 1
}

# SIGTERM to every redsink started by start_redsink that still runs; one
# that has not exited 20 s later gets SIGKILL.
stop_daemons() {
    local p
    for p in $RS_PIDS; do
        jobs -p | grep -qx "$p" || continue
        kill -TERM "$p" 2>/dev/null
        poll_until 20 exited "$p" || kill -9 "$p" 2>/dev/null
        wait "$p" 2>/dev/null
    done
}
exited() {   # exited PID: gone, or a zombie waiting for our wait
    local st; st=$(ps -o stat= -p "$1" 2>/dev/null)
    [ -z "$st" ] || [ "${st#Z}" != "$st" ]
}

# Fail on any non-empty valgrind report.
valgrind_check() {
    local f
    for f in "$TMP"/valgrind.*.log; do
        [ -s "$f" ] || continue
        fail "valgrind report in $(basename "$f")"
        head -60 "$f"
    done
}

# A free TCP port on 127.0.0.1.
free_port() {
    python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'
}

# poll_until SECONDS CMD...: run CMD until it succeeds; fail after SECONDS.
poll_until() {
    local limit=$1; shift
    local end=$(( $(date +%s) + limit ))
    until "$@" >/dev/null 2>&1; do
        [ "$(date +%s)" -ge "$end" ] && return 1
        sleep 0.05
    done
}

# start_redis NAME [redis-server options...]: sets ${NAME}_PORT, ${NAME}_PID.
start_redis() {
    local name=$1; shift
    local port; port=$(free_port)
    mkdir -p "$TMP/$name"
    redis-server --bind 127.0.0.1 --port "$port" --save '' --appendonly no \
        --dir "$TMP/$name" --logfile "$TMP/$name/redis.log" --daemonize no "$@" &
    local pid=$!
    PIDS="$PIDS $pid"
    eval "${name}_PORT=$port; ${name}_PID=$pid"
    poll_until 10 redis-cli -p "$port" ping || { echo "FAIL: redis-server $name did not start"; exit 99; }
}

rcli() { local port=$1; shift; redis-cli -p "$port" "$@"; }

# start_redsink NAME PORT DBFILE [options...]: sets ${NAME}_PID; log in $TMP/NAME.log
start_redsink() {
    local name=$1 port=$2 db=$3; shift 3
    "$REDSINK" --master "127.0.0.1:$port" --sqlite "$db" --log-level debug "$@" \
        >>"$TMP/$name.log" 2>&1 &
    local pid=$!
    PIDS="$PIDS $pid"
    RS_PIDS="$RS_PIDS $pid"
    eval "${name}_PID=$pid"
}

# start_fake NAME MODE RDB [STREAM [STREAM2]]: a scripted master
# (tests/lib/fake_master.py); sets ${NAME}_PORT and ${NAME}_FAKE_PID. Every
# command it received is in $TMP/NAME.port.log.
start_fake() {
    local name=$1; shift
    python3 "$top_srcdir/tests/lib/fake_master.py" "$TMP/$name.port" "$@" &
    PIDS="$PIDS $!"
    eval "${name}_FAKE_PID=$!"
    # 30 s: a python start takes seconds on a loaded machine
    poll_until 30 test -s "$TMP/$name.port" || { echo "FAIL: fake master $name did not start"; exit 99; }
    eval "${name}_PORT=$(cat "$TMP/$name.port")"
}

# check_sql DB LABEL SQL WANT: one check, ok when the query prints WANT.
check_sql() {
    local got; got=$(sqlite3 "$1" "$3" 2>/dev/null)
    if [ "$got" = "$4" ]; then ok "$2"; else fail "$2: got '$got', want '$4'"; fi
}

# resp ARG...: one command in RESP, on stdout (binary-safe for plain args).
resp() {
    printf '*%d\r\n' $#
    for a in "$@"; do printf '$%d\r\n%s\r\n' "${#a}" "$a"; done
}

stop_pid() {   # stop_pid PID [SIGNAL]: signal and reap
    kill "-${2:-TERM}" "$1" 2>/dev/null
    wait "$1" 2>/dev/null
}

# The master lists a replica in state=online.
replica_online() { rcli "$1" info replication | grep -q 'state=online'; }

# wait_mirror PORT: a write, then WAIT 1 — returns when redsink committed it.
# The replica must be listed online first: a master that had no replica
# has no backlog and its offset is still 0, so a WAIT for a marker written
# before the replica attached is met by the ACK 0 of a replica that has
# not loaded anything yet (seen when redsink starts slowly, under valgrind).
# WAIT 20 s at a time while redsink's acknowledged offset grows (10 min at
# most): on a loaded machine, catching up on a long stream after a restart
# took 50 s (kill_loop.sh); a redsink that acknowledges nothing new in 20 s
# still fails.
# A WAIT that sees no progress for WAIT_STALL_MS gives up, and any after
# WAIT_MAX_MS. Under valgrind a batch of differential.sh's dbs phase on its
# 140,600 names (SWAPDB with db 0 reads every key twice; FLUSHDB of that db)
# can take longer than 20 s, and the phase 330 s (2026-12-07, this machine).
WAIT_STALL_MS=20000 WAIT_MAX_MS=600000
[ -n "${REDSINK_VALGRIND:-}" ] && WAIT_STALL_MS=300000 WAIT_MAX_MS=1200000
wait_mirror() {
    poll_until 60 replica_online "$1"
    $COMPARE wait 127.0.0.1 "$1" 1 "$WAIT_STALL_MS" "$WAIT_MAX_MS"
}

compare_mirror() {  # compare_mirror PORT DBFILE LABEL
    if $COMPARE compare-redis-pipelined 127.0.0.1 "$1" "$2"; then ok "$3"; else fail "$3"; fi
}

info_field() {  # info_field PORT SECTION FIELD
    rcli "$1" info "$2" | tr -d '\r' | sed -n "s/^$3://p"
}

# seeded_rounds TEST DEFAULT: a seeded randomized test's seed (REDSINK_SEED,
# else from the clock) and ROUNDS (REDSINK_KILL_ROUNDS, else DEFAULT);
# rnd N sets R in [0, N) (never $(rnd): a subshell would not advance
# RANDOM), nap_ms MS sleeps, replay prints the command that runs it again.
seeded_rounds() {
    seed=${REDSINK_SEED:-$(( $(date +%s) % 100000 ))}
    ROUNDS=${REDSINK_KILL_ROUNDS:-$2}
    SEEDED_TEST=$1
    echo "# seed $seed, $ROUNDS rounds"
    RANDOM=$seed
}
rnd() { R=$(( RANDOM % $1 )); }
nap_ms() { sleep "$(printf '%d.%03d' $(( $1 / 1000 )) $(( $1 % 1000 )))"; }
replay() { echo "# replay: REDSINK_SEED=$seed REDSINK_KILL_ROUNDS=$ROUNDS make check TESTS=tests/integration/$SEEDED_TEST"; }
