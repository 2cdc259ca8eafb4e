#!/bin/bash
# Back up a tree holding every kind of file and metadata, restore it to a
# directory and as a pax archive, and compare everything.
. "$(dirname "$0")/lib.sh"

S=$T/src/srv/data
mkdir -p "$S/dir/sub" "$S/empty" "$S/dir/sub/deeper"
printf 'hello\n' >"$S/dir/hello.txt"
head -c 3000000 /dev/urandom >"$S/dir/random.bin"
head -c 5000000 < <(yes "2026-11-22T01:02:03 web1 nginx: GET / 200") \
	>"$S/dir/app.log"
: >"$S/emptyfile"
ln -s hello.txt "$S/dir/link"
ln -s /nonexistent/target "$S/dangling"
ln "$S/dir/hello.txt" "$S/hardlink"
ln "$S/dir/random.bin" "$S/dir/sub/random-again"
truncate -s 300M "$S/sparse.img"
printf 'middle' | dd of="$S/sparse.img" bs=1 seek=200000000 conv=notrunc \
	status=none
printf 'end' >>"$S/sparse.img"
# A file that ends in a hole (the restore sets its length), and files
# whose modes forbid writing (and, as root, anything at all): the restore
# writes them all the same.
head -c 100000 /dev/urandom >"$S/dir/tail-hole.img"
truncate -s 50M "$S/dir/tail-hole.img"
printf 'read only' >"$S/dir/readonly"
chmod 0444 "$S/dir/readonly"
mkfifo "$S/fifo"
printf 'x' >"$S/tab	name"
printf 'x' >"$S/space name"
printf 'x' >"$S/$(printf 'latin1-\xe9\xff')"
printf 'x' >"$S/new
line"
setfattr -n user.comment -v "hello attr" "$S/dir/hello.txt"
setfattr -n user.bin -v 0x00ff00 "$S/dir/sub"
setfacl -m u:1234:rw,g:2345:r "$S/dir/app.log"
setfacl -d -m g:2345:rx "$S/dir/sub"
need_root "no devices and no foreign owners in the tree"
if is_root; then
	mknod "$S/null" c 1 3
	mknod "$S/loopish" b 7 200
	chown 1234:5678 "$S/dir/random.bin"
	chown nobody:nogroup "$S/emptyfile"
	chown -h 4321:4321 "$S/dir/link"
	printf 'no access' >"$S/dir/nomode"
	chmod 0000 "$S/dir/nomode"
fi
# After chown, which clears setuid.
chmod 4755 "$S/dir/random.bin"
chmod 1777 "$S/empty"
chmod 0600 "$S/dir/app.log"
chmod 0750 "$S/dir/sub"
touch -d '2001-02-03 04:05:06.123456789' "$S/dir/hello.txt"
find "$S" -type d -exec touch -d '2010-01-01 00:00:00.5' {} +

R=$T/repo
init_repo "$R"

step "backup of every file kind"
expect 0 "$GFSB" backup -r "$R" "$S"
out_has "snapshot "
grep -Eq 'saved: [0-9]+ files' "$T/out" || fail "no summary line"

step "snapshots lists it"
expect 0 "$GFSB" snapshots -r "$R"
out_has "$S"
out_has "1 snapshot"

step "ls shows every entry with its type"
expect 0 "$GFSB" ls -r "$R" latest -l
out_has "$S/dir/link -> hello.txt"
grep -q "^p.* $S/fifo\$" "$T/out" || fail "fifo not listed as p"
grep -q "^-rwsr-xr-x .* $S/dir/random.bin\$" "$T/out" ||
	fail "setuid mode not listed"

if is_root; then owner=; else owner=--no-owner; fi
step "restore to a directory: bytes and metadata identical"
expect 0 "$GFSB" restore -r "$R" latest --target "$T/restore"
out_has "restored snapshot"
$PY "$HERE/treecmp.py" "$S" "$T/restore$S" $owner --sparse sparse.img \
	--sparse dir/tail-hole.img ||
	fail "restored tree differs"
getfacl -cp "$T/restore$S/dir/app.log" | grep -q "user:1234:rw-" ||
	fail "ACL not restored"
getfacl -cpd "$T/restore$S/dir/sub" | grep -q "group:2345:r-x" ||
	fail "default ACL not restored"

step "the repository holds no file name and no plaintext"
$PY "$HERE/noplain.py" "$S" "$R" || fail "source names or bytes in the repository"

step "restore of a path inside the snapshot"
expect 0 "$GFSB" restore -r "$R" "latest:$S/dir" --target "$T/part"
# The path's own metadata goes to the target the restore made (not a
# 0700 directory), and everything below it, exactly.
$PY "$HERE/treecmp.py" "$S/dir" "$T/part" $owner ||
	fail "subtree restore differs"

step "restore --to-tar - piped into tar"
"$GFSB" restore -r "$R" latest --to-tar - 2>"$T/err" | tar -tvf - >"$T/list"
grep -q "srv/data/dir/hello.txt" "$T/list" || fail "tar lacks hello.txt"
grep -q "srv/data/sparse.img" "$T/list" || fail "tar lacks the sparse file"
grep -q "srv/data/hardlink link to" "$T/list" ||
	grep -q "srv/data/dir/hello.txt link to" "$T/list" ||
	fail "hard link not in the archive as a link"
mkdir "$T/tarx"
"$GFSB" restore -r "$R" latest --to-tar "$T/a.tar" -q >/dev/null
tar -xf "$T/a.tar" -C "$T/tarx"
$PY "$HERE/treecmp.py" "$S" "$T/tarx$S" --content-only ||
	fail "archive content differs"

step "--to-tar over an existing file is refused; the file is untouched"
cp "$T/a.tar" "$T/a.tar.before"
expect 1 "$GFSB" restore -r "$R" latest --to-tar "$T/a.tar"
one_line_error "$T/a.tar exists"
cmp -s "$T/a.tar" "$T/a.tar.before" || fail "the existing archive was changed"
printf 'not an archive' >"$T/precious"
expect 1 "$GFSB" restore -r "$R" latest --to-tar "$T/precious"
[ "$(cat "$T/precious")" = "not an archive" ] || fail "a file was overwritten"
# A device is written to, as a stream.
expect 0 "$GFSB" restore -r "$R" latest --to-tar /dev/null -q

step "--to-tar --force replaces the file with a whole archive"
expect 2 "$GFSB" restore -r "$R" latest --to-tar - --force
one_line_error "--force goes with --to-tar FILE"
expect 2 "$GFSB" restore -r "$R" latest --target "$T/forced" --force
one_line_error "--force goes with --to-tar FILE"
expect 0 "$GFSB" restore -r "$R" latest --to-tar "$T/precious" --force -q
rm -rf "$T/tarx" && mkdir "$T/tarx"
tar -xf "$T/precious" -C "$T/tarx"
$PY "$HERE/treecmp.py" "$S" "$T/tarx$S" --content-only ||
	fail "the replacing archive's content differs"
ls "$T" | grep -q 'precious\.gfsb-' && fail "a temporary archive was left"

step "a second restore into the same target is refused"
expect 1 "$GFSB" restore -r "$R" latest --target "$T/restore"
one_line_error "not empty"
echo "PASS"
