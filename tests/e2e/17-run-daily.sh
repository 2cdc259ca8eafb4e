#!/bin/bash
# The daily job over a simulated year: `gfsbackup run --config` every night
# (run --time) against a local repository, an offsite mirror on S3 (Ceph's
# RADOS Gateway, behind the fault proxy) and an SMTP server.  Afterwards:
# the snapshots kept are exactly those the standard GFS policy keeps
# (checked against an independent implementation of its rules); the mirror
# holds exactly the local repository's objects; every pack, local and
# offsite, was read within the last 7 days (rotate/7); a report arrived
# every night.  One night the offsite store is unreachable: the backup
# still lands locally, the report says FAILED and why, the exit status is
# non-zero, and the next night catches up.  A second run while one is in
# progress stops at once with status 11.
#
# GFSB_RUN_DAYS sets the number of nights (default 400; the sanitizer pass
# runs fewer: the same paths, not the same count).
. "$(dirname "$0")/lib.sh"
. "$HERE/lib_s3.sh"
. "$HERE/lib_smtp.sh"
s3_setup
mkbucket gfsb-daily

DAYS=${GFSB_RUN_DAYS:-400}
OUTAGE=$((DAYS / 2))	# the night the offsite store is down
S=$T/src
R=$T/repo
M=s3://gfsb-daily/web1
mkdir -p "$S/etc" "$S/www" "$T/state"
for i in $(seq 1 20); do
	echo "setting $i" >"$S/etc/conf$i"
done
head -c 200000 /dev/urandom >"$S/www/app.bin"
"$GFSB" init -r "$R" --kdf-memory 8M --kdf-iterations 1 --pack-size 1M -q \
	>/dev/null
start_smtpd mail
proxy_start
cp "$HERE/../../schedules/standard.policy" "$T/standard.policy"

cat >"$T/gfsbackup.conf" <<EOF
# The configuration under test (gfsbackup.conf(5)).
[repository]
url = $R
password-file = $T/pw
state-dir = $T/state
cache-dir = $T/cache

[offsite]
url = $M
endpoint = $PROXY
region = $AWS_REGION

[backup]
paths = $S
exclude = *.tmp
host = web1
tags = nightly

[retention]
policy = $T/standard.policy
prune = weekly

[verify]
read-data-subset = rotate/7

[report]
smtp-url = smtp://127.0.0.1:$PORT
from = backup@web1.example.org
to = ops@example.org, dba@example.org
send = always
dir = $T/reports
EOF
chmod 600 "$T/gfsbackup.conf"

step "the dry run changes nothing"
expect 0 "$GFSB" run --config "$T/gfsbackup.conf" --dry-run \
	--time '2025-01-01 01:30:00'
err_has "backup: DRY RUN"
err_has "report: DRY RUN"
[ -z "$(ls "$R/snapshots")" ] || fail "the dry run made a snapshot"
[ "$(nmail mail)" = 0 ] || fail "the dry run sent a mail"

step "$DAYS nights (the offsite store down on night $OUTAGE)"
: >"$T/nights"
d0=$(date -u -d 2025-01-01 +%s)
for n in $(seq 1 "$DAYS"); do
	day=$(date -u -d "@$((d0 + (n - 1) * 86400))" +%F)
	# A night's changes: a log grows, a setting changes, a file churns.
	echo "$day request" >>"$S/www/access.log"
	echo "changed $day" >"$S/etc/conf$((n % 20 + 1))"
	[ $((n % 10)) = 0 ] && head -c 100000 /dev/urandom >"$S/www/app.bin"
	echo "scratch" >"$S/www/cache.tmp"
	want=0
	if [ "$n" = "$OUTAGE" ]; then
		faults '{"rate": 1, "kinds": ["reset"], "reset_counters": true}'
		want=1
	fi
	rc=0
	"$GFSB" run --config "$T/gfsbackup.conf" --time "$day 01:30:00" \
		>"$T/out" 2>"$T/err" || rc=$?
	if [ "$rc" != "$want" ]; then
		cat "$T/err"
		fail "night $n ($day): exit status $rc, expected $want"
	fi
	echo "$day 01:30:00" >>"$T/nights"
	# The packs that must all have been read a week later.
	[ "$n" = $((DAYS - 7)) ] && (cd "$R/data" && find . -type f -printf \
		'%f\n' | sort >"$T/week-ago.lst")
	if [ "$n" = "$OUTAGE" ]; then
		faults '{"rate": 0}'
		err_has "sync: FAILED"
		err_has "backup: OK"
		cp "$T/err" "$T/outage.err"
	fi
done
echo "   $DAYS nights run, $(nmail mail) reports received"

step "a report arrived every night; the outage night's says FAILED and why"
[ "$(nmail mail)" = "$DAYS" ] || fail "$(nmail mail) reports for $DAYS nights"
$PY - "$T/mail/mail" "$OUTAGE" <<'PYEOF'
import email, email.policy, glob, sys
files = sorted(glob.glob(sys.argv[1] + "/*.eml"))
outage = int(sys.argv[2])
for i, f in enumerate(files, 1):
    m = email.message_from_binary_file(open(f, "rb"), policy=email.policy.default)
    subj = str(m["subject"])
    text = next(m.iter_parts()).get_content()
    if i == outage:
        assert subj.startswith("[gfsbackup] FAILED "), subj
        assert "sync" in text and "FAILED" in text, text[:2000]
    else:
        assert subj.startswith("[gfsbackup] OK ") or \
            subj.startswith("[gfsbackup] WARNING "), (i, subj, text[:3000])
