#!/usr/bin/env bash
# tests/tools/build_servers.sh - build the newer masters the suite can run against:
# redis 8.0 (Debian trixie), valkey 8.1 (trixie) and valkey 9.1 (sid), from
# Debian's source packages. Usage: tests/tools/build_servers.sh [redis-8.0 valkey-8.1 valkey-9.1]
#
# The sources come through a private apt configuration: its own sources list
# (deb-src lines for trixie and sid only), its own lists, cache and state
# directories under the build directory. The system's apt sources and lists
# are not read nor written, so nothing else on the machine is upgraded.
# Debian 12's debian-archive-keyring holds the trixie archive keys, which also
# sign sid's Release files: the signatures are checked (no unauthenticated
# downloads). Needs dpkg-dev (dpkg-source), build-essential, ca-certificates.
#
# Each server is built with `make MALLOC=libc BUILD_TLS=no OPTIMIZATION=-O2`
# in its src/ directory: the Redis 8 top-level Makefile's module build
# (BUILD_WITH_MODULES=yes, which downloads) is never run, and -O2 leaves out
# the -flto that -O3 brings (a link that takes minutes on two cores). The
# binaries are cached in
# $REDSINK_SERVERS_DIR/<name>-<version>/ (default tests/servers, ignored by
# git): a server already there is skipped. Prints one line per server with
# its path and how long it took; exit 1 when one could not be built.
set -u
top_srcdir=$(cd "$(dirname "$0")/../.." && pwd)
DIR=${REDSINK_SERVERS_DIR:-$top_srcdir/tests/servers}
mkdir -p "$DIR" || exit 1
DIR=$(cd "$DIR" && pwd)
KEYRING=/usr/share/keyrings/debian-archive-keyring.gpg
MIRROR=${REDSINK_DEBIAN_MIRROR:-http://deb.debian.org/debian}

# name-major.minor  source package  suite  binary prefix
SERVERS="redis-8.0:redis:trixie:redis valkey-8.1:valkey:trixie:valkey valkey-9.1:valkey:sid:valkey"
want=${*:-redis-8.0 valkey-8.1 valkey-9.1}

APT="$DIR/.apt"
apt_private() {   # apt_private apt-get|apt-cache ARGS...
    local tool=$1; shift
    "$tool" -q -o Dir::Etc::SourceList="$APT/sources.list" \
        -o Dir::Etc::SourceParts="$APT/sources.list.d" \
        -o Dir::Etc::Preferences="$APT/preferences" \
        -o Dir::Etc::PreferencesParts="$APT/preferences.d" \
        -o Dir::State="$APT/state" -o Dir::State::Status="$APT/state/status" \
        -o Dir::Cache="$APT/cache" -o APT::Get::List-Cleanup=0 "$@"
}
updated=""
apt_update() {
    [ -n "$updated" ] && return 0
    mkdir -p "$APT/sources.list.d" "$APT/preferences.d" "$APT/state/lists/partial" \
        "$APT/cache/archives/partial" || return 1
    : > "$APT/state/status"
    : > "$APT/preferences"
    {
        echo "deb-src [signed-by=$KEYRING] $MIRROR trixie main"
        echo "deb-src [signed-by=$KEYRING] $MIRROR sid main"
    } > "$APT/sources.list"
    apt_private apt-get update >"$APT/update.log" 2>&1 || { echo "build_servers: apt-get update failed (see $APT/update.log)"; return 1; }
    updated=1
}

# The version of source package $1 in suite $2 whose upstream version starts with $3.
src_version() {
    apt_private apt-cache showsrc "$1" 2>/dev/null | awk -v want="$3" '
        /^Version: / { v = $2; u = v; sub(/^[0-9]+:/, "", u); sub(/-[^-]*$/, "", u);
                       if (index(u, want ".") == 1) print v }' | sort -V | tail -1
}

build_one() {
    local spec=$1 label pkg suite prefix
    IFS=: read -r label pkg suite prefix <<<"$spec"
    local mm=${label#*-}
    local cached
    cached=$(ls -d "$DIR/$prefix-$mm".*/ 2>/dev/null | sort -V | tail -1)
    if [ -n "$cached" ] && [ -x "$cached/$prefix-server" ] && [ -x "$cached/$prefix-cli" ]; then
        echo "$label: cached in ${cached%/} (0 s)"
        return 0
    fi
    local t0; t0=$(date +%s)
    apt_update || return 1
    local ver; ver=$(src_version "$pkg" "$suite" "$mm")
    [ -n "$ver" ] || { echo "$label: no source package $pkg $mm.x in the apt lists"; return 1; }
    local up=${ver#*:}; up=${up%-*}
    local work="$DIR/.src/$pkg-$ver"
    rm -rf "$work"; mkdir -p "$work"
    local how="source package $pkg $ver"
    if ! (cd "$work" && apt_private apt-get source --only-source "$pkg=$ver") >"$work.fetch.log" 2>&1; then
        # Seen with trixie's valkey 8.1.1+dfsg1-3+deb13u3: the mirror
        # answers 404 for the .dsc and the Debian patches, but serves the
        # upstream tarball (checked against the signed Sources index):
        # build that, without Debian's patches, and say so.
        local orig; orig=$(ls "$work"/*.orig.tar.* 2>/dev/null | head -1)
        [ -n "$orig" ] && tar -xf "$orig" -C "$work" ||
            { echo "$label: apt-get source $pkg=$ver failed (see $work.fetch.log)"; return 1; }
        how="the upstream tarball of $pkg $ver, without Debian's patches (the .dsc could not be fetched)"
    fi
    local tree; tree=$(find "$work" -mindepth 1 -maxdepth 1 -type d | head -1)
    [ -f "$tree/src/Makefile" ] || { echo "$label: no src/Makefile in $tree"; return 1; }
    # src/ alone: its Makefile builds the server and the cli with the
    # bundled deps (lua, hiredis, ...) and never fetches modules.
    GIT_CEILING_DIRECTORIES="$DIR/.src" nice make -C "$tree/src" -j"${REDSINK_BUILD_JOBS:-2}" MALLOC=libc BUILD_TLS=no OPTIMIZATION=-O2 \
        USE_SYSTEMD=no "$prefix-server" "$prefix-cli" >"$work.build.log" 2>&1 ||
        { echo "$label: build failed (see $work.build.log)"; tail -5 "$work.build.log"; return 1; }
    local out="$DIR/$prefix-$up"
    mkdir -p "$out" && cp "$tree/src/$prefix-server" "$tree/src/$prefix-cli" "$out/" || return 1
    rm -rf "$work"
    echo "$label: built $out from $how ($suite) in $(( $(date +%s) - t0 )) s"
}

status=0
T0=$(date +%s)
for w in $want; do
    found=""
    for s in $SERVERS; do
        [ "${s%%:*}" = "$w" ] || continue
        found=1; build_one "$s" || status=1
    done
    [ -n "$found" ] || { echo "build_servers: unknown server $w (known: redis-8.0 valkey-8.1 valkey-9.1)"; status=1; }
done
echo "build_servers: done in $(( $(date +%s) - T0 )) s, servers in $DIR"
exit $status
