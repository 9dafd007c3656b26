#!/usr/bin/env bash
# The configuration file (-c FILE): a good file mirrors a real master
# (its password from password_file), the command line overrides the file,
# every kind of bad file exits 2 with one line naming the file, the line
# and the setting, and --check-config checks without starting.
. "${top_srcdir:-$(dirname "$0")/../..}/tests/lib/lib.sh"

PW='c0nf pass'
start_redis m --requirepass "$PW" --repl-diskless-sync no
export REDISCLI_AUTH="$PW"               # for redis-cli and compare.py
$COMPARE load 127.0.0.1 "$m_PORT" stream-ops 5

printf '%s\n' "$PW" >"$TMP/master.pw"
chmod 600 "$TMP/master.pw"

# run_conf NAME FILE [options...]: redsink -c FILE in the background.
run_conf() {
    local name=$1 conf=$2; shift 2
    "$REDSINK" -c "$conf" "$@" >>"$TMP/$name.log" 2>&1 &
    local pid=$!
    PIDS="$PIDS $pid"
    eval "${name}_PID=$pid"
}

# --- a good file ------------------------------------------------------
good="$TMP/good.conf"
cat >"$good" <<CONF
# a good file
master: {
  host = "127.0.0.1";
  port = $m_PORT;
  password_file = "$TMP/master.pw";
  connect_timeout = 2.5;
  timeout = 30;
};
replica: { listening_port = 0; ack_interval = 1.0; };
sqlite: { path = "$TMP/good.db"; batch_commands = 500; batch_ms = 10;
          catchup_batch_commands = 20000; catchup_batch_ms = 2000; };
unknown_commands = "log";
log: { level = "debug"; };
CONF
chmod 640 "$good"

out=$("$REDSINK" -c "$good" --check-config 2>&1); rc=$?
if [ $rc -eq 0 ] && [ "$out" = "configuration OK" ]; then ok "--check-config on a good file: exit 0, '$out'"
else fail "--check-config on a good file: exit $rc, '$out'"; fi
[ ! -e "$TMP/good.db" ] && ok "--check-config does not create the mirror" || fail "--check-config created the mirror"

# The shipped example is valid as it is (the mirror in the state directory).
out=$("$REDSINK" -c "$top_srcdir/etc/redsink.conf" --check-config 2>&1); rc=$?
[ $rc -eq 0 ] && ok "etc/redsink.conf as shipped: configuration OK" || fail "etc/redsink.conf: exit $rc, $out"

run_conf rs_good "$good"
wait_mirror "$m_PORT" && compare_mirror "$m_PORT" "$TMP/good.db" "-c FILE (password_file): mirror equals the master" ||
    fail "-c FILE: WAIT"
stop_pid "$rs_good_PID" TERM
grep -q "mirroring 127.0.0.1:$m_PORT into '$TMP/good.db'" "$TMP/rs_good.log" && ok "settings from the file used" ||
    { fail "settings from the file"; cat "$TMP/rs_good.log"; }

# --- the command line overrides the file -------------------------------
over="$TMP/over.conf"
dead=$(free_port)
cat >"$over" <<CONF
master: { port = $dead; password = "wrong"; };
sqlite: { path = "$TMP/not-this.db"; };
log: { level = "error"; };
CONF
chmod 600 "$over"
run_conf rs_over "$over" --master "127.0.0.1:$m_PORT" --sqlite "$TMP/over.db" \
    --master-password-file "$TMP/master.pw" --log-level info
wait_mirror "$m_PORT" && compare_mirror "$m_PORT" "$TMP/over.db" "command line overrides master, password, sqlite" ||
    fail "command line overrides: WAIT"
stop_pid "$rs_over_PID" TERM
[ ! -e "$TMP/not-this.db" ] && ok "the file's sqlite.path was overridden" || fail "the file's sqlite.path was used"
grep -q "mirroring 127.0.0.1:$m_PORT" "$TMP/rs_over.log" && ok "--log-level info overrides log.level = error" ||
    fail "--log-level did not override"

