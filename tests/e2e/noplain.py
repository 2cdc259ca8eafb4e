#!/usr/bin/python3
"""Check that stored bytes reveal nothing of the source.

usage: noplain.py SRC DIR...

Searches every file under each DIR (a repository, a cache) for the names
of SRC's entries (those of 6 bytes or more; shorter ones occur by chance
in megabytes of ciphertext) and for samples of its regular files'
contents (16 bytes from the start, the middle and the end of each, where
those bytes are varied enough not to occur by chance: 8 distinct values
or more).  Prints what it found where, and exits 1 if it found anything;
exits 2 if it had nothing to look for or nowhere to look.
"""
import os
import sys


def needles(src):
    out = {}
    for dirpath, dirnames, filenames in os.walk(os.fsencode(src)):
        for name in dirnames + filenames:
            full = os.path.join(dirpath, name)
            if len(name) >= 6:
                out[name] = b"name of " + full
            if os.path.islink(full) or not os.path.isfile(full):
                continue
            size = os.path.getsize(full)
            if size < 16:
                continue
            with open(full, "rb") as f:
                for off in (0, size // 2 - 8, size - 16):
                    f.seek(max(off, 0))
                    sample = f.read(16)
                    if len(sample) == 16 and len(set(sample)) >= 8:
                        out[sample] = b"content of %s at %d" % (full, off)
    return out


def main():
    if len(sys.argv) < 3:
        print(__doc__, file=sys.stderr)
        return 2
    want = needles(sys.argv[1])
    files = 0
    found = []
    for top in sys.argv[2:]:
        for dirpath, _, filenames in os.walk(top):
            for name in filenames:
                path = os.path.join(dirpath, name)
                if os.path.islink(path) or not os.path.isfile(path):
                    continue
                files += 1
                with open(path, "rb") as f:
                    data = f.read()
                for n, what in want.items():
                    if n in data:
                        found.append("%s: %s" % (path, what.decode(
                            "utf-8", "backslashreplace")))
    if not want or files == 0:
        print("noplain: nothing to check (%d needles, %d files)"
              % (len(want), files))
        return 2
    for f in found:
        print("noplain: found " + f)
    if not found:
        print("noplain: %d names and samples absent from %d files"
              % (len(want), files))
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main())
