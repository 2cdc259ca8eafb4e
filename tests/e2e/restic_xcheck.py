#!/usr/bin/python3
"""Cross-check gfsbackup's retention decisions against restic's.

usage: restic_xcheck.py GFSBACKUP WORKDIR [--seed S] [--snapshots N]
                        [--policies P] [--hosts H] [--real REAL]

Makes snapshots at the same randomized local times (TZ from the
environment) in a restic repository and a gfsbackup repository, on several
hosts, some tagged; then for P policies (fixed ones and random
combinations of every rule) runs `restic forget --dry-run --json` and
`gfsbackup forget --dry-run --json` and requires the same kept set in every
group.  The one allowed difference: restic 0.14 predates the "oldest" rule,
so gfsbackup may keep a group's oldest snapshot when that rule is its only
reason (and it must be that group's oldest).  For the first REAL policies
(default 4) both tools also forget for real, on copies of their
repositories, and what is left must be exactly what the dry run said it
would keep.  Prints the seed; exits 1 on any other difference.
"""
import datetime
import json
import os
import random
import shutil
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor


def run(cmd, env):
    p = subprocess.run(cmd, env=env, stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE, text=True)
    if p.returncode != 0:
        sys.exit("command failed (%d): %s\n%s" %
                 (p.returncode, " ".join(cmd), p.stderr))
    return p.stdout


def epoch(s):
    """RFC 3339 with any fraction and offset -> whole seconds."""
    if "." in s:
        head, rest = s.split(".", 1)
        i = 0
        while i < len(rest) and rest[i].isdigit():
            i += 1
        s = head + rest[i:]
    s = s.replace("Z", "+00:00")
    return int(datetime.datetime.fromisoformat(s).timestamp())


def history(rng, n):
    """Local times (naive) with gaps, bursts, DST days, year ends."""
    out = set()
    start = datetime.datetime(2024, 10, 1)
    span_days = 900
    anchors = [datetime.datetime(2025, 3, 30), datetime.datetime(2025, 10, 26),
               datetime.datetime(2025, 12, 31), datetime.datetime(2026, 1, 1),
               datetime.datetime(2026, 3, 29), datetime.datetime(2026, 12, 28),
               datetime.datetime(2027, 1, 3), datetime.datetime(2028, 2, 29)
               if span_days > 1300 else datetime.datetime(2026, 6, 30)]
    while len(out) < n:
        r = rng.random()
        if r < 0.2:
            day = rng.choice(anchors) + datetime.timedelta(
                days=rng.choice([-1, 0, 0, 1]))
        elif r < 0.45 and out:
            # a burst near an existing snapshot: same day, hours apart
            day = rng.choice(sorted(out)).replace(hour=0, minute=0, second=0)
        else:
            day = start + datetime.timedelta(days=rng.randrange(span_days))
        # never 02:xx: that hour does not exist, or exists twice, on DST
        # days, and each tool may pick another meaning
        hour = rng.choice([0, 1, 3, 4, 6, 9, 12, 13, 18, 21, 22, 23])
        t = day.replace(hour=hour, minute=rng.randrange(60),
                        second=rng.randrange(60))
        out.add(t)
    return sorted(out)


def random_policy(rng):
    flags = []
    kinds = ["last", "hourly", "daily", "weekly", "monthly", "yearly"]
    for k in rng.sample(kinds, rng.randint(1, 4)):
        flags += ["--keep-%s" % k, str(rng.choice([1, 2, 3, 5, 8, 13, 40]))]
    if rng.random() < 0.4:
        w = rng.choice(["", "-hourly", "-daily", "-weekly", "-monthly",
                        "-yearly"])
        d = rng.choice(["3d", "14d", "1m", "2m15d", "1y", "36h", "1y2m"])
        flags += ["--keep-within%s" % w, d]
    if rng.random() < 0.25:
        flags += ["--keep-tag", rng.choice(["audit", "audit,monthly"])]
    return flags


FIXED = [
    ["--keep-daily", "7", "--keep-weekly", "4", "--keep-monthly", "12",
     "--keep-yearly", "7"],
    ["--keep-daily", "3", "--keep-weekly", "2", "--keep-monthly", "1"],
    ["--keep-last", "1"],
    ["--keep-within", "1y"],
    ["--keep-within-daily", "2m", "--keep-weekly", "3"],
    ["--keep-hourly", "24"],
    ["--keep-tag", "audit", "--keep-last", "2"],
]


def kept_sets(groups, tool):
    """{host: {epoch: reasons}} for the kept snapshots."""
    out = {}
    for g in groups:
        host = g["host"]
        keep = out.setdefault(host, {})
        for r in g.get("reasons") or []:
            keep[epoch(r["snapshot"]["time"])] = r["matches"]
        for s in g.get("keep") or []:
            keep.setdefault(epoch(s["time"]), ["?"])
    return out


