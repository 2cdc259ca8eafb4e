#!/bin/bash
# The offsite copy survives the server it backs up (issue: "the offsite
# copy must survive a full compromise of the server").  On Ceph's RADOS
# Gateway the bucket's owner makes an Object Lock bucket with a lifecycle
# rule and the policy `gfsbackup policy bucket` prints for the server's
# user and a read-only verifier.  A week of nights (`run --time`, across a
# year end) syncs to it in compliance mode, and an independent verifier
# with its own state checks it every morning.  The locks follow the GFS
# policy: a pack the yearly snapshot uses is locked beyond the yearly's
# expiry, one only a daily uses until the daily horizon plus the margin.
# Then an attacker with exactly the server's keys and files changes the
# passphrase and syncs, forgets all but one snapshot, prunes and syncs,
# deletes snapshots and then every object it can list, overwrites the
# config and the key files, and tries to delete versions, shorten a lock,
# suspend versioning and replace the policy: every destructive request is
# refused, the verifier's report names each change (the new key, the
# snapshots gone), and `--as-of` the moment before the attack restores
# every snapshot byte for byte with the original passphrase, and brings
# the whole history back into a new repository.  A lock of seconds shows
# a deletion waiting on its lock, then done once it has passed.
. "$(dirname "$0")/lib.sh"
. "$HERE/lib_s3.sh"
s3_setup
s3_users
B=gfsb-attack
P=web1
URL=s3://$B/$P
s3_protect "$B" "$P"
STD=$HERE/../../schedules/standard.policy

S=$T/src
L=$T/local
mkdir -p "$S" "$T/copies"
init_repo "$L"
head -c 1500000 /dev/urandom >"$S/base.bin"
cat >"$T/gfsbackup.conf" <<EOF
[repository]
url = $L
password-file = $T/pw
state-dir = $T/state
[offsite]
url = $URL
object-lock = compliance
lock-margin = 2d
[backup]
paths = $S
[retention]
policy = $STD
prune = daily
[verify]
read-data-subset = rotate/7
[report]
dir = $T/reports
EOF
chmod 600 "$T/gfsbackup.conf"

# verifier DATE: the independent verifier's morning check, its own state.
verifier() {
	as verifier expect "$2" "$GFSB" verify -r "$URL" --no-lock \
		--object-lock compliance --policy "$STD" \
		--state-dir "$T/verifier" --time "$1 07:00:00" \
		--report "$T/verifier-reports"
}

step "a week of nights across a year end, locked, checked by the verifier"
packs_of() { find "$L/data" -type f -printf '%f\n' | sort; }
for d in 2027-12-27 2027-12-28 2027-12-29 2027-12-30 2027-12-31 2028-01-01 2028-01-02; do
	day=$(date -d "$d" +%d)
	head -c 300000 /dev/urandom >"$S/night-$day.bin"
	rm -f "$S/night-$(date -d "$d -2 days" +%d).bin"
	# A file that lives one night only: a pack only a daily uses.
	[ "$d" = 2028-01-01 ] && head -c 1200000 /dev/urandom >"$S/tmp.bin"
	[ "$d" = 2028-01-02 ] && rm -f "$S/tmp.bin"
	packs_of >"$T/packs.before"
	as server expect 0 "$GFSB" run --config "$T/gfsbackup.conf" \
		--time "$d 01:30:00"
	cp "$T/err" "$T/run.err"
	packs_of | comm -13 "$T/packs.before" - >"$T/packs.$d"
	cp -a "$S" "$T/copies/$day"
	verifier "$d" 0
done
grep -q "offsite Object Lock (compliance)" "$T/run.err" ||
	{ cat "$T/run.err"; fail "run does not report the offsite locks"; }

step "locks follow the roles: the yearly's packs, a daily's pack"
# The yearly of 2027 is Dec 31's snapshot: 7 yearly kept, so it may go
# when 2034 begins; plus the 2-day margin.  base.bin is in it, stored on
# the first night in the largest pack (the others hold that night's trees).
yearly=$(date -u -d '2034-01-03 00:00:00' +%s)
p=$(cd "$L/data" && ls -S $(sed 's,^\(..\),\1/\1,' "$T/packs.2027-12-27") |
	head -1 | xargs basename)
