#!/usr/bin/env bash
# Bad input gets a clear one-line error naming what and where, a non-zero
# exit, and leaves the previous mirror untouched.
. "${top_srcdir:-$(dirname "$0")/../..}/tests/lib/lib.sh"

fx="$top_srcdir/tests/fixtures/rdb/7.2.6"
db="$TMP/mirror.db"
"$REDSINK" import "$fx/all-types.rdb" --sqlite "$db" >/dev/null || { fail "baseline import"; finish; }

size=$(stat -c %s "$fx/all-types.rdb")
head -c $((size / 2)) "$fx/all-types.rdb" > "$TMP/truncated.rdb"
head -c $((size - 3)) "$fx/all-types.rdb" > "$TMP/truncated-crc.rdb"
# a byte inside the random (incompressible, stored raw) value of str:rand:1000:
# nothing but the checksum can notice it
python3 -c 'import sys; b=bytearray(open(sys.argv[1],"rb").read()); i=b.index(b"str:rand:1000")+13+2+500; b[i]^=0xff; open(sys.argv[2],"wb").write(b)' \
    "$fx/all-types.rdb" "$TMP/badcrc.rdb"
# byte 9 is the first opcode after "REDIS0011": make it an unknown one
python3 -c 'import sys; b=bytearray(open(sys.argv[1],"rb").read()); b[9]=0xe0; open(sys.argv[2],"wb").write(b)' \
    "$fx/all-types.rdb" "$TMP/badopcode.rdb"
printf 'NOTREDIS0011' > "$TMP/badmagic.rdb"
# a forged value longer than Redis (512 MiB) or SQLite (10^9 bytes) can
# hold, raw and as an LZF string: refused before any memory is taken for it
python3 - "$TMP" <<'PY'
import struct, sys
head = b"REDIS0011" + b"\x00" + bytes([len(b"forged:big")]) + b"forged:big"
open(sys.argv[1] + "/forged-raw.rdb", "wb").write(
    head + b"\x81" + struct.pack(">Q", 1000000001) + b"x" * 100)
open(sys.argv[1] + "/forged-lzf.rdb", "wb").write(
    head + b"\xc3" + b"\x0a" + b"\x81" + struct.pack(">Q", 1000000001) + b"x" * 10)
PY
: > "$TMP/empty.rdb"

check_bad() {  # check_bad FILE WORD: fails, one line, mentions WORD and an offset
    local f=$1 word=$2 out rc
    out=$("$REDSINK" import "$f" --sqlite "$db" 2>&1); rc=$?
    if [ $rc -eq 0 ]; then fail "$(basename "$f"): import succeeded"; return; fi
    if [ "$(printf '%s\n' "$out" | wc -l)" -ne 1 ]; then fail "$(basename "$f"): not one line: $out"; return; fi
    case "$out" in
        *"$word"*) ;;
        *) fail "$(basename "$f"): message lacks '$word': $out"; return ;;
    esac
    case "$out" in
        *offset*) ok "$(basename "$f"): $out" ;;
        *) fail "$(basename "$f"): message names no offset: $out" ;;
    esac
}
check_bad "$TMP/truncated.rdb" truncated
check_bad "$TMP/truncated-crc.rdb" truncated
check_bad "$TMP/badcrc.rdb" CRC
check_bad "$TMP/badopcode.rdb" 0xe0
check_bad "$TMP/badmagic.rdb" magic
check_bad "$TMP/empty.rdb" truncated
check_bad "$TMP/forged-raw.rdb" "in key 'forged:big' exceeds the limit"
check_bad "$TMP/forged-lzf.rdb" "in key 'forged:big' exceeds the limit"

if $COMPARE compare-expected "$fx/expected.json" "$db" >/dev/null; then
    ok "previous mirror untouched after every failed import"
else
    fail "previous mirror damaged by a failed import"
fi

out=$("$REDSINK" import "$TMP/nonexistent.rdb" --sqlite "$db" 2>&1) && fail "missing file accepted" ||
    { case "$out" in *nonexistent.rdb*) ok "missing file: $out" ;; *) fail "missing file: $out" ;; esac; }
out=$("$REDSINK" --master nohost:99999 --sqlite "$db" 2>&1); rc=$?
[ $rc -eq 2 ] && [ "$(printf '%s\n' "$out" | wc -l)" -eq 1 ] && ok "bad --master: $out" || fail "bad --master (rc $rc): $out"
# No mirror: sqlite.path emptied (without it, the default in the state
# directory applies; config.sh and install.sh check that one).
printf 'sqlite: { path = ""; };\n' >"$TMP/nopath.conf"
out=$("$REDSINK" --master 127.0.0.1:1 -c "$TMP/nopath.conf" 2>&1); rc=$?
[ $rc -eq 2 ] && ok "no mirror: $out" || fail "no mirror (rc $rc): $out"
"$REDSINK" --version | grep -q '^redsink [0-9]' && ok "--version" || fail "--version"
"$REDSINK" --help | grep -q -- '--sqlite' && ok "--help" || fail "--help"
finish
