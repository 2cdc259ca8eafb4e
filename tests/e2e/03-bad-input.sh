#!/bin/bash
# Bad input gets one clear line, the documented exit status, and leaves
# the repository as it was.
. "$(dirname "$0")/lib.sh"

S=$T/src
mkdir -p "$S/sub"
echo one >"$S/a.txt"
echo two >"$S/sub/b.txt"
head -c 3000000 /dev/urandom >"$S/big.bin"
R=$T/repo
init_repo "$R"
expect 0 "$GFSB" backup -r "$R" "$S"

# A fingerprint of every object in the repository (locks excluded).
repo_state() { (cd "$R" && find . -path ./locks -prune -o -type f -print0 |
	sort -z | xargs -0 sha256sum) ; }
before=$(repo_state)
unchanged() { [ "$(repo_state)" = "$before" ] || fail "repository changed"; }

step "usage errors: exit 2"
expect 2 "$GFSB"
expect 2 "$GFSB" frobnicate
grep -q "did you mean" "$T/err" && fail "a suggestion for frobnicate"
expect 2 "$GFSB" bakcup
one_line_error "unknown command bakcup: did you mean backup?"
expect 2 "$GFSB" backup -r "$R" --exlude '*.tmp' "$S"
err_has "did you mean --exclude?"
expect 2 "$GFSB" restore -r "$R" latest --taget "$T/never"
err_has "did you mean --target?"
expect 2 "$GFSB" backup -r "$R"
expect 2 "$GFSB" backup -r "$R" --no-such-option "$S"
expect 2 "$GFSB" backup -r "$R" --time 'yesterday' "$S"
one_line_error "invalid time"
expect 2 "$GFSB" restore -r "$R" latest
one_line_error "--target"
expect 2 "$GFSB" init --compression 99 -r "$T/x"
expect 2 "$GFSB" snapshots
one_line_error "no repository"
unchanged

step "numbers out of range: exit 2, the option and its range named"
# out_of_range OPTION RANGE CMD...: each bad value refused in one line
# naming OPTION and RANGE, and nothing changed.
out_of_range() {
	local what=$1 range=$2 v
	shift 2
	for v in 0 -1 99999 x 1x ""; do
		expect 2 "$@" "$v"
		one_line_error "$what"
		grep -q "($range)" "$T/err" || { cat "$T/err"; fail "$what $v: range not named"; }
	done
}
[ ! -e "$T/x" ] || fail "a refused init made $T/x"
out_of_range "--threads" "1 to 64" "$GFSB" backup -r "$R" "$S" --threads
out_of_range "--threads" "1 to 64" "$GFSB" restore -r "$R" latest --target "$T/never" --threads
out_of_range "--threads" "1 to 16" "$GFSB" verify -r "$R" --threads
out_of_range "--threads" "1 to 64" "$GFSB" sync -r "$R" --to "$T/never" --threads
out_of_range "--connections" "1 to 64" "$GFSB" snapshots -r "$R" --connections
out_of_range "KDF iterations" "1 to 64" "$GFSB" init -r "$T/x" --kdf-iterations
for v in -1 20 x; do
	expect 2 "$GFSB" backup -r "$R" "$S" --compression "$v"
	one_line_error "compression level $v (0 to 19)"
done
[ ! -e "$T/x" ] && [ ! -e "$T/never" ] || fail "a refused command wrote"
unchanged

step "no repository: exit 10, before asking for a passphrase"
for cmd in "snapshots" "ls latest" "restore latest --target $T/t" \
	"backup $S" "key list" "unlock"; do
	# shellcheck disable=SC2086
	expect 10 env -u GFSBACKUP_PASSWORD_FILE "$GFSB" $cmd -r "$T/nowhere"
	one_line_error "no repository at $T/nowhere"
done
[ ! -e "$T/nowhere" ] || fail "a missing repository was created"

step "init over an existing repository: exit 1"
expect 1 "$GFSB" init -r "$R"
one_line_error "already exists"
unchanged

step "wrong passphrase: exit 12"
printf 'not the passphrase' >"$T/wrong"
chmod 600 "$T/wrong"
for cmd in "snapshots" "backup $S" "restore latest --target $T/t" \
	"key passwd --new-password-file $T/wrong"; do
	# shellcheck disable=SC2086
	expect 12 env GFSBACKUP_PASSWORD_FILE="$T/wrong" "$GFSB" $cmd -r "$R"
	one_line_error "wrong passphrase"
