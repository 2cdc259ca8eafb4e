#!/usr/bin/env bash
# Single-node Ceph (1 mon, 1 osd, 1 radosgw) on 127.0.0.1 for S3 integration tests.
#
#   tests/s3/ceph.sh start DIR                      start; writes DIR/env
#   tests/s3/ceph.sh stop DIR                       stop the daemons started in DIR, delete DIR
#   tests/s3/ceph.sh mkbucket DIR NAME [--object-lock]
#   tests/s3/ceph.sh mkuser DIR UID ACCESS SECRET   a second S3 user (radosgw-admin),
#                                                   principal arn:aws:iam:::user/UID
#   tests/s3/ceph.sh setpolicy DIR BUCKET FILE      PUT ?policy= (FILE: JSON) as the owner
#   tests/s3/ceph.sh setlifecycle DIR BUCKET FILE   PUT ?lifecycle= as the owner; FILE is
#                                                   S3's XML or the JSON of `aws s3api
#                                                   put-bucket-lifecycle-configuration`
#
# The S3 verbs act as the user of DIR/env (gfsb, owner of the buckets
# mkbucket creates); on anything but 2xx they print the server's XML error
# and exit 1.  mkuser's keys are throw-away test keys on a loopback gateway;
# they are on its command line because radosgw-admin takes them there.
#
# Everything (config, keyring, mon/osd data, logs, pid files, admin sockets)
# lives under DIR. No systemd; nothing is installed (see install-deps.sh).
#
# Environment:
#   GFSB_CEPH_STORE=memstore|bluestore   OSD backend (default memstore: data in RAM)
#   GFSB_CEPH_TIMEOUT=60                 seconds to wait for each start-up stage
#   GFSB_CEPH_LC=1                       run radosgw's lifecycle worker (off by
#                                        default; with it, a lifecycle "day" is 10 s)
#   GFSB_CEPH_KEEP_FAILED=1              on a failed start, keep DIR (logs) after
#                                        stopping the daemons
set -euo pipefail

