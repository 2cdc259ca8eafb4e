#!/bin/bash
# Incremental backups: unchanged data stores nothing, changes store only
# the chunks they touch (a change that keeps size and mtime included), and
# an older snapshot still restores exactly.
. "$(dirname "$0")/lib.sh"

S=$T/src
mkdir -p "$S/docs"
head -c 20000000 /dev/urandom >"$S/big.bin"
for i in $(seq 1 50); do echo "document $i $RANDOM" >"$S/docs/d$i.txt"; done
head -c 2000000 < <(yes "log line for the incremental test") >"$S/app.log"
R=$T/repo
init_repo "$R"

# Field of the newest snapshot's summary (restic's JSON shape).
summary() {
	snap_json "$R" | $PY -c "import json,sys; s=json.load(sys.stdin); \
print(s[-1]['summary']['$1'])"
}

step "first backup"
expect 0 "$GFSB" backup -r "$R" --time '2026-01-01 01:00:00' "$S"
cp -a "$S" "$T/v1"
first=$(snap_json "$R" | $PY -c "import json,sys; print(json.load(sys.stdin)[0]['id'])")
packs=$(nfiles "$R/data")

step "unchanged: no file is read, no data is stored"
expect 0 "$GFSB" backup -r "$R" --time '2026-01-02 01:00:00' "$S"
out_has "(0 new, 0 changed, 52 unchanged)"
# The source's ancestors (/tmp, $T) may have new mtimes: then a new root
# tree (a few hundred bytes) is right.  No data blob may be stored.
[ "$(summary data_blobs)" = 0 ] || fail "data stored for unchanged files"
[ "$(summary data_added)" -lt 4096 ] || fail "more than trees stored"
[ "$(nfiles "$R/data")" -le $((packs + 1)) ] || fail "new data packs"
parent=$(snap_json "$R" | $PY -c "import json,sys; print(json.load(sys.stdin)[-1]['parent'])")
[ "$parent" = "$first" ] || fail "parent is $parent, not $first"
step "unchanged, nothing touched in between: nothing at all is stored"
packs=$(nfiles "$R/data")
expect 0 "$GFSB" backup -r "$R" --time '2026-01-02 02:00:00' "$S"
if [ "$(summary tree_blobs)" = 0 ]; then
	[ "$(nfiles "$R/data")" = "$packs" ] || fail "new packs"
	[ "$(summary data_added)" = 0 ] || fail "data added"
else
	echo "(an ancestor of $S changed meanwhile; trees only)"
fi

step "a few bytes changed: only their chunk is stored"
printf 'CHANGED' | dd of="$S/big.bin" bs=1 seek=10000000 conv=notrunc \
	status=none
echo "one more line" >>"$S/app.log"
echo "new" >"$S/docs/new.txt"
expect 0 "$GFSB" backup -r "$R" --time '2026-01-03 01:00:00' "$S"
out_has "(1 new, 2 changed, 50 unchanged)"
added=$(summary data_added)
echo "data added after a 7-byte change in 20 MB: $added bytes"
[ "$added" -lt 9000000 ] || fail "too much data added: $added"

step "bytes inserted at the start: the following chunks are found again"
$PY - "$S/big.bin" <<'PYEOF'
import sys
p = sys.argv[1]
d = open(p, "rb").read()
open(p, "wb").write(b"INSERTED AT THE START" + d)
PYEOF
expect 0 "$GFSB" backup -r "$R" --time '2026-01-04 01:00:00' "$S"
added=$(summary data_added)
echo "data added after an insertion at the start of 20 MB: $added bytes"
[ "$added" -lt 9000000 ] || fail "insertion re-stored the file: $added"

step "--force reads everything again but stores nothing new"
expect 0 "$GFSB" backup -r "$R" --force "$S"
out_has "(53 new, 0 changed, 0 unchanged)"
[ "$(summary data_added)" -lt 100000 ] || fail "force stored data again"

# (No --time from here: the parent is the newest snapshot, the --force
# one, taken now.)
step "same size and mtime, other bytes: the ctime gives it away"
f=$S/docs/d1.txt
touch -r "$f" "$T/mtime-ref"
head -c "$(stat -c %s "$f")" < <(yes X) >"$f"
touch -r "$T/mtime-ref" "$f"
[ "$(stat -c %Y.%s "$f")" = "$(stat -c %Y.%s "$T/v1/docs/d1.txt")" ] ||
	fail "the test did not keep the size and mtime"
expect 0 "$GFSB" backup -r "$R" "$S"
out_has "(0 new, 1 changed, 52 unchanged)"

step "another file renamed over it with its size and mtime: changed"
f=$S/docs/d2.txt
head -c "$(stat -c %s "$f")" < <(yes Y) >"$S/d2.new"
touch -r "$f" "$S/d2.new"
mv "$S/d2.new" "$f"
expect 0 "$GFSB" backup -r "$R" "$S"
out_has "(0 new, 1 changed, 52 unchanged)"

step "the oldest snapshot restores exactly, after newer ones"
expect 0 "$GFSB" restore -r "$R" "${first:0:10}" --target "$T/r1"
$PY "$HERE/treecmp.py" "$T/v1" "$T/r1$S" --no-times ||
	fail "old snapshot differs"
cmp -s "$T/v1/big.bin" "$T/r1$S/big.bin" || fail "old big.bin differs"

step "the newest restores the current tree"
expect 0 "$GFSB" restore -r "$R" latest --target "$T/r2"
$PY "$HERE/treecmp.py" "$S" "$T/r2$S" || fail "latest differs"

step "snapshots are listed oldest first with their times"
expect 0 "$GFSB" snapshots -r "$R"
grep -n "2026-01-0" "$T/out" | head -5 | awk -F: '{print $1}' |
	sort -c -n || fail "not in time order"
out_has "8 snapshots"
echo "PASS"
