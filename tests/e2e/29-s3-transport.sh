#!/bin/bash
# Transport errors are never taken for damage.  A proxy in front of Ceph's
# gateway makes every GET of one kind of object fail (keys, config, index
# files, snapshots, packs; 500 InternalError, and for keys and packs also a
# reset connection), and every command that reads that kind must fail with
# exit status 1 and one message naming the object, what the server or the
# network did and the tries: not "damaged", "corrupt", "no readable key
# file" or "wrong passphrase", which would send an operator looking for
# damage during a storage outage.  A redirect is such a failure, never
# followed.  Failures that pass are still retried;
# a lock that cannot be read is neither ignored nor removed; and nothing
# the failed runs did changed the repository: with the faults off, every
# command works and verify --read-data finds it whole.
. "$(dirname "$0")/lib.sh"
. "$HERE/lib_s3.sh"
s3_setup
proxy_start

export GFSBACKUP_S3_ENDPOINT=$PROXY
export GFSBACKUP_S3_ATTEMPTS=3
B=gfsb-transport
R=s3://$B/repo
S=$T/src
mkdir -p "$S/docs"
head -c 2000000 /dev/urandom >"$S/big.bin"
for i in $(seq 1 20); do echo "document $i $RANDOM" >"$S/docs/d$i.txt"; done
init_repo "$R"
expect 0 "$GFSB" backup -r "$R" -q --time '2026-01-01 01:00:00' "$S"
echo "edited" >>"$S/docs/d1.txt"
expect 0 "$GFSB" backup -r "$R" -q --time '2026-01-02 01:00:00' "$S"
s3_listing "$B/repo" >"$T/before"

# storage_error HOW OBJECT: the last command's output names OBJECT and HOW
# (the HTTP status and S3 code, or the network failure) with the tries,
# and calls nothing damaged.
storage_error() {
	err_has "$2"
	err_has "$1"
	err_has "(after 3 tries)"
	if grep -iE 'damage|corrupt|intact|no readable|wrong passphrase|another repository' \
		"$T/out" "$T/err"; then
		cat "$T/err"
		fail "a storage failure was reported as damage"
	fi
}

# reads CMD: run CMD of the repository (no cache: every object is read
# from the bucket) and expect it to fail with exit status 1.
reads() {
	case $1 in
	snapshots) expect 1 "$GFSB" snapshots -r "$R" --no-cache ;;
	restore)
		rm -rf "$T/r"
		expect 1 "$GFSB" restore -r "$R" --no-cache latest --target "$T/r" ;;
	verify) expect 1 "$GFSB" verify -r "$R" --no-cache ;;
	verify-data) expect 1 "$GFSB" verify -r "$R" --no-cache --read-data ;;
	backup) expect 1 "$GFSB" backup -r "$R" --no-cache -q "$S" ;;
	sync)
		rm -rf "$T/mirror"
		expect 1 "$GFSB" sync -r "$R" --no-cache --to "$T/mirror" ;;
	*) fail "no command $1" ;;
	esac
}

