/*
 * gfsbackup repair index: rebuild the index from the packs.
 */
#include <stdio.h>
#include <string.h>

#include <gfsbackup/repo.h>

#include "cli.h"

static const char usage[] =
"usage: gfsbackup repair index -r REPO [--read-data] [--dry-run]\n"
"\n"
"Rebuild the index from the packs' own headers: a damaged index file is\n"
"replaced, packs no index names are taken in, and blobs whose pack is\n"
"missing or damaged are left out, so that the next backup stores those\n"
"files again.  With --read-data every pack is read whole and only blobs\n"
"that authenticate and match their id are indexed (as long as verify\n"
"--read-data takes).  Takes the exclusive lock.  Afterwards, `gfsbackup\n"
"verify` names what the snapshots lost.\n"
"\n"
"  --read-data     check every blob, not only the pack headers\n"
"  -n, --dry-run   say what would change, change nothing\n";

static void
print_result(const struct gfsb_index_repair_stats *st, int dry_run)
{
	printf("%s %llu of %llu packs: %llu blobs (the index named %llu)\n",
	    dry_run ? "the index would name" : "index rebuilt from",
	    (unsigned long long)st->packs_indexed,
	    (unsigned long long)st->packs,
	    (unsigned long long)st->blobs,
	    (unsigned long long)st->blobs_before);
	printf("%llu damaged index file%s of %llu, %llu pack%s taken in, "
	    "%llu missing, %llu unreadable, %llu damaged blob%s left out\n",
	    (unsigned long long)st->index_damaged,
	    st->index_damaged == 1 ? "" : "s",
	    (unsigned long long)st->index_files,
	    (unsigned long long)st->packs_adopted,
	    st->packs_adopted == 1 ? "" : "s",
	    (unsigned long long)st->packs_missing,
	    (unsigned long long)st->packs_unreadable,
	    (unsigned long long)st->blobs_damaged,
	    st->blobs_damaged == 1 ? "" : "s");
	if (st->packs_salvaged > 0)
		printf("%llu pack%s with damaged blobs: the intact ones %s\n",
		    (unsigned long long)st->packs_salvaged,
		    st->packs_salvaged == 1 ? "" : "s", dry_run ?
		    "would be copied into new packs" : "were copied into new "
		    "packs");
	if (dry_run)
		printf("dry run: nothing was changed\n");
	else
		printf("wrote %llu index file%s, removed %llu; wrote %llu "
		    "pack%s, deleted %llu damaged\n",
		    (unsigned long long)st->index_files_written,
		    st->index_files_written == 1 ? "" : "s",
		    (unsigned long long)st->index_files_removed,
		    (unsigned long long)st->packs_written,
		    st->packs_written == 1 ? "" : "s",
		    (unsigned long long)st->packs_deleted);
}

int
cmd_repair(struct cli *c, int argc, char **argv)
{
	struct gfsb_index_repair_opts ro = { 0 };
	struct gfsb_index_repair_stats st;
	struct gfsb_lock *lock = NULL;
	gfsb_err e;
	int rc;
	const struct cli_opt opts[] = {
		CLI_OPT_FLAG("read-data", 0, &ro.read_data),
		CLI_OPT_FLAG("dry-run", 'n', &ro.dry_run),
		CLI_OPT_END
	};

	if ((rc = cli_parse(c, argc, argv, usage, opts, CLI_ANY)) != EXIT_OK)
		return rc;
	if (optind == argc)
		return cli_usage_error(c, "give what to repair: index");
	if (strcmp(argv[optind], "index") != 0)
		return cli_usage_error(c, "unknown repair command %s",
		    argv[optind]);
	if (argc - optind > 1)
		return cli_usage_error(c, "unexpected argument %s",
		    argv[optind + 1]);
	if ((rc = cli_open_repo(c)) != EXIT_OK)
		return rc;
	/* A dry run changes nothing, but a backup writing meanwhile would
	 * make its counts wrong: it shares the lock. */
	if ((e = gfsb_repo_lock(c->r, !ro.dry_run, &lock)) != GFSB_OK)
		return cli_fail(c, e);
	e = gfsb_repo_index_repair(c->r, &ro, &st);
	gfsb_repo_unlock(lock);
	if (e != GFSB_OK)
		return cli_fail(c, e);
	print_result(&st, ro.dry_run);
	return EXIT_OK;
}
