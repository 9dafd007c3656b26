#!/bin/sh
# pg_copy.sh [N] - the PostgreSQL downstream's throughput (doc/postgres.md):
# a throw-away cluster (tests/lib/pg.sh), a mirror of N string keys and N
# hash fields (default 200000), then
#   - the whole-mirror copy (DELETE + COPY BINARY from SQLite, one
#     transaction) against a bare server-side COPY of the same rows, in
#     rows/s (target: within 1.5x);
#   - two lookups by key (plans), two reads of every row's text (best of
#     5), the tables' size;
#   - N/10 outbox rows of 10 row changes each shipped, in changes/s.
# Run from the build tree after "make check" (it needs tests/unit/test_shipper).
set -u
: "${top_srcdir:=$(cd "$(dirname "$0")/.." && pwd)}"
: "${top_builddir:=$top_srcdir}"
. "$top_srcdir/tests/lib/pg.sh"
N=${1:-200000}
TMP=$(mktemp -d "${TMPDIR:-/tmp}/redsink-pgbench.XXXXXX")
chmod 755 "$TMP"
trap 'pg_stop; rm -rf "$TMP"' EXIT
pg_start "$TMP/pg" || exit 1
TMPDIR=$TMP "$top_builddir/tests/unit/test_shipper" --bench "$N" | grep -v '^ok'
