#!/bin/bash
# sync: a local repository mirrored to S3 (Ceph's RADOS Gateway) and back.
# The mirror is created, kept exact (copies, then prune's deletions), resumes
# after a kill -9, restores on its own once the local repository is gone,
# and is protected from a wiped or damaged source.
. "$(dirname "$0")/lib.sh"
. "$HERE/lib_s3.sh"
s3_setup
# Listings in pages of 3 keys: every listing walks many pages of the real
# server's ListObjectsV2 (continuation tokens), and the mirror must still
# be the exact set of objects.
export GFSBACKUP_S3_LIST_PAGE=3

L=$T/local
M=s3://gfsb-mirror/offsite
S=$T/src
"$GFSB" init -r "$L" --kdf-memory 8M --kdf-iterations 1 --pack-size 1M -q \
	>/dev/null
make_history "$L" 4

# The objects of a local repository, "size path" like s3_listing.
local_listing() {
	(cd "$1" && find . -type f ! -path './locks/*' ! -name '.tmp-*' \
		-printf '%s %P\n') | sort
}

step "dry run: counts, changes nothing"
expect 0 "$GFSB" sync -r "$L" --to "$M" --dry-run
out_has "would copy"
would=$(sed -n 's/^would copy \([0-9]*\) objects.*/\1/p' "$T/out")
[ -z "$("${RCLONE[@]}" lsf ceph: 2>/dev/null)" ] || fail "dry run wrote"

step "first sync creates the mirror; rclone checks every object"
expect 0 "$GFSB" sync -r "$L" --to "$M"
out_has "created the mirror"
# The dry run said how many (packs, index files and snapshots alike).
out_has "copied $would objects"
cmp -s <(local_listing "$L") <(s3_listing gfsb-mirror/offsite) ||
	{ diff <(local_listing "$L") <(s3_listing gfsb-mirror/offsite); fail "the mirror is not the same set of objects"; }
s3_check_names gfsb-mirror/offsite
expect 0 "$GFSB" snapshots -r "$M"
out_has "4 snapshots"

step "again: nothing to copy"
expect 0 "$GFSB" sync -r "$L" --to "$M"
out_has "copied 0 objects"

step "kill -9 in the middle, then resume: only what is missing is sent"
# (Seeded: the same packs on every run.)
$PY -c 'import random, sys
sys.stdout.buffer.write(random.Random(5).randbytes(12000000))' >"$S/big.bin"
"$GFSB" backup -r "$L" -q --time '2026-01-05 01:00:00' "$S" >/dev/null
cp -a "$S" "$T/copies/05"
"$GFSB" sync -r "$L" --to "$M" --dry-run >"$T/dry"
want=$(sed -n 's/^would copy \([0-9]*\) objects.*/\1/p' "$T/dry")
[ "$want" -ge 10 ] || fail "test setup: only $want objects to copy"
have=$(s3_listing gfsb-mirror/offsite | wc -l)
"$GFSB" sync -r "$L" --to "$M" --threads 1 --connections 1 \
	--limit-upload 2048 >/dev/null 2>&1 &
pid=$!
BGPIDS+=("$pid")
# Killed once two new objects have landed (not after a fixed time, which
# a slow or a fast machine turns into "nothing" or "everything").
for _ in $(seq 1 300); do
	[ "$(s3_listing gfsb-mirror/offsite | wc -l)" -ge $((have + 2)) ] && break
	kill -0 "$pid" 2>/dev/null || break
	sleep 0.1
done
kill -9 "$pid" 2>/dev/null || fail "the sync ended before it could be killed"
{ wait "$pid"; } 2>/dev/null || true
landed=$(( $(s3_listing gfsb-mirror/offsite | wc -l) - have ))
# Snapshots are copied last: the interrupted mirror still has 4.
expect 0 "$GFSB" snapshots -r "$M"
out_has "4 snapshots"
expect 0 "$GFSB" sync -r "$L" --to "$M" --dry-run
left=$(sed -n 's/^would copy \([0-9]*\) objects.*/\1/p' "$T/out")
expect 0 "$GFSB" sync -r "$L" --to "$M"
got=$(sed -n 's/^copied \([0-9]*\) objects.*/\1/p' "$T/out")
echo "   objects to copy: $want; landed before the kill: $landed;" \
	"left to copy: $left; copied after the kill: $got"
[ "$landed" -ge 2 ] && [ "$left" = $((want - landed)) ] ||
	fail "after $landed objects landed, $left of $want are left to copy"
