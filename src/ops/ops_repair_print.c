/*
 * An index repair (gfsb_repo_index_repair) told to a person: the lines
 * gfsbackup repair index prints.
 */
#include <stdio.h>

#include <gfsbackup/ops.h>
#include <gfsbackup/repo.h>

#include "ops_line.h"

/* "s" for a count other than one. */
static const char *
plural(uint64_t n)
{
	return n == 1 ? "" : "s";
}

gfsb_err
gfsb_ops_repair_lines(const struct gfsb_index_repair_stats *st, int dry_run,
    gfsb_ops_line_fn *fn, void *cookie)
{
	struct ops_lines o;

	ops_line_init(&o, fn, cookie);
	ops_line_put(&o, "%s %llu of %llu packs: %llu blobs (the index named "
	    "%llu)", dry_run ? "the index would name" : "index rebuilt from",
	    (unsigned long long)st->packs_indexed,
	    (unsigned long long)st->packs, (unsigned long long)st->blobs,
	    (unsigned long long)st->blobs_before);
	ops_line_put(&o, "%llu damaged index file%s of %llu, %llu pack%s "
	    "taken in, %llu missing, %llu unreadable, %llu damaged blob%s left "
	    "out", (unsigned long long)st->index_damaged,
	    plural(st->index_damaged), (unsigned long long)st->index_files,
	    (unsigned long long)st->packs_adopted, plural(st->packs_adopted),
	    (unsigned long long)st->packs_missing,
	    (unsigned long long)st->packs_unreadable,
	    (unsigned long long)st->blobs_damaged, plural(st->blobs_damaged));
	if (st->packs_salvaged > 0)
		ops_line_put(&o, "%llu pack%s with damaged blobs: the intact "
		    "ones %s", (unsigned long long)st->packs_salvaged,
		    plural(st->packs_salvaged), dry_run ? "would be copied "
		    "into new packs" : "were copied into new packs");
	if (dry_run)
		ops_line_put(&o, "dry run: nothing was changed");
	else
		ops_line_put(&o, "wrote %llu index file%s, removed %llu; wrote "
		    "%llu pack%s, deleted %llu damaged",
		    (unsigned long long)st->index_files_written,
		    plural(st->index_files_written),
		    (unsigned long long)st->index_files_removed,
		    (unsigned long long)st->packs_written,
		    plural(st->packs_written),
		    (unsigned long long)st->packs_deleted);
	return ops_line_fini(&o);
}
