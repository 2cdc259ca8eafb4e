#!/bin/bash
# Hostile source trees: whatever the files being backed up do while they
# are read, a backup never crashes, never hangs and never follows a
# symlink out of the tree; what it stores restores exactly as stored.
#
#   1. files that grow, shrink, are rewritten, deleted and recreated while
#      being read (background writers racing repeated backups);
#   2. directories replaced by symlinks (to / and to a directory outside
#      the tree holding a sentinel) while the walk goes through them;
#   3. names that are not UTF-8, hold newlines, or are 255 bytes long;
#   4. a tree GFSB_HOSTILE_DEPTH levels deep (10,000: paths far beyond
#      PATH_MAX), also with a progress display and under a low descriptor
#      limit;
#   5. GFSB_HOSTILE_FILES empty files (200,000) in a few directories;
#   6. a 2 TiB file of holes with a few bytes of data;
#   7. FIFOs, sockets, device nodes, unreadable files and directories, and
#      a file swapped for a FIFO while being listed.
#
# Sized for CI (about a minute, also under ASan+UBSan).  The long run the
# hardening issue asks for:
#   GFSB_HOSTILE_FILES=1000000 GFSB=build/gfsbackup tests/e2e/22-hostile-source.sh
# GFSB_HOSTILE_RACE (seconds of racing in cases 1, 2 and 7, default 4) and
# GFSB_HOSTILE_DISK_DEPTH (case 4's restore to disk, default 2200 levels,
# see below) scale the rest.
. "$(dirname "$0")/lib.sh"

FILES=${GFSB_HOSTILE_FILES:-200000}
DEPTH=${GFSB_HOSTILE_DEPTH:-10000}
DISK_DEPTH=${GFSB_HOSTILE_DISK_DEPTH:-2200}
RACE=${GFSB_HOSTILE_RACE:-4}
T0=$(date +%s.%N)
TIMEOUT="timeout -k 5 60" # a hang fails the test instead of blocking CI

# The writers and walkers that race the backups, in python so that each
# is one process with a deadline (bounded) that the test also kills.
cat >"$T/racer.py" <<'PYEOF'
import os, sys, time
mode, path, secs = sys.argv[1], sys.argv[2].encode(), float(sys.argv[3])
end = time.monotonic() + secs
blk = os.urandom(1 << 20)
n = 0
while time.monotonic() < end and n < 10**7:
    n += 1
    try:
        if mode == "append":      # grows, then starts again
            with open(path, "ab") as f:
                f.write(blk[: 64 << 10])
            if os.path.getsize(path) > (48 << 20):
                os.truncate(path, 1 << 20)
        elif mode == "shrink":    # shrinks under the reader, regrows
            os.truncate(path, (n * 7919 % 24) << 20)
        elif mode == "rewrite":   # same size, new bytes in place
            with open(path, "r+b") as f:
                f.seek((n * 104729) % (16 << 20))
                f.write(blk[: 256 << 10])
        elif mode == "vanish":    # deleted and recreated
            os.unlink(path)
            with open(path, "wb") as f:
                f.write(blk * (1 + n % 8))
        elif mode == "dirswap":   # a directory, then a symlink out
            away = path + b".away"
            out = sys.argv[4].encode()
            os.rename(path, away)
            os.symlink(b"/" if n % 2 else out, path)
            time.sleep(0.0005)
            os.unlink(path)
            os.rename(away, path)
        elif mode == "fifoswap":  # a large file, then a FIFO
            os.unlink(path)
            if n % 2:
                os.mkfifo(path)
            else:
                with open(path, "wb") as f:
                    f.write(blk * 2)
    except OSError:
        pass
PYEOF

# race MODE PATH [ARG]: start a racer in the background.
race() {
	$PY "$T/racer.py" "$1" "$2" "$RACE" "${3-}" &
	BGPIDS+=("$!")
}

# stop_racers: kill every racer still running and wait for it.
stop_racers() {
	local p
	for p in "${BGPIDS[@]+"${BGPIDS[@]}"}"; do
		kill "$p" 2>/dev/null || true
		wait "$p" 2>/dev/null || true
	done
	BGPIDS=()
}

