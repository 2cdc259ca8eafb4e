# Shared by the end-to-end scenarios: a private temporary directory that is
# always removed, a repository passphrase in a file, and assertions on exit
# statuses and messages.  Sourced by tests/e2e/NN-*.sh.
set -euo pipefail

GFSB=${GFSB:?set GFSB to the gfsbackup binary}
TESTTOOL=${GFSB_TESTTOOL:-$(dirname "$GFSB")/tests/gfsb_testtool}
PY=/usr/bin/python3
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
T=$(mktemp -d /tmp/gfsb-e2e.XXXXXX)
BGPIDS=()
CLEANUPS=() # commands run at exit, before the temporary directory goes

cleanup() {
	local p c
	for c in "${CLEANUPS[@]+"${CLEANUPS[@]}"}"; do
		eval "$c" || true
	done
	for p in "${BGPIDS[@]+"${BGPIDS[@]}"}"; do
		kill -9 "$p" 2>/dev/null || true
		wait "$p" 2>/dev/null || true
	done
	chmod -R u+rwX "$T" 2>/dev/null || true
	rm -rf "$T"
}
trap cleanup EXIT

# Restores made only to be compared go to a tmpfs when there is one: on
# ext4, creating a file where many were just deleted searches for a
# recently deleted inode (milliseconds a file), and the kill scenarios
# restore every snapshot after every kill.
if [ "$(stat -f -c %T /dev/shm 2>/dev/null)" = tmpfs ]; then
	SCRATCH=$(mktemp -d /dev/shm/gfsb-e2e.XXXXXX)
	CLEANUPS+=("rm -rf '$SCRATCH'")
else
	SCRATCH=$T/scratch
	mkdir "$SCRATCH"
fi

printf 'e2e passphrase' >"$T/pw"
chmod 600 "$T/pw"
export GFSBACKUP_PASSWORD_FILE=$T/pw
unset GFSBACKUP_PASSWORD GFSBACKUP_PASSWORD_COMMAND GFSBACKUP_REPOSITORY
# The cache and the verify state default to the scenario's own directory,
# never the user's: scenarios running side by side (ctest -j) and runs
# before them share nothing.  A scenario may still set its own.
export XDG_CACHE_HOME=$T/cache XDG_STATE_HOME=$T/state-home
unset GFSBACKUP_CACHE_DIR GFSBACKUP_STATE_DIR STATE_DIRECTORY
export TZ=UTC

step() { echo "== $*"; }
fail() { echo "FAIL: $*" >&2; exit 1; }
is_root() { [ "$(id -u)" = 0 ]; }
# skip_part WHAT: a part of the scenario cannot run on this machine (no
# mount, no root, no sparse file that large...): said, or, where the test
# command requires every part (GFSB_REQUIRE_ROOT=1: scripts/test.sh as
# root), a failure.
skip_part() {
	[ "${GFSB_REQUIRE_ROOT:-0}" != 1 ] ||
		fail "cannot run here, and GFSB_REQUIRE_ROOT=1: $*"
	echo "SKIP (part): $*"
}
# Root is needed for part of this scenario (owners, devices, mounts).
need_root() { is_root || skip_part "not root: $*"; }

# expect STATUS cmd...: run cmd (stdout in $T/out, stderr in $T/err) and
# check its exit status.
expect() {
	local want=$1 rc=0
	shift
	"$@" >"$T/out" 2>"$T/err" || rc=$?
	if [ "$rc" != "$want" ]; then
		echo "--- stdout:"; cat "$T/out"
		echo "--- stderr:"; cat "$T/err"
		fail "expected exit status $want, got $rc: $*"
	fi
}

# The last command's error is one line that contains $1.
one_line_error() {
	local n
	n=$(grep -c . "$T/err" || true)
	[ "$n" = 1 ] || { cat "$T/err"; fail "error is $n lines, not 1"; }
	grep -qF -- "$1" "$T/err" || { cat "$T/err"; fail "error lacks: $1"; }
}

err_has() { grep -qF -- "$1" "$T/err" || { cat "$T/err"; fail "stderr lacks: $1"; }; }
out_has() { grep -qF -- "$1" "$T/out" || { cat "$T/out"; fail "stdout lacks: $1"; }; }

# A repository with a fast key derivation (the format is the same).
init_repo() { "$GFSB" init -r "$1" --kdf-memory 8M --kdf-iterations 1 -q >/dev/null; }

nfiles() { find "$1" -type f | wc -l; }

# hold_lock REPO shared|exclusive: another process takes the repository's
# lock and holds it until release_lock.
hold_lock() {
	"$TESTTOOL" hold-lock "$1" "$2" >"$T/lockout" 2>&1 &
	BGPIDS+=($!)
	for _ in $(seq 1 100); do
		grep -q locked "$T/lockout" && break
		sleep 0.1
	done
	grep -q locked "$T/lockout" || fail "the lock holder did not start"
}
release_lock() {
	kill "${BGPIDS[-1]}"
	wait "${BGPIDS[-1]}" 2>/dev/null || true
}

