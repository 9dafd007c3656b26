#!/usr/bin/env bash
# Valkey 9.2's compressed RDB files for `redsink import`: the 8-byte VKCS
# envelope ("VKCS", version 1, codec 1 = LZ4, flags, stream kind 0 = RDB;
# valkey src/compression_stream.h) and one LZ4 frame holding the RDB, as
# valkey's compression_lz4.c writes it (64 KB independent blocks, block
# checksums when flag bit 0 is set, no content checksum). No Valkey 9.2 runs
# here: the files are made from a fixture RDB with the lz4 tool.
. "${top_srcdir:-$(dirname "$0")/../..}/tests/lib/lib.sh"

command -v lz4 >/dev/null || { echo "SKIP: lz4 (the tool) not installed"; exit 77; }
fx="$top_srcdir/tests/fixtures/rdb/valkey-8.0.1"
rdb="$fx/all-types.rdb"

vkcs() {   # vkcs FLAGS OUT [lz4 options]: envelope + LZ4 frame of $rdb
    local flags=$1 out=$2; shift 2
    { printf 'VKCS\001\001'; printf "\\$(printf %03o "$flags")"; printf '\000'
      lz4 -q -z -c "$@" "$rdb"; } > "$out"
}
vkcs 0 "$TMP/plain.vkcs" -B4 --no-frame-crc
vkcs 1 "$TMP/blockcrc.vkcs" -B4 -BX --no-frame-crc
vkcs 0 "$TMP/lz4defaults.vkcs"                 # 4 MB blocks, content checksum

for f in plain blockcrc lz4defaults; do
    db="$TMP/$f.db"
    if out=$("$REDSINK" import "$TMP/$f.vkcs" --sqlite "$db" 2>&1) &&
       $COMPARE compare-expected "$fx/expected.json" "$db" >"$TMP/$f.cmp" 2>&1; then
        ok "$f: imported and equal to expected.json ($out)"
    else
        fail "$f: $out"; head -10 "$TMP/$f.cmp"
    fi
done

bad() {   # bad NAME FILE MESSAGE: import fails with MESSAGE, the mirror kept
    local db="$TMP/keep.db" out
    cp "$TMP/plain.db" "$db"
    if out=$("$REDSINK" import "$2" --sqlite "$db" 2>&1); then
        fail "$1: import succeeded"
    elif echo "$out" | grep -q "$3" && $COMPARE compare-expected "$fx/expected.json" "$db" >/dev/null 2>&1; then
        ok "$1: $out"
    else
        fail "$1: got '$out', want '$3' and the previous mirror"
    fi
}
size=$(stat -c %s "$TMP/plain.vkcs")
head -c $((size - 10)) "$TMP/plain.vkcs" > "$TMP/truncated.vkcs"
bad truncated "$TMP/truncated.vkcs" "truncated LZ4 frame"
{ printf 'VKCS\002\001\000\000'; tail -c +9 "$TMP/plain.vkcs"; } > "$TMP/v2.vkcs"
bad "envelope version 2" "$TMP/v2.vkcs" "unsupported envelope version 2"
{ printf 'VKCS\001\002\000\000'; tail -c +9 "$TMP/plain.vkcs"; } > "$TMP/zstd.vkcs"
bad "codec 2" "$TMP/zstd.vkcs" "unsupported codec 2"
{ printf 'VKCS\001\001\000\001'; tail -c +9 "$TMP/plain.vkcs"; } > "$TMP/kind1.vkcs"
bad "stream kind 1" "$TMP/kind1.vkcs" "stream kind 1 at offset 7 is not an RDB"
cp "$TMP/plain.vkcs" "$TMP/corrupt.vkcs"
printf '\377\377\377\377' | dd of="$TMP/corrupt.vkcs" bs=1 seek=40 conv=notrunc status=none
bad corrupt "$TMP/corrupt.vkcs" "corrupt LZ4 frame\|rdb:"
finish
