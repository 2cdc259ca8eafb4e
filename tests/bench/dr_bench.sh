#!/usr/bin/env bash
# Disaster recovery from S3 (issue 19): a new machine, empty caches, and
# everything comes back from a real S3 server (Ceph's RADOS Gateway on
# 127.0.0.1, bluestore on a file) into a tmpfs.  gfsbackup against restic
# 0.18, both backed up once from the same data straight to the same server:
#
#   restore    the latest snapshot: gfsbackup restore vs restic restore
#   sync-back  the whole repository into a new local repository:
#              gfsbackup sync vs restic copy (into a repository made with
#              init --copy-chunker-params); rclone copy of gfsbackup's
#              bucket prefix is the floor of plain transfer
#   slow link  the restore again through tests/s3/faultproxy.py adding
#              --latency-ms (default 30) to every GET, as a WAN round trip
#              to a real S3 endpoint does (0: skip this phase)
#   one file   restore of one small file, cold cache (not timed): it must
#              cost one range request of pack data
#
# Usage: tests/bench/dr_bench.sh [--size-mib N] [--runs R] [--gfsbackup PATH]
#                                [--restic PATH] [--latency-ms N]
#                                [--workdir DIR] [--out FILE]
# R runs (default 5, 1-9), interleaved: odd runs start with gfsbackup, even
# runs with restic; the table shows medians of wall time and peak RSS.
# Target: restic / gfsbackup >= 1.5 for restore and sync-back.
# Requirements: tests/s3/install-deps.sh, /usr/bin/time, rclone, a tmpfs at
# /dev/shm (about 2 times the data set), restic 0.18 (tests/bench/get-peers.sh
# fetches it); disk space about 4 times the data set under the workdir.
set -euo pipefail

SCRIPT_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd -P)
REPO_ROOT=$(cd "$SCRIPT_DIR/../.." && pwd -P)
PY=/usr/bin/python3
TIME=/usr/bin/time
SIZE_MIB=1024
RUNS=5
GFS="$REPO_ROOT/build/gfsbackup"
RESTIC=""
LATENCY_MS=30
WORKDIR=""
OUT=""

die() { echo "dr_bench.sh: $*" >&2; exit 1; }
need_arg() { [[ $# -ge 2 && -n $2 ]] || die "$1 needs an argument"; }
while [[ $# -gt 0 ]]; do
	case $1 in
	--size-mib) need_arg "$@"; SIZE_MIB=$2; shift 2 ;;
	--runs) need_arg "$@"; RUNS=$2; shift 2 ;;
	--gfsbackup) need_arg "$@"; GFS=$2; shift 2 ;;
	--restic) need_arg "$@"; RESTIC=$2; shift 2 ;;
	--latency-ms) need_arg "$@"; LATENCY_MS=$2; shift 2 ;;
	--workdir) need_arg "$@"; WORKDIR=$2; shift 2 ;;
	--out) need_arg "$@"; OUT=$2; shift 2 ;;
	-h | --help) awk 'NR > 1 && !/^#/ {exit} NR > 1 {sub(/^# ?/, ""); print}' "$0"; exit 0 ;;
	*) die "unknown argument $1" ;;
	esac
done
[[ $SIZE_MIB =~ ^[1-9][0-9]*$ ]] || die "bad --size-mib $SIZE_MIB"
[[ $RUNS =~ ^[1-9]$ ]] || die "bad --runs $RUNS (1-9)"
[[ $LATENCY_MS =~ ^[0-9]+$ && $LATENCY_MS -le 1000 ]] ||
	die "bad --latency-ms $LATENCY_MS (0-1000)"