# The JSON of the snapshots (restic's shape), for python checks.
snap_json() { "$GFSB" snapshots -r "$1" --json; }

# flip FILE OFFSET: invert one byte in place (a write of a fixed value
# would change nothing when the byte already had it).
flip() {
	$PY - "$1" "$2" <<'PYEOF'
import sys
with open(sys.argv[1], "r+b") as f:
    f.seek(int(sys.argv[2]))
    b = f.read(1)
    f.seek(int(sys.argv[2]))
    f.write(bytes([b[0] ^ 0xFF]))
PYEOF
}

# make_history REPO N: N daily backups of $S (one new 1.5 MB file a day,
# the file of three days before deleted, a small file edited), each at
# 2026-01-DD 01:00, with a copy of the source as it was in $T/copies/DD.
make_history() {
	local repo=$1 n=$2 d
	mkdir -p "$S" "$T/copies"
	for d in $(seq -f %02g 1 "$n"); do
		head -c 1500000 /dev/urandom >"$S/day$d.bin"
		rm -f "$S/day$(printf %02d $((10#$d - 3))).bin"
		echo "edit $d" >>"$S/notes.txt"
		"$GFSB" backup -r "$repo" -q --time "2026-01-$d 01:00:00" "$S" \
			>/dev/null
		cp -a "$S" "$T/copies/$d"
	done
}

# check_kept REPO: every snapshot left restores bit-identically to the
# copy of the source taken when it was made.
check_kept() {
	local repo=$1 id day
	snap_json "$repo" | $PY -c '
import json, sys
for s in json.load(sys.stdin):
    print(s["id"], s["time"][8:10])' >"$T/kept"
	[ -s "$T/kept" ] || fail "no snapshot left"
	while read -r id day; do
		check_restores "$repo" "$id" "$day"
	done <"$T/kept"
}

# restores_as REPO SNAP SRC: snapshot SNAP (an id or latest) restores to
# exactly the tree SRC (treecmp; in a tmpfs scratch directory).
restores_as() {
	rm -rf "$SCRATCH/as"
	"$GFSB" restore -r "$1" -q "$2" --target "$SCRATCH/as" >/dev/null \
		2>"$T/as.err" || { cat "$T/as.err"; fail "$2 does not restore"; }
	$PY "$HERE/treecmp.py" "$3" "$SCRATCH/as$3" >/dev/null ||
		fail "$2 restores differently from $3"
	rm -rf "$SCRATCH/as"
}

# golden_listed G: the last command's stdout (snapshots --json) is
# G/snapshots.json, field for field; each difference is named.
golden_listed() {
	$PY - "$1/snapshots.json" "$T/out" <<'PYEOF' ||
import json, sys
want, got = (json.load(open(p)) for p in sys.argv[1:3])
if want != got:
    for w, g in zip(want, got):
        for k in sorted(set(w) | set(g)):
            if w.get(k) != g.get(k):
                print("snapshot %s: %s: %r != %r" %
                      (w.get("id", "?")[:8], k, w.get(k), g.get(k)))
    sys.exit("%d snapshots recorded, %d read" % (len(want), len(got)))
print("   %d snapshots, every field as recorded" % len(got))
PYEOF
		fail "the snapshots read differently"
}

