#!/bin/bash
# The backup and restore options an operator relies on: excludes, one file
# system, several paths, tags, host and time, the JSON shape of
# `snapshots`, include/exclude on restore, key management, and -q.
. "$(dirname "$0")/lib.sh"

S=$T/src
mkdir -p "$S/www/cache" "$S/www/html" "$S/etc" "$S/other"
echo page >"$S/www/html/index.html"
echo junk >"$S/www/cache/c1"
echo tmp >"$S/www/html/x.tmp"
echo iso >"$S/www/big.iso"
echo conf >"$S/etc/app.conf"
echo other >"$S/other/o.txt"
printf '# comment\n*.iso\n' >"$T/excludes"
R=$T/repo
init_repo "$R"

step "-q: init, backup and restore print nothing; a warning still shows"
expect 0 "$GFSB" init -q -r "$T/quiet" --kdf-memory 8M --kdf-iterations 1
[ ! -s "$T/out" ] && [ ! -s "$T/err" ] || fail "init -q printed: $(cat "$T/out" "$T/err")"
expect 0 "$GFSB" backup -q -r "$T/quiet" "$S/etc"
[ ! -s "$T/out" ] && [ ! -s "$T/err" ] || fail "backup -q printed: $(cat "$T/out" "$T/err")"
expect 0 "$GFSB" restore -q -r "$T/quiet" latest --target "$T/quiet-r"
[ ! -s "$T/out" ] && [ ! -s "$T/err" ] || fail "restore -q printed: $(cat "$T/out" "$T/err")"
expect 3 "$GFSB" backup -q -r "$T/quiet" "$S/etc" "$T/no-such-path"
[ ! -s "$T/out" ] || fail "backup -q printed a summary"
err_has "$T/no-such-path"
expect 0 "$GFSB" backup -r "$T/quiet" "$S/etc"
out_has "saved:" # without -q, the summary

step "a repository inside the tree backed up is left out, said once"
mkdir -p "$T/tree/data"
echo kept >"$T/tree/data/a.txt"
init_repo "$T/tree/repo"
expect 0 "$GFSB" backup -r "$T/tree/repo" "$T/tree"
err_has "$T/tree/repo left out: it is the repository"
[ "$(grep -c 'left out' "$T/err")" = 1 ] || fail "said more than once"
expect 0 "$GFSB" ls -r "$T/tree/repo" latest
out_has "$T/tree/data/a.txt"
grep -q "$T/tree/repo" "$T/out" && fail "the repository was backed up into itself"
expect 0 "$GFSB" backup -r "$T/tree/repo" "$T/tree"
out_has "(0 new, 0 changed, 1 unchanged)"

step "several paths, --exclude, --exclude-file, --tag, --host, --time"
expect 0 "$GFSB" backup -r "$R" "$S/www" "$S/etc" --exclude '*.tmp' \
	-e "$S/www/cache" --exclude-file "$T/excludes" --tag daily \
	--tag web --host web1 --time '2026-03-01 02:00:00'
expect 0 "$GFSB" ls -r "$R" latest
out_has "$S/www/html/index.html"
out_has "$S/etc/app.conf"
for gone in x.tmp cache big.iso other; do
	grep -q "$gone" "$T/out" && fail "$gone should be excluded"
done
grep -qx "$S" "$T/out" || fail "intermediate directory not listed"

