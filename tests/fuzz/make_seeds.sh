#!/bin/bash
# Regenerate the fuzz seed corpora (tests/fuzz/<target>/) and the fixed
# repository of the sealed targets (tests/fuzz/repo/) from REAL objects:
#   tests/fuzz/make_seeds.sh
# 1. builds gfsbackup normally (build-seeds/) and the fuzz build
#    (build-fuzz/, for gfsb_fuzz_seedgen);
# 2. makes a repository with the real binary (cheap Argon2id, small chunks)
#    and backs up a small tree twice (a parent, then an incremental);
# 3. dumps its key file and config, every sealed object as stored, and
#    their plaintexts (pack headers, index, trees, snapshots, config);
# 4. copies the policies of schedules/, sample gfsbackup.conf files, and
#    hand-written S3 XML answers.
# Seeds stay under 64 KiB, the whole corpus well under 2 MiB.  Every run
# makes a new repository key: commit tests/fuzz/repo with the seeds.
set -euo pipefail
cd "$(dirname "$0")/../.."
top=$PWD
fz=$top/tests/fuzz
jobs=$(nproc)

cmake -S . -B build-seeds -DCMAKE_BUILD_TYPE=RelWithDebInfo \
	-DGFSBACKUP_TESTS=OFF >/dev/null
cmake --build build-seeds -j "$jobs" --target gfsbackup >/dev/null
CC=clang cmake -S . -B build-fuzz -DGFSBACKUP_FUZZ=ON -DGFSBACKUP_TESTS=OFF \
	>/dev/null
cmake --build build-fuzz -j "$jobs" --target gfsb_fuzz_seedgen >/dev/null

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
export GFSBACKUP_PASSWORD="gfsbackup fuzz corpus" # FUZZ_PASS, fuzz_common.h
export GFSBACKUP_CACHE_DIR=$tmp/cache
gfsb=$top/build-seeds/gfsbackup
repo=$tmp/repo

# A small tree with what trees can hold: files (compressible, random,
# empty, sparse, hard-linked), a directory, a symlink, a FIFO, xattrs.
src=$tmp/src
mkdir -p "$src/etc/app" "$src/srv/www/html"
printf 'listen 80;\nserver_name example.org;\n' >"$src/etc/app/app.conf"
seq 1 2000 >"$src/srv/www/html/numbers.txt"
head -c 3000 /dev/urandom >"$src/srv/www/html/logo.png"
: >"$src/srv/www/html/empty"
truncate -s 40000 "$src/srv/www/html/sparse.img"
printf 'data' | dd of="$src/srv/www/html/sparse.img" bs=1 seek=20000 \
	conv=notrunc status=none
ln "$src/etc/app/app.conf" "$src/etc/app/hardlink.conf"
ln -s ../etc/app/app.conf "$src/srv/www/link"
mkfifo "$src/srv/www/fifo"
setfattr -n user.comment -v "fuzz seed" "$src/etc/app/app.conf" 2>/dev/null ||
	true

"$gfsb" init -q -r "$repo" --kdf-memory 8M --kdf-iterations 1 \
	--chunk-min 1K --chunk-avg 4K --chunk-max 16K --pack-size 1M
"$gfsb" backup -q -r "$repo" "$src" --tag daily --host web1 \
	--exclude '*.tmp' --time '2026-01-02 03:04:05'
echo "changed" >>"$src/etc/app/app.conf"
"$gfsb" backup -q -r "$repo" "$src" --tag daily --host web1 \
	--time '2026-01-03 03:04:05'

# A prune with a grace leaves what it marks for deletion listed in an
# index file of version 2.
"$gfsb" forget -q -r "$repo" --keep-last 1
"$gfsb" prune -q -r "$repo" --grace 1d

# The corpus is replaced as a whole (hand-made seeds are rewritten below).
for d in repo pack_header pack index tree snapshot keyfile config \
	sealed_object policy gfsconf s3_xml; do
	rm -rf "${fz:?}/$d"
done
mkdir -p "$fz/repo/keys"
"$top/build-fuzz/tests/fuzz/gfsb_fuzz_seedgen" "$repo" \
	"$GFSBACKUP_PASSWORD" "$fz"

