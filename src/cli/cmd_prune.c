/*
 * gfsbackup prune: reclaim the space of data no snapshot uses.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <gfsbackup/ops.h>
#include <gfsbackup/repo.h>

#include "cli.h"

static const char usage[] =
"usage: gfsbackup prune -r REPO [--max-unused PCT] [--dry-run]\n"
"\n"
"Delete the data that no remaining snapshot uses: packs holding only such\n"
"data are deleted, packs where it is more than PCT (default 5%) of their\n"
"size are rewritten without it.  Every blob that is kept is checked before\n"
"it is copied.  Takes the exclusive lock.  A prune that is interrupted at\n"
"any moment leaves every snapshot restorable; run it again to finish.\n"
"\n"
"  --max-unused PCT   unused share a pack may keep (e.g. 5%, 0%, 20%)\n"
"  -n, --dry-run      say what would be done, change nothing\n";

void
cli_print_prune(struct cli *c, const struct gfsb_prune_result *res,
    double max_unused, int dry_run)
{
	const struct gfsb_compact_stats *st = &res->st;
	char freed[32], unused[32], left[32], copied[32];

	(void)c;
	gfsb_size_format(st->unused_bytes, unused, sizeof(unused));
	gfsb_size_format(st->bytes_freed, freed, sizeof(freed));
	gfsb_size_format(st->unused_bytes_after, left, sizeof(left));
	gfsb_size_format(dry_run ? st->bytes_repacked : st->bytes_copied,
	    copied, sizeof(copied));
	printf("%zu snapshots use %llu of %llu blobs; %llu unused (%s)\n",
	    res->snapshots,
	    (unsigned long long)(st->blobs - st->blobs_unused),
	    (unsigned long long)st->blobs,
	    (unsigned long long)st->blobs_unused, unused);
	printf("%s %llu of %llu packs with nothing used, repack%s %llu "
	    "(%s of used data copied%s), delete%s %llu unindexed\n",
	    dry_run ? "would delete" : "deleted",
	    (unsigned long long)st->packs_deleted,
	    (unsigned long long)st->packs,
	    dry_run ? "" : "ed", (unsigned long long)st->packs_repacked,
	    copied, dry_run ? "" : " into new packs", dry_run ? "" : "d",
	    (unsigned long long)st->unindexed_deleted);
	printf("%s %s; %s unused left in kept packs (under %.3g%% each) in "
	    "%.1f s%s\n", dry_run ? "would free about" : "freed", freed,
	    left, max_unused * 100, res->seconds,
	    dry_run ? " (dry run: nothing was changed)" : "");
	if (res->leftovers > 0)
		printf("removed %llu leftovers of interrupted writes "
		    "(temporary files, unfinished uploads)\n",
		    (unsigned long long)res->leftovers);
	if (st->waiting > 0)
		cli_print_waiting("objects", st->waiting, st->waiting_until);
}

void
cli_print_waiting(const char *what, uint64_t n, int64_t until)
{
	struct gfsb_time t;
	char when[64];

	if (until == 0) {
		printf("%llu %s the storage would not delete yet; a later run "
		    "deletes them\n", (unsigned long long)n, what);
		return;
	}
	t.sec = until;
	t.nsec = 0;
	gfsb_time_format_local(&t, when, sizeof(when));
	printf("%llu %s wait on their Object Lock, until %s at the latest; "
	    "a later run deletes them\n", (unsigned long long)n, what, when);
}

int
cmd_prune(struct cli *c, int argc, char **argv)
{
	struct gfsb_prune_opts po = { .max_unused = 0.05 };
	struct gfsb_prune_result res;
	gfsb_err e;
	int rc;
	const struct cli_opt opts[] = {
		CLI_OPT_PERCENT("max-unused", 0, &po.max_unused,
		    ": give a percentage like 5%"),
		CLI_OPT_FLAG("dry-run", 'n', &po.dry_run),
		CLI_OPT_END
	};

	if ((rc = cli_parse(c, argc, argv, usage, opts, 0)) != EXIT_OK ||
	    (rc = cli_open_repo(c)) != EXIT_OK)
		return rc;
	if ((e = gfsb_ops_prune(c->r, &po, &res)) != GFSB_OK)
		return cli_fail(c, e);
	cli_print_prune(c, &res, po.max_unused, po.dry_run);
	return EXIT_OK;
}