# warnings_seen: what the backups since the last call warned about, one
# line per kind (the path's last component and the reason).
warnings_seen() {
	if [ -s "$T/allwarn" ]; then
		sed -n 's|^gfsbackup: warning: .*/\([^/]*\): |  \1: |p' \
			"$T/allwarn" | sort | uniq -c | sort -rn | head -8
	fi
	rm -f "$T/allwarn"
}

# backup_ok REPO PATH...: a backup that must finish with 0 or 3 (warnings
# about files that changed or vanished), never a crash or a hang.
backup_ok() {
	local repo=$1 rc=0
	shift
	$TIMEOUT "$GFSB" backup -r "$repo" -q "$@" >"$T/out" 2>"$T/err" ||
		rc=$?
	if [ "$rc" != 0 ] && [ "$rc" != 3 ]; then
		cat "$T/err"
		fail "backup of $* exited $rc (124: hung; >128: crashed)"
	fi
	cat "$T/err" >>"$T/allwarn"
	if grep -v -e 'warning:' -e '^gfsbackup: backup: ' "$T/err" |
	    grep -q .; then
		cat "$T/err"
		fail "backup of $* printed something that is not a warning"
	fi
}

# restore_ok REPO SNAP TARGET: a restore that must succeed completely.
restore_ok() {
	$TIMEOUT "$GFSB" restore -r "$1" -q "$2" --target "$3" >"$T/out" \
		2>"$T/err" || { cat "$T/err"; fail "restore of $2 failed"; }
}

verify_ok() {
	$TIMEOUT "$GFSB" verify -r "$1" --read-data --no-state >"$T/out" \
		2>"$T/err" || { cat "$T/out" "$T/err";
		fail "verify --read-data of $1 is not clean"; }
}

snap_ids() { snap_json "$1" | $PY -c '
import json, sys
for s in json.load(sys.stdin):
    print(s["id"])'; }

# timed CMD...: run CMD under the timeout; its peak RSS (KiB) and
# elapsed seconds go to $T/time.
timed() {
	$TIMEOUT /usr/bin/time -f '%M %e' -o "$T/time" "$@"
}

hstep() { echo "== [$(since "$T0") s] $*"; }

# some_snaps REPO: the first, a middle and the last snapshot (restoring
# every one of many would cost more than it finds).
some_snaps() {
	snap_ids "$1" | awk '{ id[NR] = $0 } END { if (NR) print id[1];
		if (NR > 2) print id[int((NR + 1) / 2)]; if (NR > 1) print id[NR] }'
}

# since T: seconds elapsed since date +%s.%N gave T
since() { awk -v a="$1" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }'; }

#######################################################################
hstep "1. files growing, shrinking, rewritten and vanishing while read"
S=$T/race
R=$T/repo1
mkdir -p "$S"
head -c 24000000 /dev/urandom >"$S/stable1.bin"
head -c 9000000 /dev/urandom >"$S/stable2.bin"
head -c 6000000 < <(yes 'a line of a log that does not change') \
	>"$S/stable3.log"
head -c 8000000 /dev/urandom >"$S/grow.log"
head -c 16000000 /dev/urandom >"$S/shrink.bin"
head -c 16000000 /dev/urandom >"$S/rewrite.bin"
head -c 8000000 /dev/urandom >"$S/vanish.bin"
for i in $(seq 1 20); do echo "small $i" >"$S/small$i.txt"; done
mkdir "$T/stable-copy"
cp -a "$S"/stable* "$S"/small* "$T/stable-copy/"
init_repo "$R"
race append "$S/grow.log"
race shrink "$S/shrink.bin"
race rewrite "$S/rewrite.bin"
race vanish "$S/vanish.bin"
n=0
end=$(($(date +%s) + RACE))
while [ "$(date +%s)" -lt "$end" ] && [ "$n" -lt 20 ]; do
	# --force: every file is read again, so every backup races.
	backup_ok "$R" --force "$S"
	n=$((n + 1))
