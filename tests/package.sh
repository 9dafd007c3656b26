#!/usr/bin/env bash
# package.sh - the Debian package as an operator meets it: build it with
# dpkg-buildpackage from a copy of this tree, check it with lintian,
# install it with apt-get, run the installed redsink --check-config, mirror
# a test master with the installed binary running as the redsink user, and
# purge it. Needs root, dpkg-buildpackage (debhelper) and apt-get; skips
# (77) otherwise, and when a redsink package is installed already (it does
# not touch an operator's install). Run by hand: bash tests/package.sh;
# .ci/run runs it through "make package-check".
. "${top_srcdir:-$(dirname "$0")/..}/tests/lib/lib.sh"

[ "$(id -u)" = 0 ] || { echo "SKIP: needs root (apt-get install)"; exit 77; }
for t in dpkg-buildpackage dh apt-get git runuser setpriv sqlite3 curl; do
    command -v "$t" >/dev/null || { echo "SKIP: $t not installed"; exit 77; }
done
if dpkg-query -W -f='${Status}' redsink 2>/dev/null | grep -q installed; then
    echo "SKIP: a redsink package is installed already (apt-get purge redsink first)"
    exit 77
fi
INSTALLED=0
purge() { [ "$INSTALLED" = 1 ] && apt-get purge -y -q redsink >"$TMP/purge-trap.log" 2>&1; INSTALLED=0; }
trap 'purge; cleanup' EXIT

# --- build, from the files git knows (committed or not) ------------------
src=$TMP/build/redsink
mkdir -p "$src"
(cd "$top_srcdir" && git ls-files -z --cached --others --exclude-standard |
    xargs -0 -r sh -c 'for f; do [ -e "$f" ] && printf "%s\0" "$f"; done' sh |
    tar --null -T - -cf -) | tar -xf - -C "$src" || { fail "copy of the source tree"; finish; }
rm -f "$src/Makefile" "$src/config.status" "$src/config.log"
if (cd "$src" && DEB_BUILD_OPTIONS="${DEB_BUILD_OPTIONS:-parallel=2}" nice dpkg-buildpackage -us -uc -b) >"$TMP/build.log" 2>&1; then
    ok "dpkg-buildpackage -us -uc -b"
else
    tail -40 "$TMP/build.log"; fail "dpkg-buildpackage -us -uc -b"; finish
fi
deb=$(ls "$TMP"/build/redsink_*.deb 2>/dev/null | head -1)
[ -n "$deb" ] && ok "built $(basename "$deb")" || { fail "no .deb built"; finish; }

contents=$(dpkg-deb -c "$deb")
for f in ./usr/sbin/redsink ./etc/redsink/redsink.conf ./usr/share/man/man8/redsink.8.gz \
         ./usr/share/man/man5/redsink.conf.5.gz ./lib/systemd/system/redsink.service \
         ./etc/logrotate.d/redsink ./var/lib/redsink/; do
    echo "$contents" | grep -q " $f\$" && ok "package has $f" || fail "package lacks $f"
done
conffiles=$(dpkg-deb -I "$deb" conffiles 2>/dev/null)
echo "$conffiles" | grep -qx /etc/redsink/redsink.conf && ok "redsink.conf is a conffile" ||
    fail "redsink.conf is not a conffile: $conffiles"
dpkg-deb --fsys-tarfile "$deb" | tar -xOf - ./lib/systemd/system/redsink.service >"$TMP/unit"
grep -q '^DynamicUser=' "$TMP/unit" && fail "packaged unit uses DynamicUser" ||
    ok "packaged unit runs as the static redsink user"

# Lintian: errors fail; warnings and the rest are shown (debian/README.Debian
# says why those that remain are there).
if command -v lintian >/dev/null; then
    lintian --tag-display-limit 0 "$TMP"/build/redsink_*.changes >"$TMP/lintian.log" 2>&1
    sed 's/^/# lintian: /' "$TMP/lintian.log"
    grep -q '^E:' "$TMP/lintian.log" && fail "lintian errors" || ok "lintian: no errors"
fi

