#!/bin/bash
# The Debian package: cpack builds it from the build directory; its
# contents, control fields and maintainer scripts are checked; its systemd
# units pass `systemd-analyze verify` and its man pages lint clean.  As
# root, it is then installed for real with dpkg: the installed program
# runs, dry-runs the daily job from a configuration derived from the
# shipped example, man finds both pages, the installed units verify, and a
# purge removes it all.  The machine is left as it was found.
#
# Skipped (77) without root for the install part, unless GFSB_REQUIRE_PKG=1;
# skipped under the sanitizer build (the ASan binary is not what ships).
. "$(dirname "$0")/lib.sh"

BUILD=$(dirname "$GFSB")
[ -f "$BUILD/CPackConfig.cmake" ] || fail "$BUILD has no CPackConfig.cmake"
if grep -q '^GFSBACKUP_SANITIZE:BOOL=ON' "$BUILD/CMakeCache.txt"; then
	echo "SKIP: sanitizer build (the package is built from a plain build)"
	exit 77
fi
for tool in cpack dpkg-deb dpkg-shlibdeps systemd-analyze man groff; do
	command -v "$tool" >/dev/null ||
		fail "$tool missing (scripts/install-deps.sh installs it)"
done

VERSION=$("$GFSB" --version | awk '{print $2}')
ARCH=$(dpkg --print-architecture)
DEB=$T/pkg/gfsbackup_${VERSION}_${ARCH}.deb

step "cpack -G DEB from the build directory"
mkdir -p "$T/pkg"
(cd "$BUILD" && cpack -G DEB -B "$T/pkg") >"$T/cpack.log" 2>&1 ||
	{ cat "$T/cpack.log"; fail "cpack failed"; }
[ -f "$DEB" ] || { ls "$T/pkg"; fail "no $(basename "$DEB")"; }
echo "$(basename "$DEB"): $(stat -c %s "$DEB") bytes"

step "contents (dpkg-deb -c)"
dpkg-deb -c "$DEB" >"$T/contents"
has() {
	grep -qE "^$1 +[^ ]+ +[0-9]+ [^ ]+ [^ ]+ \./$2\$" "$T/contents" ||
		{ cat "$T/contents"; fail "package lacks $2 ($1)"; }
}
has -rwxr-xr-x usr/bin/gfsbackup
has -rw-r--r-- usr/share/man/man1/gfsbackup.1.gz
has -rw-r--r-- usr/share/man/man5/gfsbackup.conf.5.gz
has -rw-r--r-- lib/systemd/system/gfsbackup.service
has -rw-r--r-- lib/systemd/system/gfsbackup.timer
for p in standard minimal compliance-10y; do
	has -rw-r--r-- "usr/share/gfsbackup/schedules/$p.policy"
done
has -rw-r--r-- usr/share/doc/gfsbackup/examples/gfsbackup.conf
has -rw-r--r-- usr/share/doc/gfsbackup/examples/cron.d-gfsbackup
has -rw-r--r-- usr/share/doc/gfsbackup/README.md
has -rw-r--r-- usr/share/doc/gfsbackup/docs/RETENTION.md
has drwx------ etc/gfsbackup/
has -rw-r--r-- etc/gfsbackup/gfsbackup.conf.example
# Never the live configuration, never an active cron job.
grep -qE '\./etc/gfsbackup/gfsbackup\.conf$|\./etc/cron\.d/' "$T/contents" &&
	fail "the package ships a live configuration or cron job"

step "control fields (dpkg-deb -I)"
field() { dpkg-deb -f "$DEB" "$1"; }
[ "$(field Package)" = gfsbackup ] || fail "Package: $(field Package)"
[ "$(field Version)" = "$VERSION" ] || fail "Version: $(field Version)"
[ "$(field Architecture)" = "$ARCH" ] || fail "Architecture"
[ "$(field Section)" = admin ] || fail "Section: $(field Section)"
[ -n "$(field Maintainer)" ] || fail "no Maintainer"
DEPENDS=$(field Depends)
echo "Depends: $DEPENDS"
# Computed by dpkg-shlibdeps: one runtime library package per dependency
# the program links, each versioned; never a -dev package.
for lib in libc6 libsodium23 libzstd1 libarchive13 libjansson4 libinih1 \
	libcurl4 libexpat1 libssl3 libfuse3-3; do
	echo "$DEPENDS" | grep -qE "(^|, )$lib \(>= [^)]+\)" ||
		fail "Depends lacks a versioned $lib"
