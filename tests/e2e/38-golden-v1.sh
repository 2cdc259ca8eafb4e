#!/bin/bash
# Format v1 is pinned: tests/data/v1 is a repository written once by the
# gfsbackup that defined v1 (tests/data/make-v1.sh; never remade), with
# two snapshots of a tree holding every kind of entry and metadata, and the
# tree's manifest on each day.  Today's gfsbackup must list the snapshots
# exactly as they were recorded, find the repository whole with verify
# --read-data, restore both snapshots to the recorded manifests (content,
# modes, times, hard links, symlinks, holes, xattrs), and add a snapshot to
# it that the same checks then accept.  A change that makes v1 read
# differently fails here; a new format gets a directory of its own.
. "$(dirname "$0")/lib.sh"

G=$HERE/../data/v1
[ -d "$G/repo" ] || fail "no golden repository at $G"
R=$T/golden
cp -r "$G/repo" "$R"
# As a git checkout has it: no empty directories (data/xx, locks/).
find "$R" -type d -empty -delete
printf 'golden v1 passphrase' >"$T/golden.pw"
chmod 600 "$T/golden.pw"
export GFSBACKUP_PASSWORD_FILE=$T/golden.pw

step "the snapshots list as they were written ($(cat "$G/made-by"))"
expect 0 "$GFSB" snapshots -r "$R" --json
golden_listed "$G"

step "verify --read-data finds it whole"
expect 0 "$GFSB" verify -r "$R" --read-data --no-state
out_has "no damage found"

# restored N ID: snapshot ID restores to manifest.N
restored() { golden_restored "$G" "$R" "$1" "$2"; }
ids=($($PY -c 'import json, sys; print(" ".join(s["id"] for s in json.load(open(sys.argv[1]))))' "$G/snapshots.json"))
[ "${#ids[@]}" = 2 ] || fail "the golden repository should have 2 snapshots"

step "both snapshots restore to their manifests"
restored 1 "${ids[0]}"
restored 2 "${ids[1]}"

step "today's gfsbackup adds a snapshot; v1 stays whole"
mkdir -p "$T/more"
printf 'added by today\n' >"$T/more/today.txt"
expect 0 "$GFSB" backup -r "$R" -q --time "2026-12-08 01:00:00" "$T/more"
expect 0 "$GFSB" verify -r "$R" --read-data --no-state
restored 1 "${ids[0]}"
rm -rf "$SCRATCH/g"
expect 0 "$GFSB" restore -r "$R" -q latest --target "$SCRATCH/g"
cmp -s "$T/more/today.txt" "$SCRATCH/g$T/more/today.txt" ||
	fail "the new snapshot does not restore"
echo "PASS"
