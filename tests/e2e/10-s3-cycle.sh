#!/bin/bash
# A repository straight on S3 (Ceph's RADOS Gateway, which checks SigV4
# signatures and payload hashes): the whole backup / snapshots / restore /
# forget / prune cycle under a prefix with awkward characters, multipart
# uploads, the metadata cache, an independent check by rclone, and every
# kind of bad input (credentials, bucket, endpoint, URL).
. "$(dirname "$0")/lib.sh"
. "$HERE/lib_s3.sh"
s3_setup
proxy_start

BUCKET=gfsb-cycle
PREFIX='team a/ä+b=c&d%20e~f(1)'
R="s3://$BUCKET/$PREFIX"
S=$T/src

step "init creates the bucket; backup with multipart uploads"
init_repo "$R"
mkdir -p "$S/docs" "$S/odd name ü"
head -c 30000000 /dev/urandom >"$S/big.bin"
for i in $(seq 1 40); do echo "document $i $RANDOM" >"$S/docs/d$i.txt"; done
echo "hello" >"$S/odd name ü/+&=%20.txt"
ln -s docs/d1.txt "$S/link"
faults '{"rate": 0, "methods": ["POST"], "path": "uploads", "reset_counters": true}'
# Through the proxy (which only counts here), with 5 MiB parts.
expect 0 env GFSBACKUP_S3_MULTIPART_MIB=5 GFSBACKUP_S3_PART_MIB=5 \
	"$GFSB" backup -r "$R" --s3-endpoint "$PROXY" --time '2026-01-01 01:00:00' "$S"
[ "$(proxy_counter matched)" -ge 2 ] ||
	fail "no multipart upload was started ($(proxy_counter matched) POSTs)"
[ -z "$(s3_uploads "$BUCKET")" ] || fail "a multipart upload was left open"
cp -a "$S" "$T/copies-01"

step "snapshots and a bit-identical restore"
expect 0 "$GFSB" snapshots -r "$R"
out_has "1 snapshot"
expect 0 "$GFSB" restore -r "$R" latest --target "$T/r1"
$PY "$HERE/treecmp.py" "$S" "$T/r1$S" || fail "restore differs"

step "a single file restores with one range read of data"
faults '{"rate": 0, "methods": ["GET"], "path": "/data/", "reset_counters": true}'
expect 0 "$GFSB" restore -r "$R" --s3-endpoint "$PROXY" "latest:$S/docs/d7.txt" \
	--target "$T/r2"
cmp "$S/docs/d7.txt" "$T/r2/d7.txt" || fail "single file differs"
[ "$(proxy_counter matched)" = 1 ] ||
	fail "$(proxy_counter matched) GETs of packs for one small file"

step "daily history, forget with a GFS policy, prune"
mkdir -p "$T/copies"
for d in 02 03 04 05 06; do
	head -c 1500000 /dev/urandom >"$S/day$d.bin"
	rm -f "$S/day$(printf %02d $((10#$d - 2))).bin"
	"$GFSB" backup -r "$R" -q --time "2026-01-$d 01:00:00" "$S" >/dev/null
	cp -a "$S" "$T/copies/$d"
done
cp -a "$T/copies-01" "$T/copies/01"
expect 0 "$GFSB" forget -r "$R" --keep-daily 4 --keep-monthly 1
out_has "keep 4, remove 2"
expect 0 "$GFSB" prune -r "$R" --max-unused 0%
out_has "deleted"
check_kept "$R"

# start_upload KEY: begin a multipart upload of KEY (URL-encoded) in the
# bucket, as a killed process leaves one.
start_upload() {
	curl -sS --noproxy '*' --aws-sigv4 "aws:amz:$AWS_REGION:s3" \
		--user "$AWS_ACCESS_KEY_ID:$AWS_SECRET_ACCESS_KEY" \
		-H "x-amz-content-sha256: e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855" \
		-X POST "$GFSB_S3_ENDPOINT/$BUCKET/$1?uploads=" >/dev/null
}
enc() { $PY -c 'import sys, urllib.parse as u; print(u.quote(sys.argv[1]))' "$1"; }
# A killed process's upload, begun now: old by the time prune looks, at
# the end (prune leaves what began within its last 30 s: a writer's).
start_upload "$(enc "$PREFIX/data/ab/abababababababababababababababababababababababababababababababab")"
killed_at=$(date +%s)

