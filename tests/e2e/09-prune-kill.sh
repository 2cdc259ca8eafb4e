#!/bin/bash
# A prune killed with kill -9 at any instant leaves every kept snapshot
# restorable, and a later prune finishes the job.
#
# Phase 1 kills prune at each of its crash points in turn (crash_campaign
# in lib.sh: a test build counts every put and removal of an object, and
# GFSB_CRASH_AT=k kills just before the k-th), each time from the same
# repository, for every k until the count a whole prune makes.  After
# every kill, verify --read-data must find the repository intact and every
# snapshot must restore exactly as the source was when it was taken; then
# prune runs again to the end and the same checks repeat; then the same
# for a prune that deletes what an earlier one marked.  Phase 2 kills
# at random moments, with the same checks after each kill.
. "$(dirname "$0")/lib.sh"

# check_all WHEN: the repository is intact and every snapshot restores.
check_all() {
	"$GFSB" verify -r "$R" --read-data --no-state >"$T/verify.out" \
		2>&1 || { cat "$T/verify.out"; fail "verify finds damage $1"; }
	check_kept "$R"
}
reset_repo() { rm -rf "$R"; cp -a "$T/pre" "$R"; }

S=$T/src
R=$T/repo
"$GFSB" init -r "$R" --kdf-memory 8M --kdf-iterations 1 --pack-size 1M -q \
	>/dev/null

# Small files shared between days, so that packs end up partly used and
# prune must repack them as well as delete.
mkdir -p "$S" "$T/copies"
for d in $(seq -w 1 12); do
	mkdir -p "$S/d$d"
	for f in $(seq 1 60); do head -c 3000 /dev/urandom >"$S/d$d/f$f"; done
	old=$(printf %02d $((10#$d - 2)))
	[ -d "$S/d$old" ] && rm -f "$S/d$old"/f*[13579]
	old=$(printf %02d $((10#$d - 5)))
	rm -rf "$S/d$old"
	"$GFSB" backup -r "$R" -q --time "2026-01-$d 01:00:00" "$S" >/dev/null
	cp -a "$S" "$T/copies/$d"
done

keep=${GFSB_PRUNE_KEEP:-10}
step "phase 1: prune killed at each of its crash points in turn"
for batch in 1 2; do
	# New work: fewer snapshots kept, so packs to delete and to repack.
	"$GFSB" forget -r "$R" -q --keep-last "$keep" >/dev/null 2>&1
	keep=$((keep - 4))
	rm -rf "$T/pre"
	cp -a "$R" "$T/pre"
	MIN_STEPS=6 crash_campaign "prune (batch $batch)" reset_repo check_all \
		"$GFSB" prune -r "$R" --max-unused 0%
done

# The second phase alone: packs a prune with a grace marked for deletion
# (an index file of version 2), deleted by a later prune.
"$GFSB" forget -r "$R" -q --keep-last 4 >/dev/null 2>&1
expect 0 "$GFSB" prune -r "$R" --max-unused 0% --grace 1d
out_has "wait for their grace period"
rm -rf "$T/pre"
cp -a "$R" "$T/pre"
MIN_STEPS=3 crash_campaign "prune of marked packs" reset_repo check_all \
	"$GFSB" prune -r "$R" --max-unused 0%

step "phase 2: kill -9 at random moments"
random_kills=0
for i in $(seq 1 4); do
	if [ "$keep" -gt 2 ]; then
		"$GFSB" forget -r "$R" -q --keep-last "$keep" >/dev/null 2>&1
		keep=$((keep - 1))
	fi
	"$GFSB" prune -r "$R" --max-unused 0% >/dev/null 2>&1 &
	pid=$!
	sleep "0.0$(printf %02d $((RANDOM % 60)))"
	kill -9 "$pid" 2>/dev/null && random_kills=$((random_kills + 1))
	{ wait "$pid"; } 2>/dev/null || true
	check_all "after random kill $i"
done
echo "phase 2: $random_kills of 4 prunes were still running when killed"

step "a later prune finishes the job"
expect 0 "$GFSB" prune -r "$R" --max-unused 0%
cat "$T/out"
check_kept "$R"
expect 0 "$GFSB" prune -r "$R" --max-unused 0% --dry-run
out_has "delete 0 unindexed"
grep -q "; 0 unused (0 B)" "$T/out" || { cat "$T/out"; fail "unused data left"; }
echo "PASS"
