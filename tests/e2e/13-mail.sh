#!/bin/bash
# Mail delivery of the report (gfsb_mail_send, through tests/helpers/
# gfsb_sendmail) against a real SMTP server (tests/smtp/smtpd.py, aiosmtpd)
# on 127.0.0.1: the MIME shape and encodings, STARTTLS, implicit TLS, AUTH,
# refused logins and recipients, an unreachable server, header injection,
# a password never sent in clear or printed, an untrusted certificate.
# Skipped (77) when aiosmtpd is not installed, unless GFSB_REQUIRE_SMTP=1.
. "$(dirname "$0")/lib.sh"

SENDMAIL=${GFSB_SENDMAIL:-$(dirname "$GFSB")/tests/gfsb_sendmail}
. "$HERE/lib_smtp.sh"
[ -x "$SENDMAIL" ] || fail "no gfsb_sendmail at $SENDMAIL"

# send STATUS ARGS...: run gfsb_sendmail with the common message arguments
# and check its exit status; everything it prints is also kept in
# $T/captured (searched for the password at the end).
send() {
	local want=$1
	shift
	expect "$want" "$SENDMAIL" --from 'gfsbackup@example.org' \
		--text-file "$T/body.txt" --html-file "$T/body.html" "$@"
	cat "$T/out" "$T/err" >>"$T/captured"
}

# The message bodies: non-ASCII, a 3000-character line, lines that start
# with '.' or "From ", a lone '.', trailing blanks, '=' and tabs.
$PY - "$T/body.txt" "$T/body.html" <<'PYEOF'
import sys
text = ("Backup report for h\u00f4te \u00e9t\u00e9 \u65e5\u672c \U0001F600\n"
        ".starts with a dot\n"
        ".\n"
        "..two dots\n"
        "From the server: all good\n"
        "From\n"
        "trailing blanks   \n"
        "tab\tinside and trailing\t\n"
        "equals = sign and =3D literal\n"
        + "x" * 1000 + "\u00e9" * 500 + "y" * 1500 + "\n"
        "\n"
        "last line without newline \u00e9")
html = ("<!DOCTYPE html>\n<html><body style=\"color:#333\">\n"
        "<p>\u65e5\u672c \u00e9 \U0001F4BE</p>\n"
        ".dot\nFrom here\n<pre>" + "z" * 3000 + "</pre>\n"
        "</body></html>\n")
open(sys.argv[1], "w", encoding="utf-8").write(text)
open(sys.argv[2], "w", encoding="utf-8").write(html)
PYEOF

# Certificates: a self-signed one the client trusts with --cacert, and a
# second one it has no reason to trust.
for c in cert other; do
	openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=localhost \
		-addext subjectAltName=IP:127.0.0.1,DNS:localhost \
		-keyout "$T/$c.key" -out "$T/$c.pem" >/dev/null 2>&1 ||
		fail "openssl cannot make a certificate"
done
SECRET='s3cr3t-Pa55word-do-not-print'
printf '%s\n' "$SECRET" >"$T/smtp.pw"
chmod 600 "$T/smtp.pw"
: >"$T/captured"

# Long enough for several encoded words, with multi-byte characters where
# a naive 42-byte cut would fall.
SUBJECT=$'[gfsbackup] OK! h\u00f4te \u00e9t\u00e9 \u65e5\u672c\u8a9e\u306e\u30ec\u30dd\u30fc\u30c8 \U0001F600\U0001F600 report for a fairly long subject line that must be folded'

step "plain delivery to 3 recipients: MIME shape, encodings, headers"
start_smtpd plain
P_PLAIN=$PORT
send 0 --url "smtp://127.0.0.1:$PORT" --to a@example.org \
	--to b@example.org --to c@example.net --subject "$SUBJECT"
[ "$(nmail plain)" = 1 ] || fail "message not stored"
LONG_ASCII="[gfsbackup] WARNING backup-host-with-a-long-name: s3://bucket/with/a/long/prefix/for/the/repository extra words"
send 0 --url "smtp://127.0.0.1:$PORT" --to a@example.org \
	--subject "$LONG_ASCII"
$PY - "$T/plain/mail" "$T/body.txt" "$T/body.html" "$SUBJECT" \
	"$LONG_ASCII" <<'PYEOF'
import base64, email, email.policy, email.utils, json, re, sys, time
d, tf, hf, subject, long_ascii = sys.argv[1:]
raw = open(d + "/0001.eml", "rb").read()
# Every line ends in CRLF, is short, and would need no dot-stuffing.
assert b"\n" not in raw.replace(b"\r\n", b""), "bare LF"
for line in raw.split(b"\r\n"):
    assert len(line) <= 78, (len(line), line[:80])
    assert not line.startswith(b"."), line
    assert not line.startswith(b"From "), line
