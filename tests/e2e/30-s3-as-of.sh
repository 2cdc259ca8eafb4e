#!/bin/bash
# Reading the offsite copy as it was before an attack (--as-of), on a real
# S3 server (Ceph's RADOS Gateway) with a versioned, Object Lock bucket.
# An attacker with the server's own S3 keys forgets all but one snapshot
# and prunes, overwrites the config and every key file with garbage, and
# deletes the index.  The present is then unreadable; as of a moment
# before the attack, snapshots, ls, restore, verify and sync read the
# repository whole, with the operator's original passphrase, byte for
# byte, and write nothing to the bucket; sync brings it back as a fresh
# repository.  Bad --as-of input: one line, the documented status,
# nothing written.
. "$(dirname "$0")/lib.sh"
. "$HERE/lib_s3.sh"
s3_setup

B=gfsb-asof	# Object Lock, so versioned
PB=gfsb-plain	# never versioned
bash "$S3DIR/ceph.sh" mkbucket "$CEPH" "$B" --object-lock >/dev/null
mkbucket "$PB"
R=s3://$B/repo
S=$T/src
s3_owner

# overwrite KEY FILE: a plain PUT of FILE's bytes at KEY (a new version).
overwrite() {
	local code
	code=$(s3_body owner PUT "/$B/$1" "$2")
	[ "$code" = 200 ] || { cat "$T/s3.out"; fail "PUT $1: HTTP $code"; }
}
# versions: every version and delete marker in the bucket, one per line
# (key, version id, size, time; markers marked): what "nothing written"
# is checked against.
versions() {
	local code
	code=$(s3 owner GET "/$B?versions=" -H "x-amz-content-sha256: $EMPTY_SHA256")
	[ "$code" = 200 ] || { cat "$T/s3.out"; fail "versions: HTTP $code"; }
	$PY - "$T/s3.out" <<'PYEOF'
import sys, xml.etree.ElementTree as ET
ns = "{http://s3.amazonaws.com/doc/2006-03-01/}"
root = ET.parse(sys.argv[1]).getroot()
if root.findtext(ns + "IsTruncated") == "true":
    sys.exit("more than one page of versions")
for v in root:
    if v.tag in (ns + "Version", ns + "DeleteMarker"):
        print(v.tag[len(ns):], v.findtext(ns + "Key"),
              v.findtext(ns + "VersionId"), v.findtext(ns + "Size"),
              v.findtext(ns + "LastModified"))
PYEOF
}
# unchanged WHAT: the bucket holds the same versions as in $T/v.before.
unchanged() {
	versions >"$T/v.after"
	diff "$T/v.before" "$T/v.after" >"$T/v.diff" ||
		{ cat "$T/v.diff"; fail "$1 wrote to the bucket"; }
}
# A moment strictly between what came before and what comes after (as-of
# times are whole seconds; S3 stamps versions to the millisecond).
moment() { sleep 1.1; date '+%Y-%m-%d %H:%M:%S'; }

step "a repository on a versioned bucket, four days of backups"
T0=$(date '+%Y-%m-%d %H:%M:%S')
sleep 1.1
init_repo "$R"
make_history "$R" 4
snap_json "$R" | $PY -c '
import json, sys
for s in json.load(sys.stdin):
    print(s["id"], s["time"][8:10])' >"$T/before"
[ "$(wc -l <"$T/before")" = 4 ] || { cat "$T/before"; fail "not 4 snapshots"; }
TA=$(moment)
sleep 1.1

step "the attack, with the server's own keys"
expect 0 "$GFSB" forget -r "$R" --keep-last 1 --prune -q
head -c 300 /dev/urandom >"$T/garbage"
overwrite repo/config "$T/garbage"
"$TESTTOOL" be "$R" list keys >"$T/keys"
[ -s "$T/keys" ] || fail "no key file listed"
while read -r k _; do
	head -c 400 /dev/urandom >"$T/garbage"
	overwrite "repo/keys/$k" "$T/garbage"
done <"$T/keys"
"$TESTTOOL" be "$R" list index >"$T/index"
[ -s "$T/index" ] || fail "no index file listed"
while read -r x _; do
	expect 0 "$TESTTOOL" be "$R" rm index "$x"
done <"$T/index"
versions >"$T/v.before"
rc=0
"$GFSB" snapshots -r "$R" >"$T/out" 2>"$T/err" || rc=$?
[ "$rc" != 0 ] || { cat "$T/out"; fail "the present still reads after the attack"; }
echo "   the present: exit $rc, $(head -1 "$T/err")"
unchanged "snapshots of the present"

