#!/bin/bash
# repair index: the index is rebuilt from the packs' own headers, and the
# repository comes back from each kind of damage verify reports:
#   - a damaged index file (every backup and restore stops, naming it and
#     the way out): afterwards every snapshot restores exactly;
#   - every index file gone: the packs are taken in again;
#   - a pack gone, a blob damaged (--read-data), a pack header damaged: the
#     lost blobs are left out of the index, so the next backup stores those
#     files again instead of pointing at what is lost;
#   - repair killed at each of its crash points in turn (before each put
#     and removal of an object) leaves a clean repository clean: verify
#     --read-data and every snapshot restored after each kill, and again
#     after repair runs to the end.
# Dry runs and refused commands change nothing; bad usage, a missing
# repository, a wrong passphrase and a held lock give their exit statuses.
. "$(dirname "$0")/lib.sh"

S=$T/src
R=$T/repo
"$GFSB" init -r "$R" --kdf-memory 8M --kdf-iterations 1 --pack-size 1M -q \
	>/dev/null
make_history "$R" 6
cp -a "$R" "$T/clean"

# The repository's files and their hashes (locks come and go).
repo_sum() { (cd "$1" && find . -type f ! -path './locks/*' -print0 |
	sort -z | xargs -0 sha256sum); }
# rebuilt N: the last repair's summary says N packs, all indexed.
rebuilt_blobs() { sed -n 's/.* packs: \([0-9]*\) blobs .*/\1/p' "$T/out"; }
# The snapshots verify --json says are broken.
broken_snaps() {
	$PY -c '
import json, sys
r = json.load(open(sys.argv[1]))
print(" ".join(sorted({b["snapshot"][:8] for b in r["broken"]})))' "$1"
}
latest_id() { snap_json "$R" | $PY -c '
import json, sys
print(json.load(sys.stdin)[-1]["id"])'; }
# backup_day DD: back $S up as day DD, keeping a copy of it.
backup_day() {
	expect 0 "$GFSB" backup -r "$R" --time "2026-01-$1 01:00:00" "$S"
	rm -rf "$T/copies/$1"
	cp -a "$S" "$T/copies/$1"
}
# new_file_pack NAME DD: add a 600 kB file NAME to $S, back up as day DD;
# NEWPACK is the largest pack that backup wrote (the file's data).
new_file_pack() {
	packs_before "$R"
	head -c 600000 /dev/urandom >"$S/$1"
	backup_day "$2"
	largest_new_pack "$R"
}
# packs_before REPO, then largest_new_pack REPO: NEWPACK is the largest of
# the packs written in between.
packs_before() { ls "$1"/data/*/* | sort >"$T/packs.before"; }
largest_new_pack() {
	NEWPACK=$(ls "$1"/data/*/* | sort | comm -13 "$T/packs.before" - |
		xargs ls -S | head -1)
	[ -n "$NEWPACK" ] || fail "no new pack in $1"
}
# The newest snapshot restores exactly and verify maps no loss to it.
latest_whole() {
	local id
	id=$(latest_id)
	check_restores "$R" "$id" "$1"
	"$GFSB" verify -r "$R" --read-data --no-state --json >"$T/v.json" \
		2>/dev/null || true
	case " $(broken_snaps "$T/v.json") " in
	*" ${id:0:8} "*) fail "the new snapshot ${id:0:8} is broken" ;;
	esac
}

step "bad usage, no repository, wrong passphrase, a held lock"
expect 2 "$GFSB" repair -r "$R"
one_line_error "give what to repair: index"
expect 2 "$GFSB" repair -r "$R" packs
one_line_error "unknown repair command packs"
expect 2 "$GFSB" repair -r "$R" index more
one_line_error "unexpected argument more"
expect 2 "$GFSB" repair -r "$R" index --read-data=yes
expect 10 "$GFSB" repair -r "$T/nowhere" index
printf 'not the passphrase' >"$T/wrong"
chmod 600 "$T/wrong"
expect 12 env GFSBACKUP_PASSWORD_FILE="$T/wrong" "$GFSB" repair -r "$R" index
hold_lock "$R" shared
expect 11 "$GFSB" repair -r "$R" index
expect 0 "$GFSB" repair -r "$R" index --dry-run # a backup may run meanwhile
release_lock
hold_lock "$R" exclusive
expect 11 "$GFSB" repair -r "$R" index --dry-run
release_lock
[ "$(repo_sum "$R")" = "$(repo_sum "$T/clean")" ] ||
	fail "a refused repair changed the repository"

