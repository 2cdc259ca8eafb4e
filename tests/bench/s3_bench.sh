#!/usr/bin/env bash
# Offsite throughput against a real S3 server (Ceph's RADOS Gateway on
# 127.0.0.1, bluestore on a file), all tools on the same data in one run:
#
#   1. sync      gfsbackup sync of a local repository to S3, side by side
#                with `rclone copy` of the very same pack files (and of the
#                whole repository) to the same server
#   2. backup    first backup straight to S3: gfsbackup vs restic
#   3. again     unchanged re-backup to S3 (metadata from the local caches)
#   4. restore   restore from S3 into an empty directory: gfsbackup vs restic
#
# Usage: tests/bench/s3_bench.sh [--size-mib N] [--runs R] [--gfsbackup PATH]
#                                [--workdir DIR] [--out FILE]
# Every timed command runs R times (default 3) on a fresh destination; the
# table shows the median.  Requirements: tests/s3/install-deps.sh, restic,
# /usr/bin/time.
set -euo pipefail

SCRIPT_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd -P)
REPO_ROOT=$(cd "$SCRIPT_DIR/../.." && pwd -P)
PY=/usr/bin/python3
TIME=/usr/bin/time
SIZE_MIB=1024
RUNS=3
GFS="$REPO_ROOT/build/gfsbackup"
WORKDIR=""
OUT=""

die() { echo "s3_bench.sh: $*" >&2; exit 1; }
need_arg() { [[ $# -ge 2 && -n $2 ]] || die "$1 needs an argument"; }
while [[ $# -gt 0 ]]; do
	case $1 in
	--size-mib) need_arg "$@"; SIZE_MIB=$2; shift 2 ;;
	--runs) need_arg "$@"; RUNS=$2; shift 2 ;;
	--gfsbackup) need_arg "$@"; GFS=$2; shift 2 ;;
	--workdir) need_arg "$@"; WORKDIR=$2; shift 2 ;;
	--out) need_arg "$@"; OUT=$2; shift 2 ;;
	-h | --help) sed -n '2,17p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
	*) die "unknown argument $1" ;;
	esac