done
expect 12 env -u GFSBACKUP_PASSWORD_FILE GFSBACKUP_PASSWORD=nope \
	"$GFSB" snapshots -r "$R"
expect 12 "$GFSB" snapshots -r "$R" --password-command "echo nope"
[ ! -e "$T/t" ] || fail "restore target created despite the error"
unchanged

step "no passphrase source and no terminal, an unreadable password file: exit 2"
expect 2 setsid -w env -u GFSBACKUP_PASSWORD_FILE "$GFSB" snapshots -r "$R"
one_line_error "no passphrase"
expect 2 "$GFSB" snapshots -r "$R" --password-file "$T/missing"
one_line_error "$T/missing"
cp "$T/pw" "$T/open-pw"
chmod 644 "$T/open-pw"
expect 2 "$GFSB" snapshots -r "$R" --password-file "$T/open-pw"
one_line_error "accessible to other users (mode 0644)"
expect 1 "$GFSB" snapshots -r "$R" --password-command "exit 3"
one_line_error "password command failed"

step "locked exclusively by another process: exit 11"
hold_lock "$R" exclusive
expect 11 "$GFSB" backup -r "$R" "$S"
one_line_error "locked exclusively by pid"
expect 11 "$GFSB" restore -r "$R" latest --target "$T/t"
[ ! -e "$T/t" ] || fail "restore target created while locked"
release_lock
unchanged
expect 0 "$GFSB" backup -r "$R" "$S"
before=$(repo_state)

step "a stale lock (holder dead) does not block; unlock removes it"
"$TESTTOOL" hold-lock "$R" exclusive >"$T/lockout" 2>&1 &
pid=$!
for _ in $(seq 1 100); do grep -q locked "$T/lockout" && break; sleep 0.1; done
{ kill -9 "$pid" && wait "$pid"; } 2>/dev/null || true
[ "$(nfiles "$R/locks")" = 1 ] || fail "the dead holder's lock is gone"
expect 0 "$GFSB" backup -r "$R" "$S"
err_has "stale lock"
[ "$(grep -c 'stale lock' "$T/err")" = 1 ] || fail "stale lock reported twice"
expect 0 "$GFSB" unlock -r "$R"
out_has "removed 1 lock"
[ "$(nfiles "$R/locks")" = 0 ] || fail "stale lock not removed"
before=$(repo_state)

step "source paths that do not exist"
expect 1 "$GFSB" backup -r "$R" "$T/nonexistent"
one_line_error "$T/nonexistent"
unchanged
expect 3 "$GFSB" backup -r "$R" "$S" "$T/also-missing"
err_has "$T/also-missing"
out_has "snapshot "

step "an unreadable file: warning, the snapshot is written, exit 3"
U=$T/unreadable
mkdir -p "$U/dir"
echo fine >"$U/ok.txt"
echo secret >"$U/dir/locked.txt"
chmod 000 "$U/dir/locked.txt"
if is_root; then
	# Root reads everything: run this backup as nobody.
	chown -R nobody "$U"
	chmod 711 "$T"
	init_repo "$T/repo2"
	chown -R nobody "$T/repo2" "$T/pw"
	runas=(setpriv --reuid=nobody --regid=nogroup --clear-groups)
else
	init_repo "$T/repo2"
	runas=()
fi
expect 3 "${runas[@]}" "$GFSB" backup -r "$T/repo2" "$U"
err_has "$U/dir/locked.txt"
err_has "Permission denied"
out_has "1 files"
expect 0 "${runas[@]}" "$GFSB" ls -r "$T/repo2" latest
out_has "$U/ok.txt"
grep -q "locked.txt" "$T/out" && fail "unreadable file listed as saved"
if is_root; then chown root "$T/pw"; fi

step "key files are private"
for k in "$R"/keys/*; do
	[ "$(stat -c %a "$k")" = 600 ] || fail "key file $k is not 0600"
done
[ "$(stat -c %a "$R")" = 700 ] || fail "repository is not 0700"
echo "PASS"
