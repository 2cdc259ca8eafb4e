#!/bin/bash
# The options each command declares (src/cli/cmd_*.c), its --help and
# gfsbackup(1)'s synopsis of it name the same options, and each option
# --help names is one the program takes: a new option cannot be left
# out of the documentation, nor the documentation promise an option that
# is not there.
. "$(dirname "$0")/lib.sh"

SRC=$(cd "$HERE/../.." && pwd)
"$PY" - "$GFSB" "$SRC/packaging/man/gfsbackup.1" "$SRC/src/cli" <<'PY'
import glob, os, re, subprocess, sys

gfsb, man, clidir = sys.argv[1:]
GLOBAL = {"--repo", "--password-file", "--password-command", "--quiet",
    "--verbose", "--help", "--s3-endpoint", "--s3-region",
    "--s3-credentials-file", "--s3-virtual-host", "--cacert",
    "--connections", "--limit-upload", "--cache-dir", "--no-cache",
    "--as-of", "--retry-lock"}
OPT = r"(?<![\w-])--[a-z][a-z0-9-]*"

out = subprocess.run([gfsb, "--help"], capture_output=True, text=True).stdout
cmds, on = [], False
for l in out.splitlines():
    if l.startswith("Commands:"):
        on = True
    elif on and re.match(r"^  [a-z]", l):
        cmds.append(l.split()[0])
    elif on and not l.strip():
        break
assert len(cmds) >= 16, cmds

env = {"MANWIDTH": "400", "PATH": "/usr/bin:/bin", "LC_ALL": "C.UTF-8"}
text = subprocess.run(["man", "-l", man], capture_output=True, text=True,
    env=env).stdout
text = re.sub(r".\x08", "", text)
synopsis = {}
for block in re.split(r"\n\s*\n", text.split("DESCRIPTION")[0]):
    m = re.search(r"gfsbackup ([a-z]+)", block)
    if m:
        synopsis.setdefault(m.group(1), set()).update(re.findall(OPT, block))

def declared(cmd):
    """The long options the command's table declares."""
    path = os.path.join(clidir, f"cmd_{cmd}.c")
    src = open(path).read()
    names = re.findall(r'GFSB_OPT_(?:[A-Z_]+)?\(\s*(?:[A-Z]+,\s*)?'
        r'"([a-z][a-z0-9-]*)"', src)
    return {"--" + n for n in names}

def helped(cmd):
    h = subprocess.run([gfsb, cmd, "--help"], capture_output=True,
        text=True).stdout.split("Global options")[0]
    opts = set(re.findall(OPT, h.split("\n\n")[0]))
    for l in h.splitlines():
        m = re.match(r"^\s+(?:-\w, )?(--[a-z][a-z0-9-]*)", l)
        if m:
            opts.add(m.group(1))
    return opts

bad = []
for c in sorted(set(cmds) | {"run"}):
    d, h, s = declared(c) - GLOBAL, helped(c) - GLOBAL, synopsis.get(c, set()) - GLOBAL
    # --keep-within-* are described together, in --help and the page.
    h |= {o for o in d if o.startswith("--keep-within-")}
    s |= {o for o in d if o.startswith("--keep-within-")}
    for what, a, b in (("declared, not in --help", d, h),
                       ("in --help, not declared", h, d),
                       ("declared, not in gfsbackup(1)", d, s),
                       ("in gfsbackup(1), not declared", s, d)):
        if a - b:
            bad.append(f"{c}: {what}: {' '.join(sorted(a - b))}")
    for o in sorted(h):
        r = subprocess.run([gfsb, c, o], capture_output=True, text=True,
            stdin=subprocess.DEVNULL, timeout=30)
        if "unrecognized option" in r.stderr:
            bad.append(f"{c}: {o} is in --help but not taken")
# Each command's help is a text in docs/help, and each text a command's
# (or one of the program's own three).
src = os.path.dirname(os.path.dirname(clidir))
texts = {os.path.basename(t)[:-4] for t in glob.glob(f"{src}/docs/help/*.txt")}
for t in sorted(texts ^ (set(cmds) | {"run", "gfsbackup", "global",
        "exit-status"})):
    bad.append(f"docs/help/{t}.txt: " + ("no such command" if t in texts
        else "missing"))
# A default written in a text is the library's.
days = re.search(r"GFSB_BUCKET_NONCURRENT_DAYS (\d+)",
    open(f"{src}/include/gfsbackup/ops.h").read()).group(1)
if f"default {days})" not in open(f"{src}/docs/help/policy.txt").read():
    bad.append(f"docs/help/policy.txt: the default is {days} days")
if bad:
    print("\n".join(bad))
    sys.exit(1)
print(f"   {len(cmds) + 1} commands: declared options, --help and gfsbackup(1) agree")
PY
echo "ok"
