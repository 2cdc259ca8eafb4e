#!/bin/bash
# Crash and fault campaign: loop backup, forget, prune and sync on a
# repository whose source tree changes every round, killing the process
# (SIGKILL) at random moments and injecting S3 faults into the offsite
# sync; then verify both copies with --read-data and restore every
# snapshot, comparing each file with what the source held when that
# snapshot was taken.  Anything lost fails the campaign.
#
#   tests/chaos/chaos.sh [--rounds N] [--seed S] [--kill-rate P] [--no-s3]
#
# Needs GFSB (the binary); uses tests/e2e/lib.sh and, unless --no-s3,
# Ceph through tests/e2e/lib_s3.sh.  Prints the counts at the end: rounds,
# runs, kills, faults, snapshots verified, bytes restored, lost (must be 0).
ROUNDS=40
SEED=1
KILL_RATE=0.35
USE_S3=1
while [ $# -gt 0 ]; do
	case $1 in
	--rounds) ROUNDS=$2; shift 2 ;;
	--seed) SEED=$2; shift 2 ;;
	--kill-rate) KILL_RATE=$2; shift 2 ;;
	--no-s3) USE_S3=0; shift ;;
	*) echo "chaos.sh: unknown argument $1" >&2; exit 2 ;;
	esac
done
. "$(dirname "$0")/../e2e/lib.sh"
if [ "$USE_S3" = 1 ]; then
	. "$HERE/lib_s3.sh"
	s3_setup
	mkbucket gfsb-chaos
	proxy_start
	MIRROR=s3://gfsb-chaos/mirror
	S3OPT=(--s3-endpoint "$PROXY")
else
	MIRROR=$T/mirror
	S3OPT=()
fi
export GFSBACKUP_S3_ATTEMPTS=3
R=$T/repo
S=$T/src
M=$T/manifests
mkdir -p "$S" "$M"
"$GFSB" init -r "$R" --kdf-memory 8M --kdf-iterations 1 --pack-size 1M -q \
	>/dev/null
printf 'keep-last = 6\nkeep-daily = 3\n' >"$T/policy"

# mutate ROUND: change the source tree (seeded): new, rewritten, appended,
# renamed and deleted files, big and small, compressible and not.
mutate() {
	$PY - "$S" "$SEED" "$1" <<'PYEOF'
import os, random, sys
root, seed, rnd = sys.argv[1], sys.argv[2], int(sys.argv[3])
r = random.Random(f"{seed}/{rnd}")
files = sorted(os.path.join(d, f) for d, _, fs in os.walk(root) for f in fs)
for _ in range(r.randint(3, 12)):
    op = r.random()
    if op < 0.35 or not files:
        d = os.path.join(root, f"d{r.randint(0, 5)}")
        os.makedirs(d, exist_ok=True)
        p = os.path.join(d, f"f{rnd}_{r.randint(0, 10**6)}")
        with open(p, "wb") as f:
            if r.random() < 0.5:
                f.write(os.urandom(r.randint(0, 3_000_000)))
            else:
                f.write((f"line {rnd}\n" * r.randint(1, 200_000)).encode())
        files.append(p)
    elif op < 0.6:
        p = r.choice(files)
        with open(p, "ab") as f:
            f.write(os.urandom(r.randint(1, 300_000)))
    elif op < 0.8:
        p = r.choice(files)
        files.remove(p)
        os.remove(p)
    else:
        p = r.choice(files)
        q = p + "r"
        os.rename(p, q)
        files[files.index(p)] = q
PYEOF
}

# manifest: "sha256  path" of every file of the source, sorted.
manifest() { (cd "$S" && find . -type f -print0 | sort -z |
	xargs -0 -r sha256sum); }

