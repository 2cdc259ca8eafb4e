#!/usr/bin/python3
"""Deterministic benchmark data set generator for the gfsbackup benchmarks.

Usage:
    gen_data.py DIR [--size-mib N] [--seed S]     create a data set of ~N MiB
    gen_data.py DIR --mutate [--seed S]           apply "a day of changes"

The generated data set (same seed -> same bytes) contains:

  projects/, etc/, docs/   many small text files (source-code-like and
                           config-like, 1-20 KiB) in a nested tree, ~15 %
  logs/                    compressible log files (syslog/nginx/app-like
                           timestamped lines, 5-50 MiB each), ~30 %
  media/                   incompressible "media" files (random bytes,
                           2-40 MiB each), ~30 %
  images/disk.img          one large "disk image" (zero regions, repeated
                           blocks, duplicated regions, text and random
                           regions), ~25 %

--mutate edits an existing data set the way a day of use would: it appends
to a few logs, edits ~1 % of the small files, adds a few small files and one
new media file (~20 MiB, less for small data sets), deletes a few small files
and INSERTS a few KiB at a few offsets of the disk image (one near its start),
which shifts everything after the insertion points: only content-defined
chunking can deduplicate the rest of the image.

Only the standard library is used; all randomness comes from random.Random
instances seeded from --seed, and all directory listings are sorted, so the
output depends only on the arguments (and, for --mutate, on the data set).
"""

import argparse
import os
import random
import sys
import time

KIB = 1024
MIB = 1024 * 1024

# Top-level directories per category (used by --mutate to find files again).
SMALL_ROOTS = ("projects", "etc", "docs")
LOG_DIR = "logs"
MEDIA_DIR = "media"
IMAGE_PATH = os.path.join("images", "disk.img")

# Fractions of the total size per category.
FRAC_SMALL, FRAC_LOGS, FRAC_MEDIA = 0.15, 0.30, 0.30  # the image gets the rest

# ---------------------------------------------------------------------------
# Vocabulary for text generation
# ---------------------------------------------------------------------------

WORDS = (
    "buffer count index node config value size offset length chunk block "
    "cache entry table hash key data stream reader writer file path name "
    "list queue stack tree map set item record header footer packet frame "
    "session client server request response handler callback context state "
    "error status result flag mode level limit timeout retry backoff delay "
    "start stop open close read write flush sync lock unlock init free alloc "
    "parse format encode decode compress verify check update insert remove "
    "source target input output user group owner host port address socket "
    "snapshot backup restore archive repo pack tag label version commit "
    "worker thread pool task job event signal timer clock counter metric "
    "policy rule filter match pattern token lexer parser scanner symbol "
    "module plugin driver device volume mount disk partition sector page"
).split()

TYPES = ("int", "size_t", "uint8_t", "uint32_t", "uint64_t", "char *",
         "const char *", "bool", "ssize_t", "struct stat", "double")

# Extensions of the small files, by kind of generated content.
SOURCE_EXTS = (".c", ".c", ".h", ".py", ".py", ".js", ".md")
CONFIG_EXTS = (".conf", ".ini", ".yaml", ".json")


def _sentence(rng, lo=4, hi=12):
    return " ".join(rng.choices(WORDS, k=rng.randint(lo, hi)))


def _c_line(rng):
    w = rng.choice
    n = rng.randint(0, 4096)
    t = rng.randrange(14)
    if t == 0:
        return "/* %s. */" % _sentence(rng).capitalize()
    if t == 1:
        return "static int %s_%s(struct %s *%s, %s %s)" % (
            w(WORDS), w(WORDS), w(WORDS), w(WORDS), w(TYPES), w(WORDS))
    if t == 2:
        return "    if (%s->%s == NULL) {" % (w(WORDS), w(WORDS))
    if t == 3:
        return "        return -%s;" % w(("EINVAL", "ENOMEM", "EIO", "ENOENT"))
    if t == 4:
        return "    }"
    if t == 5:
        return ""
    if t == 6:
        return "#include <%s/%s.h>" % (w(WORDS), w(WORDS))
    if t == 7:
        return "    %s %s_%s = %s_%s(%s, %d);" % (
            w(TYPES), w(WORDS), w(WORDS), w(WORDS), w(WORDS), w(WORDS), n)
    if t == 8:
        return "    for (size_t i = 0; i < %s->%s; i++)" % (w(WORDS), w(WORDS))
    if t == 9:
        return "        %s[i] += %s->%s_%s;" % (w(WORDS), w(WORDS), w(WORDS), w(WORDS))
    if t == 10:
        return "#define %s_%s_MAX %d" % (w(WORDS).upper(), w(WORDS).upper(), n)
    if t == 11:
        return "    log_debug(\"%s: %%s\", %s);" % (_sentence(rng, 2, 6), w(WORDS))
    if t == 12:
        return "}"
    return "    return %s_%s(%s);" % (w(WORDS), w(WORDS), w(WORDS))


