/*
 * A prune told to a person: the lines gfsbackup prune prints, and the
 * line on deletions that wait on an Object Lock, which forget tells too.
 */
#include <stdio.h>

#include <gfsbackup/ops.h>
#include <gfsbackup/repo.h>

#include "ops_line.h"

void
gfsb_ops_prune_waiting_line(const char *what, uint64_t n, int64_t until,
    char *buf, size_t len)
{
	struct gfsb_time t;
	char when[64];

	if (until == 0) {
		snprintf(buf, len, "%llu %s the storage would not delete yet; "
		    "a later run deletes them", (unsigned long long)n, what);
		return;
	}
	t.sec = until;
	t.nsec = 0;
	gfsb_time_format_local(&t, when, sizeof(when));
	snprintf(buf, len, "%llu %s wait on their Object Lock, until %s at the "
	    "latest; a later run deletes them", (unsigned long long)n, what,
	    when);
}

gfsb_err
gfsb_ops_prune_lines(const struct gfsb_prune_result *res, double max_unused,
    int dry_run, gfsb_ops_line_fn *fn, void *cookie)
{
	const struct gfsb_compact_stats *st = &res->st;
	char freed[32], unused[32], left[32], copied[32], waiting[256];
	struct ops_lines o;

	ops_line_init(&o, fn, cookie);
	gfsb_size_format(st->unused_bytes, unused, sizeof(unused));
	gfsb_size_format(st->bytes_freed, freed, sizeof(freed));
	gfsb_size_format(st->unused_bytes_after, left, sizeof(left));
	gfsb_size_format(dry_run ? st->bytes_repacked : st->bytes_copied,
	    copied, sizeof(copied));
	ops_line_put(&o, "%zu snapshots use %llu of %llu blobs; %llu unused "
	    "(%s)", res->snapshots,
	    (unsigned long long)(st->blobs - st->blobs_unused),
	    (unsigned long long)st->blobs,
	    (unsigned long long)st->blobs_unused, unused);
	ops_line_put(&o, "%s %llu of %llu packs with nothing used, repack%s "
	    "%llu (%s of used data copied%s), delete%s %llu unindexed",
	    dry_run ? "would delete" : "deleted",
	    (unsigned long long)st->packs_deleted,
	    (unsigned long long)st->packs,
	    dry_run ? "" : "ed", (unsigned long long)st->packs_repacked,
	    copied, dry_run ? "" : " into new packs", dry_run ? "" : "d",
	    (unsigned long long)st->unindexed_deleted);
	ops_line_put(&o, "%s %s; %s unused left in kept packs (under %.3g%% "
	    "each) in %.1f s%s", dry_run ? "would free about" : "freed", freed,
	    left, max_unused * 100, res->seconds,
	    dry_run ? " (dry run: nothing was changed)" : "");
	if (res->leftovers > 0)
		ops_line_put(&o, "removed %llu leftovers of interrupted writes "
		    "(temporary files, unfinished uploads)",
		    (unsigned long long)res->leftovers);
	if (st->packs_recovered > 0)
		ops_line_put(&o, "%s %llu packs marked for deletion: snapshots "
		    "made since use them", dry_run ? "would keep" : "kept",
		    (unsigned long long)st->packs_recovered);
	if (st->packs_used_since > 0)
		ops_line_put(&o, "%llu packs marked for deletion are used by "
		    "backups saved meanwhile; the next prune keeps them",
		    (unsigned long long)st->packs_used_since);
	if (st->packs_deferred > 0) {
		gfsb_size_format(st->bytes_deferred, waiting, sizeof(waiting));
		ops_line_put(&o, "%llu packs (%s) marked for deletion wait for "
		    "%s; a later prune deletes them",
		    (unsigned long long)st->packs_deferred, waiting,
		    st->others_locked ? "other processes that began before "
		    "(backups, restores, mounts) to end" : "their grace period");
	}
	if (st->waiting > 0) {
		gfsb_ops_prune_waiting_line("objects", st->waiting,
		    st->waiting_until, waiting, sizeof(waiting));
		ops_line_put(&o, "%s", waiting);
	}
	return ops_line_fini(&o);
}
