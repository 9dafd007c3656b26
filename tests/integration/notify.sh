#!/usr/bin/env bash
# systemd Type=notify without systemd: NOTIFY_SOCKET names a datagram
# socket this test listens on; redsink must send READY=1 once the sync
# started, STATUS= lines that follow its state, WATCHDOG=1 pings when the
# watchdog is on, and STOPPING=1 on SIGTERM.
. "${top_srcdir:-$(dirname "$0")/../..}/tests/lib/lib.sh"

grep -q 'HAVE_SYSTEMD' "$top_builddir/rsconfig.h" 2>/dev/null ||
    { echo "SKIP: built without libsystemd"; exit 77; }

start_redis m
rcli "$m_PORT" set a 1 >/dev/null
sock="$TMP/notify.sock"
python3 - "$sock" "$TMP/notify.out" <<'PY' &
import socket, sys, time
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(sys.argv[1])
s.settimeout(0.2)
end = time.time() + 60
with open(sys.argv[2], "a") as out:
    while time.time() < end:
        try:
            msg = s.recv(4096).decode(errors="replace")
        except socket.timeout:
            continue
        out.write(msg.replace("\n", " | ") + "\n")
        out.flush()
        if "STOPPING=1" in msg:
            break
PY
PIDS="$PIDS $!"
poll_until 10 test -S "$sock" || { fail "notify socket"; finish; }
NOTIFY_SOCKET="$sock" WATCHDOG_USEC=400000 start_redsink rs "$m_PORT" "$TMP/mirror.db"
wait_mirror "$m_PORT" || fail "WAIT"
got() { grep -q "$1" "$TMP/notify.out" 2>/dev/null; }
poll_until 10 got 'READY=1' && ok "READY=1 sent" || fail "no READY=1"
poll_until 10 got 'STATUS=streaming' && ok "STATUS follows the state: $(grep -o 'STATUS=[^|]*' "$TMP/notify.out" | tr '\n' ',' | cut -c1-120)" ||
    fail "no STATUS=streaming"
poll_until 10 got 'WATCHDOG=1' && ok "WATCHDOG=1 pings when WATCHDOG_USEC is set" || fail "no WATCHDOG=1"
stop_pid "$rs_PID" TERM
poll_until 10 got 'STOPPING=1' && ok "STOPPING=1 on SIGTERM" || fail "no STOPPING=1"
finish
