#!/bin/bash
# forget explains and removes only what the policy says; prune reclaims the
# space; every kept snapshot restores bit-identically afterwards.
. "$(dirname "$0")/lib.sh"

S=$T/src
R=$T/repo
"$GFSB" init -r "$R" --kdf-memory 8M --kdf-iterations 1 --pack-size 1M -q \
	>/dev/null
make_history "$R" 14

step "--dry-run explains and removes nothing"
expect 0 "$GFSB" forget -r "$R" --policy "$HERE/../../schedules/minimal.policy" --dry-run
out_has "son/daily"
out_has "father/weekly"
out_has "grandfather/monthly"
out_has "total: keep"
out_has "dry run: nothing was removed"
[ "$(nfiles "$R/snapshots")" = 14 ] || fail "dry run removed snapshots"

step "--json has restic's shape and agrees with the table"
expect 0 "$GFSB" forget -r "$R" --keep-daily 3 --keep-weekly 2 --dry-run --json
$PY - "$T/out" <<'PYEOF'
import json, sys
groups = json.load(open(sys.argv[1]))
assert len(groups) == 1, groups
g = groups[0]
for key in ("tags", "host", "paths", "keep", "remove", "reasons"):
    assert key in g, key
assert len(g["keep"]) == len(g["reasons"])
days = sorted(s["time"][8:10] for s in g["keep"])
# 3 days (12-14) and the newest of the week before (Sunday the 11th):
assert days == ["11", "12", "13", "14"], days
r = {x["snapshot"]["time"][8:10]: x["matches"] for x in g["reasons"]}
assert r["14"] == ["daily snapshot", "weekly snapshot"], r["14"]
assert r["11"] == ["weekly snapshot"], r["11"]
assert len(g["remove"]) == 10
PYEOF

step "refusals: nothing removed"
expect 2 "$GFSB" forget -r "$R"
one_line_error "no policy"
expect 2 "$GFSB" forget -r "$R" --keep-daily -1
one_line_error "negative count"
expect 2 "$GFSB" forget -r "$R" --keep-within 3x
one_line_error "malformed duration"
printf 'keep-daily = 7\nkeep-weekly = four\n' >"$T/bad.policy"
expect 2 "$GFSB" forget -r "$R" --policy "$T/bad.policy"
one_line_error "$T/bad.policy:2: keep-weekly"
expect 1 "$GFSB" forget -r "$R" --keep-tag nosuchtag
one_line_error "would remove every snapshot"
[ "$(nfiles "$R/snapshots")" = 14 ] || fail "a refused forget removed snapshots"

step "forget and prune wait for another prune and for an exclusive lock"
# (Not for a backup's shared lock: tests/e2e/46-fleet.sh.)
hold_lock "$R" prune
expect 11 "$GFSB" forget -r "$R" --keep-last 1
err_has "locked for a prune"
expect 11 "$GFSB" prune -r "$R"
release_lock
hold_lock "$R" exclusive
expect 11 "$GFSB" forget -r "$R" --keep-last 1
expect 11 "$GFSB" prune -r "$R"
[ "$(nfiles "$R/snapshots")" = 14 ] || fail "a locked-out forget removed snapshots"

step "--retry-lock: waits, then fails with 11; Ctrl-C stops the wait"
expect 2 "$GFSB" prune -r "$R" --retry-lock soon
one_line_error "invalid --retry-lock soon"
t0=$(date +%s)
expect 11 "$GFSB" prune -r "$R" --retry-lock 2s -v
err_has "still locked after waiting 2 s"
err_has "trying again in 1 s"
[ $(($(date +%s) - t0)) -ge 2 ] || fail "--retry-lock 2s did not wait"
"$GFSB" prune -r "$R" --retry-lock 60s >"$T/out" 2>"$T/err" &
waiter=$!
sleep 1.5
kill -INT "$waiter"
rc=0
wait "$waiter" || rc=$?
[ "$rc" = 130 ] || { cat "$T/err"; fail "interrupted wait exited $rc, not 130"; }
[ "$(nfiles "$R/snapshots")" = 14 ] || fail "an interrupted wait removed snapshots"

step "--retry-lock: the lock goes meanwhile, and the command runs"
holder=${BGPIDS[-1]}
(sleep 2; kill "$holder") &
t0=$(date +%s)
expect 0 "$GFSB" forget -r "$R" --keep-last 20 --retry-lock 1m
[ $(($(date +%s) - t0)) -lt 30 ] || fail "it waited past the lock's end"
wait "$holder" 2>/dev/null || true

