#!/bin/bash
# tree-v1.sh DIR DAY: the golden tree as it was on DAY (1 or 2), made the
# same way every time (contents from fixed seeds; modes, times, links).
set -euo pipefail
S=$1 DAY=$2
PY=/usr/bin/python3
if [ "$DAY" = 1 ]; then
	mkdir -p "$S/etc/app" "$S/srv/www" "$S/empty"
	printf 'hello, golden v1\n' >"$S/etc/motd"
	$PY -c 'import random, sys
sys.stdout.buffer.write(random.Random(1).randbytes(400_000))' >"$S/srv/random.bin"
	$PY -c 'import sys
sys.stdout.write("".join("2026-12-06T01:%02d:%02d web1 GET /index.html 200\n" % (i // 60 % 60, i % 60) for i in range(20000)))' >"$S/srv/www/access.log"
	: >"$S/etc/app/empty.conf"
	printf 'key = value\n' >"$S/etc/app/app.conf"
	ln -s ../etc/motd "$S/srv/motd-link"
	ln "$S/etc/motd" "$S/etc/motd.hard"
	truncate -s 2M "$S/srv/sparse.img"
	printf 'middle' | dd of="$S/srv/sparse.img" bs=1 seek=1000000 conv=notrunc status=none
	setfattr -n user.golden -v v1 "$S/etc/app/app.conf"
	printf 'name with spaces\n' >"$S/srv/www/a file name"
	chmod 0640 "$S/etc/app/app.conf"
	chmod 0750 "$S/etc/app"
	chmod 1777 "$S/empty"
	chmod 4755 "$S/srv/random.bin"
	touch -d '2001-02-03 04:05:06.123456789' "$S/etc/motd"
	touch -h -d '2002-03-04 05:06:07' "$S/srv/motd-link"
	find "$S" -type d -exec touch -d '2010-01-01 00:00:00.5' {} +
else
	printf 'edited on day 2\n' >>"$S/etc/app/app.conf"
	rm "$S/srv/www/a file name"
	$PY -c 'import random, sys
sys.stdout.buffer.write(random.Random(2).randbytes(150_000))' >"$S/srv/new.bin"
	touch -d '2026-12-07 00:00:00' "$S/etc/app/app.conf" "$S/srv/new.bin"
	find "$S" -type d -exec touch -d '2010-01-02 00:00:00.5' {} +
fi