done
stop_racers
echo "$n backups raced the writers; their warnings:"
warnings_seen
[ "$n" -ge 1 ] || fail "no backup ran"
for id in $(some_snaps "$R"); do
	rm -rf "$T/r1"
	restore_ok "$R" "$id" "$T/r1"
	for f in "$T/stable-copy"/*; do
		cmp -s "$f" "$T/r1$S/${f##*/}" ||
			fail "snapshot $id: ${f##*/} (not raced) differs"
	done
	# Each raced file comes back with the size the snapshot lists.
	"$GFSB" ls -r "$R" -l "$id" "$S" >"$T/ls"
	while read -r _ _ _ size _ _ path; do
		[ -f "$T/r1$path" ] || continue
		[ "$(stat -c %s "$T/r1$path")" = "$size" ] ||
			fail "snapshot $id: $path restored with another size"
	done <"$T/ls"
done
rm -rf "$T/r1"
verify_ok "$R"
rm -rf "$S" "$R" "$T/stable-copy"

#######################################################################
hstep "2. directories swapped for symlinks out of the tree mid-walk"
S=$T/walk
R=$T/repo2
OUT=$T/outside
SENT=sentinel-$RANDOM$RANDOM
mkdir -p "$OUT" "$S"
echo "$SENT-content" >"$OUT/$SENT"
$PY - "$S" <<'PYEOF'
import os, sys
for d in range(200):
    p = os.path.join(sys.argv[1], "sub%03d" % d)
    os.mkdir(p)
    for f in range(25):
        with open(os.path.join(p, "f%02d" % f), "w") as fh:
            fh.write("file %d of %d\n" % (f, d))
PYEOF
ln -s / "$S/escape-root"
ln -s "$OUT" "$S/escape-out"
init_repo "$R"
race dirswap "$S/sub050" "$OUT"
race dirswap "$S/sub100" "$OUT"
race dirswap "$S/sub150" "$OUT"
race dirswap "$S/sub199" "$OUT"
n=0
end=$(($(date +%s) + RACE))
while [ "$(date +%s)" -lt "$end" ] && [ "$n" -lt 30 ]; do
	backup_ok "$R" --force "$S"
	n=$((n + 1))
done
stop_racers
echo "$n backups raced the swaps; their warnings:"
warnings_seen
[ "$n" -ge 1 ] || fail "no backup ran"
sw=0
for id in $(snap_ids "$R"); do
	# Every path in the snapshot is in the tree (or above it); a
	# directory listed while it was a symlink is stored as one.
	"$GFSB" ls -r "$R" "$id" >"$T/ls" || fail "ls of $id failed"
	grep -v -x -e / -e /tmp -e "$T" -e "$S" -e "$S/[^/]*" \
		-e "$S/sub[0-9]*\(.away\)\?/f[0-9]*" "$T/ls" >"$T/bad" || true
	[ ! -s "$T/bad" ] || { head "$T/bad";
		fail "snapshot $id holds files from outside the tree"; }
	"$GFSB" ls -r "$R" -l "$id" >"$T/ls" || fail "ls -l of $id failed"
	grep -q -e "$SENT" -e passwd "$T/ls" &&
		fail "snapshot $id names a file from outside the tree"
	sw=$((sw + $(grep -c "^l.* $S/sub[0-9]* -> " "$T/ls" || true)))
	grep -q "^l.* $S/escape-root -> /\$" "$T/ls" ||
		fail "escape-root not stored as a symlink"
	grep -q "^l.* $S/escape-out -> $OUT\$" "$T/ls" ||
		fail "escape-out not stored as a symlink"
done
echo "$sw swapped directories were stored as symlinks, none followed"
for id in $(some_snaps "$R"); do
	rm -rf "$T/r2"
	restore_ok "$R" "$id" "$T/r2"
	if grep -rlq -e "$SENT" -e '^root:' "$T/r2" ||
	    find "$T/r2" -name "$SENT" -o -name passwd | grep -q .; then
		fail "restore of $id wrote files from outside the tree"
	fi
	[ -L "$T/r2$S/escape-root" ] && [ -L "$T/r2$S/escape-out" ] ||
		fail "symlinks not restored as symlinks"
done
rm -rf "$T/r2" "$S" "$R"

#######################################################################
hstep "3. names that are not UTF-8, with newlines, 255 bytes long"
S=$T/names
R=$T/repo3
cat >"$T/bytestree.py" <<'PYEOF'
import os, sys
def tree(root):
    out = {}
    for dp, dns, fns in os.walk(root):
        for n in dns + fns:
            p = os.path.join(dp, n)
            st = os.lstat(p)
            v = (st.st_mode, st.st_size)
            if os.path.islink(p):
                v += (os.readlink(p),)
            elif os.path.isfile(p):
                with open(p, "rb") as f:
                    v += (f.read(),)
            out[os.path.relpath(p, root)] = v
    return out
