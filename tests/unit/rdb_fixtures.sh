#!/bin/bash
# rdb_fixtures.sh - every RDB fixture through `test_rdb --json`, compared
# with the content the generating server held (expected.json, or
# expected-cluster.json for all-types-cluster.rdb) by tests/lib/rdb_expected.py.
# Exit 0 pass, 77 skip (no python3), 99 fail. One line per file.

top_srcdir=${top_srcdir:-.}
top_builddir=${top_builddir:-.}
test_rdb=$top_builddir/tests/unit/test_rdb
compare=$top_srcdir/tests/lib/rdb_expected.py

if ! command -v python3 >/dev/null 2>&1; then
    echo "SKIP: python3 not found"
    exit 77
fi
if [ ! -x "$test_rdb" ]; then
    echo "FAIL: $test_rdb not built"
    exit 99
fi

tmp=$(mktemp -d) || exit 99
trap 'rm -rf "$tmp"' EXIT

failed=0 files=0
for rdb in "$top_srcdir"/tests/fixtures/rdb/*/*.rdb; do
    [ -e "$rdb" ] || continue
    dir=$(dirname "$rdb")
    expected=$dir/expected.json
    case $rdb in
    *-cluster.rdb) expected=$dir/expected-cluster.json ;;
    esac
    files=$((files + 1))
    name=${rdb#"$top_srcdir"/tests/fixtures/rdb/}
    if ! "$test_rdb" --json "$rdb" >"$tmp/out.json" 2>"$tmp/err"; then
        echo "FAIL - $name: $(head -c 300 "$tmp/err")"
        failed=$((failed + 1))
        continue
    fi
    if python3 "$compare" "$tmp/out.json" "$expected" >"$tmp/diff" 2>&1; then
        echo "ok - $name: $(tail -n 1 "$tmp/diff")"
    else
        echo "FAIL - $name:"
        head -n 20 "$tmp/diff" | sed 's/^/  # /'
        failed=$((failed + 1))
    fi
done

if [ "$files" -eq 0 ]; then
    echo "FAIL: no fixtures under $top_srcdir/tests/fixtures/rdb"
    exit 99
fi
echo "$files files, $failed failed"
[ "$failed" -eq 0 ] || exit 99
exit 0
