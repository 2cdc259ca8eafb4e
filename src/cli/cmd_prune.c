/*
 * gfsbackup prune: reclaim the space of data no snapshot uses.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <gfsbackup/ops.h>
#include <gfsbackup/repo.h>

#include "cli.h"

void
cli_print_prune(struct cli *c, const struct gfsb_prune_result *res,
    double max_unused, int dry_run)
{
	/* The prune is done: a line lost for memory is said, not fatal. */
	if (gfsb_ops_prune_lines(res, max_unused, dry_run, cli_put_line, c) !=
	    GFSB_OK)
		cli_fail(c, GFSB_ENOMEM);
}

int
cmd_prune(struct cli *c, int argc, char **argv)
{
	struct gfsb_prune_opts po = { .max_unused = 0.05 };
	struct gfsb_prune_result res;
	gfsb_err e;
	int rc;
	const struct gfsb_opt opts[] = {
		GFSB_OPT_PERCENT("max-unused", 0, &po.max_unused,
		    ": give a percentage like 5%"),
		GFSB_OPT_FLAG("dry-run", 'n', &po.dry_run),
		GFSB_OPT_DURATION("grace", 0, &po.grace, 0,
		    ": give e.g. 1d, 12h, 0"),
		GFSB_OPT_END
	};

	if ((rc = cli_parse(c, argc, argv, opts, 0)) != EXIT_OK ||
	    (rc = cli_open_repo(c)) != EXIT_OK)
		return rc;
	if ((e = gfsb_ops_prune(c->r, &po, &res)) != GFSB_OK)
		return cli_fail(c, e);
	cli_print_prune(c, &res, po.max_unused, po.dry_run);
	return EXIT_OK;
}
