#!/bin/bash
# Run every fuzz target for SECONDS each (default 30) on a temporary copy
# of its seed corpus (runs never grow the committed corpus):
#   tests/fuzz/run.sh [SECONDS]
# Needs the fuzz build (CC=clang cmake -S . -B build-fuzz -DGFSBACKUP_FUZZ=ON
# && cmake --build build-fuzz); GFSB_FUZZ_BUILD names another build dir,
# GFSB_FUZZ_TARGETS="tree index" a subset.  Fails (exit 1) on any finding
# (crash, leak, sanitizer report, timeout, out of memory) and prints the
# input that caused it, kept under GFSB_FUZZ_ARTIFACTS (default
# build-fuzz/artifacts).  A longer campaign is the same with a bigger
# number: tests/fuzz/run.sh 3600.
set -uo pipefail
cd "$(dirname "$0")/../.."
secs=${1:-30}
build=${GFSB_FUZZ_BUILD:-build-fuzz}
bindir=$build/tests/fuzz
art=${GFSB_FUZZ_ARTIFACTS:-$build/artifacts}
targets=${GFSB_FUZZ_TARGETS:-$(sed -n 's/^tests\/fuzz\/fuzz_\(.*\)\.c$/\1/p' \
	<(ls tests/fuzz/fuzz_*.c) | grep -v -e '^common$' -e '^cli_stub$')}
mkdir -p "$art"
export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1:strict_string_checks=1
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
# fuzz_one TARGET: run one target; its verdict goes to $tmp/TARGET.result
# (a line "ok ..." or "FAILED ...").
fuzz_one() {
	local t=$1 bin=$bindir/fuzz_$1 log rc stats execs
	if [ ! -x "$bin" ]; then
		echo "FAILED fuzz_$t: not built ($bin)" >"$tmp/$t.result"
		return
	fi
	mkdir -p "$tmp/$t" "$art/$t"
	cp -r "tests/fuzz/$t/." "$tmp/$t/" 2>/dev/null || true
	log=$art/$t.log
	"$bin" "$tmp/$t" -max_total_time="$secs" -rss_limit_mb=512 \
		-malloc_limit_mb=512 -timeout=10 -print_final_stats=1 \
		-artifact_prefix="$art/$t/" >"$log" 2>&1
	rc=$?
	stats=$(grep -E '^#[0-9]+.*DONE' "$log" | tail -1)
	execs=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log")
	if [ $rc -ne 0 ]; then
		{
			echo "FAILED fuzz_$t: exit $rc, log $log"
			grep -E '^(==[0-9]+==ERROR|SUMMARY|.*runtime error)' \
				"$log" | head -5
			sed -n 's/^.*Test unit written to \(.*\)$/  crash input: \1/p' \
				"$log"
		} >"$tmp/$t.result"
	else
		echo "ok fuzz_$t: ${execs:-?} execs/s;$(sed -n \
			's/^.* \(cov: [0-9]*\).* \(corp: [^ ]*\).*$/ \1 \2/p' \
			<<<"$stats")" >"$tmp/$t.result"
	fi
}

# One target per core at a time (GFSB_FUZZ_JOBS to change it).
jobs=${GFSB_FUZZ_JOBS:-$(nproc)}
running=0
for t in $targets; do
	if [ "$running" -ge "$jobs" ]; then
		wait -n
		running=$((running - 1))
	fi
	fuzz_one "$t" &
	running=$((running + 1))
done
wait
failed=()
for t in $targets; do
	cat "$tmp/$t.result"
	grep -q '^ok ' "$tmp/$t.result" || failed+=("$t")
done
if [ ${#failed[@]} -gt 0 ]; then
	echo "fuzzing found problems in: ${failed[*]}" >&2
	exit 1
fi
echo "fuzzing: no findings (${secs}s per target)"
