#!/usr/bin/env bash
# What GFS-derived Object Lock dates cost, on a real S3 server (Ceph's
# RADOS Gateway on 127.0.0.1, bluestore on a file), over a year of nights
# played with `run --time`:
#
#   1. the nightly job: two configurations, the same data every night, one
#      syncing to a mirror locked in compliance mode with dates from the
#      standard policy, the other to an unlocked mirror; their runs are
#      interleaved (the order alternates each night).  Per night: the sync
#      stage's seconds, and for the locked one the lock requests (HEAD and
#      PutObjectRetention) and dates extended, from its own report line.
#   2. storage: what each mirror holds at the year's end, and what the
#      locked mirror's versions are billed for under their dates (GiB-days
#      from each version's write to its retain-until date), against one
#      flat lock as long as the longest rule (7 years + the margin) on
#      every version written.
#
# Usage: tests/bench/lock_bench.sh [--nights N] [--gfsbackup PATH]
#                                  [--workdir DIR] [--out FILE]
# Requirements: tests/s3/install-deps.sh.  About 50 minutes for 365 nights.
set -euo pipefail

SCRIPT_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd -P)
REPO_ROOT=$(cd "$SCRIPT_DIR/../.." && pwd -P)
PY=/usr/bin/python3
NIGHTS=365
GFS="$REPO_ROOT/build/gfsbackup"
WORKDIR=""
OUT=""

die() { echo "lock_bench.sh: $*" >&2; exit 1; }
need_arg() { [[ $# -ge 2 && -n $2 ]] || die "$1 needs an argument"; }
while [[ $# -gt 0 ]]; do
	case $1 in
	--nights) need_arg "$@"; NIGHTS=$2; shift 2 ;;
	--gfsbackup) need_arg "$@"; GFS=$2; shift 2 ;;
	--workdir) need_arg "$@"; WORKDIR=$2; shift 2 ;;
	--out) need_arg "$@"; OUT=$2; shift 2 ;;
	-h | --help) sed -n '2,21p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
	*) die "unknown argument $1" ;;
	esac
