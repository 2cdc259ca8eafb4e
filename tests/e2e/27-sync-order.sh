#!/bin/bash
# sync applies what the source did in an order that keeps the mirror
# consistent at every instant, and never lets the source shrink what the
# mirror must keep:
#   - after a forget + prune at the source, sync is killed (SIGKILL) at
#     each of its crash points in turn (crash_campaign in lib.sh: before
#     each put and removal of an object): after every kill the mirror
#     passes verify --read-data and restores every snapshot it lists
#     exactly, and the next sync leaves it equal to the source (delete
#     mode after-lock, the default) or a superset of it (never);
#   - an append-only mirror (--delete never) keeps every snapshot the
#     source forgot, through two prunes, with an index that names their
#     blobs; switched back to after-lock it becomes the source's copy;
#   - key files are only ever added: a passphrase changed at the source
#     leaves the old key at the mirror, and a key added at the mirror alone
#     survives.
. "$(dirname "$0")/lib.sh"

S=$T/src
L=$T/local
"$GFSB" init -r "$L" --kdf-memory 8M --kdf-iterations 1 --pack-size 1M -q \
	>/dev/null
make_history "$L" 3
expect 0 "$GFSB" sync -r "$L" --to "$T/m0"

# A fourth backup, then the source forgets one snapshot and prunes: one
# pack goes and a new index supersedes the old files.
head -c 1500000 /dev/urandom >"$S/day04.bin"
rm -f "$S/day01.bin"
"$GFSB" backup -r "$L" -q --time "2026-01-04 01:00:00" "$S" >/dev/null
cp -a "$S" "$T/copies/04"
expect 0 "$GFSB" forget -r "$L" --keep-last 3 --prune --max-unused 0%
grep -q "1 snapshot" "$T/out" || { cat "$T/out"; fail "test setup: forget"; }

# The objects of a repository (locks and temporary files aside).
listing() {
	(cd "$1" && find . -type f ! -path './locks/*' ! -name '.tmp-*' \
		-printf '%P\n') | sort
}
# check_mirror M WHEN: verify --read-data is clean and every snapshot M
# lists restores exactly.
check_mirror() {
	"$GFSB" verify -r "$1" --read-data --no-state >"$T/verify.out" \
		2>&1 || { cat "$T/verify.out"; fail "verify finds damage $2"; }
	grep -q "orphaned" "$T/verify.out" &&
		{ cat "$T/verify.out"; fail "orphaned packs $2"; }
	check_kept "$1"
}
# The mirror is the source's exact copy (equal), or holds all of it (more).
same_as_source() {
	local how=$1 m=$2
	if [ "$how" = equal ]; then
		cmp -s <(listing "$L") <(listing "$m") || {
			diff <(listing "$L") <(listing "$m")
			fail "the mirror is not the source's copy"; }
	else
		[ -z "$(comm -23 <(listing "$L") <(listing "$m"))" ] ||
			fail "the mirror lacks objects of the source"
	fi
}

reset_mirror() {
	rm -rf "$T/m"
	cp -a "$T/m0" "$T/m"
	# A killed sync's shared lock on the source is stale.
	"$GFSB" unlock -r "$L" -q >/dev/null 2>&1
}
# After a kill the mirror is consistent; after a whole sync it is also
# the source's copy (after-lock) or holds all of it (never).
check_m() {
	check_mirror "$T/m" "$1"
	case $1 in
	*"ran again"* | *uninterrupted*) same_as_source "$want" "$T/m" ;;
	esac
}
for mode in after-lock never; do
	want=equal
	[ "$mode" = never ] && want=superset
	step "sync --delete $mode killed at each crash point in turn"
	MIN_STEPS=4 crash_campaign "sync --delete $mode" reset_mirror check_m \
		"$GFSB" sync -r "$L" --to "$T/m" --delete "$mode"
done
"$GFSB" unlock -r "$L" -q >/dev/null 2>&1 # the last kill's

step "an append-only mirror keeps what the source forgot, through prunes"
A=$T/append
expect 0 "$GFSB" sync -r "$T/m0" --to "$A"
expect 0 "$GFSB" sync -r "$L" --to "$A" --delete never
out_has "kept"
out_has "wrote an index for the mirror alone"
[ "$(snap_json "$A" | $PY -c 'import json,sys; print(len(json.load(sys.stdin)))')" = 4 ] ||
	fail "the append-only mirror does not keep 4 snapshots"
# A second round: day 5, the source keeps 2 and prunes again (a second
# index supersedes the first, which superseded the original ones).
head -c 1500000 /dev/urandom >"$S/day05.bin"
rm -f "$S/day02.bin"
"$GFSB" backup -r "$L" -q --time "2026-01-05 01:00:00" "$S" >/dev/null
cp -a "$S" "$T/copies/05"
expect 0 "$GFSB" forget -r "$L" --keep-last 2 --prune --max-unused 0%
expect 0 "$GFSB" sync -r "$L" --to "$A" --delete never
expect 0 "$GFSB" sync -r "$L" --to "$A" --delete never
out_has "copied 0 objects"
grep -q "deleted 0," "$T/out" || { cat "$T/out"; fail "never deleted"; }
[ "$(snap_json "$A" | $PY -c 'import json,sys; print(len(json.load(sys.stdin)))')" = 5 ] ||
	fail "the append-only mirror does not keep 5 snapshots"
same_as_source superset "$A"
check_mirror "$A" "(append-only, after two prunes)"
step "switched to after-lock, the mirror becomes the source's copy"
expect 0 "$GFSB" sync -r "$L" --to "$A"
same_as_source equal "$A"
check_mirror "$A" "(after-lock after append-only)"

step "keys are only ever added"
printf 'another passphrase' >"$T/evil"
chmod 600 "$T/evil"
expect 0 "$GFSB" key passwd -r "$L" --new-password-file "$T/evil"
expect 0 "$GFSB" sync -r "$L" --to "$A" --password-file "$T/evil"
out_has "1 key file only at the mirror (kept)"
# The operator's passphrase still opens the mirror; so does the new one.
expect 0 "$GFSB" snapshots -r "$A"
expect 0 "$GFSB" snapshots -r "$A" --password-file "$T/evil"
expect 12 "$GFSB" snapshots -r "$L"
# A recovery key added at the mirror alone survives the next syncs.
printf 'recovery passphrase' >"$T/recovery"
chmod 600 "$T/recovery"
expect 0 "$GFSB" key add -r "$A" --new-password-file "$T/recovery"
expect 0 "$GFSB" sync -r "$L" --to "$A" --password-file "$T/evil"
out_has "2 key files only at the mirror (kept)"
expect 0 "$GFSB" snapshots -r "$A" --password-file "$T/recovery"
# The mirror's config was never rewritten.
cmp -s "$L/config" "$A/config" || fail "the mirror's config changed"

step "bad input"
expect 2 "$GFSB" sync -r "$L" --to "$A" --delete sometimes
one_line_error "--delete"
echo "PASS"
