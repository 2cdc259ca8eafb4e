#!/bin/bash
# verify: a clean repository verifies clean and verify changes nothing;
# a flipped byte in a pack, a deleted pack, a truncated index and a damaged
# snapshot are each found, named, and mapped to exactly the files a restore
# then fails to bring back; rotate/7 over seven simulated days reads every
# pack exactly once, N/T slices partition the packs, P% reads a share;
# the state file measures coverage; bad input is refused.
. "$(dirname "$0")/lib.sh"

R=$T/repo
S=$T/src
export GFSBACKUP_STATE_DIR=$T/state
mkdir -p "$S/docs" "$S/media"
$PY - "$S" <<'PYEOF'
import os, random, sys
root = sys.argv[1]
rnd = random.Random(7)
for i in range(12):
    with open(f"{root}/media/clip{i:02}.bin", "wb") as f:
        f.write(os.urandom(rnd.randint(400_000, 2_500_000)))
for i in range(40):
    with open(f"{root}/docs/note{i:02}.txt", "w") as f:
        f.write(f"note {i}\n" * rnd.randint(10, 4000))
PYEOF
"$GFSB" init -r "$R" --kdf-memory 8M --kdf-iterations 1 --pack-size 1M -q \
	>/dev/null
"$GFSB" backup -r "$R" -q --time '2026-03-01 02:00:00' "$S" >/dev/null
echo "later" >>"$S/docs/note00.txt"
head -c 700000 /dev/urandom >"$S/media/late.bin"
"$GFSB" backup -r "$R" -q --time '2026-03-02 02:00:00' "$S" >/dev/null
NPACKS=$(find "$R/data" -type f | wc -l)
echo "repository: $NPACKS packs"
[ "$NPACKS" -ge 14 ] || fail "expected at least 14 packs, got $NPACKS"

# Every object of a repository with its checksum (locks come and go).
repo_sums() { (cd "$1" && find . -type f ! -path './locks/*' -print0 |
	sort -z | xargs -0 sha256sum); }

