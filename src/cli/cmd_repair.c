/*
 * gfsbackup repair index: rebuild the index from the packs.
 */
#include <stdio.h>
#include <string.h>

#include <gfsbackup/ops.h>
#include <gfsbackup/repo.h>

#include "cli.h"

static void
print_result(struct cli *c, const struct gfsb_index_repair_stats *st,
    int dry_run)
{
	/* The repair is done: a line lost for memory is said, not fatal. */
	if (gfsb_ops_repair_lines(st, dry_run, cli_put_line, c) != GFSB_OK)
		cli_fail(c, GFSB_ENOMEM);
}

int
cmd_repair(struct cli *c, int argc, char **argv)
{
	struct gfsb_index_repair_opts ro = { 0 };
	struct gfsb_index_repair_stats st;
	struct gfsb_lock *lock = NULL;
	gfsb_err e;
	int rc;
	const struct gfsb_opt opts[] = {
		GFSB_OPT_FLAG("read-data", 0, &ro.read_data),
		GFSB_OPT_FLAG("dry-run", 'n', &ro.dry_run),
		GFSB_OPT_END
	};

	if ((rc = cli_parse(c, argc, argv, opts, GFSB_OPT_ANY_ARGS)) != EXIT_OK)
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
	print_result(c, &st, ro.dry_run);
	return EXIT_OK;
}
