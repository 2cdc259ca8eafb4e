#!/bin/bash
# Faults between gfsbackup and S3: a proxy (tests/s3/faultproxy.py) in
# front of Ceph's gateway answers 500 / 503 SlowDown / 429, resets
# connections, cuts bodies short and stalls on a share of requests.
# Backup, restore and sync must still complete with nothing lost and
# nothing duplicated; when faults persist they must fail cleanly, with
# one line naming the object, and leave the repository valid.
. "$(dirname "$0")/lib.sh"
. "$HERE/lib_s3.sh"
s3_setup
proxy_start

DIRECT=$GFSB_S3_ENDPOINT
export GFSBACKUP_S3_ENDPOINT=$PROXY
export GFSBACKUP_S3_TIMEOUT=2          # a stalled transfer fails after 2 s
export GFSBACKUP_S3_MULTIPART_MIB=5 GFSBACKUP_S3_PART_MIB=5
R=s3://gfsb-faults/repo
S=$T/src
mkdir -p "$S/docs"
head -c 25000000 /dev/urandom >"$S/big.bin"
head -c 3000000 /dev/urandom >"$S/medium.bin"
for i in $(seq 1 30); do echo "document $i $RANDOM" >"$S/docs/d$i.txt"; done
init_repo "$R"

ALL='"500", "503slowdown", "429", "reset", "truncate", "stall"'

step "backup with 20% of requests failing"
faults "{\"rate\": 0.2, \"kinds\": [$ALL], \"seed\": 7, \"stall_seconds\": 30, \"reset_counters\": true}"
expect 0 "$GFSB" backup -r "$R" --time '2026-01-01 01:00:00' "$S"
cp -a "$S" "$T/v1" # the source as the snapshot has it ($S changes below)
n=$(proxy_counter faults_total)
echo "   faults injected: $n of $(proxy_counter requests) requests"
[ "$n" -ge 3 ] || fail "only $n faults injected"

step "restore with 20% of requests failing: bit-identical"
faults "{\"rate\": 0.2, \"kinds\": [$ALL], \"seed\": 8, \"stall_seconds\": 30, \"reset_counters\": true}"
expect 0 "$GFSB" restore -r "$R" --no-cache latest --target "$T/r1"
$PY "$HERE/treecmp.py" "$S" "$T/r1$S" || fail "restore differs"
[ "$(proxy_counter faults_total)" -ge 1 ] || fail "no fault during restore"

step "nothing lost, nothing duplicated"
faults '{"rate": 0}'
expect 0 "$GFSB" snapshots -r "$R"
out_has "1 snapshot"
expect 0 "$GFSB" prune -r "$R" --dry-run
out_has "; 0 unused (0 B)"
[ -z "$(s3_uploads gfsb-faults)" ] || fail "a multipart upload was left open"
s3_check_names gfsb-faults/repo

step "sync to a local mirror and back to S3, 20% of requests failing"
faults "{\"rate\": 0.2, \"kinds\": [$ALL], \"seed\": 9, \"stall_seconds\": 30, \"reset_counters\": true}"
expect 0 "$GFSB" sync -r "$R" --to "$T/mirror"
expect 0 "$GFSB" sync -r "$T/mirror" --to s3://gfsb-faults/copy
[ "$(proxy_counter faults_total)" -ge 2 ] || fail "too few faults in sync"
faults '{"rate": 0}'
cmp -s <(s3_listing gfsb-faults/repo) <(s3_listing gfsb-faults/copy) ||
	fail "the S3 copy differs from the original"
s3_check_names gfsb-faults/copy
rm -rf "$T/r2"
expect 0 "$GFSB" restore -r s3://gfsb-faults/copy --no-cache latest \
	--target "$T/r2"
$PY "$HERE/treecmp.py" "$S" "$T/r2$S" || fail "the copy restores differently"

step "persistent 500s on uploads: backup fails cleanly"
echo "new" >"$S/new.txt"
head -c 8000000 /dev/urandom >"$S/big2.bin"
s3_listing gfsb-faults/repo >"$T/before"
faults '{"rate": 1, "kinds": ["500"], "methods": ["PUT"], "path": "/data/", "reset_counters": true}'
expect 1 env GFSBACKUP_S3_ATTEMPTS=3 "$GFSB" backup -r "$R" "$S"
one_line_error "HTTP 500 InternalError"
err_has "s3://gfsb-faults/repo/"
faults '{"rate": 0}'
# This backup's uploads only: the sync above may leave one in copy/ that
# a stalled request created after its client had given up (prune aborts
# those), which is not this step's to answer for.
left=$(s3_uploads gfsb-faults | grep '^repo/' || true)
[ -z "$left" ] || fail "the failed upload was not aborted: $left"
s3_listing gfsb-faults/repo >"$T/after"
# The lock the failed backup took is gone; so is every object it tried.
cmp -s "$T/before" "$T/after" || fail "a failed backup changed the bucket"
expect 0 "$GFSB" snapshots -r "$R"
out_has "1 snapshot"

step "persistent resets on downloads: restore fails cleanly"
faults '{"rate": 1, "kinds": ["reset"], "methods": ["GET"], "path": "/data/"}'
expect 1 env GFSBACKUP_S3_ATTEMPTS=2 "$GFSB" restore -r "$R" --no-cache \
	latest --target "$T/r3"
err_has "after 2 tries"
faults '{"rate": 0}'

step "a stall is cut after the timeout and retried"
faults '{"every": 1, "kinds": ["stall"], "methods": ["GET"], "max_faults": 1, "stall_seconds": 30, "reset_counters": true}'
start=$(date +%s)
expect 0 "$GFSB" restore -r "$R" --no-cache latest --target "$T/r4"
[ $(( $(date +%s) - start )) -lt 20 ] || fail "the stall was waited out"
[ "$(proxy_counter faults_total)" = 1 ] || fail "no stall injected"
$PY "$HERE/treecmp.py" "$T/v1" "$T/r4$S" || fail "restore differs"

step "the repository is whole (checked directly, without the proxy)"
export GFSBACKUP_S3_ENDPOINT=$DIRECT
s3_check_names gfsb-faults/repo
rm -rf "$T/r5"
expect 0 "$GFSB" restore -r "$R" --no-cache latest --target "$T/r5"
$PY "$HERE/treecmp.py" "$T/v1" "$T/r5$S" || fail "restore differs"
echo "PASS"
