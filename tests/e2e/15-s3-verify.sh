#!/bin/bash
# verify on S3 (Ceph's RADOS Gateway): the offsite mirror verifies clean,
# reading every pack from the bucket (not from the local cache); a pack
# altered in the bucket and a pack deleted from it are found and mapped;
# transient faults are retried and change nothing; a dead endpoint is a
# failure to look (exit 1, said as such), never reported as damage;
# repair index rebuilds a damaged index in the bucket and drops a deleted
# pack's blobs from it.
. "$(dirname "$0")/lib.sh"
. "$HERE/lib_s3.sh"
s3_setup
export GFSBACKUP_STATE_DIR=$T/state

L=$T/local
M=s3://gfsb-verify/offsite
S=$T/src
"$GFSB" init -r "$L" --kdf-memory 8M --kdf-iterations 1 --pack-size 1M -q \
	>/dev/null
make_history "$L" 4
expect 0 "$GFSB" sync -r "$L" --to "$M"
NPACKS=$(find "$L/data" -type f | wc -l)

step "the mirror verifies clean, every pack read from the bucket"
expect 0 "$GFSB" verify -r "$M" --read-data --json
$PY - "$T/out" "$NPACKS" <<'PYEOF'
import json, sys
r, n = json.load(open(sys.argv[1])), int(sys.argv[2])
assert r["status"] == "ok" and r["counts"]["packs_read"] == n, r["counts"]
assert r["counts"]["snapshots"] == 4
PYEOF
# Local and offsite keep their own read dates.
[ "$(find "$T/state" -name 'verify-*.json' | wc -l)" = 1 ] ||
	fail "expected one state file"
expect 0 "$GFSB" verify -r "$L" --read-data-subset 1/2
[ "$(find "$T/state" -name 'verify-*.json' | wc -l)" = 2 ] ||
	fail "local and offsite must have separate state files"

step "a pack altered in the bucket: found by reading, not by structure"
victim=$("${RCLONE[@]}" lsf -R --files-only --format sp --separator " " \
	ceph:gfsb-verify/offsite/data | sort -n | tail -1 | cut -d' ' -f2)
"${RCLONE[@]}" cat "ceph:gfsb-verify/offsite/data/$victim" >"$T/pack"
flip "$T/pack" 5000
"${RCLONE[@]}" rcat "ceph:gfsb-verify/offsite/data/$victim" <"$T/pack"
# The tree packs are in the local cache: structure alone sees nothing.
expect 0 "$GFSB" verify -r "$M" --no-state
expect 1 "$GFSB" verify -r "$M" --read-data --no-state
out_has "DAMAGED pack $(basename "$victim" | cut -c1-16)"
out_has "DAMAGE FOUND"
grep -q "^BROKEN snapshot " "$T/out" || fail "no broken file named"
# The local repository is intact.
expect 0 "$GFSB" verify -r "$L" --read-data --no-state
# sync puts the right bytes back (the name says what they must be).
"${RCLONE[@]}" deletefile "ceph:gfsb-verify/offsite/data/$victim"
expect 0 "$GFSB" sync -r "$L" --to "$M"
expect 0 "$GFSB" verify -r "$M" --read-data --no-state

step "a pack deleted from the bucket: found from the listing"
gone=$("${RCLONE[@]}" lsf -R --files-only ceph:gfsb-verify/offsite/data |
	sort | head -1)
"${RCLONE[@]}" deletefile "ceph:gfsb-verify/offsite/data/$gone"
expect 1 "$GFSB" verify -r "$M" --no-state --json
grep -qF "\"id\": \"$(basename "$gone")\"" "$T/out" ||
	fail "the deleted pack is not named"
grep -q "missing from storage" "$T/out" || fail "not said missing"
expect 0 "$GFSB" sync -r "$L" --to "$M"

step "transient faults (503, resets) are retried: still clean"
proxy_start
faults '{"every": 3, "kinds": ["503slowdown", "reset", "truncate"], "methods": ["GET"], "path": "/data/", "reset_counters": true}'
expect 0 "$GFSB" verify -r "$M" --s3-endpoint "$PROXY" --read-data --no-state
out_has "no damage found"
[ "$(proxy_counter faults_total)" -gt 0 ] || fail "no fault was injected"

step "a dead endpoint: a failure to look, not damage"
faults '{"rate": 1, "kinds": ["reset"], "methods": ["GET"], "path": "/data/", "reset_counters": true}'
expect 1 "$GFSB" verify -r "$M" --s3-endpoint "$PROXY" --read-data --no-state
grep -q "DAMAGE" "$T/out" && fail "a network failure was reported as damage"
one_line_error "offsite/data/"
faults '{"rate": 0}'

step "repair index in the bucket: a damaged index file"
# sort reads all of rclone's output: rclone writes a line at a time, and
# head alone would exit early and kill it with SIGPIPE (fatal here).
idx=$("${RCLONE[@]}" lsf --files-only ceph:gfsb-verify/offsite/index |
	sort | head -1)
"${RCLONE[@]}" cat "ceph:gfsb-verify/offsite/index/$idx" >"$T/idx"
flip "$T/idx" 100
"${RCLONE[@]}" rcat "ceph:gfsb-verify/offsite/index/$idx" <"$T/idx"
expect 1 "$GFSB" restore -r "$M" --no-cache latest --target "$T/r"
one_line_error "gfsbackup repair index"
expect 0 "$GFSB" repair -r "$M" --no-cache index
out_has "1 damaged index file"
out_has "0 missing"
"${RCLONE[@]}" lsf --files-only ceph:gfsb-verify/offsite/index >"$T/idx.ls"
grep -qx "$idx" "$T/idx.ls" && fail "the damaged index file is still there"
[ "$(wc -l <"$T/idx.ls")" = 1 ] || fail "not one index file"
# Every pack is there: the rebuilt index names every blob again.
expect 0 "$GFSB" verify -r "$M" --read-data --no-state

# A separate step: a pack named only by the damaged index file would not
# be counted missing (no readable index names it), so which pack is
# deleted decides the count unless the index is whole first.
step "repair index in the bucket: a deleted pack"
gone=$("${RCLONE[@]}" lsf -R --files-only ceph:gfsb-verify/offsite/data |
	sort | head -1)
"${RCLONE[@]}" deletefile "ceph:gfsb-verify/offsite/data/$gone"
expect 0 "$GFSB" repair -r "$M" --no-cache index
out_has "0 damaged index files"
out_has "1 missing"
expect 1 "$GFSB" verify -r "$M" --read-data --no-state
out_has "not in the index"
grep -q "^DAMAGED" "$T/out" && fail "damage left in the index"
# The local repository is intact: sync makes the mirror its copy again.
expect 0 "$GFSB" sync -r "$L" --to "$M"
expect 0 "$GFSB" verify -r "$M" --read-data --no-state

echo "ok"