# golden_restored G R N ID: snapshot ID of the golden repository copied
# to R restores to G/manifest.N (tests/data/manifest.py: content, modes,
# times, links, holes, xattrs), at the path G/snapshots.json records.
golden_restored() {
	local g=$1 r=$2 path
	path=$($PY -c 'import json, sys
print(json.load(open(sys.argv[1]))[0]["paths"][0])' "$g/snapshots.json")
	rm -rf "$SCRATCH/g"
	expect 0 "$GFSB" restore -r "$r" -q "$4" --target "$SCRATCH/g"
	$PY "$HERE/../data/manifest.py" "$SCRATCH/g$path" >"$T/manifest" ||
		fail "no tree at $path in snapshot $4"
	diff "$g/manifest.$3" "$T/manifest" ||
		fail "snapshot $4 restores differently from manifest.$3"
	echo "   snapshot ${4:0:8}: $(wc -l <"$T/manifest") entries as recorded"
	rm -rf "$SCRATCH/g"
}

# check_restores REPO ID DAY [WHEN]: snapshot ID restores bit-identically
# to $T/copies/DAY (WHEN, e.g. "after kill 3", goes in the failure).
check_restores() {
	local repo=$1 id=$2 day=$3 when=${4:+ $4}
	rm -rf "$SCRATCH/check"
	"$GFSB" restore -r "$repo" -q "$id" --target "$SCRATCH/check" \
		>/dev/null 2>"$T/check.err" || { cat "$T/check.err";
		fail "snapshot $id (day $day) does not restore$when"; }
	$PY "$HERE/treecmp.py" "$T/copies/$day" "$SCRATCH/check$S" >/dev/null ||
		fail "snapshot $id (day $day) restores differently$when"
	rm -rf "$SCRATCH/check"
}

# closed_port VAR: set VAR to a port on 127.0.0.1 that refuses
# connections, held (bound, never listening) by a background process until
# the scenario ends, so that no other server can take it meanwhile (a port
# found free and released could be).
closed_port() {
	rm -f "$T/closed.port"
	$PY -c 'import os, socket, sys, time
s = socket.socket()
s.bind(("127.0.0.1", 0))
open(sys.argv[1] + ".tmp", "w").write("%d\n" % s.getsockname()[1])
os.rename(sys.argv[1] + ".tmp", sys.argv[1])
time.sleep(3600)' "$T/closed.port" </dev/null >/dev/null 2>&1 &
	BGPIDS+=($!)
	for _ in $(seq 1 100); do
		[ -s "$T/closed.port" ] && break
		sleep 0.05
	done
	[ -s "$T/closed.port" ] || fail "could not hold a closed port"
	printf -v "$1" '%s' "$(cat "$T/closed.port")"
}

# crash_campaign NAME RESET CHECK CMD...: kill CMD at every one of its
# crash points in turn (a build with -DGFSBACKUP_CRASH_POINTS=ON: every
# put and removal of an object is one; src/backend/backend.c).  RESET puts
# the repository back as it was before CMD; CHECK checks it (its first
# argument says when).  CMD runs once to count its N steps; then for each
# k in 1..N: RESET, CMD killed with SIGKILL just before its k-th step
# (exit 137, and the count at k: the kill landed where it was meant to),
# CHECK, CMD run again to the end (exit 0), CHECK.  Prints how many points
# were visited and fails unless all N were (and N >= MIN_STEPS, default 1).
crash_campaign() {
	local name=$1 reset=$2 check=$3 n k rc visited=0
	# Named so that no check function's globals are shadowed (bash
	# scopes dynamically: 27's check reads a global "want").
	local cc_stride=${GFSB_CRASH_STRIDE:-1} cc_first cc_points
	shift 3
	"$reset"
	rm -f "$T/crash.count"
	rc=0
	GFSB_CRASH_COUNT_FILE=$T/crash.count "$@" >"$T/out" 2>"$T/err" || rc=$?
	[ "$rc" = 0 ] || { cat "$T/err"; fail "$name: exit $rc without a kill"; }
	[ -s "$T/crash.count" ] || fail "$name: no crash points counted" \
		"($GFSB not built with -DGFSBACKUP_CRASH_POINTS=ON?)"
	n=$(tr -d ' ' <"$T/crash.count")
	[ "$n" -ge "${MIN_STEPS:-1}" ] ||
		fail "$name: $n durable steps, expected at least ${MIN_STEPS:-1}"
	"$check" "after an uninterrupted $name"
	# GFSB_CRASH_STRIDE=S (the sanitizers' pass): every S-th point from
	# a first one that moves with the day, and the last; the plain pass
	# visits every point.
	cc_first=$(( ($(date +%j | sed 's/^0*//') % cc_stride) + 1 ))
	[ "$cc_first" -le "$n" ] || cc_first=1
	cc_points=$(seq "$cc_first" "$cc_stride" "$n"
		[ $(( (n - cc_first) % cc_stride )) = 0 ] || echo "$n")
	for k in $cc_points; do
		"$reset"
		rm -f "$T/crash.count"
		rc=0
		# (Waited for in braces with stderr dropped: bash's "Killed".)
		GFSB_CRASH_AT=$k GFSB_CRASH_COUNT_FILE=$T/crash.count "$@" \
			>"$T/out" 2>"$T/err" &
		{ wait $!; } 2>/dev/null || rc=$?
		[ "$rc" = 0 ] && fail "$name: ran through when killed at step" \
			"$k of $n: it made $(tr -d ' ' <"$T/crash.count") steps this" \
			"time (its steps must not vary from run to run)"
		[ "$rc" = 137 ] || { cat "$T/err";
			fail "$name: exit $rc, not 137, when killed at step $k of $n"; }
		[ "$(tr -d ' ' <"$T/crash.count")" = "$k" ] ||
			fail "$name: killed at step $(tr -d ' ' <"$T/crash.count"), not $k"
		"$check" "after $name killed at step $k of $n"
		rc=0
		"$@" >"$T/out" 2>"$T/err" || rc=$?
		[ "$rc" = 0 ] || { cat "$T/err";
			fail "$name: exit $rc when run again after a kill at step $k"; }
		"$check" "after $name ran again after a kill at step $k"
		visited=$((visited + 1))
	done
	echo "$name: $n crash points, $visited visited" \
		"(every $cc_stride from $cc_first)"
	[ "$visited" = "$(echo "$cc_points" | wc -w)" ] ||
		fail "$name: not every crash point chosen was visited"
}
