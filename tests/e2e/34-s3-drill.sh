#!/bin/bash
# The restore drill against a real S3 server (Ceph's RADOS Gateway, behind
# the fault proxy): the nightly job restores a sample of the newest
# snapshot from the offsite copy on its schedule and the report carries the
# measured rate and the projected recovery time; on the nights between, the
# report shows the last drill.  A drill of everything checks every file.
# A recovery-time objective below the projection raises the warning, one
# above it does not.  A damaged pack in the offsite copy makes the drill
# fail and name exactly the files verify --read-data says it breaks.  Bad
# input gets one line and the usage status.
. "$(dirname "$0")/lib.sh"
. "$HERE/lib_s3.sh"
s3_setup
mkbucket gfsb-drill

S=$T/src
R=$T/repo
M=s3://gfsb-drill/web1
mkdir -p "$S/a" "$S/b/deep" "$T/scratch" "$T/state"
for i in $(seq 1 24); do
	head -c $((100000 + i * 7000)) /dev/urandom >"$S/a/blob$i"
done
for i in $(seq 1 40); do
	seq 1 $((i * 50)) | sed "s/^/line $i /" >"$S/b/deep/text$i"
done
: >"$S/b/empty"
ln -s deep/text1 "$S/b/link"
chmod 640 "$S/a/blob3"
"$GFSB" init -r "$R" --kdf-memory 8M --kdf-iterations 1 --pack-size 1M -q \
	>/dev/null
proxy_start

# conf RTO [SIZE]: the configuration, with that recovery-time objective
# and drill size (default 600KiB, a sample).
conf() {
	cat >"$T/gfsbackup.conf" <<EOF
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
host = web1

[verify]
read-data-subset = none
drill = ${2:-600KiB}
drill-every = 7
drill-scratch = $T/scratch

[report]
dir = $T/reports
recovery-time-objective = $1
EOF
	chmod 600 "$T/gfsbackup.conf"
}
conf 1d
last_report() { ls -t "$T"/reports/report-*.txt | head -n 1; }
report_has() {
	grep -qF -- "$1" "$(last_report)" || { cat "$(last_report)"; fail "report lacks: $1"; }
}
nfiles_in() { find "$S" ! -type d | wc -l; }