step "the metadata cache: listing snapshots downloads none"
faults '{"rate": 0, "methods": ["GET"], "path": "/snapshots/", "reset_counters": true}'
expect 0 "$GFSB" snapshots -r "$R" --s3-endpoint "$PROXY"
out_has "4 snapshots"
[ "$(proxy_counter matched)" = 0 ] || fail "snapshots downloaded again"
cache=$(find "$T/cache/gfsbackup" -mindepth 1 -maxdepth 1 -type d)
[ -f "$T/cache/gfsbackup/CACHEDIR.TAG" ] || fail "no CACHEDIR.TAG"
[ "$(find "$cache/snapshots" -type f | wc -l)" = 4 ] ||
	fail "the cache does not hold exactly the 4 snapshots"
[ "$(stat -c %a "$cache")" = 700 ] || fail "cache directory not 0700"
step "a damaged cached copy is detected and fetched again"
victim=$(find "$cache/snapshots" -type f | head -1)
flip "$victim" 20
faults '{"rate": 0, "methods": ["GET"], "path": "/snapshots/", "reset_counters": true}'
expect 0 "$GFSB" snapshots -r "$R" --s3-endpoint "$PROXY"
out_has "4 snapshots"
[ "$(proxy_counter matched)" = 1 ] || fail "damaged copy not refetched"
[ "$(sha256sum <"$victim" | cut -c1-64)" = "$(basename "$victim")" ] ||
	fail "damaged copy not replaced"
