# Shared by the S3 scenarios (tests/e2e/1x-s3-*.sh): a single-node Ceph
# cluster with its RADOS Gateway on 127.0.0.1 (tests/s3/ceph.sh), started
# for the scenario and stopped at exit by pid; rclone as an independent
# client; the fault-injecting proxy (tests/s3/faultproxy.py).  Source after
# lib.sh.

S3DIR=$(cd "$HERE/../s3" && pwd)

# s3_setup: start Ceph; export the endpoint and credentials; a private
# cache directory.  Without Ceph installed the scenario is skipped (status
# 77), unless GFSB_REQUIRE_S3 is set (CI sets it: no silent skips there).
s3_setup() {
	if ! command -v radosgw >/dev/null || ! command -v rclone >/dev/null
	then
		[ -n "${GFSB_REQUIRE_S3:-}" ] &&
			fail "Ceph or rclone missing (tests/s3/install-deps.sh)"
		echo "SKIP: Ceph or rclone not installed"
		exit 77
	fi
	CEPH=$T/ceph
	CLEANUPS+=("bash '$S3DIR/ceph.sh' stop '$CEPH' >/dev/null 2>&1")
	bash "$S3DIR/ceph.sh" start "$CEPH" >"$T/ceph.log" 2>&1 ||
		{ cat "$T/ceph.log"; fail "Ceph did not start"; }
	# shellcheck disable=SC1091
	. "$CEPH/env"
	export GFSBACKUP_S3_ENDPOINT=$GFSB_S3_ENDPOINT
	export XDG_CACHE_HOME=$T/cache
	unset GFSBACKUP_CACHE_DIR AWS_SESSION_TOKEN AWS_PROFILE
	# Faults and dead servers are given up on quickly in tests.
	export GFSBACKUP_S3_BACKOFF_MS=20
	RCLONE=(env -u AWS_CA_BUNDLE rclone --config "$CEPH/rclone.conf")
}

mkbucket() { bash "$S3DIR/ceph.sh" mkbucket "$CEPH" "$1" >/dev/null; }

# s3_listing BUCKET[/PREFIX]: "size path" of every object but locks, sorted.
s3_listing() {
	"${RCLONE[@]}" lsf -R --files-only --format sp --separator " " \
		"ceph:$1" | grep -v '^[0-9]* \(.*/\)\{0,1\}locks/' | sort
}

# s3_check_names BUCKET/PREFIX: rclone downloads every object and checks
# that the SHA-256 of each (config and locks excepted) is its name.
s3_check_names() {
	local n
	"${RCLONE[@]}" hashsum sha256 --download "ceph:$1" >"$T/hashes" ||
		fail "rclone hashsum failed"
	n=$($PY - "$T/hashes" <<'PYEOF'
import os, sys
n = 0
for line in open(sys.argv[1]):
    digest, path = line.rstrip("\n").split("  ", 1)
    if path == "config" or path.startswith("locks/"):
        continue
    if os.path.basename(path) != digest:
        sys.exit("%s: its SHA-256 is %s" % (path, digest))
    n += 1
print(n)
PYEOF
) || fail "an object's SHA-256 does not match its name"
	[ "$n" -gt 0 ] || fail "no object in $1"
	echo "   $n objects checked by rclone: every SHA-256 matches its name"
}

# s3_uploads BUCKET: keys of unfinished multipart uploads.
s3_uploads() {
	curl -sS --noproxy '*' --aws-sigv4 "aws:amz:$AWS_REGION:s3" \
		--user "$AWS_ACCESS_KEY_ID:$AWS_SECRET_ACCESS_KEY" \
		-H "x-amz-content-sha256: e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855" \
		"$GFSB_S3_ENDPOINT/$1?uploads=" |
		grep -o '<Key>[^<]*' | sed 's/<Key>//' || true
}

# proxy_port BASE: wait (at most 10 s) for a proxy started with
# --port-file BASE.port (log in BASE.log) and print its port.
proxy_port() {
	local i
	for i in $(seq 1 100); do
		[ -s "$1.port" ] && break
		sleep 0.1
	done
	[ -s "$1.port" ] || { cat "$1.log" >&2; fail "the proxy did not start"; }
	cat "$1.port"
}

