#!/bin/bash
# A fleet in one bucket, on a real S3 server (Ceph's RADOS Gateway): the
# scenario of lib_fleet.sh (8 hosts, 20 nights, prunes meeting their
# backups and killed at random; every backup succeeds, every kept
# snapshot restores, verify is clean, cross-host dedup, the size).  h1's
# backup is kept running on the nights a prune must meet it by its upload
# limit.
. "$(dirname "$0")/lib.sh"
. "$HERE/lib_s3.sh"
. "$HERE/lib_fleet.sh"
s3_setup

B=gfsb-fleet
mkbucket "$B"
R=s3://$B/repo
HOLD=limit
init_repo "$R"

# The lock objects in the bucket (killed prunes leave theirs).
nlocks() { "${RCLONE[@]}" lsf "ceph:$B/repo/locks" | wc -l; }
repo_bytes() { s3_listing "$B/repo" | awk '{ s += $1 } END { print s }'; }

fleet_trees
fleet_nights
fleet_checks
echo ok
