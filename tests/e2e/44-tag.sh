#!/bin/bash
# tag, as an operator uses it: put a legal hold on one snapshot so that a
# policy with keep-tag keeps it, see it in snapshots --tag, take it away;
# bad input (no change asked, --set with --add, a bad tag, a name that
# matches nothing) changes nothing; and the nightly verification's
# history takes a retagged snapshot for neither a deletion nor a
# snapshot made to look old, but says when tags were taken away.
. "$(dirname "$0")/lib.sh"

R=$T/repo
S=$T/src
mkdir -p "$S"
init_repo "$R"
for n in 1 2 3; do
	printf 'night %s\n' "$n" >"$S/file$n"
	"$GFSB" backup -q -r "$R" --tag nightly --time "2026-03-0$n 01:00:00" "$S"
done
ids() { "$GFSB" snapshots -r "$R" --json | "$PY" -c '
import json, sys
for s in json.load(sys.stdin):
    print(s["id"], ",".join(s.get("tags", [])), s.get("original", "-"))'; }
ids >"$T/before"
FIRST=$(head -1 "$T/before" | cut -d' ' -f1)

step "bad input changes nothing"
expect 2 "$GFSB" tag -r "$R" "$FIRST"
one_line_error "nothing to do: give --add, --remove or --set"
expect 2 "$GFSB" tag -r "$R" --set a --add b "$FIRST"
one_line_error "give --set, or --add and --remove: not both"
expect 2 "$GFSB" tag -r "$R" --add 'a,b' "$FIRST"
one_line_error 'invalid tag "a,b"'
expect 1 "$GFSB" tag -r "$R" --add hold "$FIRST" ffffffff
err_has "ffffffff"
ids >"$T/now"
cmp -s "$T/before" "$T/now" || fail "a refused tag changed the snapshots"

step "a legal hold: the snapshot is rewritten, and keep-tag keeps it"
expect 0 "$GFSB" tag -r "$R" --add legal-hold "${FIRST:0:8}"
out_has "snapshot ${FIRST:0:8} is now "
out_has "nightly,legal-hold (was: nightly)"
ids >"$T/now"
grep -q " nightly,legal-hold $FIRST\$" "$T/now" ||
	{ cat "$T/now"; fail "no rewritten snapshot naming the original"; }
grep -q "^$FIRST " "$T/now" && fail "the original is still there"
HELD=$(grep " nightly,legal-hold " "$T/now" | cut -d' ' -f1)
expect 0 "$GFSB" snapshots -r "$R" --tag legal-hold
out_has "${HELD:0:8}"
expect 0 "$GFSB" forget -r "$R" --keep-last 1 --keep-tag legal-hold --dry-run
out_has "${HELD:0:8}"
grep "${HELD:0:8}" "$T/out" | grep -q keep || { cat "$T/out"; fail "the held snapshot is not kept"; }

step "--dry-run and a tag already there change nothing"
ids >"$T/before"
expect 0 "$GFSB" tag -r "$R" --set '' --dry-run
out_has "would change the tags of 3 snapshots"
expect 0 "$GFSB" tag -r "$R" --add nightly
out_has "changed the tags of 0 snapshots, 3 already as asked"
ids >"$T/now"
cmp -s "$T/before" "$T/now" || fail "a dry run or a no-op changed the snapshots"

step "the verification's history: retagged is not gone, but a hold taken away is said"
printf 'keep-last = 5\n' >"$T/p.policy"
expect 0 "$GFSB" verify -r "$R" --policy "$T/p.policy" --state-dir "$T/state"
expect 0 "$GFSB" tag -r "$R" --remove legal-hold "${HELD:0:8}"
expect 0 "$GFSB" verify -r "$R" --policy "$T/p.policy" --state-dir "$T/state"
err_has "was retagged as"
err_has "tags removed: legal-hold"
grep -q "gone\|made to look old" "$T/out" "$T/err" &&
	{ cat "$T/out" "$T/err"; fail "a retag was taken for tampering"; }
echo ok