# proxy_start: the fault proxy in front of the gateway; $PROXY is its URL.
proxy_start() {
	/usr/bin/python3 "$S3DIR/faultproxy.py" --listen-port 0 \
		--upstream "$GFSB_S3_ENDPOINT" --port-file "$T/proxy.port" \
		2>"$T/proxy.log" &
	BGPIDS+=($!)
	PROXY=http://127.0.0.1:$(proxy_port "$T/proxy")
}

# tls_proxy_start NAME SAN: an HTTPS proxy (no faults) with a fresh
# self-signed certificate for SAN ("DNS:localhost,IP:127.0.0.1"); its URL in
# $TLSPROXY, the certificate in $T/NAME.crt.
tls_proxy_start() {
	local name=$1 san=$2
	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
		-keyout "$T/$name.key" -out "$T/$name.crt" -days 2 \
		-subj "/CN=gfsbackup test $name" -addext "subjectAltName=$san" \
		2>"$T/openssl.log" || { cat "$T/openssl.log"; fail "openssl"; }
	/usr/bin/python3 "$S3DIR/faultproxy.py" --listen-port 0 \
		--upstream "$GFSB_S3_ENDPOINT" --port-file "$T/$name.port" \
		--tls-cert "$T/$name.crt" --tls-key "$T/$name.key" \
		2>"$T/$name.log" &
	BGPIDS+=($!)
	TLSPROXY=https://127.0.0.1:$(proxy_port "$T/$name")
}

# faults JSON: replace the proxy's fault configuration.
faults() {
	curl -fsS --noproxy '*' -X POST -d "$1" "$PROXY/__fault__" >/dev/null ||
		fail "cannot configure the proxy"
}

# proxy_counter NAME: a counter of the proxy (requests, matched,
# faults_total, ...).
proxy_counter() {
	curl -sS --noproxy '*' "$PROXY/__fault__" |
		$PY -c 'import json,sys; print(json.load(sys.stdin)[sys.argv[1]])' "$1"
}

# ---- the bucket's owner, the server and the verifier ----------------------
# (docs/OFFSITE-SECURITY.md: the server writes with keys limited by the
# bucket policy, the verifier reads with keys of its own.)

EMPTY_SHA256=e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855
SARN=arn:aws:iam:::user/server
VARN=arn:aws:iam:::user/verifier

