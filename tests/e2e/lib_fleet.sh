# A fleet in one repository (issue 16), for 46-s3-fleet.sh (a bucket on
# Ceph's RADOS Gateway) and 49-dir-fleet.sh (a directory): 8 hosts
# (processes with their own --host and overlapping trees) back up at the
# same moment every night, 20 simulated nights, while on some nights
# `forget --prune` runs from one of them at a random moment, on some is
# killed (SIGKILL) at a random moment, and on the last h2's daily job
# prunes.  Every backup succeeds; prune never waits for a backup nor
# makes one wait; every kept snapshot restores byte-identical to its
# host's tree of that night; verify --read-data is clean; the next backup
# of a host reuses what another host stored (cross-host dedup); and after
# a last prune with nothing running, the repository is within 5% of one
# host's data plus the others' differences.
#
# The caller sets R (the repository), and defines nlocks (how many lock
# objects R holds) and repo_bytes (the bytes R stores), and HOLD: how
# h1's backup is kept running on the nights a prune must meet it:
#   limit  its upload limited to 8 MiB/s (24 MiB to send: an S3 backend);
#   stop   stopped (SIGSTOP) once it holds its lock, and let go
#          (SIGCONT) once the prune, or h2's daily job, has ended.

HOSTS=8
KEEP=3
# GFSB_FLEET_NIGHTS=9 (the sanitizers' pass): two nights of each kind in
# 9.  The last night is h2's daily job.  A big night's prune must find
# whole packs to delete (nights past the first forgotten: the first
# night's packs hold what every snapshot uses), and before the last
# KEEP nights (a kept big file more breaks the size check).
NIGHTS=${GFSB_FLEET_NIGHTS:-20}
case $NIGHTS in
20) PRUNE_NIGHTS="4 19" BIG_NIGHTS="9 15" KILL_NIGHTS="7 12 17" ;;
9) PRUNE_NIGHTS="2 7" BIG_NIGHTS="5 6" KILL_NIGHTS="3 4" ;;
*) echo "GFSB_FLEET_NIGHTS: 20 or 9, not $NIGHTS" >&2; exit 1 ;;
esac

# among N LIST...: N is one of LIST.
among() {
	local n=$1 x
	shift
	for x in "$@"; do [ "$x" = "$n" ] && return 0; done
	return 1
}

# manifest DIR: "sha256  path" of every file under DIR, sorted.
manifest() { (cd "$1" && find . -type f -exec sha256sum {} + | sort -k2); }

# The trees: 6 MiB every host has (the same system files), 256 KiB of
# each host's own, and each night 1 MiB of new data per host.
fleet_trees() {
	local h
	mkdir -p "$T/common" "$T/man" "$T/log"
	head -c 6291456 /dev/urandom >"$T/common/system.img"
	for h in $(seq 1 $HOSTS); do
		mkdir -p "$T/src/h$h/common" "$T/src/h$h/own"
		cp "$T/common/system.img" "$T/src/h$h/common/"
		head -c 262144 /dev/urandom >"$T/src/h$h/own/config.bin"
	done
	cat >"$T/h2.conf" <<EOF
[repository]
url = $R
password-file = $T/pw
state-dir = $T/state

[backup]
paths = $T/src/h2
host = h2

[retention]
keep-last = $KEEP
prune = daily
EOF
	chmod 600 "$T/h2.conf"
}

# backup_bg H N [OPTION...]: host H backs up night N in the background.
backup_bg() {
	local h=$1 n=$2
	shift 2
	"$GFSB" backup -q -r "$R" --host "h$h" "$@" \
		--time "$(printf '2026-06-%02d 01:00:00' "$n")" \
		"$T/src/h$h" >"$T/log/b$h.$n" 2>&1 &
	pids[h - 1]=$!
}

# hold_h1 N: start h1's backup of a big night, and once it holds its
# lock, keep it running as HOLD says.
hold_h1() {
	local n=$1 locks
	locks=$(nlocks)
	if [ "$HOLD" = limit ]; then
		backup_bg 1 "$n" --limit-upload 8192
	else
		backup_bg 1 "$n"
	fi
	for _ in $(seq 1 500); do
		[ "$(nlocks)" -gt "$locks" ] && break
		sleep 0.01
	done
	[ "$(nlocks)" -gt "$locks" ] || fail "night $n: h1 took no lock"
	if [ "$HOLD" = stop ]; then
		kill -STOP "${pids[0]}" 2>/dev/null ||
			fail "night $n: h1's backup ended before it could be held"
	fi
	return 0
}

