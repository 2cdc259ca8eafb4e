#!/usr/bin/env bash
# Benchmark `gfsbackup verify --read-data` against `restic check --read-data`
# (and `borg check --verify-data` with --with-borg) on the same data, then
# rebuilding the index from every pack's header: `gfsbackup repair index`
# against `restic rebuild-index --read-all-packs`; and `repair index
# --read-data`, which also checks every blob (restic 0.14 has no such
# command: compare it with verify --read-data).
#
# Usage: tests/bench/verify_bench.sh [--size-mib N] [--runs N] [--with-borg]
#                                    [--gfsbackup PATH] [--workdir DIR]
#
# The data set is bench.sh's (gen_data.py); each tool backs it up once into
# its own repository, then each check is run --runs times (median printed,
# warm page cache for all of them alike: the repositories are read from
# memory, so the numbers measure the checking, not the disk).  Throughput is
# the repository's size on disk divided by the wall time.
set -euo pipefail

SCRIPT_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd -P)
REPO_ROOT=$(cd "$SCRIPT_DIR/../.." && pwd -P)
PY=/usr/bin/python3
TIME=/usr/bin/time
SIZE_MIB=1024
RUNS=3
WITH_BORG=0
GFS="$REPO_ROOT/build/gfsbackup"
WORKDIR=""

while [[ $# -gt 0 ]]; do
	case $1 in
	--size-mib) SIZE_MIB=$2; shift 2 ;;
	--runs) RUNS=$2; shift 2 ;;
	--with-borg) WITH_BORG=1; shift ;;
	--gfsbackup) GFS=$2; shift 2 ;;
	--workdir) WORKDIR=$2; shift 2 ;;
	-h|--help) sed -n '2,15p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
	*) echo "verify_bench.sh: unknown argument: $1" >&2; exit 2 ;;
	esac
done
[[ $SIZE_MIB =~ ^[1-9][0-9]*$ && $RUNS =~ ^[1-9][0-9]*$ ]] ||
	{ echo "verify_bench.sh: bad --size-mib or --runs" >&2; exit 2; }
command -v restic >/dev/null || { echo "restic not found" >&2; exit 1; }
[[ $WITH_BORG = 0 ]] || command -v borg >/dev/null ||
	{ echo "borg not found (apt-get install borgbackup)" >&2; exit 1; }
[[ -x $GFS ]] || { echo "no gfsbackup at $GFS (build first)" >&2; exit 1; }
if [[ -z $WORKDIR ]]; then
	WORKDIR=$(mktemp -d /var/tmp/gfsb-vbench.XXXXXX)
	trap 'rm -rf "$WORKDIR"' EXIT
fi
mkdir -p "$WORKDIR"
DATA=$WORKDIR/data
export HOME=$WORKDIR/home
mkdir -p "$HOME"
printf 'bench passphrase' >"$WORKDIR/pw"
chmod 600 "$WORKDIR/pw"
export GFSBACKUP_PASSWORD_FILE=$WORKDIR/pw RESTIC_PASSWORD_FILE=$WORKDIR/pw
export BORG_PASSPHRASE="bench passphrase" BORG_BASE_DIR=$HOME
export RESTIC_CACHE_DIR=$HOME/restic-cache GFSBACKUP_STATE_DIR=$HOME/state

echo "generating $SIZE_MIB MiB of data ..." >&2
$PY "$SCRIPT_DIR/gen_data.py" "$DATA" --size-mib "$SIZE_MIB" >/dev/null
"$GFS" init -r "$WORKDIR/gfsb" -q >/dev/null
"$GFS" backup -r "$WORKDIR/gfsb" -q "$DATA" >/dev/null
restic -r "$WORKDIR/restic" --quiet init >/dev/null
restic -r "$WORKDIR/restic" --quiet backup "$DATA" >/dev/null
tools=(gfsbackup restic)
if [[ $WITH_BORG = 1 ]]; then
	borg init -e repokey "$WORKDIR/borg" >/dev/null 2>&1
	borg create "$WORKDIR/borg::a" "$DATA" >/dev/null 2>&1
	tools+=(borg)
fi

cmd_of() {
	case $1 in
	gfsbackup) CMD=("$GFS" verify -r "$WORKDIR/gfsb" --read-data -q --no-state) ;;
	restic) CMD=(restic -r "$WORKDIR/restic" --quiet check --read-data) ;;
	borg) CMD=(borg check --verify-data "$WORKDIR/borg") ;;
	esac
}

