#!/bin/sh
# coverage.sh - gcov line coverage of the parsers and the applier.
#
# Run from the top of a build configured with --enable-coverage (in a
# fresh clone or after "make distclean": the normal build must not share
# the tree):
#   ./configure --enable-coverage && make -j2 && sh tests/tools/coverage.sh [TEST...]
# Clears the counters, runs the TESTs through "make check" (default: the
# unit tests, the fixture imports and the fake-master fixture tests; MAKE
# may carry -j2), then
# prints "Lines executed" per source file and for all of daemon/ and sinks/.
# REDSINK_COVERAGE_FILES overrides the files listed one by one.
set -u
if ! grep -q -- '--coverage' Makefile 2>/dev/null; then
    echo "coverage.sh: run it in a build configured with --enable-coverage" >&2
    exit 2
fi
command -v gcov >/dev/null || { echo "coverage.sh: gcov not found" >&2; exit 2; }
srcdir=$(sed -n 's/^abs_top_srcdir = //p' Makefile)
files=${REDSINK_COVERAGE_FILES:-"daemon/read/rdb.c daemon/read/rdb_input.c daemon/read/rdb_decode.c
    daemon/read/rdb_stream.c daemon/read/resp.c daemon/write/apply.c daemon/link/link.c
    daemon/link/handshake.c daemon/write/loader.c sinks/sqlite/sqlite_load.c
    sinks/sqlite/sqlite_bulk.c"}
if [ $# -gt 0 ]; then
    tests="$*"
else
    tests="$(sed -n 's|^\t\(tests/unit/test_[a-z_]*\).*|\1|p' "$srcdir/Makefile.am")
           tests/unit/rdb_fixtures.sh
           tests/integration/fixtures.sh tests/integration/errors.sh
           tests/integration/fixtures_fake.sh tests/integration/old_masters_fake.sh"
fi

find . -name '*.gcda' -exec rm -f {} +
# tests/lib/lib.sh then stops its daemons with SIGTERM, so that they write
# their counters (a kill -9 would lose them)
REDSINK_COVERAGE=1 ${MAKE:-make} check TESTS="$(echo $tests)" >/dev/null 2>&1 ||
    echo "coverage.sh: some tests failed (see their .log files); figures below count what ran"

# one line per file: "<file> <percent>% of <lines>"
report() {   # report SRC...: gcov's summary for those sources, by object dir
    for f in "$@"; do
        # a library built with its own flags names its objects LIB-NAME.o
        o=$(ls "$(dirname "$f")"/*-"$(basename "$f" .c)".gcno 2>/dev/null | head -1)
        gcov -n -o "${o:-$(dirname "$f")}" "$srcdir/$f" 2>/dev/null |
            awk -v f="$f" '/^File/ { cur = $2 } /^Lines executed/ && index(cur, f) {
                split($2, a, ":"); sub("%", "", a[2]); printf "%-28s %6s%% of %s lines\n", f, a[2], $4; exit }'
    done
}
echo "Line coverage after: $(echo $tests)"
report $files
# all of daemon/ and sinks/ (main.c included), weighted by lines
report $(cd "$srcdir" && ls common/*.c daemon/*.c daemon/*/*.c sinks/*.c sinks/*/*.c) |
    awk '{ n = $4; hit += $2 * n / 100; tot += n } END { printf "%-28s %6.2f%% of %d lines\n", "daemon/ + sinks/", 100 * hit / tot, tot }'
