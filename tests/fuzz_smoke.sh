#!/bin/sh
# fuzz_smoke.sh - build the libFuzzer targets (make fuzz) and run each on
# a copy of its seed corpus for REDSINK_FUZZ_SECONDS (default 60; 0 skips:
# .ci/run sets it for the sanitizer build, so that fuzzing runs once).
# Fails on any crash (the crash input is dumped in the log); skips (77)
# when clang cannot link -fsanitize=fuzzer. Each target's final stats
# (execs, exec/s) are in the log.
set -u
: "${top_srcdir:?}" "${top_builddir:?}" "${MAKE:=make}"
secs=${REDSINK_FUZZ_SECONDS:-60}
if [ "$secs" = 0 ]; then
    echo "SKIP: REDSINK_FUZZ_SECONDS=0"
    exit 77
fi
tmp=$(mktemp -d "${TMPDIR:-/tmp}/fuzz_smoke.XXXXXX") || exit 99
trap 'rm -rf "$tmp"' EXIT

printf 'int LLVMFuzzerTestOneInput(const char *d, unsigned long n) { (void)d; (void)n; return 0; }\n' \
    > "$tmp/probe.c"
if ! clang -fsanitize=fuzzer,address,undefined "$tmp/probe.c" -o "$tmp/probe" >/dev/null 2>&1; then
    echo "SKIP: clang with -fsanitize=fuzzer not available"
    exit 77
fi
(cd "$top_builddir" && $MAKE fuzz) || { echo "FAIL: make fuzz"; exit 99; }

failed=0
for t in rdb dump resp apply config decode; do
    mkdir -p "$tmp/$t" "$tmp/crash-$t"
    cp "$top_srcdir/fuzz/corpus/$t/"* "$tmp/$t/"
    chmod -R u+w "$tmp/$t"
    echo "== fuzz_$t for ${secs}s"
    (cd "$tmp" && TMPDIR="$tmp" "$top_builddir/fuzz/fuzz_$t" -max_total_time="$secs" \
        -artifact_prefix="$tmp/crash-$t/" -print_final_stats=1 "$tmp/$t" > "$tmp/$t.log" 2>&1)
    rc=$?
    tail -25 "$tmp/$t.log"
    if [ $rc -ne 0 ] || [ -n "$(ls "$tmp/crash-$t")" ]; then
        echo "FAIL: fuzz_$t exited $rc"
        for f in "$tmp/crash-$t"/*; do
            [ -f "$f" ] || continue
            echo "crash input $f (base64):"
            base64 "$f"
        done
        failed=1
    fi
done
[ $failed -eq 0 ] || exit 1
echo "PASS"