step "night 1: the drill restores a sample from the offsite copy"
expect 0 "$GFSB" run --config "$T/gfsbackup.conf" --time '2026-03-02 01:30:00'
err_has "run: drill: OK: restored"
err_has "from $M"
err_has "all intact; a full restore ($(nfiles_in) files, "
report_has "RECOVERY DRILL"
report_has "(tonight)"
report_has "within the objective of 24 h"
report_has "every file came back intact"
[ -z "$(ls -A "$T/scratch")" ] || fail "the scratch directory was left: $(ls "$T/scratch")"
REC=$(ls "$T"/state/*/drill-*.json)
[ "$(jq '.drills | length' "$REC")" = 1 ] || fail "one drill recorded"
[ "$(jq '.drills[0].bytes > 0 and .drills[0].bytes < .drills[0].total_bytes' "$REC")" = true ] ||
	fail "a sample, not everything: $(cat "$REC")"
[ "$(jq '.drills[0].total_files' "$REC")" = "$(nfiles_in)" ] ||
	fail "the snapshot's size: $(cat "$REC")"

step "night 2: no drill is due; the report shows yesterday's"
expect 0 "$GFSB" run --config "$T/gfsbackup.conf" --time '2026-03-03 01:30:00'
err_has "drill: OK: not due tonight (one every 7 days)"
report_has "(yesterday)"
[ "$(jq '.drills | length' "$REC")" = 1 ] || fail "no second drill"

step "a drill of everything, by hand: every entry comes back and is checked"
expect 0 "$GFSB" verify --config "$T/gfsbackup.conf" --drill 1GiB \
	--time '2026-03-03 12:00:00'
out_has "drill: restored"
out_has "($(nfiles_in) files)"
out_has "all intact; a full restore"
[ "$(jq '.drills[-1].files == .drills[-1].total_files' "$REC")" = true ] ||
	fail "a drill of everything restores everything: $(cat "$REC")"
[ -z "$(ls -A "$T/scratch")" ] || fail "the scratch directory was left"

step "a recovery-time objective below the projection warns"
# Every GET takes 0.3 s more: the drill projects well over a second.
faults '{"rate": 1, "kinds": ["delay"], "methods": ["GET"], "delay_seconds": 0.3}'
conf 1s
expect 0 "$GFSB" run --config "$T/gfsbackup.conf" --time '2026-03-10 01:30:00'
err_has "run: drill: WARNING: restored"
err_has "report: WARNING"
report_has "EXCEEDS the objective of 1 s"
report_has "more than the recovery-time objective of 1 s"
faults '{"rate": 0}'
conf 1d
expect 0 "$GFSB" run --config "$T/gfsbackup.conf" --time '2026-03-17 01:30:00'
err_has "run: drill: OK: restored"
report_has "within the objective of 24 h"

step "a damaged pack in the offsite copy: the drill fails and names the files"
# The largest data pack, one byte changed in the middle, put back.
pack=$(find "$R/data" -type f -printf '%s %P\n' | sort -n | tail -n 1 | cut -d' ' -f2)
s3_owner
code=$(s3 owner GET "/gfsb-drill/web1/data/$pack" \
	-H "x-amz-content-sha256: $EMPTY_SHA256")
[ "$code" = 200 ] || fail "GET the pack: $code"
cp "$T/s3.out" "$T/pack"
size=$(stat -c %s "$T/pack")
# Flipped (lib.sh), so that it always changes: a byte set to a fixed
# value was already that value once in 256 runs.
flip "$T/pack" $((size / 2))
cmp -s "$T/pack" "$R/data/$pack" && fail "the pack did not change"
code=$(s3_body owner PUT "/gfsb-drill/web1/data/$pack" "$T/pack")
[ "$code" = 200 ] || fail "PUT the damaged pack: $code"
# What verify says the damage breaks, independently of the drill.
expect 1 "$GFSB" verify -r "$M" --read-data --no-state --json
jq -r '.broken[].path' "$T/out" | sort -u >"$T/broken.want"
[ -s "$T/broken.want" ] || fail "verify found nothing broken"
expect 1 "$GFSB" verify --config "$T/gfsbackup.conf" --drill 1GiB \
	--report "$T/reports" --time '2026-03-18 12:00:00'
out_has "did not come back intact from $M (first: "
err_has "content differs from the snapshot"
sed -n 's/^gfsbackup: error: drill: \(\/.*\): [a-z].*$/\1/p' "$T/err" | sort -u \
	>"$T/broken.got"
diff "$T/broken.want" "$T/broken.got" ||
	fail "the drill names other files than verify"
report_has "FAILED: $(wc -l <"$T/broken.got") file"
report_has "did not come back intact"
[ -z "$(ls -A "$T/scratch")" ] || fail "the scratch directory was left"
# The nightly job fails on it too, when its sample holds the damage (a
# failed drill is due again the next night).
conf 1d 1GiB
expect 1 "$GFSB" run --config "$T/gfsbackup.conf" --time '2026-03-24 01:30:00'
err_has "run: drill: FAILED:"
err_has "did not come back intact from $M"
report_has "FAILED: 1 file did not come back intact"

step "a restore from the offsite copy on a terminal: progress, then the summary"
# Damage repaired first: put the pack back as it was.
code=$(s3_body owner PUT "/gfsb-drill/web1/data/$pack" "$R/data/$pack")
[ "$code" = 200 ] || fail "PUT the pack back: $code"
script -qec "\"$GFSB\" restore -r $M --s3-endpoint $PROXY latest --target $T/tty-target" \
	/dev/null >"$T/tty" 2>&1 || { cat "$T/tty"; fail "restore on a terminal failed"; }
# Lines as a terminal shows them: redrawn at \r, cleared with ESC [ K.
tr '\r' '\n' <"$T/tty" | sed 's/\x1b\[K//g' >"$T/tty.lines"
# The summary's entries (files, directories, others) are the progress's.
read -r nf nd no < <(sed -n 's/^restored snapshot [0-9a-f]*: \([0-9]*\) files, \([0-9]*\) directories, \([0-9]*\) other.*/\1 \2 \3/p' \
	"$T/tty.lines")
[ "${nf:-}" = "$(find "$S" -type f | wc -l)" ] ||
	{ cat "$T/tty.lines"; fail "no summary after the progress"; }
all=$((nf + nd + no))
grep -q "\[0:0[0-9]\] $all of $all files, .* (100%)" "$T/tty.lines" ||
	{ cat "$T/tty.lines"; fail "no final progress line ($all entries)"; }
$PY "$HERE/treecmp.py" "$S" "$T/tty-target$S" >/dev/null ||
	fail "the terminal restore differs"
# -q: quiet, on a terminal too: no progress, no summary.
script -qec "\"$GFSB\" restore -q -r $M --s3-endpoint $PROXY latest --target $T/tty-q" \
	/dev/null >"$T/tty" 2>&1 || { cat "$T/tty"; fail "restore -q on a terminal failed"; }
grep -q 'files, .* MB/s' "$T/tty" && { cat "$T/tty"; fail "-q drew progress"; }
grep -q "^restored snapshot " "$T/tty" && fail "-q printed the summary"
$PY "$HERE/treecmp.py" "$S" "$T/tty-q$S" >/dev/null || fail "the quiet restore differs"

step "bad input: one line, the usage status, nothing recorded"
n=$(jq '.drills | length' "$REC")
for v in 0 abc -5 1.5.3; do
	expect 2 "$GFSB" verify -r "$R" --drill "$v"
	one_line_error "invalid --drill $v"
done
expect 2 "$GFSB" verify -r "$R" --drill-scratch "$T/scratch"
one_line_error "--drill-scratch without --drill"
expect 2 "$GFSB" verify -r "$R" --drill 1MiB --recovery-time-objective soon
one_line_error "invalid --recovery-time-objective soon"
conf 1d lots
expect 2 "$GFSB" run --config "$T/gfsbackup.conf"
one_line_error "[verify] drill: \"lots\" is not a size"
conf 0
expect 2 "$GFSB" run --config "$T/gfsbackup.conf"
one_line_error "[report] recovery-time-objective: \"0\" is not a duration"
conf 1d
# A scratch directory that cannot be made: the drill could not run, said
# once, in the report too; the record is unchanged.
expect 1 "$GFSB" verify --config "$T/gfsbackup.conf" --drill 1MiB \
	--drill-scratch "$T/nonexistent" --report "$T/reports" \
	--time '2026-03-25 12:00:00'
err_has "cannot make a scratch directory in $T/nonexistent"
report_has "restore drill could not run"
[ "$(jq '.drills | length' "$REC")" = "$n" ] || fail "a drill that did not run was recorded"
echo "PASS"
