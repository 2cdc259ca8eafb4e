#!/bin/bash
# The offsite bucket's own defences on a real S3 server (Ceph's RADOS
# Gateway): its owner creates an Object Lock bucket, a lifecycle rule and
# the policy `gfsbackup policy bucket` prints for a limited server user and
# a read-only verifier (docs/OFFSITE-SECURITY.md).  With the SERVER's keys
# everything gfsbackup does works (init, backup, restore, verify, forget
# and prune, sync, lock extensions), and every request that could shorten
# or remove history is refused with 403 AccessDenied, also when another
# grant would allow it; a plain DELETE only adds a delete marker.  With
# the VERIFIER's keys, reads and `verify --no-lock` work and every write is
# refused.  Each refused request is also checked to have changed nothing.
# And the lifecycle rule expires replaced versions, but not locked ones.
. "$(dirname "$0")/lib.sh"
. "$HERE/lib_s3.sh"
# The lifecycle worker, with a "day" of 10 s (tests/s3/README.md).
export GFSB_CEPH_LC=1
s3_setup

B=gfsb-offsite
P=web1
URL=s3://$B/$P
EMPTY=$EMPTY_SHA256

s3_users
# versions KEY: "Version ID" and "DeleteMarker ID" lines of KEY, newest
# first, as the owner lists them.
versions() {
	[ "$(s3 owner GET "/$B?prefix=$(enc "$1")&versions=" \
		-H "x-amz-content-sha256: $EMPTY")" = 200 ] ||
		{ cat "$T/s3.out"; fail "owner: list versions of $1"; }
	$PY - "$T/s3.out" "$1" <<'PYEOF'
import sys, xml.etree.ElementTree as ET
ns = "{http://s3.amazonaws.com/doc/2006-03-01/}"
for e in ET.parse(sys.argv[1]).getroot():
    t = e.tag.replace(ns, "")
    if t in ("Version", "DeleteMarker") and e.find(ns + "Key").text == sys.argv[2]:
        print(t, e.find(ns + "VersionId").text)
PYEOF
}
# owner_get SUB: the owner's GET /BUCKET?SUB=, saved in $T/SUB.now.
owner_get() {
	[ "$(s3 owner GET "/$B?$1=" -H "x-amz-content-sha256: $EMPTY")" = 200 ] ||
		{ cat "$T/s3.out"; fail "owner: GET ?$1="; }
	cp "$T/s3.out" "$T/$1.now"
}
step "the lifecycle rule, with a 10 s day: versions to expire, under a lock or not"
# Set up first: the worker takes its time, and the rest runs meanwhile.
LB=gfsb-lc
bash "$S3DIR/ceph.sh" mkbucket "$CEPH" "$LB" --object-lock >/dev/null
"$GFSB" policy bucket "s3://$LB/p" --server "$SARN" --noncurrent-days 1 \
	2>&1 >/dev/null | sed -n "/^cat >lifecycle.json <<'EOF'\$/,/^EOF\$/p" |
	sed '1d;$d' >"$T/lc1.json"
bash "$S3DIR/ceph.sh" setlifecycle "$CEPH" "$LB" "$T/lc1.json" >/dev/null
echo v1 >"$T/v1"
echo v2 >"$T/v2"
lc_until=$(date -u -d '+15 min' +%Y-%m-%dT%H:%M:%SZ)
for k in p/locked p/plain q/plain; do
	lock=()
	[ "$k" = p/locked ] && lock=(-H "x-amz-object-lock-mode: COMPLIANCE"
		-H "x-amz-object-lock-retain-until-date: $lc_until")
	for v in v1 v2; do
		code=$(s3_body owner PUT "/$LB/$k" "$T/$v" "${lock[@]}")
		[ "$code" = 200 ] || { cat "$T/s3.out"; fail "PUT $k: $code"; }
	done
done
lc_start=$(date +%s)