# wait_host H N: host H's backup of night N exited 0.
wait_host() {
	local rc=0
	wait "${pids[$(($1 - 1))]}" || rc=$?
	[ "$rc" = 0 ] || { cat "$T/log/b$1.$2"; fail "night $2: host" \
		"h$1's backup exited $rc"; }
}

# night N WHAT [big]: every host's tree changes, then all back up at once
# (and, by WHAT, a prune runs: "prune", "kill" or "", or "run": h2's
# daily job backs up and prunes).
night() {
	local n=$1 what=$2 h rc prc=0 ppid= held=0
	pids=()
	for h in $(seq 1 $HOSTS); do
		head -c 1048576 /dev/urandom >"$T/src/h$h/own/day.bin"
	done
	# On some prune nights h1 has 24 MiB new, and its backup outlasts
	# the prune's first phase for sure (HOLD).
	rm -f "$T/src/h1/own/big.bin"
	[ "${3:-}" = big ] && head -c 25165824 /dev/urandom >"$T/src/h1/own/big.bin"
	for h in $(seq 1 $HOSTS); do
		manifest "$T/src/h$h" >"$T/man/h$h.$n"
	done
	# On a big night h1 starts first, and the prune once h1 holds its
	# lock; otherwise the prune starts first: while it marks, the
	# backups begin (each loads the index before the new one is
	# written, or after).
	for h in $(seq 1 $HOSTS); do
		if [ "$h" = 1 ] && [ "${3:-}" = big ]; then
			hold_h1 "$n"
			held=1
		fi
		if [ "$h" = 1 ] && { [ "$what" = prune ] || [ "$what" = kill ]; }; then
			"$GFSB" forget -r "$R" --keep-last $KEEP --prune \
				>"$T/log/p.$n" 2>&1 &
			ppid=$!
			sleep "0.$((RANDOM % 3))"
		fi
		[ "$h" = 1 ] && [ "$held" = 1 ] && continue
		if [ "$h" = 2 ] && [ "$what" = run ]; then
			# h2's daily job: backup, forget, prune, verify.
			"$GFSB" run --config "$T/h2.conf" --time \
				"$(printf '2026-06-%02d 01:00:00' "$n")" \
				>"$T/log/b2.$n" 2>&1 &
			pids[1]=$!
			continue
		fi
		backup_bg "$h" "$n"
	done
	if [ "$what" = kill ]; then
		sleep "0.$((RANDOM % 9))"
		kill -KILL "$ppid" 2>/dev/null || true
	fi
	# A stopped h1 goes on once what had to meet it has ended.
	if [ "$held" = 1 ] && [ "$HOLD" = stop ]; then
		if [ -n "$ppid" ]; then
			wait "$ppid" || prc=$?
		elif [ "$what" = run ]; then
			wait_host 2 "$n"
		fi
		kill -CONT "${pids[0]}"
	fi
	for h in $(seq 1 $HOSTS); do
		[ "$held:$HOLD:$what:$h" = "1:stop:run:2" ] && continue
		wait_host "$h" "$n"
	done
	[ -z "$ppid" ] && { echo "   night $n: ${what:-backups}"; return; }
	if [ "$held" = 0 ] || [ "$HOLD" != stop ]; then
		wait "$ppid" || prc=$?
	fi
	case "$what:$prc" in
	prune:0 | kill:0 | kill:137) ;;
	*) cat "$T/log/p.$n"; fail "night $n: forget --prune exited $prc" ;;
	esac
	echo "   night $n: $what: exit $prc"
}

