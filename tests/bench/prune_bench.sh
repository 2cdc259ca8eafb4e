#!/usr/bin/env bash
# Prune benchmark: gfsbackup prune vs restic prune on the same history.
#
# Usage: tests/bench/prune_bench.sh [--files N] [--snapshots S]
#                                   [--gfsbackup PATH] [--workdir DIR]
#
# A directory of N small files (default 20,000, one blob each) is backed up
# S times (default 20) by both tools; between backups a random half of the
# files get new content, so each backup adds about N/2 new blobs and the
# repository ends with about N/2 * (S + 1) data blobs (210,000 by default),
# spread so that old packs end up partly used.  Then both forget the older
# half of the snapshots (--keep-last S/2) and prune with their defaults
# (max-unused 5%), timed with /usr/bin/time: wall, CPU, peak RSS, and the
# repository size before and after.  Afterwards the newest snapshot of each
# tool is restored and compared with the data.
set -euo pipefail

SCRIPT_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd -P)
REPO_ROOT=$(cd "$SCRIPT_DIR/../.." && pwd -P)
GFS=$REPO_ROOT/build/gfsbackup
FILES=20000
SNAPS=20
WORK=""
while [[ $# -gt 0 ]]; do
	case $1 in
	--files) FILES=$2; shift 2 ;;
	--snapshots) SNAPS=$2; shift 2 ;;
	--gfsbackup) GFS=$2; shift 2 ;;
	--workdir) WORK=$2; shift 2 ;;
	*) echo "prune_bench.sh: unknown argument $1" >&2; exit 2 ;;
	esac
done
if [[ -z $WORK ]]; then
	WORK=$(mktemp -d /var/tmp/gfsprune.XXXXXX)
	trap 'rm -rf "$WORK"' EXIT
fi
mkdir -p "$WORK"
unset AWS_CA_BUNDLE
printf 'prune bench passphrase' >"$WORK/pw"
chmod 600 "$WORK/pw"
export GFSBACKUP_PASSWORD_FILE=$WORK/pw RESTIC_PASSWORD_FILE=$WORK/pw
export RESTIC_CACHE_DIR=$WORK/restic-cache
DATA=$WORK/data
RG=$WORK/repo-gfsbackup
RR=$WORK/repo-restic

log() { printf '[%s] %s\n' "$(date +%T)" "$*"; }

# Make or change the data: every file on the first call, then a random half.
mutate() {
	/usr/bin/python3 - "$DATA" "$FILES" "$1" <<'PYEOF'
import os, random, sys
d, n, step = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
rng = random.Random(step)
os.makedirs(d, exist_ok=True)
for i in range(n):
    if step > 0 and rng.random() < 0.5:
        continue
    sub = os.path.join(d, "%03d" % (i % 200))
    os.makedirs(sub, exist_ok=True)
    with open(os.path.join(sub, "f%06d" % i), "wb") as f:
        f.write(rng.randbytes(700) + (" step %d file %d " % (step, i)).encode() * 40)
PYEOF
}

log "history: $FILES files, $SNAPS backups, half the files changing each time"
"$GFS" init -r "$RG" -q >/dev/null
restic init -r "$RR" -q
for s in $(seq 0 $((SNAPS - 1))); do
	mutate "$s"
	"$GFS" backup -r "$RG" -q "$DATA" >/dev/null
	restic -r "$RR" backup -q "$DATA"
done
blobs=$("$GFS" prune -r "$RG" --dry-run | sed -n 's/.* use [0-9]* of \([0-9]*\) blobs.*/\1/p')
log "gfsbackup repository: $blobs blobs"

"$GFS" forget -r "$RG" -q --keep-last $((SNAPS / 2)) >/dev/null
restic -r "$RR" forget -q --keep-last $((SNAPS / 2)) >/dev/null

sizeof() { du -sb "$1" | cut -f1; }
gb=$(sizeof "$RG")
rb=$(sizeof "$RR")
sync
/usr/bin/time -f '%e %U %S %M' -o "$WORK/t.gfs" "$GFS" prune -r "$RG" >"$WORK/gfs.out"
sync
/usr/bin/time -f '%e %U %S %M' -o "$WORK/t.restic" restic -r "$RR" prune >"$WORK/restic.out"
ga=$(sizeof "$RG")
ra=$(sizeof "$RR")

log "checking the newest snapshot of each tool against the data"
"$GFS" restore -r "$RG" -q latest --target "$WORK/r-gfs" >/dev/null
restic -r "$RR" restore -q latest --target "$WORK/r-restic"
diff -r "$DATA" "$WORK/r-gfs$DATA" >/dev/null || { echo "FAIL: gfsbackup restore differs"; exit 1; }
diff -r "$DATA" "$WORK/r-restic$DATA" >/dev/null || { echo "FAIL: restic restore differs"; exit 1; }

read -r gw gu gs gm <"$WORK/t.gfs"
read -r rw ru rs rm_ <"$WORK/t.restic"
/usr/bin/python3 - "$blobs" "$gw" "$gu" "$gs" "$gm" "$rw" "$ru" "$rs" "$rm_" \
	"$gb" "$ga" "$rb" "$ra" <<'PYEOF'
import sys
a = sys.argv[1:]
blobs = int(a[0])
gw, gu, gs, gm, rw, ru, rs, rm = map(float, a[1:9])
gb, ga, rb, ra = (int(x) for x in a[9:13])
mib = 1024.0 * 1024
print("prune of a repository of %d blobs, half the snapshots forgotten" % blobs)
print("| tool | wall s | CPU s | peak RSS MiB | repo before MiB | repo after MiB |")
print("|---|---|---|---|---|---|")
print("| gfsbackup | %.2f | %.2f | %.1f | %.1f | %.1f |" % (gw, gu + gs, gm / 1024, gb / mib, ga / mib))
print("| restic 0.14 | %.2f | %.2f | %.1f | %.1f | %.1f |" % (rw, ru + rs, rm / 1024, rb / mib, ra / mib))
print("| gfsbackup/restic | %.2f | %.2f | %.2f | %.2f | %.2f |" % (
    gw / rw, (gu + gs) / (ru + rs), gm / rm, gb / rb, ga / ra))
ok_t, ok_m = gw < rw, gm <= rm
print("targets: faster than restic: %s; memory no higher: %s" % (
    "MET" if ok_t else "NOT MET", "MET" if ok_m else "NOT MET"))
PYEOF
log "gfsbackup said:"
cat "$WORK/gfs.out"
