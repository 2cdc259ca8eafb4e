#!/bin/bash
# Format v2 is pinned: tests/data/v2 is a repository written once by the
# gfsbackup that defined v2 (tests/data/make-v2.sh; never remade): day 1
# backed up with the full key before a write-only key existed, day 2 with
# the write-only key (the config of version 2, a write-only key file,
# envelopes under mkey and sealed to the reader, blobs sealed to the
# reader, signed index files).  Today's gfsbackup must list the
# snapshots exactly as they were recorded, find the repository whole with
# verify --read-data, restore both snapshots to the recorded manifests,
# back up to it with the write-only key, and read that back with the
# full key.  A change that makes v2 read differently fails here.
. "$(dirname "$0")/lib.sh"

G=$HERE/../data/v2
[ -d "$G/repo" ] || fail "no golden repository at $G"
R=$T/golden
cp -r "$G/repo" "$R"
# As a git checkout has it: no empty directories (data/xx, locks/).
find "$R" -type d -empty -delete
printf 'golden v2 passphrase' >"$T/golden.pw"
printf 'golden v2 write-only passphrase' >"$T/golden.wpw"
chmod 600 "$T/golden.pw" "$T/golden.wpw"
export GFSBACKUP_PASSWORD_FILE=$T/golden.pw

step "the snapshots list as they were written ($(cat "$G/made-by"))"
expect 0 "$GFSB" snapshots -r "$R" --json
golden_listed "$G"
expect 0 "$GFSB" key list -r "$R"
[ "$(grep -c '(write-only)' "$T/out")" = 1 ] || fail "no write-only key"

step "verify --read-data finds it whole"
expect 0 "$GFSB" verify -r "$R" --read-data --no-state
out_has "no damage found"

# restored N ID: snapshot ID restores to manifest.N
restored() { golden_restored "$G" "$R" "$1" "$2"; }
ids=($($PY -c 'import json, sys
print(" ".join(s["id"] for s in json.load(open(sys.argv[1]))))' \
	"$G/snapshots.json"))
[ "${#ids[@]}" = 2 ] || fail "the golden repository should have 2 snapshots"

step "both snapshots restore to their manifests (full key, write-only key)"
restored 1 "${ids[0]}"
restored 2 "${ids[1]}"

step "the write-only key backs up to it; the full key reads that back"
mkdir -p "$T/more"
printf 'added by today\n' >"$T/more/today.txt"
expect 0 "$GFSB" backup -r "$R" -q --password-file "$T/golden.wpw" \
	--time "2026-12-08 01:00:00" "$T/more"
expect 12 "$GFSB" restore -r "$R" -q --password-file "$T/golden.wpw" \
	latest --target "$SCRATCH/never"
expect 0 "$GFSB" verify -r "$R" --read-data --no-state
restored 2 "${ids[1]}"
rm -rf "$SCRATCH/g"
expect 0 "$GFSB" restore -r "$R" -q latest --target "$SCRATCH/g"
cmp -s "$T/more/today.txt" "$SCRATCH/g$T/more/today.txt" ||
	fail "the new snapshot does not restore"
echo "PASS"