step "a clean repository: the rebuilt index names the same blobs"
expect 0 "$GFSB" repair -r "$R" index --dry-run
out_has "0 damaged index files"
out_has "0 packs taken in, 0 missing, 0 unreadable"
out_has "dry run: nothing was changed"
[ "$(repo_sum "$R")" = "$(repo_sum "$T/clean")" ] ||
	fail "a dry run changed the repository"
expect 0 "$GFSB" repair -r "$R" index
n=$(rebuilt_blobs)
out_has "(the index named $n)"
[ "$(ls "$R/index" | wc -l)" = 1 ] || fail "not one index file"
check_kept "$R"
expect 0 "$GFSB" verify -r "$R" --read-data --no-state

step "a damaged index file: backup and restore stop and say the way out"
rm -rf "$R" && cp -a "$T/clean" "$R"
big=$(ls -S "$R/index" | head -1)
flip "$R/index/$big" 200
before=$(repo_sum "$R")
expect 1 "$GFSB" backup -r "$R" "$S"
one_line_error "gfsbackup repair index"
err_has "$big"
expect 1 "$GFSB" restore -r "$R" latest --target "$T/r"
one_line_error "gfsbackup repair index"
[ ! -e "$T/r" ] || fail "restore created its target"
expect 1 "$GFSB" prune -r "$R"
one_line_error "gfsbackup repair index"
[ "$(repo_sum "$R")" = "$before" ] || fail "the refused commands changed it"
expect 0 "$GFSB" repair -r "$R" index --dry-run
out_has "1 damaged index file of"
[ "$(repo_sum "$R")" = "$before" ] || fail "a dry run changed the repository"
expect 0 "$GFSB" repair -r "$R" index
out_has "1 damaged index file of"
err_has "index/$big is damaged"
[ ! -e "$R/index/$big" ] || fail "the damaged index file is still there"
check_kept "$R"
expect 0 "$GFSB" verify -r "$R" --read-data --no-state
backup_day 07
latest_whole 07

step "every index file gone: the packs are taken in again"
rm -f "$R"/index/*
expect 0 "$GFSB" repair -r "$R" index
grep -q " [1-9][0-9]* packs\{0,1\} taken in" "$T/out" ||
	{ cat "$T/out"; fail "no pack taken in"; }
check_kept "$R"
expect 0 "$GFSB" verify -r "$R" --read-data --no-state

step "a pack gone: its blobs leave the index, the next backup stores them again"
new_file_pack keep1.bin 08
rm -f "$NEWPACK"
expect 1 "$GFSB" verify -r "$R" --no-state
expect 0 "$GFSB" repair -r "$R" index
out_has "1 missing"
err_has "1 pack the index named is not stored"
expect 1 "$GFSB" verify -r "$R" --no-state
out_has "not in the index"
backup_day 09
out_has "1 changed"
latest_whole 09
# Its blobs have the same ids again: every snapshot is whole again.
check_kept "$R"
expect 0 "$GFSB" verify -r "$R" --read-data --no-state

step "a damaged blob: --read-data leaves it out, keeps the pack's others"
# A repository of its own whose data pack holds 30 small files, one blob
# each: the first blob is damaged, the other 29 must survive.
R2=$T/repo2
S2=$T/src2
"$GFSB" init -r "$R2" --kdf-memory 8M --kdf-iterations 1 --pack-size 1M \
	-q >/dev/null
mkdir -p "$S2"
for i in $(seq -w 1 30); do head -c 10000 /dev/urandom >"$S2/f$i"; done
expect 0 "$GFSB" backup -r "$R2" "$S2"
victim=$(ls -S "$R2"/data/*/* | head -1)
flip "$victim" 100
expect 0 "$GFSB" repair -r "$R2" index
out_has "0 damaged blobs left out"
expect 1 "$GFSB" verify -r "$R2" --read-data --no-state
before=$(repo_sum "$R2")
expect 0 "$GFSB" repair -r "$R2" index --read-data --dry-run
out_has "1 damaged blob left out"
out_has "the intact ones would be copied into new packs"
[ "$(repo_sum "$R2")" = "$before" ] || fail "a dry run changed the repository"
expect 0 "$GFSB" repair -r "$R2" index --read-data
out_has "1 damaged blob left out"
out_has "wrote 1 index file, removed 1; wrote 1 pack, deleted 1 damaged"
err_has "$(basename "$victim"): blob"
[ ! -e "$victim" ] || fail "the damaged pack is still there"
# 29 files restore from the copies; the 30th is reported lost.
expect 1 "$GFSB" verify -r "$R2" --read-data --no-state --json
[ "$($PY -c 'import json,sys; print(len(json.load(open(sys.argv[1]))["broken"]))' "$T/out")" = 1 ] ||
	{ cat "$T/out"; fail "not exactly one file lost"; }
