#!/bin/bash
# Makes tests/data/v2: a repository in format v2 (a full key and a
# write-only key, docs/WRITE-ONLY-KEYS.md) that the tests read forever
# after (tests/e2e/48-golden-v2.sh), so that a change that makes
# gfsbackup read v2 differently fails CI.  Run once, by hand, with the
# binary that defines v2; the result is committed.  Never rerun it to make
# a failing test pass: a v3 gets a directory of its own.
#
# Day 1 is backed up with the full key, before the write-only key exists
# (objects under enc); day 2 with the write-only key (its snapshot and
# blobs sealed to the reader, its index file signed and under mkey).
#
#   GFSB=build/gfsbackup tests/data/make-v2.sh
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
OUT=$HERE/v2
GFSB=${GFSB:?set GFSB to the gfsbackup binary}
[ ! -e "$OUT" ] || { echo "$OUT exists: v2 is made once" >&2; exit 1; }
W=$(mktemp -d)
trap 'rm -rf "$W"' EXIT
export TZ=UTC
S=$W/src
"$HERE/tree-v1.sh" "$S" 1
printf 'golden v2 passphrase' >"$W/pw"
printf 'golden v2 write-only passphrase' >"$W/wpw"
chmod 600 "$W/pw" "$W/wpw"
export XDG_CACHE_HOME=$W/cache XDG_STATE_HOME=$W/state
mkdir -p "$OUT"
"$GFSB" init -r "$OUT/repo" --password-file "$W/pw" --kdf-memory 8M \
	--kdf-iterations 1 --pack-size 1M -q
(cd "$W" && "$GFSB" backup -r "$OUT/repo" --password-file "$W/pw" -q \
	--host golden --time '2026-12-06 01:00:00' src)
"$HERE/manifest.py" "$S" >"$OUT/manifest.1"
"$GFSB" key add -r "$OUT/repo" --password-file "$W/pw" -q --write-only \
	--new-password-file "$W/wpw"
"$HERE/tree-v1.sh" "$S" 2
(cd "$W" && "$GFSB" backup -r "$OUT/repo" --password-file "$W/wpw" -q \
	--host golden --time '2026-12-07 01:00:00' src)
"$HERE/manifest.py" "$S" >"$OUT/manifest.2"
"$GFSB" snapshots -r "$OUT/repo" --password-file "$W/pw" --json \
	>"$OUT/snapshots.json"
"$GFSB" version >"$OUT/made-by"
echo "made $OUT"