# s3_users: keys for two new users, the server's (SAK SSK) and the
# verifier's (VAK VSK), and the owner's (ceph.sh start's user), each in a
# 0600 curl config $T/WHO.cfg (never on a command line but mkuser's, which
# radosgw-admin requires; they are throw-away keys on a loopback gateway).
# The users are made at the gateway by s3_protect.
s3_users() {
	local old
	s3_owner
	old=$(umask)
	umask 077
	read -r SAK SSK < <(s3_keypair)
	read -r VAK VSK < <(s3_keypair)
	printf 'user = "%s:%s"\n' "$SAK" "$SSK" >"$T/server.cfg"
	printf 'user = "%s:%s"\n' "$VAK" "$VSK" >"$T/verifier.cfg"
	umask "$old"
}
# s3_owner: the owner's keys (ceph.sh start's user) alone, in $T/owner.cfg,
# for s3 owner ...: an independent client with curl's own SigV4.
s3_owner() {
	local old
	old=$(umask)
	umask 077
	printf 'user = "%s:%s"\n' "$AWS_ACCESS_KEY_ID" "$AWS_SECRET_ACCESS_KEY" \
		>"$T/owner.cfg"
	umask "$old"
}
s3_keypair() { $PY -c 'import secrets, string as s
print("".join(secrets.choice(s.ascii_uppercase + s.digits) for _ in range(20)),
      "".join(secrets.choice(s.ascii_letters + s.digits) for _ in range(40)))'; }

# s3_protect BUCKET PREFIX [DAYS]: as its owner, make BUCKET with Object
# Lock, the two users, the lifecycle rule (noncurrent versions kept DAYS,
# default 30) and the policy `gfsbackup policy bucket` prints for them.
s3_protect() {
	local b=$1 p=$2 days=${3:-30}
	bash "$S3DIR/ceph.sh" mkbucket "$CEPH" "$b" --object-lock >/dev/null
	bash "$S3DIR/ceph.sh" mkuser "$CEPH" server "$SAK" "$SSK" >/dev/null
	bash "$S3DIR/ceph.sh" mkuser "$CEPH" verifier "$VAK" "$VSK" >/dev/null
	"$GFSB" policy bucket "s3://$b/$p" --server "$SARN" --verifier "$VARN" \
		--noncurrent-days "$days" >"$T/$b.policy" 2>"$T/$b.guide" ||
		{ cat "$T/$b.guide"; fail "policy bucket"; }
	sed -n "/^cat >lifecycle.json <<'EOF'\$/,/^EOF\$/p" "$T/$b.guide" |
		sed '1d;$d' >"$T/$b.lifecycle"
	bash "$S3DIR/ceph.sh" setlifecycle "$CEPH" "$b" "$T/$b.lifecycle" \
		>/dev/null
	bash "$S3DIR/ceph.sh" setpolicy "$CEPH" "$b" "$T/$b.policy" >/dev/null
}

# s3 WHO METHOD PATH [curl args]: a request signed with WHO's keys (curl's
# own SigV4); the answer's body in $T/s3.out, the HTTP status printed.
s3() {
	local who=$1 m=$2 p=$3
	shift 3
	curl -sS --noproxy '*' --max-time 10 -K "$T/$who.cfg" -X "$m" \
		--aws-sigv4 "aws:amz:$AWS_REGION:s3" -o "$T/s3.out" \
		-w '%{http_code}' "$@" "$GFSB_S3_ENDPOINT$p"
}
# s3_body WHO METHOD PATH FILE [curl args]: the same with FILE as body.
s3_body() {
	local who=$1 m=$2 p=$3 f=$4
	shift 4
	s3 "$who" "$m" "$p" --data-binary @"$f" \
		-H "x-amz-content-sha256: $(sha256sum <"$f" | cut -c1-64)" \
		-H "Content-MD5: $(openssl md5 -binary <"$f" | base64)" "$@"
}
# denied WHAT CODE: CODE (an s3 call's output) is 403 AccessDenied.
denied() {
	[ "$2" = 403 ] && grep -q '<Code>AccessDenied</Code>' "$T/s3.out" ||
		{ cat "$T/s3.out"; echo; fail "$1: HTTP $2, not 403 AccessDenied"; }
	echo "   refused: $1"
}
# as WHO cmd...: run cmd with WHO's keys in the environment.
as() {
	local who=$1
	shift
	(
		case $who in
		server) export AWS_ACCESS_KEY_ID=$SAK AWS_SECRET_ACCESS_KEY=$SSK ;;
		verifier) export AWS_ACCESS_KEY_ID=$VAK AWS_SECRET_ACCESS_KEY=$VSK ;;
		*) fail "who is $who?" ;;
		esac
		"$@"
	)
}
# enc S: S percent-encoded for a query string.
enc() { $PY -c 'import sys, urllib.parse as u; print(u.quote(sys.argv[1], safe=""))' "$1"; }
# retention BUCKET/KEY [WHO]: "MODE UNTIL" (seconds) of KEY's lock, from a
# HEAD by WHO, the verifier by default: on Ceph an object belongs to the
# user who wrote it, and the bucket's owner may not read the server's
# objects (403) unless a policy says so.
retention() {
	curl -sS --noproxy '*' -K "$T/${2:-verifier}.cfg" -I --aws-sigv4 \
		"aws:amz:$AWS_REGION:s3" -H "x-amz-content-sha256: $EMPTY_SHA256" \
		"$GFSB_S3_ENDPOINT/$1" >"$T/head" || fail "HEAD $1"
	local mode until
	mode=$(tr -d '\r' <"$T/head" | sed -n 's/^x-amz-object-lock-mode: //Ip')
	until=$(tr -d '\r' <"$T/head" |
		sed -n 's/^x-amz-object-lock-retain-until-date: //Ip')
	[ -n "$mode" ] && [ -n "$until" ] || { cat "$T/head"; fail "no lock on $1"; }
	echo "$mode $(date -u -d "$until" +%s)"
}