m = email.message_from_bytes(raw, policy=email.policy.default)
assert m.get_content_type() == "multipart/alternative", m.get_content_type()
parts = list(m.iter_parts())
assert [p.get_content_type() for p in parts] == ["text/plain", "text/html"]
for p, f in zip(parts, (tf, hf)):
    assert p.get_content_charset() == "utf-8", p.get_content_charset()
    assert p["Content-Transfer-Encoding"] == "quoted-printable"
    got = p.get_content().replace("\r\n", "\n")
    want = open(f, encoding="utf-8", newline="").read()
    assert got == want, (f, got[:200], want[:200])
assert str(m["Subject"]) == subject, (str(m["Subject"]), subject)
# Each encoded word is at most 75 characters and decodes on its own:
# no UTF-8 sequence is split between two words.
words = re.findall(rb"=\?UTF-8\?B\?[^?]*\?=", raw.split(b"\r\n\r\n")[0])
assert len(words) >= 3, words
for w in words:
    assert len(w) <= 75, w
    base64.b64decode(w[10:-2]).decode("utf-8")
date = email.utils.parsedate_to_datetime(m["Date"])
assert abs(date.timestamp() - time.time()) < 60, m["Date"]
to = [a.addr_spec for a in m["To"].addresses]
assert to == ["a@example.org", "b@example.org", "c@example.net"], to
assert m["From"].addresses[0].addr_spec == "gfsbackup@example.org"
assert m["MIME-Version"] == "1.0"
env = json.load(open(d + "/0001.json"))
assert env["rcpt_tos"] == to, env
assert env["mail_from"] == "gfsbackup@example.org", env
assert env["user"] is None and env["tls"] is False, env
m2 = email.message_from_bytes(open(d + "/0002.eml", "rb").read(),
                              policy=email.policy.default)
for x in (m, m2):
    assert x["Message-ID"] and x["Message-ID"].startswith("<"), x["Message-ID"]
assert m["Message-ID"] != m2["Message-ID"], "Message-ID repeats"
assert str(m2["Subject"]) == long_ascii, str(m2["Subject"])
PYEOF

step "STARTTLS, AUTH with a password from a 0600 file, --cacert"
start_smtpd auth --starttls "$T/cert.pem" "$T/cert.key" \
	--auth-user gfsb --auth-password-file "$T/smtp.pw"
P_AUTH=$PORT
send 0 --url "smtp://127.0.0.1:$PORT" --to a@example.org --user gfsb \
	--password-file "$T/smtp.pw" --cacert "$T/cert.pem" --subject auth
[ "$(nmail auth)" = 1 ] || fail "message not stored"
$PY - "$T/auth/mail/0001.json" <<'PYEOF'
import json, sys
env = json.load(open(sys.argv[1]))
assert env["tls"] is True and env["user"] == "gfsb", env
PYEOF

step "smtps:// (implicit TLS) with AUTH"
start_smtpd smtps --implicit-tls "$T/cert.pem" "$T/cert.key" \
	--auth-user gfsb --auth-password-file "$T/smtp.pw"
P_SMTPS=$PORT
send 0 --url "smtps://127.0.0.1:$PORT" --to a@example.org --user gfsb \
	--password-file "$T/smtp.pw" --cacert "$T/cert.pem" --subject smtps
[ "$(nmail smtps)" = 1 ] || fail "message not stored"
$PY - "$T/smtps/mail/0001.json" <<'PYEOF'
import json, sys
env = json.load(open(sys.argv[1]))
assert env["tls"] is True and env["user"] == "gfsb", env
PYEOF

step "wrong password: refused login, nothing stored"
printf 'wrong-password\n' >"$T/wrong.pw"
chmod 600 "$T/wrong.pw"
send 4 --url "smtp://127.0.0.1:$P_AUTH" --to a@example.org --user gfsb \
	--password-file "$T/wrong.pw" --cacert "$T/cert.pem" --subject x
one_line_error "refused the login of user gfsb"
err_has "127.0.0.1:$P_AUTH"
[ "$(nmail auth)" = 1 ] || fail "a message was stored after a refused login"

step "a password file open to others is refused before connecting"
cp "$T/smtp.pw" "$T/open.pw"
chmod 644 "$T/open.pw"
# The server is down: exit 2 (not 3) shows nothing was attempted.
closed_port DOWN
send 2 --url "smtp://127.0.0.1:$DOWN" --to a@example.org --user gfsb \
	--password-file "$T/open.pw" --subject x
