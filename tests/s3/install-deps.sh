#!/usr/bin/env bash
# Install what tests/s3/ceph.sh and tests/s3/faultproxy.py need (Debian 12):
# a single-node Ceph (mon, osd, radosgw, CLI tools), rclone and python3.
# Installs only the packages that are missing; uses sudo when not root.
set -euo pipefail

PKGS=(ceph-mon ceph-osd radosgw ceph-common rclone python3 curl)

missing=()
for p in "${PKGS[@]}"; do
    st=$(dpkg-query -W -f='${db:Status-Status}' "$p" 2>/dev/null || true)
    if [[ "$st" != "installed" ]]; then
        missing+=("$p")
    fi
done

if ((${#missing[@]} == 0)); then
    echo "install-deps: all present (${PKGS[*]})"
    exit 0
fi

SUDO=()
if [[ $(id -u) -ne 0 ]]; then
    SUDO=(sudo)
fi

export DEBIAN_FRONTEND=noninteractive
echo "install-deps: installing ${missing[*]}"
apt_install() {
    "${SUDO[@]}" apt-get -o DPkg::Lock::Timeout=600 install -y \
        --no-install-recommends "${missing[@]}"
}
if ! apt_install; then
    echo "install-deps: install failed, running apt-get update and retrying" >&2
    "${SUDO[@]}" apt-get -o DPkg::Lock::Timeout=600 update
    apt_install
fi