read -r mode until < <(retention "$B/$P/data/${p:0:2}/$p")
[ "$mode" = COMPLIANCE ] || fail "pack $p: mode $mode"
[ "$until" -ge "$yearly" ] ||
	fail "pack $p of the yearly locked until $(date -u -d @"$until"), not past $(date -u -d @"$yearly")"
# tmp.bin, in Jan 1's snapshot only, which is only a daily (Jan 2 is the
# newest of its week, month and year): 7 days from Jan 1, plus 2.
daily=$(date -u -d '2028-01-10 00:00:00' +%s)
lowest=
for p in $(cat "$T/packs.2028-01-01"); do
	read -r mode until < <(retention "$B/$P/data/${p:0:2}/$p")
	[ -z "$lowest" ] || [ "$until" -lt "$lowest" ] && lowest=$until
done
[ "$lowest" = "$daily" ] ||
	fail "the daily-only pack is locked until $(date -u -d @"$lowest"), not $(date -u -d @"$daily")"
echo "   yearly's packs locked past $(date -u -d @"$yearly" +%F); the daily's until $(date -u -d @"$daily" +%F)"

# The moment before the attack (as-of times are whole seconds).
sleep 1.1
before=$(date '+%Y-%m-%d %H:%M:%S')
sleep 1.1

step "attack 1: the passphrase changed at the server, then synced"
printf 'attacker passphrase' >"$T/evil"
chmod 600 "$T/evil"
as server expect 0 "$GFSB" key passwd -r "$L" --new-password-file "$T/evil"
as server expect 0 "$GFSB" sync -r "$L" --to "$URL" --password-file "$T/evil"
out_has "1 key file only at the mirror (kept)"
# The operator's passphrase still opens the offsite copy.
as verifier expect 0 "$GFSB" snapshots -r "$URL"
verifier 2028-01-02 1
out_has "was added since the verification"
out_has "key set changed"

step "attack 2: forget all but one, prune, sync: the mirror keeps them, locked"
as server expect 0 "$GFSB" forget -r "$L" --keep-last 1 --prune \
	--password-file "$T/evil"
as server expect 0 "$GFSB" sync -r "$L" --to "$URL" --password-file "$T/evil"
grep -q "deleted 0," "$T/out" || { cat "$T/out"; fail "sync deleted"; }
out_has "wait on their locks"
as verifier expect 0 "$GFSB" snapshots -r "$URL" --json
n=$($PY -c 'import json,sys; print(len(json.load(open(sys.argv[1]))))' "$T/out")
[ "$n" = 7 ] || fail "the mirror lists $n snapshots, not 7"

step "attack 3: the snapshots deleted with the server's keys"
as server "$TESTTOOL" be "$URL" list snapshots | awk '{print $1}' >"$T/snaps"
[ "$(wc -l <"$T/snaps")" = 7 ] || fail "test setup: snapshots listed"
while read -r id; do
	as server expect 0 "$TESTTOOL" be "$URL" rm snapshots "$id"
done <"$T/snaps"
verifier 2028-01-03 1
out_has "7 snapshots gone since the verification"
[ "$(grep -c "is gone; the policy keeps it" "$T/out")" -ge 6 ] ||
	{ cat "$T/out"; fail "the verifier does not name the snapshots gone"; }
