#!/bin/bash
# Write-only keys (docs/WRITE-ONLY-KEYS.md): a full key makes one, then a
# server runs its daily job ten nights with it alone, the full passphrase
# gone from the machine.  Each night after the first adds about what the night
# changed; everything that would read, delete or change keys is refused
# in one line with exit status 12, and nothing the writer can produce
# holds a byte of what was backed up.  Its job keeps the offsite mirror in
# sync, adding and never deleting.  The full key then finds every
# snapshot whole, at home and offsite, and restores each one as its night
# left the tree.
. "$(dirname "$0")/lib.sh"

S=$T/src
R=$T/repo
MARK=plaintext-mark-7f3a9c
mkdir -p "$S/etc" "$S/log" "$T/copies"
for i in $(seq 1 40); do
	{ echo "$MARK config $i"; head -c 3000 /dev/urandom | base64; } \
		>"$S/etc/f$i.conf"
done
head -c 2000000 /dev/urandom >"$S/data.bin"
echo "$MARK log start" >"$S/log/app.log"

step "a full key makes a write-only key (the repository becomes version 2)"
init_repo "$R"
# A mirror made before: version 1, until a full key's sync upgrades it.
O=$T/offsite
expect 0 "$GFSB" sync -r "$R" --to "$O"
printf 'the writer passphrase' >"$T/wpw"
chmod 600 "$T/wpw"
expect 0 "$GFSB" key add -r "$R" --write-only --new-password-file "$T/wpw"
out_has "write-only key "
WKEY=$(awk '{print $3}' "$T/out")
expect 0 "$GFSB" key list -r "$R"
[ "$(grep -c '(write-only)' "$T/out")" = 1 ] || fail "not listed write-only"
expect 2 "$GFSB" key passwd -r "$R" --write-only \
	--new-password-file "$T/wpw"
one_line_error "--write-only goes with key add"

step "the mirror learns of the key from a full key's sync, not the writer's"
expect 12 "$GFSB" sync -r "$R" --password-file "$T/wpw" --to "$O"
one_line_error "does not hold write-only key ${WKEY:0:8}: sync it once with a"
expect 12 "$GFSB" sync -r "$R" --password-file "$T/wpw" --to "$T/o2"
one_line_error "a write-only key cannot create the mirror"
[ ! -e "$T/o2" ] || fail "a writer made a mirror"
expect 0 "$GFSB" sync -r "$R" --to "$O"
out_has "gave the mirror's config the source's reader keys"
expect 0 "$GFSB" sync -r "$R" --to "$O"
grep -q "reader keys" "$T/out" && fail "the mirror upgraded twice"

# The server keeps the writer's passphrase only.
mkdir "$T/vault"
mv "$T/pw" "$T/vault/pw"
export GFSBACKUP_PASSWORD_FILE=$T/wpw

step "ten nights of the daily job with the write-only key alone"
mkdir -p "$T/state" "$T/reports"
cat >"$T/job.conf" <<EOF
[repository]
url = $R
password-file = $T/wpw
state-dir = $T/state
[backup]
paths = $S
[retention]
policy = $HERE/../../schedules/standard.policy
[offsite]
url = $O
[report]
dir = $T/reports
EOF
chmod 600 "$T/job.conf"
size() { du -sb "$R/data" | cut -f1; }
# unchanged: the files the night's backup did not read (from run's line)
unchanged() {
	"$PY" -c 'import re, sys
m = re.search(r"backup: OK: snapshot \S+: (\d+) files \((\d+) new, "
              r"(\d+) changed\)", open(sys.argv[1]).read())
print(int(m[1]) - int(m[2]) - int(m[3]) if m else -1)' "$T/err"
}
for n in $(seq 1 10); do
	if [ "$n" -gt 1 ]; then
		# A night's changes: about 70 KB new, one file edited.
		head -c 65536 /dev/urandom >"$S/new$n.bin"
		echo "$MARK log night $n" >>"$S/log/app.log"
		echo "edited on night $n" >>"$S/etc/f$n.conf"
	fi
	before=$(size)
	when="2026-03-$(printf %02d "$n") 01:00:00"
	expect 0 "$GFSB" run --config "$T/job.conf" --time "$when"
	grep -q "run: forget: OK: left to a full key" "$T/err" ||
		{ cat "$T/err"; fail "night $n: forget not left to a full"; }
	grep -q "run: sync: OK: copied" "$T/err" ||
		{ cat "$T/err"; fail "night $n: the mirror not updated"; }
	grep -q "run: report: OK" "$T/err" ||
		{ cat "$T/err"; fail "night $n: no report"; }
	grown=$(( $(size) - before ))
	# The first night stores everything; later ones what changed.
	if [ "$n" -gt 1 ] && [ "$grown" -gt 400000 ]; then
		fail "night $n added $grown bytes for about 70 KB of changes"
	fi
	# From the second night on, its cache gives the last snapshot: the
	# files that did not change are not read again.
	same=$(unchanged)
	if [ "$n" -gt 1 ] && [ "$same" -lt 40 ]; then
		cat "$T/err"
		fail "night $n: $same files unchanged, not the 40 or more"
	fi
	echo "   night $n: $grown bytes stored, $same files unchanged"
	cp -a "$S" "$T/copies/$n"
