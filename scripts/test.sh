#!/bin/bash
# The whole test suite, as CI runs it:
#   1. build with -Werror and run every test (cmocka unit tests and the
#      end-to-end scenarios on real files and repositories, local and on a
#      real S3 server: Ceph's RADOS Gateway on 127.0.0.1);
#   2. build with AddressSanitizer + UndefinedBehaviorSanitizer and run
#      the unit tests and the end-to-end scenarios again (all but the
#      retention cross-check against restic, which tests semantics).
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/install-deps.sh
jobs=$(nproc)
# The S3 scenarios run against Ceph, which install-deps.sh installed: in
# CI they must never skip.
export GFSB_REQUIRE_S3=1 GFSB_REQUIRE_SMTP=1
# As root (CI), no part of a scenario may skip: the package is installed
# and purged (18-package), mounts, devices, owners and core dumps are all
# tried (skip_part in tests/e2e/lib.sh fails instead of saying it).
if [ "$(id -u)" = 0 ]; then
	export GFSB_REQUIRE_PKG=1 GFSB_REQUIRE_ROOT=1
fi

echo "== build (warnings are errors)"
# Crash points (GFSB_CRASH_AT): the kill tests visit every durable step.
cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo -DGFSBACKUP_WERROR=ON \
	-DGFSBACKUP_CRASH_POINTS=ON >/dev/null
cmake --build build -j "$jobs"
echo "== tests"
# One test more than cores at a time: a scenario also waits (for its
# servers, for the processes it holds), and with one per core the CPUs
# were idle meanwhile (the plain pass took 800 s at -j2, 676 s at -j3 with
# the CPUs 2% idle).  Each scenario starts its own servers on ports it
# picks free and works in its own directory, so they do not meet; the
# costliest start first (COST in tests/CMakeLists.txt).
tjobs=$((jobs + 1))
(cd build && ctest -j "$tjobs" --output-on-failure)

echo "== build with AddressSanitizer and UndefinedBehaviorSanitizer"
cmake -S . -B build-asan -DCMAKE_BUILD_TYPE=Debug -DGFSBACKUP_SANITIZE=ON \
	-DGFSBACKUP_WERROR=ON -DGFSBACKUP_CRASH_POINTS=ON >/dev/null
cmake --build build-asan -j "$jobs"
echo "== tests under the sanitizers"
export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1:strict_string_checks=1
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
# The longest scenarios play shorter campaigns here (the plain pass above
# plays the full ones): 60 nights of the daily job instead of 400, 20
# chaos rounds instead of 40, 20,000 empty files instead of 200,000, the
# fleet's 9 nights instead of 20, and the kill campaigns and sync's stops
# every eighth crash point or write (from one that moves with the day, so
# that eight days visit them all; a campaign also its last) instead of
# every one.  What the sanitizers look for is a bad access on a path, and
# the shorter campaigns still take every path.
(cd build-asan && GFSB_RUN_DAYS=60 GFSB_CHAOS_ROUNDS=20 \
	GFSB_HOSTILE_FILES=20000 GFSB_CRASH_STRIDE=8 GFSB_FLEET_NIGHTS=9 \
	ctest -j "$tjobs" --output-on-failure -LE restic)
echo "== Release build (-O3: the demo's, and its warnings are errors too)"
# -O3 sees further than -O2 into inlined calls, and warns where -O2 does
# not (a variable set through a pointer it cannot follow).
cmake -S . -B build-release -DCMAKE_BUILD_TYPE=Release -DGFSBACKUP_WERROR=ON \
	-DGFSBACKUP_TESTS=OFF >/dev/null
cmake --build build-release -j "$jobs"
echo "== fuzz targets (libFuzzer, ASan+UBSan), 20 s each on their seeds"
# 11 targets, one per core at a time: about 2 minutes.  A longer
# campaign: tests/fuzz/README.md.
CC=clang cmake -S . -B build-fuzz -DCMAKE_BUILD_TYPE=RelWithDebInfo \
	-DGFSBACKUP_FUZZ=ON -DGFSBACKUP_TESTS=OFF >/dev/null
cmake --build build-fuzz -j "$jobs"
tests/fuzz/run.sh 20
echo "== all tests passed"
