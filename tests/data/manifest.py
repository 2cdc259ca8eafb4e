#!/usr/bin/python3
"""manifest.py DIR: one line per entry below DIR, sorted: path, type,
permission bits, size, SHA-256 of the content, mtime (ns; not for
symlinks), link target, the first path of its hard-link group, and user.*
xattrs.  Owners are left out (the golden tree is restored by whoever runs
the tests)."""
import hashlib, os, stat, sys

root = sys.argv[1]
first = {}
lines = []
for d, ds, fs in os.walk(root):
    for n in sorted(ds + fs):
        p = os.path.join(d, n)
        rel = os.path.relpath(p, root)
        st = os.lstat(p)
        kind = stat.S_IFMT(st.st_mode)
        row = [rel, oct(kind), oct(stat.S_IMODE(st.st_mode))]
        if stat.S_ISREG(kind):
            h = hashlib.sha256(open(p, "rb").read()).hexdigest()
            key = (st.st_dev, st.st_ino)
            link = first.setdefault(key, rel) if st.st_nlink > 1 else ""
            row += [str(st.st_size), h, str(st.st_mtime_ns), "", link]
        elif stat.S_ISLNK(kind):
            row += ["", "", "", os.readlink(p), ""]
        else:
            row += ["", "", str(st.st_mtime_ns), "", ""]
        xs = []
        if not stat.S_ISLNK(kind):
            for x in sorted(os.listxattr(p)):
                if x.startswith("user."):
                    xs.append("%s=%s" % (x, os.getxattr(p, x).hex()))
        row.append(",".join(xs))
        lines.append("\t".join(row))
print("\n".join(sorted(lines)))