step "policy bucket: bad input is one line on stderr, exit 2, nothing on stdout"
bad() {
	local msg=$1
	shift
	expect 2 "$GFSB" policy bucket "$@"
	one_line_error "$msg"
	[ ! -s "$T/out" ] || { cat "$T/out"; fail "output on bad input: $*"; }
}
bad "is not an S3 URL" /srv/backup --server "$SARN"
bad "is not an S3 URL" "https://$B/$P" --server "$SARN"
bad "malformed S3 URL" "s3://B/$P" --server "$SARN"
bad "no server principal" "$URL"
bad "is not the ARN of an IAM user or role" "$URL" --server server
bad "is not the ARN of an IAM user or role" "$URL" --server arn:aws:s3:::server
bad "is not the ARN of an IAM user or role" "$URL" --server arn:aws:iam::123456789012:root
bad "is not the ARN of an IAM user or role" "$URL" --server 'arn:aws:iam::123456789012:user/*'
bad "is not the ARN of an IAM user or role" "$URL" --server "$SARN" --verifier 'arn:aws:iam:::group/ops'
bad "the verifier must not be the server" "$URL" --server "$SARN" --verifier "$SARN"
bad "wildcards" "s3://$B/web*" --server "$SARN"
bad "invalid --noncurrent-days 0" "$URL" --server "$SARN" --noncurrent-days 0
bad "--days is for policy show" "$URL" --server "$SARN" --days 3
expect 2 "$GFSB" policy bucket "$URL" "s3://$B/other" --server "$SARN"
one_line_error "use: policy bucket"
printf 'keep-daily = 7\n' >"$T/gfs.policy"
expect 2 "$GFSB" policy show "$T/gfs.policy" --server "$SARN"
one_line_error "--server is for policy bucket"
expect 0 "$GFSB" policy show "$T/gfs.policy"

step "the policy: valid JSON naming the bucket and prefix, alone on stdout"
expect 0 "$GFSB" policy bucket "$URL" --server "$SARN" --verifier "$VARN" \
	--noncurrent-days 45
cp "$T/out" "$T/policy.json"
cp "$T/err" "$T/guide.sh"
$PY - "$T/policy.json" "$B" "$P" "$SARN" "$VARN" <<'PYEOF' || fail "the policy"
import json, sys
path, b, p, srv, ver = sys.argv[1:]
pol = json.loads(open(path).read())       # the whole of stdout parses
assert pol["Version"] == "2012-10-17", pol["Version"]
allow, deny = {}, {}
for st in pol["Statement"]:
    who = st["Principal"]["AWS"]
    for w in who:
        assert w in (srv, ver), w
        d = allow if st["Effect"] == "Allow" else deny
        for a in st["Action"]:
            d.setdefault(w, {}).setdefault(a, []).append(st)
    for r in st["Resource"]:
        assert r in ("arn:aws:s3:::%s" % b, "arn:aws:s3:::%s/*" % b,
                     "arn:aws:s3:::%s/%s/*" % (b, p)), r
    if st["Effect"] == "Allow" and any(a.startswith("s3:List") and
                                       a != "s3:ListBucketMultipartUploads"
                                       for a in st["Action"]):
        assert st["Condition"] == {"StringLikeIfExists": {"s3:prefix": [p + "/*"]}}, st
    if st["Effect"] == "Allow" and st["Resource"] != ["arn:aws:s3:::" + b]:
        assert st["Resource"] == ["arn:aws:s3:::%s/%s/*" % (b, p)], st
history = {"s3:DeleteObjectVersion", "s3:PutBucketVersioning",
           "s3:PutLifecycleConfiguration", "s3:PutBucketPolicy",
           "s3:DeleteBucketPolicy", "s3:PutBucketObjectLockConfiguration",
           "s3:BypassGovernanceRetention", "s3:PutObjectLegalHold",
           "s3:PutBucketAcl", "s3:PutObjectAcl", "s3:DeleteBucket"}
for w in (srv, ver):
    assert history <= set(deny[w]), (w, history - set(deny[w]))
    assert not history & set(allow[w]), (w, history & set(allow[w]))
need = {"s3:GetObject", "s3:GetObjectVersion", "s3:GetObjectRetention",
        "s3:ListBucket", "s3:ListBucketVersions",
        "s3:GetBucketObjectLockConfiguration", "s3:GetBucketVersioning"}
assert need | {"s3:PutObject", "s3:DeleteObject", "s3:PutObjectRetention",
               "s3:AbortMultipartUpload", "s3:ListBucketMultipartUploads"} == set(allow[srv]), sorted(allow[srv])
assert need == set(allow[ver]), sorted(allow[ver])
for a in ("s3:PutObject", "s3:DeleteObject", "s3:PutObjectRetention"):
    assert a in deny[ver], a
PYEOF
# The guide, on stderr: a shell script with the lifecycle rule and the
# owner's commands for both servers.
grep -q "^aws s3api put-bucket-policy --bucket $B --policy file://policy.json$" "$T/guide.sh" ||
	fail "no put-bucket-policy in the guide"
