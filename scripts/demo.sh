#!/bin/bash
# Install the dependencies, build gfsbackup, and run its main job on a
# local demo repository: init, back up a sample tree, list the snapshots,
# restore, and show that the restored tree matches the original.
set -euo pipefail
cd "$(dirname "$0")/.."

# Only what building and running need: the test stack (Ceph, restic,
# rclone, an SMTP server...) is the tests' business.
scripts/install-deps.sh --build
cmake -S . -B build -DCMAKE_BUILD_TYPE=Release -DGFSBACKUP_TESTS=OFF >/dev/null
cmake --build build -j "$(nproc)"
G=$PWD/build/gfsbackup

D=${GFSB_DEMO_DIR:-/tmp/gfsbackup-demo}
rm -rf "$D"
mkdir -p "$D/sample"
# The sample: this project's sources, some logs, and a file with a hole.
cp -a src include docs "$D/sample/" 2>/dev/null || cp -a src include "$D/sample/"
for i in 1 2 3; do
	seq 1 20000 | sed "s/^/demo log line $i: /" >"$D/sample/app-$i.log"
done
truncate -s 100M "$D/sample/disk.img"
echo "end" >>"$D/sample/disk.img"

umask 077
head -c 24 /dev/urandom | base64 >"$D/passphrase"
export GFSBACKUP_PASSWORD_FILE=$D/passphrase

echo; echo "\$ gfsbackup init -r $D/repo"
"$G" init -r "$D/repo"
echo; echo "\$ gfsbackup backup -r $D/repo $D/sample"
"$G" backup -r "$D/repo" "$D/sample"
echo "(a second backup: nothing has changed, nothing is read again)"
"$G" backup -r "$D/repo" "$D/sample"
echo; echo "\$ gfsbackup snapshots -r $D/repo"
"$G" snapshots -r "$D/repo"
echo; echo "\$ gfsbackup restore -r $D/repo latest --target $D/restored"
"$G" restore -r "$D/repo" latest --target "$D/restored"
echo; echo "\$ diff -r $D/sample $D/restored$D/sample"
diff -r "$D/sample" "$D/restored$D/sample"
echo "identical: the restored tree matches the original"
du -k "$D/restored$D/sample/disk.img" | awk '{print "disk.img (100 MiB with a hole) takes " $1 " KiB on disk after restore"}'
echo "demo files are in $D"
