#!/usr/bin/env bash
# Restoring in place (restore --overwrite, --delete): gfsbackup against
# restic 0.18 on the same data, each restoring its own repository into a
# tmpfs (/dev/shm), so that disk writes do not drift the numbers.
#
#   fresh       into an empty directory (the baseline)
#   unchanged   over the tree as it was restored: --overwrite if-changed
#               (nothing needs writing)
#   attacked    over the tree after ransomware: every 10th file
#               overwritten, a note dropped in every directory;
#               --overwrite always --delete, then checked to be the data
#               set exactly (sha256 of every file, no other file)
#
# Usage: tests/bench/inplace_bench.sh [--size-mib N] [--runs R]
#                                     [--gfsbackup PATH] [--workdir DIR]
# R runs (default 3), interleaved (odd runs start with gfsbackup); the
# table shows the median wall time of each phase and restic/gfsbackup.
# Requirements: restic 0.18 on PATH (tests/bench/get-peers.sh), a tmpfs at
# /dev/shm of about 3 times the data set.
set -euo pipefail

SCRIPT_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd -P)
REPO_ROOT=$(cd "$SCRIPT_DIR/../.." && pwd -P)
PY=/usr/bin/python3
SIZE_MIB=1024
RUNS=3
GFS="$REPO_ROOT/build/gfsbackup"
WORKDIR=""

die() { echo "inplace_bench.sh: $*" >&2; exit 1; }
need_arg() { [[ $# -ge 2 && -n $2 ]] || die "$1 needs an argument"; }
while [[ $# -gt 0 ]]; do
	case $1 in
	--size-mib) need_arg "$@"; SIZE_MIB=$2; shift 2 ;;
	--runs) need_arg "$@"; RUNS=$2; shift 2 ;;
	--gfsbackup) need_arg "$@"; GFS=$2; shift 2 ;;
	--workdir) need_arg "$@"; WORKDIR=$2; shift 2 ;;
	*) die "unknown argument: $1" ;;
	esac
done
[[ $SIZE_MIB =~ ^[1-9][0-9]*$ ]] || die "bad --size-mib: $SIZE_MIB"
[[ $RUNS =~ ^[1-9]$ ]] || die "bad --runs: $RUNS (1-9)"
command -v restic >/dev/null || die "restic not on PATH (get-peers.sh)"
[[ -x $GFS ]] || die "no gfsbackup at $GFS"

if [[ -z $WORKDIR ]]; then
	WORKDIR=$(mktemp -d /var/tmp/gfsb-inplace.XXXXXX)
	trap 'rm -rf "$WORKDIR" "$SHM"' EXIT
fi
SHM=$(mktemp -d /dev/shm/gfsb-inplace.XXXXXX)
DATA=$WORKDIR/data
printf 'bench passphrase\n' >"$WORKDIR/pw"
chmod 600 "$WORKDIR/pw"
export GFSBACKUP_PASSWORD_FILE=$WORKDIR/pw RESTIC_PASSWORD_FILE=$WORKDIR/pw
unset AWS_CA_BUNDLE

echo "data set: $SIZE_MIB MiB"
"$PY" "$SCRIPT_DIR/gen_data.py" --size-mib "$SIZE_MIB" "$DATA" >/dev/null
"$GFS" init -q -r "$WORKDIR/gfs" >/dev/null
"$GFS" backup -q -r "$WORKDIR/gfs" "$DATA"
restic init -q -r "$WORKDIR/restic" >/dev/null
restic backup -q -r "$WORKDIR/restic" "$DATA" >/dev/null

# restore TOOL TARGET [options]: the latest snapshot into TARGET.
restore() {
	local tool=$1 target=$2
	shift 2
	if [[ $tool == gfsbackup ]]; then
		"$GFS" restore -q -r "$WORKDIR/gfs" latest --target "$target" "$@"
	else
		restic restore -q -r "$WORKDIR/restic" latest --target "$target" \
			"$@" >/dev/null
	fi
}

# timed FILE CMD...: CMD's wall seconds appended to FILE.
timed() {
	local file=$1 t0 t1
	shift
	t0=$(date +%s.%N)
	"$@"
	t1=$(date +%s.%N)
	echo "$t1 - $t0" | bc >>"$file"
}

# attack DIR: every 10th file overwritten, a note in every directory.
attack() {
	find "$1" -type f | sort | awk 'NR % 10 == 0' |
		while read -r f; do printf 'ENCRYPTED' >"$f"; done
	find "$1" -type d | while read -r d; do
		printf 'pay us\n' >"$d/README-RANSOM.txt"
	done
}

manifest() { (cd "$1" && find . -type f -print0 | sort -z |
	xargs -0 sha256sum); }
manifest "$DATA" >"$WORKDIR/manifest.data"

for run in $(seq 1 "$RUNS"); do
	if ((run % 2)); then order="gfsbackup restic"; else order="restic gfsbackup"; fi
	for tool in $order; do
		T=$SHM/$tool
		rm -rf "$T"
		timed "$WORKDIR/$tool.fresh" restore "$tool" "$T"
		timed "$WORKDIR/$tool.unchanged" restore "$tool" "$T" \
			--overwrite if-changed
		attack "$T$DATA"
		timed "$WORKDIR/$tool.attacked" restore "$tool" "$T" \
			--overwrite always --delete
		manifest "$T$DATA" >"$WORKDIR/manifest.$tool"
		cmp -s "$WORKDIR/manifest.data" "$WORKDIR/manifest.$tool" ||
			die "$tool: the tree after --delete is not the data set"
		rm -rf "$T"
	done
	echo "run $run done"
done

"$PY" - "$WORKDIR" "$SIZE_MIB" <<'PY'
import statistics, sys
w, size = sys.argv[1], sys.argv[2]
def med(tool, phase):
    return statistics.median(float(x) for x in open(f"{w}/{tool}.{phase}"))
print(f"\n| restore, {size} MiB, tmpfs | gfsbackup s | restic s | restic/gfsbackup |")
print("| --- | --- | --- | --- |")
for phase, what in (("fresh", "into an empty directory"),
        ("unchanged", "over the same tree, --overwrite if-changed"),
        ("attacked", "after ransomware, --overwrite always --delete")):
    g, r = med("gfsbackup", phase), med("restic", phase)
    print(f"| {what} | {g:.2f} | {r:.2f} | {r / g:.2f}x |")
PY
