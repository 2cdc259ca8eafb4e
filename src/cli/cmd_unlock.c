/*
 * gfsbackup unlock: remove stale locks (or all, with --remove-all).
 */
#include <stdio.h>

#include <gfsbackup/repo.h>

#include "cli.h"

int
cmd_unlock(struct cli *c, int argc, char **argv)
{
	size_t removed = 0;
	gfsb_err e;
	int all = 0, rc;
	const struct gfsb_opt opts[] = {
		GFSB_OPT_FLAG("remove-all", 0, &all),
		GFSB_OPT_END
	};

	if ((rc = cli_parse(c, argc, argv, opts, 0)) != EXIT_OK ||
	    (rc = cli_open_repo(c)) != EXIT_OK)
		return rc;
	if ((e = gfsb_repo_unlock_stale(c->r, all, &removed)) != GFSB_OK)
		return cli_fail(c, e);
	printf("removed %zu lock%s\n", removed, removed == 1 ? "" : "s");
	return EXIT_OK;
}