PROG=${0##*/}
PY=/usr/bin/python3
EMPTY_SHA256=e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855
RGW_ID=gfsb
MARKER=.gfsb-ceph   # marks DIR as ours, so that stop never deletes a foreign tree

die() { echo "$PROG: $*" >&2; exit 1; }
log() { echo "$PROG: $*" >&2; }

usage() {
    awk 'NR > 1 && !/^#/ { exit } NR > 1 { sub(/^# ?/, ""); print }' "$0" >&2
    exit 2
}

now_ms() { echo $(( $(date +%s%N) / 1000000 )); }

# ---------------------------------------------------------------- helpers --

# Command line of /proc/PID as one space-separated string in REPLY (no fork).
cmdline_of() {
    local -a a=()
    { mapfile -d '' a <"/proc/$1/cmdline"; } 2>/dev/null || return 1
    REPLY="${a[*]}"
}

# Is PID alive and one of ours (its command line names our ceph.conf)?
is_ours() {
    local pid=$1 conf=$2 stat
    [[ "$pid" =~ ^[0-9]+$ ]] || return 1
    { read -r stat <"/proc/$pid/stat"; } 2>/dev/null || return 1
    # A zombie counts as dead (PID 1 may be slow to reap here).
    stat=${stat##*) }
    [[ "${stat:0:1}" != Z ]] || return 1
    cmdline_of "$pid" || return 1
    [[ " $REPLY " == *" -c $conf "* ]]
}

# Pids of the daemons started for DIR: the pid files the daemons wrote and the
# copies we made, plus (safety net for a daemon that died before writing its
# pid file, or whose pid file is gone) any ceph-mon/ceph-osd/radosgw whose
# command line is "... -c DIR/ceph.conf ..." -- that path is unique to this
# DIR, so only processes started by this script for DIR match.
our_pids() {
    local dir=$1 conf=$1/ceph.conf f pid p
    local -A seen=()
    for f in "$dir"/pids/*.pid "$dir"/run/*.pid; do
        [[ -f "$f" ]] || continue
        { read -r pid <"$f"; } 2>/dev/null || continue
        [[ -n "$pid" && -z "${seen[$pid]:-}" ]] || continue
        if is_ours "$pid" "$conf"; then seen[$pid]=1; echo "$pid"; fi
    done
    for p in /proc/[0-9]*; do
        pid=${p#/proc/}
        [[ -z "${seen[$pid]:-}" ]] || continue
        { read -r f <"$p/comm"; } 2>/dev/null || continue
        case "$f" in ceph-mon|ceph-osd|radosgw) ;; *) continue ;; esac
        if is_ours "$pid" "$conf"; then seen[$pid]=1; echo "$pid"; fi
    done
}

# SIGTERM the given pids, wait up to $2 seconds, then SIGKILL and wait again.
term_then_kill() {
    local conf=$1 grace=$2; shift 2
    local pids=("$@") pid alive deadline
    ((${#pids[@]})) || return 0
    kill -TERM "${pids[@]}" 2>/dev/null || true
    deadline=$(( $(date +%s%N) + grace * 1000000000 ))
    while :; do
        alive=()
        for pid in "${pids[@]}"; do is_ours "$pid" "$conf" && alive+=("$pid"); done
        ((${#alive[@]})) || return 0
        (( $(date +%s%N) < deadline )) || break
        sleep 0.05
    done
    log "SIGKILL to ${alive[*]} (did not exit ${grace}s after SIGTERM)"
    kill -KILL "${alive[@]}" 2>/dev/null || true
    deadline=$(( $(date +%s%N) + 5 * 1000000000 ))
    while (( $(date +%s%N) < deadline )); do
        local any=0
        for pid in "${alive[@]}"; do is_ours "$pid" "$conf" && any=1; done
        ((any)) || return 0
        sleep 0.05
    done
    log "warning: processes ${alive[*]} still alive after SIGKILL"
    return 1
}

# Stop every daemon of DIR: radosgw first, then the OSD, then the monitor (the
# OSD tells the monitor it goes down, so the monitor should still be there).
stop_daemons() {
    local dir=$1 conf=$1/ceph.conf pid rc=0
    local rgw=() osd=() mon=() other=()
    while read -r pid; do
        [[ -n "$pid" ]] || continue
        cmdline_of "$pid" || continue
        case "$REPLY" in
            *radosgw*) rgw+=("$pid") ;;
            *ceph-osd*) osd+=("$pid") ;;
            *ceph-mon*) mon+=("$pid") ;;
            *) other+=("$pid") ;;
        esac
    done < <(our_pids "$dir")
    term_then_kill "$conf" 5 "${rgw[@]}" "${other[@]}" || rc=1
    term_then_kill "$conf" 5 "${osd[@]}" || rc=1
    term_then_kill "$conf" 5 "${mon[@]}" || rc=1
    # Anything that appeared meanwhile (should not happen).
    local rest=()
    while read -r pid; do [[ -n "$pid" ]] && rest+=("$pid"); done < <(our_pids "$dir")
    term_then_kill "$conf" 2 "${rest[@]}" || rc=1
    return $rc
}

# Is a daemon of DIR with this command name (ceph-mon, ceph-osd, radosgw) running?
daemon_alive() {
    local dir=$1 name=$2 pid comm
    while read -r pid; do
        { read -r comm <"/proc/$pid/comm"; } 2>/dev/null || continue
        [[ "$comm" == "$name" ]] && return 0
    done < <(our_pids "$dir")
    return 1
}

load_env() {
    local dir=$1
    [[ -f "$dir/env" ]] || die "$dir/env not found (is Ceph started in $dir?)"
    # shellcheck disable=SC1091
    source "$dir/env"
}

# Authenticated S3 request with curl (SigV4). Extra args are passed to curl.
# libcurl 7.88 does not send x-amz-content-sha256 by itself; Ceph needs it.
s3curl() {
    local method=$1 path=$2; shift 2
    curl -sS --noproxy "*" --max-time 10 -X "$method" \
        --aws-sigv4 "aws:amz:${AWS_REGION}:s3" \
        --user "${AWS_ACCESS_KEY_ID}:${AWS_SECRET_ACCESS_KEY}" \
        -H "x-amz-content-sha256: $EMPTY_SHA256" \
        "$@" "${GFSB_S3_ENDPOINT}${path}"
}

log_tails() {
    local dir=$1 f
    for f in "$dir"/log/*.log "$dir"/log/*.out; do
        [[ -s "$f" ]] || continue
        echo "----- tail of $f -----" >&2
        tail -n 25 "$f" >&2 || true
    done
}

# ------------------------------------------------------------------ start --

START_DIR=
START_OK=0
on_start_exit() {
    local rc=$?
    if ((START_OK)) || [[ -z "$START_DIR" ]]; then return; fi
    log "start failed (exit $rc); stopping what was started"
    log_tails "$START_DIR"
    stop_daemons "$START_DIR" || true
    if [[ "${GFSB_CEPH_KEEP_FAILED:-0}" == 1 ]]; then
        log "kept $START_DIR for inspection"
    else
        rm -rf -- "$START_DIR"
    fi
    exit $(( rc ? rc : 1 ))
}

cmd_start() {
    local dir=$1
    local store=${GFSB_CEPH_STORE:-memstore}
    local timeout_s=${GFSB_CEPH_TIMEOUT:-60}
    local lc=false
    [[ "${GFSB_CEPH_LC:-0}" == 1 ]] && lc=true
    case "$store" in memstore|bluestore) ;; *) die "GFSB_CEPH_STORE must be memstore or bluestore, not '$store'";; esac
    local b
    for b in ceph-mon ceph-osd radosgw radosgw-admin ceph ceph-authtool monmaptool curl; do
        command -v "$b" >/dev/null || die "$b not found; run tests/s3/install-deps.sh"
    done
    [[ -x $PY ]] || die "$PY not found"

    if [[ -e "$dir" ]]; then
        [[ -d "$dir" ]] || die "$dir exists and is not a directory"
        [[ -z "$(ls -A "$dir")" ]] || die "$dir is not empty"
    fi
    mkdir -p "$dir"
    dir=$(cd "$dir" && pwd -P)
    [[ "$dir" != *[[:space:]]* ]] || die "DIR must not contain white space: $dir"

    local t0; t0=$(now_ms)
    START_DIR=$dir
    trap on_start_exit EXIT
    trap 'exit 130' INT
    trap 'exit 143' TERM
    : >"$dir/$MARKER"
    mkdir -p "$dir"/{mon,osd,rgw,run,log,pids,crash,tmp}

    # Ports, keys and ids. Ports come from 10000-32767, below Linux's ephemeral
    # range, so that outgoing connections cannot grab them between choice and
    # bind; every candidate is test-bound on 127.0.0.1 (all held at once, so no
    # duplicates). The OSD binds 4 ports from a 16-port ms_bind range.
    local vals
    vals=$("$PY" - <<'EOF'
import random, secrets, socket, string, uuid
held = []
def try_bind(p):
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        s.bind(("127.0.0.1", p))
    except OSError:
        s.close()
        return False
    held.append(s)
    return True
def one():
    for _ in range(2000):
        p = random.randint(10000, 32767)
        if try_bind(p):
            return p
    raise SystemExit("no free port")
def block(n):
    for _ in range(2000):
        base = random.randint(10000, 32767 - n)
        mark = len(held)
        if all(try_bind(p) for p in range(base, base + n)):
            return base
        for s in held[mark:]:
            s.close()
        del held[mark:]
    raise SystemExit("no free port range")
mon, rgw = one(), one()
bmin = block(16)
ak = "".join(secrets.choice(string.ascii_uppercase + string.digits) for _ in range(20))
sk = "".join(secrets.choice(string.ascii_letters + string.digits) for _ in range(40))
print(mon, rgw, bmin, bmin + 15, ak, sk, uuid.uuid4(), uuid.uuid4())
for s in held:
    s.close()
EOF
)
    local mon_port rgw_port bind_min bind_max access_key secret_key fsid osd_uuid
    read -r mon_port rgw_port bind_min bind_max access_key secret_key fsid osd_uuid <<<"$vals"
    [[ -n "$osd_uuid" ]] || die "could not pick ports/keys"

    local conf=$dir/ceph.conf
    cat >"$conf" <<EOF
# Generated by tests/s3/ceph.sh for a throw-away single-node test cluster.
[global]
fsid = $fsid
mon_host = [v1:127.0.0.1:$mon_port]
public_addr = 127.0.0.1
cluster_addr = 127.0.0.1
ms_bind_msgr2 = false
ms_bind_ipv6 = false
ms_bind_port_min = $bind_min
ms_bind_port_max = $bind_max
auth_cluster_required = cephx
auth_service_required = cephx
auth_client_required = cephx
keyring = $dir/keyring
run_dir = $dir/run
crash_dir = $dir/crash
tmp_dir = $dir/tmp
pid_file = $dir/run/\$name.pid
# map changes are committed at once instead of after ~1 s each
paxos_propose_interval = 0.01
paxos_min_wait = 0.01
# one OSD: one replica, few PGs, no failure-domain spreading
osd_pool_default_size = 1
osd_pool_default_min_size = 1
mon_allow_pool_size_one = true
mon_warn_on_pool_no_redundancy = false
osd_pool_default_pg_num = 8
osd_pool_default_pgp_num = 8
osd_pool_default_pg_autoscale_mode = off
mon_max_pg_per_osd = 1000
osd_crush_chooseleaf_type = 0
mon_data_avail_warn = 1
mon_data_avail_crit = 0
mon_warn_on_insecure_global_id_reclaim = false
mon_warn_on_insecure_global_id_reclaim_allowed = false

[mon]
mon_data = $dir/mon
log_file = $dir/log/\$name.log
admin_socket = $dir/run/\$name.asok
mon_cluster_log_file = $dir/log/cluster.log
mon_osd_down_out_interval = 0

[osd]
osd_data = $dir/osd
log_file = $dir/log/\$name.log
admin_socket = $dir/run/\$name.asok
osd_objectstore = $store
osd_crush_update_on_start = false
# the OSD is (re)checked quickly on boot; little memory for a test box
osd_op_num_shards = 2
osd_op_num_threads_per_shard = 2
memstore_device_bytes = 4294967296
bluestore_block_path = $dir/bluestore.img
bluestore_block_create = true
bluestore_block_size = 21474836480
bluestore_block_db_create = false
bluestore_block_wal_create = false
bluestore_fsck_on_mkfs = false
bluestore_fsck_on_mount = false
bluestore_cache_autotune = false
bluestore_cache_size = 134217728
osd_memory_target = 939524096

[client.rgw.$RGW_ID]
log_file = $dir/log/\$name.log
admin_socket = $dir/run/\$name.asok
rgw_data = $dir/rgw
rgw_frontends = beast endpoint=127.0.0.1:$rgw_port tcp_nodelay=1
rgw_thread_pool_size = 64
rgw_crypt_require_ssl = false
# Lifecycle worker: off unless GFSB_CEPH_LC=1. During its work window
# (rgw_lifecycle_work_time, 00:00-06:00 by default) it keeps radosgw from
# exiting for ~5 s after SIGTERM; with GFSB_CEPH_LC=1 rules run every
# rgw_lc_debug_interval seconds, a "day" lasting 10 s.
rgw_enable_lc_threads = $lc
$( [[ $lc == true ]] && echo "rgw_lc_debug_interval = 10" )
EOF

    # One keyring for every entity; ceph-mon --mkfs imports it all.
    local kr=$dir/keyring
    ceph-authtool --create-keyring "$kr" --gen-key -n mon. --cap mon 'allow *' >/dev/null
    ceph-authtool "$kr" --gen-key -n client.admin \
        --cap mon 'allow *' --cap osd 'allow *' --cap mds 'allow *' --cap mgr 'allow *' >/dev/null
    ceph-authtool "$kr" --gen-key -n osd.0 \
        --cap mon 'allow profile osd' --cap osd 'allow *' --cap mgr 'allow profile osd' >/dev/null
    ceph-authtool "$kr" --gen-key -n "client.rgw.$RGW_ID" \
        --cap mon 'allow rw' --cap osd 'allow rwx' --cap mgr 'allow rw' >/dev/null
    chmod 600 "$kr"

    monmaptool --create --enable-all-features --fsid "$fsid" \
        --addv a "[v1:127.0.0.1:$mon_port]" "$dir/monmap" >/dev/null
    ceph-mon -c "$conf" --mkfs -i a --monmap "$dir/monmap" --keyring "$kr" \
        >"$dir/log/mkfs-mon.out" 2>&1 || die "ceph-mon --mkfs failed"
    ceph-mon -c "$conf" -i a >"$dir/log/start-mon.out" 2>&1 || die "ceph-mon did not start"
    cp "$dir/run/mon.a.pid" "$dir/pids/mon.a.pid" 2>/dev/null || true

    local CEPH=(timeout 30 ceph -c "$conf" --connect-timeout 25)
    "${CEPH[@]}" osd new "$osd_uuid" 0 >"$dir/log/osd-new.out" 2>&1 \
        || die "'ceph osd new' failed (monitor not reachable?)"
    "${CEPH[@]}" osd crush add osd.0 1.0 root=default host=localhost \
        >"$dir/log/crush-add.out" 2>&1 || die "'ceph osd crush add' failed"
    ceph-osd -c "$conf" -i 0 --mkfs --osd-uuid "$osd_uuid" \
        >"$dir/log/mkfs-osd.out" 2>&1 || die "ceph-osd --mkfs failed"
    ceph-osd -c "$conf" -i 0 >"$dir/log/start-osd.out" 2>&1 || die "ceph-osd did not start"
    cp "$dir/run/osd.0.pid" "$dir/pids/osd.0.pid" 2>/dev/null || true

    # Wait for osd.0 up (the OSD needs the osdmap from the mon and to boot).
    local deadline=$(( $(date +%s) + timeout_s )) up=0
    while (( $(date +%s) < deadline )); do
        if "${CEPH[@]}" osd dump 2>/dev/null | grep -q '^osd\.0 up'; then up=1; break; fi
        daemon_alive "$dir" ceph-osd || die "ceph-osd exited during start-up"
        daemon_alive "$dir" ceph-mon || die "ceph-mon exited during start-up"
        sleep 0.1
    done
    ((up)) || die "osd.0 did not come up within ${timeout_s}s"
    [[ -f "$dir/pids/osd.0.pid" ]] || cp "$dir/run/osd.0.pid" "$dir/pids/osd.0.pid" 2>/dev/null || true

    # The S3 user (this also creates the realm/zonegroup/zone "default").
    timeout "$timeout_s" radosgw-admin -c "$conf" user create --uid=gfsb \
        --display-name="gfsbackup tests" \
        --access-key="$access_key" --secret-key="$secret_key" \
        >"$dir/log/user-create.out" 2>&1 || die "radosgw-admin user create failed"

    radosgw -c "$conf" -n "client.rgw.$RGW_ID" >"$dir/log/start-rgw.out" 2>&1 \
        || die "radosgw did not start"
    cp "$dir/run/client.rgw.$RGW_ID.pid" "$dir/pids/rgw.pid" 2>/dev/null || true

    cat >"$dir/env" <<EOF
# Written by tests/s3/ceph.sh start; source it.
export GFSB_S3_ENDPOINT=http://127.0.0.1:$rgw_port
export AWS_ACCESS_KEY_ID=$access_key
export AWS_SECRET_ACCESS_KEY=$secret_key
export AWS_REGION=default
export GFSB_CEPH_DIR=$dir
EOF
    # rclone remote "ceph": rclone --config "\$GFSB_CEPH_DIR/rclone.conf" ls ceph:bucket
    # (run rclone with AWS_CA_BUNDLE unset: with it set, every call fails)
    cat >"$dir/rclone.conf" <<EOF
[ceph]
type = s3
provider = Ceph
env_auth = false
access_key_id = $access_key
secret_access_key = $secret_key
region = default
endpoint = http://127.0.0.1:$rgw_port
force_path_style = true
acl = private
EOF
    chmod 600 "$dir/env" "$dir/rclone.conf"

    # Poll an authenticated ListBuckets until it answers 200.
    load_env "$dir"
    local code=000 ok=0
    deadline=$(( $(date +%s) + timeout_s ))
    while (( $(date +%s) < deadline )); do
        code=$(s3curl GET / -o /dev/null -w '%{http_code}' --max-time 3 2>/dev/null || true)
        if [[ "$code" == 200 ]]; then ok=1; break; fi
        daemon_alive "$dir" radosgw || die "radosgw exited during start-up"
        sleep 0.1
    done
    ((ok)) || die "S3 at $GFSB_S3_ENDPOINT did not answer an authenticated ListBuckets with 200 within ${timeout_s}s (last HTTP code: $code)"
    [[ -f "$dir/pids/rgw.pid" ]] || cp "$dir/run/client.rgw.$RGW_ID.pid" "$dir/pids/rgw.pid" 2>/dev/null || true

    START_OK=1
    trap - EXIT INT TERM
    local ms=$(( $(now_ms) - t0 ))
    printf '%s: ceph (%s) up in %d.%03ds: %s (env: %s/env)\n' "$PROG" "$store" \
        $((ms / 1000)) $((ms % 1000)) "$GFSB_S3_ENDPOINT" "$dir"
}

# ------------------------------------------------------------------- stop --

cmd_stop() {
    local dir=$1
    if [[ ! -e "$dir" ]]; then
        log "$dir does not exist; nothing to stop"
        return 0
    fi
    dir=$(cd "$dir" && pwd -P)
    [[ -f "$dir/$MARKER" ]] || die "$dir was not made by '$PROG start' (no $MARKER); not touching it"
    local rc=0
    stop_daemons "$dir" || rc=1
    if ((rc)); then
        die "some daemons could not be stopped; $dir kept"
    fi
    rm -rf -- "$dir"
}

# --------------------------------------------------------------- mkbucket --

cmd_mkbucket() {
    local dir=$1 name=$2 lock=0
    shift 2
    while (($#)); do
        case "$1" in
            --object-lock) lock=1 ;;
            *) die "mkbucket: unknown option $1" ;;
        esac
        shift
    done
    [[ "$name" =~ ^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$ ]] || die "invalid bucket name: $name"
    load_env "$dir"
    local extra=() out code
    ((lock)) && extra=(-H "x-amz-bucket-object-lock-enabled: true")
    out=$(mktemp "$GFSB_CEPH_DIR/tmp/mkbucket.XXXXXX")
    code=$(s3curl PUT "/$name" "${extra[@]}" -H 'Content-Length: 0' \
        -o "$out" -w '%{http_code}' || true)
    if [[ "$code" != 200 ]]; then
        log "CreateBucket $name failed: HTTP $code"
        cat "$out" >&2 || true; echo >&2
        rm -f "$out"
        exit 1
    fi
    rm -f "$out"
    echo "$PROG: bucket $name created$( ((lock)) && echo ' (object lock enabled)')"
}

# ------------------------------------------------- users, policy, lifecycle --

cmd_mkuser() {
    local dir=$1 uid=$2 ak=$3 sk=$4
    [[ "$uid" =~ ^[a-z0-9][a-z0-9_-]{0,62}$ ]] || die "invalid user id: $uid"
    [[ "$ak" =~ ^[A-Z0-9]{16,128}$ ]] || die "mkuser: ACCESS must be 16 to 128 uppercase letters or digits"
    [[ "$sk" =~ ^[A-Za-z0-9+/]{20,128}$ ]] || die "mkuser: SECRET must be 20 to 128 letters, digits, + or /"
    load_env "$dir"
    timeout 60 radosgw-admin -c "$GFSB_CEPH_DIR/ceph.conf" user create --uid="$uid" \
        --display-name="$uid" --access-key="$ak" --secret-key="$sk" \
        >"$GFSB_CEPH_DIR/log/user-create-$uid.out" 2>&1 || {
        tail -n 5 "$GFSB_CEPH_DIR/log/user-create-$uid.out" >&2
        die "radosgw-admin user create $uid failed"
    }
    echo "$PROG: user $uid created (principal arn:aws:iam:::user/$uid)"
}

# PUT /BUCKET?SUB= with FILE as the body, as the owner: signed over the
# body's SHA-256, with its Content-MD5 (RGW requires one for ?lifecycle=).
put_sub() {
    local dir=$1 bucket=$2 sub=$3 file=$4 what=$5 out code
    [[ "$bucket" =~ ^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$ ]] || die "invalid bucket name: $bucket"
    [[ -f "$file" && -r "$file" ]] || die "$what: cannot read $file"
    load_env "$dir"
    out=$(mktemp "$GFSB_CEPH_DIR/tmp/$sub.XXXXXX")
    code=$(curl -sS --noproxy "*" --max-time 10 -X PUT \
        --aws-sigv4 "aws:amz:${AWS_REGION}:s3" \
        --user "${AWS_ACCESS_KEY_ID}:${AWS_SECRET_ACCESS_KEY}" \
        -H "x-amz-content-sha256: $(sha256sum <"$file" | cut -c1-64)" \
        -H "Content-MD5: $(openssl md5 -binary <"$file" | base64)" \
        --data-binary @"$file" -o "$out" -w '%{http_code}' \
        "${GFSB_S3_ENDPOINT}/${bucket}?${sub}=" || true)
    if [[ "$code" != 2?? ]]; then
        log "$what $bucket failed: HTTP $code"
        cat "$out" >&2 || true; echo >&2
        rm -f "$out"
        exit 1
    fi
    rm -f "$out"
}

cmd_setpolicy() {
    local dir=$1 bucket=$2 file=$3
    put_sub "$dir" "$bucket" policy "$file" PutBucketPolicy
    echo "$PROG: policy of $bucket set from $file"
}

# The JSON of `aws s3api put-bucket-lifecycle-configuration` as S3's XML:
# objects become elements in their order, each of Rules a Rule, true and
# false stay words.
lifecycle_xml() {
    "$PY" - "$1" <<'EOF'
import json, sys
from xml.sax.saxutils import escape
def el(name, v):
    if isinstance(v, dict):
        return "<%s>%s</%s>" % (name, "".join(el(k, x) for k, x in v.items()), name)
    if isinstance(v, bool):
        v = "true" if v else "false"
    return "<%s>%s</%s>" % (name, escape(str(v)), name)
doc = json.load(open(sys.argv[1]))
rules = doc.get("Rules") if isinstance(doc, dict) else None
if not isinstance(rules, list) or not rules or not all(isinstance(r, dict) for r in rules):
    sys.exit("no list of Rules in " + sys.argv[1])
sys.stdout.write('<LifecycleConfiguration xmlns="http://s3.amazonaws.com/doc/2006-03-01/">'
                 + "".join(el("Rule", r) for r in rules) + "</LifecycleConfiguration>")
EOF
}

cmd_setlifecycle() {
    local dir=$1 bucket=$2 file=$3 first xml
    [[ -f "$file" && -r "$file" ]] || die "setlifecycle: cannot read $file"
    first=$(tr -d ' \t\r\n' <"$file" | head -c 1)
    if [[ "$first" == "{" ]]; then
        load_env "$dir"
        xml=$(mktemp "$GFSB_CEPH_DIR/tmp/lifecycle.XXXXXX")
        lifecycle_xml "$file" >"$xml" || {
            rm -f "$xml"
            die "setlifecycle: $file is not a lifecycle configuration"
        }
        put_sub "$dir" "$bucket" lifecycle "$xml" PutBucketLifecycleConfiguration
        rm -f "$xml"
    else
        put_sub "$dir" "$bucket" lifecycle "$file" PutBucketLifecycleConfiguration
    fi
    echo "$PROG: lifecycle of $bucket set from $file"
}

# ------------------------------------------------------------------- main --

(($# >= 2)) || usage
case "$1" in
    start) (($# == 2)) || usage; cmd_start "$2" ;;
    stop) (($# == 2)) || usage; cmd_stop "$2" ;;
    mkbucket) (($# >= 3)) || usage; cmd_mkbucket "$2" "$3" "${@:4}" ;;
    mkuser) (($# == 5)) || usage; cmd_mkuser "$2" "$3" "$4" "$5" ;;
    setpolicy) (($# == 4)) || usage; cmd_setpolicy "$2" "$3" "$4" ;;
    setlifecycle) (($# == 4)) || usage; cmd_setlifecycle "$2" "$3" "$4" ;;
    *) usage ;;
esac
