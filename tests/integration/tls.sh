#!/usr/bin/env bash
# TLS to the master: a CA, a server certificate for 127.0.0.1/localhost and
# a client certificate made with the openssl CLI; a master listening on a
# TLS port only. Verified TLS mirrors the master (disk and diskless sync,
# and a PSYNC resume after kill -9); a wrong CA or server name fails with
# a clear reason; --tls-no-verify connects anyway; a master requiring
# client certificates accepts ours and refuses a client without one.
. "${top_srcdir:-$(dirname "$0")/../..}/tests/lib/lib.sh"

command -v openssl >/dev/null || { echo "SKIP: openssl CLI not installed"; exit 77; }
C="$TMP/certs"
mkdir -p "$C"

# mkcert NAME CA_NAME SUBJECT [EXT]: a key and a certificate signed by CA_NAME
mkcert() {
    openssl req -new -newkey rsa:2048 -nodes -keyout "$C/$1.key" -subj "$3" -out "$C/$1.csr" 2>/dev/null &&
    openssl x509 -req -in "$C/$1.csr" -CA "$C/$2.crt" -CAkey "$C/$2.key" -CAcreateserial \
        -days 2 -out "$C/$1.crt" ${4:+-extfile "$4"} 2>/dev/null
}
for ca in ca other-ca; do
    openssl req -x509 -new -newkey rsa:2048 -nodes -keyout "$C/$ca.key" -days 2 \
        -subj "/CN=redsink test $ca" -out "$C/$ca.crt" 2>/dev/null || { echo "FAIL: openssl CA"; exit 99; }
done
printf 'subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\n' >"$C/server.ext"
printf 'extendedKeyUsage=clientAuth\n' >"$C/client.ext"
mkcert server ca "/CN=127.0.0.1" "$C/server.ext" && mkcert client ca "/CN=redsink" "$C/client.ext" ||
    { echo "FAIL: openssl certificates"; exit 99; }

# start_tls_redis NAME [options]: a master on a TLS port only; sets ${NAME}_PORT.
start_tls_redis() {
    local name=$1; shift
    local port; port=$(free_port)
    mkdir -p "$TMP/$name"
    redis-server --bind 127.0.0.1 --port 0 --tls-port "$port" --tls-cert-file "$C/server.crt" \
        --tls-key-file "$C/server.key" --tls-ca-cert-file "$C/ca.crt" --tls-replication yes \
        --save '' --appendonly no --dir "$TMP/$name" --logfile "$TMP/$name/redis.log" \
        --daemonize no "$@" >"$TMP/$name/stdout" 2>&1 &
    local pid=$!
    PIDS="$PIDS $pid"
    eval "${name}_PORT=$port; ${name}_PID=$pid"
    if ! poll_until 10 tcli "$port" ping; then
        if ! kill -0 "$pid" 2>/dev/null && grep -qi 'tls' "$TMP/$name/stdout" "$TMP/$name/redis.log"; then
            echo "SKIP: this redis-server has no TLS support"; exit 77
        fi
        echo "FAIL: redis-server $name did not start"; exit 99
    fi
}
tcli() {
    local port=$1; shift
    redis-cli --tls --cacert "$C/ca.crt" --cert "$C/client.crt" --key "$C/client.key" -p "$port" "$@"
}
# compare.py over TLS, with the client certificate
export REDSINK_TEST_TLS_CA="$C/ca.crt" REDSINK_TEST_TLS_CERT="$C/client.crt" REDSINK_TEST_TLS_KEY="$C/client.key"
tls_field() { tcli "$1" info "$2" | tr -d '\r' | sed -n "s/^$3://p"; }
# lib.sh's wait_mirror first polls this; the masters here speak TLS only
replica_online() { tcli "$1" info replication | grep -q 'state=online'; }
# expect_log NAME PATTERN LABEL: redsink NAME logs PATTERN, then stop it
expect_log() {
    local pid; eval "pid=\$${1}_PID"
    if poll_until 20 grep -q "$2" "$TMP/$1.log"; then
        ok "$3: $(grep -m1 "$2" "$TMP/$1.log" | cut -d' ' -f3-)"
    else
        fail "$3"; cat "$TMP/$1.log"
    fi
    stop_pid "$pid" TERM
}

# 1. Verified TLS, disk-based and diskless full sync, then the stream.
for diskless in no yes; do
    start_tls_redis m_$diskless --tls-auth-clients no --repl-diskless-sync "$diskless" \
        --repl-diskless-sync-delay 0
    eval "port=\$m_${diskless}_PORT"
    $COMPARE load 127.0.0.1 "$port" stream-ops 5
    db="$TMP/v_$diskless.db"
    start_redsink rs_v_$diskless "$port" "$db" --tls --tls-ca-file "$C/ca.crt"
    wait_mirror "$port" && compare_mirror "$port" "$db" "diskless=$diskless: verified TLS, mirror equals the master" ||
        { fail "diskless=$diskless: WAIT over TLS"; cat "$TMP/rs_v_$diskless.log"; }
    tcli "$port" info replication | grep -q 'slave0:.*state=online' &&
        ok "diskless=$diskless: the master lists redsink online" || fail "diskless=$diskless: not online"
    $COMPARE load 127.0.0.1 "$port" stream-ops 6
    wait_mirror "$port" && compare_mirror "$port" "$db" "diskless=$diskless: stream over TLS applied" ||
        fail "diskless=$diskless: stream WAIT"