[[ $GFS == /* ]] || GFS="$PWD/$GFS"
[[ -x $GFS ]] || die "no gfsbackup at $GFS"
for t in rclone radosgw ceph "$TIME" "$PY"; do
	command -v "$t" >/dev/null || die "$t missing (tests/s3/install-deps.sh)"
done
if [[ -z $RESTIC ]]; then
	RESTIC=$("$SCRIPT_DIR/get-peers.sh") || die "tests/bench/get-peers.sh could not get restic 0.18"
fi
[[ $RESTIC == */* ]] || RESTIC=$(command -v "$RESTIC") || die "no restic $RESTIC"
[[ $RESTIC == /* ]] || RESTIC="$PWD/$RESTIC"
[[ -x $RESTIC ]] || die "no restic at $RESTIC"
RESTIC_VERSION=$("$RESTIC" version 2>/dev/null | awk '{print $2; exit}') || true
[[ $RESTIC_VERSION == 0.18.* ]] ||
	die "$RESTIC is restic ${RESTIC_VERSION:-(unknown)}, not 0.18.x (tests/bench/get-peers.sh)"

CLEAN=0
if [[ -z $WORKDIR ]]; then
	WORKDIR=$(mktemp -d /var/tmp/gfsb-drbench.XXXXXX)
	CLEAN=1
else
	mkdir -p "$WORKDIR"
	[[ -z $(ls -A "$WORKDIR") ]] || die "--workdir $WORKDIR is not empty"
fi
WORKDIR=$(cd "$WORKDIR" && pwd -P)
[[ -n $OUT ]] || OUT="$(dirname "$WORKDIR")/dr-bench-results.md"
CEPH=$WORKDIR/ceph
SHM=""
PROXY_PID=""
cleanup() {
	[[ -z $PROXY_PID ]] || kill "$PROXY_PID" 2>/dev/null || true
	bash "$REPO_ROOT/tests/s3/ceph.sh" stop "$CEPH" >/dev/null 2>&1 || true
	[[ -z $SHM ]] || rm -rf "$SHM"
	if ((CLEAN)); then
		chmod -R u+w "$WORKDIR" 2>/dev/null || true
		rm -rf "$WORKDIR"
	fi
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# The targets: a tmpfs, so that the local disk is not what is measured.
SHM=$(mktemp -d /dev/shm/gfsb-drbench.XXXXXX)
[[ $(stat -f -c %T "$SHM") == tmpfs ]] ||
	die "/dev/shm is $(stat -f -c %T "$SHM"), not a tmpfs"

log() { printf '[%s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }

DATA=$WORKDIR/data
TIMES=$WORKDIR/times
LOGS=$WORKDIR/logs
MACHINE=$WORKDIR/home      # all the tools' caches and state: a new machine
mkdir -p "$TIMES" "$LOGS" "$MACHINE" "$WORKDIR/bin"
# The binary under test, frozen: a rebuild during the run changes nothing.
cp "$GFS" "$WORKDIR/bin/gfsbackup"
GFS=$WORKDIR/bin/gfsbackup
PW=$WORKDIR/pw
(umask 077; head -c 24 /dev/urandom | base64 | tr -d '\n' >"$PW")
export GFSBACKUP_PASSWORD_FILE=$PW RESTIC_PASSWORD_FILE=$PW
export HOME=$MACHINE XDG_CACHE_HOME=$MACHINE/cache XDG_STATE_HOME=$MACHINE/state
export RESTIC_CACHE_DIR=$MACHINE/restic-cache
unset GFSBACKUP_CACHE_DIR GFSBACKUP_STATE_DIR STATE_DIRECTORY GFSBACKUP_REPOSITORY \
	RESTIC_REPOSITORY RESTIC_PASSWORD RESTIC_PASSWORD_COMMAND GFSBACKUP_PASSWORD \
	GFSBACKUP_PASSWORD_COMMAND
# A new machine: nothing cached, no state.
new_machine() { rm -rf "$MACHINE"; mkdir -p "$MACHINE"; }

log "starting Ceph (bluestore) in $CEPH"
GFSB_CEPH_STORE=bluestore bash "$REPO_ROOT/tests/s3/ceph.sh" start "$CEPH" \
	>"$LOGS/ceph.log" 2>&1 || { cat "$LOGS/ceph.log"; die "Ceph did not start"; }
# shellcheck disable=SC1091
. "$CEPH/env"
export GFSBACKUP_S3_ENDPOINT=$GFSB_S3_ENDPOINT
RCLONE=(env -u AWS_CA_BUNDLE rclone --config "$CEPH/rclone.conf")
RGW_SOCK=$CEPH/run/client.rgw.gfsb.asok
GBUCKET=dr-gfsb GPREFIX=repo
GREPO=s3://$GBUCKET/$GPREFIX
RREPO=s3:$GFSB_S3_ENDPOINT/dr-restic/repo
RESTIC_S3=(-o s3.bucket-lookup=path)

# The slow link: the fault proxy in front of the gateway, every GET held
# LATENCY_MS before it is forwarded.
if ((LATENCY_MS > 0)); then
	/usr/bin/python3 "$REPO_ROOT/tests/s3/faultproxy.py" --listen-port 0 \
		--upstream "$GFSB_S3_ENDPOINT" --port-file "$WORKDIR/proxy.port" \
		2>"$LOGS/proxy.log" &
	PROXY_PID=$!
	for _ in $(seq 1 100); do [[ -s $WORKDIR/proxy.port ]] && break; sleep 0.1; done
	[[ -s $WORKDIR/proxy.port ]] || { cat "$LOGS/proxy.log"; die "the proxy did not start"; }
	PROXY=http://127.0.0.1:$(cat "$WORKDIR/proxy.port")
	DELAY=$(awk -v m="$LATENCY_MS" 'BEGIN {print m / 1000}')
	curl -fsS --noproxy '*' -X POST "$PROXY/__fault__" -d "{\"rate\": 1, \"kinds\": [\"delay\"], \"methods\": [\"GET\"], \"delay_seconds\": $DELAY}" \
		>/dev/null || die "cannot configure the proxy"
	RREPO_SLOW=s3:$PROXY/dr-restic/repo
fi

log "generating $SIZE_MIB MiB of data"
$PY "$SCRIPT_DIR/gen_data.py" "$DATA" --size-mib "$SIZE_MIB" >/dev/null
DATA_BYTES=$(find "$DATA" -type f -printf '%s\n' | awk '{s+=$1} END {print s}')
NFILES=$(find "$DATA" -type f | wc -l)

log "backing up with gfsbackup to $GREPO"
"$GFS" init -q -r "$GREPO" >"$LOGS/setup-gfsb.log" 2>&1 ||
	{ cat "$LOGS/setup-gfsb.log"; die "gfsbackup init failed"; }
"$GFS" backup -q -r "$GREPO" "$DATA" >>"$LOGS/setup-gfsb.log" 2>&1 ||
	{ cat "$LOGS/setup-gfsb.log"; die "gfsbackup backup failed"; }
log "backing up with restic $RESTIC_VERSION to $RREPO"
"$RESTIC" -r "$RREPO" "${RESTIC_S3[@]}" --quiet init >"$LOGS/setup-restic.log" 2>&1 ||
	{ cat "$LOGS/setup-restic.log"; die "restic init failed"; }
"$RESTIC" -r "$RREPO" "${RESTIC_S3[@]}" --quiet backup "$DATA" \
	>>"$LOGS/setup-restic.log" 2>&1 ||
	{ cat "$LOGS/setup-restic.log"; die "restic backup failed"; }

# What each repository holds on the server (objects and bytes), and the
# list of gfsbackup's objects the copies are checked against.
bucket_size() {
	"${RCLONE[@]}" size --json "ceph:$1" |
		$PY -c 'import json,sys; d=json.load(sys.stdin); print(d["count"], d["bytes"])'
}
read -r GOBJ GBYTES < <(bucket_size "$GBUCKET/$GPREFIX")
read -r ROBJ RBYTES < <(bucket_size dr-restic/repo)
"${RCLONE[@]}" lsf -R --files-only --format sp --separator ' ' "ceph:$GBUCKET/$GPREFIX" |
	grep -v ' locks/' | sort >"$WORKDIR/bucket.lst"
[[ -s $WORKDIR/bucket.lst ]] || die "no objects under $GREPO"
same_as_bucket() { # DIR: the same objects (path and size) as gfsbackup's prefix
	(cd "$1" && find . -type f ! -path './locks/*' -printf '%s %P\n') | sort |
		cmp -s - "$WORKDIR/bucket.lst"
}

# RGW's own counters: requests, bytes sent to clients, bytes received.
rgw_counters() {
	ceph --admin-daemon "$RGW_SOCK" perf dump 2>/dev/null |
		$PY -c 'import json,sys; r=json.load(sys.stdin)["rgw"]; print(r["req"], r["get_b"], r["put_b"])'
}

# timed NAME RUN CMD...: wall seconds, max RSS (KiB), user and system CPU
# seconds into $TIMES/NAME.RUN, the
# server's counters over the command into $TIMES/NAME.RUN.rgw, the output in
# $LOGS/NAME.RUN.log.
timed() {
	local name=$1 run=$2 a b
	shift 2
	sync
	a=$(rgw_counters) || die "cannot read RGW's counters ($RGW_SOCK)"
	"$TIME" -f '%e %M %U %S' -o "$TIMES/$name.$run" "$@" </dev/null \
		>"$LOGS/$name.$run.log" 2>&1 || {
		tail -n 30 "$LOGS/$name.$run.log" >&2
		die "$name (run $run) failed: $*"
	}
	b=$(rgw_counters) || die "cannot read RGW's counters ($RGW_SOCK)"
	# shellcheck disable=SC2086
	set -- $a $b
	echo "$(($4 - $1)) $(($5 - $2)) $(($6 - $3))" >"$TIMES/$name.$run.rgw"
	log "$(printf '%-15s run %s: %7ss  cpu %6ss  rss %5d MiB  %6d requests' "$name" \
		"$run" "$(wall "$name" "$run")" "$(cpu_of "$name" "$run")" \
		"$(rss_of "$name" "$run")" "$(($4 - $1))")"
}
# wall NAME RUN: seconds; rss_of NAME RUN: peak RSS in MiB
wall() { tail -n 1 "$TIMES/$1.$2" | cut -d' ' -f1; }
rss_of() { tail -n 1 "$TIMES/$1.$2" | awk '{print int($2 / 1024)}'; }
cpu_of() { tail -n 1 "$TIMES/$1.$2" | awk '{printf "%.2f", $3 + $4}'; }

# median NAME FIELD(1 wall, 2 rss): the lower median over the runs.
median() {
	local name=$1 f=$2 r
	for r in $(seq 1 "$RUNS"); do tail -n 1 "$TIMES/$name.$r" | cut -d' ' -f"$f"; done |
		sort -g | awk '{v[NR]=$1} END {print v[int((NR+1)/2)]}'
}
# median_run NAME: the run whose wall time is the median.
median_run() {
	local m r
	m=$(median "$1" 1)
	for r in $(seq 1 "$RUNS"); do
		[[ $(wall "$1" "$r") == "$m" ]] && { echo "$r"; return; }
	done
	echo "$RUNS"
}

# restored NAME RUN TARGET CMD...: a timed restore from a new machine into
# TARGET, checked against the data set (not timed), then removed.
restored() {
	local name=$1 r=$2 t=$3
	shift 3
	new_machine
	timed "$name" "$r" "$@" --target "$t"
	diff -rq "$DATA" "$t$DATA" >"$LOGS/diff.log" 2>&1 ||
		{ head "$LOGS/diff.log" >&2; die "$name (run $r) restored other data"; }
	rm -rf "$t"
}
gfsb_restore() {
	restored gfsb-restore "$1" "$SHM/rg" "$GFS" restore -v -r "$GREPO" latest
	grep -q '^storage: ' "$LOGS/gfsb-restore.$1.log" ||
		die "gfsbackup restore -v printed no storage line ($LOGS/gfsb-restore.$1.log)"
}
restic_restore() {
	restored restic-restore "$1" "$SHM/rr" "$RESTIC" -r "$RREPO" \
		"${RESTIC_S3[@]}" --quiet restore latest
}
gfsb_restore_slow() {
	restored gfsb-restore-slow "$1" "$SHM/rg" "$GFS" restore -v \
		--s3-endpoint "$PROXY" -r "$GREPO" latest
}
restic_restore_slow() {
	restored restic-restore-slow "$1" "$SHM/rr" "$RESTIC" -r "$RREPO_SLOW" \
		"${RESTIC_S3[@]}" --quiet restore latest
}
gfsb_syncback() {
	local r=$1 t=$SHM/lg
	rm -rf "$t"
	new_machine
	timed gfsb-syncback "$r" "$GFS" sync -v -r "$GREPO" --to "$t"
	same_as_bucket "$t" || die "gfsbackup's local copy (run $r) is not the bucket's"
	rm -rf "$t"
}
restic_copy() {
	local r=$1 t=$SHM/lr n
	rm -rf "$t"
	new_machine
	"$RESTIC" -r "$t" "${RESTIC_S3[@]}" --quiet init --from-repo "$RREPO" \
		--from-password-file "$PW" --copy-chunker-params >"$LOGS/restic-init.$r.log" 2>&1 ||
		{ cat "$LOGS/restic-init.$r.log" >&2; die "restic init --from-repo failed"; }
	new_machine
	timed restic-copy "$r" "$RESTIC" -r "$t" "${RESTIC_S3[@]}" --quiet \
		copy --from-repo "$RREPO" --from-password-file "$PW"
	n=$("$RESTIC" -r "$t" --no-cache --json snapshots 2>/dev/null |
		$PY -c 'import json,sys; print(len(json.load(sys.stdin)))') || n=0
	[[ $n == 1 ]] || die "restic's local copy (run $r) has $n snapshots, not 1"
	"$RESTIC" -r "$t" --no-cache --quiet check >"$LOGS/restic-check.$r.log" 2>&1 ||
		{ cat "$LOGS/restic-check.$r.log" >&2; die "restic's local copy (run $r) fails check"; }
	rm -rf "$t"
}
rclone_copy() {
	local r=$1 t=$SHM/rc
	rm -rf "$t"
	new_machine
	timed rclone-copy "$r" "${RCLONE[@]}" copy "ceph:$GBUCKET/$GPREFIX" "$t"
	same_as_bucket "$t" || die "rclone's copy (run $r) is not the bucket's"
	rm -rf "$t"
}

# Warm the server up (not timed): read both repositories once, so that the
# first run does not pay alone for Ceph's cold caches.
LOAD0=$(cut -d' ' -f1-3 /proc/loadavg)
log "warming the server up: reading both repositories once"
"${RCLONE[@]}" cat "ceph:$GBUCKET/$GPREFIX" >/dev/null
"${RCLONE[@]}" cat ceph:dr-restic/repo >/dev/null

for r in $(seq 1 "$RUNS"); do
	if ((r % 2)); then
		log "run $r of $RUNS (gfsbackup first)"
		gfsb_restore "$r"; restic_restore "$r"
		if ((LATENCY_MS > 0)); then
			gfsb_restore_slow "$r"; restic_restore_slow "$r"
		fi
		gfsb_syncback "$r"; restic_copy "$r"
	else
		log "run $r of $RUNS (restic first)"
		restic_restore "$r"; gfsb_restore "$r"
		if ((LATENCY_MS > 0)); then
			restic_restore_slow "$r"; gfsb_restore_slow "$r"
		fi
		restic_copy "$r"; gfsb_syncback "$r"
	fi
	rclone_copy "$r"
done

# One small file from a cold cache: one range request of pack data.
# (awk reads all its input: an early exit would fail the pipe)
SMALL=$(find "$DATA" -type f -size -64k -printf '%s %p\n' | sort -k2 |
	awk '$1 >= 2048 && f == "" {f = $2} END {print f}')
[[ -n $SMALL ]] || die "no small file in the data set"
log "restoring one file, cold cache: $SMALL"
new_machine
one=$SHM/one
rm -rf "$one"
a=$(rgw_counters)
"$GFS" restore -v -r "$GREPO" "latest:$SMALL" --target "$one" >"$LOGS/one-file.log" 2>&1 ||
	{ cat "$LOGS/one-file.log" >&2; die "restore of $SMALL failed"; }
b=$(rgw_counters)
ONE_LINE=$(grep -m1 '^storage: ' "$LOGS/one-file.log") ||
	{ cat "$LOGS/one-file.log" >&2; die "restore -v of one file printed no storage line"; }
# shellcheck disable=SC2086
set -- $a $b
ONE_REQ=$(($4 - $1))
ONE_BYTES=$(($5 - $2))
mapfile -t got < <(find "$one" -type f)
if [[ ${#got[@]} != 1 ]] || ! cmp -s "$SMALL" "${got[0]}"; then
	die "the one-file restore is not $SMALL: ${got[*]:-nothing}"
fi
rm -rf "$one"
[[ $ONE_LINE == *"; 1 reads of pack data "* ]] || {
	echo "dr_bench.sh: FAIL: one small file took more than one read of pack data:" >&2
	echo "  $ONE_LINE" >&2
	exit 1
}
log "one file: $ONE_LINE"

PHASES="gfsb-restore restic-restore"
((LATENCY_MS == 0)) || PHASES+=" gfsb-restore-slow restic-restore-slow"
PHASES+=" gfsb-syncback restic-copy rclone-copy"
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a / b }'; }
mib() { awk -v b="$1" 'BEGIN { printf "%.1f", b / 1048576 }'; }
rss() { echo $(( $(median "$1" 2) / 1024 )); }
# rgw_of NAME FIELD(1 requests, 2 bytes sent): the median run's counters
rgw_of() { cut -d' ' -f"$2" "$TIMES/$1.$(median_run "$1").rgw"; }

gr=$(median gfsb-restore 1); rr=$(median restic-restore 1)
gs=$(median gfsb-syncback 1); rc=$(median restic-copy 1)
cl=$(median rclone-copy 1)
mr=$(median_run gfsb-restore)
STORAGE_LINE=$(grep -m1 '^storage: ' "$LOGS/gfsb-restore.$mr.log")
RESTORED_LINE=$(grep -m1 '^restored snapshot ' "$LOGS/gfsb-restore.$mr.log" || true)
ms=$(median_run gfsb-syncback)
# sync -v's summary, and its source: and mirror: lines where it has them
SYNC_LINES=$(grep -E '^(source|mirror): |copied [0-9]+ objects' "$LOGS/gfsb-syncback.$ms.log" || true)
{
	echo "## Disaster recovery from S3 ($(date -u +%Y-%m-%d), $(nproc) cores, Ceph $(ceph --version | awk '{print $3}') RGW bluestore on 127.0.0.1, targets on tmpfs)"
	echo
	echo "Median of $RUNS interleaved runs (odd runs gfsbackup first, even runs restic first), empty client caches before every run (the server read once beforehand). restic / gfsbackup above 1.00 means gfsbackup is faster (target: 1.50)."
	echo
	echo "| from S3 | gfsbackup s | restic s | restic / gfsbackup | gfsbackup RSS MiB | restic RSS MiB | rclone copy s |"
	echo "|---|---:|---:|---:|---:|---:|---:|"
	echo "| restore (restore latest) | $gr | $rr | $(ratio "$rr" "$gr") | $(rss gfsb-restore) | $(rss restic-restore) | $cl |"
	if ((LATENCY_MS > 0)); then
		gl=$(median gfsb-restore-slow 1); rl=$(median restic-restore-slow 1)
		echo "| restore, $LATENCY_MS ms per GET | $gl | $rl | $(ratio "$rl" "$gl") | $(rss gfsb-restore-slow) | $(rss restic-restore-slow) | |"
	fi
	echo "| sync-back (gfsbackup sync / restic copy) | $gs | $rc | $(ratio "$rc" "$gs") | $(rss gfsb-syncback) | $(rss restic-copy) | $cl |"
	echo
	echo "rclone copy: gfsbackup's bucket prefix to tmpfs, the floor of plain transfer (median RSS $(rss rclone-copy) MiB)."
	echo
	echo "Where the time goes (median run of each): requests and bytes as RGW's own counters saw them, the client's CPU time (user + system; $(nproc) cores):"
	echo
	echo "| | wall s | client CPU s | requests | MiB sent by the server |"
	echo "|---|---:|---:|---:|---:|"
	for n in $PHASES; do
		m=$(median_run "$n")
		echo "| $n | $(wall "$n" "$m") | $(cpu_of "$n" "$m") | $(rgw_of "$n" 1) | $(mib "$(rgw_of "$n" 2)") |"
	done
	echo
	echo "gfsbackup restore -v, median run ($mr) (its counts start after the repository is opened: keys, index, snapshot):"
	echo
	echo '```'
	[[ -z $RESTORED_LINE ]] || echo "$RESTORED_LINE"
	echo "$STORAGE_LINE"
	echo '```'
	echo
	if ((LATENCY_MS > 0)); then
		ml=$(median_run gfsb-restore-slow)
		echo "gfsbackup restore -v over the slow link ($LATENCY_MS ms per GET), median run ($ml):"
		echo
		echo '```'
		grep -m1 '^storage: ' "$LOGS/gfsb-restore-slow.$ml.log" || true
		echo '```'
		echo
	fi
	if [[ -n $SYNC_LINES ]]; then
		echo "gfsbackup sync -v, median run ($ms):"
		echo
		echo '```'
		echo "$SYNC_LINES"
		echo '```'
		echo
	fi
	echo "One small file ($(stat -c %s "$SMALL") bytes, \`restore -v latest:${SMALL#"$WORKDIR"/}\`), cold cache: $ONE_REQ requests to the server in all, $(mib "$ONE_BYTES") MiB sent:"
	echo
	echo '```'
	echo "$ONE_LINE"
	echo '```'
	echo
	echo "All runs (wall s / peak RSS MiB):"
	echo
	printf '| phase |'; for r in $(seq 1 "$RUNS"); do printf ' run %s |' "$r"; done; echo ' median |'
	printf '|---|'; for r in $(seq 1 "$RUNS"); do printf -- '---:|'; done; printf -- '---:|\n'
	for n in $PHASES; do
		printf '| %s |' "$n"
		for r in $(seq 1 "$RUNS"); do
			printf ' %s / %s |' "$(wall "$n" "$r")" "$(rss_of "$n" "$r")"
		done
		echo " $(median "$n" 1) / $(rss "$n") |"
	done
	echo
	echo "Machine: $(nproc) cores ($(awk -F': ' '/^model name/ {print $2; exit}' /proc/cpuinfo)), $(awk '/^MemTotal/ {printf "%.0f GiB", $2 / 1048576}' /proc/meminfo) RAM; load average $LOAD0 before the runs, $(cut -d' ' -f1-3 /proc/loadavg) after (this benchmark's own work included; other work on the machine makes the numbers noisy)."
	echo "Data set: $(mib "$DATA_BYTES") MiB in $NFILES files (gen_data.py --size-mib $SIZE_MIB)."
	echo "Repositories on S3: gfsbackup $(mib "$GBYTES") MiB in $GOBJ objects, restic $(mib "$RBYTES") MiB in $ROBJ objects."
	echo "Versions: $("$GFS" --version 2>&1 | head -n 1), restic $RESTIC_VERSION, $(rclone version 2>/dev/null | head -n 1), ceph $(ceph --version | awk '{print $3}')."
} >"$OUT"
cat "$OUT"
log "results in $OUT"