snapshot_ids() { "$GFSB" snapshots -r "$R" --json 2>/dev/null | $PY -c '
import json, sys
for s in json.load(sys.stdin): print(s["id"])' | sort; }

runs=0 kills=0 faults_total=0
rnd_float() { $PY -c "import random; r=random.Random('$SEED/$1/$2'); print(r.random())"; }

# attempt NAME CMD...: run CMD, maybe SIGKILL it after a random delay.
attempt() {
	local name=$1 kill_it delay pid rc=0
	shift
	runs=$((runs + 1))
	kill_it=$($PY -c "print(1 if $(rnd_float "$round" "$name") < $KILL_RATE else 0)")
	"$@" >"$T/out" 2>"$T/err" &
	pid=$!
	if [ "$kill_it" = 1 ]; then
		delay=$($PY -c "import random; print(random.Random('$SEED/$round/$name/d').uniform(0.0, 0.08))")
		sleep "$delay"
		if kill -9 "$pid" 2>/dev/null; then
			kills=$((kills + 1))
		fi
	fi
	# (braces and 2>/dev/null: bash's own "Killed" notice is not news)
	{ wait "$pid"; } 2>/dev/null || rc=$?
	if [ "$rc" != 0 ] && [ "$rc" != 137 ] && [ "$kill_it" = 0 ]; then
		# A failure without a kill must be a fault we injected.
		if ! grep -q "sync" <<<"$name"; then
			cat "$T/err"
			fail "$name failed (status $rc) without being killed"
		fi
	fi
	return 0
}

step "$ROUNDS rounds (seed $SEED, kill rate $KILL_RATE, S3 $USE_S3)"
for round in $(seq 1 "$ROUNDS"); do
	mutate "$round"
	manifest >"$T/now.manifest"
	before=$(snapshot_ids)
	attempt backup "$GFSB" backup -r "$R" -q "$S"
	for id in $(comm -13 <(echo "$before") <(snapshot_ids)); do
		cp "$T/now.manifest" "$M/$id"
	done
	case $((round % 4)) in
	1) attempt forget "$GFSB" forget -r "$R" -q --policy "$T/policy" ;;
	2) attempt prune "$GFSB" prune -r "$R" -q --max-unused 0 ;;
	*)
		if [ "$USE_S3" = 1 ]; then
			faults '{"rate": 0.08, "kinds": ["500", "503slowdown", "reset", "truncate"], "reset_counters": true}'
		fi
		attempt sync "$GFSB" sync -r "$R" -q --to "$MIRROR" "${S3OPT[@]}"
		if [ "$USE_S3" = 1 ]; then
			faults_total=$((faults_total + $(proxy_counter faults_total)))
			faults '{"rate": 0}'
		fi
		;;
	esac
done

step "afterwards: locks, then verify both copies with --read-data"
"$GFSB" unlock -r "$R" -q >/dev/null 2>&1 || true
# A killed prune is finished by the next one; a killed sync by the next.
expect 0 "$GFSB" prune -r "$R" -q
expect 0 "$GFSB" sync -r "$R" -q --to "$MIRROR" "${S3OPT[@]}"
expect 0 "$GFSB" verify -r "$R" --read-data --no-state
expect 0 "$GFSB" verify -r "$MIRROR" "${S3OPT[@]}" --read-data --no-state

step "restore every snapshot from the mirror and compare with its source"
lost=0 verified=0 bytes=0
for id in $(snapshot_ids); do
	[ -f "$M/$id" ] || fail "snapshot $id has no recorded source state"
	out=$T/restore
	rm -rf "$out"
	if ! "$GFSB" restore -r "$MIRROR" "${S3OPT[@]}" "$id" --target "$out" \
		>/dev/null 2>"$T/err"; then
		cat "$T/err"
		lost=$((lost + 1))
		continue
	fi
	got=$(cd "$out$S" 2>/dev/null && find . -type f -print0 | sort -z |
		xargs -0 -r sha256sum)
	if [ "$got" != "$(cat "$M/$id")" ]; then
		diff <(echo "$got") "$M/$id" | head -5
		lost=$((lost + 1))
	fi
	verified=$((verified + 1))
	bytes=$((bytes + $(du -sb "$out" | cut -f1)))
done
rm -rf "$T/restore"

echo "chaos: rounds=$ROUNDS runs=$runs kills=$kills faults=$faults_total" \
	"snapshots_verified=$verified bytes_restored=$bytes lost=$lost"
[ "$verified" -gt 0 ] || fail "no snapshot survived to be verified"
[ "$lost" = 0 ] || fail "$lost snapshots did not restore exactly"
echo "ok"