def _py_line(rng):
    w = rng.choice
    t = rng.randrange(10)
    if t == 0:
        return "# %s" % _sentence(rng)
    if t == 1:
        return "def %s_%s(self, %s, %s=%d):" % (
            w(WORDS), w(WORDS), w(WORDS), w(WORDS), rng.randint(0, 100))
    if t == 2:
        return "        %s = self.%s.%s(%s)" % (w(WORDS), w(WORDS), w(WORDS), w(WORDS))
    if t == 3:
        return "        if %s is None:" % w(WORDS)
    if t == 4:
        return "            raise ValueError(\"%s\")" % _sentence(rng, 3, 7)
    if t == 5:
        return ""
    if t == 6:
        return "import %s" % w(WORDS)
    if t == 7:
        return "class %s%s:" % (w(WORDS).capitalize(), w(WORDS).capitalize())
    if t == 8:
        return "        return [%s for %s in self.%s]" % (w(WORDS), w(WORDS), w(WORDS))
    return "    %s_%s = %d" % (w(WORDS).upper(), w(WORDS).upper(), rng.randint(0, 65536))


def _js_line(rng):
    w = rng.choice
    t = rng.randrange(8)
    if t == 0:
        return "// %s" % _sentence(rng)
    if t == 1:
        return "export function %s%s(%s, %s) {" % (
            w(WORDS), w(WORDS).capitalize(), w(WORDS), w(WORDS))
    if t == 2:
        return "  const %s = await %s.%s(%s);" % (w(WORDS), w(WORDS), w(WORDS), w(WORDS))
    if t == 3:
        return "  if (!%s) return null;" % w(WORDS)
    if t == 4:
        return "}"
    if t == 5:
        return ""
    if t == 6:
        return "import { %s } from './%s';" % (w(WORDS), w(WORDS))
    return "  %s.%s = %s.%s ?? %d;" % (w(WORDS), w(WORDS), w(WORDS), w(WORDS),
                                     rng.randint(0, 1000))


def _md_line(rng):
    t = rng.randrange(5)
    if t == 0:
        return "## %s" % _sentence(rng, 2, 5).capitalize()
    if t == 1:
        return ""
    if t == 2:
        return "- %s" % _sentence(rng, 3, 10)
    return "%s." % _sentence(rng, 8, 20).capitalize()


def _conf_line(rng):
    w = rng.choice
    t = rng.randrange(6)
    if t == 0:
        return "[%s_%s]" % (w(WORDS), w(WORDS))
    if t == 1:
        return "# %s" % _sentence(rng)
    if t == 2:
        return ""
    if t == 3:
        return "%s_%s = %s" % (w(WORDS), w(WORDS), w(("yes", "no", "on", "off", "auto")))
    return "%s_%s = %d" % (w(WORDS), w(WORDS), rng.randint(0, 100000))


def _yaml_line(rng):
    w = rng.choice
    t = rng.randrange(5)
    if t == 0:
        return "%s:" % w(WORDS)
    if t == 1:
        return "  %s_%s: %d" % (w(WORDS), w(WORDS), rng.randint(0, 10000))
    if t == 2:
        return "  - %s-%s" % (w(WORDS), w(WORDS))
    if t == 3:
        return "  %s: \"%s\"" % (w(WORDS), _sentence(rng, 2, 5))
    return "# %s" % _sentence(rng)


