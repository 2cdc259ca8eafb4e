#!/bin/bash
# Objects swapped under each other's names, for every kind that has a
# name: two packs, two index files, two snapshots, two key files, and a
# key file with the config.  Each object's bytes are intact and sealed
# under the right keys, so only the check of an object against its name
# (the SHA-256 of its bytes; the config's kind) can tell: without it two
# snapshots list under each other's ids and verify finds nothing wrong.
# Each swap must be found and both objects named, by verify and by the
# commands that read them; none of those commands may change anything,
# so swapped back, the repository verifies whole and restores exactly.
. "$(dirname "$0")/lib.sh"

S=$T/src
mkdir -p "$S"
head -c 300000 /dev/urandom >"$S/a"
R=$T/repo
"$GFSB" init -r "$R" --kdf-memory 8M --kdf-iterations 1 -q >/dev/null
expect 0 "$GFSB" backup -r "$R" --time '2026-01-01 01:00:00' "$S"
cp -a "$S" "$T/v1"
head -c 300000 /dev/urandom >"$S/b"
expect 0 "$GFSB" backup -r "$R" --time '2026-01-02 01:00:00' "$S"
printf 'second passphrase' >"$T/pw2"
chmod 600 "$T/pw2"
expect 0 "$GFSB" key add -r "$R" --new-password-file "$T/pw2"
for d in snapshots index keys; do
	[ "$(ls "$R/$d" | wc -l)" = 2 ] || fail "expected two objects in $d"
done
mapfile -t PACKS < <(cd "$R" && find data -type f | sort)
[ "${#PACKS[@]}" -ge 2 ] || fail "expected two packs"
find "$R" -type f -exec sha256sum {} + | sort -k2 >"$T/before"

# swap A B: each of two objects of the repository under the other's name
swap() {
	mv "$R/$1" "$T/swap.tmp"
	mv "$R/$2" "$R/$1"
	mv "$T/swap.tmp" "$R/$2"
}
short() { basename "$1" | cut -c1-16; }
# unchanged: swapped back, the repository is byte for byte what it was,
# verifies whole and restores both snapshots exactly.
unchanged() {
	find "$R" -type f ! -path '*/locks/*' -exec sha256sum {} + | sort -k2 |
		cmp -s - "$T/before" || fail "the repository changed"
	expect 0 "$GFSB" verify -r "$R" --no-state --no-cache --read-data
	rm -rf "$T/r"
	expect 0 "$GFSB" restore -r "$R" --no-cache -q latest --target "$T/r"
	$PY "$HERE/treecmp.py" "$S" "$T/r$S" >/dev/null || fail "latest differs"
}
# found WHAT...: verify --read-data exits 1 saying DAMAGE FOUND and every WHAT
found() {
	expect 1 "$GFSB" verify -r "$R" --no-state --no-cache --read-data
	out_has "DAMAGE FOUND"
	local w
	for w in "$@"; do out_has "$w"; done
}

step "two snapshots"
set -- "$R"/snapshots/*
a=snapshots/$(basename "$1") b=snapshots/$(basename "$2")
swap "$a" "$b"
found "DAMAGED snapshot $(short "$a")" "DAMAGED snapshot $(short "$b")" \
	"$a is damaged: its contents hash to $(short "$b")" \
	"$b is damaged: its contents hash to $(short "$a")"
# Listed under neither id; a restore of either names it.
expect 1 "$GFSB" snapshots -r "$R" --no-cache
grep -qF "$(short "$a")" "$T/err" || grep -qF "$(short "$b")" "$T/err" ||
	fail "snapshots does not name a swapped snapshot"
grep -E "^($(short "$a" | cut -c1-8)|$(short "$b" | cut -c1-8)) " "$T/out" &&
	fail "a swapped snapshot is listed"
for s in "$a" "$b"; do
	rm -rf "$T/r"
	expect 1 "$GFSB" restore -r "$R" --no-cache "$(basename "$s")" \
		--target "$T/r"
	one_line_error "$s is damaged"
done
swap "$a" "$b"
unchanged

step "two index files"
set -- "$R"/index/*
a=index/$(basename "$1") b=index/$(basename "$2")
swap "$a" "$b"
found "DAMAGED index $(short "$a")" "DAMAGED index $(short "$b")"
rm -rf "$T/r"
expect 1 "$GFSB" restore -r "$R" --no-cache latest --target "$T/r"
grep -qF "is damaged: its contents hash to" "$T/err" ||
	fail "restore does not say which index file"
expect 1 "$GFSB" backup -r "$R" --no-cache -q "$S"
grep -qF "is damaged" "$T/err" || fail "backup does not name the index"
swap "$a" "$b"
unchanged

step "two packs"
a=${PACKS[0]} b=${PACKS[1]}
swap "$a" "$b"
found "DAMAGED pack $(short "$a")" "DAMAGED pack $(short "$b")"
rm -rf "$T/r"
expect 1 "$GFSB" restore -r "$R" --no-cache latest --target "$T/r"
err_has "damaged"
swap "$a" "$b"
unchanged

step "two key files"
set -- "$R"/keys/*
a=keys/$(basename "$1") b=keys/$(basename "$2")
swap "$a" "$b"
expect 1 "$GFSB" snapshots -r "$R" --no-cache
err_has "key file $(basename "$a") is damaged"
err_has "key file $(basename "$b") is damaged"
err_has "no readable key file"
expect 1 "$GFSB" verify -r "$R" --no-state --no-cache
err_has "no readable key file"
swap "$a" "$b"
unchanged

step "a key file and the config"
# The other key's file: the passphrase's own key still opens, and reads
# a key file where the config should be.
expect 0 "$GFSB" key list -r "$R"
inuse=$(awk '$1 == "*" {print $2}' "$T/out")
[ -n "$inuse" ] || fail "key list marks no key in use"
a=keys/$(cd "$R/keys" && ls | grep -v "^$inuse")
swap config "$a"
expect 1 "$GFSB" snapshots -r "$R" --no-cache
err_has "config does not authenticate"
expect 1 "$GFSB" verify -r "$R" --no-state --no-cache
err_has "config does not authenticate"
swap config "$a"
unchanged
echo "PASS"
