#!/bin/bash
# Makes tests/data/v1: a repository in format v1 that the tests read
# forever after (tests/e2e/38-golden-v1.sh), so that a change that makes
# gfsbackup read v1 differently fails CI.  Run once, by hand, with the
# binary that defines v1; the result is committed.  Never rerun it to make
# a failing test pass: a v2 gets a directory of its own.
#
#   GFSB=build/gfsbackup tests/data/make-v1.sh
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
OUT=$HERE/v1
GFSB=${GFSB:?set GFSB to the gfsbackup binary}
[ ! -e "$OUT" ] || { echo "$OUT exists: v1 is made once" >&2; exit 1; }
W=$(mktemp -d)
trap 'rm -rf "$W"' EXIT
export TZ=UTC
S=$W/src
# The tree: every kind of entry and metadata v1 records.
"$HERE/tree-v1.sh" "$S" 1
printf 'golden v1 passphrase' >"$W/pw"
chmod 600 "$W/pw"
export GFSBACKUP_PASSWORD_FILE=$W/pw XDG_CACHE_HOME=$W/cache XDG_STATE_HOME=$W/state
mkdir -p "$OUT"
"$GFSB" init -r "$OUT/repo" --kdf-memory 8M --kdf-iterations 1 --pack-size 1M -q
(cd "$W" && "$GFSB" backup -r "$OUT/repo" -q --host golden \
	--time '2026-12-06 01:00:00' src)
"$HERE/manifest.py" "$S" >"$OUT/manifest.1"
"$HERE/tree-v1.sh" "$S" 2
(cd "$W" && "$GFSB" backup -r "$OUT/repo" -q --host golden \
	--time '2026-12-07 01:00:00' src)
"$HERE/manifest.py" "$S" >"$OUT/manifest.2"
"$GFSB" snapshots -r "$OUT/repo" --json >"$OUT/snapshots.json"
"$GFSB" version >"$OUT/made-by"
echo "made $OUT"
