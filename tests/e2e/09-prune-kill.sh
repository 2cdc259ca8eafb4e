#!/bin/bash
# A prune killed with kill -9 at any instant leaves every kept snapshot
# restorable, and a later prune finishes the job.
#
# Phase 1 kills prune at each of its crash points in turn: strace injects
# SIGKILL at the k-th rename (every stored object completes with one) or
# unlink (every deletion), for k = 1, 2, ... until a prune runs through.
# Phase 2 kills at random moments.  After every kill, verify --read-data
# must find every blob of every snapshot left readable and intact, and one
# snapshot (a different one each time) is restored and compared with the
# source it was made from; after every batch of kills, all of them are.
. "$(dirname "$0")/lib.sh"

# check_killed REPO N: the check after the N-th kill.
check_killed() {
	local repo=$1 n=$2 id day
	"$GFSB" verify -r "$repo" --read-data --no-state >"$T/verify.out" \
		2>&1 || { cat "$T/verify.out";
		fail "verify finds damage after kill $n"; }
	snap_json "$repo" | $PY -c '
import json, sys
s = json.load(sys.stdin)
print(s[int(sys.argv[1]) % len(s)]["id"], s[int(sys.argv[1]) % len(s)]["time"][8:10])
' "$n" >"$T/one"
	read -r id day <"$T/one"
	check_restores "$repo" "$id" "$day" "after kill $n"
}

command -v strace >/dev/null || fail "strace is not installed (scripts/install-deps.sh)"
S=$T/src
R=$T/repo
"$GFSB" init -r "$R" --kdf-memory 8M --kdf-iterations 1 --pack-size 1M -q \
	>/dev/null

# Small files shared between days, so that packs end up partly used and
# prune must repack them as well as delete.
mkdir -p "$S" "$T/copies"
for d in $(seq -w 1 18); do
	mkdir -p "$S/d$d"
	for f in $(seq 1 60); do head -c 3000 /dev/urandom >"$S/d$d/f$f"; done
	old=$(printf %02d $((10#$d - 2)))
	[ -d "$S/d$old" ] && rm -f "$S/d$old"/f*[13579]
	old=$(printf %02d $((10#$d - 5)))
	rm -rf "$S/d$old"
	"$GFSB" backup -r "$R" -q --time "2026-01-$d 01:00:00" "$S" >/dev/null
	cp -a "$S" "$T/copies/$d"
done

calls=rename,renameat,renameat2,unlink,unlinkat
keep=17
kills=0
step "phase 1: SIGKILL at each rename or unlink of a prune, in turn"
for batch in 1 2 3; do
	# New work: fewer snapshots kept, so packs to delete and to repack.
	"$GFSB" forget -r "$R" -q --keep-last "$keep" >/dev/null 2>&1
	keep=$((keep - 5))
	for k in $(seq 1 80); do
		rc=0
		# (LeakSanitizer cannot run under ptrace: off for this run.)
		(ASAN_OPTIONS="${ASAN_OPTIONS:-}:detect_leaks=0" strace -f \
			-o /dev/null -e trace=$calls \
			-e inject=$calls:signal=KILL:when=$k \
			"$GFSB" prune -r "$R" --max-unused 0% >/dev/null 2>&1) \
			2>/dev/null || rc=$?
		if [ "$rc" = 0 ]; then
			echo "batch $batch: prune ran through once killed at its crash points 1..$((k - 1))"
			break
		fi
		kills=$((kills + 1))
		check_killed "$R" "$kills"
	done
	[ "$rc" = 0 ] || fail "prune never ran through"
	check_kept "$R"
done
echo "phase 1: $kills prunes killed at a crash point"
[ "$kills" -ge 10 ] || fail "too few crash points exercised"

step "phase 2: kill -9 at random moments"
random_kills=0
for i in $(seq 1 6); do
	if [ "$keep" -gt 2 ]; then
		"$GFSB" forget -r "$R" -q --keep-last "$keep" >/dev/null 2>&1
		keep=$((keep - 1))
	fi
	"$GFSB" prune -r "$R" --max-unused 0% >/dev/null 2>&1 &
	pid=$!
	sleep "0.0$(printf %02d $((RANDOM % 60)))"
	kill -9 "$pid" 2>/dev/null && random_kills=$((random_kills + 1))
	{ wait "$pid"; } 2>/dev/null || true
	check_killed "$R" "$i"
done
check_kept "$R"
echo "phase 2: $random_kills of 6 prunes were still running when killed"

step "a later prune finishes the job"
expect 0 "$GFSB" prune -r "$R" --max-unused 0%
cat "$T/out"
check_kept "$R"
expect 0 "$GFSB" prune -r "$R" --max-unused 0% --dry-run
out_has "delete 0 unindexed"
grep -q "; 0 unused (0 B)" "$T/out" || { cat "$T/out"; fail "unused data left"; }
echo "PASS"
