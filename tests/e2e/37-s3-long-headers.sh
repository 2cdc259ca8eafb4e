#!/bin/bash
# What the S3 client signs is what it sends, however long: an STS session
# token of several KiB went out cut to fit a 1,200-byte buffer while the
# signature covered it whole (every request then failed as a bad
# signature).  Against a recorder on 127.0.0.1 (tests/s3/recorder.py,
# which answers 404 to everything), the token arrives whole and is among
# the signed headers; a repository prefix too long for S3 keys is refused
# with one line, not sent cut short.
. "$(dirname "$0")/lib.sh"

$PY "$HERE/../s3/recorder.py" --port-file "$T/port" --log "$T/requests" \
	2>"$T/recorder.err" &
BGPIDS+=($!)
for _ in $(seq 1 100); do [ -s "$T/port" ] && break; sleep 0.05; done
[ -s "$T/port" ] || { cat "$T/recorder.err"; fail "the recorder did not start"; }
EP=http://127.0.0.1:$(cat "$T/port")

export AWS_ACCESS_KEY_ID=AKIDEXAMPLE AWS_SECRET_ACCESS_KEY=secret AWS_REGION=us-east-1
unset AWS_CA_BUNDLE AWS_PROFILE AWS_SHARED_CREDENTIALS_FILE
TOKEN=$($PY -c 'import random; r = random.Random(3); print("".join(r.choice("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/=") for _ in range(6000)))')
export AWS_SESSION_TOKEN=$TOKEN

step "a 6,000-byte session token is sent whole, and signed"
expect 10 "$GFSB" snapshots -r s3://gfsb-long/repo --s3-endpoint "$EP"
one_line_error "does not exist"
[ -s "$T/requests" ] || fail "no request reached the recorder"
$PY - "$T/requests" "$TOKEN" <<'PYEOF' || fail "the token was not sent as signed"
import json, sys
token = sys.argv[2]
n = 0
for line in open(sys.argv[1]):
    r = json.loads(line)
    h = r["headers"]
    got = h.get("x-amz-security-token", "")
    if got != token:
        sys.exit("%s %s: token of %d bytes sent, %d expected" %
                 (r["method"], r["path"], len(got), len(token)))
    signed = h["authorization"].split("SignedHeaders=")[1].split(",")[0]
    if "x-amz-security-token" not in signed.split(";"):
        sys.exit("%s %s: the token is not signed" % (r["method"], r["path"]))
    n += 1
print("   %d requests, each with the whole token, signed" % n)
PYEOF

step "a repository prefix too long for S3 keys is refused, nothing sent"
: >"$T/requests"
long=$(printf 'p%.0s' $(seq 1 5000))
expect 2 "$GFSB" snapshots -r "s3://gfsb-long/$long" --s3-endpoint "$EP"
one_line_error "the prefix is 5000 bytes"
n=$(grep -c . "$T/requests" || true)
echo "   refused with exit 2 ($n requests): $(head -c 100 "$T/err")"
[ "$n" = 0 ] || fail "a request was sent for a key that cannot fit"
echo "PASS"
