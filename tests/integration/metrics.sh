#!/usr/bin/env bash
# The Prometheus endpoint (--metrics-port), read with curl: the text
# format, and every metric moving when it should - a full sync counts and
# loads keys, writes move the offsets, the per-command counters and the
# commit histogram, a killed link counts a reconnect by reason, a master
# restarted empty counts a second full sync, a fake master's unknown command
# counts. Then the status endpoint scraped the way redis_exporter does:
# every command it does not serve gets -ERR, pipelined or not, and the
# connection stays up.
. "${top_srcdir:-$(dirname "$0")/../..}/tests/lib/lib.sh"
command -v curl >/dev/null || { echo "SKIP: curl not installed"; exit 77; }

start_redis m
for i in $(seq 1 40); do echo "SET preload:$i $i"; done | rcli "$m_PORT" >/dev/null
db=$TMP/mirror.db
mport=$(free_port)
sport=$(free_port)
start_redsink rs "$m_PORT" "$db" --metrics-port "$mport" --listening-port "$sport"

url="http://127.0.0.1:$mport/metrics"
scrape() { curl -sf --max-time 5 "$url" >"$TMP/scrape" && cat "$TMP/scrape"; }
# m SERIES: the value of one series (name with its labels, exactly).
m() { scrape >/dev/null && m_of "$1"; }
# m_of SERIES: its value in the last scrape (series compared within one scrape)
m_of() { awk -v s="$1" '$1 == s { print $2 }' "$TMP/scrape"; }
# metric_is SERIES VALUE: for poll_until.
metric_is() { [ "$(m "$1")" = "$2" ]; }
gt() { awk -v a="$1" -v b="$2" 'BEGIN { exit !(a > b) }'; }

poll_until 10 curl -sf --max-time 2 "$url" || { fail "no answer at $url"; cat "$TMP/rs.log"; finish; }
grep -q "metrics at http://127.0.0.1:$mport/metrics" "$TMP/rs.log" && ok "logged the metrics URL" ||
    fail "no log line for the metrics URL"

# --- HTTP and the text format ----------------------------------------------
hdr=$(curl -s -D - -o /dev/null "$url" | tr -d '\r')
echo "$hdr" | grep -q '^HTTP/1.1 200' && ok "GET /metrics: 200" || fail "GET /metrics: $(echo "$hdr" | head -1)"
echo "$hdr" | grep -qi '^content-type: text/plain; version=0.0.4' && ok "content type of the text format 0.0.4" ||
    fail "content type: $(echo "$hdr" | grep -i content-type)"
code=$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$mport/other")
[ "$code" = 404 ] && ok "other paths: 404" || fail "other path: $code"
code=$(curl -s -o /dev/null -w '%{http_code}' -X POST --data x "$url")
[ "$code" = 405 ] && ok "POST /metrics: 405" || fail "POST: $code"
scrape >/dev/null
bad=$(grep -Ev '^# (HELP|TYPE) [a-zA-Z_:][a-zA-Z0-9_:]* .+$|^[a-zA-Z_:][a-zA-Z0-9_:]*(\{[a-zA-Z_][a-zA-Z0-9_]*="[^"]*"(,[a-zA-Z_][a-zA-Z0-9_]*="[^"]*")*\})? -?[0-9.e+Inf]+$' "$TMP/scrape")
[ -z "$bad" ] && ok "every line is HELP, TYPE or a sample" || fail "lines outside the format: $bad"
for f in redsink_link_up redsink_state redsink_master_repl_offset_bytes \
         redsink_committed_repl_offset_bytes redsink_lag_bytes redsink_lag_seconds \
         redsink_last_ack_age_seconds redsink_commands_applied_total redsink_unknown_commands_total \
         redsink_full_syncs_total redsink_full_sync_duration_seconds_total \
         redsink_last_full_sync_duration_seconds redsink_keys_loaded \
         redsink_sqlite_commit_duration_seconds redsink_sqlite_wal_bytes redsink_reconnects_total; do
    grep -q "^# TYPE $f " "$TMP/scrape" || fail "no metric $f"
done
ok "every metric family is there"
listen=$(ss -ltnH "sport = :$mport" 2>/dev/null | awk '{ print $4 }')
[ -z "$listen" ] || [ "$listen" = "127.0.0.1:$mport" ] && ok "listens on loopback (${listen:-ss not available})" ||
    fail "listens on $listen"

# --- the full sync -------------------------------------------------------
wait_mirror "$m_PORT" >/dev/null || fail "WAIT after the full sync"
poll_until 10 metric_is redsink_link_up 1 && ok "redsink_link_up 1" || fail "redsink_link_up $(m redsink_link_up)"
[ "$(m 'redsink_state{state="streaming"}')" = 1 ] && ok "state streaming" || fail "state: $(grep '^redsink_state' "$TMP/scrape")"
[ "$(m redsink_full_syncs_total)" = 1 ] && ok "one full sync counted" || fail "full syncs: $(m redsink_full_syncs_total)"
[ "$(m redsink_keys_loaded)" = 40 ] && ok "redsink_keys_loaded 40" || fail "keys loaded: $(m redsink_keys_loaded)"
gt "$(m redsink_last_full_sync_duration_seconds)" 0 && ok "full sync duration $(m redsink_last_full_sync_duration_seconds) s" ||
    fail "full sync duration $(m redsink_last_full_sync_duration_seconds)"
