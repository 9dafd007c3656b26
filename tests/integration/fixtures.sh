#!/usr/bin/env bash
# Every fixture RDB (Redis 2.4 .. 8.0, valkey 8) imported with
# `redsink import` must show exactly its expected.json through the views.
. "${top_srcdir:-$(dirname "$0")/../..}/tests/lib/lib.sh"

n=0
for dir in "$top_srcdir"/tests/fixtures/rdb/*/; do
    ver=$(basename "$dir")
    for rdb in "$dir"*.rdb; do
        name=$(basename "$rdb" .rdb)
        expected="$dir/expected.json"
        [ "$name" = all-types-cluster ] && expected="$dir/expected-cluster.json"
        db="$TMP/$ver-$name.db"
        if ! out=$("$REDSINK" import "$rdb" --sqlite "$db" 2>&1); then
            fail "$ver/$name: import failed: $out"
            continue
        fi
        if res=$($COMPARE compare-expected "$expected" "$db" 2>&1); then
            ok "$ver/$name ($out)"
        else
            fail "$ver/$name"; echo "$res" | head -20
        fi
        n=$((n + 1))
    done
done
[ "$n" -ge 40 ] || fail "only $n fixture files found"

# Importing over an existing mirror replaces it.
db="$TMP/replace.db"
"$REDSINK" import "$top_srcdir/tests/fixtures/rdb/7.2.6/all-types.rdb" --sqlite "$db" >/dev/null &&
"$REDSINK" import "$top_srcdir/tests/fixtures/rdb/2.4.18/all-types.rdb" --sqlite "$db" >/dev/null &&
$COMPARE compare-expected "$top_srcdir/tests/fixtures/rdb/2.4.18/expected.json" "$db" >/dev/null &&
    ok "import over an existing mirror replaces it" || fail "import over an existing mirror replaces it"
finish