def _json_line(rng):
    w = rng.choice
    t = rng.randrange(4)
    if t == 0:
        return "  \"%s_%s\": %d," % (w(WORDS), w(WORDS), rng.randint(0, 10000))
    if t == 1:
        return "  \"%s\": \"%s\"," % (w(WORDS), _sentence(rng, 1, 4))
    if t == 2:
        return "  \"%s\": [\"%s\", \"%s\"]," % (w(WORDS), w(WORDS), w(WORDS))
    return "  \"%s\": {\"%s\": %s}," % (w(WORDS), w(WORDS), w(("true", "false", "null")))


LINE_MAKERS = {
    ".c": _c_line, ".h": _c_line, ".py": _py_line, ".js": _js_line,
    ".md": _md_line, ".conf": _conf_line, ".ini": _conf_line,
    ".yaml": _yaml_line, ".json": _json_line,
}


class TextPools:
    """Pre-generated pools of lines, one per file extension.

    Files are made by picking random lines from a pool (fast: no per-character
    work), so files share lines (like real code) but chunks are unique.
    """

    POOL_LINES = 3000

    def __init__(self, rng):
        self.pools = {}
        for ext, maker in sorted(LINE_MAKERS.items()):
            self.pools[ext] = [maker(rng) + "\n" for _ in range(self.POOL_LINES)]
        self.avg_len = {ext: sum(map(len, p)) / len(p) for ext, p in self.pools.items()}

    def text(self, rng, ext, size):
        """About `size` bytes (never more) of text for a file with extension ext."""
        pool = self.pools[ext]
        n = max(1, int(size / self.avg_len[ext]) + 1)
        data = "".join(rng.choices(pool, k=n)).encode()
        return data[:size]

    def lines(self, rng, ext, n):
        return rng.choices(self.pools[ext], k=n)


# ---------------------------------------------------------------------------
# Log lines
# ---------------------------------------------------------------------------

HOSTS = ["web%02d" % i for i in range(1, 9)]
DAEMONS = ("sshd", "cron", "systemd", "kernel", "postfix/smtpd", "dhclient", "nginx")
MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct",
          "Nov", "Dec")
HTTP_METHODS = ("GET", "GET", "GET", "GET", "POST", "PUT", "DELETE", "HEAD")
HTTP_STATUS = (200, 200, 200, 200, 200, 304, 301, 404, 404, 500, 502)
USER_AGENTS = (
    "Mozilla/5.0 (X11; Linux x86_64; rv:120.0) Gecko/20100101 Firefox/120.0",
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/119.0 Safari/537.36",
    "curl/7.88.1", "Go-http-client/1.1", "python-requests/2.31.0",
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_1 like Mac OS X) AppleWebKit/605.1.15",
)
LOG_LEVELS = ("INFO", "INFO", "INFO", "DEBUG", "WARN", "ERROR")
LOG_BASE_EPOCH = 1730419200  # 2024-11-01T00:00:00Z, fixed for determinism