# The files a restore of every snapshot does not bring back intact, as
# "snapshot-short-id path" lines: the ground truth for verify's mapping.
# Each snapshot of the damaged copy is restored and compared, file by
# file, with the same snapshot restored from the intact repository.
restore_losses() {
	local repo=$1 id out ref
	for id in $("$GFSB" snapshots -r "$R" --json | $PY -c '
import json, sys
for s in json.load(sys.stdin): print(s["short_id"])'); do
		out=$T/restore-$id
		ref=$T/ref-$id
		rm -rf "$out"
		[ -d "$ref" ] || "$GFSB" restore -r "$R" "$id" --target "$ref" \
			>/dev/null
		"$GFSB" restore -r "$repo" "$id" --target "$out" >/dev/null \
			2>&1 || true
		$PY - "$id" "$ref" "$out" <<'PYEOF'
import filecmp, os, sys
sid, ref, out = sys.argv[1:]
for d, _, files in os.walk(ref):
    for f in files:
        p = os.path.join(d, f)
        rel = p[len(ref):]
        q = out + rel
        if not os.path.isfile(q) or not filecmp.cmp(p, q, shallow=False):
            print(sid, rel)
PYEOF
		rm -rf "$out"
	done | sort -u
}

# The files verify says are broken, from --json.
verify_losses() {
	$PY -c '
import json, sys
r = json.load(open(sys.argv[1]))
for b in r["broken"]:
    print(b["snapshot"][:8], b["path"])
' "$1" | sort -u
}

step "a clean repository verifies clean, reads every pack, changes nothing"
pristine=$(repo_sums "$R")
before=$pristine
expect 0 "$GFSB" verify -r "$R" --read-data
out_has "no damage found"
out_has "read (all packs): $NPACKS packs"
expect 0 "$GFSB" verify -r "$R" --read-data --json
$PY - "$T/out" "$NPACKS" <<'PYEOF'
import json, sys
r = json.load(open(sys.argv[1]))
n = int(sys.argv[2])
assert r["status"] == "ok", r
assert r["counts"]["packs"] == n and r["counts"]["packs_read"] == n, r
assert len(r["packs_read"]) == n and r["damage"] == [] and r["broken"] == []
assert r["counts"]["snapshots"] == 2 and r["counts"]["keys"] == 1
PYEOF
[ "$(repo_sums "$R")" = "$before" ] || fail "verify changed the repository"
[ -z "$(ls "$R/locks")" ] || fail "verify left a lock"

step "rotate/7 on seven consecutive days reads every pack exactly once"
for d in 1 2 3 4 5 6 7 8; do
	expect 0 "$GFSB" verify -r "$R" --read-data-subset rotate/7 \
		--time "2026-04-0$d 03:00:00" --json --no-state
	cp "$T/out" "$T/rot$d.json"
done
$PY - "$T" "$NPACKS" <<'PYEOF'
import collections, json, sys
t, n = sys.argv[1], int(sys.argv[2])
days = [json.load(open(f"{t}/rot{d}.json")) for d in range(1, 9)]
seen = collections.Counter(p for r in days[:7] for p in r["packs_read"])
assert len(seen) == n, f"{len(seen)} of {n} packs read in 7 days"
assert set(seen.values()) == {1}, f"some pack read twice: {seen}"
assert days[7]["packs_read"] == days[0]["packs_read"], "day 8 != day 1"
modes = {r["mode"] for r in days[:7]}
assert len(modes) == 7, modes
PYEOF

step "N/T slices partition the packs; P% reads that share"
for k in 1 2 3; do
	expect 0 "$GFSB" verify -r "$R" --read-data-subset $k/3 --json \
		--no-state
	cp "$T/out" "$T/slice$k.json"
done
expect 0 "$GFSB" verify -r "$R" --read-data-subset 25% --json --no-state
cp "$T/out" "$T/pct.json"
$PY - "$T" "$NPACKS" <<'PYEOF'
import json, sys
t, n = sys.argv[1], int(sys.argv[2])
sl = [set(json.load(open(f"{t}/slice{k}.json"))["packs_read"]) for k in (1, 2, 3)]
assert sum(map(len, sl)) == n and len(sl[0] | sl[1] | sl[2]) == n, sl
pct = json.load(open(f"{t}/pct.json"))
want = -(-n * 25 // 100)
assert pct["counts"]["packs_read"] == want, (pct["counts"], want)
PYEOF

step "the state file: coverage after a week of rotation"
for d in 1 2 3 4 5 6 7; do
	expect 0 "$GFSB" verify -r "$R" --read-data-subset rotate/7 \
		--time "2026-05-0$d 03:00:00" --json
done
$PY - "$T/out" <<'PYEOF'
import json, sys
r = json.load(open(sys.argv[1]))
c = r["coverage"]
assert c["never_read"] == 0, c
assert 0 <= c["days_since_all_read"] <= 6, c
PYEOF
state=$(find "$T/state" -name 'verify-*.json')
[ "$(stat -c %a "$state")" = 600 ] || fail "state file is not 0600"
$PY - "$state" <<'PYEOF'
import json, sys
s = json.load(open(sys.argv[1]))
assert s["version"] == 1 and len(s["nights"]) == 7, s["nights"]
assert all(n["repo_size"] > 0 for n in s["nights"])
PYEOF
echo "not json" >"$state"
expect 0 "$GFSB" verify -r "$R" --time '2026-05-08 03:00:00'
err_has "coverage starts over"

step "a flipped byte in a data pack: the blob, the pack, the files"
cp -a "$R" "$T/r1"
victim=$(ls -S "$T"/r1/data/*/* | head -1)
flip "$victim" 100
before=$(repo_sums "$T/r1")
expect 1 "$GFSB" verify -r "$T/r1" --read-data --json --no-state
cp "$T/out" "$T/v1.json"
$PY - "$T/v1.json" "$(basename "$victim")" <<'PYEOF'
import json, sys
r, pack = json.load(open(sys.argv[1])), sys.argv[2]
assert r["status"] == "damaged"
kinds = {(d["kind"], d["id"]) for d in r["damage"]}
assert ("pack", pack) in kinds, kinds
blobs = [d for d in r["damage"] if d["kind"] == "blob"]
assert len(blobs) == 1 and pack[:16] in blobs[0]["why"], blobs
assert r["broken"], "no file mapped"
PYEOF
verify_losses "$T/v1.json" | tee "$T/l1"
[ -s "$T/l1" ] || fail "no broken file mapped"
diff <(verify_losses "$T/v1.json") <(restore_losses "$T/r1") ||
	fail "verify's broken files differ from what restore loses"
[ "$(repo_sums "$T/r1")" = "$before" ] || fail "verify changed r1"
expect 1 "$GFSB" verify -r "$T/r1" --read-data --no-state
out_has "DAMAGED pack $(basename "$victim" | cut -c1-16)"
out_has "DAMAGE FOUND"
grep -q "^BROKEN snapshot " "$T/out" || fail "no BROKEN line"
# Structure alone does not read data: the flip is not seen.
expect 0 "$GFSB" verify -r "$T/r1" --no-state

step "a deleted pack: found without reading data, mapped to its files"
cp -a "$R" "$T/r2"
gone=$(ls -S "$T"/r2/data/*/* | sed -n 3p)
rm "$gone"
expect 1 "$GFSB" verify -r "$T/r2" --json --no-state
cp "$T/out" "$T/v2.json"
grep -q "$(basename "$gone").*missing from storage\|missing from storage" \
	"$T/v2.json" || fail "missing pack not named"
grep -qF "\"id\": \"$(basename "$gone")\"" "$T/v2.json" ||
	fail "missing pack id not in the damage list"
verify_losses "$T/v2.json" | tee "$T/l2"
[ -s "$T/l2" ] || fail "no broken file mapped"
diff <(verify_losses "$T/v2.json") <(restore_losses "$T/r2") ||
	fail "verify's broken files differ from what restore loses"

step "a truncated index file: named, and the snapshots it breaks"
cp -a "$R" "$T/r3"
idx=$(ls "$T"/r3/index/* | head -1)
truncate -s 200 "$idx"
expect 1 "$GFSB" verify -r "$T/r3" --json --no-state
cp "$T/out" "$T/v3.json"
$PY - "$T/v3.json" "$(basename "$idx")" <<'PYEOF'
import json, sys
r, idx = json.load(open(sys.argv[1])), sys.argv[2]
assert ("index", idx) in {(d["kind"], d["id"]) for d in r["damage"]}, r["damage"]
assert r["broken_snapshots"], "no snapshot mapped"
assert r["counts"]["orphaned_packs"] > 0, "its packs should be unindexed"
PYEOF

step "a damaged snapshot object is named, the others still checked"
cp -a "$R" "$T/r4"
snap=$(ls "$T"/r4/snapshots/* | head -1)
flip "$snap" 30
expect 1 "$GFSB" verify -r "$T/r4" --no-state
out_has "DAMAGED snapshot $(basename "$snap" | cut -c1-16)"
out_has "checked 1 keys, "
out_has " 1 snapshots,"

step "bad input: one line, exit 2 (or the documented status)"
for bad in 0/3 4/3 3/0 rotate/0 rotate/x 0% 101% abc -5% 1/3x; do
	expect 2 "$GFSB" verify -r "$R" --read-data-subset "$bad"
	one_line_error "--read-data-subset"
done
expect 2 "$GFSB" verify -r "$R" --read-data --read-data-subset 1/2
one_line_error "once"
expect 2 "$GFSB" verify -r "$R" --mail
one_line_error "--mail needs"
expect 2 "$GFSB" verify -r "$R" --smtp-url smtp://127.0.0.1:1
one_line_error "without --mail"
expect 2 "$GFSB" verify -r "$R" --time yesterday
one_line_error "--time"
expect 2 "$GFSB" verify -r "$R" --threads 0
one_line_error "--threads"
printf 'keep-daily = x\n' >"$T/bad.policy"
expect 2 "$GFSB" verify -r "$R" --policy "$T/bad.policy"
one_line_error "bad.policy:1"
expect 10 "$GFSB" verify -r "$T/nothing"
printf 'wrong' >"$T/wrongpw"
chmod 600 "$T/wrongpw"
expect 12 "$GFSB" verify -r "$R" --password-file "$T/wrongpw"
[ "$(repo_sums "$R")" = "$pristine" ] || fail "verify changed the repository"

echo "ok"
