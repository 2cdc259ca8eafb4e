#!/bin/bash
# Retention decisions match restic's (Debian's restic 0.14) on randomized
# histories: several hosts, bursts, gaps, DST days, year ends, tags, and
# many policies, compared on dry runs and, for four policies, on what a
# real forget leaves.  The only allowed difference is restic 0.14's lack of
# the "oldest" rule, and only for a group's oldest snapshot.  A longer
# campaign (other seeds: GFSB_XCHECK_SEEDS):
#   GFSB_XCHECK_SNAPSHOTS=400 GFSB_XCHECK_POLICIES=200 tests/e2e/08-...sh
. "$(dirname "$0")/lib.sh"

command -v restic >/dev/null || fail "restic is not installed (scripts/install-deps.sh)"
export TZ=Europe/Berlin
# Fixed seeds (printed): a failure replays with the same seed.
for seed in ${GFSB_XCHECK_SEEDS:-1 20261122}; do
	mkdir -p "$T/x$seed"
	$PY "$HERE/restic_xcheck.py" "$GFSB" "$T/x$seed" --seed "$seed" \
		--snapshots "${GFSB_XCHECK_SNAPSHOTS:-48}" \
		--policies "${GFSB_XCHECK_POLICIES:-30}" --hosts 4 ||
		fail "gfsbackup and restic disagree (seed $seed)"
	rm -rf "$T/x$seed"
done
echo "PASS"
