#!/bin/bash
# The storage primitives of an offsite copy that must outlive an attacker
# who owns the backed-up server, on a real S3 server (Ceph's RADOS
# Gateway): Object Lock (retain-until dates the server enforces), the
# read-only view of a versioned bucket as it stood at a past moment
# ("as of"), and Content-MD5 on every upload.  Driven through
# gfsb_testtool's `be` verbs (the CLI does not offer them yet); every lock
# and date is also read back independently with curl.
. "$(dirname "$0")/lib.sh"
. "$HERE/lib_s3.sh"
s3_setup
proxy_start

LB=gfsb-lock	# Object Lock (and so versioning) enabled
PB=gfsb-plain	# neither
SB=gfsb-susp	# versioning enabled, then suspended
bash "$S3DIR/ceph.sh" mkbucket "$CEPH" "$LB" --object-lock >/dev/null
mkbucket "$PB"
mkbucket "$SB"
L=s3://$LB/repo
BE=("$TESTTOOL" be)
s3_owner

# version_ids KEY: the ids of KEY's versions, newest first (no markers).
version_ids() {
	local code
	code=$(s3 owner GET "/$LB?prefix=$(enc "$1")&versions=" \
		-H "x-amz-content-sha256: $EMPTY_SHA256")
	[ "$code" = 200 ] || { cat "$T/s3.out"; fail "versions of $1: HTTP $code"; }
	$PY - "$T/s3.out" "$1" <<'PYEOF'
import sys, xml.etree.ElementTree as ET
ns = "{http://s3.amazonaws.com/doc/2006-03-01/}"
for v in ET.parse(sys.argv[1]).getroot().iter(ns + "Version"):
    if v.find(ns + "Key").text == sys.argv[2]:
        print(v.find(ns + "VersionId").text)
PYEOF
}
# tick: make sure the next event happens in a later second than the last
# (as-of times are whole seconds; S3 stamps versions to the millisecond).
tick() { sleep 1.1; }