grep -q "^aws s3api create-bucket --bucket $B --object-lock-enabled-for-bucket$" "$T/guide.sh" ||
	fail "no create-bucket in the guide"
grep -q "^radosgw-admin user create --uid=verifier " "$T/guide.sh" ||
	fail "no radosgw-admin in the guide"
bash -n "$T/guide.sh" || fail "the guide is not a shell script"
sed -n "/^cat >lifecycle.json <<'EOF'\$/,/^EOF\$/p" "$T/guide.sh" | sed '1d;$d' \
	>"$T/lifecycle.json"
$PY - "$T/lifecycle.json" "$P" <<'PYEOF' || fail "the lifecycle rule"
import json, sys
r = json.load(open(sys.argv[1]))["Rules"]
assert len(r) == 1 and r[0]["Filter"] == {"Prefix": sys.argv[2] + "/"}, r
assert r[0]["NoncurrentVersionExpiration"] == {"NoncurrentDays": 45}, r
assert "NewerNoncurrentVersions" not in r[0]["NoncurrentVersionExpiration"]
PYEOF
# Same options, same bytes; --json-only: the policy and nothing else.
"$GFSB" policy bucket "$URL" --verifier "$VARN" --noncurrent-days 45 \
	--server "$SARN" --json-only >"$T/again.json" 2>"$T/again.err"
cmp "$T/policy.json" "$T/again.json" || fail "a second run printed another policy"
[ ! -s "$T/again.err" ] || { cat "$T/again.err"; fail "--json-only wrote to stderr"; }
# Without a verifier, nobody else is named.
"$GFSB" policy bucket "$URL" --server "$SARN" --json-only >"$T/server-only.json"
! grep -q verifier "$T/server-only.json" || fail "a verifier without --verifier"

step "the owner: Object Lock bucket, two users, the lifecycle rule, the policy"
bash "$S3DIR/ceph.sh" mkbucket "$CEPH" "$B" --object-lock >/dev/null
bash "$S3DIR/ceph.sh" mkuser "$CEPH" server "$SAK" "$SSK" >/dev/null
bash "$S3DIR/ceph.sh" mkuser "$CEPH" verifier "$VAK" "$VSK" >/dev/null
bash "$S3DIR/ceph.sh" setlifecycle "$CEPH" "$B" "$T/lifecycle.json" >/dev/null
bash "$S3DIR/ceph.sh" setpolicy "$CEPH" "$B" "$T/policy.json" >/dev/null
owner_get lifecycle
grep -q "<NoncurrentDays>45</NoncurrentDays>" "$T/lifecycle.now" &&
	grep -q "<Prefix>$P/</Prefix>" "$T/lifecycle.now" ||
	{ cat "$T/lifecycle.now"; fail "the lifecycle rule did not take"; }
cp "$T/lifecycle.now" "$T/lifecycle.set"
owner_get policy
cp "$T/policy.now" "$T/policy.set"
owner_get versioning
grep -q "<Status>Enabled</Status>" "$T/versioning.now" || fail "not versioned"
cp "$T/versioning.now" "$T/versioning.set"
owner_get object-lock
cp "$T/object-lock.now" "$T/object-lock.set"
# nothing was changed by the refused request WHAT
unchanged() {
	local sub
	for sub in lifecycle policy versioning object-lock; do
		owner_get "$sub"
		cmp -s "$T/$sub.set" "$T/$sub.now" ||
			fail "$1 changed the bucket's $sub: $(cat "$T/$sub.now")"
	done
}

step "the server's keys: init, backup, snapshots, restore, verify, forget --prune"
R=$URL/direct
S=$T/src
mkdir -p "$S"
head -c 3000000 /dev/urandom >"$S/big.bin"
for i in $(seq 1 10); do echo "file $i" >"$S/f$i.txt"; done
export GFSBACKUP_S3_MULTIPART_MIB=5 GFSBACKUP_S3_PART_MIB=5
head -c 6000000 /dev/urandom >"$S/multipart.bin"
as server expect 0 "$GFSB" init -r "$R" --kdf-memory 8M --kdf-iterations 1 -q
as server expect 0 "$GFSB" backup -r "$R" -q "$S"
echo "second" >>"$S/f1.txt"
as server expect 0 "$GFSB" backup -r "$R" -q "$S"
as server expect 0 "$GFSB" snapshots -r "$R" --json
n=$($PY -c 'import json,sys; print(len(json.load(open(sys.argv[1]))))' "$T/out")
[ "$n" = 2 ] || fail "$n snapshots"
first=$($PY -c 'import json,sys; print(json.load(open(sys.argv[1]))[0]["id"])' "$T/out")
as server expect 0 "$GFSB" restore -r "$R" -q latest --target "$T/restored"
$PY "$HERE/treecmp.py" "$S" "$T/restored$S" >/dev/null || fail "restore differs"
as server expect 0 "$GFSB" verify -r "$R" --read-data
# A moment when both snapshots exist (as-of times are whole seconds, S3's
# are milliseconds: a second after the last write, and one before the next).
sleep 1.1
t_both=$(date +%s)
sleep 1.1
as server expect 0 "$GFSB" forget -r "$R" --keep-last 1 --prune
out_has "keep 1, remove 1"
as server expect 0 "$GFSB" verify -r "$R" --read-data

