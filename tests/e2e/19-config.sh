#!/bin/bash
# The configuration file of `run`: every kind of mistake is one line that
# names the file and, where it has one, the line and the key, with exit
# status 2; a configuration or a secret that other users could read is
# refused; nothing is touched in the repository.  A good configuration
# runs (dry and for real), and `run` refuses -r.
. "$(dirname "$0")/lib.sh"

R=$T/repo
S=$T/src
mkdir -p "$S"
echo data >"$S/file"
init_repo "$R"
C=$T/gfsbackup.conf
printf 'smtp secret' >"$T/smtp-pass"
chmod 600 "$T/smtp-pass"
printf 'keep-daily = 7\n' >"$T/ok.policy"

good() {
	cat <<EOF
# a good configuration
[repository]
url = $R
password-file = $T/pw
state-dir = $T/state

[backup]
paths = $S
exclude = *.tmp
one-file-system = yes

[retention]
policy = $T/ok.policy
prune = weekly

[verify]
read-data-subset = rotate/7

[report]
dir = $T/reports
EOF
}

# bad LINE-NUMBER WHAT-TO-FIND [sed expression...]: write the good
# configuration changed by the sed expressions; run must fail with status 2
# and one line naming the file (and line, when LINE-NUMBER is not 0).
bad() {
	local line=$1 what=$2
	shift 2
	good | sed "$@" >"$C"
	chmod 600 "$C"
	expect 2 "$GFSB" run --config "$C" --dry-run
	if [ "$line" != 0 ]; then
		one_line_error "$C:$line: "
	else
		one_line_error "$C"
	fi
	err_has "$what"
}

step "a good configuration runs"
good >"$C"
chmod 600 "$C"
expect 0 "$GFSB" run --config "$C" --dry-run --time '2026-03-01 01:00:00'
err_has "backup: DRY RUN"
[ -z "$(ls "$R/snapshots")" ] || fail "the dry run made a snapshot"
expect 0 "$GFSB" run --config "$C" --time '2026-03-01 01:00:00' --json
$PY - "$T/out" <<'PYEOF'
import json, sys
r = json.load(open(sys.argv[1]))
assert r["status"] == "OK" and r["exit"] == 0, r
assert [s["name"] for s in r["stages"]] == ["backup", "forget", "prune", "verify"], r
PYEOF
[ "$(ls "$R/snapshots" | wc -l)" = 1 ] || fail "no snapshot"
[ -n "$(ls "$T"/reports/report-*.txt)" ] || fail "no report saved"

step "without [retention] there is no forget and no prune"
good | sed '/^\[retention\]/,/^$/d' >"$C"
chmod 600 "$C"
expect 0 "$GFSB" run --config "$C" --time '2026-03-02 01:00:00' --json
$PY - "$T/out" <<'PYEOF'
import json, sys
r = json.load(open(sys.argv[1]))
assert [s["name"] for s in r["stages"]] == ["backup", "verify"], r
PYEOF

step "paths with spaces, in double quotes"
mkdir -p "$T/two words" "$T/say \"hi\""
echo spaced >"$T/two words/file"
echo quoted >"$T/say \"hi\"/file"
good | while IFS= read -r l; do
	case $l in
	"paths = "*) printf 'paths = "%s" %s "%s"\n' "$T/two words" "$S" \
		"$T/say \\\"hi\\\"" ;;
	*) printf '%s\n' "$l" ;;
	esac
done >"$C"
chmod 600 "$C"
grep -q '^paths = "' "$C" || fail "the quoted paths line was not written"
expect 0 "$GFSB" run --config "$C" --time '2026-03-03 01:00:00'
expect 0 "$GFSB" ls -r "$R" latest
out_has "$T/two words/file"
out_has "$T/say \"hi\"/file"
out_has "$S/file"
bad 8 "[backup] paths: a quote is not closed" "s|^paths = .*|paths = \"$S|"

step "each kind of mistake: one line, file and line, exit 2"
before=$(cd "$R" && find . -type f ! -path './locks/*' | sort | xargs sha256sum)
bad 8 "[nosuch] paths: unknown section" 's/^\[backup\]/[nosuch]/'
bad 9 "[backup] colour: unknown key" 's/^exclude = \*.tmp/colour = blue/'
bad 10 "[backup] one-file-system: \"maybe\" is not yes or no" 's/one-file-system = yes/one-file-system = maybe/'
bad 14 "[retention] prune: \"monthly\" is not daily, weekly or never" 's/prune = weekly/prune = monthly/'
bad 17 "[verify] read-data-subset: \"8/7\"" 's|rotate/7|8/7|'
bad 8 "[backup] paths: \"src\" is not an absolute path" "s|^paths = .*|paths = src|"
bad 4 "[repository] password-file: cannot read" "s|^password-file = .*|password-file = $T/nothing|"
bad 21 "[report] dir: given twice" '$a dir = /tmp/x'
bad 13 "[retention] policy: cannot read policy" "s|^policy = .*|policy = $T/missing.policy|"
bad 0 "[repository] url: missing" '/^url = /d'
bad 0 "[backup] paths: missing" '/^paths = /d'
bad 7 "expected \"key = value\"" 's/^\[backup\]/[backup/'
bad 2 "stray: outside of any section" '1a stray = 1'
printf 'keep-daily = x\n' >"$T/bad.policy"
bad 13 "bad.policy:1" "s|^policy = .*|policy = $T/bad.policy|"
bad 14 "[retention] keep-weekly: give a policy file or keep-* rules, not both" \
	'/^policy = /a keep-weekly = 4'
bad 0 "[report]: smtp-url needs from and to" '$a smtp-url = smtp://127.0.0.1:25'
bad 21 "[report] smtp-url: \"http://x\" is not an smtp://" '$a smtp-url = http://x'
for v in x -1 36501 5d 99999999999999999999; do
	bad 21 "[report] keep-days: \"$v\" is not a number of days" \
		"\$a keep-days = $v"
done
bad 0 "[offsite] url: missing" -e '$a [offsite]' -e '$a region = eu'
printf 'secret' >"$T/open-pass"
chmod 644 "$T/open-pass"
bad 21 "accessible to other users (mode 0644)" "\$a smtp-password-file = $T/open-pass"
[ "$(cd "$R" && find . -type f ! -path './locks/*' | sort | xargs sha256sum)" = "$before" ] ||
	fail "a refused configuration changed the repository"

step "a configuration others can read is refused"
good >"$C"
chmod 644 "$C"
expect 2 "$GFSB" run --config "$C"
one_line_error "accessible to other users (mode 0644)"
chmod 600 "$C"
chmod 644 "$T/pw"
expect 2 "$GFSB" run --config "$C"
one_line_error "$C:4: [repository] password-file:"
chmod 600 "$T/pw"

step "other usage errors"
expect 2 "$GFSB" run
one_line_error "--config"
expect 2 "$GFSB" run --config "$C" -r "$R"
one_line_error "-r conflicts with --config"
expect 2 "$GFSB" run --config "$C" --time soon
one_line_error "--time"
expect 2 "$GFSB" run --config "$T/absent.conf"
one_line_error "cannot read the configuration"
mkfifo "$T/fifo.conf"
chmod 600 "$T/fifo.conf"
# A FIFO is refused at once, not waited on (timeout: a hang fails).
expect 2 timeout 10 "$GFSB" run --config "$T/fifo.conf"
one_line_error "is not a regular file"

echo "ok"
