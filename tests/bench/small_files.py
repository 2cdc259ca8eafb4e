"""small_files.py DIR N: N files of about 600 bytes under DIR, 1000 a
directory, each distinct (one blob each), for the scale benchmarks
(scale_bench.sh, index_bench.sh)."""
import os
import sys

root, n = sys.argv[1], int(sys.argv[2])
rnd = os.urandom(600 * 1024)
for d in range((n + 999) // 1000):
    p = os.path.join(root, "d%05d" % d)
    os.mkdir(p)
    for i in range(min(1000, n - d * 1000)):
        k = (d * 1000 + i) % 1024
        with open(os.path.join(p, "f%04d" % i), "wb") as f:
            f.write(rnd[k * 600:(k + 1) * 600] + b"%d" % (d * 1000 + i))