step "the server's keys: the nightly sync of a local repository, deletions too"
init_repo "$T/local"
"$GFSB" backup -r "$T/local" -q "$S" >/dev/null
echo "third" >>"$S/f1.txt"
"$GFSB" backup -r "$T/local" -q "$S" >/dev/null
as server expect 0 "$GFSB" sync -r "$T/local" --to "$URL/mirror"
"$GFSB" forget -r "$T/local" --keep-last 1 --prune -q >/dev/null
as server expect 0 "$GFSB" sync -r "$T/local" --to "$URL/mirror"
grep -q "deleted [1-9]" "$T/out" || { cat "$T/out"; fail "sync deleted nothing"; }
unset GFSBACKUP_S3_MULTIPART_MIB GFSBACKUP_S3_PART_MIB
as server expect 0 "$GFSB" verify -r "$URL/mirror" --read-data

step "the server's keys: a lock is set and extended; shortening it is refused"
head -c 2000 /dev/urandom >"$T/locked.bin"
until=$(($(date +%s) + 600))
N=$(as server "$TESTTOOL" be "$URL/t" put data "$T/locked.bin" governance "$until")
LK=$P/t/data/${N:0:2}/$N
[ "$(retention "$B/$LK")" = "GOVERNANCE $until" ] || fail "lock: $(retention "$B/$LK")"
as server expect 0 "$TESTTOOL" be "$URL/t" ret-set data "$N" governance $((until + 60))
lock_set=$(retention "$B/$LK")
[ "$lock_set" = "GOVERNANCE $((until + 60))" ] || fail "not extended: $lock_set"
as server expect 1 "$TESTTOOL" be "$URL/t" ret-set data "$N" governance $((until - 60))
err_has "GFSB_EDENIED"
# Outside the prefix: nothing.
as server expect 1 "$TESTTOOL" be "s3://$B/elsewhere" put data "$T/locked.bin"
err_has "AccessDenied"
code=$(s3 server GET "/$B?list-type=2&prefix=elsewhere%2F" -H "x-amz-content-sha256: $EMPTY")
denied "ListObjectsV2 of another prefix" "$code"

# The requests that would shorten or remove history, as WHO.
cat >"$T/lc-evil.xml" <<'EOF'
<LifecycleConfiguration xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Rule><ID>evil</ID><Filter><Prefix></Prefix></Filter><Status>Enabled</Status><NoncurrentVersionExpiration><NoncurrentDays>1</NoncurrentDays></NoncurrentVersionExpiration></Rule></LifecycleConfiguration>
EOF
printf '<VersioningConfiguration xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Status>Suspended</Status></VersioningConfiguration>' >"$T/suspend.xml"
printf '<ObjectLockConfiguration xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><ObjectLockEnabled>Enabled</ObjectLockEnabled><Rule><DefaultRetention><Mode>GOVERNANCE</Mode><Days>1</Days></DefaultRetention></Rule></ObjectLockConfiguration>' >"$T/objlock.xml"
printf '<LegalHold xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Status>ON</Status></LegalHold>' >"$T/hold.xml"
printf '{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":["%s"]},"Action":["s3:*"],"Resource":["arn:aws:s3:::%s","arn:aws:s3:::%s/*"]}]}' \
	"$SARN" "$B" "$B" >"$T/evil-policy.json"
# Shorter than the lock (about 11 minutes from now) yet still in the future
# when the second pass sends it on a loaded machine: RGW answers a date in
# the past with 400 before it looks at the policy (seen in CI at +5 s).
printf '<Retention xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Mode>GOVERNANCE</Mode><RetainUntilDate>%s</RetainUntilDate></Retention>' \
	"$(date -u -d '+300 sec' +%Y-%m-%dT%H:%M:%SZ)" >"$T/shorten.xml"