one_line_error "$T/open.pw"
err_has "group or others"
send 2 --url "smtp://127.0.0.1:$DOWN" --to a@example.org --user gfsb \
	--password-file "$T/nonexistent.pw" --subject x
one_line_error "$T/nonexistent.pw"

step "server down: network error within seconds"
start=$(date +%s)
send 3 --url "smtp://127.0.0.1:$DOWN" --to a@example.org --subject x
[ $(($(date +%s) - start)) -le 5 ] || fail "took too long to give up"
one_line_error "127.0.0.1:$DOWN unreachable"

step "one of 3 recipients refused: the others get it, with a warning"
start_smtpd picky --reject-rcpt bad@example.org \
	--reject-rcpt worse@example.org
send 0 --url "smtp://127.0.0.1:$PORT" --to a@example.org \
	--to bad@example.org --to c@example.net --subject picky
err_has "refused recipient bad@example.org"
grep -q 'a@example.org\|c@example.net' "$T/err" &&
	fail "a delivered recipient is named in a warning"
$PY - "$T/picky/mail/0001.json" <<'PYEOF'
import json, sys
env = json.load(open(sys.argv[1]))
assert env["rcpt_tos"] == ["a@example.org", "c@example.net"], env
PYEOF
send 4 --url "smtp://127.0.0.1:$PORT" --to bad@example.org \
	--to worse@example.org --subject picky
err_has "refused every recipient"
[ "$(nmail picky)" = 1 ] || fail "a message was stored with no recipient"

step "header injection and malformed options are refused"
send 2 --url "smtp://127.0.0.1:$P_PLAIN" --to a@example.org \
	--subject $'report\r\nBcc: victim@example.org'
one_line_error "line break"
send 2 --url "smtp://127.0.0.1:$P_PLAIN" --to a@example.org \
	--subject $'report\nBcc: victim@example.org'
one_line_error "line break"
send 2 --url "smtp://127.0.0.1:$P_PLAIN" --to 'a@example.org>, <x@y.z' \
	--subject x
one_line_error "invalid recipient address"
send 2 --url "smtp://127.0.0.1:$P_PLAIN" --to 'a b@example.org' --subject x
one_line_error '"a b@example.org"'
send 2 --url "smtp://127.0.0.1:$P_PLAIN" --to noat.example.org --subject x
one_line_error "noat.example.org"
send 2 --url "smtp://gfsb:$SECRET@127.0.0.1:$P_PLAIN" --to a@example.org \
	--subject x
one_line_error "--smtp-user"
send 2 --url "http://127.0.0.1:$P_PLAIN" --to a@example.org --subject x
one_line_error "smtp://"
[ "$(nmail plain)" = 2 ] || fail "a refused message was stored"

step "smtp:// with a password and no STARTTLS: refused, nothing sent"
start_smtpd cleartext --auth-user gfsb --auth-password-file "$T/smtp.pw"
send 3 --url "smtp://127.0.0.1:$PORT" --to a@example.org --user gfsb \
	--password-file "$T/smtp.pw" --subject x
one_line_error "TLS is required"
[ ! -s "$T/cleartext/mail/auth.log" ] || { cat "$T/cleartext/mail/auth.log";
	fail "the client sent AUTH over a cleartext connection"; }
[ "$(nmail cleartext)" = 0 ] || fail "message stored"

step "an untrusted certificate is refused"
send 3 --url "smtp://127.0.0.1:$P_AUTH" --to a@example.org --user gfsb \
	--password-file "$T/smtp.pw" --subject x
one_line_error "certificate"
send 3 --url "smtps://127.0.0.1:$P_SMTPS" --to a@example.org --user gfsb \
	--password-file "$T/smtp.pw" --subject x
one_line_error "certificate"
# Trusting another certificate is no better.
send 3 --url "smtps://127.0.0.1:$P_SMTPS" --to a@example.org --user gfsb \
	--password-file "$T/smtp.pw" --cacert "$T/other.pem" --subject x
one_line_error "certificate"
[ "$(nmail auth)" = 1 ] && [ "$(nmail smtps)" = 1 ] ||
	fail "a message went through an untrusted connection"

step "the password never appears in any output"
if grep -rqF -- "$SECRET" "$T/captured" "$T"/*/log; then
	grep -rF -- "$SECRET" "$T/captured" "$T"/*/log
	fail "the password was printed"
fi

echo "13-mail: ok"