step "forget removes snapshot objects only"
packs=$(nfiles "$R/data")
size0=$(du -sb "$R/data" | cut -f1)
expect 0 "$GFSB" forget -r "$R" --keep-last 6
out_has "total: keep 6, remove 8 snapshots"
[ "$(nfiles "$R/snapshots")" = 6 ] || fail "not 6 snapshots left"
[ "$(nfiles "$R/data")" = "$packs" ] || fail "forget touched packs"

step "prune --dry-run changes nothing"
expect 0 "$GFSB" prune -r "$R" --dry-run
out_has "would delete"
[ "$(du -sb "$R/data" | cut -f1)" = "$size0" ] || fail "dry run changed packs"

step "prune frees the removed data; kept snapshots restore identically"
expect 0 "$GFSB" prune -r "$R"
cat "$T/out"
size1=$(du -sb "$R/data" | cut -f1)
echo "data: $size0 -> $size1 bytes"
# Days 1-8 each added 1.5 MB that no kept snapshot has (days 7 and 8's
# files are still in the kept days 9 and 10): at least 6 x 1.5 MB freed.
[ $((size0 - size1)) -gt 9000000 ] || fail "prune freed too little"
check_kept "$R"
expect 0 "$GFSB" prune -r "$R" --dry-run
out_has "delete 0 unindexed"

step "--max-unused 0% repacks every partly used pack"
expect 0 "$GFSB" forget -r "$R" --keep-last 3 --prune --max-unused 0%
out_has "remove 3 snapshots"
out_has "freed"
check_kept "$R"
expect 0 "$GFSB" prune -r "$R" --dry-run --max-unused 0%
grep -q "; 0 unused (0 B)" "$T/out" || { cat "$T/out"; fail "unused data left"; }
expect 0 "$GFSB" backup -r "$R" "$S"

step "forget ID...: the snapshots named, checked first, nothing else"
expect 0 "$GFSB" snapshots -r "$R" --json
ids=($($PY -c 'import json, sys; print(" ".join(s["id"] for s in json.load(open(sys.argv[1]))))' "$T/out"))
n=${#ids[@]}
[ "$n" -ge 3 ] || fail "test setup: $n snapshots"
ls "$R/snapshots" | sort >"$T/ids.before"
expect 1 "$GFSB" forget -r "$R" "${ids[0]:0:8}" deadbeef
one_line_error "no snapshot deadbeef: nothing removed"
expect 1 "$GFSB" forget -r "$R" "${ids[0]:0:8}" not-an-id
one_line_error "not-an-id"
expect 2 "$GFSB" forget -r "$R" "${ids[0]:0:8}" --keep-last 1
one_line_error "give snapshot ids or a policy, not both"
expect 0 "$GFSB" forget -r "$R" "${ids[0]:0:8}" --dry-run
out_has "would remove snapshot ${ids[0]:0:8}"
cmp -s <(ls "$R/snapshots" | sort) "$T/ids.before" || fail "a refused or dry forget removed snapshots"
# Named twice, and another: two go, with a prune after them.
expect 0 "$GFSB" forget -r "$R" "${ids[0]:0:8}" "${ids[0]:0:10}" "${ids[1]:0:8}" --prune
out_has "removed snapshot ${ids[0]:0:8}"
out_has "removed snapshot ${ids[1]:0:8}"
out_has "freed"
[ "$(nfiles "$R/snapshots")" = $((n - 2)) ] || fail "not exactly two snapshots removed"
[ ! -e "$R/snapshots/${ids[0]}" ] && [ ! -e "$R/snapshots/${ids[1]}" ] ||
	fail "the wrong snapshots were removed"
expect 0 "$GFSB" verify -r "$R" --read-data --no-state
restores_as "$R" latest "$S"

step "policy show needs no repository"
expect 0 "$GFSB" policy show "$HERE/../../schedules/standard.policy" \
	--end '2026-11-22 01:00:00'
out_has "held at the end: 26 snapshots (at most 27 at any time)"
out_has "son/daily"
expect 2 "$GFSB" policy show "$T/bad.policy"
one_line_error "$T/bad.policy:2"
echo "PASS"