a, b = tree(os.fsencode(sys.argv[1])), tree(os.fsencode(sys.argv[2]))
if a != b:
    for k in sorted(set(a) | set(b)):
        if a.get(k) != b.get(k):
            print("differs:", k, a.get(k), b.get(k))
    sys.exit(1)
print("%d entries identical, bytes for bytes" % len(a))
PYEOF
$PY - "$S" <<'PYEOF'
import os, sys
root = os.fsencode(sys.argv[1])
os.mkdir(root)
names = [b"latin1-\xe9\xff", b"\xff\xfe\xfd", b"new\nline", b"\nstarts",
         b"ends\n", b"tab\there", b"\x01\x02ctl\x7f", b"-dash", b" sp ",
         b"*?[glob]", b"back\\slash", b"\xc3\x28bad-utf8",
         b"\xed\xa0\x80surrogate", b"A" * 255, b"\xe9" * 255,
         "\u00e9t\u00e9-\u65e5\u672c".encode()]
for i, n in enumerate(names):
    with open(os.path.join(root, n), "wb") as f:
        f.write(b"content of %r\n" % n)
d = os.path.join(root, b"D" * 255)
os.mkdir(d)
for i in range(3):
    with open(os.path.join(d, (b"%d" % i) * 255), "wb") as f:
        f.write(b"x" * i)
os.mkdir(os.path.join(root, b"dir\nwith\xffnewline"))
os.symlink(b"target\n\xff", os.path.join(root, b"link\xfe"))
PYEOF
init_repo "$R"
backup_ok "$R" "$S"
[ ! -s "$T/err" ] || { cat "$T/err"; fail "warnings on valid names"; }
restore_ok "$R" latest "$T/r3"
$PY "$T/bytestree.py" "$S" "$T/r3$S" || fail "names did not round-trip"
"$GFSB" restore -r "$R" -q latest --to-tar "$T/r3.tar" >/dev/null 2>&1
mkdir "$T/r3x"
tar --warning=no-unknown-keyword -xf "$T/r3.tar" -C "$T/r3x"
$PY "$T/bytestree.py" "$S" "$T/r3x$S" || fail "names differ in the tar"
rm -rf "$S" "$R" "$T/r3" "$T/r3x" "$T/r3.tar"

#######################################################################
hstep "4. a tree $DEPTH levels deep"
# Paths far beyond PATH_MAX: built, compared and removed with directory
# descriptors, never full paths.
cat >"$T/deep.py" <<'PYEOF'
import os, sys
D = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW
def make(root, depth):
    os.mkdir(root)
    fd = os.open(root, D)
    for i in range(depth):
        os.mkdir("d", 0o755 if i % 3 else 0o750, dir_fd=fd)
        nfd = os.open("d", D, dir_fd=fd)
        os.close(fd)
        fd = nfd
    f = os.open("leaf", os.O_WRONLY | os.O_CREAT, 0o640, dir_fd=fd)
    os.write(f, b"the leaf at depth %d\n" % depth)
    os.close(f)
    os.close(fd)
def walk(root):
    """[(mode, mtime_ns) per level], leaf content"""
    fd = os.open(root, D)
    levels = []
    while True:
        st = os.fstat(fd)
        levels.append((st.st_mode, st.st_mtime_ns))
        names = sorted(os.listdir(fd))
        if names != ["d"]:
            break
        nfd = os.open("d", D, dir_fd=fd)
        os.close(fd)
        fd = nfd
    data = None
    if names == ["leaf"]:
        f = os.open("leaf", os.O_RDONLY | os.O_NOFOLLOW, dir_fd=fd)
        data = os.read(f, 4096)
        os.close(f)
    os.close(fd)
    return levels, data, names
def rm(root):
    # Iteratively, bottom-up, by descriptors.
    fds = [os.open(root, D)]
    while True:
        names = os.listdir(fds[-1])
        if "d" in names:
            fds.append(os.open("d", D, dir_fd=fds[-1]))
            continue
        for n in names:
            os.unlink(n, dir_fd=fds[-1])
        os.close(fds.pop())
        if not fds:
            break
        os.rmdir("d", dir_fd=fds[-1])
    os.rmdir(root)