# failing FAULT PATH HOW OBJECT CMD...: with every GET whose path matches
# PATH failing with FAULT, each CMD fails with a storage error.
failing() {
	local fault=$1 path=$2 how=$3 obj=$4 cmd
	shift 4
	for cmd in "$@"; do
		faults "{\"rate\": 1, \"kinds\": [\"$fault\"], \"methods\": [\"GET\"], \"path\": \"$path\", \"reset_counters\": true}"
		reads "$cmd"
		storage_error "$how" "$obj"
		[ "$(proxy_counter faults_total)" -ge 3 ] ||
			fail "$cmd: the fault was not retried"
		echo "   $cmd: $(grep -o "${how}[^(]*(after 3 tries)" "$T/err" | head -1)"
	done
	faults '{"rate": 0}'
}

ALL="snapshots restore verify verify-data backup sync"
HTTP="HTTP 500 InternalError"
RESET="Connection reset by peer"

step "key files: 500 on every GET"
# shellcheck disable=SC2086
failing 500 /keys/ "$HTTP" "$R/keys/" $ALL
step "key files: connection reset on every GET"
# shellcheck disable=SC2086
failing reset /keys/ "$RESET" "$R/keys/" $ALL

step "the config: 500 on every GET"
# shellcheck disable=SC2086
failing 500 '/config$' "$HTTP" "$R/config" $ALL

step "index files: 500 on every GET"
failing 500 /index/ "$HTTP" "$R/index/" restore verify verify-data backup sync

step "snapshots: 500 on every GET"
# shellcheck disable=SC2086
failing 500 /snapshots/ "$HTTP" "$R/snapshots/" $ALL

step "packs: 500 on every GET"
failing 500 /data/ "$HTTP" "$R/data/" restore verify verify-data backup sync
step "packs: connection reset on every GET"
failing reset /data/ "$RESET" "$R/data/" restore verify verify-data backup sync

step "redirects are not followed (a 307 to elsewhere is a failure)"
for path in /keys/ /data/; do
	faults "{\"rate\": 1, \"kinds\": [\"redirect\"], \"methods\": [\"GET\"], \"path\": \"$path\", \"reset_counters\": true}"
	reads restore
	err_has "HTTP 307"
	err_has "$R$path"
	[ "$(proxy_counter faults_total)" -ge 1 ] || fail "$path: no redirect sent"
	[ "$(proxy_counter redirects_followed)" = 0 ] ||
		fail "$path: the client followed a redirect"
	echo "   $path: $(grep -o 'HTTP 307[^(]*' "$T/err" | head -1)"
done
faults '{"rate": 0}'

step "three tries, not more: one key file, one failure"
faults '{"rate": 1, "kinds": ["500"], "methods": ["GET"], "path": "/keys/", "reset_counters": true}'
reads snapshots
storage_error "$HTTP" "$R/keys/"
[ "$(proxy_counter faults_total)" = 3 ] ||
	fail "$(proxy_counter faults_total) GETs of the key file, not 3"

step "the tree pack cached on first use: its failure is not retried twice"
faults '{"rate": 1, "kinds": ["500"], "methods": ["GET"], "path": "/data/", "reset_counters": true}'
rm -rf "$T/r" "$T/cache1"
expect 1 "$GFSB" restore -r "$R" --cache-dir "$T/cache1" latest --target "$T/r"
storage_error "$HTTP" "$R/data/"
[ "$(proxy_counter faults_total)" = 3 ] ||
	fail "$(proxy_counter faults_total) GETs of the tree pack, not 3"

step "verify --read-data: a pack that cannot be read could not be checked"
# Trees come from the cache, so only the reading of the packs fails.
faults '{"rate": 0}'
expect 0 "$GFSB" verify -r "$R" --cache-dir "$T/cache2"
faults '{"rate": 1, "kinds": ["500"], "methods": ["GET"], "path": "/data/", "reset_counters": true}'
expect 1 "$GFSB" verify -r "$R" --cache-dir "$T/cache2" --read-data
storage_error "$HTTP" "$R/data/"
one_line_error "verify: not every pack could be checked: GET $R/data/"

step "failures that pass are retried as before"
faults '{"every": 1, "max_faults": 2, "kinds": ["500"], "methods": ["GET"], "path": "/keys/", "reset_counters": true}'
expect 0 "$GFSB" snapshots -r "$R" --no-cache
out_has "2 snapshots"
[ "$(proxy_counter faults_total)" = 2 ] || fail "no transient fault"
faults '{"every": 1, "max_faults": 2, "kinds": ["reset"], "methods": ["GET"], "path": "/data/", "reset_counters": true}'
rm -rf "$T/r"
expect 0 "$GFSB" restore -r "$R" --no-cache -q latest --target "$T/r"
$PY "$HERE/treecmp.py" "$S" "$T/r$S" || fail "restore differs"
[ "$(proxy_counter faults_total)" = 2 ] || fail "no transient fault"

step "a lock that cannot be read is neither ignored nor removed"
faults '{"rate": 0}'
hold_lock "$R" exclusive
faults '{"rate": 1, "kinds": ["500"], "methods": ["GET"], "path": "/locks/"}'
expect 1 "$GFSB" unlock -r "$R"
storage_error "$HTTP" "$R/locks/"
expect 1 "$GFSB" prune -r "$R"
storage_error "$HTTP" "$R/locks/"
faults '{"rate": 0}'
[ "$("${RCLONE[@]}" lsf "ceph:$B/repo/locks" | wc -l)" = 1 ] ||
	fail "the live lock was removed"
expect 11 "$GFSB" prune -r "$R"
release_lock

step "an object too large to be ours: one GET, cut off at the limit"
# A planted snapshot of 200 MiB (the limit is 64 MiB): read with one GET
# and no HEAD first, refused as too large once the limit is passed, and
# never held whole.
big=$(printf 'b%.0s' $(seq 64))
# The same command's memory without it, for the bound below (a build with
# sanitizers needs more of its own).
/usr/bin/time -f %M -o "$T/rss0" "$GFSB" snapshots -r "$R" --no-cache \
	>"$T/out" 2>"$T/err" || { cat "$T/err"; fail "snapshots failed"; }
head -c 200M /dev/zero | "${RCLONE[@]}" rcat "ceph:$B/repo/snapshots/$big" ||
	fail "cannot plant the large snapshot"
faults '{"rate": 0, "methods": ["HEAD"], "path": "/snapshots/", "reset_counters": true}'
/usr/bin/time -f %M -o "$T/rss" "$GFSB" snapshots -r "$R" --no-cache \
	>"$T/out" 2>"$T/err" && fail "a snapshot of 200 MiB was read"
err_has "snapshots/$big is too large"
[ "$(proxy_counter matched)" = 0 ] || fail "a HEAD before the GET"
# Up to the 64 MiB limit read (and its buffer's growth), never 200 MiB.
rss0=$(tail -n 1 "$T/rss0")
rss=$(tail -n 1 "$T/rss")
[ "$rss" -lt $((rss0 + 150 * 1024)) ] ||
	fail "200 MiB held to refuse it ($rss KiB, $rss0 KiB without it)"
faults '{"rate": 0}'
"${RCLONE[@]}" deletefile "ceph:$B/repo/snapshots/$big" ||
	fail "cannot remove the large snapshot"

step "nothing changed: the repository is whole, everything works"
s3_listing "$B/repo" >"$T/after"
cmp -s "$T/before" "$T/after" || { diff "$T/before" "$T/after";
	fail "failed runs changed the bucket"; }
expect 0 "$GFSB" verify -r "$R" --no-cache --read-data
out_has "no damage found"
expect 0 "$GFSB" snapshots -r "$R" --no-cache
out_has "2 snapshots"
rm -rf "$T/r" "$T/mirror"
expect 0 "$GFSB" restore -r "$R" --no-cache -q latest --target "$T/r"
$PY "$HERE/treecmp.py" "$S" "$T/r$S" || fail "restore differs"
expect 0 "$GFSB" sync -r "$R" --no-cache --to "$T/mirror"
expect 0 "$GFSB" verify -r "$T/mirror" --read-data
out_has "no damage found"
echo "PASS"
