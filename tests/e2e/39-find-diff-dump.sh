#!/bin/bash
# The everyday look into the history, end to end on a real repository:
# find (which snapshots hold a path), diff (what changed, restic's
# modifiers and --json), stats (restore size, dedup, --json) and dump
# (a file byte for byte, a directory as a tar that extracts to the same
# tree); and their bad input, each one line and exit 2 or 10.
. "$(dirname "$0")/lib.sh"

R=$T/repo
S=$T/src
mkdir -p "$S/etc" "$S/db"
printf 'port=5432\n' >"$S/etc/app.conf"
head -c 300000 /dev/urandom >"$S/db/dump.sql"
printf 'old\n' >"$S/etc/old.txt"
init_repo "$R"
"$GFSB" backup -r "$R" -q "$S" --time '2026-05-01 01:00:00'
ID1=$(snap_json "$R" | "$PY" -c 'import json,sys; print(json.load(sys.stdin)[0]["id"])')

printf 'port=6543\n' >"$S/etc/app.conf"
rm "$S/etc/old.txt"
printf 'new\n' >"$S/etc/new.txt"
chmod 0600 "$S/db/dump.sql"
"$GFSB" backup -r "$R" -q "$S" --time '2026-05-02 01:00:00'
ID2=$(snap_json "$R" | "$PY" -c 'import json,sys; print(json.load(sys.stdin)[1]["id"])')

step "find: every snapshot holding a match, with its entry"
expect 0 "$GFSB" find -r "$R" '*.conf' 'old.txt'
out_has "snapshot ${ID1:0:8}"
out_has "snapshot ${ID2:0:8}"
[ "$(grep -c "$S/etc/app.conf" "$T/out")" = 2 ] || { cat "$T/out"; fail "app.conf not in both"; }
[ "$(grep -c "$S/etc/old.txt" "$T/out")" = 1 ] || { cat "$T/out"; fail "old.txt not once"; }
out_has "3 matches in 2 of 2 snapshots"
expect 0 "$GFSB" find -r "$R" --json -s latest '*.sql'
"$PY" - "$T/out" "$ID2" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
assert len(d) == 1 and d[0]["snapshot"] == sys.argv[2], d
m = d[0]["matches"][0]
assert d[0]["hits"] == 1 and m["name"] == "dump.sql" and m["size"] == 300000, m
assert m["permissions"] == "-rw-------" and m["type"] == "file", m
PY
expect 0 "$GFSB" find -r "$R" 'no-such-*'
out_has "0 matches in 0 of 2 snapshots"
# A find that worked says nothing on standard error.
[ -s "$T/err" ] && { cat "$T/err"; fail "find wrote to stderr"; }

step "diff: each change once, restic's modifiers"
expect 0 "$GFSB" diff -r "$R" --metadata "$ID1" latest
out_has "M    $S/etc/app.conf"
out_has "-    $S/etc/old.txt"
out_has "+    $S/etc/new.txt"
out_has "U    $S/db/dump.sql"
out_has "Files:           1 new,     1 removed,     1 changed"
expect 0 "$GFSB" diff -r "$R" "$ID1" "$ID2"
grep -q "^U " "$T/out" && { cat "$T/out"; fail "metadata-only shown without --metadata"; }
expect 0 "$GFSB" diff -r "$R" --json "$ID1" "$ID2"
"$PY" - "$T/out" "$S" <<'PY'
import json, sys
lines = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
ch = {l["path"]: l["modifier"] for l in lines if l["message_type"] == "change"}
src = sys.argv[2]
assert ch[src + "/etc/app.conf"] == "M" and ch[src + "/etc/old.txt"] == "-", ch
assert ch[src + "/etc/new.txt"] == "+" and ch[src + "/db/dump.sql"] == "U", ch
st = lines[-1]
assert st["message_type"] == "statistics", st
assert st["added"]["files"] == 1 and st["removed"]["files"] == 1, st
assert st["changed_files"] == 1, st
PY

step "stats: restore size and deduplication"
expect 0 "$GFSB" stats -r "$R" --json
"$PY" - "$T/out" <<'PY'
import json, sys
s = json.load(open(sys.argv[1]))
assert s["snapshots_count"] == 2, s
assert s["total_file_count"] == 6, s
# dump.sql is stored once for both snapshots
assert s["total_size"] > 600000 and s["total_uncompressed_size"] < 310000, s
assert s["dedup_ratio"] > 1.9, s
PY
expect 0 "$GFSB" stats -r "$R" "$ID1"
out_has "Snapshots:          1"

step "dump: a file byte for byte, a directory as an archive"
"$GFSB" dump -r "$R" "latest:$S/db/dump.sql" >"$T/dumped"
cmp "$S/db/dump.sql" "$T/dumped" || fail "dumped file differs"
"$GFSB" dump -r "$R" "$ID1:$S/etc/old.txt" >"$T/dumped"
[ "$(cat "$T/dumped")" = old ] || fail "the old snapshot's file"
"$GFSB" dump -r "$R" "latest:$S/etc" >"$T/etc.tar"
mkdir "$T/x"
tar -C "$T/x" -xf "$T/etc.tar"
"$PY" "$HERE/treecmp.py" "$S/etc" "$T/x" --no-root >"$T/cmp" || { cat "$T/cmp"; fail "dumped directory differs"; }

step "ls --json: restic's lines, the snapshot first"
expect 0 "$GFSB" ls -r "$R" --json "$ID1" "$S/etc"
"$PY" - "$T/out" "$ID1" "$S" <<'PY'
import json, sys
lines = [json.loads(l) for l in open(sys.argv[1])]
assert lines[0]["struct_type"] == "snapshot" and lines[0]["id"] == sys.argv[2]
nodes = {l["path"]: l for l in lines[1:]}
assert all(l["struct_type"] == "node" for l in lines[1:])
conf = nodes[sys.argv[3] + "/etc/app.conf"]
assert conf["type"] == "file" and conf["size"] == 10 and conf["name"] == "app.conf", conf
assert sys.argv[3] + "/etc/old.txt" in nodes and len(nodes) == 3, nodes.keys()
PY

step "bad input: one line, the documented status"
expect 2 "$GFSB" diff -r "$R" "$ID1"
one_line_error "give two snapshots"
expect 1 "$GFSB" diff -r "$R" "$ID1" ffffffff
err_has "ffffffff"
expect 2 "$GFSB" find -r "$R"
one_line_error "nothing to find: give a pattern"
expect 2 "$GFSB" dump -r "$R"
one_line_error "give SNAPSHOT:PATH"
expect 1 "$GFSB" dump -r "$R" "latest:$S/nope"
err_has "not in snapshot"
expect 10 "$GFSB" stats -r "$T/no-repo"
echo "ok"
