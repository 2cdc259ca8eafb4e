#!/usr/bin/env bash
# Benchmark the nightly job: `gfsbackup run --config` against the same job
# done with restic commands, on bench.sh's data set, with a second local
# repository standing for the offsite copy.
#
# Usage: tests/bench/run_bench.sh [--size-mib N] [--gfsbackup PATH] [--workdir DIR]
#
# Nights: 1 (first backup into empty repositories), 2 (nothing changed),
# 3 (after gen_data.py --mutate, "a day of changes").  Each night is, for
#   gfsbackup: run --config (backup, forget standard policy, prune, sync,
#              verify rotate/7 of both copies, report saved to disk)
#   restic:    backup; forget --keep-daily 7 --keep-weekly 4
#              --keep-monthly 12 --keep-yearly 7 --prune; copy to the
#              second repository; check --read-data-subset 1/7 on both
# Wall time per night and the ratio are printed.
set -euo pipefail

SCRIPT_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd -P)
REPO_ROOT=$(cd "$SCRIPT_DIR/../.." && pwd -P)
PY=/usr/bin/python3
SIZE_MIB=1024
GFS="$REPO_ROOT/build/gfsbackup"
WORKDIR=""
while [[ $# -gt 0 ]]; do
	case $1 in
	--size-mib) SIZE_MIB=$2; shift 2 ;;
	--gfsbackup) GFS=$2; shift 2 ;;
	--workdir) WORKDIR=$2; shift 2 ;;
	-h|--help) sed -n '2,15p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
	*) echo "run_bench.sh: unknown argument: $1" >&2; exit 2 ;;
	esac
done
command -v restic >/dev/null || { echo "restic not found" >&2; exit 1; }
if [[ -z $WORKDIR ]]; then
	WORKDIR=$(mktemp -d /var/tmp/gfsb-rbench.XXXXXX)
	trap 'rm -rf "$WORKDIR"' EXIT
fi
mkdir -p "$WORKDIR"
W=$WORKDIR
export HOME=$W/home RESTIC_CACHE_DIR=$W/home/restic-cache
mkdir -p "$HOME"
printf 'bench passphrase' >"$W/pw"
chmod 600 "$W/pw"
export RESTIC_PASSWORD_FILE=$W/pw RESTIC_FROM_PASSWORD_FILE=$W/pw
unset GFSBACKUP_PASSWORD_FILE

echo "generating $SIZE_MIB MiB of data ..." >&2
$PY "$SCRIPT_DIR/gen_data.py" "$W/data" --size-mib "$SIZE_MIB" >/dev/null
"$GFS" init -r "$W/gfsb" --password-file "$W/pw" -q >/dev/null
restic -r "$W/restic" --quiet init >/dev/null
restic -r "$W/restic-off" --quiet init --copy-chunker-params \
	--from-repo "$W/restic" >/dev/null
cat >"$W/gfsbackup.conf" <<EOF
[repository]
url = $W/gfsb
password-file = $W/pw
state-dir = $W/state
[offsite]
url = $W/gfsb-off
[backup]
paths = $W/data
[retention]
policy = $REPO_ROOT/schedules/standard.policy
prune = daily
[verify]
read-data-subset = rotate/7
[report]
dir = $W/reports
EOF
chmod 600 "$W/gfsbackup.conf"

restic_night() {
	restic -r "$W/restic" --quiet backup "$W/data" >/dev/null
	restic -r "$W/restic" --quiet forget --keep-daily 7 --keep-weekly 4 \
		--keep-monthly 12 --keep-yearly 7 --prune >/dev/null
	restic -r "$W/restic-off" --quiet copy --from-repo "$W/restic" >/dev/null
	restic -r "$W/restic" --quiet check --read-data-subset 1/7 >/dev/null
	restic -r "$W/restic-off" --quiet check --read-data-subset 1/7 >/dev/null
}

now() { date +%s.%N; }
declare -A G R
for night in 1 2 3; do
	[[ $night = 3 ]] && $PY "$SCRIPT_DIR/gen_data.py" "$W/data" --mutate >/dev/null
	t0=$(now)
	"$GFS" run --config "$W/gfsbackup.conf" --time "2026-03-0$night 01:30:00" \
		2>"$W/run.err" || { cat "$W/run.err" >&2; exit 1; }
	t1=$(now)
	restic_night
	t2=$(now)
	G[$night]=$($PY -c "print(f'{$t1 - $t0:.2f}')")
	R[$night]=$($PY -c "print(f'{$t2 - $t1:.2f}')")
	echo "night $night: gfsbackup ${G[$night]} s, restic ${R[$night]} s" >&2
done

echo
echo "nightly job (backup, retention, prune, offsite copy, verify 1/7 of both), $SIZE_MIB MiB, $(nproc) cores"
echo
echo "| night | gfsbackup run s | restic commands s | restic / gfsbackup |"
echo "|---|---:|---:|---:|"
for night in 1 2 3; do
	case $night in 1) n="first" ;; 2) n="unchanged" ;; 3) n="a day of changes" ;; esac
	$PY -c "print(f'| $n | ${G[$night]} | ${R[$night]} | {${R[$night]}/max(${G[$night]},1e-3):.2f}× |')"
done