done
echo "$DEPENDS" | grep -q -- '-dev' && fail "Depends names a -dev package"
echo "$DEPENDS" | grep -qE ',,|, *$|^ *,' && fail "malformed Depends"
dpkg-deb -I "$DEB" >"$T/info"
for s in postinst prerm postrm conffiles; do
	grep -qE "^ +[0-9]+ bytes, +[0-9]+ lines +(\* +)?$s( |\$)" "$T/info" ||
		{ cat "$T/info"; fail "control archive lacks $s"; }
done
mkdir -p "$T/control"
dpkg-deb -e "$DEB" "$T/control"
[ "$(cat "$T/control/conffiles")" = /etc/gfsbackup/gfsbackup.conf.example ] ||
	fail "conffiles: $(cat "$T/control/conffiles")"
for s in postinst prerm postrm; do
	[ -x "$T/control/$s" ] || fail "$s not executable"
	sh -n "$T/control/$s" || fail "$s: syntax error"
	# The operator enables the timer, never the package.
	grep -v '^[[:space:]]*#' "$T/control/$s" |
		grep -qE 'systemctl +(enable|start|restart|reenable)' &&
		fail "$s enables or starts a unit"
done

step "unpacked: units verify, man pages lint clean"
dpkg-deb -x "$DEB" "$T/root"
"$T/root/usr/bin/gfsbackup" --version | grep -qx "gfsbackup $VERSION" ||
	fail "packaged binary: wrong --version"
# ExecStart must name an existing program: verify a copy of the units
# whose ExecStart is the unpacked binary.  The man pages are not installed
# yet (--man=no); the installed units are verified whole below.
mkdir -p "$T/units"
sed "s|^ExecStart=/usr/bin/gfsbackup |ExecStart=$T/root/usr/bin/gfsbackup |" \
	"$T/root/lib/systemd/system/gfsbackup.service" \
	>"$T/units/gfsbackup.service"
cp "$T/root/lib/systemd/system/gfsbackup.timer" "$T/units/"
grep -q "^ExecStart=$T/root/usr/bin/gfsbackup run --config " \
	"$T/units/gfsbackup.service" || fail "ExecStart not rewritten"
systemd-analyze verify --man=no "$T/units/gfsbackup.service" \
	"$T/units/gfsbackup.timer" >"$T/verify.log" 2>&1 ||
	{ cat "$T/verify.log"; fail "systemd-analyze verify (unpacked units)"; }
[ -s "$T/verify.log" ] && { cat "$T/verify.log"; fail "verify warned"; }
unit=$T/root/lib/systemd/system/gfsbackup.service
for want in 'Type=oneshot' \
	'ExecStart=/usr/bin/gfsbackup run --config /etc/gfsbackup/gfsbackup.conf' \
	'ProtectSystem=strict' 'CapabilityBoundingSet=CAP_DAC_READ_SEARCH' \
	'StateDirectory=gfsbackup' 'CacheDirectory=gfsbackup' \
	'Environment=GFSBACKUP_CACHE_DIR=/var/cache/gfsbackup' \
	'NoNewPrivileges=yes' 'UMask=0077' 'IOSchedulingClass=idle'; do
	grep -qxF "$want" "$unit" || fail "service lacks $want"
done
for want in 'OnCalendar=*-*-* 01:30:00' 'Persistent=true' \
	'WantedBy=timers.target'; do
	grep -qxF "$want" "$T/root/lib/systemd/system/gfsbackup.timer" ||
		fail "timer lacks $want"
