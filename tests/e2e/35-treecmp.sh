#!/bin/bash
# The tree comparison every restore scenario relies on (treecmp.py) must
# itself be able to fail: each difference a broken restore could make is
# put into an exact copy of a tree, one at a time, and must be named.
. "$(dirname "$0")/lib.sh"

S=$T/src
mkdir -p "$S/d/sub"
printf 'hello\n' >"$S/d/a.txt"
printf 'world\n' >"$S/d/b.txt"
printf 'third\n' >"$S/d/c.txt"
ln "$S/d/a.txt" "$S/d/sub/a-again"
ln -s a.txt "$S/d/link"
setfattr -n user.note -v one "$S/d/b.txt"
chmod 0750 "$S/d"
touch -d '2026-01-02 03:04:05.123456789' "$S/d/a.txt" "$S/d/c.txt"
touch -d '2025-05-05 05:05:05' "$S/d/sub" "$S/d" "$S"

cmpok() { "$PY" "$HERE/treecmp.py" "$@" >"$T/out" 2>&1 || { cat "$T/out"; fail "treecmp $*"; }; }
# fresh: an exact copy of the source in $C
fresh() { rm -rf "$T/c"; cp -a "$S" "$T/c"; C=$T/c; }
# differs WHAT: treecmp fails on the copy and says WHAT
differs() {
	local rc=0
	"$PY" "$HERE/treecmp.py" "$S" "$C" "${@:2}" >"$T/out" 2>&1 || rc=$?
	[ "$rc" = 1 ] || { cat "$T/out"; fail "treecmp passed (exit $rc) with: $1"; }
	grep -qF -- "$1" "$T/out" || { cat "$T/out"; fail "treecmp did not say: $1"; }
}

step "an exact copy is identical"
fresh
cmpok "$S" "$C"
grep -q "^treecmp: 7 entries identical" "$T/out" || { cat "$T/out"; fail "count"; }

step "missing or empty roots fail"
rm -rf "$T/c"
C=$T/c
differs "not a directory: $T/c"
"$PY" "$HERE/treecmp.py" "$T/nope" "$T/nope2" >"$T/out" 2>&1 && fail "two missing trees compared equal"
mkdir "$T/e1" "$T/e2"
# The same times (two mkdirs may fall in two clock ticks).
touch -r "$T/e1" "$T/e2"
"$PY" "$HERE/treecmp.py" "$T/e1" "$T/e2" >"$T/out" 2>&1 && fail "two empty trees compared equal"
grep -q "is empty" "$T/out" || fail "empty tree not named"
cmpok "$T/e1" "$T/e2" --allow-empty
fresh
ln -s "$S" "$T/srclink"
"$PY" "$HERE/treecmp.py" "$S" "$T/srclink" >"$T/out" 2>&1 && fail "a symlinked root compared equal"

step "the roots themselves"
fresh
chmod 0700 "$C"
differs ".: perm differs"
cmpok "$S" "$C" --no-root
fresh
touch "$C"
differs ".: mtime_ns differs"

step "entries: missing, extra, mode, time, content, xattr, symlink"
fresh
rm "$C/d/c.txt"
differs "missing in restore: d/c.txt"
fresh
: >"$C/d/extra"
touch -r "$S/d" "$C/d"
differs "extra in restore: d/extra"
fresh
chmod 0600 "$C/d/b.txt"
differs "d/b.txt: perm differs"
fresh
touch -d '2026-01-02 03:04:05.123456788' "$C/d/c.txt"
differs "d/c.txt: mtime_ns differs"
fresh
printf 'third!' >"$C/d/c.txt" # same size, other bytes
touch -r "$S/d/c.txt" "$C/d/c.txt"
differs "d/c.txt: sha256 differs"
fresh
setfattr -n user.note -v two "$C/d/b.txt"
differs "d/b.txt: xattrs differs"
fresh
ln -sfn b.txt "$C/d/link"
touch -h -r "$S/d/link" "$C/d/link"
touch -r "$S/d" "$C/d"
differs "d/link: target differs"

step "hard links, both ways"
fresh
rm "$C/d/sub/a-again"
cp -p "$S/d/a.txt" "$C/d/sub/a-again"
touch -r "$S/d/sub" "$C/d/sub"
differs "hard links differ"
fresh
rm "$C/d/c.txt"
ln "$C/d/b.txt" "$C/d/c.txt" # an extra link in the copy only
touch -r "$S/d" "$C/d"
differs "hard links differ"
echo "ok"