done

# 2. kill -9 and restart: PSYNC over TLS continues.
partial=$(tls_field "$m_no_PORT" stats sync_partial_ok)
stop_pid "$rs_v_no_PID" KILL
$COMPARE load 127.0.0.1 "$m_no_PORT" stream-ops 7
start_redsink rs_v_no2 "$m_no_PORT" "$TMP/v_no.db" --tls --tls-ca-file "$C/ca.crt"
wait_mirror "$m_no_PORT" && compare_mirror "$m_no_PORT" "$TMP/v_no.db" "after kill -9: mirror equals the master" ||
    fail "after kill -9: WAIT"
[ "$(tls_field "$m_no_PORT" stats sync_partial_ok)" -gt "$partial" ] &&
    ok "after kill -9: partial resync over TLS" || fail "after kill -9: no partial resync"
stop_pid "$rs_v_no2_PID" TERM

# 3. A CA that did not sign the master's certificate; a wrong server name.
start_redsink rs_ca "$m_no_PORT" "$TMP/ca.db" --tls --tls-ca-file "$C/other-ca.crt"
expect_log rs_ca "TLS handshake with 127.0.0.1:$m_no_PORT failed: certificate verify failed" "wrong CA"
start_redsink rs_sn "$m_no_PORT" "$TMP/sn.db" --tls --tls-ca-file "$C/ca.crt" --tls-server-name redis.example
expect_log rs_sn "TLS handshake with 127.0.0.1:$m_no_PORT failed: certificate verify failed: .*mismatch" "wrong server name"
start_redsink rs_ip "$m_no_PORT" "$TMP/ip.db" --tls --tls-ca-file "$C/ca.crt" --tls-server-name localhost
wait_mirror "$m_no_PORT" && compare_mirror "$m_no_PORT" "$TMP/ip.db" "--tls-server-name localhost: DNS SAN verified" ||
    fail "--tls-server-name localhost"
stop_pid "$rs_ip_PID" TERM
start_redsink rs_plain "$m_no_PORT" "$TMP/plain.db"
expect_log rs_plain "reconnecting" "plain TCP to a TLS port fails"

# 4. --tls-no-verify: the wrong CA no longer matters.
db="$TMP/nv.db"
start_redsink rs_nv "$m_no_PORT" "$db" --tls --tls-ca-file "$C/other-ca.crt" --tls-no-verify
wait_mirror "$m_no_PORT" && compare_mirror "$m_no_PORT" "$db" "--tls-no-verify: mirror equals the master" ||
    { fail "--tls-no-verify: WAIT"; cat "$TMP/rs_nv.log"; }
stop_pid "$rs_nv_PID" TERM

# 5. A master requiring client certificates.
start_tls_redis mc --tls-auth-clients yes --repl-diskless-sync no
$COMPARE load 127.0.0.1 "$mc_PORT" stream-ops 8
db="$TMP/cc.db"
start_redsink rs_cc "$mc_PORT" "$db" --tls --tls-ca-file "$C/ca.crt" \
    --tls-cert-file "$C/client.crt" --tls-key-file "$C/client.key"
wait_mirror "$mc_PORT" && compare_mirror "$mc_PORT" "$db" "client certificate: mirror equals the master" ||
    { fail "client certificate: WAIT"; cat "$TMP/rs_cc.log"; }
stop_pid "$rs_cc_PID" TERM
start_redsink rs_nc "$mc_PORT" "$TMP/nc.db" --tls --tls-ca-file "$C/ca.crt"
# TLS 1.3: the server refuses after the handshake; the client sees its
# alert or, when the close wins the race, a reset of the connection
expect_log rs_nc "certificate required\\|handshake failure\\|Connection reset by peer" "no client certificate: refused"
start_redsink rs_bk "$mc_PORT" "$TMP/bk.db" --tls --tls-ca-file "$C/ca.crt" --tls-cert-file "$C/client.crt" \
    --tls-key-file "$C/server.key"
wait "$rs_bk_PID"; rc=$?
if [ $rc -ne 0 ] && grep -q "cannot load TLS key '$C/server.key'.*configuration error" "$TMP/rs_bk.log"; then
    ok "mismatched key: exit $rc, $(grep -m1 'cannot load' "$TMP/rs_bk.log" | cut -d' ' -f3-)"
else
    fail "mismatched key: exit $rc"; cat "$TMP/rs_bk.log"
fi
finish