class LogWriter:
    """Generates batches of timestamped log lines of one of three styles."""

    BATCH = 4096

    def __init__(self, rng, style, epoch):
        self.rng = rng
        self.style = style          # "syslog", "nginx" or "app"
        self.t = epoch
        self._ts_cache = {}
        self.paths = ["/%s/%s/%s" % (a, b, c) for a in ("api", "static", "v2", "app")
                      for b in WORDS[:40] for c in ("", "list", "item", "search")]
        self.msgs = [_sentence(rng, 3, 10) for _ in range(500)]

    def _timestamps(self, n):
        # Monotonic timestamps: several lines per second on average.
        steps = self.rng.choices((0, 0, 0, 0, 1, 1, 2, 3), k=n)
        out, cache = [], self._ts_cache
        t = self.t
        for s in steps:
            t += s
            ts = cache.get(t)
            if ts is None:
                if len(cache) > 100000:
                    cache.clear()
                tm = time.gmtime(t)
                if self.style == "syslog":
                    ts = "%s %2d %02d:%02d:%02d" % (MONTHS[tm.tm_mon - 1], tm.tm_mday,
                                                    tm.tm_hour, tm.tm_min, tm.tm_sec)
                elif self.style == "nginx":
                    ts = "%02d/%s/%d:%02d:%02d:%02d +0000" % (
                        tm.tm_mday, MONTHS[tm.tm_mon - 1], tm.tm_year,
                        tm.tm_hour, tm.tm_min, tm.tm_sec)
                else:
                    ts = "%d-%02d-%02dT%02d:%02d:%02dZ" % (
                        tm.tm_year, tm.tm_mon, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec)
                cache[t] = ts
            out.append(ts)
        self.t = t
        return out

    def batch(self):
        """Return one batch of log lines as bytes."""
        rng, n = self.rng, self.BATCH
        ts = self._timestamps(n)
        if self.style == "syslog":
            hosts = rng.choices(HOSTS, k=n)
            daemons = rng.choices(DAEMONS, k=n)
            pids = [rng.randint(100, 65000) for _ in range(n)]
            msgs = rng.choices(self.msgs, k=n)
            lines = ["%s %s %s[%d]: %s\n" % x for x in zip(ts, hosts, daemons, pids, msgs)]
        elif self.style == "nginx":
            ips = ["10.%d.%d.%d" % (rng.randrange(4), rng.randrange(256), rng.randrange(256))
                   for _ in range(n)]
            methods = rng.choices(HTTP_METHODS, k=n)
            paths = rng.choices(self.paths, k=n)
            ids = [rng.randrange(100000) for _ in range(n)]
            status = rng.choices(HTTP_STATUS, k=n)
            sizes = [rng.randrange(50, 200000) for _ in range(n)]
            agents = rng.choices(USER_AGENTS, k=n)
            lines = ['%s - - [%s] "%s %s?id=%d HTTP/1.1" %d %d "-" "%s"\n' % x
                     for x in zip(ips, ts, methods, paths, ids, status, sizes, agents)]
        else:
            levels = rng.choices(LOG_LEVELS, k=n)
            mods = rng.choices(WORDS, k=n)
            reqs = [rng.getrandbits(64) for _ in range(n)]
            msgs = rng.choices(self.msgs, k=n)
            durs = [rng.randrange(1, 5000) for _ in range(n)]
            lines = ["%s %-5s [%s] req=%016x %s (%d ms)\n" % x
                     for x in zip(ts, levels, mods, reqs, msgs, durs)]
        return "".join(lines).encode()

    def write(self, f, size):
        """Write about `size` bytes (whole lines) to the open file f."""
        written = 0
        while written < size:
            data = self.batch()
            if written + len(data) > size:
                cut = data.rfind(b"\n", 0, size - written)
                if cut < 0:
                    break           # not even one more line fits
                data = data[:cut + 1]
            f.write(data)
            written += len(data)
        return written


# ---------------------------------------------------------------------------
# Helpers
# ---------------------------------------------------------------------------

def split_budget(rng, total, lo, hi):
    """Split `total` bytes into file sizes in [lo, hi] (the last may differ)."""
    sizes, remaining = [], total
    while remaining > 0:
        s = rng.randint(lo, hi)
        if s >= remaining or remaining - s < lo:
            s = remaining
        sizes.append(s)
        remaining -= s
    return sizes


def write_random(rng, f, size, header=b""):
    """Write `size` seeded random (incompressible) bytes, 1 MiB at a time."""
    if header:
        f.write(header[:size])
        size -= min(size, len(header))
    while size > 0:
        n = min(size, MIB)
        f.write(rng.randbytes(n))
        size -= n


def list_files(root, sub=""):
    """Sorted list of regular files (relative paths) under root/sub."""
    out = []
    base = os.path.join(root, sub) if sub else root
    for dirpath, dirnames, filenames in os.walk(base):
        dirnames.sort()
        for name in sorted(filenames):
            out.append(os.path.relpath(os.path.join(dirpath, name), root))
    return out


def mib(n):
    return "%.1f MiB" % (n / MIB)


# ---------------------------------------------------------------------------
# Generation
# ---------------------------------------------------------------------------

