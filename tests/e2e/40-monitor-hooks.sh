#!/bin/bash
# Monitoring the daily job from outside, against a local HTTP server:
# the dead-man's switch gets /start, then the URL on success, or /fail
# with the failed stage's line; a switch that does not answer is said and
# changes nothing else (the job succeeds).  The metrics file is read with
# Prometheus's own text-format parser; one that cannot be written is a
# warning in the report, and the job's outcome stands.  And the hooks:
# before and after around the backup, on-error at the end; a before hook
# that fails skips the backup, and the report and the switch name it.
. "$(dirname "$0")/lib.sh"

R=$T/repo
S=$T/src
mkdir -p "$S" "$T/metrics"
echo data >"$S/a"
init_repo "$R"
LOG=$T/requests
: >"$LOG"
"$PY" "$HERE/../helpers/http_recorder.py" "$LOG" --seconds 300 >"$T/port" &
BGPIDS+=($!)
for _ in $(seq 50); do [ -s "$T/port" ] && break; sleep 0.1; done
PORT=$(cat "$T/port")
[ -n "$PORT" ] || fail "the HTTP server did not start"

conf() { # PING_URL METRICS_FILE
	cat >"$T/gfsbackup.conf" <<EOC
[repository]
url = $R
password-file = $T/pw
state-dir = $T/state
[backup]
paths = $S
[retention]
keep-daily = 7
[report]
dir = $T/reports
[monitor]
ping-url = $1
metrics-file = $2
EOC
	chmod 600 "$T/gfsbackup.conf"
}

step "a night that goes well: /start, then the URL; the metrics"
conf "http://127.0.0.1:$PORT/ping/abc" "$T/metrics/gfsbackup.prom"
expect 0 "$GFSB" run --config "$T/gfsbackup.conf" --time '2026-06-01 01:00:00'
[ "$(cat "$LOG")" = "$(printf 'GET /ping/abc/start\nGET /ping/abc')" ] ||
	{ cat "$LOG"; fail "pings of a good night"; }
"$PY" - "$T/metrics/gfsbackup.prom" "$(hostname)" <<'PY'
import sys
from prometheus_client.parser import text_string_to_metric_families
fams = {f.name: f for f in text_string_to_metric_families(open(sys.argv[1]).read())}
def val(name, **labels):
    for s in fams[name].samples:
        if all(s.labels.get(k) == v for k, v in labels.items()):
            assert s.labels["host"] == sys.argv[2], s
            return s.value
    raise AssertionError(f"{name} {labels} missing")
assert val("gfsbackup_run_status") == 0
assert val("gfsbackup_last_success_timestamp_seconds") == val("gfsbackup_last_run_timestamp_seconds") > 0
assert val("gfsbackup_stage_failed", stage="backup") == 0
assert val("gfsbackup_stage_duration_seconds", stage="verify") >= 0
assert val("gfsbackup_snapshots", role="all") == 1
assert val("gfsbackup_snapshots", role="daily") == 1
assert val("gfsbackup_backup_files") == 1
assert val("gfsbackup_repository_bytes") > 0
assert val("gfsbackup_verify_damage") == 0
PY
ls "$T/metrics" | grep -v '^gfsbackup.prom$' && fail "a temporary metrics file was left"

step "a night that fails: /fail with the failed stage's line"
: >"$LOG"
mv "$R" "$R.away"
expect 10 "$GFSB" run --config "$T/gfsbackup.conf" --time '2026-06-02 01:00:00'
mv "$R.away" "$R"
grep -q "^GET /ping/abc/start$" "$LOG" || { cat "$LOG"; fail "no /start"; }
grep -q "^POST /ping/abc/fail open: cannot open the repository" "$LOG" ||
	{ cat "$LOG"; fail "no /fail with the stage's line"; }
"$PY" - "$T/metrics/gfsbackup.prom" <<'PY'
import sys
from prometheus_client.parser import text_string_to_metric_families
v = {}
for f in text_string_to_metric_families(open(sys.argv[1]).read()):
    for s in f.samples:
        v[(s.name, s.labels.get("stage"))] = s.value