report=$(ls -t "$T/verifier-reports"/*.txt | head -1)
grep -q "FAILED" "$report" && grep -q "is gone; the policy keeps it" "$report" ||
	{ cat "$report"; fail "the verifier's report does not say it"; }

step "attack 4: every object deleted, config and key files overwritten"
for type in data index; do
	as server "$TESTTOOL" be "$URL" list "$type" | awk '{print $1}' >"$T/names"
	while read -r id; do
		as server expect 0 "$TESTTOOL" be "$URL" rm "$type" "$id"
	done <"$T/names"
done
head -c 300 /dev/urandom >"$T/junk"
as server "$TESTTOOL" be "$URL" list keys | awk '{print $1}' >"$T/names"
for k in config $(sed 's,^,keys/,' "$T/names"); do
	code=$(s3_body server PUT "/$B/$P/$k" "$T/junk")
	[ "$code" = 200 ] || fail "the attacker could not overwrite $k: $code"
done
as verifier expect 0 "$TESTTOOL" be "$URL" list data
[ ! -s "$T/out" ] || fail "packs left"
verifier 2028-01-03 1
err_has "key file"

step "attack 5: what the policy and the locks forbid is refused"
# A version of a pack, from the verifier's listing of versions.
code=$(s3 verifier GET "/$B?prefix=$(enc "$P/data/")&versions=" \
	-H "x-amz-content-sha256: $EMPTY_SHA256")
[ "$code" = 200 ] || fail "list versions: $code"
read -r key vid < <($PY - "$T/s3.out" <<'PYEOF'
import sys, xml.etree.ElementTree as ET
ns = "{http://s3.amazonaws.com/doc/2006-03-01/}"
for e in ET.parse(sys.argv[1]).getroot():
    if e.tag == ns + "Version":
        print(e.find(ns + "Key").text, e.find(ns + "VersionId").text)
        break
PYEOF
)
[ -n "$vid" ] || fail "no version of a pack listed"
code=$(s3 server DELETE "/$B/$key?versionId=$(enc "$vid")" \
	-H "x-amz-content-sha256: $EMPTY_SHA256")
denied "deleting a version" "$code"
printf '<Retention xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Mode>COMPLIANCE</Mode><RetainUntilDate>%s</RetainUntilDate></Retention>' \
	"$(date -u -d '+1 day' +%Y-%m-%dT%H:%M:%SZ)" >"$T/shorten.xml"
code=$(s3_body server PUT "/$B/$key?retention=&versionId=$(enc "$vid")" \
	"$T/shorten.xml")
[ "$code" = 403 ] || [ "$code" = 400 ] ||
	{ cat "$T/s3.out"; fail "shortening a compliance lock: HTTP $code"; }
echo "   refused: shortening a lock (HTTP $code)"
printf '<VersioningConfiguration xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Status>Suspended</Status></VersioningConfiguration>' >"$T/suspend.xml"
code=$(s3_body server PUT "/$B?versioning=" "$T/suspend.xml")
denied "suspending versioning" "$code"
printf '{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":["%s"]},"Action":["s3:*"],"Resource":["arn:aws:s3:::%s/*"]}]}' \
	"$SARN" "$B" >"$T/evil-policy.json"
code=$(s3_body server PUT "/$B?policy=" "$T/evil-policy.json")
denied "replacing the bucket policy" "$code"

step "recovery: the history as it stood before the attack, original passphrase"
as verifier expect 0 "$GFSB" snapshots -r "$URL" --as-of "$before" --json
$PY -c '
import json, sys
for s in json.load(open(sys.argv[1])):
    print(s["id"], s["time"][8:10])' "$T/out" >"$T/kept"
[ "$(wc -l <"$T/kept")" = 7 ] || { cat "$T/out"; fail "not 7 snapshots as of before"; }
while read -r id day; do
	rm -rf "$T/check"
	as verifier expect 0 "$GFSB" restore -r "$URL" --as-of "$before" -q \
		"$id" --target "$T/check"
	$PY "$HERE/treecmp.py" "$T/copies/$day" "$T/check$S" >/dev/null ||
		fail "snapshot $id (day $day) restores differently as of before"
done <"$T/kept"
as verifier expect 0 "$GFSB" sync -r "$URL" --as-of "$before" \
	--to "$T/recovered"
expect 0 "$GFSB" verify -r "$T/recovered" --read-data --no-state
expect 0 "$GFSB" snapshots -r "$T/recovered" --json
[ "$($PY -c 'import json,sys; print(len(json.load(open(sys.argv[1]))))' "$T/out")" = 7 ] ||
	fail "the recovered repository does not hold 7 snapshots"

step "a lock of seconds: a deletion waits on it, then is done"
printf 'keep-last = 1\n' >"$T/last1.policy"
L2=$T/short
M2=$URL/short
init_repo "$L2"
mkdir -p "$T/s2"
head -c 200000 /dev/urandom >"$T/s2/a.bin"
"$GFSB" backup -r "$L2" -q "$T/s2" >/dev/null
shortsync() {
	as server expect 0 "$GFSB" sync -r "$L2" --to "$M2" --object-lock \
		compliance --policy "$T/last1.policy" --lock-margin 6s \
		--state-dir "$T/state2"
}
shortsync
rm -f "$T/s2/a.bin"
head -c 200000 /dev/urandom >"$T/s2/b.bin"
"$GFSB" backup -r "$L2" -q "$T/s2" >/dev/null
expect 0 "$GFSB" forget -r "$L2" --keep-last 1 --prune
shortsync
grep -q "deleted 0," "$T/out" || { cat "$T/out"; fail "deleted under a lock"; }
out_has "wait on their locks"
as verifier "$TESTTOOL" be "$M2" list snapshots | wc -l >"$T/n"
[ "$(cat "$T/n")" = 2 ] || fail "the forgotten snapshot is not kept under its lock"
sleep 7
shortsync
grep -q "deleted [1-9]" "$T/out" || { cat "$T/out"; fail "nothing deleted once the lock passed"; }
as verifier "$TESTTOOL" be "$M2" list snapshots | wc -l >"$T/n"
[ "$(cat "$T/n")" = 1 ] || fail "the forgotten snapshot outlived its lock"
cmp -s <(find "$L2/data" -type f -printf '%f\n' | sort) \
	<(as verifier "$TESTTOOL" be "$M2" list data | awk '{print $1}' | sort) ||
	fail "the mirror's packs are not the source's once the locks passed"

step "a repository on S3 locked itself: its own nightly locks stage"
R3=$URL/primary
as server expect 0 "$GFSB" init -r "$R3" --object-lock compliance \
	--kdf-memory 8M --kdf-iterations 1
out_has "locked in compliance"
printf '[repository]\nurl = %s\npassword-file = %s\nstate-dir = %s\n[backup]\npaths = %s\n[retention]\npolicy = %s\n' \
	"$R3" "$T/pw" "$T/state3" "$T/s2" "$STD" >"$T/primary.conf"
chmod 600 "$T/primary.conf"
as server expect 0 "$GFSB" run --config "$T/primary.conf" \
	--time "2028-02-01 01:30:00"
err_has "locks: OK"
snap=$(as verifier "$TESTTOOL" be "$R3" list snapshots | awk '{print $1}')
read -r mode until < <(retention "$B/$P/primary/snapshots/$snap")
# A son of Feb 1 2028, the newest of its week, month and year: locked
# as a son, 7 days from Feb 1, plus 2.
[ "$mode" = COMPLIANCE ] &&
	[ "$until" -ge "$(date -u -d '2028-02-10 00:00:00' +%s)" ] ||
	fail "the snapshot is locked $mode until $(date -u -d @"$until")"
# prune and forget there delete nothing a lock holds.
as server expect 0 "$GFSB" backup -r "$R3" -q "$T/s2"
as server expect 0 "$GFSB" forget -r "$R3" --keep-last 1 --prune
out_has "wait on their Object Lock"
as verifier "$TESTTOOL" be "$R3" list snapshots | wc -l >"$T/n"
[ "$(cat "$T/n")" = 2 ] || fail "forget deleted a locked snapshot"

step "bad input: one line, nothing written"
mkbucket gfsb-plain
expect 1 "$GFSB" init -r s3://gfsb-plain/x --object-lock compliance \
	--kdf-memory 8M --kdf-iterations 1
one_line_error "does not have Object Lock enabled"
[ -z "$("${RCLONE[@]}" lsf -R ceph:gfsb-plain 2>/dev/null)" ] ||
	fail "init wrote to a bucket without Object Lock"
expect 2 "$GFSB" init -r s3://gfsb-plain/x --object-lock sometimes
one_line_error "--object-lock"
as server expect 1 "$GFSB" sync -r "$L2" --to "$M2" --object-lock governance
one_line_error "locked in compliance, not governance"
expect 1 "$GFSB" sync -r "$L2" --to s3://gfsb-plain/m --object-lock compliance
one_line_error "does not have Object Lock enabled"
echo "PASS"
