#!/usr/bin/python3
"""Compare two directory trees: what a restore must bring back.

usage: treecmp.py SRC DST [--no-owner] [--no-times] [--content-only]
                   [--no-root] [--allow-empty] [--sparse PATH...]

Both roots must be directories, and SRC must not be empty (a restore
compared with a missing or empty source proves nothing) unless
--allow-empty.  Compares the roots themselves (unless --no-root: a target
directory the restore did not take from the snapshot) and, for every
entry below them: type, permission bits (with setuid/setgid/
sticky), owner and group, size and content (SHA-256), modification time
(nanoseconds; directories included), symlink target, device numbers,
extended attributes (user.* and the POSIX ACLs kept in system.posix_acl_*),
and which names are hard links of one another, in both trees (an extra
link in DST is as wrong as a missing one).  --content-only compares
only types, sizes, contents and symlink targets (for archives extracted by
other tools).  Files named with --sparse
must also take no more disk blocks in DST than in SRC (holes came back as
holes).  Prints each difference and exits 1 if there is any.
"""
import hashlib
import os
import stat
import sys


def digest(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while True:
            b = f.read(1 << 20)
            if not b:
                return h.hexdigest()
            h.update(b)


def xattrs(path):
    try:
        names = os.listxattr(path, follow_symlinks=False)
    except OSError:
        return {}
    out = {}
    for n in names:
        if n.startswith("security.") or n.startswith("trusted."):
            continue
        try:
            out[n] = os.getxattr(path, n, follow_symlinks=False)
        except OSError:
            pass
    return out


def walk(root):
    entries = {}
    for dirpath, dirnames, filenames in os.walk(root):
        for name in dirnames + filenames:
            full = os.path.join(dirpath, name)
            entries[os.path.relpath(full, root)] = full
    return entries


def describe(path, opts):
    st = os.lstat(path)
    d = {"type": stat.S_IFMT(st.st_mode)}
    if not opts["content"]:
        d["perm"] = stat.S_IMODE(st.st_mode)
        d["xattrs"] = xattrs(path)
    if opts["owner"]:
        d["uid"], d["gid"] = st.st_uid, st.st_gid
    if stat.S_ISREG(st.st_mode):
        d["size"] = st.st_size
        d["sha256"] = digest(path)
    if stat.S_ISLNK(st.st_mode):
        d["target"] = os.readlink(path)
    elif opts["times"] and not opts["content"]:
        d["mtime_ns"] = st.st_mtime_ns
    if stat.S_ISCHR(st.st_mode) or stat.S_ISBLK(st.st_mode):
        d["rdev"] = st.st_rdev
    return d, st


def main():
    args = sys.argv[1:]
    opts = {"owner": True, "times": True, "content": False, "root": True,
            "empty": False}
    sparse = []
    pos = []
    i = 0
    while i < len(args):
        a = args[i]
        if a == "--no-owner":
            opts["owner"] = False
        elif a == "--no-times":
            opts["times"] = False
        elif a == "--content-only":
            opts["content"] = True
            opts["owner"] = False
        elif a == "--no-root":
            opts["root"] = False
        elif a == "--allow-empty":
            opts["empty"] = True
        elif a == "--sparse":
            i += 1
            sparse.append(args[i])
        else:
            pos.append(a)
        i += 1
    if len(pos) != 2:
        print(__doc__, file=sys.stderr)
        return 2
    src, dst = pos
    problems = []
    for root in (src, dst):
        if not os.path.isdir(root) or os.path.islink(root):
            problems.append("not a directory: " + root)
    if problems:
        for p in problems:
            print("treecmp: " + p)
        return 1
    a, b = walk(src), walk(dst)
    if not a and not opts["empty"]:
        problems.append("nothing to compare: %s is empty" % src)
    for rel in sorted(set(a) - set(b)):
        problems.append("missing in restore: " + rel)
    for rel in sorted(set(b) - set(a)):
        problems.append("extra in restore: " + rel)
    common = sorted(set(a) & set(b))
    pairs = [(rel, a[rel], b[rel]) for rel in common]
    if opts["root"]:
        pairs.insert(0, (".", src, dst))
    links_a, links_b = {}, {}
    for rel, pa, pb in pairs:
        da, sa = describe(pa, opts)
        db, sb = describe(pb, opts)
        for k in sorted(set(da) | set(db)):
            if da.get(k) != db.get(k):
                problems.append("%s: %s differs: %r != %r" %
                                (rel, k, da.get(k), db.get(k)))
        if rel == ".":
            continue
        # Each tree's own link groups: names sharing an inode there.
        if stat.S_ISREG(sa.st_mode) and sa.st_nlink > 1:
            links_a.setdefault((sa.st_dev, sa.st_ino), set()).add(rel)
        if stat.S_ISREG(sb.st_mode) and sb.st_nlink > 1:
            links_b.setdefault((sb.st_dev, sb.st_ino), set()).add(rel)
    groups_a = sorted(sorted(g) for g in links_a.values() if len(g) > 1)
    groups_b = sorted(sorted(g) for g in links_b.values() if len(g) > 1)
    if groups_a != groups_b:
        problems.append("hard links differ: %r != %r" % (groups_a, groups_b))
    for rel in sparse:
        ba = os.lstat(os.path.join(src, rel)).st_blocks
        bb = os.lstat(os.path.join(dst, rel)).st_blocks
        if bb > ba + 8:
            problems.append("%s: holes not restored (%d blocks, source %d)"
                            % (rel, bb, ba))
    for p in problems:
        print("treecmp: " + p)
    if not problems:
        print("treecmp: %d entries identical" % len(a))
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