destroy() {
	local who=$1 key=$2 vid
	vid=$(versions "$key" | sed -n 's/^Version //p' | tail -1)
	[ -n "$vid" ] || fail "no version of $key"
	denied "$who: DELETE ?versionId=" "$(s3 "$who" DELETE \
		"/$B/$key?versionId=$(enc "$vid")" -H "x-amz-content-sha256: $EMPTY")"
	denied "$who: DELETE ?versionId= with x-amz-bypass-governance-retention" \
		"$(s3 "$who" DELETE "/$B/$LK?versionId=$(enc "$(versions "$LK" |
		sed -n 's/^Version //p' | tail -1)")" \
		-H "x-amz-bypass-governance-retention: true" \
		-H "x-amz-content-sha256: $EMPTY")"
	denied "$who: PUT ?versioning= Suspended" \
		"$(s3_body "$who" PUT "/$B?versioning=" "$T/suspend.xml")"
	denied "$who: PUT ?lifecycle= (versions gone after a day)" \
		"$(s3_body "$who" PUT "/$B?lifecycle=" "$T/lc-evil.xml")"
	denied "$who: DELETE ?lifecycle=" \
		"$(s3 "$who" DELETE "/$B?lifecycle=" -H "x-amz-content-sha256: $EMPTY")"
	denied "$who: PUT ?policy=" \
		"$(s3_body "$who" PUT "/$B?policy=" "$T/evil-policy.json")"
	denied "$who: DELETE ?policy=" \
		"$(s3 "$who" DELETE "/$B?policy=" -H "x-amz-content-sha256: $EMPTY")"
	denied "$who: PUT ?object-lock=" \
		"$(s3_body "$who" PUT "/$B?object-lock=" "$T/objlock.xml")"
	denied "$who: PUT ?retention= shorter, x-amz-bypass-governance-retention" \
		"$(s3_body "$who" PUT "/$B/$LK?retention=" "$T/shorten.xml" \
		-H "x-amz-bypass-governance-retention: true")"
	denied "$who: PUT ?legal-hold=" \
		"$(s3_body "$who" PUT "/$B/$LK?legal-hold=" "$T/hold.xml")"
	denied "$who: PUT ?acl= (bucket)" "$(s3 "$who" PUT "/$B?acl=" \
		-H "x-amz-acl: public-read-write" -H "Content-Length: 0" \
		-H "x-amz-content-sha256: $EMPTY")"
	denied "$who: PUT ?acl= (object)" "$(s3 "$who" PUT "/$B/$key?acl=" \
		-H "x-amz-acl: public-read-write" -H "Content-Length: 0" \
		-H "x-amz-content-sha256: $EMPTY")"
	denied "$who: DELETE the bucket" \
		"$(s3 "$who" DELETE "/$B" -H "x-amz-content-sha256: $EMPTY")"
	unchanged "$who's refused requests"
	[ "$(retention "$B/$LK")" = "$lock_set" ] ||
		fail "the lock changed: $(retention "$B/$LK"), was $lock_set"
}

step "the server's keys: every request that rewrites history is refused"
CK=$P/direct/config
destroy server "$CK"
[ "$(versions "$CK" | grep -c '^Version')" = 1 ] || fail "config versions changed"

step "...also when a broader grant allows the server everything (s3:*)"
# As an IAM policy of the server's user might on AWS: the explicit denials
# must win.  First, that the grant is in force: a write outside the prefix.
$PY - "$T/policy.json" "$T/broad.json" "$SARN" "$B" <<'PYEOF'
import json, sys
pol = json.load(open(sys.argv[1]))
pol["Statement"].append({"Sid": "Broad", "Effect": "Allow",
    "Principal": {"AWS": [sys.argv[3]]}, "Action": ["s3:*"],
    "Resource": ["arn:aws:s3:::" + sys.argv[4], "arn:aws:s3:::%s/*" % sys.argv[4]]})
json.dump(pol, open(sys.argv[2], "w"))
PYEOF
bash "$S3DIR/ceph.sh" setpolicy "$CEPH" "$B" "$T/broad.json" >/dev/null
owner_get policy
cp "$T/policy.now" "$T/policy.set"
echo elsewhere >"$T/x"
code=$(s3_body server PUT "/$B/elsewhere/x" "$T/x")
[ "$code" = 200 ] || { cat "$T/s3.out"; fail "the broad grant is not in force: $code"; }
destroy server "$CK"
bash "$S3DIR/ceph.sh" setpolicy "$CEPH" "$B" "$T/policy.json" >/dev/null
owner_get policy
cp "$T/policy.now" "$T/policy.set"

