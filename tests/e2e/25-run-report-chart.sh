#!/bin/bash
# The 30-night chart in the report of `run`: from the first night on, the
# saved text and HTML report show one figure per night the job ran (the
# repository size exactly as the repository holds it, and the data that
# night's backup added), `?` for a night it did not run, the nights being
# the 30 local calendar days up to the report's, across a DST change.
# And for the same night, `run` and `verify --report` tell the same about
# the verification: the same stage row, VERIFICATION and chart.  (The
# chart of `run` once always said "no figures for the last 30 nights": it
# counted the nights back from a report time not yet set.)
. "$(dirname "$0")/lib.sh"

# Local days that are not UTC days: each night runs at 00:30 in Berlin,
# 23:30 UTC the day before; and Berlin's clocks go forward on 2026-03-29.
export TZ=Europe/Berlin
R=$T/repo
S=$T/src
mkdir -p "$S"
init_repo "$R"
printf 'keep-daily = 7\n' >"$T/test.policy"
cat >"$T/gfsbackup.conf" <<EOF
[repository]
url = $R
password-file = $T/pw
state-dir = $T/state

[backup]
paths = $S

[retention]
policy = $T/test.policy
prune = weekly

[verify]
read-data-subset = rotate/7

[report]
dir = $T/reports
EOF
chmod 600 "$T/gfsbackup.conf"
: >"$T/nights"

# night DATE KiB: add KiB of new random data to the source and run the
# job at 00:30 local time on DATE; record, for the chart, the night's
# repository size (every object verify counts: packs, index files,
# snapshots, as stored) and the new data its snapshot says it added.
night() {
	head -c $(($2 * 1024)) /dev/urandom >"$S/night-$1.bin"
	expect 0 "$GFSB" run --config "$T/gfsbackup.conf" \
		--time "$1 00:30:00" --json
	"$GFSB" snapshots -r "$R" --json >"$T/snaps.json"
	$PY - "$T/out" "$T/snaps.json" "$R" "$1" >>"$T/nights" <<'PYEOF'
import json, os, sys
run, snaps, repo, date = sys.argv[1:]
sid = json.load(open(run))["snapshot"]
s = [s for s in json.load(open(snaps)) if s["id"] == sid]
assert len(s) == 1, f"run's snapshot {sid!r} is not in the repository"
size = 0
for sub in ("data", "index", "snapshots"):
    for d, _, files in os.walk(os.path.join(repo, sub)):
        size += sum(os.path.getsize(os.path.join(d, f)) for f in files)
print(date, size, s[0]["summary"]["data_added_packed"])
PYEOF
}

# check_chart: the newest saved report (text and HTML) has, for the 30
# local days up to the last night, exactly the figures in $T/nights.
check_chart() {
	local txt html
	txt=$(ls "$T"/reports/report-*.txt | tail -1)
	html=$(ls "$T"/reports/report-*.html | tail -1)
	$PY - "$txt" "$html" "$T/nights" <<'PYEOF' ||
import datetime, re, sys
txt, html, nights = sys.argv[1:]
want = {}
for line in open(nights):
    d, size, new = line.split()
    want[d] = (int(size), int(new))
last = datetime.date.fromisoformat(max(want))
days = [(last - datetime.timedelta(days=29 - i)).isoformat()
        for i in range(30)]

def human(n):	# gfsb_size_format
    if n < 1024:
        return f"{n} B"
    v, u = float(n), -1
    while v >= 1024 and u < 4:
        v /= 1024
        u += 1
    return f"{v:.{2 if v < 10 else 1 if v < 100 else 0}f} " + \
        ["KiB", "MiB", "GiB", "TiB", "PiB"][u]

# Text: a header and one line per night, oldest first.
t = open(txt).read()
assert "no figures" not in t, "the text report has no figures"
chart = t[t.index("LAST 30 NIGHTS\n"):].splitlines()[2:]
assert len(chart) >= 30, chart
for d, line in zip(days, chart[:30]):
    m = re.fullmatch(r"  (\d\d-\d\d)  ([#+]*|\?) +(\?|\S+ \S+)  (\?|\+\S+ \S+)",
                     line)
    assert m, f"not a chart line: {line!r}"
    assert m[1] == d[5:], f"night {m[1]}, expected {d[5:]}: {line!r}"
    if d in want:
        size, new = want[d]
        assert m[2] != "?" and m[3] == human(size) and \
            m[4] == "+" + human(new), \
            f"{d}: {line!r}, expected {human(size)} +{human(new)}"
    else:
        assert m.groups()[1:] == ("?", "?", "?"), \
            f"{d} has figures: {line!r}"
assert sum(1 for l in chart[:30] if not l.endswith("?")) == len(want)

# HTML: two bar charts, repository size then new data, one cell per
# night, each with the date and the exact value in its title.
h = open(html).read()
assert "no figures" not in h, "the HTML report has no figures"
h = h[h.index("Last 30 nights"):]
cells = re.findall(r'title="(\d{4}-\d\d-\d\d): (?:unknown|[^"(]*\((\d+) bytes\))"',
                   h)
assert len(cells) == 60, f"{len(cells)} cells, expected 2 x 30"
for field, chart in ((0, cells[:30]), (1, cells[30:])):
    assert [c[0] for c in chart] == days, [c[0] for c in chart]
    got = {d: int(v) for d, v in chart if v}
    assert got == {d: w[field] for d, w in want.items()}, (field, got, want)
PYEOF
	{ sed -n '/^LAST 30 NIGHTS/,$p' "$txt"; cat "$T/nights";
		fail "the chart of the report of run is not the nights'"; }
}

step "the first night: one figure, the others unknown"
night 2026-03-27 300
check_chart

step "more nights, one missed, across the change to summer time"
night 2026-03-28 200
night 2026-03-29 500
night 2026-03-31 100
[ "$(wc -l <"$T/nights")" = 4 ] || fail "not 4 nights recorded"
check_chart

step "run and verify --report tell the same about the same night"
run_txt=$(ls "$T"/reports/report-*.txt | tail -1)
run_html=$(ls "$T"/reports/report-*.html | tail -1)
expect 0 "$GFSB" verify --config "$T/gfsbackup.conf" \
	--time '2026-03-31 00:30:00' --report "$T/vreports"
$PY - "$run_txt" "$(ls "$T"/vreports/report-*.txt)" "$run_html" \
	"$(ls "$T"/vreports/report-*.html)" <<'PYEOF' ||
import re, sys
rt, vt, rh, vh = (open(p).read() for p in sys.argv[1:])

def section(t, name):
    t = t[t.index("\n" + name + "\n"):]
    return t[:t.find("\n\n", 1)] if "\n\n" in t[1:] else t

def verify_row(t):
    rows = [l for l in t.splitlines() if l.startswith("  verify ")]
    assert len(rows) == 1, rows
    return rows[0]

assert verify_row(rt) == verify_row(vt), (verify_row(rt), verify_row(vt))
for name in ("VERIFICATION", "LAST 30 NIGHTS"):
    assert section(rt, name) == section(vt, name), \
        f"{name} differs:\n{section(rt, name)}\n---\n{section(vt, name)}"
hr, hv = rh[rh.index("Last 30 nights"):], vh[vh.index("Last 30 nights"):]
assert hr == hv, "the HTML charts differ"
PYEOF
	fail "run and verify --report differ on the same night"