# The nights, and the proof that the prunes met the backups.
fleet_nights() {
	local n
	step "$NIGHTS nights, $HOSTS hosts at once; forget --prune meets their backups"
	for n in $(seq 1 $NIGHTS); do
		if [ "$n" = "$NIGHTS" ]; then
			night "$n" run big
		elif among "$n" $BIG_NIGHTS; then
			night "$n" prune big
		elif among "$n" $PRUNE_NIGHTS; then
			night "$n" prune
		elif among "$n" $KILL_NIGHTS; then
			night "$n" kill
		else
			night "$n" ""
		fi
	done
	for n in $BIG_NIGHTS; do
		grep -qE "wait for other processes|used by backups saved meanwhile" \
			"$T/log/p.$n" || { cat "$T/log/p.$n"; fail "night $n: the" \
			"prune did not meet h1's backup: the scenario tested nothing"; }
	done
	grep -q "run: prune: OK: .* wait for processes that began before" \
		"$T/log/b2.$NIGHTS" || { cat "$T/log/b2.$NIGHTS"; fail "night" \
		"$NIGHTS: h2's daily job's prune did not meet h1's backup"; }
}

# Cross-host dedup, the kept snapshots restored, verify, and the size.
fleet_checks() {
	local added id want size h n
	step "cross-host dedup: a new host stores only what is its own"
	mkdir -p "$T/src/h9/common" "$T/src/h9/own"
	cp "$T/common/system.img" "$T/src/h9/common/"
	head -c 262144 /dev/urandom >"$T/src/h9/own/config.bin"
	expect 0 "$GFSB" backup -r "$R" --host h9 --json "$T/src/h9"
	read -r added id < <($PY -c 'import json,sys
for l in open(sys.argv[1]):
    o = json.loads(l)
    if o.get("message_type") == "summary":
        print(o["data_added"], o["snapshot_id"])' "$T/out")
	echo "   h9's first backup added $added bytes"
	[ "$added" -lt $((262144 + 65536)) ] ||
		fail "h9 stored $added bytes: the others' copy of the common data was not reused"
	expect 0 "$GFSB" forget -r "$R" "$id"
	step "forget --prune with nothing running: every marked pack goes"
	expect 0 "$GFSB" forget -r "$R" --keep-last $KEEP --prune --max-unused 0
	grep -q "wait for" "$T/out" && { cat "$T/out"; fail "packs still wait"; }

	step "every kept snapshot restores its host's tree of that night"
	"$GFSB" snapshots -r "$R" --json >"$T/snaps.json"
	$PY - "$T/snaps.json" $HOSTS $KEEP $NIGHTS >"$T/kept" <<'PYEOF' ||
import json, sys
snaps = json.load(open(sys.argv[1]))
hosts, keep, nights = map(int, sys.argv[2:])
per = {}
for s in snaps:
    per.setdefault(s["hostname"], []).append(int(s["time"][8:10]))
assert sorted(per) == ["h%d" % h for h in range(1, hosts + 1)], sorted(per)
for h, ns in sorted(per.items()):
    want = list(range(nights - keep + 1, nights + 1))
    assert sorted(ns) == want, (h, sorted(ns), want)
for s in snaps:
    print(s["short_id"], s["hostname"], int(s["time"][8:10]))
PYEOF
		fail "the snapshots kept are not the last $KEEP of every host"
	while read -r id h n; do
		rm -rf "$T/r"
		expect 0 "$GFSB" restore -r "$R" "$id" --target "$T/r"
		manifest "$T/r$T/src/$h" >"$T/got"
		cmp -s "$T/got" "$T/man/$h.$n" ||
			{ diff "$T/got" "$T/man/$h.$n" | head; fail "$h night $n differs"; }
	done <"$T/kept"
	echo "   $(wc -l <"$T/kept") snapshots restored byte-identical"

	step "verify --read-data is clean"
	expect 0 "$GFSB" verify -r "$R" --read-data --no-state

	step "the size: one host's data plus the others' differences, within 5%"
	# Kept: the common file once, each host's own file, its day file of
	# each of the last KEEP nights, and h1's big file of the last night.
	want=$((6291456 + HOSTS * 262144 + HOSTS * KEEP * 1048576 + 25165824))
	size=$(repo_bytes)
	echo "   $size bytes stored for $want bytes of distinct data"
	[ "$size" -le $((want * 105 / 100)) ] && [ "$size" -ge "$want" ] ||
		fail "the repository holds $size bytes, not within 5% of $want"
}
