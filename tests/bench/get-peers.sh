#!/usr/bin/env bash
# The peers the benchmarks compare against, at the versions they name:
# restic 0.18 and borg 1.4 come from Debian 13 (trixie); this machine's
# Debian 12 ships restic 0.14 and borg 1.2.  restic is one static Go
# binary, so trixie's package runs here as it is: the script downloads it
# from Debian's archive, checks it against the SHA256 of trixie's signed
# Packages index (whose own hash is in the InRelease file that Debian's
# archive key signs), and unpacks it into DIR without installing anything.
#
# Usage: tests/bench/get-peers.sh [DIR]     (default: /var/tmp/gfsb-peers)
# Prints the path of the restic 0.18 binary.
set -euo pipefail

DIR=${1:-/var/tmp/gfsb-peers}
MIRROR=${DEBIAN_MIRROR:-http://deb.debian.org/debian}
SUITE=trixie
PKG=restic
WANT_PREFIX=0.18.

die() { echo "get-peers.sh: $*" >&2; exit 1; }
mkdir -p "$DIR"
BIN=$DIR/$PKG/usr/bin/restic
if [[ -x $BIN ]] && "$BIN" version 2>/dev/null | grep -q "restic $WANT_PREFIX"; then
	echo "$BIN"
	exit 0
fi
command -v dpkg-deb >/dev/null || die "dpkg-deb missing"
tmp=$(mktemp -d "$DIR/.get.XXXXXX")
trap 'rm -rf "$tmp"' EXIT

# InRelease, the index signed inline (a Release and Release.gpg pair can
# come from two states of a mirror).
curl -fsS -m 120 -o "$tmp/InRelease" "$MIRROR/dists/$SUITE/InRelease" ||
	die "cannot fetch $SUITE's InRelease file"
gpgv --keyring /usr/share/keyrings/debian-archive-keyring.gpg \
	--output "$tmp/Release" "$tmp/InRelease" 2>/dev/null ||
	die "$SUITE's InRelease file is not signed by a Debian archive key"
idx=main/binary-amd64/Packages.xz
want=$(awk -v f="$idx" '/^SHA256:/{s=1; next} /^[A-Za-z]/{s=0} s && $3 == f {print $1}' \
	"$tmp/Release")
[[ -n $want ]] || die "no SHA256 for $idx in $SUITE's Release"
curl -fsS -m 300 -o "$tmp/Packages.xz" "$MIRROR/dists/$SUITE/$idx" ||
	die "cannot fetch $idx"
[[ $(sha256sum <"$tmp/Packages.xz" | cut -d' ' -f1) == "$want" ]] ||
	die "$idx does not match its Release hash"
read -r file sum < <(xz -dc "$tmp/Packages.xz" | awk -v p="$PKG" '
	/^Package: / {cur = $2}
	cur == p && /^Filename: / {f = $2}
	cur == p && /^SHA256: / {s = $2}
	/^$/ {if (f != "") {print f, s; exit} cur = ""}')
[[ -n ${file:-} && -n ${sum:-} ]] || die "$PKG is not in $SUITE"
curl -fsS -m 600 -o "$tmp/pkg.deb" "$MIRROR/$file" || die "cannot fetch $file"
[[ $(sha256sum <"$tmp/pkg.deb" | cut -d' ' -f1) == "$sum" ]] ||
	die "$file does not match its SHA256 in the Packages index"
rm -rf "$DIR/$PKG"
dpkg-deb -x "$tmp/pkg.deb" "$DIR/$PKG"
"$BIN" version | grep -q "restic $WANT_PREFIX" || die "$BIN is not restic $WANT_PREFIX"
echo "$BIN"
