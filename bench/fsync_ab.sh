#!/bin/bash
# bench/fsync_ab.sh REDSINK OUT: where redsink's syncs happen while it keeps
# up with 10k writes/s. Starts a master on a free loopback port and REDSINK
# under `strace -f` (fsync/fdatasync only, timed), runs bench/vislat at
# 10,000 SET/s for 15 s, then writes to OUT one line per thread (number of
# syncs, total and longest time; the apply thread is the main one, the
# process's own pid) and vislat's line. Run it with two builds in turn to
# compare them. Needs strace, redis-server and `make bench`.
set -u
R=$1; OUT=$2
here=$(cd "$(dirname "$0")" && pwd)
D=$(mktemp -d /tmp/fsync_ab.XXXXXX)
P=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
redis-server --port "$P" --bind 127.0.0.1 --save '' --logfile "$D/m.log" & MP=$!
trap 'pkill -f "sqlite $D/m.db"; kill $MP 2>/dev/null; wait 2>/dev/null; rm -rf "$D"' EXIT
until redis-cli -p "$P" ping >/dev/null 2>&1; do sleep 0.05; done
strace -f --seccomp-bpf -e trace=fsync,fdatasync -T -o "$D/st.txt" \
    "$R" --master "127.0.0.1:$P" --sqlite "$D/m.db" 2>"$D/rs.log" &
"$here/vislat" 127.0.0.1 "$P" "$D/m.db" 10000 15 > "$OUT.vislat"
pkill -f "sqlite $D/m.db"; sleep 0.5
awk '/fdatasync|fsync/ {pid=$1; t=$NF; gsub(/[<>]/,"",t); n[pid]++; s[pid]+=t; if (t>m[pid]) m[pid]=t}
     END {for (p in n) printf "tid %s: %d syncs, total %.1f ms, max %.1f ms\n", p, n[p], s[p]*1000, m[p]*1000}' \
    "$D/st.txt" > "$OUT"
cat "$OUT.vislat" >> "$OUT"
cat "$OUT"
