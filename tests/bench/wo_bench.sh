#!/bin/bash
# The cost of a write-only key (docs/WRITE-ONLY-KEYS.md): backups of the
# bench data set with a write-only key against a full key, in the same
# run, interleaved: the initial backup, an unchanged one, and one after a
# day of changes (gen_data.py --mutate).  Prints the median wall and CPU
# seconds of each and the ratio write-only/full.
#
# Usage: tests/bench/wo_bench.sh [--reps N] [--size-mib N] WORKDIR
# WORKDIR must be empty or absent; the data set is generated in it (seed
# 1, like bench.sh) unless WORKDIR/data exists already.  Not run in CI.
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
GFSB=${GFSB:-$HERE/../../build/gfsbackup}
PY=/usr/bin/python3
REPS=3
SIZE=1024
while [ $# -gt 1 ]; do
	case $1 in
	--reps) REPS=$2; shift 2 ;;
	--size-mib) SIZE=$2; shift 2 ;;
	*) echo "unknown option $1" >&2; exit 2 ;;
	esac
done
[ $# = 1 ] || {
	echo "usage: $0 [--reps N] [--size-mib N] WORKDIR" >&2
	exit 2
}
W=$1
mkdir -p "$W"
[ -d "$W/data" ] || "$PY" "$HERE/gen_data.py" "$W/data" --size-mib "$SIZE" \
	--seed 1 >&2
( umask 077; printf 'full key of the bench' >"$W/pw";
  printf 'write-only key of the bench' >"$W/wpw" )
unset GFSBACKUP_PASSWORD GFSBACKUP_PASSWORD_COMMAND GFSBACKUP_REPOSITORY
export XDG_CACHE_HOME=$W/cache

# one KIND PHASE REPO PWFILE: a backup of $W/src, its times appended to
# $W/times (kind phase wall user+sys).
one() {
	sync
	/usr/bin/time -f "%e %U %S" -o "$W/t" "$GFSB" backup -r "$3" -q \
		--password-file "$4" "$W/src"
	read -r wall user sys <"$W/t"
	echo "$1 $2 $wall $(awk "BEGIN { print $user + $sys }")" >>"$W/times"
}

# both PHASE REP: the full key and the write-only key, in turn (which
# goes first alternates with the repetition).
both() {
	if [ $(( $2 % 2 )) = 0 ]; then
		one full "$1" "$W/full" "$W/pw"
		one wo "$1" "$W/wo" "$W/wpw"
	else
		one wo "$1" "$W/wo" "$W/wpw"
		one full "$1" "$W/full" "$W/pw"
	fi
}

: >"$W/times"
for rep in $(seq 1 "$REPS"); do
	rm -rf "$W/src" "$W/full" "$W/wo" "$W/cache"
	mkdir "$W/src"
	cp -a "$W/data/." "$W/src/"
	for r in full wo; do
		"$GFSB" init -r "$W/$r" -q --password-file "$W/pw" >/dev/null
	done
	"$GFSB" key add -r "$W/wo" -q --password-file "$W/pw" --write-only \
		--new-password-file "$W/wpw" >/dev/null
	both initial "$rep"
	both unchanged "$rep"
	"$PY" "$HERE/gen_data.py" "$W/src" --mutate --seed 1 >&2
	both mutated "$rep"
	echo "rep $rep: repository full $(du -sm "$W/full" | cut -f1) MiB," \
		"write-only $(du -sm "$W/wo" | cut -f1) MiB" >&2
done

"$PY" - "$W/times" <<'PY'
import statistics, sys
t = {}
for line in open(sys.argv[1]):
    kind, phase, wall, cpu = line.split()
    t.setdefault((kind, phase), []).append((float(wall), float(cpu)))
med = lambda v, i: statistics.median(x[i] for x in v)
print("| phase | full wall s | full CPU s | write-only wall s |"
      " write-only CPU s | wall ratio wo/full |")
print("| --- | ---: | ---: | ---: | ---: | ---: |")
for phase in ("initial", "unchanged", "mutated"):
    f, w = t[("full", phase)], t[("wo", phase)]
    fw, fc, ww, wc = med(f, 0), med(f, 1), med(w, 0), med(w, 1)
    print(f"| {phase} | {fw:.2f} | {fc:.2f} | {ww:.2f} | {wc:.2f} |"
          f" {ww / fw:.2f}x |")
PY
