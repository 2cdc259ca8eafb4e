#!/usr/bin/env bash
# A large repository on a small machine (issue 16): a repository of
# 10 million blobs (10 TiB at 1 MiB a chunk) opens, backs up an unchanged
# tree of a million files, and checks its structure, each in under 1 GiB.
# The blobs beyond the tree's are synthetic: `gfsb_testtool synth-index`
# writes index files naming them in packs of 1000, and the packs are
# sparse files of the size their entries imply (all a structure check
# looks at), so the machine needs no 10 TiB.
#
# Usage: tests/bench/index_bench.sh [--files N] [--blobs "B1 B2 ..."]
#                                   [--gfsbackup PATH] [--workdir DIR]
# N files (default 1000000) of 600 random bytes on a tmpfs, backed up
# once; then for each total B (default "1000000 10000000") synthetic
# blobs are added up to B and, timed with their peak RSS: `stats` (open,
# load the index; its memory per blob), an unchanged backup, and `verify
# --no-state` (the structure). Not in CI: about 10 minutes on 2 cores.
# Requirements: /usr/bin/time, python3.
set -euo pipefail

SCRIPT_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd -P)
REPO_ROOT=$(cd "$SCRIPT_DIR/../.." && pwd -P)
FILES=1000000
BLOBS="1000000 10000000"
GFS="$REPO_ROOT/build/gfsbackup"
WORKDIR=""

die() { echo "index_bench.sh: $*" >&2; exit 1; }
while [[ $# -gt 0 ]]; do
	case $1 in
	--files) FILES=${2:?}; shift 2 ;;
	--blobs) BLOBS=${2:?}; shift 2 ;;
	--gfsbackup) GFS=${2:?}; shift 2 ;;
	--workdir) WORKDIR=${2:?}; shift 2 ;;
	*) die "unknown argument: $1" ;;
	esac
done
[[ $FILES =~ ^[1-9][0-9]*$ ]] || die "bad --files: $FILES"
for b in $BLOBS; do [[ $b =~ ^[1-9][0-9]*$ ]] || die "bad --blobs: $b"; done
TOOL=$(dirname "$GFS")/tests/gfsb_testtool
[[ -x $TOOL ]] || die "no $TOOL (build with the tests)"
if [[ -z $WORKDIR ]]; then
	WORKDIR=$(mktemp -d /var/tmp/gfsb-index.XXXXXX)
	trap 'rm -rf "$WORKDIR" "$DATA"' EXIT
fi
DATA=$(mktemp -d /dev/shm/gfsb-index.XXXXXX)
printf 'bench passphrase\n' >"$WORKDIR/pw"
chmod 600 "$WORKDIR/pw"
export GFSBACKUP_PASSWORD_FILE=$WORKDIR/pw
R=$WORKDIR/repo

echo "making $FILES files of 600 bytes"
/usr/bin/python3 "$SCRIPT_DIR/small_files.py" "$DATA" "$FILES"
"$GFS" init -q -r "$R" >/dev/null
# timed NAME CMD...: wall seconds and peak RSS (KiB) into $WORKDIR/NAME.
timed() {
	local name=$1
	shift
	/usr/bin/time -f '%e %M' -o "$WORKDIR/$name" "$@" >"$WORKDIR/$name.out"
}
timed first "$GFS" backup -q -r "$R" "$DATA"

have=$("$GFS" stats -r "$R" --json | /usr/bin/python3 -c \
	'import json,sys; print(json.load(sys.stdin)["index_blobs"])')
for b in $BLOBS; do
	add=$((b - have))
	if [[ $add -gt 0 ]]; then
		echo "adding $add synthetic blobs (to $b)"
		"$TOOL" synth-index "$R" "$add" >"$WORKDIR/packs.txt"
		/usr/bin/python3 - "$R" "$WORKDIR/packs.txt" <<'PY'
import os, sys
repo, lst = sys.argv[1:]
for line in open(lst):
    name, size = line.split()
    d = os.path.join(repo, "data", name[:2])
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, name), "wb") as f:
        f.truncate(int(size))
PY
		have=$b
	fi
	timed "stats.$b" "$GFS" stats -r "$R" --json
	timed "unchanged.$b" "$GFS" backup -q -r "$R" "$DATA"
	timed "verify.$b" "$GFS" verify -r "$R" --no-state -q
done

/usr/bin/python3 - "$WORKDIR" "$FILES" $BLOBS <<'PY'
import json, sys
w, n, sizes = sys.argv[1], int(sys.argv[2]), sys.argv[3:]
def rd(name):
    t, m = open(f"{w}/{name}").read().split()
    return float(t), int(m) / 1024
t, m = rd("first")
print(f"\nfirst backup of {n} files: {t:.1f} s, {m:.0f} MiB")
print("\n| blobs in the index | index B/blob | open s | open MiB "
      "| unchanged backup s | MiB | verify (structure) s | MiB | all under 1 GiB |")
print("| --- | --- | --- | --- | --- | --- | --- | --- | --- |")
for b in sizes:
    st = json.load(open(f"{w}/stats.{b}.out"))
    per = st["index_memory_bytes"] / st["index_blobs"]
    row = [rd(f"{p}.{b}") for p in ("stats", "unchanged", "verify")]
    ok = "yes" if all(mib < 1024 for _, mib in row) else "NO"
    cells = " | ".join(f"{s:.1f} | {mib:.0f}" for s, mib in row)
    print(f"| {int(b):,} | {per:.1f} | {cells} | {ok} |")
PY