def compare(a, b, depth):
    la, da, _ = walk(a)
    lb, db, nb = walk(b)
    print("source: %d levels; restored: %d levels, leaf %r"
          % (len(la) - 1, len(lb) - 1, db))
    ok = len(la) == len(lb) == depth + 1 and da == db and da is not None
    modes = sum(1 for x, y in zip(la[1:], lb[1:]) if x[0] != y[0])
    times = sum(1 for x, y in zip(la[1:], lb[1:]) if x[1] != y[1])
    print("directories with another mode: %d, another mtime: %d"
          % (modes, times))
    return ok, modes, times
def tar(path, depth):
    # The deepest entry of a pax archive of the tree, and its data.
    import tarfile
    best = None
    with tarfile.open(fileobj=sys.stdin.buffer, mode="r|") as t:
        for m in t:
            if m.name.endswith("/leaf"):
                best = (m.name.split("/").count("d"), t.extractfile(m).read())
    print("tar: deepest leaf found (levels, content): %r" % (best,))
    return best is not None and best[0] == depth and \
        best[1] == b"the leaf at depth %d\n" % depth
cmd = sys.argv[1]
if cmd == "make":
    make(sys.argv[2], int(sys.argv[3]))
elif cmd == "rm":
    rm(sys.argv[2])
elif cmd == "cmp":
    ok, modes, times = compare(sys.argv[2], sys.argv[3], int(sys.argv[4]))
    strict = sys.argv[5] == "strict"
    sys.exit(0 if ok and (not strict or modes + times == 0) else 1)
elif cmd == "tar":
    sys.exit(0 if tar(sys.argv[2], int(sys.argv[3])) else 1)
PYEOF
S=$T/deep
R=$T/repo4
# One descriptor per level is held while walking: leave room for it.
hard=$(ulimit -Hn)
if [ "$hard" != unlimited ] && [ "$hard" -lt $((DEPTH + 1024)) ]; then
	DEPTH=$((hard - 1024))
	echo "descriptor limit $hard: depth lowered to $DEPTH"
fi
$PY "$T/deep.py" make "$S" "$DEPTH"
init_repo "$R"
t=$(date +%s.%N)
backup_ok "$R" "$S"
[ ! -s "$T/err" ] || { head -c 2000 "$T/err"; fail "warnings on a deep tree"; }
echo "backup of $DEPTH levels: $(since "$t") s"
# (The listing is DEPTH squared bytes: counted, not kept.)
"$GFSB" ls -r "$R" latest "$S" | awk '/\/d\/leaf$/ { leaf++ }
	END { print NR, leaf + 0 }' >"$T/ls"
[ "$(cat "$T/ls")" = "$((DEPTH + 2)) 1" ] ||
	fail "ls lists $(cat "$T/ls") entries and leaves, not $((DEPTH + 2)) 1"
t=$(date +%s.%N)
# (Streamed: the archive holds DEPTH squared bytes of names.)
{ $TIMEOUT "$GFSB" restore -r "$R" -q latest --to-tar - 2>"$T/err" ||
	echo "restore failed: $?" >>"$T/err"; } |
	$PY "$T/deep.py" tar - "$DEPTH" ||
	{ head -c 2000 "$T/err"; fail "the archive lacks the leaf at depth $DEPTH"; }
grep -q "restore failed" "$T/err" && fail "restore --to-tar failed"
echo "restore of $DEPTH levels to a pax archive, read back: $(since "$t") s"

hstep "4b. the same tree with the progress display (a terminal)"
# The ETA's file count walks the tree on its own thread.
$TIMEOUT script -qec "\"$GFSB\" backup -r \"$R\" \"$S\"" /dev/null \
	>"$T/tty" 2>&1 || { tail -c 1000 "$T/tty";
	fail "backup with progress on a terminal failed"; }
grep -q "snapshot .* saved" "$T/tty" || fail "no snapshot with progress"

hstep "4c. the same tree with few descriptors: saved shallower, warned"
rc=0
(ulimit -n 1024 && $TIMEOUT "$GFSB" backup -r "$R" -q "$S") \
	>"$T/out" 2>"$T/err" || rc=$?
