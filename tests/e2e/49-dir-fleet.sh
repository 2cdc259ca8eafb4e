#!/bin/bash
# A fleet in one directory: the scenario of lib_fleet.sh (8 hosts, 20
# nights, prunes meeting their backups and killed at random; every backup
# succeeds, every kept snapshot restores, verify is clean, cross-host
# dedup, the size) on a repository in a local directory, as a file server
# shares it.  h1's backup is kept running on the nights a prune must meet
# it by stopping it (SIGSTOP) once it holds its lock, until the prune or
# h2's daily job has ended: a local backup of 24 MiB ends too soon.
. "$(dirname "$0")/lib.sh"
. "$HERE/lib_fleet.sh"

R=$T/repo
HOLD=stop
init_repo "$R"

nlocks() { find "$R/locks" -type f ! -name '.tmp-*' | wc -l; }
repo_bytes() {
	find "$R" -type f ! -path "$R/locks/*" -printf '%s\n' |
		awk '{ s += $1 } END { print s }'
}

fleet_trees
fleet_nights
fleet_checks
echo PASS