# time_runs WHAT: run CMD RUNS times; MED_WALL and MED_RSS get the medians.
time_runs() {
	local walls=() rsss=() i w m
	for ((i = 0; i < RUNS; i++)); do
		$TIME -f '%e %M' -o "$WORKDIR/time" "${CMD[@]}" >/dev/null 2>"$WORKDIR/err" ||
			{ cat "$WORKDIR/err" >&2; echo "$1 failed" >&2; exit 1; }
		read -r w m <"$WORKDIR/time"
		walls+=("$w") rsss+=("$m")
	done
	MED_WALL=$(printf '%s\n' "${walls[@]}" | sort -n | sed -n "$(((RUNS + 1) / 2))p")
	MED_RSS=$(printf '%s\n' "${rsss[@]}" | sort -n | sed -n "$(((RUNS + 1) / 2))p")
	echo "$1: ${walls[*]} s" >&2
}

declare -A WALL RSS SIZE
for t in "${tools[@]}"; do
	case $t in
	gfsbackup) SIZE[$t]=$(du -sb "$WORKDIR/gfsb" | cut -f1) ;;
	restic) SIZE[$t]=$(du -sb "$WORKDIR/restic" | cut -f1) ;;
	borg) SIZE[$t]=$(du -sb "$WORKDIR/borg" | cut -f1) ;;
	esac
	cmd_of "$t"
	"${CMD[@]}" >/dev/null 2>&1 # warm the page cache
	time_runs "$t check"
	WALL[$t]=$MED_WALL RSS[$t]=$MED_RSS
done

echo
echo "verify --read-data, $SIZE_MIB MiB data set, median of $RUNS, $(nproc) cores"
echo
echo "| tool | repository MiB | wall s | MB/s | peak RSS MiB | wall vs gfsbackup |"
echo "|---|---:|---:|---:|---:|---:|"
for t in "${tools[@]}"; do
	$PY - "$t" "${SIZE[$t]}" "${WALL[$t]}" "${RSS[$t]}" "${WALL[gfsbackup]}" <<'PYEOF'
import sys
t, size, wall, rss, gw = sys.argv[1], int(sys.argv[2]), float(sys.argv[3]), int(sys.argv[4]), float(sys.argv[5])
print(f"| {t} | {size/2**20:.1f} | {wall:.2f} | {size/1e6/max(wall,1e-3):.1f} | {rss/1024:.1f} | {wall/max(gw,1e-3):.2f}× |")
PYEOF
done

# Rebuilding the index (both leave their repository as it was: the packs
# are intact, so the new index names the same blobs).
repair_cmd() {
	case $1 in
	gfsbackup) CMD=("$GFS" repair -r "$WORKDIR/gfsb" -q index) ;;
	gfsbackup-read) CMD=("$GFS" repair -r "$WORKDIR/gfsb" -q index --read-data) ;;
	restic) CMD=(restic -r "$WORKDIR/restic" --quiet rebuild-index --read-all-packs) ;;
	esac
}
declare -A RWALL RRSS
for t in gfsbackup restic gfsbackup-read; do
	repair_cmd "$t"
	time_runs "$t repair"
	RWALL[$t]=$MED_WALL RRSS[$t]=$MED_RSS
done
# Still whole afterwards.
"$GFS" verify -r "$WORKDIR/gfsb" --read-data -q --no-state >/dev/null ||
	{ echo "gfsbackup repository damaged by repair" >&2; exit 1; }
restic -r "$WORKDIR/restic" --quiet check --read-data >/dev/null ||
	{ echo "restic repository damaged by rebuild-index" >&2; exit 1; }

echo
echo "rebuilding the index, $SIZE_MIB MiB data set, median of $RUNS"
echo
echo "| what | gfsbackup s | gfsbackup RSS MiB | restic s | restic RSS MiB | restic vs gfsbackup |"
echo "|---|---:|---:|---:|---:|---:|"
$PY - "${RWALL[gfsbackup]}" "${RRSS[gfsbackup]}" "${RWALL[restic]}" \
	"${RRSS[restic]}" "${RWALL[gfsbackup-read]}" "${RRSS[gfsbackup-read]}" \
	"${WALL[gfsbackup]}" <<'PYEOF'
import sys
gw, gr, rw, rr, dw, dr, vw = (float(x) for x in sys.argv[1:])
print(f"| every pack's header read (repair index / rebuild-index --read-all-packs) "
      f"| {gw:.2f} | {gr/1024:.1f} | {rw:.2f} | {rr/1024:.1f} | {rw/max(gw,1e-3):.2f}× |")
print(f"| every blob read and checked too (repair index --read-data; verify --read-data: {vw:.2f} s) "
      f"| {dw:.2f} | {dr/1024:.1f} | - | - | - |")
PYEOF