# --- install --------------------------------------------------------------
if apt-get install -y -q "$deb" >"$TMP/install.log" 2>&1; then
    INSTALLED=1; ok "apt-get install ./$(basename "$deb")"
else
    tail -20 "$TMP/install.log"; fail "apt-get install"; finish
fi
id=$(getent passwd redsink)
[ -n "$id" ] && [ "$(echo "$id" | cut -d: -f3)" -lt 1000 ] && ok "system user redsink: $id" ||
    fail "no system user redsink: '$id'"
getent group redsink >/dev/null && ok "group redsink" || fail "no group redsink"
st=$(stat -c '%U:%G %a' /var/lib/redsink 2>&1)
[ "$st" = "redsink:redsink 750" ] && ok "/var/lib/redsink is $st" || fail "/var/lib/redsink is $st"
enabled=$(find /etc/systemd/system -name redsink.service 2>/dev/null)
[ -z "$enabled" ] && ok "unit installed, not enabled" || fail "unit enabled: $enabled"
out=$(/usr/sbin/redsink --check-config 2>&1); rc=$?
[ $rc -eq 0 ] && [ "$out" = "configuration OK" ] && ok "installed redsink --check-config (default file): $out" ||
    fail "installed redsink --check-config: exit $rc, $out"
out=$(/usr/sbin/redsink -c /etc/redsink/redsink.conf --check-config 2>&1); rc=$?
[ $rc -eq 0 ] && ok "installed redsink -c /etc/redsink/redsink.conf --check-config" ||
    fail "-c /etc/redsink/redsink.conf --check-config: exit $rc, $out"
/usr/sbin/redsink --help | grep -q '/var/lib/redsink/mirror.db' &&
    ok "default mirror /var/lib/redsink/mirror.db" || fail "--help does not name /var/lib/redsink/mirror.db"

# --- mirror a master as the redsink user, the mirror in /var/lib/redsink --
start_redis m
mport=$(free_port)
# setpriv execs redsink itself (runuser would stay as its root parent)
setpriv --reuid=redsink --regid=redsink --init-groups /usr/sbin/redsink --master "127.0.0.1:$m_PORT" --metrics-port "$mport" \
    >"$TMP/installed.log" 2>&1 &
rs=$!
PIDS="$PIDS $rs"
rcli "$m_PORT" set package:key "installed as redsink" >/dev/null
if wait_mirror "$m_PORT" >/dev/null && [ "$(rcli "$m_PORT" wait 1 5000)" = 1 ]; then
    ok "the installed redsink acknowledges (WAIT 1 = 1)"
else
    fail "WAIT 1 did not return 1"; cat "$TMP/installed.log"
fi
got=$(runuser -u redsink -- sqlite3 /var/lib/redsink/mirror.db \
    "SELECT value FROM redis_strings WHERE key = 'package:key'" 2>&1)
[ "$got" = "installed as redsink" ] && ok "the key is in /var/lib/redsink/mirror.db" ||
    fail "key in the mirror: '$got'"
owner=$(stat -c %U /var/lib/redsink/mirror.db 2>&1)
[ "$owner" = redsink ] && ok "mirror owned by redsink" || fail "mirror owned by $owner"
ps -o user= -p "$rs" | grep -qx redsink && ok "the daemon runs as redsink" || fail "daemon user: $(ps -o user= -p "$rs")"
curl -sf "http://127.0.0.1:$mport/metrics" | grep -q '^redsink_link_up 1' &&
    ok "installed binary serves /metrics" || fail "no redsink_link_up 1 at /metrics"
stop_pid "$rs"

# --- purge ------------------------------------------------------------------
if apt-get purge -y -q redsink >"$TMP/purge.log" 2>&1; then
    INSTALLED=0; ok "apt-get purge -y redsink"
else
    tail -20 "$TMP/purge.log"; fail "apt-get purge"
fi
for p in /usr/sbin/redsink /etc/redsink /var/lib/redsink /lib/systemd/system/redsink.service; do
    [ -e "$p" ] && fail "$p left after purge" || ok "$p gone after purge"
done
getent passwd redsink >/dev/null && fail "user redsink left after purge" || ok "user redsink removed"
finish