PYEOF
# The saved copies: the last 90 nights' (keep-days' default) and no more.
want=$((DAYS < 91 ? DAYS : 91))
[ "$(ls "$T/reports" | grep -c '^report-.*\.txt$')" = "$want" ] &&
	[ "$(ls "$T/reports" | grep -c '^report-.*\.html$')" = "$want" ] ||
	fail "$(ls "$T/reports" | wc -l) saved reports, not $want of each kind"
[ -e "$T/reports/report-$(date -d "$(tail -1 "$T/nights")" +%F-%H%M%S).txt" ] ||
	fail "the last night's report is not saved"

step "the snapshots kept are exactly those the policy keeps"
"$GFSB" snapshots -r "$R" --json >"$T/snaps.json"
$PY - "$T/snaps.json" "$T/nights" "$OUTAGE" <<'PYEOF'
# restic's rules, written again independently: newest first, a snapshot is
# kept for a rule when its period differs from the last one that rule kept
# and the rule still has a count left; the oldest snapshot is also kept
# while a rule's count is not used up (restic's "oldest" rule,
# docs/RETENTION.md).
import datetime, json, sys
snaps = json.load(open(sys.argv[1]))
nights = [datetime.datetime.strptime(l.strip(), "%Y-%m-%d %H:%M:%S")
          for l in open(sys.argv[2]) if l.strip()]
rules = [("daily", 7, lambda t: (t.year, t.month, t.day)),
         ("weekly", 4, lambda t: t.isocalendar()[:2]),
         ("monthly", 12, lambda t: (t.year, t.month)),
         ("yearly", 7, lambda t: t.year)]
# The history as forget saw it each night: everything made so far minus
# what earlier nights removed; applying the policy every night to what is
# left gives the final set.
held = []
for t in nights:
    held.append(t)
    keep = set()
    for _, n, per in rules:
        last, left = None, n
        order = sorted(held, reverse=True)
        for i, s in enumerate(order):
            if left == 0:
                break
            p = per(s)
            if p != last:
                keep.add(s)
                last = p
                left -= 1
            elif i == len(order) - 1:
                keep.add(s)
    held = [s for s in held if s in keep]
got = sorted(datetime.datetime.strptime(s["time"][:19], "%Y-%m-%dT%H:%M:%S")
             for s in snaps)
want = sorted(held)
if got != want:
    print("kept:    ", [str(x) for x in got])
    print("expected:", [str(x) for x in want])
    sys.exit("the snapshots kept do not match the policy")
print(f"   {len(got)} snapshots kept, as the policy says")
assert all(s["hostname"] == "web1" and s["tags"] == ["nightly"] for s in snaps)
PYEOF

step "the offsite mirror holds exactly the local repository's objects"
(cd "$R" && find . -type f ! -path './locks/*' -printf '%s %P\n') | sort \
	>"$T/local.lst"
s3_listing gfsb-daily/web1 >"$T/mirror.lst"
cmp -s "$T/local.lst" "$T/mirror.lst" ||
	{ diff "$T/local.lst" "$T/mirror.lst" | head; fail "mirror differs"; }

step "every pack, local and offsite, was read in the last 7 nights"
$PY - "$T/state" "$R" "$T/week-ago.lst" "$(tail -1 "$T/nights")" <<'PYEOF'
import datetime, glob, json, os, sys
state, repo, weekago, last = sys.argv[1:]
today = datetime.date.fromisoformat(last[:10])
packs = {os.path.basename(p) for p in glob.glob(repo + "/data/*/*")}
old = {l.strip() for l in open(weekago) if l.strip()} & packs
assert old, "no pack was there a week ago"
files = glob.glob(state + "/*/verify-*.json")
assert len(files) == 2, files      # local and offsite
for f in files:
    s = json.load(open(f))
    assert set(s["packs"]) <= packs, f"{f} remembers deleted packs"
    for p in old:
        assert p in s["packs"], f"{f}: pack {p} was never read"
        age = (today - datetime.date.fromisoformat(s["packs"][p])).days
        assert 0 <= age <= 6, f"{f}: pack {p} last read {age} days ago"
print(f"   {len(old)} packs older than a week, each read within the last "
      f"7 nights, local and offsite ({len(packs)} packs in all)")
PYEOF

step "a second run while one is in progress stops with status 11"
lock=$(ls "$T"/state/run-*.lock)
exec 9>>"$lock"
flock -n 9 || fail "cannot take the run lock for the test"
expect 11 "$GFSB" run --config "$T/gfsbackup.conf"
one_line_error "in progress"
exec 9>&-
[ "$(nmail mail)" = "$DAYS" ] || fail "the refused run sent a report"

echo "ok"
