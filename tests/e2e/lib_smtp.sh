# Shared by the scenarios that need an SMTP server (tests/smtp/smtpd.py on
# aiosmtpd, on 127.0.0.1): start and stop one, count what it received.
# Source after lib.sh.  Skips (77) when aiosmtpd or openssl is missing,
# unless GFSB_REQUIRE_SMTP=1 (CI sets it: no silent skips there).

SMTPD=$HERE/../smtp/smtpd.py

need() {
	if [ "${GFSB_REQUIRE_SMTP:-0}" = 1 ]; then
		fail "$1 (GFSB_REQUIRE_SMTP=1)"
	fi
	echo "SKIP: $1 (apt-get install python3-aiosmtpd openssl)"
	exit 77
}
$PY -c 'import aiosmtpd' 2>/dev/null || need "$PY cannot import aiosmtpd"
command -v openssl >/dev/null || need "openssl is not installed"

# start_smtpd NAME ARGS...: start a server keeping its files in $T/NAME
# (mail/ holds NNNN.eml, NNNN.json and auth.log); its port goes to $PORT.
# Stopped with SIGTERM at exit (lib.sh's kill -9 is the backstop).
start_smtpd() {
	local name=$1 pid i
	shift
	mkdir -p "$T/$name/mail"
	$PY "$SMTPD" --host 127.0.0.1 --port 0 --ready-file "$T/$name/port" \
		--dir "$T/$name/mail" "$@" >"$T/$name/log" 2>&1 &
	pid=$!
	BGPIDS+=("$pid")
	CLEANUPS+=("stop_smtpd $pid")
	for i in $(seq 100); do
		[ -s "$T/$name/port" ] && break
		kill -0 "$pid" 2>/dev/null ||
			{ cat "$T/$name/log"; fail "smtpd $name died"; }
		sleep 0.1
	done
	[ -s "$T/$name/port" ] || { cat "$T/$name/log"; fail "smtpd $name not up"; }
	PORT=$(cat "$T/$name/port")
}

# stop_smtpd PID: SIGTERM, then wait at most 5 s for it to go.
stop_smtpd() {
	local i
	kill -TERM "$1" 2>/dev/null || return 0
	for i in $(seq 50); do
		kill -0 "$1" 2>/dev/null || break
		sleep 0.1
	done
	wait "$1" 2>/dev/null || true
}

nmail() { find "$T/$1/mail" -name '*.eml' | wc -l; }