step "damaged cached tree packs are dropped and the repository read"
for p in "$cache"/packs/*; do
	$PY -c 'import os, sys; n = os.path.getsize(sys.argv[1]); open(sys.argv[1], "r+b").write(bytes(n))' "$p"
done
expect 0 "$GFSB" restore -r "$R" latest --target "$T/r3"
$PY "$HERE/treecmp.py" "$T/copies/06" "$T/r3$S" || fail "restore differs"
fixed=0
for p in "$cache"/packs/*; do
	[ "$(sha256sum <"$p" | cut -c1-64)" = "$(basename "$p")" ] &&
		fixed=$((fixed + 1))
done
[ "$fixed" -ge 1 ] || fail "no damaged cached pack was replaced"

step "--no-cache reads every snapshot"
faults '{"rate": 0, "methods": ["GET"], "path": "/snapshots/", "reset_counters": true}'
expect 0 "$GFSB" snapshots -r "$R" --s3-endpoint "$PROXY" --no-cache
[ "$(proxy_counter matched)" = 4 ] || fail "--no-cache used the cache"

step "rclone: every object's SHA-256 is its name"
s3_check_names "$BUCKET/$PREFIX"

step "bad input: wrong secret key (exit 1, one line, nothing written)"
s3_listing "$BUCKET" >"$T/before"
expect 1 env AWS_SECRET_ACCESS_KEY=wrong-secret "$GFSB" backup -r "$R" "$S"
one_line_error "SignatureDoesNotMatch"
expect 1 env AWS_SECRET_ACCESS_KEY=wrong-secret "$GFSB" snapshots -r "$R"
one_line_error "SignatureDoesNotMatch"
s3_listing "$BUCKET" >"$T/after"
cmp -s "$T/before" "$T/after" || fail "a failed login changed the bucket"

step "bad input: revoked (expired) access key"
keys=$(radosgw-admin -c "$CEPH/ceph.conf" key create --uid gfsb \
	--key-type s3 --gen-access-key --gen-secret 2>/dev/null)
read -r ak sk < <(printf '%s' "$keys" | $PY -c '
import json, os, sys
for k in json.load(sys.stdin)["keys"]:
    if k["access_key"] != os.environ["AWS_ACCESS_KEY_ID"]:
        print(k["access_key"], k["secret_key"])')
expect 0 env AWS_ACCESS_KEY_ID="$ak" AWS_SECRET_ACCESS_KEY="$sk" \
	"$GFSB" snapshots -r "$R"
radosgw-admin -c "$CEPH/ceph.conf" key rm --uid gfsb --access-key "$ak" \
	>/dev/null 2>&1
expect 1 env AWS_ACCESS_KEY_ID="$ak" AWS_SECRET_ACCESS_KEY="$sk" \
	"$GFSB" snapshots -r "$R"
one_line_error "InvalidAccessKeyId"

step "bad input: credentials file readable by others is refused"
printf '[default]\naws_access_key_id = %s\naws_secret_access_key = %s\n' \
	"$AWS_ACCESS_KEY_ID" "$AWS_SECRET_ACCESS_KEY" >"$T/creds"
chmod 644 "$T/creds"
expect 1 env -u AWS_ACCESS_KEY_ID -u AWS_SECRET_ACCESS_KEY \
	"$GFSB" snapshots -r "$R" --s3-credentials-file "$T/creds"
one_line_error "readable by other users"
chmod 600 "$T/creds"
expect 0 env -u AWS_ACCESS_KEY_ID -u AWS_SECRET_ACCESS_KEY \
	"$GFSB" snapshots -r "$R" --s3-credentials-file "$T/creds"
out_has "4 snapshots"
expect 1 env -u AWS_ACCESS_KEY_ID -u AWS_SECRET_ACCESS_KEY \
	"$GFSB" snapshots -r "$R"
one_line_error "no S3 credentials"

step "bad input: unknown bucket, no repository under a prefix"
expect 10 "$GFSB" snapshots -r s3://no-such-bucket/x
one_line_error "bucket no-such-bucket does not exist"
expect 10 "$GFSB" snapshots -r "s3://$BUCKET/elsewhere"
one_line_error "no repository"

step "bad input: unreachable endpoint (bounded retries)"
closed_port port
expect 1 env GFSBACKUP_S3_ATTEMPTS=3 "$GFSB" snapshots -r "$R" \
	--s3-endpoint "http://127.0.0.1:$port"
one_line_error "after 3 tries"

step "bad input: malformed URLs and endpoints (exit 2)"
for url in "s3://" "s3://Bad_Bucket/x" "s3://ab/x" "s3:/$BUCKET/x" \
	"s3://$BUCKET/a//b" "s3://$BUCKET/../x"; do
	expect 2 "$GFSB" snapshots -r "$url"
	one_line_error "malformed"
done
for ep in "ftp://127.0.0.1" "http://" "127.0.0.1:9000" "http://h:99999"; do
	expect 2 "$GFSB" snapshots -r "$R" --s3-endpoint "$ep"
	one_line_error "malformed S3 endpoint"
done
expect 2 "$GFSB" snapshots -r "$R" --connections 0
one_line_error "--connections"
for v in 0 abc -5 12k; do
	expect 2 "$GFSB" sync -r "$R" --to "$T/m" --limit-upload "$v"
	one_line_error "--limit-upload"
done
expect 2 "$GFSB" snapshots -r "$R" --cache-dir relative/dir
one_line_error "absolute path"
for v in GFSBACKUP_S3_TIMEOUT=10s GFSBACKUP_S3_ATTEMPTS=0 \
	GFSBACKUP_S3_PART_MIB=-1 GFSBACKUP_S3_LIST_PAGE=1001; do
	expect 2 env "$v" "$GFSB" snapshots -r "$R"
	one_line_error "${v%%=*}"
done

step "TLS is always verified: --cacert for a private CA"
tls_proxy_start good "DNS:localhost,IP:127.0.0.1"
good=$TLSPROXY
expect 0 "$GFSB" snapshots -r "$R" --s3-endpoint "$good" --cacert "$T/good.crt"
out_has "4 snapshots"
expect 0 env AWS_CA_BUNDLE="$T/good.crt" "$GFSB" snapshots -r "$R" \
	--s3-endpoint "$good"
expect 1 env -u AWS_CA_BUNDLE "$GFSB" snapshots -r "$R" --s3-endpoint "$good"
one_line_error "certificate"
tls_proxy_start wrongname "DNS:backup.example.com"
expect 1 "$GFSB" snapshots -r "$R" --s3-endpoint "$TLSPROXY" \
	--cacert "$T/wrongname.crt"
one_line_error "127.0.0.1"
expect 2 "$GFSB" snapshots -r "$R" --s3-endpoint "$good" --cacert "$T/none.crt"
one_line_error "CA bundle"

step "after all that, the repository is intact"
s3_listing "$BUCKET" >"$T/after"
cmp -s "$T/before" "$T/after" || fail "failed commands changed the bucket"
check_kept "$R"

step "prune aborts multipart uploads a killed process left, not a writer's"
# An upload of someone else's, beside the repository: not ours to abort.
start_upload "team%20a/other-file"
# One begun just now: a backup that started after prune looked at the
# locks may be sending it.
start_upload "$(enc "$PREFIX/data/cd/cdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcd")"
[ "$(s3_uploads "$BUCKET" | wc -l)" = 3 ] || fail "test setup: uploads"
wait_s=$((killed_at + 32 - $(date +%s)))
[ "$wait_s" -le 0 ] || sleep "$wait_s"
expect 0 "$GFSB" prune -r "$R"
out_has "removed 1 leftovers"
s3_uploads "$BUCKET" >"$T/uploads"
[ "$(wc -l <"$T/uploads")" = 2 ] && grep -qx "team a/other-file" "$T/uploads" &&
	grep -q "/data/cd/cdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcd$" "$T/uploads" ||
	fail "prune left the killed process's upload, or aborted a writer's or another's: $(cat "$T/uploads")"
check_kept "$R"
echo "PASS"
