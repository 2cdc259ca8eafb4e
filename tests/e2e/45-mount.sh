#!/bin/bash
# mount through the kernel's FUSE: the latest snapshot under the mount
# point is the source tree (contents, modes, owners, times, symlinks), the
# views by time, host, tag and role lead to it, a prune waits for the
# mount's shared lock, nothing can be written, a small read fetches its
# blob and not the rest, bad input is a one-line error, and SIGINT
# unmounts.  Where there is no /dev/fuse, it says so and skips.
. "$(dirname "$0")/lib.sh"

# A machine without FUSE (a container without /dev/fuse) cannot run
# this at all: said, even where every part must run; one that has it
# must mount.
if [ ! -c /dev/fuse ] || ! command -v fusermount3 >/dev/null; then
	echo "SKIP: mount not tested: no /dev/fuse or fusermount3 here"
	exit 0
fi
R=$T/repo
S=$T/src
M=$T/mnt
mkdir -p "$S/www/img" "$M"
init_repo "$R"
head -c 3000000 /dev/urandom >"$S/www/big.bin"
printf 'hello\n' >"$S/www/index.html"
head -c 5000 /dev/urandom >"$S/www/img/a.png"
ln -s index.html "$S/www/home.html"
chmod 0640 "$S/www/index.html"
touch -d '2026-01-02 03:04:05.123456789' "$S/www/index.html" "$S/www/img" \
	"$S/www" "$S"
# old.bin is in the first snapshot only: forgotten and pruned while
# mounted, the mount still reads it (prune waits for the mount's lock).
head -c 300000 /dev/urandom >"$S/www/old.bin"
cp "$S/www/old.bin" "$T/old.bin"
"$GFSB" backup -q -r "$R" --tag web --time '2026-11-30 01:00:00' "$S"
rm "$S/www/old.bin"
touch -d '2026-01-02 03:04:05.123456789' "$S/www"
"$GFSB" backup -q -r "$R" --time '2026-12-01 01:00:00' "$S"

# mount_bg: mount in the background; wait for it (10 s at most).
mount_bg() {
	"$GFSB" mount -r "$R" "$@" "$M" 2>"$T/mount.err" &
	MPID=$!
	BGPIDS+=("$MPID")
	CLEANUPS+=("fusermount3 -u '$M' 2>/dev/null")
	for _ in $(seq 100); do
		[ -L "$M/latest" ] && return 0
		kill -0 "$MPID" 2>/dev/null || break
		sleep 0.1
	done
	cat "$T/mount.err"
	return 1
}
# unmount_wait: unmount, and the mount process ends with status 0.
unmount_wait() {
	fusermount3 -u "$M"
	wait "$MPID" || fail "mount exited $?"
}

step "bad input"
expect 2 "$GFSB" mount -r "$R"
one_line_error "give a mount point"
expect 1 "$GFSB" mount -r "$R" "$T/no-such-dir"
err_has "cannot mount at $T/no-such-dir"

if ! mount_bg; then
	skip_part "mount not tested: FUSE cannot mount here"
	echo ok
	exit 0
fi
step "the latest snapshot is the tree"
"$PY" "$HERE/treecmp.py" "$S" "$M/latest$S" >"$T/cmp" 2>&1 ||
	{ cat "$T/cmp"; fail "the mounted snapshot differs from the source"; }
[ "$(readlink "$M/latest$S/www/home.html")" = index.html ] ||
	fail "a symlink in the snapshot"
step "the views lead to it"
ls "$M" >"$T/top"
for d in ids snapshots hosts tags daily weekly monthly yearly latest; do
	grep -qx "$d" "$T/top" || fail "no $d at the top"
done
cmp -s "$M/tags/web/2026-11-30T01:00:00$S/www/big.bin" "$S/www/big.bin" ||
	fail "tags/web/ does not lead to the snapshot"
cmp -s "$M/hosts/$(hostname)/2026-12-01T01:00:00$S/www/img/a.png" \
	"$S/www/img/a.png" || fail "hosts/ does not lead to the snapshot"
[ -L "$M/daily/2026-12-01T01:00:00" ] || fail "no daily/ entry"
step "forget and prune while mounted: what the mount may read stays"
first=$("$GFSB" snapshots -r "$R" --json | "$PY" -c \
	'import json,sys; print(json.load(sys.stdin)[0]["id"])')
expect 0 "$GFSB" forget -r "$R" "$first" --prune
out_has "wait for other processes"
cmp -s "$M/tags/web/2026-11-30T01:00:00$S/www/old.bin" "$T/old.bin" ||
	fail "a pruned file could not be read through the mount"
step "nothing can be written"
( echo x >"$M/latest$S/new" ) 2>/dev/null && fail "a write succeeded"
rm "$M/latest$S/www/index.html" 2>/dev/null && fail "a remove succeeded"
mkdir "$M/latest$S/d" 2>/dev/null && fail "a mkdir succeeded"
unmount_wait
grep -q "unmounted; the repository" "$T/mount.err" ||
	{ cat "$T/mount.err"; fail "no account at unmount"; }

step "a small read fetches its blob, not the big file's"
mount_bg
cat "$M/latest$S/www/index.html" >/dev/null
unmount_wait
"$PY" - "$T/mount.err" <<'PY' || fail "a small read cost too much"
import re, sys
line = open(sys.argv[1]).read()
m = re.search(r"(\d+) requests, ([\d.]+) (B|KiB|MiB|GiB) received", line)
assert m, line
n = float(m.group(2)) * {"B": 1, "KiB": 1024, "MiB": 2**20, "GiB": 2**30}[m.group(3)]
# The index, the snapshots, three trees and one blob: not the 3 MB file.
assert n < 1024 * 1024, f"{n:.0f} bytes received for a 6-byte file"
print(f"   a 6-byte read: {m.group(1)} requests, {n:.0f} bytes in all")
PY

step "SIGINT unmounts"
mount_bg
kill -INT "$MPID"
wait "$MPID" || fail "mount exited $? on SIGINT"
[ -L "$M/latest" ] && fail "still mounted after SIGINT"
echo ok