gt "$(m redsink_sqlite_wal_bytes)" 0 && ok "WAL size $(m redsink_sqlite_wal_bytes) bytes" ||
    fail "WAL size $(m redsink_sqlite_wal_bytes)"
age=$(m redsink_last_ack_age_seconds)
gt "$age" -0.001 && gt 5 "$age" && ok "last ACK $age s ago" || fail "ACK age $age"

# --- writes move the offsets, the per-command counters, the commits ------
s0=$(m 'redsink_commands_applied_total{command="set"}'); s0=${s0:-0}
h0=$(m 'redsink_commands_applied_total{command="hset"}'); h0=${h0:-0}
c0=$(m redsink_sqlite_commit_duration_seconds_count)
o0=$(m redsink_committed_repl_offset_bytes)
rcli "$m_PORT" set w:1 a >/dev/null
rcli "$m_PORT" set w:2 b >/dev/null
rcli "$m_PORT" hset w:h f v >/dev/null
rcli "$m_PORT" incr w:n >/dev/null
[ "$(rcli "$m_PORT" wait 1 5000)" = 1 ] || fail "WAIT 1 after the writes"
# the master's offset now (it moves by itself too: a PING every 10 s)
at_master() {
    moff=$(info_field "$m_PORT" replication master_repl_offset)
    metric_is "$1" "$moff"
}
poll_until 10 at_master redsink_committed_repl_offset_bytes &&
    ok "committed offset = master_repl_offset ($moff)" || fail "committed $(m redsink_committed_repl_offset_bytes), master $moff"
gt "$moff" "$o0" && ok "the committed offset moved ($o0 -> $moff)" || fail "offset did not move: $o0 -> $moff"
poll_until 10 at_master redsink_master_repl_offset_bytes && ok "received offset = master_repl_offset" ||
    fail "received offset $(m redsink_master_repl_offset_bytes), master $moff"
[ "$(m 'redsink_commands_applied_total{command="set"}')" -ge $((s0 + 2)) ] && ok "set counted ($s0 -> $(m 'redsink_commands_applied_total{command="set"}'))" ||
    fail "set: $s0 -> $(m 'redsink_commands_applied_total{command="set"}')"
[ "$(m 'redsink_commands_applied_total{command="hset"}')" = $((h0 + 1)) ] && ok "hset counted" ||
    fail "hset: $h0 -> $(m 'redsink_commands_applied_total{command="hset"}')"
[ "$(m 'redsink_commands_applied_total{command="incr"}')" = 1 ] && ok "incr counted" || fail "incr: $(m 'redsink_commands_applied_total{command="incr"}')"
gt "$(m redsink_sqlite_commit_duration_seconds_count)" "$c0" && ok "commits counted ($c0 -> $(m redsink_sqlite_commit_duration_seconds_count))" ||
    fail "commit count $c0 -> $(m redsink_sqlite_commit_duration_seconds_count)"
# one scrape: a commit (the master's PING) may fall between two
scrape >/dev/null
[ "$(m_of 'redsink_sqlite_commit_duration_seconds_bucket{le="+Inf"}')" = "$(m_of redsink_sqlite_commit_duration_seconds_count)" ] &&
    ok "histogram +Inf bucket = count" ||
    fail "histogram +Inf $(m_of 'redsink_sqlite_commit_duration_seconds_bucket{le="+Inf"}') != count $(m_of redsink_sqlite_commit_duration_seconds_count)"
poll_until 10 metric_is redsink_lag_bytes 0 && ok "no lag once committed" || fail "lag $(m redsink_lag_bytes)"

# --- the link killed: a reconnect by reason, PSYNC continues --------------
reconnects() { scrape | awk '$1 ~ /^redsink_reconnects_total/ { s += $2 } END { print s + 0 }'; }
some_reconnect() { [ "$(reconnects)" -ge 1 ]; }
rcli "$m_PORT" client kill type replica >/dev/null
# the master closes the socket: read() sees its end (or, when an ACK of
# ours was still unread there, a reset)
if poll_until 20 some_reconnect; then
    why=$(awk '$1 ~ /^redsink_reconnects_total/ && $2 > 0 { print $1 }' "$TMP/scrape")
    case $why in
    *closed_by_master*|*io_error*) ok "CLIENT KILL: one reconnect counted, $why" ;;
    *) fail "CLIENT KILL counted as $why" ;;
    esac
else
    fail "reconnects: $(grep '^redsink_reconnects_total' "$TMP/scrape" | tr '\n' ' ')"
