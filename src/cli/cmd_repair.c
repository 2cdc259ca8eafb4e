/*
 * gfsbackup repair index: rebuild the index from the packs.
 */
#include <stdio.h>
#include <string.h>

#include <gfsbackup/ops.h>
#include <gfsbackup/repo.h>

#include "cli.h"

int
cmd_repair(struct cli *c, int argc, char **argv)
{
	struct gfsb_index_repair_opts ro = { 0 };
	struct gfsb_index_repair_stats st;
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
	if ((e = gfsb_ops_repair_index(c->r, &ro, &st)) != GFSB_OK)
		return cli_fail(c, e);
	/* The repair is done: a line lost for memory is said, not fatal. */
	if (gfsb_ops_repair_lines(&st, ro.dry_run, cli_put_line, c) != GFSB_OK)
		cli_fail(c, GFSB_ENOMEM);
	return EXIT_OK;
}
