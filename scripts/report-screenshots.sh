#!/bin/bash
# Look at the morning report as operators do: play N nights (default 400)
# of the daily job under schedules/standard.policy on a small changing
# tree, then render the last night's HTML report with headless Chromium
# at a desktop and a phone width.
#
# Usage: scripts/report-screenshots.sh [--nights N] [--gfsbackup PATH]
#                                      [--out DIR]
# Writes DIR/report.html, DIR/report.txt, DIR/desktop.png (1280 px wide)
# and DIR/phone.png (390 px); DIR defaults to ./report-screenshots.
# Needs chromium-headless-shell (or chromium) from Debian:
#   apt-get install chromium-headless-shell
set -euo pipefail

HERE=$(cd "$(dirname "$0")/.." && pwd)
GFSB=$HERE/build/gfsbackup
NIGHTS=400
OUT=$PWD/report-screenshots
while [ $# -gt 0 ]; do
	case $1 in
	--nights) NIGHTS=$2; shift 2 ;;
	--gfsbackup) GFSB=$2; shift 2 ;;
	--out) OUT=$2; shift 2 ;;
	*) echo "report-screenshots.sh: unknown argument: $1" >&2; exit 2 ;;
	esac
done
[[ $NIGHTS =~ ^[1-9][0-9]*$ ]] || { echo "bad --nights: $NIGHTS" >&2; exit 2; }
BROWSER=$(command -v chromium-headless-shell ||
	command -v /usr/lib/chromium/chromium-headless-shell ||
	command -v chromium || true)
[ -n "$BROWSER" ] || {
	echo "report-screenshots.sh: no headless Chromium:" \
		"apt-get install chromium-headless-shell" >&2
	exit 1
}
T=$(mktemp -d /tmp/gfsb-report-shots.XXXXXX)
trap 'rm -rf "$T"' EXIT
mkdir -p "$OUT" "$T/src"
printf 'report screenshots\n' >"$T/pw"
chmod 600 "$T/pw"
export GFSBACKUP_PASSWORD_FILE=$T/pw
"$GFSB" init -q -r "$T/repo" --kdf-memory 8M --kdf-iterations 1 >/dev/null
cat >"$T/gfsbackup.conf" <<EOF
[repository]
url = $T/repo
password-file = $T/pw
state-dir = $T/state

[backup]
paths = $T/src

[retention]
policy = $HERE/schedules/standard.policy

[verify]
read-data-subset = rotate/7

[report]
dir = $T/reports
EOF
chmod 600 "$T/gfsbackup.conf"

first=$(date -d "today - $NIGHTS days" +%F)
for n in $(seq 1 "$NIGHTS"); do
	day=$(date -d "$first + $n days" +%F)
	head -c $((4096 + n * 37 % 20000)) /dev/urandom >"$T/src/night-$((n % 50))"
	"$GFSB" run --config "$T/gfsbackup.conf" --time "$day 01:30:00" \
		>/dev/null 2>&1 || true
	((n % 50)) || echo "night $n of $NIGHTS"
done
cp "$(ls "$T"/reports/report-*.html | tail -1)" "$OUT/report.html"
cp "$(ls "$T"/reports/report-*.txt | tail -1)" "$OUT/report.txt"
for shot in desktop:1280 phone:390; do
	"$BROWSER" --headless --no-sandbox --disable-gpu --hide-scrollbars \
		--window-size="${shot#*:},2400" \
		--screenshot="$OUT/${shot%%:*}.png" "file://$OUT/report.html" \
		>/dev/null 2>&1
done
echo "written: $OUT/{report.html,report.txt,desktop.png,phone.png}"