step "a plain DELETE adds a delete marker: the snapshot's version stays"
SK=$P/direct/snapshots/$first
[ "$(versions "$SK" | head -1 | cut -d' ' -f1)" = DeleteMarker ] ||
	{ versions "$SK"; fail "forget made no delete marker on $SK"; }
[ "$(versions "$SK" | grep -c '^Version')" = 1 ] ||
	{ versions "$SK"; fail "the snapshot's version is gone"; }
# The server overwrites the config with junk; S3 keeps the old version.
as server "$TESTTOOL" be "$R" get config config >"$T/config.orig"
[ -s "$T/config.orig" ] || fail "no config"
echo "junk" >"$T/junk"
code=$(s3_body server PUT "/$B/$CK" "$T/junk")
[ "$code" = 200 ] || { cat "$T/s3.out"; fail "overwrite: $code"; }
[ "$(versions "$CK" | grep -c '^Version')" = 2 ] || fail "no old config version"
as server expect 1 "$GFSB" snapshots -r "$R"
# As of before the forget, the view has both snapshots and the old config.
as server expect 0 "$TESTTOOL" be --as-of "$t_both" "$R" list snapshots
[ "$(grep -c . "$T/out")" = 2 ] || { cat "$T/out"; fail "as of: not 2 snapshots"; }
grep -q "^$first " "$T/out" || fail "as of: the forgotten snapshot is missing"
as server expect 0 "$TESTTOOL" be --as-of "$t_both" "$R" get config config
cmp -s "$T/out" "$T/config.orig" || fail "as of: not the config before the junk"

step "the verifier's keys: reads and verify --no-lock work; writes are refused"
as verifier expect 0 "$GFSB" verify -r "$URL/mirror" --no-lock --read-data \
	--state-dir "$T/vstate"
out_has "no damage found"
as verifier expect 0 "$GFSB" snapshots -r "$URL/mirror"
as verifier expect 0 "$TESTTOOL" be "$URL/t" ret-get data "$N"
as verifier expect 0 "$TESTTOOL" be --as-of "$t_both" "$R" list snapshots
# With a lock it cannot run: the lock is a write.
as verifier expect 1 "$GFSB" verify -r "$URL/mirror"
err_has "AccessDenied"
as verifier expect 1 "$GFSB" backup -r "$URL/mirror" -q "$S"
err_has "AccessDenied"
MK=$(as server "$TESTTOOL" be "$URL/mirror" list data | awk 'NR == 1 { print $1 }')
MK=$P/mirror/data/${MK:0:2}/$MK
mk_before=$(versions "$MK")
denied "verifier: PUT" "$(s3_body verifier PUT "/$B/$P/mirror/x" "$T/x")"
denied "verifier: DELETE" "$(s3 verifier DELETE "/$B/$MK" -H "x-amz-content-sha256: $EMPTY")"
printf '<Retention xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Mode>GOVERNANCE</Mode><RetainUntilDate>%s</RetainUntilDate></Retention>' \
	"$(date -u -d '+1 day' +%Y-%m-%dT%H:%M:%SZ)" >"$T/longer.xml"
denied "verifier: PUT ?retention= (even longer)" \
	"$(s3_body verifier PUT "/$B/$LK?retention=" "$T/longer.xml")"
destroy verifier "$MK"
[ "$(versions "$MK")" = "$mk_before" ] || fail "the verifier changed $MK"

step "the lifecycle rule expired the replaced version; the locked one stays"
# versions() lists bucket $B; here the other one.
nver() {
	[ "$(s3 owner GET "/$LB?prefix=$(enc "$1")&versions=" \
		-H "x-amz-content-sha256: $EMPTY")" = 200 ] || fail "versions of $1"
	grep -o '<Version>' "$T/s3.out" | wc -l
}
while [ "$(nver p/plain)" != 1 ]; do
	[ $(($(date +%s) - lc_start)) -lt 90 ] ||
		fail "the rule did not expire p/plain's old version in 90 s"
	sleep 2
done
echo "   p/plain's replaced version expired after $(($(date +%s) - lc_start)) s"
[ "$(nver p/locked)" = 2 ] || fail "a version under a COMPLIANCE lock expired"
[ "$(nver q/plain)" = 2 ] || fail "the rule reached outside its prefix"

echo "PASS"
