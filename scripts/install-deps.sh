#!/bin/bash
# Install what gfsbackup needs to build and test on Debian 12.
#   scripts/install-deps.sh          build and test dependencies
#   scripts/install-deps.sh --build  only what building and running need
#                                    (the demo: no test servers)
#   scripts/install-deps.sh --bench  also borg and hyperfine
# (restic is a test dependency: retention decisions are checked against it)
set -euo pipefail

build=(
	build-essential cmake pkg-config
	libzstd-dev libsodium-dev libssl-dev libarchive-dev libjansson-dev
	libcurl4-openssl-dev libexpat1-dev libinih-dev libfuse3-dev fuse3
)
pkgs=(
	"${build[@]}" libcmocka-dev
	acl attr tar util-linux python3 curl jq
	# The fuzz targets (tests/fuzz): clang and its libFuzzer runtime.
	clang libclang-rt-14-dev
	restic
	# A real S3 server for the integration tests (tests/s3/ceph.sh), and
	# an independent S3 client to check what gfsbackup stored.
	ceph-mon ceph-osd radosgw ceph-common rclone
	# A real SMTP server for the mail test (tests/smtp/smtpd.py) and
	# certificates for its TLS.
	python3-aiosmtpd openssl
	# The monitoring test reads the metrics file with Prometheus's own
	# text-format parser.
	python3-prometheus-client
	# The database dumps are tested against a real PostgreSQL server.
	postgresql
	# The Debian package (cpack -G DEB, dpkg-shlibdeps) and its test
	# (tests/e2e/18-package.sh): units checked with systemd-analyze, man
	# pages with man, groff and mandoc.
	dpkg-dev systemd man-db groff-base mandoc
)
if [ "${1:-}" = "--bench" ]; then
	pkgs+=(borgbackup hyperfine time)
elif [ "${1:-}" = "--build" ]; then
	pkgs=("${build[@]}")
fi

missing=()
for p in "${pkgs[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" ||
		missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0

sudo=
[ "$(id -u)" = 0 ] || sudo=sudo
export DEBIAN_FRONTEND=noninteractive
apt=(apt-get -o DPkg::Lock::Timeout=600 -y -q)
echo "installing: ${missing[*]}"
if ! $sudo "${apt[@]}" install --no-install-recommends "${missing[@]}"; then
	$sudo "${apt[@]}" update
	$sudo "${apt[@]}" install --no-install-recommends "${missing[@]}"
fi