done
for page in man1/gfsbackup.1 man5/gfsbackup.conf.5; do
	f=$T/root/usr/share/man/$page.gz
	# mandoc checks the section against the file name's suffix.
	src=$T/man/$(basename "$page")
	mkdir -p "$T/man"
	gzip -dc "$f" >"$src"
	grep -q "^\.TH .*\"gfsbackup $VERSION\"" "$src" ||
		fail "$page: .TH does not carry version $VERSION"
	# -ww: every warning; -z: format, print nothing.
	groff -man -Tutf8 -ww -z "$src" 2>"$T/lint" && [ ! -s "$T/lint" ] ||
		{ cat "$T/lint"; fail "$page: groff warnings"; }
	if command -v mandoc >/dev/null; then
		mandoc -T lint "$src" >"$T/lint" 2>&1 ||
			{ cat "$T/lint"; fail "$page: mandoc -T lint"; }
	fi
	MANWIDTH=80 man -l "$f" >"$T/rendered" 2>"$T/lint" ||
		{ cat "$T/lint"; fail "man -l $page"; }
	[ "$(wc -l <"$T/rendered")" -gt 50 ] || fail "$page renders short"
done
# gfsbackup(1) has a synopsis of every command the program lists, and run.
cmds=$("$GFSB" --help |
	awk '/^Commands:/ { on = 1; next } on && /^  [a-z]/ { print $1 }
		on && /^$/ { exit }')
[ "$(echo "$cmds" | wc -w)" -ge 12 ] || fail "commands: $cmds"
for c in $cmds run; do
	grep -qE "^\.B gfsbackup $c( |\$)" "$T/man/gfsbackup.1" ||
		fail "gfsbackup.1: no synopsis of $c"
done

if ! is_root; then
	if [ "${GFSB_REQUIRE_PKG:-0}" = 1 ]; then
		fail "not root: cannot install the package (GFSB_REQUIRE_PKG=1)"
	fi
	echo "SKIP: not root: the package was not installed"
	exit 77
fi
if dpkg-query -W -f='${Status}' gfsbackup 2>/dev/null | grep -q installed ||
	[ -e /usr/bin/gfsbackup ]; then
	# Never replace an operator's gfsbackup.
	if [ "${GFSB_REQUIRE_PKG:-0}" = 1 ]; then
		fail "gfsbackup is already installed on this machine"
	fi
	echo "SKIP: gfsbackup is already installed here: not touching it"
	exit 77
fi

# Put the machine back as it was: purge the package if it is still there,
# and remove the directories its scripts made that were not there before
# (only when empty: never anything someone else put in them).
PRE_EXISTING=()
for d in /etc/gfsbackup /var/backups/gfs /var/lib/gfsbackup \
	/var/cache/gfsbackup; do
	[ -e "$d" ] && PRE_EXISTING+=("$d")
done
restore_machine() {
	local d p keep
	if dpkg-query -W -f='${Status}' gfsbackup 2>/dev/null |
		grep -q 'installed\|config-files'; then
		dpkg --purge gfsbackup >/dev/null 2>&1 || true
	fi
	for d in /etc/gfsbackup /var/backups/gfs /var/lib/gfsbackup \
		/var/cache/gfsbackup; do
		keep=0
		for p in "${PRE_EXISTING[@]+"${PRE_EXISTING[@]}"}"; do
			[ "$p" = "$d" ] && keep=1
		done
		[ "$keep" = 1 ] || rmdir "$d" 2>/dev/null || true
	done
}
CLEANUPS+=(restore_machine)
HAD_CONF=0
[ -e /etc/gfsbackup/gfsbackup.conf ] && HAD_CONF=1

step "dpkg -i"
expect 0 dpkg -i "$DEB"
dpkg-query -W -f='${Status}\n' gfsbackup | grep -qx 'install ok installed' ||
	fail "not installed: $(dpkg-query -W -f='${Status}' gfsbackup)"
expect 0 /usr/bin/gfsbackup --version
[ "$(cat "$T/out")" = "gfsbackup $VERSION" ] || fail "version: $(cat "$T/out")"
[ "$(stat -c %a /etc/gfsbackup)" = 700 ] || fail "/etc/gfsbackup not 0700"
[ "$(stat -c %a /var/backups/gfs)" = 700 ] || fail "/var/backups/gfs not 0700"
[ "$HAD_CONF" = 1 ] || [ ! -e /etc/gfsbackup/gfsbackup.conf ] ||
	fail "the package installed a live configuration"
[ -f /etc/gfsbackup/gfsbackup.conf.example ] || fail "no example in /etc"
# The package enables nothing.
for l in /etc/systemd/system/timers.target.wants/gfsbackup.timer \
	/etc/systemd/system/multi-user.target.wants/gfsbackup.service \
	/etc/cron.d/gfsbackup; do
	[ ! -e "$l" ] || fail "the package enabled $l"
done

step "man finds both pages"
expect 0 man -w gfsbackup
[ "$(cat "$T/out")" = /usr/share/man/man1/gfsbackup.1.gz ] ||
	fail "man -w gfsbackup: $(cat "$T/out")"
expect 0 man -w gfsbackup.conf
[ "$(cat "$T/out")" = /usr/share/man/man5/gfsbackup.conf.5.gz ] ||
	fail "man -w gfsbackup.conf: $(cat "$T/out")"
expect 0 man -w 5 gfsbackup.conf

step "systemd-analyze verify on the installed units"
# As installed: ExecStart=/usr/bin/gfsbackup exists now, and so do the
# man pages Documentation= names (checked too).
systemd-analyze verify /lib/systemd/system/gfsbackup.service \
	/lib/systemd/system/gfsbackup.timer >"$T/verify.log" 2>&1 ||
	{ cat "$T/verify.log"; fail "systemd-analyze verify (installed units)"; }
[ -s "$T/verify.log" ] && { cat "$T/verify.log"; fail "verify warned"; }

step "a dry run of the daily job, from the shipped example"
{
	S=$T/src
	mkdir -p "$S/etc"
	echo "conf" >"$S/etc/app.conf"
	/usr/bin/gfsbackup init -r "$T/repo" --kdf-memory 8M \
		--kdf-iterations 1 -q >/dev/null
	# The example, pointed at this test's repository and files; no
	# offsite copy and no mail (its [offsite] and [report] are replaced).
	awk -v T="$T" -v S="$S" '
		/^\[/ { sec = $0; skip = (sec == "[offsite]" || sec == "[report]") }
		skip { next }
		sec == "[repository]" && /^url *=/ { print "url = " T "/repo"; next }
		sec == "[repository]" && /^password-file *=/ {
			print "password-file = " T "/pw"; next }
		sec == "[repository]" && /^cache-dir *=/ {
			print "cache-dir = " T "/cache"; next }
		sec == "[repository]" && /^state-dir *=/ {
			print "state-dir = " T "/state"; next }
		sec == "[backup]" && /^paths *=/ { print "paths = " S; next }
		{ print }
		END { print "[report]"; print "dir = " T "/reports" }' \
		/etc/gfsbackup/gfsbackup.conf.example >"$T/gfsbackup.conf"
	grep -q '^policy = /usr/share/gfsbackup/schedules/standard.policy$' \
		"$T/gfsbackup.conf" || fail "the example lost its policy"
	chmod 600 "$T/gfsbackup.conf"
	expect 0 /usr/bin/gfsbackup run --config "$T/gfsbackup.conf" --dry-run \
		--time '2026-03-01 01:30:00'
	# A dry run changes nothing.
	expect 0 /usr/bin/gfsbackup snapshots -r "$T/repo" --json
	[ "$(tr -d ' \n' <"$T/out")" = "[]" ] ||
		{ cat "$T/out"; fail "the dry run made a snapshot"; }
}

step "dpkg --purge"
expect 0 dpkg --purge gfsbackup
dpkg-query -W -f='${Status}' gfsbackup 2>/dev/null | grep -q installed &&
	fail "still installed"
for f in /usr/bin/gfsbackup /usr/share/man/man1/gfsbackup.1.gz \
	/usr/share/man/man5/gfsbackup.conf.5.gz \
	/lib/systemd/system/gfsbackup.service \
	/lib/systemd/system/gfsbackup.timer /usr/share/gfsbackup \
	/usr/share/doc/gfsbackup /etc/gfsbackup/gfsbackup.conf.example; do
	[ ! -e "$f" ] || fail "$f is still there after the purge"
done

echo "PASS"
