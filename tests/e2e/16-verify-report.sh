#!/bin/bash
# The morning report end to end: `verify --mail` against a real SMTP server
# (aiosmtpd on 127.0.0.1, STARTTLS and AUTH): the mail that arrives parses
# as MIME multipart/alternative with a text and an HTML part telling the
# same facts, the right subject, status and recipients; damage makes it
# FAILED and names the pack and the broken files; --mail-on failure stays
# quiet when all is well; an offsite mirror behind is a warning; an SMTP
# server that is down gives a clear error, a non-zero exit, and the report
# is kept on disk.
. "$(dirname "$0")/lib.sh"
. "$HERE/lib_smtp.sh"

R=$T/repo
S=$T/src
export GFSBACKUP_STATE_DIR=$T/state
HOST=$(hostname)

openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=localhost \
	-addext subjectAltName=IP:127.0.0.1,DNS:localhost \
	-keyout "$T/smtp.key" -out "$T/smtp.crt" 2>"$T/openssl.log" ||
	{ cat "$T/openssl.log"; fail "openssl"; }
printf 'mail secret 7f3a' >"$T/smtp-pass"
chmod 600 "$T/smtp-pass"
start_smtpd srv --starttls "$T/smtp.crt" "$T/smtp.key" --auth-user gfsb \
	--auth-password-file "$T/smtp-pass"
MAILOPTS=(--mail --smtp-url "smtp://127.0.0.1:$PORT" --mail-from
	"backup@$HOST.example" --mail-to ops@example.org
	--mail-to "dba@example.org, cto@example.org" --smtp-user gfsb
	--smtp-password-file "$T/smtp-pass" --smtp-cacert "$T/smtp.crt")

"$GFSB" init -r "$R" --kdf-memory 8M --kdf-iterations 1 --pack-size 1M -q \
	>/dev/null
mkdir -p "$S"
for d in 01 02 03 04 05 06 07 08 09 10; do
	head -c 600000 /dev/urandom >"$S/day$d.bin"
	echo "line $d" >>"$S/log.txt"
	"$GFSB" backup -r "$R" -q --time "2026-06-$d 01:00:00" "$S" >/dev/null
	# One verification a night builds the history the chart shows.
	"$GFSB" verify -r "$R" -q --read-data-subset rotate/7 \
		--time "2026-06-$d 03:00:00" >/dev/null
done
printf 'keep-daily = 3\nkeep-weekly = 2\nkeep-monthly = 2\n' \
	>"$T/test.policy"
# Snapshots the policy would drop are a warning: let forget drop them.
"$GFSB" forget -r "$R" -q --policy "$T/test.policy" >/dev/null

# check_mail EML WANT_STATUS: the message is multipart/alternative with
# exactly a text/plain and a text/html part, both UTF-8, whose subjects,
# status and facts agree; prints the text part to $T/mail.txt and the
# HTML to $T/mail.html.
check_mail() {
	$PY - "$1" "$2" "$HOST" "$R" "$T" <<'PYEOF'
import email, email.policy, json, os, sys, re
eml, status, host, repo, t = sys.argv[1:]
m = email.message_from_binary_file(open(eml, "rb"), policy=email.policy.default)
assert m.get_content_type() == "multipart/alternative", m.get_content_type()
parts = list(m.iter_parts())
assert [p.get_content_type() for p in parts] == ["text/plain", "text/html"], parts
assert all(p.get_content_charset() == "utf-8" for p in parts)
subj = str(m["subject"])
assert subj == f"[gfsbackup] {status} {host}: {repo}", subj
assert set(a.addr_spec for a in m["to"].addresses) == {
    "ops@example.org", "dba@example.org", "cto@example.org"}, m["to"]
assert m["message-id"] and m["date"]
env = json.load(open(eml[:-4] + ".json"))
assert sorted(env["rcpt_tos"]) == ["cto@example.org", "dba@example.org", "ops@example.org"], env
assert env.get("tls") is True and env.get("user") == "gfsb", env
text, html = parts[0].get_content(), parts[1].get_content()
assert status in text.splitlines()[0], text[:200]
assert status in html and "<script" not in html.lower() and "<style" not in html.lower()
open(f"{t}/mail.txt", "w").write(text)
open(f"{t}/mail.html", "w").write(html)
PYEOF
}
txt_has() { grep -qF -- "$1" "$T/mail.txt" || { cat "$T/mail.txt"; fail "report text lacks: $1"; }; }
html_has() { grep -qF -- "$1" "$T/mail.html" || fail "report HTML lacks: $1"; }

