#!/bin/bash
# Restoring in place, the morning after ransomware: the server's tree was
# encrypted file by file, a note dropped in every directory, a symlink
# planted out of the tree.  restore --overwrite always --delete brings
# the tree back exactly (treecmp), without touching anything the symlink
# leads to or a file system mounted inside; the other modes keep what
# they say; bad combinations are usage errors that change nothing.
. "$(dirname "$0")/lib.sh"

R=$T/repo
S=$T/srv
init_repo "$R"
mkdir -p "$S/www/img" "$S/db"
for i in 1 2 3 4 5; do
	head -c $((i * 40000)) /dev/urandom >"$S/www/page$i.html"
	head -c 3000 /dev/urandom >"$S/www/img/pic$i.png"
done
printf 'rows\n' >"$S/db/data"
ln -s page1.html "$S/www/index.html"
touch -d '2026-01-02 03:04:05' "$S/www/img" "$S/www" "$S/db" "$S"
"$GFSB" backup -q -r "$R" "$S"
ID=$("$GFSB" snapshots -r "$R" --json | "$PY" -c \
	'import json,sys; print(json.load(sys.stdin)[0]["id"])')

# The attacked copy: the restore target stands in for the server.
D=$SCRATCH/target
"$GFSB" restore -q -r "$R" latest --target "$D"
V=$D$S
attack() {
	local f
	for f in "$V"/www/*.html "$V"/www/img/*.png "$V"/db/data; do
		[ -L "$f" ] && continue
		printf 'ENCRYPTED' >"$f"
	done
	for f in "$V" "$V/www" "$V/www/img" "$V/db"; do
		printf 'pay us\n' >"$f/README-RANSOM.txt"
	done
	mkdir -p "$V/db/.stash"
	printf 'x\n' >"$V/db/.stash/tool"
	mkdir -p "$T/outside"
	printf 'keep me\n' >"$T/outside/victim"
	ln -sfn "$T/outside" "$V/www/escape"
}
attack

step "a target that holds files is refused without --overwrite"
expect 1 "$GFSB" restore -r "$R" latest --target "$D"
one_line_error "is not empty"
err_has "--overwrite"
grep -q ENCRYPTED "$V/db/data" || fail "a refused restore changed a file"

step "bad combinations are usage errors, before the repository is opened"
expect 2 "$GFSB" restore -r "$R" latest --target "$D" --delete
one_line_error "--delete goes with --overwrite"
expect 2 "$GFSB" restore -r "$R" latest --to-tar "$T/a.tar" --overwrite always
one_line_error "--overwrite and --delete are for --target DIR"
expect 2 "$GFSB" restore -r "$R" latest --target "$D" --overwrite sometimes
one_line_error "give always, if-changed, if-newer or never"
[ ! -e "$T/a.tar" ] || fail "a refused restore wrote an archive"

step "--overwrite never adds what is missing and keeps the rest"
rm "$V/www/page2.html"
expect 0 "$GFSB" restore -r "$R" latest --target "$D" --overwrite never
out_has "1 files"
out_has "kept as they were"
cmp -s "$S/www/page2.html" "$V/www/page2.html" || fail "page2 not restored"
grep -q ENCRYPTED "$V/www/page1.html" || fail "never replaced a file"

step "--overwrite if-newer keeps files modified since"
expect 0 "$GFSB" restore -r "$R" latest --target "$D" --overwrite if-newer
grep -q ENCRYPTED "$V/www/page1.html" || fail "if-newer replaced a newer file"

step "--overwrite always --delete: the snapshot's tree, exactly"
if is_root && mkdir -p "$V/db/mnt" &&
	mount -t tmpfs -o size=1m gfsbtest "$V/db/mnt" 2>/dev/null; then
	CLEANUPS+=("umount '$V/db/mnt' 2>/dev/null")
	printf 'other fs\n' >"$V/db/mnt/file"
	expect 1 "$GFSB" restore -r "$R" latest --target "$D" \
		--overwrite always --delete
	err_has "db/mnt: cannot remove it: another file system is mounted there"
	err_has "--delete: 1 entries could not be removed"
	out_has "removed (some could not be, see above)"
	[ -f "$V/db/mnt/file" ] || fail "--delete removed a file on another file system"
	umount "$V/db/mnt"
	rmdir "$V/db/mnt"
	attack
else
	skip_part "--delete at a mount point not tested: cannot mount a tmpfs"
fi
expect 0 "$GFSB" restore -r "$R" latest --target "$D" --overwrite always \
	--delete
out_has "restored snapshot ${ID:0:8}"
out_has "removed"
[ "$(cat "$T/outside/victim")" = "keep me" ] ||
	fail "--delete reached through the planted symlink"
"$PY" "$HERE/treecmp.py" "$S" "$V" >"$T/cmp" 2>&1 || {
	cat "$T/cmp"
	fail "the restored tree is not the snapshot's"
}

step "an excluded name is not removed; a second run changes nothing"
printf 'mine\n' >"$V/www/local.keep"
expect 0 "$GFSB" restore -r "$R" latest --target "$D" --overwrite if-changed \
	--delete --exclude '*.keep'
out_has "kept as they were"
grep -q ' removed' "$T/out" && fail "a second run removed something"
[ -f "$V/www/local.keep" ] || fail "--delete removed an excluded name"
rm "$V/www/local.keep"
touch -d "2026-01-02 03:04:05" "$V/www" # as the test left it
"$PY" "$HERE/treecmp.py" "$S" "$V" >"$T/cmp" 2>&1 || {
	cat "$T/cmp"
	fail "if-changed left the tree other than the snapshot's"
}
echo ok