fi
wait_mirror "$m_PORT" >/dev/null || fail "WAIT after CLIENT KILL"
poll_until 10 metric_is redsink_link_up 1 && ok "link up again" || fail "link not up again"
[ "$(m redsink_full_syncs_total)" = 1 ] && ok "partial resync: full syncs still 1" || fail "full syncs $(m redsink_full_syncs_total)"

# --- the master restarted empty: a second full sync -------------------------
port=$m_PORT
stop_pid "$m_PID" KILL
redis-server --bind 127.0.0.1 --port "$port" --save '' --appendonly no --dir "$TMP/m" \
    --logfile "$TMP/m/redis2.log" --daemonize no &
m_PID=$!; PIDS="$PIDS $m_PID"
poll_until 10 rcli "$port" ping || fail "master did not restart"
rcli "$port" set after:restart 1 >/dev/null
poll_until 30 metric_is redsink_full_syncs_total 2 && ok "new master: full syncs 2" || fail "full syncs $(m redsink_full_syncs_total)"
wait_mirror "$port" >/dev/null || fail "WAIT after the restart"
# 1, or 0 when redsink synced before the SET reached the new master
small() { [ "$(m redsink_keys_loaded)" -le 1 ]; }
poll_until 10 small && ok "keys loaded $(m redsink_keys_loaded) (the new master's, was 40)" ||
    fail "keys loaded $(m redsink_keys_loaded)"
total=$(grep '^redsink_reconnects_total' "$TMP/scrape" | awk '{ s += $2 } END { print s }')
[ "$total" -ge 2 ] && ok "reconnects counted: $total" || fail "reconnects total $total"

# --- an unknown command from a (fake) master -----------------------------------
resp FROBNICATE x >"$TMP/stream.resp"
resp SET fake:key v >>"$TMP/stream.resp"
start_fake fk psync "$top_srcdir/tests/fixtures/rdb/7.2.6/all-types.rdb" "$TMP/stream.resp"
fport=$(free_port)
start_redsink rs2 "$fk_PORT" "$TMP/fake.db" --metrics-port "$fport"
url="http://127.0.0.1:$fport/metrics"
poll_until 20 metric_is redsink_unknown_commands_total 1 && ok "unknown command counted" ||
    fail "unknown commands: $(m redsink_unknown_commands_total)"
[ "$(m 'redsink_commands_applied_total{command="set"}')" = 1 ] && ok "the SET after it counted" ||
    fail "fake set: $(m 'redsink_commands_applied_total{command="set"}')"

# --- redis_exporter-style scraping of the status endpoint ---------------------
out=$(printf '%s\n' "CONFIG GET maxmemory" "CLIENT LIST" "SLOWLOG GET 10" "LATENCY LATEST" \
          "INFO ALL" "MODULE LIST" "PING" | redis-cli -p "$sport" 2>&1)
n_err=$(echo "$out" | grep -c '^ERR unknown command')
[ "$n_err" = 5 ] && ok "CONFIG, CLIENT LIST, SLOWLOG, LATENCY, MODULE: -ERR each" || fail "errors $n_err: $out"
echo "$out" | grep -q '^role:slave' && echo "$out" | tail -1 | grep -qx PONG &&
    ok "INFO ALL and PING still answered on the same connection" || fail "after the errors: $out"
# All at once in one write, RESP and inline, one with more arguments than
# any command here takes: one reply each, in order, then the connection
# still answers.
{
    resp CONFIG GET '*'; resp CLIENT LIST; resp SLOWLOG LEN; resp INFO all
    resp CLIENT SETNAME exporter; resp $(seq 1 40); printf 'CLUSTER INFO\r\n'; resp PING
} >"$TMP/pipe.resp"
python3 - "$sport" "$TMP/pipe.resp" >"$TMP/pipe.out" 2>&1 <<'PY'
import socket, sys
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=5)
s.sendall(open(sys.argv[2], "rb").read())
buf = b""
replies = []
def line():
    global buf
    while b"\r\n" not in buf:
        d = s.recv(65536)
        if not d:
            raise SystemExit("connection closed after %d replies" % len(replies))
        buf += d
    l, buf = buf.split(b"\r\n", 1)
    return l
def need(n):
    global buf
    while len(buf) < n:
        d = s.recv(65536)
        if not d:
            raise SystemExit("connection closed after %d replies" % len(replies))
        buf += d
while len(replies) < 8:
    l = line()
    if l[:1] == b"$":
        n = int(l[1:]); need(n + 2); buf = buf[n + 2:]; replies.append("bulk")
    else:
        replies.append(l.decode())
s.sendall(b"*1\r\n$4\r\nPING\r\n")
replies.append(line().decode())
print("\n".join(r.split(" ")[0] for r in replies))
PY
exp=$(printf '%s\n' -ERR -ERR -ERR bulk +OK -ERR -ERR +PONG +PONG)
[ "$(cat "$TMP/pipe.out")" = "$exp" ] && ok "pipelined: -ERR for each unknown, replies in order, connection kept" ||
    fail "pipelined replies: $(tr '\n' ' ' <"$TMP/pipe.out")"
stop_daemons
finish
