#!/usr/bin/env bash
# Running as a service: --daemonize with a locked --pidfile, --log-file
# reopened on SIGHUP, --syslog, --user, and the sd_notify messages.
. "${top_srcdir:-$(dirname "$0")/../..}/tests/lib/lib.sh"

start_redis m
rcli "$m_PORT" set before daemon >/dev/null

alive() { kill -0 "$1" 2>/dev/null; }
gone() { ! kill -0 "$1" 2>/dev/null; }
# stop_daemon PID: SIGTERM a process that is not our child, wait until gone.
stop_daemon() { kill -TERM "$1" 2>/dev/null; poll_until 20 gone "$1"; }
has() { grep -q "$2" "$1" 2>/dev/null; }

# ---- daemonize, relative paths, pidfile ----
mkdir -p "$TMP/run"
(cd "$TMP" && "$REDSINK" --master "127.0.0.1:$m_PORT" --sqlite mirror.db --log-level debug \
    --daemonize --pidfile run/redsink.pid --log-file redsink.log) >"$TMP/fg.out" 2>&1
rc=$?
pid=$(cat "$TMP/run/redsink.pid" 2>/dev/null)
if [ $rc -eq 0 ] && [ -n "$pid" ] && alive "$pid"; then
    PIDS="$PIDS $pid"
    ok "--daemonize returns 0 and the pidfile names the running daemon ($pid)"
else
    fail "--daemonize: rc=$rc pid='$pid': $(cat "$TMP/fg.out")"; finish
fi
[ ! -s "$TMP/fg.out" ] && ok "nothing on the terminal" || fail "terminal output: $(cat "$TMP/fg.out")"
[ "$(ps -o sid= -p "$pid" | tr -d ' ')" = "$pid" ] && ok "daemon leads its own session" ||
    fail "daemon is not a session leader"
[ "$(readlink "/proc/$pid/cwd")" = / ] && ok "daemon runs in /" || fail "daemon cwd $(readlink "/proc/$pid/cwd")"
wait_mirror "$m_PORT" >/dev/null && compare_mirror "$m_PORT" "$TMP/mirror.db" \
    "daemonized redsink mirrors (relative --sqlite resolved before chdir)"

out=$("$REDSINK" --master "127.0.0.1:$m_PORT" --sqlite "$TMP/other.db" \
      --pidfile "$TMP/run/redsink.pid" 2>&1); rc=$?
case "$rc:$out" in
    1:*"already running as pid $pid"*) ok "a second instance refuses the pidfile: $out" ;;
    *) fail "second instance: rc=$rc: $out" ;;
esac
out=$("$REDSINK" --master "127.0.0.1:$m_PORT" --sqlite "$TMP/other.db" --daemonize \
      --pidfile "$TMP/run/redsink.pid" --log-file "$TMP/other.log" 2>&1); rc=$?
[ $rc -eq 1 ] && [ -n "$out" ] && ok "a second --daemonize refuses too, on the terminal" ||
    fail "second --daemonize: rc=$rc: $out"
[ "$(cat "$TMP/run/redsink.pid")" = "$pid" ] && ok "the pidfile still names the first daemon" ||
    fail "pidfile changed to $(cat "$TMP/run/redsink.pid")"

# ---- log file, SIGHUP reopen ----
has "$TMP/redsink.log" "mirroring" && ok "log file written" || fail "log file lacks the start line"
mv "$TMP/redsink.log" "$TMP/redsink.log.1"
kill -HUP "$pid"
if poll_until 10 has "$TMP/redsink.log" "reopened log file"; then
    ok "SIGHUP: new log file created: $(head -1 "$TMP/redsink.log")"
else
    fail "no new log file after SIGHUP"
fi
alive "$pid" && ok "daemon survives SIGHUP" || fail "daemon died on SIGHUP"
rcli "$m_PORT" set after rotate >/dev/null
wait_mirror "$m_PORT" >/dev/null && compare_mirror "$m_PORT" "$TMP/mirror.db" "mirroring goes on after SIGHUP"
[ "$(stat -c %a "$TMP/redsink.log")" = 640 ] && ok "log file mode 0640" ||
    fail "log file mode $(stat -c %a "$TMP/redsink.log")"

# ---- SIGTERM ----
stop_daemon "$pid" && ok "SIGTERM stops the daemon" || fail "daemon ignores SIGTERM"
[ ! -e "$TMP/run/redsink.pid" ] && ok "pidfile removed on exit" || fail "pidfile left behind"
has "$TMP/redsink.log" "stopped" && ok "'stopped' logged to the new file" || fail "no 'stopped' line"

# ---- stale pidfile, symlink, errors on the terminal ----
echo 999999 > "$TMP/run/redsink.pid"
"$REDSINK" --master "127.0.0.1:$m_PORT" --sqlite "$TMP/mirror.db" --daemonize \
    --pidfile "$TMP/run/redsink.pid" --log-file "$TMP/redsink.log" 2>"$TMP/fg.out"
pid=$(cat "$TMP/run/redsink.pid" 2>/dev/null)
if [ "$pid" != 999999 ] && [ -n "$pid" ] && alive "$pid"; then
    PIDS="$PIDS $pid"; ok "a stale pidfile is taken over"
else
    fail "stale pidfile: pid '$pid': $(cat "$TMP/fg.out")"
