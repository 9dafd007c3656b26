#!/usr/bin/env bash
# Every fixture RDB (Redis 2.4 .. 8.0, valkey 8; tests/fixtures/rdb) sent
# over the replication link as the full-sync payload by tests/lib/fake_master.py,
# once with "$<len>" framing and once diskless with "$EOF:<mark>": each
# mirror must equal the fixture's expected.json (what the generating server
# held), as `redsink import` must in fixtures.sh.
. "${top_srcdir:-$(dirname "$0")/../..}/tests/lib/lib.sh"

ls "$top_srcdir"/tests/fixtures/rdb/*/*.rdb > "$TMP/files"
n=$(wc -l < "$TMP/files")
[ "$n" -ge 40 ] || fail "only $n fixture files found"
: > "$TMP/empty.resp"
loaded() { [ "$(sqlite3 "$1" "SELECT state || ' ' || offset FROM redsink_status" 2>/dev/null)" = "streaming 100" ]; }

for mode in files files-eof; do
    case $mode in files) fm=fm_len ;; *) fm=fm_eof ;; esac
    # connection N of this fake master gets file N
    start_fake "$fm" "$mode" "$TMP/files" "$TMP/empty.resp"
    eval "port=\$${fm}_PORT"
    i=0
    while read -r rdb; do
        i=$((i + 1))
        dir=$(dirname "$rdb")
        name="$(basename "$dir")/$(basename "$rdb" .rdb)"
        expected="$dir/expected.json"
        case $rdb in *-cluster.rdb) expected="$dir/expected-cluster.json" ;; esac
        db="$TMP/$mode-$i.db"
        start_redsink rs "$port" "$db"
        if ! poll_until 30 loaded "$db"; then
            fail "$mode $name: not loaded: $(tail -n 2 "$TMP/rs.log")"
            stop_pid "$rs_PID" KILL
            continue
        fi
        stop_pid "$rs_PID" TERM          # the fake then serves the next file
        if res=$($COMPARE compare-expected "$expected" "$db" 2>&1); then
            ok "$mode $name (${res##*(}"
        else
            fail "$mode $name"; echo "$res" | head -20
        fi
    done < "$TMP/files"
    [ "$(grep -c '^PSYNC ? -1$' "$TMP/$fm.port.log")" = "$n" ] \
        && ok "$mode: $n full syncs, one per file" || fail "$mode: full sync count"
done
finish
