#!/usr/bin/env bash
# make install puts the daemon, the systemd unit (with the configured
# paths filled in), the man pages, the configuration file and the state
# directory where they belong, and the installed binary accepts the
# installed configuration as it is (the mirror in the state directory).
set -u
: "${top_builddir:=$(cd "$(dirname "$0")/../.." && pwd)}"
TMP=$(mktemp -d "${TMPDIR:-/tmp}/redsink-install.XXXXXX")
trap 'rm -rf "$TMP"' EXIT
FAILS=0
ok()   { echo "ok - $*"; }
fail() { echo "not ok - $*"; FAILS=$((FAILS + 1)); }

# A make of our own, not a job of the running "make check".
unset MAKEFLAGS MFLAGS MAKELEVEL
if ! ${MAKE:-make} -C "$top_builddir" install DESTDIR="$TMP/inst" >"$TMP/install.log" 2>&1; then
    cat "$TMP/install.log"; echo "not ok - make install failed"; exit 1
fi
bin=$(find "$TMP/inst" -path '*/sbin/redsink' -type f)
unit=$(find "$TMP/inst" -path '*/systemd/system/redsink.service' -type f)
man=$(find "$TMP/inst" -path '*/man8/redsink.8' -type f)
[ -n "$bin" ] && [ -x "$bin" ] && ok "binary: ${bin#"$TMP/inst"}" || fail "no sbin/redsink"
[ -n "$man" ] && ok "man page: ${man#"$TMP/inst"}" || fail "no man8/redsink.8"
if [ -n "$unit" ]; then
    ok "unit: ${unit#"$TMP/inst"}"
    grep -q '@[a-z]*@' "$unit" && fail "unit has unsubstituted @vars@" || ok "unit paths substituted"
    grep -q "^ExecStart=${bin#"$TMP/inst"} -c " "$unit" && ok "ExecStart names the installed binary" ||
        fail "ExecStart: $(grep ExecStart "$unit")"
    grep -q '^Type=notify' "$unit" && ok "Type=notify" || fail "unit is not Type=notify"
else
    fail "no systemd/system/redsink.service"
fi
"$bin" --version >/dev/null && ok "installed binary runs" || fail "installed binary does not run"
man5=$(find "$TMP/inst" -path '*/man5/redsink.conf.5' -type f)
[ -n "$man5" ] && ok "man page: ${man5#"$TMP/inst"}" || fail "no man5/redsink.conf.5"
conf=$(find "$TMP/inst" -path '*/redsink/redsink.conf' -type f)
if [ -n "$conf" ]; then
    ok "configuration: ${conf#"$TMP/inst"}"
    out=$("$bin" -c "$conf" --check-config 2>&1); rc=$?
    [ $rc -eq 0 ] && [ "$out" = "configuration OK" ] &&
        ok "installed binary accepts the installed configuration: $out" ||
        fail "installed binary -c installed conf --check-config: exit $rc, $out"
else
    fail "no redsink/redsink.conf installed"
fi
# The default mirror: in the state directory that make install created,
# and the one the unit may write to.
mirror=$("$bin" --help | sed -n 's/^ *\(\/.*\/lib\/redsink\/mirror\.db\))$/\1/p')
[ -n "$mirror" ] && ok "default mirror: $mirror" || fail "--help names no default mirror"
[ -n "$mirror" ] && [ -d "$TMP/inst$(dirname "$mirror")" ] && ok "state directory installed" ||
    fail "state directory $(dirname "$mirror") not installed"
[ -n "$unit" ] && grep -q "^ReadWritePaths=$(dirname "$mirror")\$" "$unit" &&
    ok "the unit may write the state directory" || fail "unit: $(grep ReadWritePaths "$unit")"
[ "$FAILS" -eq 0 ] || { echo "$FAILS check(s) failed"; exit 1; }