[ "$rc" = 3 ] || { head -c 2000 "$T/err"; fail "exit $rc, not 3"; }
err_has "too deep to walk; saved empty"
echo "with 1024 descriptors: $("$GFSB" ls -r "$R" latest "$S" | wc -l)" \
	"entries saved, with the warning"
$PY "$T/deep.py" rm "$S"

hstep "4d. $DISK_DEPTH levels restored to disk"
# libarchive's disk writer checks every component of every path it writes
# (secure symlinks), which costs depth squared: 10,000 levels take about
# 90 s, so the restore to disk goes only beyond PATH_MAX, not 10,000 deep.
S=$T/deep2
$PY "$T/deep.py" make "$S" "$DISK_DEPTH"
backup_ok "$R" "$S"
t=$(date +%s.%N)
rc=0
$TIMEOUT "$GFSB" restore -r "$R" -q latest --target "$T/r4" >"$T/out" \
	2>"$T/err" || rc=$?
sed -n '1,2s/^\(.\{70\}\).*\(.\{90\}\)$/\1...\2/p' "$T/err"
echo "restore of $DISK_DEPTH levels to disk:" \
	"$(since "$t") s, exit $rc," \
	"$(grep -c 'warning:' "$T/err" || true) warnings"
[ "$rc" = 0 ] || { head -c 2000 "$T/err"; fail "restore exited $rc"; }
# Known (libarchive 3.6): directories whose path is longer than PATH_MAX
# get their mode and time from libarchive's deferred fixups, which use the
# full path and fail (ENAMETOOLONG), with one warning each.  The tree and
# its data are complete; only those directories' times may differ.
$PY "$T/deep.py" cmp "$S" "$T/r4$S" "$DISK_DEPTH" loose ||
	fail "deep tree restored wrong"
$PY "$T/deep.py" rm "$S"
rm -rf "$T/r4" "$R"

#######################################################################
hstep "5. $FILES empty files"
S=$T/many
R=$T/repo5
$PY - "$S" "$FILES" <<'PYEOF'
import os, sys
root, n = sys.argv[1], int(sys.argv[2])
for d in range(4):
    os.makedirs(os.path.join(root, "d%d" % d))
for i in range(n):
    os.close(os.open(os.path.join(root, "d%d" % (i % 4), "f%07d" % i),
                     os.O_WRONLY | os.O_CREAT, 0o644))
PYEOF
init_repo "$R"
timed "$GFSB" backup -r "$R" "$S" >"$T/out" 2>"$T/err" ||
	{ cat "$T/err"; fail "backup of $FILES files failed"; }
read -r rss secs <"$T/time"
echo "backup: $secs s, peak RSS $((rss / 1024)) MiB," \
	"repository $(du -sm "$R" | cut -f1) MiB"
grep -q "saved: $FILES files" "$T/out" || { cat "$T/out"; fail "not $FILES files"; }
timed "$GFSB" restore -r "$R" -q latest --target "$T/r5" \
	>"$T/out" 2>"$T/err" || { cat "$T/err"; fail "restore failed"; }
read -r rss secs <"$T/time"
echo "restore: $secs s, peak RSS $((rss / 1024)) MiB"
got=$(find "$T/r5$S" -type f -empty | wc -l)
[ "$got" = "$FILES" ] || fail "restored $got files, not $FILES"
rm -rf "$S" "$T/r5" "$R"