mkdir -p "$fz/policy"
cp schedules/*.policy "$fz/policy/"
printf 'keep-last = 3\nkeep-within = 1y2m3d4h\nkeep-tag = a, b\n' \
	>"$fz/policy/mixed.policy"

mkdir -p "$fz/gfsconf"
if [ -f packaging/gfsbackup.conf.example ]; then
	cp packaging/gfsbackup.conf.example "$fz/gfsconf/example.conf"
fi
cat >"$fz/gfsconf/full.conf" <<'EOF'
# the daily job, every section
[repository]
url = /var/backups/gfs
password-file = /etc/gfsbackup/passphrase
cache-dir = /var/cache/gfsbackup
state-dir = /var/lib/gfsbackup

[offsite]
url = s3://backups-acme/web1
endpoint = https://s3.example.net:9000
region = eu-west-1
cacert = /etc/ssl/private-ca.pem

[backup]
paths = /etc /srv/www
exclude = *.tmp *.swp
exclude-file = /etc/gfsbackup/excludes
one-file-system = yes
host = web1
tags = daily,nightly

[retention]
keep-daily = 7
keep-weekly = 5
keep-monthly = 12
keep-within = 2y
prune = weekly

[verify]
read-data-subset = rotate/7

[report]
smtp-url = smtp://mail.example.org:587
from = backup@web1.example.org
to = ops@example.org, oncall@example.org
send = failure
dir = /var/lib/gfsbackup/reports
EOF
cat >"$fz/gfsconf/policy-file.conf" <<EOF
[repository]
url = /var/backups/gfs
password-file = /etc/gfsbackup/passphrase
[backup]
paths = /
[retention]
policy = $top/schedules/standard.policy
prune = daily
[verify]
read-data-subset = 10%
EOF

mkdir -p "$fz/s3_xml"
cat >"$fz/s3_xml/list-page1.xml" <<'EOF'
<?xml version="1.0" encoding="UTF-8"?>
<ListBucketResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Name>backups-acme</Name><Prefix>web1/data/</Prefix><KeyCount>2</KeyCount><MaxKeys>2</MaxKeys><IsTruncated>true</IsTruncated><NextContinuationToken>1ueGcxLPRx1Tr/XYExHnhbYLgveDs2J/wm36Hy4vbOwM=</NextContinuationToken><Contents><Key>web1/data/00/00a1b2c3d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f60718293a4b5c6d7e8f</Key><LastModified>2026-01-02T03:04:05.000Z</LastModified><ETag>&quot;9b2cf535f27731c974343645a3985328&quot;</ETag><Size>16777216</Size><StorageClass>STANDARD</StorageClass></Contents><Contents><Key>web1/data/01/01ffeeddccbbaa99887766554433221100ffeeddccbbaa9988776655443322110</Key><LastModified>2026-01-02T03:04:06.000Z</LastModified><ETag>&quot;abc&quot;</ETag><Size>4096</Size><StorageClass>STANDARD</StorageClass></Contents></ListBucketResult>
EOF
cat >"$fz/s3_xml/list-page2.xml" <<'EOF'
<?xml version="1.0" encoding="UTF-8"?>
<ListBucketResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Name>backups-acme</Name><Prefix>web1/</Prefix><ContinuationToken>1ueGcxLPRx1Tr/XYExHnhbYLgveDs2J/wm36Hy4vbOwM=</ContinuationToken><KeyCount>1</KeyCount><MaxKeys>1000</MaxKeys><IsTruncated>false</IsTruncated><Contents><Key>web1/config</Key><Size>312</Size></Contents></ListBucketResult>
EOF
cat >"$fz/s3_xml/list-empty.xml" <<'EOF'
<?xml version="1.0" encoding="UTF-8"?>
<ListBucketResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Name>backups-acme</Name><Prefix>web1/locks/</Prefix><KeyCount>0</KeyCount><MaxKeys>1000</MaxKeys><IsTruncated>false</IsTruncated></ListBucketResult>
EOF
cat >"$fz/s3_xml/error.xml" <<'EOF'
<?xml version="1.0" encoding="UTF-8"?>
<Error><Code>NoSuchBucket</Code><Message>The specified bucket does not exist</Message><BucketName>backups-acme</BucketName><RequestId>tx00000a1b2c3d4e5f6-0065a1b2c3-1234-default</RequestId><HostId>1234-default-default</HostId></Error>
EOF
cat >"$fz/s3_xml/error-slowdown.xml" <<'EOF'
<?xml version="1.0" encoding="UTF-8"?>
<Error><Code>SlowDown</Code><Message>Please reduce your request rate.</Message><Resource>/backups-acme/web1/data/00/x</Resource><RequestId>4442587FB7D0A2F9</RequestId></Error>
EOF
cat >"$fz/s3_xml/initiate.xml" <<'EOF'
<?xml version="1.0" encoding="UTF-8"?>
<InitiateMultipartUploadResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Bucket>backups-acme</Bucket><Key>web1/data/00/00a1b2c3</Key><UploadId>VXBsb2FkIElEIGZvciA2aWWpbmcncyBteS1tb3ZpZS5tMnRzIHVwbG9hZA</UploadId></InitiateMultipartUploadResult>
EOF
cat >"$fz/s3_xml/complete.xml" <<'EOF'
<?xml version="1.0" encoding="UTF-8"?>
<CompleteMultipartUploadResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Location>https://s3.example.net/backups-acme/web1/data/00/00a1b2c3</Location><Bucket>backups-acme</Bucket><Key>web1/data/00/00a1b2c3</Key><ETag>"3858f62230ac3c915f300c664312c11f-9"</ETag></CompleteMultipartUploadResult>
EOF
cat >"$fz/s3_xml/complete-error.xml" <<'EOF'
<?xml version="1.0" encoding="UTF-8"?>

<Error><Code>InternalError</Code><Message>We encountered an internal error. Please try again.</Message><RequestId>656c76696e6727732072657175657374</RequestId></Error>
EOF
cat >"$fz/s3_xml/uploads.xml" <<'EOF'
<?xml version="1.0" encoding="UTF-8"?>
<ListMultipartUploadsResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Bucket>backups-acme</Bucket><KeyMarker></KeyMarker><UploadIdMarker></UploadIdMarker><NextKeyMarker>web1/data/01/x</NextKeyMarker><Prefix>web1/</Prefix><MaxUploads>1000</MaxUploads><IsTruncated>true</IsTruncated><Upload><Key>web1/data/00/00a1b2c3</Key><UploadId>VXBsb2FkIElE</UploadId><Initiator><ID>arn:aws:iam::111122223333:user/x</ID></Initiator><StorageClass>STANDARD</StorageClass><Initiated>2026-01-02T03:04:05.000Z</Initiated></Upload><Upload><Key>web1/data/01/x</Key><UploadId>b3RoZXI</UploadId></Upload></ListMultipartUploadsResult>
EOF

count=$(find "$fz" -mindepth 2 -type f -path "$fz/*/*" ! -name '*.c' | wc -l)
size=$(du -sk --exclude='*.c' --exclude='*.h' --exclude='*.sh' \
	--exclude='*.md' --exclude='*.txt' "$fz" | cut -f1)
echo "seeds: $count files, ${size} KiB in tests/fuzz"
