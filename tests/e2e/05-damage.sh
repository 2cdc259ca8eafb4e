#!/bin/bash
# Damaged and hostile repositories: a corrupted pack fails only the files
# that use it (named, with the pack), a missing pack likewise, and a tree
# with ".." or "/" in a name is refused with nothing written outside the
# target.
. "$(dirname "$0")/lib.sh"

S=$T/src
mkdir -p "$S/sub"
for f in a b c d; do head -c 2500000 /dev/urandom >"$S/$f.bin"; done
for i in $(seq 1 20); do echo "text $i" >"$S/sub/t$i.txt"; done
R=$T/repo
"$GFSB" init -r "$R" --kdf-memory 8M --kdf-iterations 1 --pack-size 1M \
	-q >/dev/null
expect 0 "$GFSB" backup -r "$R" "$S"

# Packs by size: data packs are about 1 MiB, the tree pack is small.
largest() { find "$R/data" -type f -printf '%s %p\n' | sort -n | tail -1 | cut -d' ' -f2; }

step "a corrupted data pack fails only the file that uses it"
P=$(largest)
cp "$P" "$T/pack.orig"
flip "$P" 100
expect 1 "$GFSB" restore -r "$R" latest --target "$T/r1"
err_has "$(basename "$P")"
err_has "damaged"
grep -c "damaged: blob" "$T/err" | grep -qx 1 || fail "not exactly one file named"
damaged=$(sed -n 's/^gfsbackup: error: \(.*\): damaged: blob.*/\1/p' "$T/err")
echo "damaged file: $damaged"
out_has "with damage"
$PY "$HERE/treecmp.py" "$S" "$T/r1$S" >"$T/cmp" && fail "damage not visible"
grep -v "^treecmp: ${damaged#"$S"/}: sha256 differs" "$T/cmp" | grep . &&
	fail "other files differ too"
[ "$(stat -c %s "$T/r1$damaged")" = 2500000 ] || fail "damaged file has the wrong size"

step "the same through ls and a second restore: exit 1, never a crash"
expect 0 "$GFSB" ls -r "$R" latest
expect 1 "$GFSB" restore -r "$R" latest --to-tar "$T/x.tar"
err_has "damaged"
cp "$T/pack.orig" "$P"

step "a missing pack: the files that need it are named"
mv "$P" "$T/pack.moved"
expect 1 "$GFSB" restore -r "$R" latest --target "$T/r2"
err_has "damaged"
mv "$T/pack.moved" "$P"
expect 0 "$GFSB" restore -r "$R" latest --target "$T/r3"
$PY "$HERE/treecmp.py" "$S" "$T/r3$S" || fail "repaired repository differs"

step "a corrupted tree pack: refused, naming the pack"
# The pack holding the trees is the one whose damage breaks `ls`.
P=
for p in $(find "$R/data" -type f); do
	cp "$p" "$T/tree.orig"
	flip "$p" 60
	rc=0
	"$GFSB" ls -r "$R" latest >/dev/null 2>"$T/err" || rc=$?
	cp "$T/tree.orig" "$p"
	if [ "$rc" = 1 ]; then P=$p; break; fi
done
[ -n "$P" ] || fail "no pack's damage broke ls"
err_has "$(basename "$P")"
flip "$P" 60
expect 1 "$GFSB" restore -r "$R" latest --target "$T/r4"
err_has "$(basename "$P")"
cp "$T/tree.orig" "$P"

step "a tampered config: refused"
cp "$R/config" "$T/config.orig"
flip "$R/config" 40
expect 1 "$GFSB" snapshots -r "$R"
one_line_error "config"
cp "$T/config.orig" "$R/config"

step "a snapshot tampered with: named"
snap=$(ls "$R/snapshots" | head -1)
flip "$R/snapshots/$snap" 50
expect 1 "$GFSB" snapshots -r "$R"
one_line_error "$snap"
rm "$R/snapshots/$snap"
expect 0 "$GFSB" backup -r "$R" "$S"

for name in "../../escaped" ".." "x/../../e"; do
	step "a tree entry named '$name' is refused"
	id=$("$TESTTOOL" hostile-snapshot "$R" "$name")
	expect 1 "$GFSB" restore -r "$R" "${id:0:12}" --target "$T/target/in"
	err_has "malformed"
	expect 1 "$GFSB" ls -r "$R" "${id:0:12}"
	[ ! -e "$T/escaped" ] && [ ! -e "$T/target/escaped" ] &&
		[ ! -e "$T/e" ] || fail "something was written outside the target"
	find "$T/target" -name 'escaped' | grep -q . && fail "escaped file written"
	rm -rf "$T/target"
done
echo "PASS"