step "a clean night: OK, mailed to three recipients over STARTTLS + AUTH"
expect 0 "$GFSB" verify -r "$R" --read-data-subset rotate/7 \
	--time '2026-06-10 04:00:00' --policy "$T/test.policy" \
	--report "$T/reports" "${MAILOPTS[@]}"
[ "$(nmail srv)" = 1 ] || fail "expected 1 mail, got $(nmail srv)"
eml=$(ls "$T"/srv/mail/*.eml | tail -1)
check_mail "$eml" OK
txt_has "LAST BACKUP"
txt_has "2026-06-10 01:00"
txt_has "daily (son)"
txt_has "keep-daily 3, keep-weekly 2, keep-monthly 2"
txt_has "VERIFICATION"
txt_has "rotate/7"
txt_has "GFS TIMELINE"
txt_has "LAST 30 NIGHTS"
html_has "daily (son)"
# The chart has the nights the earlier verifications recorded.
[ "$(grep -cE '^  06-(0[1-9]|10) +#' "$T/mail.txt")" -ge 9 ] ||
	{ cat "$T/mail.txt"; fail "the 30-night chart lacks the recorded nights"; }
# The saved copy is the same report.
[ "$(ls "$T"/reports/report-*.txt | wc -l)" = 1 ] || fail "report not saved"
[ "$(ls "$T"/reports/report-*.html | wc -l)" = 1 ] || fail "HTML not saved"
[ "$(stat -c %a "$(ls "$T"/reports/report-*.txt)")" = 600 ] ||
	fail "saved report is not 0600"
$PY - "$(ls "$T"/reports/report-*.txt)" "$T/mail.txt" <<'PYEOF'
import sys
a = open(sys.argv[1]).read().replace("\r\n", "\n").rstrip("\n")
b = open(sys.argv[2]).read().replace("\r\n", "\n").rstrip("\n")
assert a == b, "saved text differs from the mailed text"
PYEOF

step "--mail-on failure: a clean night sends nothing"
expect 0 "$GFSB" verify -r "$R" --time '2026-06-10 05:00:00' \
	"${MAILOPTS[@]}" --mail-on failure
[ "$(nmail srv)" = 1 ] || fail "a clean report was mailed with --mail-on failure"

step "damage: FAILED, naming the pack and the broken files"
cp -a "$R" "$T/bad"
victim=$(ls -S "$T"/bad/data/*/* | head -1)
flip "$victim" 64
expect 1 "$GFSB" verify -r "$T/bad" --read-data --time '2026-06-10 06:00:00' \
	"${MAILOPTS[@]}" --mail-on failure
