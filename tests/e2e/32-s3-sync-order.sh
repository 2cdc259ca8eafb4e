#!/bin/bash
# sync to an S3 mirror (Ceph's RADOS Gateway) stopped at each of its
# writes in turn: after the source forgets a snapshot and prunes, the
# fault proxy refuses every PUT, POST and DELETE from the k-th on (with
# one try per request, as if sync died before its k-th durable step), for
# k = 1, 2, ... until a sync runs through.  After each stop the mirror
# passes verify --read-data and restores every snapshot it lists, and the
# next sync leaves it the source's copy.  Twice: an unlocked mirror that
# follows the source's deletions, and a mirror locked with Object Lock,
# which keeps what the source deleted until the locks pass, with an index
# file of its own naming it.  With GFSB_CRASH_STRIDE=S (the sanitizers'
# pass) the stops are every S-th write, from one that moves with the day,
# until a sync runs through; the plain pass stops at every write.
. "$(dirname "$0")/lib.sh"
. "$HERE/lib_s3.sh"
s3_setup
mkbucket gfsb-order
bash "$S3DIR/ceph.sh" mkbucket "$CEPH" gfsb-order-lock --object-lock \
	>/dev/null
proxy_start

S=$T/src
L=$T/local
"$GFSB" init -r "$L" --kdf-memory 8M --kdf-iterations 1 --pack-size 1M -q \
	>/dev/null
make_history "$L" 3
cp -a "$L" "$T/before"
head -c 1500000 /dev/urandom >"$S/day04.bin"
rm -f "$S/day01.bin"
"$GFSB" backup -r "$L" -q --time "2026-01-04 01:00:00" "$S" >/dev/null
cp -a "$S" "$T/copies/04"
expect 0 "$GFSB" forget -r "$L" --keep-last 3 --prune --max-unused 0%

# The objects a copy holds, "type/name" (locks left out).
s3_names() {
	s3_listing "$1" | awk '{print $2}' | sed 's,^data/../,data/,' | sort
}
local_names() {
	(cd "$1" && find . -type f ! -path './locks/*' ! -name '.tmp-*' \
		-printf '%P\n') | sed 's,^data/../,data/,' | sort
}
check_mirror() {
	"$GFSB" verify -r "$1" --read-data --no-state >"$T/verify.out" \
		2>&1 || { cat "$T/verify.out"; fail "verify finds damage $2"; }
	check_kept "$1"
}

run=0
stride=${GFSB_CRASH_STRIDE:-1}
first=$(( ($(date +%j | sed 's/^0*//') % stride) + 1 ))
for mode in plain locked; do
	bucket=gfsb-order
	lockopt=()
	if [ "$mode" = locked ]; then
		bucket=gfsb-order-lock
		lockopt=(--object-lock compliance)
	fi
	step "$mode mirror: sync stopped before each of its writes in turn"
	for k in $(seq "$first" "$stride" 60); do
		run=$((run + 1))
		M=s3://$bucket/m$run
		# The mirror as it was before the source's prune.
		expect 0 "$GFSB" sync -r "$T/before" --to "$M" "${lockopt[@]}"
		faults '{"from": '"$k"', "kinds": ["500"], "methods": ["PUT", "POST", "DELETE"], "reset_counters": true}'
		rc=0
		GFSBACKUP_S3_ATTEMPTS=1 GFSBACKUP_S3_ENDPOINT=$PROXY \
			"$GFSB" sync -r "$L" --to "$M" >"$T/out" 2>"$T/err" ||
			rc=$?
		faults '{"rate": 0}'
		if [ "$rc" = 0 ]; then
			echo "   $mode: ran through when stopped before write $k"
			break
		fi
		"$GFSB" unlock -r "$L" -q >/dev/null 2>&1
		check_mirror "$M" "($mode, stopped before write $k)"
		expect 0 "$GFSB" sync -r "$L" --to "$M"
		if [ "$mode" = plain ]; then
			cmp -s <(local_names "$L") <(s3_names "$bucket/m$run") ||
				{ diff <(local_names "$L") <(s3_names "$bucket/m$run")
				fail "the mirror is not the source's copy after stop $k"; }
		else
			[ -z "$(comm -23 <(local_names "$L") <(s3_names "$bucket/m$run"))" ] ||
				fail "the locked mirror lacks objects of the source"
		fi
		check_mirror "$M" "($mode, the sync after stop $k)"
	done
	[ "$rc" = 0 ] || fail "sync never ran through ($mode)"
	[ "$k" -gt 3 ] || fail "too few writes exercised ($mode)"
	echo "   $mode: stopped before every $stride-th write from $first"
done

step "the locked mirror keeps what the source deleted, under its lock"
M=s3://gfsb-order-lock/m$run
out_has "wait on their locks"
[ "$(snap_json "$M" | $PY -c 'import json,sys; print(len(json.load(sys.stdin)))')" = 4 ] ||
	fail "the locked mirror does not keep the forgotten snapshot"
echo "PASS"