done
[[ $SIZE_MIB =~ ^[1-9][0-9]*$ ]] || die "bad --size-mib $SIZE_MIB"
[[ $RUNS =~ ^[1-9]$ ]] || die "bad --runs $RUNS (1-9)"
[[ $GFS == /* ]] || GFS="$PWD/$GFS"
[[ -x $GFS ]] || die "no gfsbackup at $GFS"
for t in restic rclone radosgw "$TIME"; do
	command -v "$t" >/dev/null || die "$t missing (tests/s3/install-deps.sh)"
done

CLEAN=0
if [[ -z $WORKDIR ]]; then
	WORKDIR=$(mktemp -d /var/tmp/gfsb-s3bench.XXXXXX)
	CLEAN=1
fi
mkdir -p "$WORKDIR"
WORKDIR=$(cd "$WORKDIR" && pwd -P)
[[ -n $OUT ]] || OUT="$(dirname "$WORKDIR")/s3-bench-results.md"
CEPH=$WORKDIR/ceph
cleanup() {
	bash "$REPO_ROOT/tests/s3/ceph.sh" stop "$CEPH" >/dev/null 2>&1 || true
	if ((CLEAN)); then
		chmod -R u+w "$WORKDIR" 2>/dev/null || true
		rm -rf "$WORKDIR"
	fi
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

log() { printf '[%s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }

DATA=$WORKDIR/data
LOCAL=$WORKDIR/local
TIMES=$WORKDIR/times
LOGS=$WORKDIR/logs
mkdir -p "$TIMES" "$LOGS" "$WORKDIR/home"
(umask 077; head -c 24 /dev/urandom | base64 | tr -d '\n' >"$WORKDIR/pw")
export GFSBACKUP_PASSWORD_FILE=$WORKDIR/pw RESTIC_PASSWORD_FILE=$WORKDIR/pw
export XDG_CACHE_HOME=$WORKDIR/home/cache RESTIC_CACHE_DIR=$WORKDIR/home/cache/restic

log "starting Ceph (bluestore) in $CEPH"
GFSB_CEPH_STORE=bluestore bash "$REPO_ROOT/tests/s3/ceph.sh" start "$CEPH" \
	>"$LOGS/ceph.log" 2>&1 || { cat "$LOGS/ceph.log"; die "Ceph did not start"; }
# shellcheck disable=SC1091
. "$CEPH/env"
export GFSBACKUP_S3_ENDPOINT=$GFSB_S3_ENDPOINT
RCLONE=(env -u AWS_CA_BUNDLE rclone --config "$CEPH/rclone.conf")
RESTIC_REPO_BASE="s3:$GFSB_S3_ENDPOINT"

log "generating $SIZE_MIB MiB of data"
$PY "$SCRIPT_DIR/gen_data.py" "$DATA" --size-mib "$SIZE_MIB" >/dev/null
log "backing up to a local repository (the source of sync)"
"$GFS" init -r "$LOCAL" -q >/dev/null
"$GFS" backup -r "$LOCAL" -q "$DATA" >/dev/null
PACK_BYTES=$(find "$LOCAL/data" -type f -printf '%s\n' | awk '{s+=$1} END {print s}')
REPO_BYTES=$(find "$LOCAL" -type f -printf '%s\n' | awk '{s+=$1} END {print s}')
NPACKS=$(find "$LOCAL/data" -type f | wc -l)
DATA_BYTES=$(find "$DATA" -type f -printf '%s\n' | awk '{s+=$1} END {print s}')

# timed NAME RUN CMD...: wall seconds and max RSS into $TIMES/NAME.RUN.
timed() {
	local name=$1 run=$2
	shift 2
	sync
	"$TIME" -f '%e %M' -o "$TIMES/$name.$run" "$@" </dev/null \
		>>"$LOGS/$name.log" 2>&1 || {
		tail -n 30 "$LOGS/$name.log" >&2
		die "$name (run $run) failed: $*"
	}
	log "$(printf '%-16s run %s: %6ss  rss %5d MiB' "$name" "$run" \
		$(tail -n 1 "$TIMES/$name.$run" | awk '{print $1, int($2/1024)}'))"
}

# median NAME FIELD(1 wall, 2 rss)
median() {
	local name=$1 f=$2
	for r in $(seq 1 "$RUNS"); do tail -n 1 "$TIMES/$name.$r" | cut -d' ' -f"$f"; done |
		sort -g | awk '{v[NR]=$1} END {print v[int((NR+1)/2)]}'
}

for r in $(seq 1 "$RUNS"); do
	log "run $r of $RUNS"
	timed gfsb-sync "$r" "$GFS" sync -q -r "$LOCAL" --to "s3://bench-sync/run$r"
	timed rclone-packs "$r" "${RCLONE[@]}" copy "$LOCAL/data" "ceph:bench-rclone/run$r/data"
	timed rclone-repo "$r" "${RCLONE[@]}" copy "$LOCAL" "ceph:bench-rclone-repo/run$r"

	"$GFS" init -r "s3://bench-gfsb/run$r" -q >/dev/null
	restic -r "$RESTIC_REPO_BASE/bench-restic/run$r" -o s3.bucket-lookup=path \
		--quiet init >/dev/null
	rm -rf "$XDG_CACHE_HOME"
	timed gfsb-backup "$r" "$GFS" backup -q -r "s3://bench-gfsb/run$r" "$DATA"
	timed restic-backup "$r" restic -r "$RESTIC_REPO_BASE/bench-restic/run$r" \
		-o s3.bucket-lookup=path --quiet backup "$DATA"
	timed gfsb-again "$r" "$GFS" backup -q -r "s3://bench-gfsb/run$r" "$DATA"
	timed restic-again "$r" restic -r "$RESTIC_REPO_BASE/bench-restic/run$r" \
		-o s3.bucket-lookup=path --quiet backup "$DATA"
	rm -rf "$WORKDIR/rg" "$WORKDIR/rr"
	timed gfsb-restore "$r" "$GFS" restore -q -r "s3://bench-gfsb/run$r" latest \
		--target "$WORKDIR/rg"
	timed restic-restore "$r" restic -r "$RESTIC_REPO_BASE/bench-restic/run$r" \
		-o s3.bucket-lookup=path --quiet restore latest --target "$WORKDIR/rr"
	# Both restores must be the data set.
	diff -rq "$DATA" "$WORKDIR/rg$DATA" >/dev/null || die "gfsbackup restore differs"
	diff -rq "$DATA" "$WORKDIR/rr$DATA" >/dev/null || die "restic restore differs"
	rm -rf "$WORKDIR/rg" "$WORKDIR/rr"
done

# The mirror is the local repository, object for object.
"${RCLONE[@]}" lsf -R --files-only --format sp --separator ' ' ceph:bench-sync/run1 |
	grep -v ' locks/' | sort >"$WORKDIR/mirror.lst"
(cd "$LOCAL" && find . -type f ! -path './locks/*' -printf '%s %P\n') | sort >"$WORKDIR/local.lst"
cmp -s "$WORKDIR/mirror.lst" "$WORKDIR/local.lst" || die "the mirror differs"

mbps() { awk -v b="$1" -v s="$2" 'BEGIN { printf "%.1f", b / s / 1e6 }'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a / b }'; }
mib() { awk -v b="$1" 'BEGIN { printf "%.1f", b / 1048576 }'; }

sync_s=$(median gfsb-sync 1); rp_s=$(median rclone-packs 1); rr_s=$(median rclone-repo 1)
gb=$(median gfsb-backup 1); rb=$(median restic-backup 1)
ga=$(median gfsb-again 1); ra=$(median restic-again 1)
gr=$(median gfsb-restore 1); rr=$(median restic-restore 1)
{
	echo "## S3 benchmark ($(date -u +%Y-%m-%d), $(nproc) cores, Ceph $(ceph --version | awk '{print $3}') RGW bluestore on 127.0.0.1)"
	echo
	echo "Data set $(mib "$DATA_BYTES") MiB; local repository $(mib "$REPO_BYTES") MiB in $NPACKS packs ($(mib "$PACK_BYTES") MiB). Median of $RUNS runs; default settings (gfsbackup 4 connections, rclone 4 transfers, restic 5 connections)."
	echo
	echo "| upload of the repository | seconds | MB/s | vs rclone (packs) |"
	echo "|---|---:|---:|---:|"
	echo "| gfsbackup sync (every object, SHA-256 checked) | $sync_s | $(mbps "$REPO_BYTES" "$sync_s") | $(ratio "$rp_s" "$sync_s")x |"
	echo "| rclone copy of the same pack files | $rp_s | $(mbps "$PACK_BYTES" "$rp_s") | 1.00x |"
	echo "| rclone copy of the whole repository | $rr_s | $(mbps "$REPO_BYTES" "$rr_s") | $(ratio "$rp_s" "$rr_s")x |"
	echo
	echo "| straight to S3 | gfsbackup s | restic s | restic / gfsbackup | gfsbackup RSS MiB | restic RSS MiB |"
	echo "|---|---:|---:|---:|---:|---:|"
	echo "| first backup | $gb | $rb | $(ratio "$rb" "$gb")x | $(( $(median gfsb-backup 2) / 1024 )) | $(( $(median restic-backup 2) / 1024 )) |"
	echo "| unchanged backup | $ga | $ra | $(ratio "$ra" "$ga")x | $(( $(median gfsb-again 2) / 1024 )) | $(( $(median restic-again 2) / 1024 )) |"
	echo "| restore | $gr | $rr | $(ratio "$rr" "$gr")x | $(( $(median gfsb-restore 2) / 1024 )) | $(( $(median restic-restore 2) / 1024 )) |"
} >"$OUT"
cat "$OUT"
log "results in $OUT"