# The next backup stores the lost file again (its blob has the same id):
# every snapshot is whole again.
expect 0 "$GFSB" backup -r "$R2" "$S2"
out_has "1 changed"
expect 0 "$GFSB" verify -r "$R2" --read-data --no-state
for id in $(snap_json "$R2" | $PY -c '
import json, sys
print(" ".join(s["id"] for s in json.load(sys.stdin)))'); do
	rm -rf "$T/r2"
	expect 0 "$GFSB" restore -r "$R2" -q "$id" --target "$T/r2"
	# (Contents only: the older snapshots' directories had other times.)
	$PY "$HERE/treecmp.py" "$S2" "$T/r2$S2" --content-only >/dev/null ||
		fail "snapshot $id differs"
done

step "a pack whose only blob is damaged: --read-data deletes it"
packs_before "$R2"
head -c 50000 /dev/urandom >"$S2/single"
expect 0 "$GFSB" backup -r "$R2" "$S2"
largest_new_pack "$R2"
flip "$NEWPACK" 100
expect 0 "$GFSB" repair -r "$R2" index --read-data
out_has "1 unreadable, 1 damaged blob left out"
out_has "wrote 0 packs, deleted 1 damaged"
[ ! -e "$NEWPACK" ] || fail "the damaged pack is still there"
expect 0 "$GFSB" backup -r "$R2" "$S2"
out_has "1 changed"
expect 0 "$GFSB" verify -r "$R2" --read-data --no-state
restores_as "$R2" latest "$S2"

step "a damaged pack header: the pack is left out"
new_file_pack keep2.bin 10
size=$(stat -c %s "$NEWPACK")
flip "$NEWPACK" $((size - 10))
expect 0 "$GFSB" repair -r "$R" index
out_has "1 unreadable"
err_has "its blobs are left out of the index"
backup_day 11
out_has "1 changed"
latest_whole 11
expect 0 "$GFSB" prune -r "$R"
out_has "deleted 1 unindexed"
[ ! -e "$NEWPACK" ] || fail "prune left the unreadable pack"
check_kept "$R"
expect 0 "$GFSB" verify -r "$R" --read-data --no-state

step "repair killed at each of its crash points leaves a clean repository clean"
reset_repo() { rm -rf "$R"; cp -a "$T/clean" "$R"; }
check_clean() {
	"$GFSB" verify -r "$R" --read-data --no-state >"$T/v.out" 2>&1 ||
		{ cat "$T/v.out"; fail "damage $1"; }
	check_kept "$R"
}
MIN_STEPS=3 crash_campaign "repair index" reset_repo check_clean \
	"$GFSB" repair -r "$R" index
echo "PASS"