done
[[ $NIGHTS =~ ^[1-9][0-9]*$ ]] || die "bad --nights $NIGHTS"
[[ $GFS == /* ]] || GFS="$PWD/$GFS"
[[ -x $GFS ]] || die "no gfsbackup at $GFS"
command -v radosgw >/dev/null || die "Ceph missing (tests/s3/install-deps.sh)"

CLEAN=0
if [[ -z $WORKDIR ]]; then
	WORKDIR=$(mktemp -d /var/tmp/gfsb-lockbench.XXXXXX)
	CLEAN=1
fi
mkdir -p "$WORKDIR"
WORKDIR=$(cd "$WORKDIR" && pwd -P)
[[ -n $OUT ]] || OUT="$(dirname "$WORKDIR")/lock-bench-results.md"
CEPH=$WORKDIR/ceph
cleanup() {
	bash "$REPO_ROOT/tests/s3/ceph.sh" stop "$CEPH" >/dev/null 2>&1 || true
	[[ $CLEAN = 1 ]] && rm -rf "$WORKDIR"
	return 0
}
trap cleanup EXIT

export TZ=UTC
GFSB_CEPH_STORE=bluestore bash "$REPO_ROOT/tests/s3/ceph.sh" start "$CEPH" \
	>"$WORKDIR/ceph.log" 2>&1 || { cat "$WORKDIR/ceph.log"; die "Ceph did not start"; }
# shellcheck disable=SC1091
. "$CEPH/env"
export GFSBACKUP_S3_ENDPOINT=$GFSB_S3_ENDPOINT
export XDG_CACHE_HOME=$WORKDIR/cache
bash "$REPO_ROOT/tests/s3/ceph.sh" mkbucket "$CEPH" locked --object-lock >/dev/null
bash "$REPO_ROOT/tests/s3/ceph.sh" mkbucket "$CEPH" plain >/dev/null

printf 'bench passphrase' >"$WORKDIR/pw"
chmod 600 "$WORKDIR/pw"
export GFSBACKUP_PASSWORD_FILE=$WORKDIR/pw
SRC=$WORKDIR/src
mkdir -p "$SRC"
for which in locked plain; do
	"$GFS" init -r "$WORKDIR/$which" --kdf-memory 8M --kdf-iterations 1 \
		--pack-size 1M -q >/dev/null
	{
		printf '[repository]\nurl = %s\npassword-file = %s\nstate-dir = %s\n' \
			"$WORKDIR/$which" "$WORKDIR/pw" "$WORKDIR/state-$which"
		printf '[offsite]\nurl = s3://%s/web1\n' "$which"
		[[ $which = locked ]] && printf 'object-lock = compliance\nlock-margin = 2d\n'
		printf '[backup]\npaths = %s\n' "$SRC"
		printf '[retention]\npolicy = %s\nprune = weekly\n' \
			"$REPO_ROOT/schedules/standard.policy"
		printf '[report]\ndir = %s\n' "$WORKDIR/reports-$which"
	} >"$WORKDIR/$which.conf"
	chmod 600 "$WORKDIR/$which.conf"
done

# The data: 8 MiB that stays, and each night 3 new files of 128 KiB whose
# lives are drawn from 1 to 400 days (most short: a server's churn).
$PY - "$SRC" "$NIGHTS" <<'PYEOF' >"$WORKDIR/plan"
import os, random, sys
src, nights = sys.argv[1], int(sys.argv[2])
rnd = random.Random(7)
for i in range(32):
    with open(os.path.join(src, "base%02d" % i), "wb") as f:
        f.write(rnd.randbytes(256 << 10))
lives = [1, 1, 2, 3, 5, 7, 14, 30, 60, 120, 400]
for n in range(nights):
    for k in range(3):
        print(n, "night%03d-%d" % (n, k), n + rnd.choice(lives))
PYEOF

night_date() { date -u -d "2027-01-01 +$1 days" +%Y-%m-%d; }
: >"$WORKDIR/nights.tsv"
echo "playing $NIGHTS nights ($(night_date 0) to $(night_date $((NIGHTS - 1))))..." >&2
for ((n = 0; n < NIGHTS; n++)); do
	d=$(night_date "$n")
	$PY - "$SRC" "$WORKDIR/plan" "$n" <<'PYEOF'
import os, random, sys
src, plan, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
for line in open(plan):
    born, name, dies = line.split()
    p = os.path.join(src, name)
    if int(born) == n:
        with open(p, "wb") as f:
            f.write(random.Random(name).randbytes(128 << 10))
    elif int(dies) <= n and os.path.exists(p):
        os.unlink(p)
PYEOF
	if ((n % 2)); then order="plain locked"; else order="locked plain"; fi
	for which in $order; do
		"$GFS" run --config "$WORKDIR/$which.conf" --time "$d 01:30:00" \
			--json >"$WORKDIR/run-$which.json" 2>"$WORKDIR/run-$which.err" ||
			{ cat "$WORKDIR/run-$which.err"; die "run ($which) failed on $d"; }
	done
	$PY - "$WORKDIR/run-locked.json" "$WORKDIR/run-plain.json" "$d" \
		>>"$WORKDIR/nights.tsv" <<'PYEOF'
import json, re, sys
def sync(path):
    for st in json.load(open(path))["stages"]:
        if st["name"] == "sync":
            return st
    raise SystemExit("no sync stage in " + path)
lk, pl = sync(sys.argv[1]), sync(sys.argv[2])
m = re.search(r"(\d+) dates extended, (\d+) requests in ([\d.]+) s", lk["summary"])
if not m:
    raise SystemExit("no lock figures in: " + lk["summary"])
w = re.search(r"; (\d+) objects the repository deleted wait", lk["summary"])
print(sys.argv[3], lk["seconds"], pl["seconds"], m.group(1), m.group(2),
      m.group(3), w.group(1) if w else 0, sep="\t")
PYEOF
	((n % 30 == 29)) && echo "  ... $d" >&2
done

# Every version the locked mirror holds, with its size, write time and
# retain-until date; and the current size of both mirrors.
echo "reading every version's lock..." >&2
$PY - "$GFSB_S3_ENDPOINT" "$AWS_ACCESS_KEY_ID" "$AWS_SECRET_ACCESS_KEY" \
	>"$WORKDIR/versions.tsv" <<'PYEOF'
import subprocess, sys, urllib.parse, xml.etree.ElementTree as ET
ep, ak, sk = sys.argv[1:]
ns = "{http://s3.amazonaws.com/doc/2006-03-01/}"
EMPTY = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
def req(path, head=False):
    cmd = ["curl", "-sS", "--noproxy", "*", "--aws-sigv4", "aws:amz:default:s3",
           "--user", ak + ":" + sk, "-H", "x-amz-content-sha256: " + EMPTY]
    if head:
        cmd.append("-I")
    return subprocess.run(cmd + [ep + path], capture_output=True,
                          check=True).stdout.decode()
marker = ""
vmarker = ""
while True:
    q = "key-marker=%s&prefix=web1%%2F&version-id-marker=%s&versions=" % (
        urllib.parse.quote(marker, safe=""), urllib.parse.quote(vmarker, safe=""))
    root = ET.fromstring(req("/locked?" + q))
    for v in root.findall(ns + "Version"):
        key = v.find(ns + "Key").text
        if "/locks/" in key:
            continue
        vid = v.find(ns + "VersionId").text
        h = req("/locked/%s?versionId=%s" % (urllib.parse.quote(key),
                urllib.parse.quote(vid, safe="")), head=True)
        until = ""
        for line in h.splitlines():
            if line.lower().startswith("x-amz-object-lock-retain-until-date:"):
                until = line.split(":", 1)[1].strip()
        print(key, v.find(ns + "Size").text, v.find(ns + "LastModified").text,
              until, v.find(ns + "IsLatest").text, sep="\t")
    if root.find(ns + "IsTruncated").text != "true":
        break
    marker = root.find(ns + "NextKeyMarker").text
    vmarker = root.find(ns + "NextVersionIdMarker").text or ""
PYEOF
plain_bytes=$(env -u AWS_CA_BUNDLE rclone --config "$CEPH/rclone.conf" size \
	--json ceph:plain/web1 | $PY -c 'import json,sys; print(json.load(sys.stdin)["bytes"])')

$PY - "$WORKDIR/nights.tsv" "$WORKDIR/versions.tsv" "$plain_bytes" \
	"$(night_date $((NIGHTS - 1)))" "$NIGHTS" >"$OUT" <<'PYEOF'
import statistics, sys
from datetime import datetime, timezone
nights_f, versions_f, plain_bytes, last, n = sys.argv[1:]
plain_bytes = int(plain_bytes)
rows = [l.rstrip("\n").split("\t") for l in open(nights_f)]
locked_s = [float(r[1]) for r in rows]
plain_s = [float(r[2]) for r in rows]
ext = [int(r[3]) for r in rows]
reqs = [int(r[4]) for r in rows]
lock_s = [float(r[5]) for r in rows]
def pct(v, p):
    v = sorted(v)
    return v[min(len(v) - 1, int(round(p * (len(v) - 1))))]
def ts(s):
    s = s.replace("Z", "+00:00")
    if "." in s:
        a, b = s.split(".", 1)
        s = a + b[b.index("+"):] if "+" in b else a
    return datetime.fromisoformat(s).timestamp()
end = datetime.fromisoformat(last + "T23:59:59+00:00").timestamp()
held = total = 0
gfs_days = flat_days = 0.0
flat = 7 * 365.25 * 86400 + 2 * 86400
for l in open(versions_f):
    key, size, mod, until, latest = l.rstrip("\n").split("\t")
    size = int(size)
    total += size
    if until:
        u = ts(until)
        if u > end:
            held += size
        gfs_days += size * max(0.0, u - ts(mod)) / 86400
    flat_days += size * flat / 86400
GiB = 1 << 30
MiB = 1 << 20
print("# Object Lock over %s nights (standard policy, margin 2d)\n" % n)
print("Each night: the same changes to the data, `run --time` with a locked "
      "mirror and with an unlocked one, interleaved.\n")
print("| sync stage, per night | median s | p95 s | max s |")
print("|---|---:|---:|---:|")
print("| unlocked mirror | %.2f | %.2f | %.2f |" % (statistics.median(plain_s), pct(plain_s, .95), max(plain_s)))
print("| locked mirror (compliance) | %.2f | %.2f | %.2f |" % (statistics.median(locked_s), pct(locked_s, .95), max(locked_s)))
print("| of which lock requests | %.2f | %.2f | %.2f |" % (statistics.median(lock_s), pct(lock_s, .95), max(lock_s)))
print()
print("| lock work | median | p95 | max | total |")
print("|---|---:|---:|---:|---:|")
print("| requests (HEAD + PutObjectRetention) | %d | %d | %d | %d |" % (statistics.median(reqs), pct(reqs, .95), max(reqs), sum(reqs)))
print("| dates extended | %d | %d | %d | %d |" % (statistics.median(ext), pct(ext, .95), max(ext), sum(ext)))
busiest = sorted(rows, key=lambda r: -int(r[4]))[:5]
print("\nBusiest nights (requests): " + ", ".join("%s (%s)" % (r[0], r[4]) for r in busiest) + "\n")
print("| storage | MiB |")
print("|---|---:|")
print("| written to the locked mirror over the nights (every version) | %.1f |" % (total / MiB))
print("| of it, locked past the last night: GFS-derived dates | %.1f |" % (held / MiB))
print("| of it, locked past the last night: one flat 7-year lock | %.1f |" % (total / MiB))
print("| the unlocked mirror after the last night (what the policy keeps) | %.1f |" % (plain_bytes / MiB))
print("\n(The nights are played ahead of the clock, so no lock passes during "
      "the run: what each scheme holds is read from the dates.)")
print()
print("| billed under lock | GiB-days | vs GFS |")
print("|---|---:|---:|")
print("| GFS-derived dates | %.1f | 1.00x |" % (gfs_days / GiB))
print("| one flat lock of 7 years + 2 days | %.1f | %.1fx |" % (flat_days / GiB, flat_days / gfs_days if gfs_days else 0))
PYEOF
cat "$OUT"
echo "results: $OUT" >&2
