#!/usr/bin/env bash
# borg 1.4, the peer the benchmarks compare against beside restic 0.18:
# Debian 12 ships borg 1.2, bookworm-backports has 1.4.  This adds the
# backports suite with the machine's own Debian mirror (read from its
# apt sources, so no host is written here) at priority 100, so nothing
# else is upgraded from it, and installs borgbackup from it.  Root only;
# a bench machine's setup, never CI's.
#
# Usage: tests/bench/get-borg.sh        Prints the borg binary's path.
set -euo pipefail

die() { echo "get-borg.sh: $*" >&2; exit 1; }
if command -v borg >/dev/null && borg --version | grep -q '^borg 1\.4\.'; then
	command -v borg
	exit 0
fi
[[ $(id -u) == 0 ]] || die "run as root (it installs a package)"
. /etc/os-release
[[ ${VERSION_CODENAME:-} == bookworm ]] ||
	die "written for Debian 12 (bookworm), this is ${VERSION_CODENAME:-unknown}"

# The mirror the machine already uses for Debian itself.
uri=$(awk '/^URIs:/ {print $2; exit}' /etc/apt/sources.list.d/*.sources \
	2>/dev/null | grep -m1 debian || true)
if [[ -z $uri && -r /etc/apt/sources.list ]]; then
	uri=$(awk '$1 == "deb" && $3 == "bookworm" {print $2; exit}' \
		/etc/apt/sources.list)
fi
[[ -n $uri ]] || die "cannot find the machine's Debian mirror in its apt sources"

cat >/etc/apt/sources.list.d/gfsb-bench-backports.sources <<EOF
Types: deb
URIs: $uri
Suites: bookworm-backports
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
EOF
cat >/etc/apt/preferences.d/gfsb-bench-backports <<'EOF'
Package: *
Pin: release n=bookworm-backports
Pin-Priority: 100
EOF
apt=(apt-get -o DPkg::Lock::Timeout=600 -y -q)
"${apt[@]}" update >/dev/null
DEBIAN_FRONTEND=noninteractive "${apt[@]}" install -t bookworm-backports \
	borgbackup >/dev/null
borg --version | grep -q '^borg 1\.4\.' || die "borg 1.4 did not install"
command -v borg
