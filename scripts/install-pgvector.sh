#!/usr/bin/env bash
# pgvector for the installed PostgreSQL 15 (as root; scripts/setup.sh runs it). Debian 12 ships no
# pgvector for PostgreSQL 15, so this builds Debian trixie's source package of it against the
# installed server's own headers: the source comes from apt (checked against trixie's signed
# Sources index) through a private deb-src list, so the system's apt sources and lists stay as they
# are. Portable: OPTFLAGS="" drops upstream's -march=native, as Debian's own package does (pgvector
# picks its AVX code at run time). Safe to run again: nothing to do once this version is installed.
#
# DESTDIR=/some/dir scripts/install-pgvector.sh builds and stages the files there instead of
# installing them (to try the download and the build on a machine that has pgvector already).
set -euo pipefail

PGV=0.8.0 DEBREV=0.8.0-1
ORIG_SHA256=867a2c328d4928a5a9d6f052cd3bc78c7d60228a9b914ad32aa3db88e9de27b0  # pgvector_0.8.0.orig.tar.gz
# Explicit: /usr/bin/pg_config is postgresql-common's wrapper, which answers for the newest
# server-dev installed, not necessarily 15.
PG_CONFIG=/usr/lib/postgresql/15/bin/pg_config
DESTDIR=${DESTDIR:-}

[ "$(id -u)" = 0 ] || { echo "install-pgvector.sh: run as root (sudo $0)" >&2; exit 1; }
dpkg -s postgresql-15 >/dev/null 2>&1 || { echo "install-pgvector.sh: postgresql-15 is not installed" >&2; exit 1; }

# Installed already: this version (nothing to say), or another one, from a package perhaps (then
# left as it is: never overwrite files another installer owns).
if [ -z "$DESTDIR" ] && [ -x "$PG_CONFIG" ] && [ -f "$("$PG_CONFIG" --pkglibdir)/vector.so" ]; then
  have=$(sed -n "s/^default_version = '\(.*\)'/\1/p" "$("$PG_CONFIG" --sharedir)/extension/vector.control" 2>/dev/null || true)
  [ "$have" = "$PGV" ] || echo "install-pgvector: pgvector ${have:-of unknown version} is installed already; left as it is"
  exit 0
fi
echo "install-pgvector: building pgvector $PGV for PostgreSQL 15"

# What the build needs: the headers of exactly the installed server (an unpinned install would
# upgrade the server under a running cluster; its package brings clang and llvm for the JIT
# bitcode), a C compiler and make, and the Debian archive keys that check trixie's index.
server=$(dpkg-query -W -f='${Version}' postgresql-15)
missing=()
for pkg in "postgresql-server-dev-15=$server" gcc make libc6-dev debian-archive-keyring; do
  dpkg -s "${pkg%%=*}" >/dev/null 2>&1 || missing+=("$pkg")
done
if ((${#missing[@]})); then
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
[ "$(dpkg-query -W -f='${Version}' postgresql-server-dev-15)" = "$server" ] ||
  { echo "install-pgvector.sh: postgresql-server-dev-15 is not the server's version $server" >&2; exit 1; }

# The source package, from trixie's deb-src index in a list, cache and state of our own.
# `source --download-only` checks the files against the signed index and unpacks nothing (so it
# needs no dpkg-dev); tar unpacks the upstream tarball, which is all the build uses.
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/lists/partial" "$work/cache"
cat > "$work/src.sources" <<EOF
Types: deb-src
URIs: http://deb.debian.org/debian
Suites: trixie
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
EOF
apt_src=(-o Dir::Etc::SourceList="$work/src.sources" -o Dir::Etc::SourceParts=/dev/null
         -o Dir::State::Lists="$work/lists" -o Dir::Cache="$work/cache" -o APT::Sandbox::User=root)
apt-get "${apt_src[@]}" update -qq
# Any Debian revision of this upstream version will do: the upstream tarball is the one checked.
(cd "$work" && { apt-get "${apt_src[@]}" source --download-only -qq "pgvector=$DEBREV" >/dev/null 2>&1 ||
                 apt-get "${apt_src[@]}" source --download-only -qq pgvector >/dev/null; }) && [ -f "$work/pgvector_$PGV.orig.tar.gz" ] ||
  { echo "install-pgvector.sh: could not fetch pgvector $PGV from trixie (if trixie has a newer one now, update PGV, DEBREV and ORIG_SHA256)" >&2; exit 1; }
echo "$ORIG_SHA256  $work/pgvector_$PGV.orig.tar.gz" | sha256sum -c --quiet
tar -xzf "$work/pgvector_$PGV.orig.tar.gz" -C "$work"

# The build's output goes to a log, shown only when it fails.
build() {
  make -C "$work/pgvector-$PGV" OPTFLAGS="" PG_CONFIG="$PG_CONFIG" "$@" >>"$work/build.log" 2>&1 ||
    { tail -30 "$work/build.log" >&2; echo "install-pgvector.sh: make $* failed" >&2; exit 1; }
}
build -j"$(nproc)"
build install ${DESTDIR:+DESTDIR="$DESTDIR"}
echo "install-pgvector: pgvector $PGV installed: $DESTDIR$("$PG_CONFIG" --pkglibdir)/vector.so"