#######################################################################
hstep "6. a 2 TiB file of holes"
S=$T/sparse
R=$T/repo6
mkdir -p "$S"
if truncate -s 2T "$S/huge" 2>/dev/null &&
    [ "$(stat -c %b "$S/huge")" -lt 1024 ]; then
	printf 'START' | dd of="$S/huge" conv=notrunc status=none
	printf 'MIDDLE' | dd of="$S/huge" bs=1 seek=$((1 << 40)) \
		conv=notrunc status=none
	printf 'END' | dd of="$S/huge" bs=1 seek=$(((2 << 40) - 3)) \
		conv=notrunc status=none
	init_repo "$R"
	timed "$GFSB" backup -r "$R" -q "$S" >"$T/out" 2>"$T/err" ||
		{ cat "$T/err"; fail "backup of a 2 TiB sparse file failed"; }
	read -r rss secs <"$T/time"
	size=$(du -sk "$R" | cut -f1)
	echo "backup: $secs s, repository $size KiB"
	[ "${secs%.*}" -lt 10 ] || fail "holes were read ($secs s)"
	[ "$size" -lt 4096 ] || fail "repository is $size KiB"
	restore_ok "$R" latest "$T/r6"
	f=$T/r6$S/huge
	[ "$(stat -c %s "$f")" = $((2 << 40)) ] || fail "size differs"
	[ "$(du -k "$f" | cut -f1)" -lt 1024 ] || fail "holes not restored"
	[ "$(head -c 5 "$f")" = START ] || fail "start differs"
	[ "$(tail -c 3 "$f")" = END ] || fail "end differs"
	[ "$(dd if="$f" bs=1 skip=$((1 << 40)) count=6 status=none)" = \
		MIDDLE ] || fail "middle differs"
	rm -rf "$T/r6" "$R"
else
	skip_part "$(df --output=fstype "$T" | tail -1) under $T cannot" \
		"hold a 2 TiB sparse file"
fi
rm -rf "$S"

#######################################################################
hstep "7. FIFOs, sockets, devices, unreadable files, a file turning FIFO"
S=$T/special
R=$T/repo7
mkdir -p "$S/closed"
cp "$T/pw" "$T/pw7"
export GFSBACKUP_PASSWORD_FILE=$T/pw7
mkfifo "$S/fifo"
$PY -c "import socket; socket.socket(socket.AF_UNIX).bind('$S/sock')"
echo secret >"$S/unreadable"
echo inside >"$S/closed/file"
echo readable >"$S/ok"
head -c 2000000 /dev/urandom >"$S/swapped"
need_root "no devices in the tree"
if is_root; then
	mknod "$S/null" c 1 3
	mknod "$S/loop" b 7 200
fi
chmod 000 "$S/unreadable" "$S/closed"
as_user=()
if is_root; then
	# Root reads everything: run as nobody so that "unreadable" is.
	chown -R nobody: "$S" "$T/pw7"
	chmod 755 "$T"
	mkdir "$R" && chown nobody: "$R"
	as_user=(setpriv --reuid=nobody --regid=nogroup --clear-groups)
fi
"${as_user[@]}" "$GFSB" init -r "$R" --kdf-memory 8M --kdf-iterations 1 \
	-q >/dev/null
race fifoswap "$S/swapped"
n=0
end=$(($(date +%s) + RACE))
while [ "$(date +%s)" -lt "$end" ] && [ "$n" -lt 30 ]; do
	rc=0
	$TIMEOUT "${as_user[@]}" "$GFSB" backup -r "$R" -q --force "$S" \
		>"$T/out" 2>"$T/err" || rc=$?
	[ "$rc" = 3 ] || { cat "$T/err"; fail "backup exited $rc, not 3"; }
	cat "$T/err" >>"$T/allwarn"
	n=$((n + 1))
done
stop_racers
echo "$n backups raced the FIFO swap; their warnings:"
warnings_seen
err_has "unreadable: cannot open: Permission denied"
err_has "closed: cannot open directory: Permission denied; saved empty"
"$GFSB" ls -r "$R" -l latest "$S" >"$T/ls"
grep -q "^p.* $S/fifo\$" "$T/ls" || fail "FIFO not stored"
grep -q "^s.* $S/sock\$" "$T/ls" || fail "socket not stored"
grep -q "^d.* $S/closed\$" "$T/ls" || fail "closed directory not stored"
if is_root; then
	grep -q "^c.* $S/null\$" "$T/ls" || fail "char device not stored"
	grep -q "^b.* $S/loop\$" "$T/ls" || fail "block device not stored"
fi
restore_ok "$R" latest "$T/r7"
[ -p "$T/r7$S/fifo" ] || fail "FIFO not restored"
[ "$(cat "$T/r7$S/ok")" = readable ] || fail "ok differs"
if is_root; then
	[ -c "$T/r7$S/null" ] && [ -b "$T/r7$S/loop" ] ||
		fail "devices not restored"
fi
rm -rf "$T/r7"

echo "total: $(since "$T0") s"
echo "PASS"
