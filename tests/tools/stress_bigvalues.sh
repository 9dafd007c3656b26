#!/usr/bin/env bash
# Stress test for big values (issue 11), not part of make check: a 512 MiB
# string of random bytes, a 100 MiB LZF-compressible one, a 64 MiB UTF-8
# one, a hash of 100 fields of 1 MiB, a 16 MiB key name, list elements,
# hash values, stream values, hash fields and set members of 16 and 256 MiB
# (bench/bigvalues.py's default set) and a dataset
# whose largest item is under 1 MiB, each through a full sync with $<len>
# and with $EOF: framing, `redsink import` and the command stream. Each
# value must equal the master's (SHA-256, TEXT iff UTF-8) and redsink's
# peak RSS must stay under 64 MB plus the largest item. Needs about 3 GB of
# memory and 3 GB of disk in $TMPDIR, and several minutes.
#   tests/tools/stress_bigvalues.sh [--cases str512,key16] [--paths disk,import]
# The work is bench/bigvalues.py --check, which kills what it started.
set -u
top_srcdir=${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}
: "${REDSINK:=${top_builddir:-$top_srcdir}/daemon/redsink}"
export REDSINK
command -v redis-server >/dev/null || { echo "SKIP: redis-server not installed"; exit 77; }
[ -x "$REDSINK" ] || { echo "FAIL: $REDSINK not built"; exit 99; }
exec python3 "$top_srcdir/bench/bigvalues.py" --check "$@"