done
[ "$(ls "$T/reports" | grep -c '\.txt$')" = 10 ] || fail "not 10 reports"
# Its own snapshots it lists, from its cache: ids, times, paths.
expect 0 "$GFSB" snapshots -r "$R"
err_has "a write-only key lists its own"
out_has "10 snapshots"
grep -qF "$MARK" "$T/out" "$T/err" && fail "snapshots showed contents"

step "its cache damaged, then lost: slower backups, never wrong ones"
W=$(find "$T/cache" -maxdepth 3 -type d -name 'writer-*')
[ -d "$W/trees" ] && [ -d "$W/snapshots" ] || fail "no cache of the writer"
for f in "$W"/trees/*; do
	printf '\125' | dd of="$f" bs=1 seek=30 conv=notrunc 2>/dev/null
done
expect 0 "$GFSB" backup -r "$R" --time "2026-03-11 01:00:00" "$S"
err_has "reading all files"
cp -a "$S" "$T/copies/11"
rm -rf "$W"
expect 0 "$GFSB" backup -r "$R" --time "2026-03-12 01:00:00" "$S"
out_has "0 unchanged"
cp -a "$S" "$T/copies/12"

step "what reads, deletes or manages keys is refused (exit 12, one line)"
refused() {
	expect 12 "$GFSB" "$@"
	one_line_error "a write-only key cannot"
	if grep -rqF "$MARK" "$T/out" "$T/err"; then
		fail "$1 showed what was backed up"
	fi
}
refused ls -r "$R" latest
refused restore -r "$R" latest --target "$T/never"
[ ! -e "$T/never" ] || fail "a refused restore made its target"
refused dump -r "$R" "latest:$S/etc/f1.conf"
refused find -r "$R" 'f1.conf'
refused forget -r "$R" --keep-last 1
refused prune -r "$R"
refused verify -r "$R" --read-data
refused stats -r "$R"
refused tag -r "$R" --add x
refused repair index -r "$R"
refused key add -r "$R" --new-password-file "$T/wpw"
refused key passwd -r "$R" --new-password-file "$T/wpw"
# The mirror: the backups of the cache steps reach it too.
expect 0 "$GFSB" sync -r "$R" --to "$O"
out_has "deleted 0"
# Nothing the writer wrote on this machine holds a byte of it either.
if grep -rqF "$MARK" "$T/cache" "$T/state-home" 2>/dev/null; then
	fail "the writer's cache holds what was backed up"
fi

step "with the full key: every snapshot, whole"
export GFSBACKUP_PASSWORD_FILE=$T/vault/pw
expect 0 "$GFSB" verify -r "$R" --read-data --report "$T/freport"
out_has "no damage found"
# The report names the key that wrote the last snapshot.
grep -q "written by   write-only key $WKEY" "$T"/freport/*.txt ||
	{ cat "$T"/freport/*.txt; fail "the report does not name $WKEY"; }
expect 0 "$GFSB" snapshots -r "$R" --json
ids=$("$PY" -c 'import json,sys
snaps = sorted(json.load(open(sys.argv[1])), key=lambda s: s["time"])
# each written by the write-only key, and named so
assert all(s.get("writer", "").startswith(sys.argv[2]) for s in snaps)
print(" ".join(s["id"] for s in snaps))' "$T/out" "$WKEY") ||
	fail "snapshots do not name the write-only key $WKEY"
set -- $ids
[ "$#" = 12 ] || fail "$# snapshots, not 12"
for n in $(seq 1 12); do
	check_restores "$R" "$1" "$n"
	check_restores "$O" "$1" "$n"
	shift
done
expect 0 "$GFSB" verify -r "$O" --read-data
out_has "no damage found"

step "a full key prunes at home: the writer leaves that to a full key's sync"
expect 0 "$GFSB" forget -r "$R" --keep-last 11 --prune
[ "$(ls "$O/snapshots" | wc -l)" = 12 ] || fail "not 12 offsite"
export GFSBACKUP_PASSWORD_FILE=$T/wpw
echo "night 13" >>"$S/log/app.log"
expect 0 "$GFSB" backup -r "$R" "$S"
cp -a "$S" "$T/copies/13"
expect 12 "$GFSB" sync -r "$R" --to "$O"
one_line_error "are left to a full key's sync (the packs are copied)"
[ "$(ls "$O/snapshots" | wc -l)" = 12 ] || fail "the writer deleted"
export GFSBACKUP_PASSWORD_FILE=$T/vault/pw
expect 0 "$GFSB" sync -r "$R" --to "$O"
export GFSBACKUP_PASSWORD_FILE=$T/wpw
expect 0 "$GFSB" sync -r "$R" --to "$O"
out_has "copied 0 objects"
export GFSBACKUP_PASSWORD_FILE=$T/vault/pw
expect 0 "$GFSB" verify -r "$O" --read-data
out_has "no damage found"
expect 0 "$GFSB" snapshots -r "$O" --json
set -- $("$PY" -c 'import json,sys
snaps = sorted(json.load(open(sys.argv[1])), key=lambda s: s["time"])
print(" ".join(s["id"] for s in snaps))' "$T/out")
[ "$#" = 12 ] || fail "$# snapshots offsite, not 12"
for n in $(seq 2 13); do
	check_restores "$O" "$1" "$n"
	shift
done
echo "ok"
