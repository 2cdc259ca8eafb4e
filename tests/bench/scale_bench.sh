#!/usr/bin/env bash
# Scale: a million small files (issue 16), gfsbackup against restic 0.18
# on the same tree in the same run: the first backup and an unchanged one,
# wall time and peak RSS, and the index's memory per blob as `stats`
# reports it (the arrays the in-memory index holds, after loading).
#
# Usage: tests/bench/scale_bench.sh [--files N] [--gfsbackup PATH]
#                                   [--workdir DIR]
# N files (default 1000000) of 600 random bytes, 1000 per directory,
# made on a tmpfs (/dev/shm: about 2.5 GiB for a million, with inodes);
# the repositories on disk under the workdir. Not in CI: about 5 minutes
# on 2 cores. Requirements: restic 0.18 on PATH (get-peers.sh),
# /usr/bin/time.
set -euo pipefail

SCRIPT_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd -P)
REPO_ROOT=$(cd "$SCRIPT_DIR/../.." && pwd -P)
FILES=1000000
GFS="$REPO_ROOT/build/gfsbackup"
WORKDIR=""

die() { echo "scale_bench.sh: $*" >&2; exit 1; }
while [[ $# -gt 0 ]]; do
	case $1 in
	--files) FILES=${2:?}; shift 2 ;;
	--gfsbackup) GFS=${2:?}; shift 2 ;;
	--workdir) WORKDIR=${2:?}; shift 2 ;;
	*) die "unknown argument: $1" ;;
	esac
done
[[ $FILES =~ ^[1-9][0-9]*$ ]] || die "bad --files: $FILES"
command -v restic >/dev/null || die "restic not on PATH (get-peers.sh)"
if [[ -z $WORKDIR ]]; then
	WORKDIR=$(mktemp -d /var/tmp/gfsb-scale.XXXXXX)
	trap 'rm -rf "$WORKDIR" "$DATA"' EXIT
fi
DATA=$(mktemp -d /dev/shm/gfsb-scale.XXXXXX)
printf 'bench passphrase\n' >"$WORKDIR/pw"
chmod 600 "$WORKDIR/pw"
export GFSBACKUP_PASSWORD_FILE=$WORKDIR/pw RESTIC_PASSWORD_FILE=$WORKDIR/pw

echo "making $FILES files of 600 bytes"
/usr/bin/python3 "$SCRIPT_DIR/small_files.py" "$DATA" "$FILES"
"$GFS" init -q -r "$WORKDIR/gfs" >/dev/null
restic init -q -r "$WORKDIR/restic" >/dev/null

# timed NAME CMD...: wall seconds and peak RSS (KiB) into $WORKDIR/NAME.
timed() {
	local name=$1
	shift
	/usr/bin/time -f '%e %M' -o "$WORKDIR/$name" "$@" >/dev/null
}
for phase in first unchanged; do
	timed "gfs.$phase" "$GFS" backup -q -r "$WORKDIR/gfs" "$DATA"
	timed "restic.$phase" restic backup -q -r "$WORKDIR/restic" "$DATA"
done
"$GFS" stats -r "$WORKDIR/gfs" --json >"$WORKDIR/stats.json"

/usr/bin/python3 - "$WORKDIR" "$FILES" <<'PY'
import json, sys
w, n = sys.argv[1], int(sys.argv[2])
def rd(name):
    t, m = open(f"{w}/{name}").read().split()
    return float(t), int(m) / 1024
print(f"\n| {n} files of 600 B | gfsbackup s | MiB | restic s | MiB | restic/gfsbackup time |")
print("| --- | --- | --- | --- | --- | --- |")
for phase in ("first", "unchanged"):
    gt, gm = rd(f"gfs.{phase}")
    rt, rm = rd(f"restic.{phase}")
    print(f"| {phase} backup | {gt:.1f} | {gm:.0f} | {rt:.1f} | {rm:.0f} | {rt / gt:.2f}x |")
st = json.load(open(f"{w}/stats.json"))
b, m = st["index_blobs"], st["index_memory_bytes"]
print(f"\nindex in memory: {b} blobs, {m / 2**20:.1f} MiB, {m / b:.1f} bytes per blob")
PY
