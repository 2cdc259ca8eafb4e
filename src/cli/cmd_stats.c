/*
 * gfsbackup stats: what snapshots hold and what they cost.
 */
#include <stdio.h>
#include <stdlib.h>

#include <gfsbackup/ops.h>

#include "cli.h"

int
cmd_stats(struct cli *c, int argc, char **argv)
{
	struct gfsb_stats st;
	int json = 0, rc;
	char *out;
	gfsb_err e;
	const struct gfsb_opt opts[] = {
		GFSB_OPT_FLAG("json", 0, &json),
		GFSB_OPT_END
	};

	if ((rc = cli_parse(c, argc, argv, opts, GFSB_OPT_ANY_ARGS)) != EXIT_OK)
		return rc;
	if ((rc = cli_open_repo(c)) != EXIT_OK)
		return rc;
	if ((e = gfsb_ops_stats(c->r, (const char *const *)argv + optind,
	    (size_t)(argc - optind), &st)) != GFSB_OK)
		return cli_fail(c, e);
	if (!json)
		e = gfsb_ops_stats_lines(&st, cli_put_line, c);
	else if ((out = gfsb_ops_stats_json(&st)) == NULL)
		e = GFSB_ENOMEM;
	else {
		printf("%s\n", out);
		free(out);
	}
	return e == GFSB_OK ? EXIT_OK : cli_fail(c, e);
}