step "lock_enabled and the versioning state, read from the bucket"
[ "$("${BE[@]}" "$L" lock-enabled)" = 1 ] || fail "lock bucket: lock not enabled"
[ "$("${BE[@]}" "s3://$PB/x" lock-enabled)" = 0 ] || fail "plain bucket: lock enabled"
[ "$("${BE[@]}" "$L" versioning)" = 1 ] || fail "lock bucket: not versioned"
[ "$("${BE[@]}" "s3://$PB/x" versioning)" = 0 ] || fail "plain bucket versioned"
for st in Enabled Suspended; do
	printf '<VersioningConfiguration xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Status>%s</Status></VersioningConfiguration>' \
		"$st" >"$T/vers.xml"
	code=$(s3_body owner PUT "/$SB?versioning=" "$T/vers.xml")
	[ "$code" = 200 ] || { cat "$T/s3.out"; fail "PUT ?versioning=$st"; }
done
[ "$("${BE[@]}" "s3://$SB/x" versioning)" = 2 ] || fail "suspended bucket not 2"
expect 0 "$TESTTOOL" be --as-of "$(date +%s)" "s3://$SB/x" list data
expect 0 "${BE[@]}" "$T/localrepo" lock-enabled
[ "$(cat "$T/out")" = 0 ] || fail "a directory has Object Lock"
t_empty=$(date +%s)
tick

step "put_locked: a COMPLIANCE retention a few seconds ahead; HEAD shows it"
head -c 5000 /dev/urandom >"$T/p1"
until=$(($(date +%s) + 10))
N=$("${BE[@]}" "$L" put data "$T/p1" compliance "$until")
K=repo/data/${N:0:2}/$N
[ "$("${BE[@]}" "$L" ret-get data "$N")" = "compliance $until" ] ||
	fail "retention_get: $("${BE[@]}" "$L" ret-get data "$N")"
[ "$(retention "$LB/$K" owner)" = "COMPLIANCE $until" ] ||
	fail "curl's HEAD: $(retention "$LB/$K" owner), want COMPLIANCE $until"
# A lock on a bucket without Object Lock: the server refuses, EINVAL.
expect 1 "${BE[@]}" "s3://$PB/repo" put data "$T/p1" compliance "$until"
err_has "GFSB_EINVAL"
err_has "InvalidRequest"

step "retention_set extends the lock; shortening it is refused"
until=$((until + 3))
expect 0 "${BE[@]}" "$L" ret-set data "$N" compliance "$until"
[ "$(retention "$LB/$K" owner)" = "COMPLIANCE $until" ] ||
	fail "not extended: $(retention "$LB/$K" owner)"
expect 1 "${BE[@]}" "$L" ret-set data "$N" compliance $((until - 5))
err_has "GFSB_EDENIED"
err_has "AccessDenied"
[ "$(retention "$LB/$K" owner)" = "COMPLIANCE $until" ] || fail "shortened anyway"
expect 1 "${BE[@]}" "$L" ret-set data "$N" governance $((until + 60))
err_has "GFSB_EDENIED"

step "the server refuses to delete the locked version (DELETE ?versionId=)"
vid=$(version_ids "$K" | head -1)
[ -n "$vid" ] || fail "no version of $K"
code=$(s3 owner DELETE "/$LB/$K?versionId=$vid" \
	-H "x-amz-content-sha256: $EMPTY_SHA256")
denied "DELETE of the locked version" "$code"

step "a plain remove adds a delete marker; the view as of before still reads it"
tick
t_before_rm=$(date +%s)
tick
expect 0 "${BE[@]}" "$L" rm data "$N"
expect 1 "${BE[@]}" "$L" stat data "$N"
err_has "GFSB_ENOTFOUND"
[ "$(version_ids "$K" | head -1)" = "$vid" ] || fail "the version went"
expect 0 "${BE[@]}" --as-of "$t_before_rm" "$L" list data
grep -q "^$N 5000 [0-9]" "$T/out" || { cat "$T/out"; fail "as-of list lacks $N"; }
"${BE[@]}" --as-of "$t_before_rm" "$L" get data "$N" >"$T/p1.back"
cmp "$T/p1" "$T/p1.back" || fail "the as-of view read other bytes"
[ "$("${BE[@]}" --as-of "$t_before_rm" "$L" stat data "$N")" = 5000 ] ||
	fail "as-of stat"
[ "$("${BE[@]}" --as-of "$t_before_rm" "$L" ret-get data "$N")" = \
	"compliance $until" ] || fail "as-of retention_get"
# One entry per page: the delete marker, then the version (paging with
# key-marker and version-id-marker through one key's entries).
faults '{"rate": 0, "methods": ["GET"], "path": "versions=", "reset_counters": true}'
GFSBACKUP_S3_ENDPOINT=$PROXY GFSBACKUP_S3_LIST_PAGE=1 \
	"${BE[@]}" --as-of "$t_before_rm" "$L" get data "$N" >"$T/p1.back"
cmp "$T/p1" "$T/p1.back" || fail "as-of read, one entry per page"
[ "$(proxy_counter matched)" -ge 2 ] ||
	fail "$(proxy_counter matched) page(s) of versions, not 2 or more"
tick
t_after_rm=$(date +%s)
expect 0 "${BE[@]}" --as-of "$t_after_rm" "$L" list data
[ ! -s "$T/out" ] || { cat "$T/out"; fail "deleted object listed as of after"; }
expect 1 "${BE[@]}" --as-of "$t_after_rm" "$L" get data "$N"
err_has "GFSB_ENOTFOUND"

step "an overwritten config: the view as of before returns the old bytes"
echo "config, first version" >"$T/c1"
echo "config, second version, longer" >"$T/c2"
expect 0 "${BE[@]}" "$L" put config "$T/c1"
tick
t_c1=$(date +%s)
tick
expect 0 "${BE[@]}" "$L" put config "$T/c2"
"${BE[@]}" "$L" get config config >"$T/c.now"
cmp "$T/c2" "$T/c.now" || fail "now: not the second config"
"${BE[@]}" --as-of "$t_c1" "$L" get config config >"$T/c.then"
cmp "$T/c1" "$T/c.then" || fail "as of: not the first config"
GFSBACKUP_S3_LIST_PAGE=1 "${BE[@]}" --as-of "$t_c1" "$L" get config config \
	>"$T/c.then"
cmp "$T/c1" "$T/c.then" || fail "as of, one entry per page: not the first config"
[ "$("${BE[@]}" --as-of "$t_c1" "$L" list config)" = "config $(stat -c %s "$T/c1")" ] ||
	fail "as-of list of the config"
# A repository's writes cannot go through the view.
expect 1 "${BE[@]}" --as-of "$t_c1" "$L" put config "$T/c2"
err_has "GFSB_EDENIED"
err_has "read-only view of $LB/repo as of"
expect 1 "${BE[@]}" --as-of "$t_c1" "$L" rm config config
err_has "GFSB_EDENIED"
expect 1 "${BE[@]}" --as-of "$t_c1" "$L" ret-set config config compliance $((until + 60))
err_has "GFSB_EDENIED"
"${BE[@]}" --as-of "$t_c1" "$L" get config config >"$T/c.then"
cmp "$T/c1" "$T/c.then" || fail "the view changed"

step "as of before anything existed: nothing"
for ty in data config; do
	expect 0 "${BE[@]}" --as-of "$t_empty" "$L" list "$ty"
	[ ! -s "$T/out" ] || { cat "$T/out"; fail "$ty listed before it existed"; }
done
expect 1 "${BE[@]}" --as-of "$t_empty" "$L" get config config
err_has "GFSB_ENOTFOUND"

step "--as-of needs a versioned S3 bucket"
expect 1 "${BE[@]}" --as-of "$t_c1" "s3://$PB/repo" list data
err_has "GFSB_EINVAL"
err_has "--as-of needs a versioned bucket: $PB has never had versioning enabled"
expect 1 "${BE[@]}" --as-of "$t_c1" "$T/localrepo" list data
err_has "--as-of needs an S3 repository on a versioned bucket"

step "once the retention has passed, the version can be deleted"
while [ "$(date +%s)" -le "$until" ]; do sleep 0.5; done
code=$(s3 owner DELETE "/$LB/$K?versionId=$vid" \
	-H "x-amz-content-sha256: $EMPTY_SHA256")
[ "$code" = 204 ] || { cat "$T/s3.out"; fail "expired lock: HTTP $code"; }
[ -z "$(version_ids "$K")" ] || fail "the version is still there"

step "Content-MD5 on every upload: backup and sync through the proxy"
faults '{"rate": 0, "methods": ["POST"], "path": "uploads=", "reset_counters": true}'
S=$T/src
mkdir -p "$S"
head -c 12000000 /dev/urandom >"$S/big.bin"
for i in $(seq 1 20); do echo "file $i $RANDOM" >"$S/f$i.txt"; done
export GFSBACKUP_S3_MULTIPART_MIB=5 GFSBACKUP_S3_PART_MIB=5
expect 0 "$GFSB" init -r "s3://$PB/bk" --s3-endpoint "$PROXY" \
	--kdf-memory 8M --kdf-iterations 1 -q
expect 0 "$GFSB" backup -r "s3://$PB/bk" --s3-endpoint "$PROXY" -q "$S"
init_repo "$T/local"
expect 0 "$GFSB" backup -r "$T/local" -q "$S"
expect 0 "$GFSB" sync -r "$T/local" --to "s3://$LB/mirror" --s3-endpoint "$PROXY"
unset GFSBACKUP_S3_MULTIPART_MIB GFSBACKUP_S3_PART_MIB
[ "$(proxy_counter matched)" -ge 2 ] ||
	fail "no multipart uploads ($(proxy_counter matched))"
checked=$(proxy_counter md5_checked)
[ "$checked" -ge 20 ] || fail "only $checked bodies went through the proxy"
[ "$(proxy_counter md5_missing)" = 0 ] && [ "$(proxy_counter md5_wrong)" = 0 ] ||
	fail "Content-MD5 missing or wrong: $(proxy_counter md5_failures)"
echo "   $checked bodies (PUTs, parts, completions), every Content-MD5 right"
expect 0 "$GFSB" verify -r "s3://$LB/mirror" --read-data

step "a body damaged on the way is refused by the server and sent again"
head -c 3000 /dev/urandom >"$T/p2"
head -c 11000000 /dev/urandom >"$T/p3"
faults '{"every": 1, "kinds": ["corrupt"], "methods": ["PUT"], "max_faults": 1, "reset_counters": true}'
N2=$(GFSBACKUP_S3_ENDPOINT=$PROXY "${BE[@]}" "s3://$PB/dmg" put data "$T/p2")
faults '{"every": 2, "kinds": ["corrupt"], "methods": ["PUT"], "path": "partNumber=", "max_faults": 1}'
N3=$(GFSBACKUP_S3_ENDPOINT=$PROXY GFSBACKUP_S3_MULTIPART_MIB=5 \
	GFSBACKUP_S3_PART_MIB=5 "${BE[@]}" "s3://$PB/dmg" put data "$T/p3")
[ "$(proxy_counter corrupt_refused)" = 2 ] && [ "$(proxy_counter corrupt_accepted)" = 0 ] ||
	fail "damaged bodies: $(proxy_counter corrupt_refused) refused, $(proxy_counter corrupt_accepted) accepted"
proxy_counter corrupt_codes | grep -q "XAmzContentSHA256Mismatch\|BadDigest" ||
	fail "refused with $(proxy_counter corrupt_codes)"
"${BE[@]}" "s3://$PB/dmg" get data "$N2" | cmp - "$T/p2" || fail "p2 differs"
"${BE[@]}" "s3://$PB/dmg" get data "$N3" | cmp - "$T/p3" || fail "p3 differs"
# Ceph checks the signed SHA-256 first (XAmzContentSHA256Mismatch); that
# it checks Content-MD5 on its own shows with an unsigned payload: bytes
# that do not match their MD5 get BadDigest, matching ones are stored.
printf 'original bytes' >"$T/orig"
printf 'damaged  bytes' >"$T/dmg"
for f in dmg orig; do
	s3 owner PUT "/$PB/md5-$f" --data-binary @"$T/$f" \
		-H "x-amz-content-sha256: UNSIGNED-PAYLOAD" \
		-H "Content-MD5: $(openssl md5 -binary "$T/orig" | base64)" \
		>"$T/code.$f"
	cp "$T/s3.out" "$T/md5.$f"
done
[ "$(cat "$T/code.dmg")" = 400 ] && grep -q BadDigest "$T/md5.dmg" ||
	{ cat "$T/md5.dmg"; fail "a body not matching its Content-MD5 was stored"; }
[ "$(cat "$T/code.orig")" = 200 ] || { cat "$T/md5.orig"; fail "a matching body was refused"; }

echo "PASS"
