#!/bin/bash
# Tamper evidence: verify compares what it sees with what the verifications
# before it saw (its state file), and fails, naming each change, when
#   - snapshots are gone that the retention policy would still keep (and
#     the count fell further than the policy allows);
#   - key files were added or removed;
#   - the config changed (here: resealed with the repository's keys, as
#     whoever holds the server can);
#   - a new snapshot claims a time older than the newest one already seen
#     of its host.
# What the policy drops is not an alarm; each alarm is raised once (the
# next verification starts from what it saw); without a policy, snapshots
# gone are a warning.
. "$(dirname "$0")/lib.sh"

S=$T/src
R=$T/repo
ST=$T/state
printf 'keep-daily = 3\nkeep-weekly = 2\n' >"$T/short.policy"
init_repo "$R"
mkdir -p "$S"

# night DD: a backup at 01:00 of 2026-03-DD, then verify at 06:00.
night() {
	echo "night $1" >"$S/night.txt"
	"$GFSB" backup -r "$R" -q --time "2026-03-$1 01:00:00" "$S" >/dev/null
}
check() { # check DD STATUS [verify options...]
	local d=$1 want=$2
	shift 2
	expect "$want" "$GFSB" verify -r "$R" --state-dir "$ST" \
		--time "2026-03-$d 06:00:00" --policy "$T/short.policy" "$@"
}
count() { grep -c "^HISTORY CHANGED" "$T/out" || true; }
newest_id() { snap_json "$R" | $PY -c 'import json,sys; print(json.load(sys.stdin)[-1]["id"])'; }

step "quiet nights: a baseline, then no change"
for d in 02 03 04; do
	night "$d"
	check "$d" 0
	out_has "no damage found"
	[ "$(count)" = 0 ] || { cat "$T/out"; fail "a change on night $d"; }
done

step "what the policy drops is no alarm"
for d in 05 06 07 08 09; do
	night "$d"
	expect 0 "$GFSB" forget -r "$R" --policy "$T/short.policy"
	check "$d" 0
done
grep -q "removed" "$T/out" || true
[ "$(snap_json "$R" | $PY -c 'import json,sys; print(len(json.load(sys.stdin)))')" -lt 8 ] ||
	fail "test setup: the policy dropped nothing"

step "the newest snapshot deleted: FAILED, named, with the count"
night 10
check 10 0
gone=$(newest_id)
rm -f "$R/snapshots/$gone"
check 10 1
out_has "HISTORY CHANGED: snapshot ${gone:0:8}"
out_has "the policy keeps it as son/daily"
out_has "the count fell from"
out_has "TAMPERING SUSPECTED"
step "said once: the next night starts from what was seen"
night 11
check 11 0

step "key files added and removed"
printf 'attacker passphrase' >"$T/evil"
chmod 600 "$T/evil"
expect 0 "$GFSB" key passwd -r "$R" --new-password-file "$T/evil"
cp "$T/evil" "$T/pw"
check 11 1
out_has "was added since the verification"
out_has "was removed since the verification"
out_has "key set changed"
check 11 0

step "the config resealed with the keys"
expect 0 "$TESTTOOL" reseal-config "$R" compression=1
check 11 1
out_has "the config changed since the verification"
check 11 0

step "a new snapshot that claims to be old"
echo "forged" >"$S/forged.txt"
ls "$R/snapshots" | sort >"$T/ids.before"
"$GFSB" backup -r "$R" -q --time "2026-03-09 01:00:00" "$S" >/dev/null
forged=$(ls "$R/snapshots" | sort | comm -13 "$T/ids.before" -)
[ -n "$forged" ] || fail "test setup: no new snapshot"
check 12 1
out_has "snapshot ${forged:0:8} (host"
out_has "before the newest one already seen of that host"
check 12 0

step "a snapshot that claims a time long before it was stored"
# A host never seen (so only the storage time can tell), and a verification
# at the real time (the storage time is not compared under --time).
echo "backdated" >"$S/backdated.txt"
ls "$R/snapshots" | sort >"$T/ids.before"
"$GFSB" backup -r "$R" -q --host forger --time "2026-01-02 03:04:05" "$S" \
	>/dev/null
back=$(ls "$R/snapshots" | sort | comm -13 "$T/ids.before" -)
expect 1 "$GFSB" verify -r "$R" --state-dir "$ST" --policy "$T/short.policy"
out_has "snapshot ${back:0:8} (host forger) claims 2026-01-02 03:04:05 but was stored at"
expect 0 "$GFSB" verify -r "$R" --state-dir "$ST" --policy "$T/short.policy"

step "several snapshots gone at once (a forget --keep-last 1 by the attacker)"
night 13
night 14
check 14 0
expect 0 "$GFSB" forget -r "$R" --keep-last 1
check 14 1 --json
$PY - "$T/out" <<'PYEOF' || fail "the JSON does not name the changes"
import json, sys
r = json.load(open(sys.argv[1]))
assert r["status"] == "history-changed", r["status"]
h = r["history_changed"]
assert any("kept by the retention policy: the count fell from" in x
           for x in h), h
assert sum("is gone; the policy keeps it" in x for x in h) >= 3, h
PYEOF

step "without a policy, snapshots gone are a warning"
night 15
expect 0 "$GFSB" verify -r "$R" --state-dir "$ST" --time "2026-03-15 06:00:00"
rm -f "$R/snapshots/$(newest_id)"
expect 0 "$GFSB" verify -r "$R" --state-dir "$ST" --time "2026-03-15 07:00:00"
err_has "1 snapshot gone since the verification"
err_has "no retention policy given"

step "--no-lock takes no lock (a verifier with read-only credentials)"
hold_lock "$R" exclusive
expect 11 "$GFSB" verify -r "$R" --no-state
expect 0 "$GFSB" verify -r "$R" --no-state --no-lock
release_lock

step "a state file of another repository starts over, with a warning"
O=$T/other
init_repo "$O"
"$GFSB" backup -r "$O" -q "$S" >/dev/null
expect 0 "$GFSB" verify -r "$O" --state-dir "$ST"
oid=$(basename "$(dirname "$(ls "$ST"/*/verify-*.json | xargs ls -t | head -1)")")
rid=$(ls "$ST" | grep -v "^$oid$" | head -1)
cp "$ST/$rid"/verify-*.json "$ST/$oid"/verify-*.json
expect 0 "$GFSB" verify -r "$O" --state-dir "$ST" --policy "$T/short.policy"
err_has "belongs to another repository"
[ "$(count)" = 0 ] || { cat "$T/out"; fail "another repository's state raised alarms"; }
echo "PASS"
