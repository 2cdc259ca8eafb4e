#!/usr/bin/env bash
# Benchmark gfsbackup against restic (and optionally borg) on the same data.
#
# Usage: tests/bench/bench.sh [--size-mib N] [--workdir DIR] [--gfsbackup PATH]
#                             [--with-borg] [--out FILE] [--seed S] [--reps N]
#
# Phases, each timed with /usr/bin/time for every tool on identical data:
#   1. initial    first backup of the generated data set
#   2. unchanged  backup again, nothing changed
#   3. mutated    backup after gen_data.py --mutate ("a day of changes")
#   4. restore    restore of the latest snapshot into an empty directory,
#                 then verified (sha256 of every file) against the data set
#
# With --reps N every phase runs N times, into N repositories per tool,
# the tools' order turning at each round (a tool is not always the one
# that follows another), and the table gives the medians: one run of each
# drifts by ten per cent or more on these machines.
#
# Then the pipeline's stages are timed one by one on the same data
# (gfsb_stage_bench, built beside the binary) and their sum is set
# against the CPU time of gfsbackup's initial backup.
#
# See tests/bench/README.md for the targets and how to read the table.
set -euo pipefail

SCRIPT_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd -P)
REPO_ROOT=$(cd "$SCRIPT_DIR/../.." && pwd -P)
PY=/usr/bin/python3
TIME=/usr/bin/time

# ---------------------------------------------------------------- options --
SIZE_MIB=1024
WORKDIR=""
GFS="$REPO_ROOT/build/gfsbackup"
WITH_BORG=0
OUT=""
SEED=1
REPS=1

usage() {
    sed -n '2,4p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'
    cat <<'EOF'

Options:
  --size-mib N      data set size in MiB (default 1024; 256 for a quick run)
  --workdir DIR     work directory (must be empty or absent; it is kept).
                    Default: a fresh mktemp -d under /var/tmp, removed at exit.
  --gfsbackup PATH  gfsbackup binary (default: build/gfsbackup in the repo)
  --with-borg       also benchmark borg
  --out FILE        markdown results file (default: WORKDIR/../bench-results.md)
  --seed S          data set seed (default 1)
  --reps N          run every phase N times, tools interleaved, and report
                    the medians (default 1)
EOF
}

need_arg() { [[ $# -ge 2 && -n $2 ]] || { echo "bench.sh: $1 needs an argument" >&2; exit 2; }; }

while [[ $# -gt 0 ]]; do
    case $1 in
        --size-mib)  need_arg "$@"; SIZE_MIB=$2; shift 2 ;;
        --workdir)   need_arg "$@"; WORKDIR=$2; shift 2 ;;
        --gfsbackup) need_arg "$@"; GFS=$2; shift 2 ;;
        --with-borg) WITH_BORG=1; shift ;;
        --out)       need_arg "$@"; OUT=$2; shift 2 ;;
        --seed)      need_arg "$@"; SEED=$2; shift 2 ;;
        --reps)      need_arg "$@"; REPS=$2; shift 2 ;;
        -h|--help)   usage; exit 0 ;;
        *) echo "bench.sh: unknown argument: $1" >&2; usage >&2; exit 2 ;;
    esac
done
[[ $SIZE_MIB =~ ^[1-9][0-9]*$ ]] || { echo "bench.sh: bad --size-mib: $SIZE_MIB" >&2; exit 2; }
[[ $REPS =~ ^[1-9][0-9]?$ ]] || { echo "bench.sh: bad --reps (1-99): $REPS" >&2; exit 2; }

# ----------------------------------------------------------- prerequisites --
TOOLS=(gfsbackup restic)
(( WITH_BORG )) && TOOLS+=(borg)

die() { echo "bench.sh: $*" >&2; exit 1; }