assert v[("gfsbackup_run_status", None)] == 2, v
assert v[("gfsbackup_stage_failed", "open")] == 1, v
# the last success is the night before
assert v[("gfsbackup_last_success_timestamp_seconds", None)] < v[("gfsbackup_last_run_timestamp_seconds", None)], v
PY

step "a switch that does not answer, a metrics file that cannot be written"
closed_port DOWN
conf "http://127.0.0.1:$DOWN/ping/abc" "$T/no-such-dir/gfsbackup.prom"
expect 0 "$GFSB" run --config "$T/gfsbackup.conf" --time '2026-06-03 01:00:00'
err_has "run: monitor: ping http://127.0.0.1:"
err_has "run: monitor: metrics file $T/no-such-dir/gfsbackup.prom"
grep -q "metrics file $T/no-such-dir/gfsbackup.prom" "$(ls -t "$T"/reports/report-*.txt | head -1)" ||
	fail "the report does not say the metrics file failed"
conf "http://127.0.0.1:$PORT/broken" "$T/metrics/gfsbackup.prom"
expect 0 "$GFSB" run --config "$T/gfsbackup.conf" --time '2026-06-04 01:00:00'
err_has "HTTP 500"

step "hooks: before, after, on-error; a failing before skips the backup"
conf "http://127.0.0.1:$PORT/ping/abc" "$T/metrics/gfsbackup.prom"
cat >>"$T/gfsbackup.conf" <<EOC
[hooks]
before = echo before >>$T/marks
after = echo "after \$GFSB_SNAPSHOT" >>$T/marks
on-error = echo "error \$GFSB_FAILED_STAGE: \$GFSB_ERROR" >>$T/marks
timeout = 20s
EOC
expect 0 "$GFSB" run --config "$T/gfsbackup.conf" --time '2026-06-05 01:00:00'
[ "$(head -1 "$T/marks")" = before ] || { cat "$T/marks"; fail "before"; }
grep -qE '^after [0-9a-f]{64}$' "$T/marks" || { cat "$T/marks"; fail "after"; }
sed -i "s|^before = .*|before = echo 'database not ready' >\&2; exit 4|" "$T/gfsbackup.conf"
: >"$LOG"
n=$(snap_json "$R" | "$PY" -c 'import json,sys; print(len(json.load(sys.stdin)))')
expect 1 "$GFSB" run --config "$T/gfsbackup.conf" --time '2026-06-06 01:00:00'
err_has "before: FAILED: before hook: exit status 4: database not ready"
err_has "backup: FAILED: skipped: the before hook failed"
grep -qx "error before: before hook: exit status 4: database not ready" "$T/marks" ||
	{ cat "$T/marks"; fail "on-error was not told the failure"; }
grep -q "^POST /ping/abc/fail before: before hook: exit status 4" "$LOG" ||
	{ cat "$LOG"; fail "the switch was not told"; }
m=$(snap_json "$R" | "$PY" -c 'import json,sys; print(len(json.load(sys.stdin)))')
[ "$n" = "$m" ] || fail "a backup ran after its before hook failed"
grep -q "before hook: exit status 4" "$(ls -t "$T"/reports/report-*.txt | head -1)" ||
	fail "the report does not name the hook"

step "bad input: the configuration's [monitor] and [hooks] refused in one line"
conf "ftp://example.org/x" "$T/metrics/gfsbackup.prom"
expect 2 "$GFSB" run --config "$T/gfsbackup.conf"
one_line_error "[monitor] ping-url: \"ftp://example.org/x\" is not an http:// or https:// URL"
conf "http://127.0.0.1:$PORT/ping/abc" "relative/metrics.prom"
expect 2 "$GFSB" run --config "$T/gfsbackup.conf"
one_line_error "[monitor] metrics-file"
conf "http://127.0.0.1:$PORT/ping/abc" "$T/metrics/gfsbackup.prom"
printf '[hooks]\ntimeout = soon\n' >>"$T/gfsbackup.conf"
expect 2 "$GFSB" run --config "$T/gfsbackup.conf"
one_line_error "[hooks] timeout: \"soon\" is not a duration"
echo "ok"