if grep -rqF "$PW" "$TMP"/*.log; then fail "the password appears in a log"; else ok "the password appears in no log"; fi

# --- bad files: exit 2, one line naming the file, the line, the setting ---
# bad LABEL MODE EXPECTED-REGEX CONTENT
bad() {
    local label=$1 mode=$2 want=$3 conf="$TMP/bad-$1.conf" out rc
    printf '%b' "$4" >"$conf"
    chmod "$mode" "$conf"
    out=$("$REDSINK" -c "$conf" --sqlite "$TMP/bad.db" 2>&1); rc=$?
    if [ $rc -eq 2 ] && [ "$(printf '%s\n' "$out" | wc -l)" -eq 1 ] &&
       printf '%s\n' "$out" | grep -qE "$want"; then
        ok "$label: exit 2, $out"
    else
        fail "$label: exit $rc, '$out' (wanted $want)"
    fi
    out=$("$REDSINK" -c "$conf" --sqlite "$TMP/bad.db" --check-config 2>&1); rc=$?
    [ $rc -eq 2 ] || fail "$label: --check-config exit $rc"
}
f="'$TMP/bad-[a-z_-]*.conf'"
bad unknown 600 "^redsink: $f line 3: unknown setting 'master.prot'\$" \
    '# comment\nmaster: {\n  prot = 6379;\n};\n'
bad type 600 "^redsink: $f line 2: setting 'master.port': expected an integer\$" \
    'master: {\n  port = "6379";\n};\n'
bad range 600 "^redsink: $f line 1: setting 'master.port': expected 1..65535\$" \
    'master: { port = 70000; };\n'
bad catchup 600 "^redsink: $f line 1: setting 'sqlite.catchup_batch_commands': expected 0..10000000\$" \
    'sqlite: { catchup_batch_commands = -1; };\n'
bad float 600 "^redsink: $f line 2: setting 'master.connect_timeout': expected 0.1..3600 seconds\$" \
    'master: {\n connect_timeout = 0.0; };\n'
bad choice 600 "^redsink: $f line 1: setting 'log.level': expected .*\"debug\"\$" \
    'log: { level = "loud"; };\n'
bad group 600 "^redsink: $f line 1: setting 'sqlite': expected a group" \
    'sqlite = "x.db";\n'
bad list 600 "^redsink: $f line 1: setting 'filter.include': expected a list of non-empty strings" \
    'filter: { include = [ "" ]; };\n'
bad world-writable 666 "^redsink: $f is world-writable and holds a password\$" \
    'master: { password = "s3cret"; };\n'
bad password-file 600 "^redsink: $f line 2: setting 'master.password_file': cannot read '$TMP/nope': No such file" \
    "master: {\n  password_file = \"$TMP/nope\"; };\n"
bad syntax 600 "^redsink: cannot read $f line 1: syntax error\$" \
    'master: { port = ; };\n'
out=$("$REDSINK" -c "$TMP/absent.conf" --sqlite x.db 2>&1); rc=$?
[ $rc -eq 2 ] && ok "missing -c file: exit 2, $out" || fail "missing -c file: exit $rc, $out"
# World-writable without a password is accepted.
printf 'log: { level = "info"; };\n' >"$TMP/ww.conf"; chmod 666 "$TMP/ww.conf"
out=$("$REDSINK" -c "$TMP/ww.conf" --sqlite x.db --check-config 2>&1); rc=$?
[ $rc -eq 0 ] && ok "world-writable without a password: accepted" || fail "world-writable without a password: exit $rc, $out"

# TLS and filter settings from the file are accepted, and a bad glob list
# type is refused.
printf 'master: { tls: { enabled = true; server_name = "localhost"; }; };\nfilter: { databases = [0, 2]; include = ["user:*"]; };\n' >"$TMP/tls.conf"
out=$("$REDSINK" -c "$TMP/tls.conf" --sqlite x.db --check-config 2>&1); rc=$?
[ $rc -eq 0 ] && ok "tls and filter settings: $out" || fail "tls and filter settings: exit $rc, $out"
printf 'filter: { include = [1, 2]; };\n' >"$TMP/badglob.conf"
out=$("$REDSINK" -c "$TMP/badglob.conf" --sqlite x.db --check-config 2>&1); rc=$?
[ $rc -eq 2 ] && ok "filter.include of numbers: exit 2, $out" || fail "filter.include of numbers: exit $rc, $out"

# --- the command line alone, and its own errors -------------------------
out=$("$REDSINK" --master "127.0.0.1:$m_PORT" --sqlite "$TMP/cl.db" --check-config 2>&1); rc=$?
[ $rc -eq 0 ] && [ "$out" = "configuration OK" ] && ok "no -c: command line alone" || fail "no -c: exit $rc, $out"
"$REDSINK" --help | grep -q '/lib/redsink/mirror.db' && ok "--help names the default mirror" ||
    fail "--help: no default mirror"
# check_rc RC WORD LABEL ARGS...: --check-config with ARGS exits RC, and its
# output names WORD.
check_rc() {
    local want=$1 word=$2 label=$3; shift 3
    out=$("$REDSINK" "$@" --check-config 2>&1); rc=$?
    [ $rc -eq "$want" ] && echo "$out" | grep -q -- "$word" && ok "$label: exit $rc, $out" ||
        fail "$label: exit $rc, $out"
}
printf 'sqlite: { path = ""; };\n' >"$TMP/nopath.conf"
check_rc 2 sqlite "sqlite.path empty" -c "$TMP/nopath.conf"
check_rc 2 metrics-port "--metrics-port 70000" --sqlite x.db --metrics-port 70000
printf 'metrics: { port = 9187; bind = "127.0.0.1"; };\n' >"$TMP/metrics.conf"
check_rc 0 OK "metrics { port; bind; }" -c "$TMP/metrics.conf" --sqlite x.db
printf 'metrics: { port = "x"; };\n' >"$TMP/badmetrics.conf"
check_rc 2 metrics.port "metrics.port of a string" -c "$TMP/badmetrics.conf" --sqlite x.db
out=$("$REDSINK" --sqlite x.db --listening-port 70000 --check-config 2>&1); rc=$?
[ $rc -eq 2 ] && ok "--listening-port 70000: exit 2, $out" || fail "--listening-port 70000: exit $rc, $out"
out=$("$REDSINK" --sqlite x.db --master-user u --check-config 2>&1); rc=$?
[ $rc -eq 2 ] && ok "--master-user without a password: exit 2" || fail "--master-user alone: exit $rc, $out"
# sqlite.synchronous and replica.ack_interval are acted on: a full-sync
# mirror with fast ACKs, and a value the sink refuses.
cat >"$TMP/sync.conf" <<CONF
master: { port = $m_PORT; password_file = "$TMP/master.pw"; };
replica: { ack_interval = 0.2; };
sqlite: { path = "$TMP/sync.db"; synchronous = "full"; };
CONF
run_conf rs_sync "$TMP/sync.conf"
wait_mirror "$m_PORT" && compare_mirror "$m_PORT" "$TMP/sync.db" "synchronous=full, ack_interval=0.2: mirror equals the master" ||
    fail "synchronous=full: WAIT"
stop_pid "$rs_sync_PID" TERM
# Far behind the master a commit's ACK goes at once, not at the next tick:
# with ticks 60 s apart and no WAIT (whose GETACK redsink answers), the
# offset the master has for redsink still moves while redsink catches up
# with 300k pipelined INCRs, sent while it was stopped (SIGSTOP), so that
# they wait far beyond 256 KiB when it goes on.
cat >"$TMP/acks.conf" <<CONF
master: { port = $m_PORT; password_file = "$TMP/master.pw"; };
replica: { ack_interval = 60; };
sqlite: { path = "$TMP/acks.db"; };
CONF
run_conf rs_acks "$TMP/acks.conf"
wait_mirror "$m_PORT" || fail "ack_interval=60: WAIT"
acked() { rcli "$m_PORT" info replication | tr -d '\r' | sed -n 's/^slave[0-9]*:.*,offset=\([0-9]*\),.*/\1/p' | sort -n | tail -1; }
before=$(acked)
kill -STOP "$rs_acks_PID"
redis-benchmark -p "$m_PORT" -a "$PW" -q -P 16 -n 300000 -r 100000 -t incr >/dev/null 2>&1
kill -CONT "$rs_acks_PID"
grows() { [ "$(acked)" -gt "$before" ]; }
if poll_until 20 grows; then
    ok "ack_interval=60: the master's offset for redsink moved while it caught up ($before -> $(acked))"
else
    fail "ack_interval=60: the master's offset for redsink stayed at $before while it caught up"
fi
stop_pid "$rs_acks_PID" TERM
printf 'sqlite: { synchronous = "fast"; };\n' >"$TMP/badsync.conf"
out=$("$REDSINK" -c "$TMP/badsync.conf" --sqlite x.db --check-config 2>&1); rc=$?
[ $rc -eq 2 ] && ok "synchronous = \"fast\": exit 2, $out" || fail "synchronous = fast: exit $rc, $out"
finish