[ "$got" = "$left" ] || fail "resume copied $got objects, not the $left left"
cmp -s <(local_listing "$L") <(s3_listing gfsb-mirror/offsite) ||
	{ diff <(local_listing "$L") <(s3_listing gfsb-mirror/offsite); fail "the resumed mirror differs"; }

step "--limit-upload caps the rate"
bytes=$(du -sb "$L" | cut -f1)
start=$(date +%s.%N)
expect 0 "$GFSB" sync -r "$L" --to s3://gfsb-mirror/slow --limit-upload 4096
secs=$($PY -c "import sys; print(float(sys.argv[2]) - float(sys.argv[1]))" \
	"$start" "$(date +%s.%N)")
echo "   $bytes bytes at 4096 KiB/s at most: $secs s"
$PY -c "import sys; sys.exit(float(sys.argv[1]) < 0.9 * int(sys.argv[2]) / 4194304)" \
	"$secs" "$bytes" || fail "sent faster than --limit-upload allows"

step "forget and prune locally; sync mirrors the deletions"
expect 0 "$GFSB" forget -r "$L" --keep-last 2 --prune --max-unused 0%
expect 0 "$GFSB" sync -r "$L" --to "$M"
grep -q "deleted [1-9]" "$T/out" || { cat "$T/out"; fail "nothing deleted"; }
cmp -s <(local_listing "$L") <(s3_listing gfsb-mirror/offsite) ||
	fail "the mirror kept what prune deleted"
s3_check_names gfsb-mirror/offsite

step "disaster: the local repository is gone; the mirror restores alone"
rm -rf "$L" "$T/cache"
check_kept "$M"

step "and syncs back to a new local repository"
B=$T/back
expect 0 "$GFSB" sync -r "$M" --to "$B"
out_has "created the mirror"
check_kept "$B"
cmp -s <(local_listing "$B") <(s3_listing gfsb-mirror/offsite) ||
	fail "the copy back differs"

step "a wiped source does not wipe its mirror"
rm -f "$B"/snapshots/*
s3_listing gfsb-mirror/offsite >"$T/before"
expect 1 "$GFSB" sync -r "$B" --to "$M"
err_has "refusing to mirror deletions"
s3_listing gfsb-mirror/offsite >"$T/after"
cmp -s "$T/before" "$T/after" || fail "the mirror changed"
expect 0 "$GFSB" sync -r "$B" --to "$M" --no-delete
s3_listing gfsb-mirror/offsite >"$T/after"
cmp -s "$T/before" "$T/after" || fail "--no-delete changed the mirror"
expect 0 "$GFSB" sync -r "$M" --to "$B"
check_kept "$B"

step "a damaged source object is named and not copied"
echo "after the restore" >"$S/late.txt"
"$GFSB" backup -r "$B" -q --time '2026-01-07 01:00:00' "$S" >/dev/null
newpack=$(find "$B/data" -type f -newer "$T/after" | head -1)
[ -n "$newpack" ] || fail "test setup: no new pack"
flip "$newpack" 100
s3_listing gfsb-mirror/offsite >"$T/before"
expect 1 "$GFSB" sync -r "$B" --to "$M"
err_has "$(basename "$newpack") in the source is damaged"
err_has "could not be copied"
expect 0 "$GFSB" snapshots -r "$M"
out_has "2 snapshots"
# Other packs may have been copied; nothing that names them was.
s3_listing gfsb-mirror/offsite >"$T/after"
grep -q "$(basename "$newpack")" "$T/after" && fail "damaged pack copied"
cmp -s <(grep -v ' data/' "$T/before") <(grep -v ' data/' "$T/after") ||
	fail "an index or snapshot was copied after a failed pack"

step "bad input"
O=$T/other
init_repo "$O"
expect 1 "$GFSB" sync -r "$M" --to "$O"
one_line_error "holds another repository"
expect 2 "$GFSB" sync -r "$M" --to "$M"
one_line_error "is the repository itself"
expect 2 "$GFSB" sync -r "$M"
one_line_error "--to"
expect 2 "$GFSB" sync -r "$M" --to "$O" --threads 0
one_line_error "--threads"
expect 2 "$GFSB" sync -r "$M" --to "s3:/gfsb-mirror/x"
one_line_error "malformed"
expect 10 "$GFSB" sync -r "$T/nothing" --to "$M"
echo "PASS"