def make_tree(rng, n_dirs):
    """A nested directory tree (relative paths), up to 4 levels deep."""
    roots = list(SMALL_ROOTS)
    dirs = list(roots)
    depth = {d: 1 for d in dirs}
    existing = set(dirs)
    while len(dirs) < n_dirs:
        parent = rng.choice(dirs)
        if depth[parent] >= 4:
            continue
        child = os.path.join(parent, rng.choice(WORDS) + rng.choice(("", "s", "_" + rng.choice(WORDS))))
        if child in existing:
            continue
        existing.add(child)
        dirs.append(child)
        depth[child] = depth[parent] + 1
    return dirs


def small_file_name(rng, directory, taken, prefix=""):
    """A unique file name in `directory` with a fitting extension."""
    config_dir = directory.startswith("etc")
    while True:
        if config_dir or rng.random() < 0.15:
            ext = rng.choice(CONFIG_EXTS)
        elif directory.startswith("docs"):
            ext = ".md"
        else:
            ext = rng.choice(SOURCE_EXTS)
        name = "%s%s_%s%s" % (prefix, rng.choice(WORDS), rng.choice(WORDS), ext)
        path = os.path.join(directory, name)
        if path not in taken:
            taken.add(path)
            return path, ext


def gen_small(root, rng, pools, budget):
    """(a) many small text files (1-20 KiB) in a nested tree."""
    avg = 10.5 * KIB
    n_est = max(1, int(budget / avg))
    dirs = make_tree(rng, max(len(SMALL_ROOTS), n_est // 12))
    for d in dirs:
        os.makedirs(os.path.join(root, d), exist_ok=True)
    taken, written, count = set(), 0, 0
    while written < budget:
        size = min(rng.randint(1 * KIB, 20 * KIB), budget - written)
        path, ext = small_file_name(rng, rng.choice(dirs), taken)
        data = pools.text(rng, ext, size)
        with open(os.path.join(root, path), "wb") as f:
            f.write(data)
        written += len(data)
        count += 1
    return count, written


LOG_NAMES = ("syslog", "nginx/access.log", "app/server.log", "auth.log",
             "nginx/api-access.log", "app/worker.log", "kern.log", "daemon.log")


def log_style(name):
    if "nginx" in name:
        return "nginx"
    if name.startswith("app/"):
        return "app"
    return "syslog"


def gen_logs(root, rng, budget):
    """(b) compressible log files, 5-50 MiB each."""
    sizes = split_budget(rng, budget, 5 * MIB, 50 * MIB)
    written = 0
    for i, size in enumerate(sizes):
        base = LOG_NAMES[i % len(LOG_NAMES)]
        name = base if i < len(LOG_NAMES) else "%s.%d" % (base, i // len(LOG_NAMES))
        path = os.path.join(root, LOG_DIR, name)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        writer = LogWriter(rng, log_style(name), LOG_BASE_EPOCH - 86400 * (i // len(LOG_NAMES)))
        with open(path, "wb") as f:
            written += writer.write(f, size)
    return len(sizes), written


MEDIA_KINDS = (("photos", "IMG_%04d.jpg", b"\xff\xd8\xff\xe0\x00\x10JFIF\x00"),
               ("videos", "VID_%04d.mp4", b"\x00\x00\x00\x20ftypisom"),
               ("music", "track_%04d.flac", b"fLaC\x00\x00\x00\x22"))


def media_path(rng, root, taken_check=None):
    sub, pattern, header = rng.choice(MEDIA_KINDS)
    n = rng.randint(1, 9999)
    path = os.path.join(root, MEDIA_DIR, sub, pattern % n)
    while os.path.exists(path) or (taken_check is not None and path in taken_check):
        n = n % 9999 + 1
        path = os.path.join(root, MEDIA_DIR, sub, pattern % n)
    return path, header


def gen_media(root, rng, budget):
    """(c) incompressible media-like files, 2-40 MiB each."""
    sizes = split_budget(rng, budget, 2 * MIB, 40 * MIB)
    for size in sizes:
        path, header = media_path(rng, root)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "wb") as f:
            write_random(rng, f, size, header)
    return len(sizes), budget


def gen_image(root, rng, pools, size):
    """(d) one large disk image: zeros, repeated blocks, dups, text, random."""
    path = os.path.join(root, IMAGE_PATH)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    # A few 4 KiB blocks that are tiled over whole regions (e.g. filesystem
    # metadata patterns, 0xff-filled flash, ...).
    patterns = [rng.randbytes(4 * KIB) for _ in range(6)] + [b"\xff" * 4 * KIB]
    recent = []          # earlier random regions, re-used as duplicates
    zero = bytes(MIB)
    written = 0
    with open(path, "wb") as f:
        while written < size:
            seg = min(rng.randint(16, 1024) * 4 * KIB, size - written)
            kind = rng.choices(("zero", "random", "dup", "tiled", "text"),
                               weights=(25, 35, 15, 10, 15))[0]
            if kind == "dup" and not recent:
                kind = "random"
            if kind == "zero":
                left = seg
                while left > 0:
                    n = min(left, MIB)
                    f.write(zero[:n])
                    left -= n
            elif kind == "random":
                data = rng.randbytes(seg)
                f.write(data)
                recent.append(data)
                if len(recent) > 8:
                    recent.pop(0)
            elif kind == "dup":
                data = rng.choice(recent)
                seg = min(len(data), size - written)
                f.write(data[:seg])
            elif kind == "tiled":
                block = rng.choice(patterns)
                f.write((block * (seg // len(block) + 1))[:seg])
            else:
                data = pools.text(rng, rng.choice((".c", ".py", ".md", ".conf")), seg)
                f.write(data.ljust(seg, b"\0"))
            written += seg
    return 1, written


def generate(root, size_mib, seed):
    if os.path.isdir(root) and os.listdir(root):
        sys.exit("gen_data.py: %s exists and is not empty" % root)
    os.makedirs(root, exist_ok=True)
    total = size_mib * MIB
    budgets = {
        "small": int(total * FRAC_SMALL),
        "logs": int(total * FRAC_LOGS),
        "media": int(total * FRAC_MEDIA),
    }
    budgets["image"] = total - sum(budgets.values())

    t0 = time.time()
    # Independent generators per category so that each is stable on its own.
    pools = TextPools(random.Random("%s:pools" % seed))
    results = {
        "small": gen_small(root, random.Random("%s:small" % seed), pools, budgets["small"]),
        "logs": gen_logs(root, random.Random("%s:logs" % seed), budgets["logs"]),
        "media": gen_media(root, random.Random("%s:media" % seed), budgets["media"]),
        "image": gen_image(root, random.Random("%s:image" % seed), pools, budgets["image"]),
    }
    total_written = 0
    for cat, (count, written) in results.items():
        total_written += written
        print("  %-6s %6d files  %s" % (cat, count, mib(written)))
    print("generated %s in %s (seed %s) in %.1f s" % (mib(total_written), root, seed,
                                                     time.time() - t0))


# ---------------------------------------------------------------------------
# Mutation ("a day of changes")
# ---------------------------------------------------------------------------

def insert_bytes(path, inserts):
    """Rewrite `path` with the (offset, data) insertions applied (streaming)."""
    tmp = path + ".tmp-mutate"
    with open(path, "rb") as src, open(tmp, "wb") as dst:
        pos = 0
        for off, data in sorted(inserts):
            left = off - pos
            while left > 0:
                buf = src.read(min(left, 4 * MIB))
                if not buf:
                    break
                dst.write(buf)
                left -= len(buf)
            pos = off
            dst.write(data)
        while True:
            buf = src.read(4 * MIB)
            if not buf:
                break
            dst.write(buf)
    os.replace(tmp, path)


def mutate(root, seed):
    image = os.path.join(root, IMAGE_PATH)
    if not os.path.isfile(image):
        sys.exit("gen_data.py: %s is not a generated data set (no %s)" % (root, IMAGE_PATH))
    rng = random.Random("%s:mutate" % seed)
    pools = TextPools(random.Random("%s:pools" % seed))
    t0 = time.time()

    small = [p for r in SMALL_ROOTS for p in list_files(root, r)]
    logs = list_files(root, LOG_DIR)
    total = sum(os.path.getsize(os.path.join(root, p)) for p in list_files(root))
    summary = []

    # 1. Append new lines to a few logs (about 1-3 % of each, <= 4 MiB).
    appended = 0
    for name in rng.sample(logs, min(3, len(logs))):
        path = os.path.join(root, name)
        size = os.path.getsize(path)
        add = min(4 * MIB, max(64 * KIB, int(size * rng.uniform(0.01, 0.03))))
        style = log_style(os.path.relpath(path, os.path.join(root, LOG_DIR)))
        writer = LogWriter(rng, style, LOG_BASE_EPOCH + 30 * 86400)
        with open(path, "ab") as f:
            appended += writer.write(f, add)
    summary.append("appended %s to %d logs" % (mib(appended), min(3, len(logs))))

    # 2. Modify ~1 % of the small files: replace/insert a few lines somewhere.
    n_mod = max(1, round(len(small) * 0.01))
    modified = rng.sample(small, n_mod)
    for name in modified:
        path = os.path.join(root, name)
        ext = os.path.splitext(name)[1]
        with open(path, "rb") as f:
            lines = f.read().decode().splitlines(keepends=True)
        at = rng.randint(0, len(lines))
        drop = rng.randint(0, 3)
        lines[at:at + drop] = pools.lines(rng, ext, rng.randint(1, 8))
        with open(path, "wb") as f:
            f.write("".join(lines).encode())
    summary.append("modified %d small files" % n_mod)

    # 3. Delete a few small files (not among the modified ones).
    candidates = sorted(set(small) - set(modified))
    n_del = min(len(candidates), max(3, len(small) // 2000))
    for name in rng.sample(candidates, n_del):
        os.remove(os.path.join(root, name))
    summary.append("deleted %d small files" % n_del)

    # 4. Add a few new small files to existing directories.
    dirs = sorted({os.path.dirname(p) for p in small})
    taken = set(small)
    n_new = rng.randint(5, 15)
    for _ in range(n_new):
        path, ext = small_file_name(rng, rng.choice(dirs), taken, prefix="new_")
        while os.path.exists(os.path.join(root, path)):
            path, ext = small_file_name(rng, rng.choice(dirs), taken, prefix="new_")
        with open(os.path.join(root, path), "wb") as f:
            f.write(pools.text(rng, ext, rng.randint(1 * KIB, 20 * KIB)))
    summary.append("added %d small files" % n_new)

    # 5. One new media file: ~20 MiB (2 % of the data set, at least 1 MiB).
    media_size = max(1 * MIB, min(20 * MIB, int(total * 0.02)))
    path, header = media_path(rng, root)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "wb") as f:
        write_random(rng, f, media_size, header)
    summary.append("added %s (%s)" % (os.path.relpath(path, root), mib(media_size)))

    # 6. INSERT a few KiB at a few offsets of the disk image, one near its
    #    start, shifting all following data (defeats fixed-size chunking).
    img_size = os.path.getsize(image)
    offsets = [rng.randint(512, min(img_size, 64 * KIB))]
    offsets += [rng.randint(0, img_size) for _ in range(rng.randint(2, 4))]
    inserts = [(off, rng.randbytes(rng.randint(1 * KIB, 8 * KIB))) for off in offsets]
    insert_bytes(image, inserts)
    summary.append("inserted %d KiB at %d offsets of %s"
                   % (sum(len(d) for _, d in inserts) // KIB, len(inserts), IMAGE_PATH))

    for line in summary:
        print("  " + line)
    print("mutated %s (seed %s) in %.1f s" % (root, seed, time.time() - t0))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("dir", help="data set directory")
    ap.add_argument("--size-mib", type=int, default=1024,
                    help="approximate data set size in MiB (default 1024)")
    ap.add_argument("--seed", default="1", help="random seed (default 1)")
    ap.add_argument("--mutate", action="store_true",
                    help="apply a day of changes to an existing data set")
    args = ap.parse_args()
    if args.size_mib <= 0:
        ap.error("--size-mib must be positive")
    if args.mutate:
        mutate(args.dir, args.seed)
    else:
        generate(args.dir, args.size_mib, args.seed)


if __name__ == "__main__":
    main()