[ "$(nmail srv)" = 2 ] || fail "the FAILED report was not mailed"
eml=$(ls "$T"/srv/mail/*.eml | tail -1)
$PY - "$eml" <<'PYEOF'
import email, email.policy, sys
m = email.message_from_binary_file(open(sys.argv[1], "rb"), policy=email.policy.default)
assert str(m["subject"]).startswith("[gfsbackup] FAILED "), m["subject"]
t, h = [p.get_content() for p in m.iter_parts()]
open(sys.argv[1] + ".txt", "w").write(t)
open(sys.argv[1] + ".html", "w").write(h)
PYEOF
short=$(basename "$victim" | cut -c1-16)
grep -qF "$short" "$eml.txt" || { cat "$eml.txt"; fail "report text does not name the pack"; }
grep -qF "$short" "$eml.html" || fail "report HTML does not name the pack"
grep -qE "snapshot [0-9a-f]{8} $S/(day[0-9]+\.bin|log\.txt)" "$eml.txt" ||
	{ cat "$eml.txt"; fail "report does not name a broken file"; }
for part in txt html; do
	grep -qF 'gfsbackup repair index --read-data' "$eml.$part" ||
		fail "report $part does not say what to do about damage"
done

step "an offsite mirror behind is a WARNING with the lag"
expect 0 "$GFSB" sync -r "$R" --to "$T/mirror"
head -c 300000 /dev/urandom >"$S/late.bin"
"$GFSB" backup -r "$R" -q --time '2026-06-11 01:00:00' "$S" >/dev/null
expect 0 "$GFSB" verify -r "$R" --time '2026-06-11 04:00:00' \
	--offsite "$T/mirror" "${MAILOPTS[@]}"
eml=$(ls "$T"/srv/mail/*.eml | tail -1)
check_mail "$eml" WARNING
txt_has "behind"
txt_has "$T/mirror"
expect 0 "$GFSB" sync -r "$R" --to "$T/mirror"
expect 0 "$GFSB" verify -r "$R" --time '2026-06-11 04:30:00' \
	--offsite "$T/mirror" "${MAILOPTS[@]}"
eml=$(ls "$T"/srv/mail/*.eml | tail -1)
check_mail "$eml" OK
txt_has "in sync"

step "a backup that did not run last night is a WARNING"
expect 0 "$GFSB" verify -r "$R" --time '2026-06-13 04:00:00' \
	"${MAILOPTS[@]}"
eml=$(ls "$T"/srv/mail/*.eml | tail -1)
check_mail "$eml" WARNING
txt_has "hours old"

step "the mail settings from the daily job's configuration"
cat >"$T/gfsbackup.conf" <<EOF
[repository]
url = $R
password-file = $T/pw
[backup]
paths = $S
[retention]
policy = $T/test.policy
[verify]
read-data-subset = 1/3
[report]
smtp-url = smtp://127.0.0.1:$PORT
from = backup@$HOST.example
to = ops@example.org, dba@example.org, cto@example.org
smtp-user = gfsb
smtp-password-file = $T/smtp-pass
smtp-cacert = $T/smtp.crt
dir = $T/cfg-reports
EOF
chmod 600 "$T/gfsbackup.conf"
"$GFSB" forget -r "$R" -q --policy "$T/test.policy" >/dev/null
n=$(nmail srv)
expect 0 env -u GFSBACKUP_PASSWORD_FILE "$GFSB" verify --config \
	"$T/gfsbackup.conf" --mail --time '2026-06-11 05:00:00' --json
[ "$(nmail srv)" = $((n + 1)) ] || fail "no mail with the configuration's settings"
grep -qF '"mode": "slice 1 of 3"' "$T/out" || fail "the configuration's subset was not used"
eml=$(ls "$T"/srv/mail/*.eml | tail -1)
check_mail "$eml" OK
txt_has "daily (son)"
[ -n "$(ls "$T"/cfg-reports/report-*.txt)" ] || fail "not saved in the configuration's dir"

step "SMTP down: clear error, non-zero exit, the report kept on disk"
n=$(nmail srv)
expect 1 "$GFSB" verify -r "$R" --time '2026-06-11 07:00:00' --mail \
	--smtp-url smtp://127.0.0.1:1 --mail-from backup@example.org \
	--mail-to ops@example.org --report "$T/kept"
one_line_error "the report was not mailed"
err_has "127.0.0.1:1"
err_has "$T/kept"
[ -s "$(ls "$T"/kept/report-*.txt)" ] || fail "report not kept"
[ -s "$(ls "$T"/kept/report-*.html)" ] || fail "HTML report not kept"
[ "$(nmail srv)" = "$n" ] || fail "a mail arrived from nowhere"
# Without --report, a mailed report is kept in the state directory.
expect 1 "$GFSB" verify -r "$R" --time '2026-06-11 07:05:00' --mail \
	--smtp-url smtp://127.0.0.1:1 --mail-from backup@example.org \
	--mail-to ops@example.org
[ -n "$(find "$T/state" -path '*/reports/report-*.txt')" ] ||
	fail "report not kept in the state directory"

step "a wrong SMTP password: refused, said, and never printed"
printf 'wrong' >"$T/bad-pass"
chmod 600 "$T/bad-pass"
expect 1 "$GFSB" verify -r "$R" --time '2026-06-11 08:00:00' --mail \
	--smtp-url "smtp://127.0.0.1:$PORT" --mail-from backup@example.org \
	--mail-to ops@example.org --smtp-user gfsb \
	--smtp-password-file "$T/bad-pass" --smtp-cacert "$T/smtp.crt"
one_line_error "the report was not mailed"
grep -rqF "mail secret" "$T/out" "$T/err" && fail "password printed"
grep -rqF "wrong" "$T/err" && fail "password printed"

step "saved reports older than keep-days go; nothing else in the dir does"
O=$T/old-reports
mkdir -p "$O"
# 2026-06-11 is the day of the verification below: 90 days (the default)
# back is 2026-03-13 09:00.
for f in report-2026-03-13-085959.txt report-2026-03-13-085959.html \
	report-2025-01-01-010000.txt; do echo old >"$O/$f"; done
for f in report-2026-03-13-090001.txt report-2026-06-01-010000.html \
	report-2025-01-01-010000.txt.bak notes.txt report-2025-01-01.txt \
	report-2025-01-01-01000x.txt my-report-2025-01-01-010000.txt; do
	echo keep >"$O/$f"
done
expect 0 "$GFSB" verify -r "$R" --time '2026-06-11 09:00:00' --report "$O"
for f in report-2026-03-13-085959.txt report-2026-03-13-085959.html \
	report-2025-01-01-010000.txt; do
	[ ! -e "$O/$f" ] || fail "old report $f kept"
done
for f in report-2026-03-13-090001.txt report-2026-06-01-010000.html \
	report-2025-01-01-010000.txt.bak notes.txt report-2025-01-01.txt \
	report-2025-01-01-01000x.txt my-report-2025-01-01-010000.txt \
	report-2026-06-11-090000.txt report-2026-06-11-090000.html; do
	[ -e "$O/$f" ] || fail "$f removed"
done
# The configuration's keep-days: 0 keeps everything, 2 keeps two days.
grep -v -e "^keep-days" -e "^dir =" "$T/gfsbackup.conf" >"$T/keep.conf"
printf 'keep-days = 0\ndir = %s\n' "$O" >>"$T/keep.conf"
chmod 600 "$T/keep.conf"
n=$(ls "$O" | wc -l)
expect 0 env -u GFSBACKUP_PASSWORD_FILE "$GFSB" verify --config \
	"$T/keep.conf" --time '2026-06-11 10:00:00'
[ "$(ls "$O" | wc -l)" = $((n + 2)) ] || fail "keep-days = 0 removed reports"
sed -i 's/^keep-days = 0$/keep-days = 2/' "$T/keep.conf"
expect 0 env -u GFSBACKUP_PASSWORD_FILE "$GFSB" verify --config \
	"$T/keep.conf" --time '2026-06-11 11:00:00'
left=$(cd "$O" && ls | grep -E '^report-[0-9-]{17}\.(txt|html)$' | sort |
	tr '\n' ' ')
want=
for h in 09 10 11; do
	want="${want}report-2026-06-11-${h}0000.html report-2026-06-11-${h}0000.txt "
done
[ "$left" = "$want" ] ||
	fail "keep-days = 2 left: $left"
[ -e "$O/notes.txt" ] && [ -e "$O/report-2025-01-01-010000.txt.bak" ] ||
	fail "keep-days = 2 removed a file that is not a report"

echo "ok"
