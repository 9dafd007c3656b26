#!/usr/bin/env bash
# Recorded old masters (tests/fixtures/old_masters/<version>/, made by
# tests/tools/old_masters.py against a real redis-server of that version): the
# fake master answers INFO with the recorded version and sends the exact
# snapshot and stream bytes that master sent; the mirror must end equal to
# the keyspace the real master had, with no command skipped (a master only
# propagates what it executed). Each recording holds the commands that met
# a difference between versions (tests/README) and a random workload.
. "${top_srcdir:-$(dirname "$0")/../..}/tests/lib/lib.sh"

FIX=$top_srcdir/tests/fixtures/old_masters
command -v sqlite3 >/dev/null || { echo "SKIP: sqlite3 not installed"; exit 77; }
marker_row() {  # marker_row DB: the recording's last write is in the mirror
    [ "$(sqlite3 "$1" "SELECT substr(value, 1, 4) FROM redis_strings WHERE db = 0 AND key = '__old_masters_marker'" 2>/dev/null)" = "end " ]
}

n=0
for dir in "$FIX"/*/; do
    [ -f "$dir/version" ] || continue
    v=$(cat "$dir/version"); name=v${v//./_}; n=$((n + 1))
    case $v in
        2.6.*) mode=sync-only ;;         # SYNC only
        2.8.*|3.0.*) mode=psync1 ;;       # PSYNC without psync2
        *) mode=psync ;;
    esac
    gzip -dc "$dir/stream.bin.gz" > "$TMP/$name.stream"
    gzip -dc "$dir/expected.json.gz" > "$TMP/$name.json"
    FAKE_MASTER_VERSION=$v start_fake "f_$name" "$mode" "$dir/dump.rdb" "$TMP/$name.stream"
    port_var=f_${name}_PORT
    start_redsink "rs_$name" "${!port_var}" "$TMP/$name.db"
    if ! poll_until 60 marker_row "$TMP/$name.db"; then
        fail "$v: the recorded stream was not applied to its end"; tail -5 "$TMP/rs_$name.log"; continue
    fi
    grep -q "master is Redis $v (INFO server)" "$TMP/rs_$name.log" \
        && ok "$v: the master's version is taken from INFO" || fail "$v: version not logged"
    if $COMPARE compare-expected "$TMP/$name.json" "$TMP/$name.db" >"$TMP/$name.diff" 2>&1; then
        ok "$v: mirror equals the recorded master's keyspace ($(grep -o '([0-9]* keys)' "$TMP/$name.diff"))"
    else
        fail "$v: mirror differs from the recorded master"; head -20 "$TMP/$name.diff"
    fi
    if grep -q "skipping '" "$TMP/rs_$name.log"; then
        fail "$v: commands the master executed were skipped"; grep "skipping '" "$TMP/rs_$name.log" | head -5
    else
        ok "$v: no command of the recording skipped"
    fi
    rs_pid=rs_${name}_PID; fake_pid=f_${name}_FAKE_PID
    stop_pid "${!rs_pid}"; stop_pid "${!fake_pid}"
done
[ "$n" -gt 0 ] || fail "no recording under $FIX"
finish