fi
stop_daemon "$pid"
ln -s "$TMP/target" "$TMP/run/link.pid"
out=$("$REDSINK" --sqlite "$TMP/mirror.db" --pidfile "$TMP/run/link.pid" 2>&1); rc=$?
[ $rc -eq 1 ] && [ ! -e "$TMP/target" ] && ok "a symlinked pidfile is refused: $out" ||
    fail "symlinked pidfile: rc=$rc: $out"
out=$("$REDSINK" --master "127.0.0.1:$m_PORT" --sqlite "$TMP/nodir/mirror.db" --daemonize \
      --log-file "$TMP/err.log" 2>&1); rc=$?
[ $rc -eq 1 ] && [ -n "$out" ] && ok "a mirror error reaches the terminal: $out" ||
    fail "bad mirror with --daemonize: rc=$rc: $out"
out=$("$REDSINK" --sqlite "$TMP/mirror.db" --log-file "$TMP/nodir/x.log" 2>&1); rc=$?
[ $rc -eq 1 ] && ok "an unwritable log file is refused: $out" || fail "bad log file: rc=$rc: $out"

# ---- syslog: nothing on stderr (the lines go to /dev/log, if there is one) ----
start_redsink sl "$m_PORT" "$TMP/syslog.db" --syslog
wait_mirror "$m_PORT" >/dev/null && compare_mirror "$m_PORT" "$TMP/syslog.db" "--syslog mirrors"
stop_pid "$sl_PID"
[ ! -s "$TMP/sl.log" ] && ok "--syslog writes nothing to stderr" || fail "stderr with --syslog: $(head -3 "$TMP/sl.log")"
if [ -S /dev/log ] && command -v logger >/dev/null; then
    ok "syslog socket present: lines went to /dev/log (not read back)"
else
    echo "# skip: no /dev/log socket, syslog delivery not checked"
fi

# ---- --user ----
if [ "$(id -u)" = 0 ] && id nobody >/dev/null 2>&1; then
    chmod 711 "$TMP"; mkdir -p "$TMP/u"; chmod 777 "$TMP/u"
    "$REDSINK" --master "127.0.0.1:$m_PORT" --sqlite "$TMP/u/mirror.db" --daemonize \
        --pidfile "$TMP/u.pid" --log-file "$TMP/u.log" --user nobody 2>"$TMP/fg.out"
    pid=$(cat "$TMP/u.pid" 2>/dev/null)
    if [ -n "$pid" ] && alive "$pid"; then
        PIDS="$PIDS $pid"
        uids=$(awk '/^Uid:/ {print $2, $3, $4, $5}' "/proc/$pid/status")
        n=$(id -u nobody)
        [ "$uids" = "$n $n $n $n" ] && ok "--user nobody: every uid is $n" || fail "--user: uids $uids"
        rcli "$m_PORT" set as nobody >/dev/null
        wait_mirror "$m_PORT" >/dev/null && compare_mirror "$m_PORT" "$TMP/u/mirror.db" "mirrors as nobody"
        stop_daemon "$pid" && ok "stops as nobody" || fail "--user daemon ignores SIGTERM"
        [ ! -s "$TMP/u.pid" ] && ok "pidfile emptied (its directory is root's)" || fail "pidfile still names $(cat "$TMP/u.pid")"
    else
        fail "--user nobody did not start: $(cat "$TMP/fg.out")"
    fi
else
    out=$("$REDSINK" --sqlite "$TMP/mirror.db" --user root 2>&1); rc=$?
    [ $rc -eq 1 ] && ok "--user root refused without root: $out" || fail "--user root: rc=$rc"
fi
out=$("$REDSINK" --sqlite "$TMP/mirror.db" --user no-such-user-xyz 2>&1); rc=$?
[ $rc -eq 1 ] && ok "unknown --user refused: $out" || fail "unknown user: rc=$rc: $out"

# ---- sd_notify (only when built with libsystemd) ----
if grep -q 'define HAVE_SYSTEMD 1' "$top_builddir/config.h" 2>/dev/null; then
    python3 - "$TMP/notify.sock" "$TMP/notify.txt" <<'PY' &
import socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(sys.argv[1])
with open(sys.argv[2], "a") as f:
    while True:
        f.write(s.recv(4096).decode() + "\n"); f.flush()
PY
    PIDS="$PIDS $!"
    poll_until 10 test -S "$TMP/notify.sock"
    NOTIFY_SOCKET="$TMP/notify.sock" WATCHDOG_USEC=200000 \
        start_redsink nt "$m_PORT" "$TMP/notify.db"
    wait_mirror "$m_PORT" >/dev/null
    for want in READY=1 STATUS=connecting "STATUS=syncing" STATUS=streaming WATCHDOG=1; do
        poll_until 10 has "$TMP/notify.txt" "^$want" && ok "sd_notify: $want" || fail "sd_notify: no $want"
    done
    [ "$(grep -c '^READY=1' "$TMP/notify.txt")" = 1 ] && ok "READY=1 sent once" || fail "READY=1 count"
    stop_pid "$nt_PID"
    poll_until 5 has "$TMP/notify.txt" "^STOPPING=1" && ok "sd_notify: STOPPING=1" || fail "no STOPPING=1"
else
    echo "# skip: built without libsystemd"
fi

finish