def main():
    args = sys.argv[1:]
    if len(args) < 2:
        sys.exit(__doc__)
    gfsb, work = args[0], args[1]
    opts = {"--seed": str(int(time.time())), "--snapshots": "60",
            "--policies": "30", "--hosts": "4", "--real": "4"}
    i = 2
    while i < len(args):
        opts[args[i]] = args[i + 1]
        i += 2
    seed = int(opts["--seed"])
    rng = random.Random(seed)
    nsnap, npol, nhost = (int(opts["--snapshots"]), int(opts["--policies"]),
                          int(opts["--hosts"]))
    print("restic cross-check: seed %d, %d snapshots on %d hosts, %d "
          "policies, TZ=%s" % (seed, nsnap, nhost, npol,
                               os.environ.get("TZ", "")))
    env = dict(os.environ)
    env.pop("AWS_CA_BUNDLE", None)
    pw = os.path.join(work, "pw")
    with open(pw, "w") as f:
        f.write("xcheck passphrase")
    os.chmod(pw, 0o600)
    env["RESTIC_PASSWORD_FILE"] = pw
    env["RESTIC_CACHE_DIR"] = os.path.join(work, "restic-cache")
    env["GFSBACKUP_PASSWORD_FILE"] = pw
    rrepo, grepo = os.path.join(work, "restic"), os.path.join(work, "gfsb")
    src = os.path.join(work, "src")
    os.makedirs(src, exist_ok=True)
    with open(os.path.join(src, "file"), "w") as f:
        f.write("the same small file in every snapshot\n")
    run(["restic", "-r", rrepo, "init", "-q"], env)
    run([gfsb, "init", "-r", grepo, "-q", "--kdf-memory", "8M",
         "--kdf-iterations", "1"], env)

    jobs = []
    for h in range(nhost):
        for t in history(rng, nsnap // nhost):
            tags = []
            if rng.random() < 0.15:
                tags = ["audit"]
                if rng.random() < 0.5:
                    tags.append("monthly")
            jobs.append(("host%d" % h, t.strftime("%Y-%m-%d %H:%M:%S"), tags))

    def make(job):
        host, when, tags = job
        tflags = sum((["--tag", t] for t in tags), [])
        run(["restic", "-r", rrepo, "backup", "-q", "--host", host,
             "--time", when] + tflags + [src], env)
        run([gfsb, "backup", "-r", grepo, "-q", "--host", host,
             "--time", when] + tflags + [src], env)

    # restic spends most of each command deriving its key: run two at once
    with ThreadPoolExecutor(max_workers=2) as ex:
        list(ex.map(make, jobs))

    # Every snapshot's time per host: an "oldest" keep must be the oldest.
    every = {}
    for s in json.loads(run([gfsb, "snapshots", "-r", grepo, "--json"], env)):
        every.setdefault(s["hostname"], []).append(epoch(s["time"]))

    def left(tool, repo):
        """{host: set of epochs} of the snapshots a repository holds."""
        if tool == "restic":
            out = run(["restic", "-r", repo, "snapshots", "--json"], env)
        else:
            out = run([gfsb, "snapshots", "-r", repo, "--json"], env)
        res = {}
        for s in json.loads(out):
            res.setdefault(s["hostname"], set()).add(epoch(s["time"]))
        return res

    def real_forget(flags, rk, gk):
        """Forget for real on copies: what is left is what was kept."""
        bad = 0
        for tool, repo, kept in (("restic", rrepo, rk), ("gfsbackup", grepo,
                                                         gk)):
            copy = repo + ".forget"
            shutil.rmtree(copy, ignore_errors=True)
            shutil.copytree(repo, copy)
            if tool == "restic":
                run(["restic", "-r", copy, "forget", "-q"] + flags, env)
            else:
                run([gfsb, "forget", "-r", copy, "-q"] + flags, env)
            got = left(tool, copy)
            for host in sorted(set(got) | set(kept)):
                want = set(kept.get(host, {}))
                if got.get(host, set()) != want:
                    bad += 1
                    print("REAL %s %s %s: left %d snapshots, the dry run "
                          "kept %d" % (tool, " ".join(flags), host,
                                       len(got.get(host, set())), len(want)))
            shutil.rmtree(copy)
        return bad

    policies = FIXED + [random_policy(rng) for _ in range(max(0, npol -
                                                              len(FIXED)))]
    nreal = int(opts["--real"])
    problems = 0
    oldest_only = 0
    for i, flags in enumerate(policies[:npol]):
        r = json.loads(run(["restic", "-r", rrepo, "forget", "--dry-run",
                            "--json"] + flags, env))
        g = json.loads(run([gfsb, "forget", "-r", grepo, "--dry-run",
                            "--json"] + flags, env))
        rk, gk = kept_sets(r, "restic"), kept_sets(g, "gfsbackup")
        for host in sorted(set(rk) | set(gk)):
            a, b = rk.get(host, {}), gk.get(host, {})
            for t in sorted(set(a) - set(b)):
                problems += 1
                print("DIFF %s %s: restic keeps %s (%s), gfsbackup not" %
                      (" ".join(flags), host, datetime.datetime.fromtimestamp(t),
                       a[t]))
            for t in sorted(set(b) - set(a)):
                if (all(m.startswith("oldest ") for m in b[t]) and
                        t == min(every.get(host, [t]))):
                    oldest_only += 1
                    continue
                problems += 1
                print("DIFF %s %s: gfsbackup keeps %s (%s), restic not" %
                      (" ".join(flags), host, datetime.datetime.fromtimestamp(t),
                       b[t]))
        if i < nreal:
            problems += real_forget(flags, rk, gk)
    print("%d policies x %d hosts compared (%d also forgotten for real): %d "
          "differences, %d snapshots kept by the 'oldest' rule only "
          "(restic 0.14 lacks it), each its group's oldest" %
          (min(npol, len(policies)), nhost, min(nreal, npol), problems,
           oldest_only))
    if problems:
        print("reproduce with --seed %d" % seed)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