step "ls of a path inside the snapshot"
expect 0 "$GFSB" ls -r "$R" latest "$S/etc"
[ "$(cat "$T/out")" = "$S/etc
$S/etc/app.conf" ] || { cat "$T/out"; fail "ls PATH lists the wrong entries"; }
expect 1 "$GFSB" ls -r "$R" latest "$S/nope"
one_line_error "not in snapshot"

step "snapshots --json has restic's shape"
expect 0 "$GFSB" snapshots -r "$R" --json
$PY - "$T/out" "$S" <<'PYEOF'
import json, sys
snaps = json.load(open(sys.argv[1]))
s = snaps[0]
for key in ("id", "short_id", "time", "hostname", "username", "paths",
            "tags", "tree", "program_version", "summary"):
    assert key in s, key
assert s["short_id"] == s["id"][:8]
assert s["hostname"] == "web1"
assert s["tags"] == ["daily", "web"], s["tags"]
assert s["paths"] == [sys.argv[2] + "/etc", sys.argv[2] + "/www"], s["paths"]
assert s["time"].startswith("2026-03-01T02:00:00"), s["time"]
assert len(s["tree"]) == 64 and len(s["id"]) == 64
PYEOF

step "snapshot filters and latest by host"
expect 0 "$GFSB" backup -r "$R" "$S/other" --host db1
expect 0 "$GFSB" snapshots -r "$R" --host web1
out_has "1 snapshot"
expect 0 "$GFSB" snapshots -r "$R" --tag web
out_has "1 snapshot"
expect 0 "$GFSB" ls -r "$R" latest --host web1
out_has "index.html"
expect 1 "$GFSB" ls -r "$R" latest --host nosuchhost
one_line_error "no snapshot"

step "restore with --include and --exclude"
expect 0 "$GFSB" restore -r "$R" latest --host web1 --target "$T/r1" \
	--include '*.html'
[ -f "$T/r1$S/www/html/index.html" ] || fail "included file missing"
[ ! -e "$T/r1$S/etc" ] || fail "etc restored despite --include"
expect 0 "$GFSB" restore -r "$R" latest --host web1 --target "$T/r2" \
	--exclude "$S/www"
[ -f "$T/r2$S/etc/app.conf" ] && [ ! -e "$T/r2$S/www" ] ||
	fail "--exclude not honoured"

step "snapshot prefixes: unique, ambiguous, unknown"
expect 1 "$GFSB" ls -r "$R" 0000000000000000
one_line_error "no snapshot"
expect 1 "$GFSB" ls -r "$R" not-hex
one_line_error "invalid snapshot"

mkdir -p "$S/mnt"
if is_root && mount -t tmpfs -o size=1m gfsbtest "$S/mnt" 2>/dev/null; then
	step "--one-file-system stops at a mount point"
	echo "on another fs" >"$S/mnt/inside.txt"
	rc=0
	"$GFSB" backup -r "$R" "$S" --one-file-system -q >/dev/null || rc=$?
	"$GFSB" ls -r "$R" latest >"$T/out" || rc=$?
	umount "$S/mnt"
	[ "$rc" = 0 ] || fail "backup with --one-file-system failed"
	out_has "$S/mnt"
	grep -q inside.txt "$T/out" && fail "crossed into another file system"
else
	skip_part "--one-file-system not tested: cannot mount a tmpfs"
fi

step "key passwd, add, list"
printf 'second passphrase' >"$T/pw2"
printf 'third passphrase' >"$T/pw3"
chmod 600 "$T/pw2" "$T/pw3"
expect 0 "$GFSB" key passwd -r "$R" --new-password-file "$T/pw2"
expect 12 "$GFSB" snapshots -r "$R"
expect 0 "$GFSB" snapshots -r "$R" --password-file "$T/pw2"
expect 0 "$GFSB" key add -r "$R" --password-file "$T/pw2" \
	--new-password-file "$T/pw3"
expect 0 "$GFSB" key list -r "$R" --password-file "$T/pw3"
[ "$(grep -c '^[ *] [0-9a-f]\{8\}' "$T/out")" = 2 ] || fail "not two keys"
grep -q '^\*' "$T/out" || fail "current key not marked"
for k in "$R"/keys/*; do
	[ "$(stat -c %a "$k")" = 600 ] || fail "key file $k is not 0600"
done
expect 0 env GFSBACKUP_PASSWORD_FILE="$T/pw3" "$GFSB" restore -r "$R" \
	latest --host web1 --target "$T/r3"

step "key remove: a leaked passphrase revoked; never the key in use or the last"
expect 0 "$GFSB" key list -r "$R" --password-file "$T/pw3"
cur=$(awk '$1 == "*" {print $2}' "$T/out")     # pw3's key
other=$(awk '$1 ~ /^[0-9a-f]+$/ {print $1}' "$T/out")
[ -n "$cur" ] && [ -n "$other" ] || fail "test setup: keys $cur $other"
ls "$R/keys" | sort >"$T/keys.before"
expect 1 "$GFSB" key remove -r "$R" --password-file "$T/pw3" "$cur"
one_line_error "is the one in use"
expect 1 "$GFSB" key remove -r "$R" --password-file "$T/pw3" ffffffff
one_line_error "no key ffffffff"
expect 1 "$GFSB" key remove -r "$R" --password-file "$T/pw3" xyz
one_line_error "invalid key id xyz"
expect 2 "$GFSB" key remove -r "$R" --password-file "$T/pw3"
cmp -s <(ls "$R/keys" | sort) "$T/keys.before" || fail "a refused remove removed a key"
# pw2's key (not in use here) goes; pw2 opens nothing any more.
expect 0 "$GFSB" key remove -r "$R" --password-file "$T/pw3" "$other"
out_has "key $other removed"
expect 12 "$GFSB" snapshots -r "$R" --password-file "$T/pw2"
expect 0 "$GFSB" snapshots -r "$R" --password-file "$T/pw3"
[ "$(ls "$R/keys" | wc -l)" = 1 ] || fail "not one key left"
step "--files-from, -verbatim, -raw: the paths they list, and bad lists"
F=$T/fl
mkdir -p "$F/a" "$F/b c" "$F/ d" "$F/not-listed"
echo 1 >"$F/a/x"; echo 2 >"$F/b c/y"; echo 3 >"$F/ d/z"; echo 4 >"$F/not-listed/w"
printf '# a comment, a blank line, trailing blanks cut\n\n%s/a  \n' "$F" >"$T/l1"
printf '%s\n' "$F/ d" >"$T/l2"         # a leading blank kept: verbatim
printf '%s\0' "$F/b c" >"$T/l3"
R4=$T/repo-lists
init_repo "$R4"
expect 0 "$GFSB" backup -r "$R4" -q --files-from "$T/l1" \
	--files-from-verbatim "$T/l2" --files-from-raw "$T/l3"
expect 0 "$GFSB" ls -r "$R4" latest "$F"
for p in "$F/a/x" "$F/b c/y" "$F/ d/z"; do
	grep -qxF "$p" "$T/out" || { cat "$T/out"; fail "$p not backed up"; }
done
grep -q not-listed "$T/out" && fail "an unlisted path was backed up"
# Standard input, with a path given too.
printf '%s\n' "$F/a" | "$GFSB" backup -r "$R4" -q --files-from - "$F/not-listed" ||
	fail "--files-from -"
expect 0 "$GFSB" ls -r "$R4" latest "$F"
out_has "$F/not-listed/w"
out_has "$F/a/x"
n=$("$GFSB" snapshots -r "$R4" --json | "$PY" -c 'import json,sys; print(len(json.load(sys.stdin)))')
expect 2 "$GFSB" backup -r "$R4" -q --files-from "$T/no-such-list"
one_line_error "cannot read --files-from list"
: >"$T/empty"
expect 2 "$GFSB" backup -r "$R4" -q --files-from "$T/empty"
one_line_error "no paths to back up"
m=$("$GFSB" snapshots -r "$R4" --json | "$PY" -c 'import json,sys; print(len(json.load(sys.stdin)))')
[ "$n" = "$m" ] || fail "a refused list stored a snapshot"
step "backup --json: restic's records, the summary last"
expect 0 "$GFSB" backup -r "$R4" --json "$F"
"$PY" - "$T/out" <<'PY'
import json, sys
recs = [json.loads(l) for l in open(sys.argv[1])]
assert recs and recs[-1]["message_type"] == "summary", recs
assert all(r["message_type"] == "status" for r in recs[:-1]), recs
s = recs[-1]
assert len(s["snapshot_id"]) == 64 and s["total_files_processed"] == 4, s
PY
step "backup --dry-run: what it would add, and nothing written"
echo "new content for the dry run" >"$F/a/dry"
(cd "$R4" && find . -printf '%p %s %T@\n' | sort) >"$T/repo.before"
expect 0 "$GFSB" backup -r "$R4" --dry-run "$F"
out_has "dry run, nothing written"
out_has "would add"
(cd "$R4" && find . -printf '%p %s %T@\n' | sort) >"$T/repo.after"
cmp -s "$T/repo.before" "$T/repo.after" || { diff "$T/repo.before" "$T/repo.after"; fail "a dry run wrote to the repository"; }
step "--stdin, --stdin-from-command: a stream as one file; a failed command stores nothing"
echo "from standard input" | "$GFSB" backup -r "$R4" -q --stdin --stdin-filename note.txt ||
	fail "--stdin"
[ "$("$GFSB" dump -r "$R4" latest:/note.txt)" = "from standard input" ] || fail "--stdin's file"
expect 0 "$GFSB" backup -r "$R4" --stdin-filename numbers --stdin-from-command -- seq 1 50000
out_has "1 files (1 new"
"$GFSB" dump -r "$R4" latest:/numbers | cmp - <(seq 1 50000) || fail "--stdin-from-command's file"
n=$(snap_json "$R4" | "$PY" -c 'import json,sys; print(len(json.load(sys.stdin)))')
expect 1 "$GFSB" backup -r "$R4" --stdin-from-command -- sh -c 'seq 1 10; exit 5'
one_line_error "stdin: sh exited with status 5; no snapshot stored"
expect 1 "$GFSB" backup -r "$R4" --stdin-from-command -- /nonexistent/dumper
one_line_error "stdin: cannot run /nonexistent/dumper: No such file or directory; no snapshot stored"
expect 2 "$GFSB" backup -r "$R4" --stdin-from-command
one_line_error "give the command after --"
expect 2 "$GFSB" backup -r "$R4" --stdin --stdin-from-command -- true
one_line_error "not both"
expect 2 "$GFSB" backup -r "$R4" --stdin-filename x "$F"
one_line_error "--stdin-filename goes with"
expect 1 "$GFSB" backup -r "$R4" --stdin-filename a/b --stdin </dev/null
one_line_error "invalid stream name"
m=$(snap_json "$R4" | "$PY" -c 'import json,sys; print(len(json.load(sys.stdin)))')
[ "$n" = "$m" ] || fail "a failed stream stored a snapshot"
echo "PASS"
