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
# Ceph through tests/e2e/lib_s3.sh.  Every random choice comes from the
# seed (printed), so a failure is replayed with the same --seed.  A kill
# counts only if it landed (the command died of SIGKILL); every other run
# must exit 0, except a sync into which faults were injected (exit 1).
# Prints the counts the verdict rests on: rounds, runs, kills that landed,
# kills sent too late, faults, syncs failed by faults, snapshots verified,
# bytes restored, lost (must be 0).
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

runs=0 kills=0 late_kills=0 faults_total=0 sync_failures=0
# How long each command took when it ran through (seconds, the last run):
# a kill lands at a random point within that, not mostly at start-up.
declare -A DUR=([backup]=0.3 [forget]=0.1 [prune]=0.2 [sync]=0.5)
rnd_float() { $PY -c "import random; r=random.Random('$SEED/$1/$2'); print(r.random())"; }

# attempt NAME CMD...: run CMD, maybe SIGKILL it after a random delay.
# A kill counts only if it landed (the command died of it: status 137); a
# kill sent after the command had finished (a zombie not yet reaped) does
# not.  Otherwise the status must be 0, except for a sync into which
# faults were injected (FAULTED=1, set by the caller): it may fail, with
# status 1.  Any other status, or 137 without a kill, fails the campaign.
attempt() {
	local name=$1 kill_it delay pid rc=0 t0
	shift
	runs=$((runs + 1))
	kill_it=$($PY -c "print(1 if $(rnd_float "$round" "$name") < $KILL_RATE else 0)")
	t0=$EPOCHREALTIME
	"$@" >"$T/out" 2>"$T/err" &
	pid=$!
	if [ "$kill_it" = 1 ]; then
		delay=$($PY -c "import random; print(random.Random('$SEED/$round/$name/d').uniform(0.0, ${DUR[$name]}))")
		sleep "$delay"
		kill -9 "$pid" 2>/dev/null || true
	fi
	# (braces and 2>/dev/null: bash's own "Killed" notice is not news)
	{ wait "$pid"; } 2>/dev/null || rc=$?
	if [ "$rc" = 137 ]; then
		[ "$kill_it" = 1 ] || { cat "$T/err";
			fail "round $round: $name died of SIGKILL nobody sent"; }
		kills=$((kills + 1))
		return 0
	fi
	if [ "$kill_it" = 1 ]; then
		late_kills=$((late_kills + 1))
	elif [ "$rc" = 0 ]; then
		DUR[$name]=$($PY -c "print(round($EPOCHREALTIME - $t0, 3))")
	fi
	[ "$rc" = 0 ] && return 0
	if [ "$rc" = 1 ] && [ "${FAULTED:-0}" = 1 ]; then
		# Excused by the caller only if faults were injected.
		FAILED_WITH_FAULTS=1
		cp "$T/err" "$T/err.sync"
		return 0
	fi
	cat "$T/err"
	fail "round $round: $name failed (status $rc) without a kill${FAULTED:+ or an injected fault}"
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
			faults "{\"rate\": 0.08, \"seed\": \"$SEED/$round\", \"kinds\": [\"500\", \"503slowdown\", \"reset\", \"truncate\"], \"reset_counters\": true}"
		fi
		# Whether faults went into this sync is known once it is over:
		# a failure is excused after the fact only if some did.
		FAULTED=$USE_S3 FAILED_WITH_FAULTS=0 n=0
		attempt sync "$GFSB" sync -r "$R" -q --to "$MIRROR" "${S3OPT[@]}"
		FAULTED=0
		if [ "$USE_S3" = 1 ]; then
			n=$(proxy_counter faults_total)
			faults_total=$((faults_total + n))
			faults '{"rate": 0}'
		fi
		if [ "$FAILED_WITH_FAULTS" = 1 ]; then
			[ "$n" -gt 0 ] || { cat "$T/err.sync";
				fail "round $round: sync failed with no fault injected"; }
			sync_failures=$((sync_failures + 1))
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

echo "chaos: seed=$SEED rounds=$ROUNDS runs=$runs kills=$kills" \
	"late_kills=$late_kills faults=$faults_total" \
	"sync_failures_with_faults=$sync_failures" \
	"snapshots_verified=$verified bytes_restored=$bytes lost=$lost"
[ "$verified" -gt 0 ] || fail "no snapshot survived to be verified"
[ "$lost" = 0 ] || fail "$lost snapshots did not restore exactly"
echo "ok"