step "snapshots --as-of: every snapshot of before the attack"
expect 0 "$GFSB" snapshots -r "$R" --as-of "$TA" --json
$PY -c '
import json, sys
for s in json.load(open(sys.argv[1])):
    print(s["id"], s["time"][8:10])' "$T/out" >"$T/asof"
diff "$T/before" "$T/asof" || fail "snapshots as of $TA differ from before"
expect 0 "$GFSB" snapshots -r "$R" --as-of "$TA"
out_has "4 snapshots"

step "ls and restore --as-of: each snapshot, byte for byte"
while read -r id day; do
	expect 0 "$GFSB" ls -r "$R" --as-of "$TA" "$id"
	out_has "$S/day$day.bin"
	rm -rf "$T/check"
	expect 0 "$GFSB" restore -r "$R" --as-of "$TA" -q "$id" --target "$T/check"
	$PY "$HERE/treecmp.py" "$T/copies/$day" "$T/check$S" >/dev/null ||
		fail "snapshot $id (day $day) restores differently as of $TA"
done <"$T/before"
rm -rf "$T/check"
unchanged "ls and restore"
[ ! -e "$T/cache" ] || [ -z "$(find "$T/cache" -path '*/snapshots/*' -newer "$T/v.before")" ] ||
	fail "the view of the past was cached"

step "verify --as-of --read-data: clean, no lock, no state"
expect 0 "$GFSB" verify -r "$R" --as-of "$TA" --read-data
out_has "checked 1 keys, 4 index files, 4 snapshots"
out_has "no damage found"
grep -q "read (all packs): [1-9][0-9]* packs" "$T/out" || { cat "$T/out"; fail "no pack read"; }
unchanged "verify"
[ ! -e "$T/state-home/gfsbackup" ] || fail "verify --as-of kept state"

step "sync --as-of --to NEW: a fresh repository of before the attack"
expect 0 "$GFSB" sync -r "$R" --as-of "$TA" --to "$T/new"
out_has "created the mirror"
unchanged "sync"
expect 0 "$GFSB" verify -r "$T/new" --read-data
out_has "no damage found"
expect 0 "$GFSB" snapshots -r "$T/new" --json
$PY -c '
import json, sys
for s in json.load(open(sys.argv[1])):
    print(s["id"], s["time"][8:10])' "$T/out" >"$T/new.snaps"
diff "$T/before" "$T/new.snaps" || fail "the new repository's snapshots differ"
while read -r id day; do
	check_restores "$T/new" "$id" "$day" "from the new repository"
done <"$T/before"

step "bad --as-of: one line, the documented status, nothing written"
expect 2 "$GFSB" snapshots -r "$R" --as-of "$(date -d '+1 day' '+%Y-%m-%d %H:%M:%S')"
one_line_error "is in the future"
expect 2 "$GFSB" snapshots -r "$R" --as-of "yesterday"
one_line_error "invalid --as-of yesterday: give 'YYYY-MM-DD HH:MM:SS'"
expect 10 "$GFSB" snapshots -r "$R" --as-of "$T0"
one_line_error "there is no repository at $R as of $T0; its first config version is from "
expect 10 "$GFSB" restore -r "$R" --as-of "$T0" latest --target "$T/none"
one_line_error "there is no repository at $R as of $T0"
[ ! -e "$T/none" ] || fail "a restore of nothing made its target"
expect 2 "$GFSB" snapshots -r "$T/new" --as-of "$TA"
one_line_error "--as-of needs an S3 repository on a versioned bucket ($T/new is a directory)"
expect 2 "$GFSB" snapshots -r "s3://$PB/repo" --as-of "$TA"
one_line_error "--as-of needs a versioned bucket: $PB has never had versioning enabled"
expect 2 "$GFSB" verify -r "$R" --as-of "$TA" --state-dir "$T/st"
one_line_error "--as-of keeps no state: --state-dir does not apply"
for cmd in "backup $S" forget prune init "key list" unlock "repair index" \
	"run --config $T/none.conf"; do
	# shellcheck disable=SC2086 # cmd is a command and its arguments
	expect 2 "$GFSB" $cmd -r "$R" --as-of "$TA"
	one_line_error "--as-of reads a past state: it cannot be used with ${cmd%% *}"
done
unchanged "bad input"
expect 0 "$GFSB" snapshots -r "$T/new"
out_has "4 snapshots"

echo "PASS"