[[ -x $PY ]] || die "$PY not found"
[[ -x $TIME ]] || die "$TIME not found (apt-get install time)"
command -v restic >/dev/null || die "restic not found"
if (( WITH_BORG )); then command -v borg >/dev/null || die "borg not found"; fi
[[ $GFS == /* ]] || GFS="$PWD/$GFS"
[[ -x $GFS && ! -d $GFS ]] || die "gfsbackup binary not found at $GFS (build it or pass --gfsbackup PATH)"

# ----------------------------------------------------------------- workdir --
CLEANUP_WORKDIR=0
cleanup() {
    if (( CLEANUP_WORKDIR )) && [[ -n $WORKDIR && -d $WORKDIR ]]; then
        # Repositories may contain read-only files; make them removable.
        chmod -R u+w "$WORKDIR" 2>/dev/null || true
        rm -rf "$WORKDIR"
    fi
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

if [[ -z $WORKDIR ]]; then
    WORKDIR=$(mktemp -d /var/tmp/gfsbench.XXXXXX)
    CLEANUP_WORKDIR=1
else
    mkdir -p "$WORKDIR"
    [[ -z $(ls -A "$WORKDIR") ]] || die "--workdir $WORKDIR is not empty"
fi
# Canonical absolute path: every tool is given exactly the same DATA path.
WORKDIR=$(cd "$WORKDIR" && pwd -P)
[[ -n $OUT ]] || OUT="$(dirname "$WORKDIR")/bench-results.md"

DATA="$WORKDIR/data"
LOGDIR="$WORKDIR/logs"
TIMEDIR="$WORKDIR/times"
RESULTS="$WORKDIR/results.tsv"     # tool phase wall user sys rss_kib data_bytes repo_bytes
PWFILE="$WORKDIR/password"
mkdir -p "$LOGDIR" "$TIMEDIR" "$WORKDIR/home"
: > "$RESULTS"

# A random password, stored without a trailing newline, readable only by us.
( umask 077; head -c 24 /dev/urandom | base64 | tr -d '\n' > "$PWFILE" )

# Keep every tool's cache/config/keys inside WORKDIR (fair and self-cleaning).
export XDG_CACHE_HOME="$WORKDIR/home/cache"
export XDG_CONFIG_HOME="$WORKDIR/home/config"
export RESTIC_CACHE_DIR="$WORKDIR/home/cache/restic"
export BORG_BASE_DIR="$WORKDIR/home/borg"

# Passwords come from the file, never from the command line.
export GFSBACKUP_PASSWORD_FILE="$PWFILE"
export RESTIC_PASSWORD_FILE="$PWFILE"
BORG_PASSCOMMAND="cat $(printf '%q' "$PWFILE")"
export BORG_PASSCOMMAND
export BORG_UNKNOWN_UNENCRYPTED_REPO_ACCESS_IS_OK=no
export BORG_RELOCATED_REPO_ACCESS_IS_OK=yes
export BORG_DISPLAY_PASSPHRASE=no

# --------------------------------------------------------------- helpers --
log() { printf '[%s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }

# The repository of TOOL in round REP (the current round by default).
repo_of() { echo "$WORKDIR/repo-$1-${2:-$REP}"; }
REP=1

# The tools in round REP's order: rotated by one each round.
round_tools() {
    local i n=${#TOOLS[@]}
    for (( i = 0; i < n; i++ )); do
        echo "${TOOLS[(i + REP - 1) % n]}"
    done
}

# Sum of the sizes of all regular files in the data set (bytes).
data_bytes() { find "$DATA" -type f -printf '%s\n' | awk '{ s += $1 } END { printf "%d\n", s }'; }

# Read the data set once so that every tool starts from a warm page cache.
warm_cache() { find "$DATA" -type f -print0 | xargs -0 -r cat > /dev/null; }

# Sets CMD to the command line of ACTION (init|backup|restore) for TOOL.
# N is the snapshot number (borg archive names), RESTORE_DIR the target.
build_cmd() {
    local tool=$1 action=$2 n=${3:-} repo
    repo=$(repo_of "$tool")
    case $tool/$action in
        gfsbackup/init)    CMD=("$GFS" init -r "$repo") ;;
        gfsbackup/backup)  CMD=("$GFS" backup -r "$repo" "$DATA") ;;
        gfsbackup/restore) CMD=("$GFS" restore -r "$repo" latest --target "$RESTORE_DIR") ;;
        restic/init)       CMD=(restic -r "$repo" --quiet init) ;;
        restic/backup)     CMD=(restic -r "$repo" --quiet backup "$DATA") ;;
        restic/restore)    CMD=(restic -r "$repo" --quiet restore latest --target "$RESTORE_DIR") ;;
        borg/init)         CMD=(borg init -e repokey "$repo") ;;
        borg/backup)       CMD=(borg create "$repo::snap-$n" "$DATA") ;;
        # borg extracts into the current directory (run_timed cd's there).
        borg/restore)      CMD=(borg extract "$repo::snap-$n") ;;
        *) die "build_cmd: $tool/$action" ;;
    esac
}

# run_timed TOOL PHASE DIR CMD...: run CMD in directory DIR under
# /usr/bin/time, appending its output to $LOGDIR/TOOL.log and the measurement
# "wall user sys maxrss_kib" to $TIMEDIR/TOOL.PHASE.  Aborts the benchmark
# (showing the log) if the command fails.
run_timed() {
    local tool=$1 phase=$2 dir=$3 rc=0
    shift 3
    local logf="$LOGDIR/$tool.log" tfile="$TIMEDIR/$tool.$phase"
    printf '\n### %s %s: %s\n' "$tool" "$phase" "$*" >> "$logf"
    sync    # do not let the previous phase's dirty pages slow this one down
    ( cd "$dir" && exec "$TIME" -f '%e %U %S %M' -o "$tfile" "$@" ) \
        < /dev/null >> "$logf" 2>&1 || rc=$?
    # borg exits with 1 for warnings only (e.g. a file changed while read).
    if (( rc != 0 )) && ! [[ $tool == borg && $rc == 1 ]]; then
        echo "ERROR: $tool $phase failed with exit status $rc: $*" >&2
        echo "----- last 50 lines of $logf -----" >&2
        tail -n 50 "$logf" >&2 || true
        echo "-----" >&2
        exit 1
    fi
    (( rc == 0 )) || echo "WARNING: $tool $phase exited with status $rc (see $logf)" >&2
}

# Last line of the time file: /usr/bin/time prepends a line on non-zero exit.
measurement() { tail -n 1 "$TIMEDIR/$1.$2"; }

# record TOOL PHASE DATA_BYTES REPO_BYTES: append one row to the results.
record() {
    local tool=$1 phase=$2 wall user sys rss
    read -r wall user sys rss <<< "$(measurement "$tool" "$phase")"
    printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' \
        "$tool" "$phase" "$wall" "$user" "$sys" "$rss" "$3" "$4" >> "$RESULTS"
    log "$(printf '%-9s %-9s wall %7ss  cpu %7.2fs  rss %6d MiB' \
        "$tool" "$phase" "$wall" "$(echo "$user $sys" | awk '{ print $1 + $2 }')" $((rss / 1024)))"
}

# backup_phase PHASE N: snapshot number N of the data set, for every tool,
# in every round.
backup_phase() {
    local phase=$1 n=$2 tool bytes repo_bytes
    bytes=$(data_bytes)
    for (( REP = 1; REP <= REPS; REP++ )); do
        for tool in $(round_tools); do
            build_cmd "$tool" backup "$n"
            run_timed "$tool" "$phase" "$WORKDIR" "${CMD[@]}"
            repo_bytes=$(du -sb "$(repo_of "$tool")" | cut -f1)
            record "$tool" "$phase" "$bytes" "$repo_bytes"
            [[ $tool/$phase != gfsbackup/initial ]] || time_stages
        done
    done
    REP=1
}

# The pipeline's stages timed alone, right after gfsbackup's initial
# backup of the round: the pair is compared at one moment (the machine's
# speed drifts over minutes, its CPU time with it).
STAGE_BENCH=${STAGE_BENCH:-$(dirname "$GFS")/tests/gfsb_stage_bench}
time_stages() {
    if [[ -x $STAGE_BENCH ]]; then
        log "timing the pipeline's stages one by one"
        "$STAGE_BENCH" --out "$WORKDIR" "$DATA" > "$WORKDIR/stages.$REP.txt"
    fi
}

# Manifest of a tree: every directory and symlink, and the sha256 of every
# regular file, with paths relative to the tree's root, sorted.
manifest() {
    ( cd "$1" &&
      { find . -mindepth 1 \( -type d -printf 'dir  %p\n' \) -o \
               \( -type l -printf 'link %p -> %l\n' \) -o \
               \( ! -type f -printf 'other %p\n' \)
        find . -type f -print0 | xargs -0 -r -n 64 -P "$(nproc)" sha256sum
      } | LC_ALL=C sort -k2 )
}

# --------------------------------------------------------------- the run --
# The data set, one restore at a time, and a repository per tool and
# round (at most three quarters of the data: borg's, with lz4).  On a
# tmpfs, room is memory: filling it has the kernel kill processes (a
# restore killed by signal 9 looks like a failure of the tool), so a
# tmpfs without the room is refused.
avail_mib=$(df -Pm "$WORKDIR" | awk 'NR == 2 { print $4 }')
need_mib=$(( SIZE_MIB * 2 + SIZE_MIB * 3 / 4 * ${#TOOLS[@]} * REPS ))
if (( avail_mib < need_mib )); then
    [[ $(stat -f -c %T "$WORKDIR") != tmpfs ]] ||
        die "only $avail_mib MiB free in $WORKDIR (a tmpfs: memory), about $need_mib MiB needed: free some or run fewer rounds"
    log "WARNING: only $avail_mib MiB free in $WORKDIR, about $need_mib MiB may be needed"
fi

log "workdir $WORKDIR, tools: ${TOOLS[*]}, gfsbackup: $GFS, rounds: $REPS"
log "generating ${SIZE_MIB} MiB data set (seed $SEED)"
"$PY" "$SCRIPT_DIR/gen_data.py" "$DATA" --size-mib "$SIZE_MIB" --seed "$SEED" >&2

for (( REP = 1; REP <= REPS; REP++ )); do
    for tool in "${TOOLS[@]}"; do
        build_cmd "$tool" init
        run_timed "$tool" init "$WORKDIR" "${CMD[@]}"
    done
done
REP=1

warm_cache
backup_phase initial 1
backup_phase unchanged 2

[[ -x $STAGE_BENCH ]] || log "no $STAGE_BENCH: the stages are not timed"

log "mutating the data set"
"$PY" "$SCRIPT_DIR/gen_data.py" "$DATA" --mutate --seed "$SEED" >&2
warm_cache
backup_phase mutated 3

log "computing the reference manifest of the data set"
manifest "$DATA" > "$WORKDIR/manifest.data"
restore_bytes=$(data_bytes)
for (( REP = 1; REP <= REPS; REP++ )); do
for tool in $(round_tools); do
    RESTORE_DIR="$WORKDIR/restore-$tool"
    mkdir "$RESTORE_DIR"
    build_cmd "$tool" restore 3
    run_timed "$tool" restore "$RESTORE_DIR" "${CMD[@]}"
    record "$tool" restore "$restore_bytes" -
    # All three tools restore the absolute path of DATA below the target.
    restored="$RESTORE_DIR$DATA"
    if [[ ! -d $restored ]]; then
        echo "FAIL: $tool restore: $restored does not exist" >&2
        exit 1
    fi
    manifest "$restored" > "$WORKDIR/manifest.$tool"
    if ! cmp -s "$WORKDIR/manifest.data" "$WORKDIR/manifest.$tool"; then
        echo "FAIL: $tool restore differs from the data set (first differences):" >&2
        diff "$WORKDIR/manifest.data" "$WORKDIR/manifest.$tool" | head -n 20 >&2 || true
        exit 1
    fi
    log "$tool restore verified: identical to the data set"
    chmod -R u+w "$RESTORE_DIR" && rm -rf "$RESTORE_DIR"    # free the space
done
done
REP=1

# ---------------------------------------------------------------- report --
versions="gfsbackup: $("$GFS" --version 2>/dev/null < /dev/null | head -n 1 || true)"
versions+="; $(restic version | head -n 1)"
(( WITH_BORG )) && versions+="; $(borg --version)"
machine="$(nproc) CPUs, $(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo), $(uname -sr)"

"$PY" - "$RESULTS" "$OUT" "$SIZE_MIB" "$versions" "$machine" "$WORKDIR" "$REPS" "${TOOLS[@]}" <<'EOF'
"""Render the results TSV as a plain-text table (stdout) and markdown (OUT):
each figure the median of the rounds."""
import statistics, sys, time

results, out, size_mib, versions, machine, workdir, reps, tools = (
    sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4], sys.argv[5], sys.argv[6],
    int(sys.argv[7]), sys.argv[8:])
PHASES = [("initial", "initial backup"), ("unchanged", "unchanged re-backup"),
          ("mutated", "backup after mutate"), ("restore", "restore latest")]

runs = {}
for line in open(results):
    tool, phase, wall, user, sys_, rss, data, repo = line.rstrip("\n").split("\t")
    runs.setdefault((tool, phase), []).append(dict(
        wall=float(wall), cpu=float(user) + float(sys_), rss=int(rss) / 1024,
        data=int(data), repo=None if repo == "-" else int(repo) / 2**20))
m = {}
for k, rs in runs.items():
    m[k] = {f: (None if rs[0][f] is None else
                statistics.median(r[f] for r in rs)) for f in rs[0]}
    m[k]["walls"] = [r["wall"] for r in rs]

def ratio(a, b):
    return "-" if a is None or b is None or b == 0 else "%.2f" % (a / b)

def f(v, fmt):
    return "-" if v is None else fmt % v

# Columns are grouped: one group of 5 per tool, one group of 4 ratios per
# other tool.  groups = [(group title, [column labels])].
others = [t for t in tools if t != "gfsbackup"]
groups = [("", ["phase"])]
groups += [(t, ["wall s", "CPU s", "RSS MiB", "MB/s", "repo MiB"]) for t in tools]
groups += [("gfsbackup/" + o, ["wall", "CPU", "RSS", "repo"]) for o in others]

rows = []
for phase, label in PHASES:
    row = [label]
    for t in tools:
        r = m[t, phase]
        mbps = r["data"] / 1e6 / r["wall"] if r["wall"] > 0 else None
        row += [f(r["wall"], "%.2f"), f(r["cpu"], "%.2f"), f(r["rss"], "%.1f"),
                f(mbps, "%.1f"), f(r["repo"], "%.1f")]
    g = m["gfsbackup", phase]
    for o in others:
        r = m[o, phase]
        row += [ratio(g["wall"], r["wall"]), ratio(g["cpu"], r["cpu"]),
                ratio(g["rss"], r["rss"]), ratio(g["repo"], r["repo"])]
    rows.append(row)

# Targets (all relative to restic).
def peak(t):
    return max(m[t, p]["rss"] for p, _ in PHASES)
def gp(p): return m["gfsbackup", p]
def rp(p): return m["restic", p]
speedup = rp("initial")["wall"] / gp("initial")["wall"] if gp("initial")["wall"] > 0 else float("inf")
targets = [
    ("initial backup throughput >= 1.5x restic", speedup >= 1.5, "%.2fx" % speedup),
    ("unchanged re-backup wall <= restic", gp("unchanged")["wall"] <= rp("unchanged")["wall"],
     "%.2fs vs %.2fs" % (gp("unchanged")["wall"], rp("unchanged")["wall"])),
    ("restore wall <= restic", gp("restore")["wall"] <= rp("restore")["wall"],
     "%.2fs vs %.2fs" % (gp("restore")["wall"], rp("restore")["wall"])),
    ("peak RSS <= restic", peak("gfsbackup") <= peak("restic"),
     "%.1f vs %.1f MiB" % (peak("gfsbackup"), peak("restic"))),
    ("repository size <= restic", gp("mutated")["repo"] <= rp("mutated")["repo"],
     "%.1f vs %.1f MiB" % (gp("mutated")["repo"], rp("mutated")["repo"])),
]
# Issue 16's bars (restic 0.18; the restore on a tmpfs workdir).
rspeed = rp("restore")["wall"] / gp("restore")["wall"] if gp("restore")["wall"] > 0 else float("inf")
targets += [
    ("initial backup >= 3x restic at <= 100 MiB",
     speedup >= 3 and gp("initial")["rss"] <= 100,
     "%.2fx, %.1f MiB" % (speedup, gp("initial")["rss"])),
    ("restore >= 1.5x restic", rspeed >= 1.5, "%.2fx" % rspeed),
]
# The pipeline's CPU against its stages timed alone, one core each, in
# each round: the median of the rounds' ratios (and of each stage).
stage_rows, stage_sum, sums = [], None, {}
per_stage = {}
for r in range(1, reps + 1):
    try:
        lines = open("%s/stages.%d.txt" % (workdir, r)).read().splitlines()
    except OSError:
        continue
    for line in lines:
        p = line.split()
        if p and p[0] == "sum":
            sums[r] = float(p[1])
        elif len(p) >= 5:
            # The amount (what the stage handled) from the first round.
            per_stage.setdefault(p[0], (p[3], p[4], []))[2].append(float(p[1]))
for n, (amount, unit, v) in per_stage.items():
    stage_rows.append((n, statistics.median(v), amount, unit))
if sums:
    stage_sum = statistics.median(sums.values())
    cpus = [r["cpu"] for r in runs["gfsbackup", "initial"]]
    ratios = [cpus[r - 1] / sums[r] for r in sums if r <= len(cpus)]
    q = statistics.median(ratios)
    targets.append(("initial backup CPU <= 1.25x its stages alone",
                    q <= 1.25, "%.2fs vs %.2fs, %.2fx%s" % (
                        gp("initial")["cpu"], stage_sum, q,
                        "" if len(ratios) == 1 else
                        ", the median of the rounds' " + " ".join(
                            "%.2f" % x for x in ratios))))
n_met = sum(ok for _, ok, _ in targets)
target_line = "Targets (%d/%d met): " % (n_met, len(targets)) + "; ".join(
    "%s: %s (%s)" % (name, "MET" if ok else "NOT MET", detail) for name, ok, detail in targets)

data0 = m["gfsbackup", "initial"]["data"] / 2**20
data1 = m["gfsbackup", "restore"]["data"] / 2**20
title_line = "gfsbackup benchmark, %s MiB data set (%.1f MiB initial, %.1f MiB after mutate)" % (
    size_mib, data0, data1)
rounds = ("Each figure is the median of %d rounds, the tools' order turning "
          "each round." % reps) if reps > 1 else "One run of each phase."
notes = ["Date: %s; %s" % (time.strftime("%Y-%m-%d %H:%M"), machine),
         rounds,
         "Versions: %s" % versions,
         "MB/s = data set size (10^6 bytes) / wall; repo MiB = du -sb of the "
         "repository after the backup; ratios are gfsbackup / other (< 1 is better "
         "for gfsbackup). Restores were verified file by file (sha256)."]

# Plain text: aligned columns under a row of group titles.
labels = [c for _, cols in groups for c in cols]
widths = [max(len(x[i]) for x in [labels] + rows) for i in range(len(labels))]
SEP = "  "
def fmt_row(x):
    return SEP.join(c.ljust(w) if i == 0 else c.rjust(w)
                    for i, (c, w) in enumerate(zip(x, widths)))
titles, rules, i = [], [], 0
for title, cols in groups:
    span = sum(widths[i:i + len(cols)]) + len(SEP) * (len(cols) - 1)
    i += len(cols)
    # Widen the group's last column if the title does not fit.
    if len(title) > span:
        widths[i - 1] += len(title) - span
        span = len(title)
    titles.append(title.center(span))
    rules.append(("-" * span) if title else " " * span)
print()
print(title_line)
for n in notes:
    print(n)
print()
print(SEP.join(titles).rstrip())
print(SEP.join(rules).rstrip())
print(fmt_row(labels))
print(SEP.join("-" * w for w in widths))
for row in rows:
    print(fmt_row(row))
print()
if stage_sum:
    print("Stages alone (one core, CPU s): " + ", ".join(
        "%s %.2f" % (n, s) for n, s, _, _ in stage_rows) +
        "; sum %.2f" % stage_sum)
print(target_line)
if reps > 1:
    print("Rounds (wall s): " + "; ".join(
        "%s %s %s" % (p, t, " ".join("%.2f" % w for w in m[t, p]["walls"]))
        for p, _ in PHASES for t in tools))

# Markdown.
with open(out, "w") as fh:
    fh.write("### %s\n\n" % title_line)
    for n in notes:
        fh.write("%s  \n" % n)
    # One header row: "gfs wall s", "restic RSS MiB", "gfs/restic wall", ...
    header = ["phase"] + ["%s %s" % (g.replace("gfsbackup", "gfs"), c)
                          for g, cols in groups[1:] for c in cols]
    fh.write("\n| " + " | ".join(header) + " |\n")
    fh.write("|" + "|".join(["---"] + ["---:"] * (len(header) - 1)) + "|\n")
    for row in rows:
        fh.write("| " + " | ".join(row) + " |\n")
    if stage_sum:
        fh.write("\n| stage (alone, one core) | CPU s | amount |\n|---|---:|---:|\n")
        for n, s, amount, unit in stage_rows:
            fh.write("| %s | %.2f | %s %s |\n" % (n, s, amount, unit))
        fh.write("| **sum** | **%.2f** | |\n" % stage_sum)
    fh.write("\n**Targets (%d/%d met):**\n\n" % (n_met, len(targets)))
    for name, ok, detail in targets:
        fh.write("- %s: **%s** (%s)\n" % (name, "MET" if ok else "NOT MET", detail))
print("\nmarkdown written to %s" % out)
EOF

(( CLEANUP_WORKDIR )) || log "work directory kept: $WORKDIR (logs in $LOGDIR)"
