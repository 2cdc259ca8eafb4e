/*
 * gfsbackup find: which snapshots hold a path.
 */
#include <stdio.h>
#include <stdlib.h>

#include <gfsbackup/ops.h>
#include <gfsbackup/repo.h>

#include "cli.h"

int
cmd_find(struct cli *c, int argc, char **argv)
{
	struct gfsb_find_opts fo = { 0 };
	struct gfsb_find_result res;
	struct gfsb_opt_list snaps = { 0 };
	int json = 0, rc;
	char *out;
	gfsb_err e;
	const struct gfsb_opt opts[] = {
		GFSB_OPT_FLAG("json", 0, &json),
		GFSB_OPT_LIST("snapshot", 's', &snaps),
		GFSB_OPT_STRING("host", 0, &fo.host),
		GFSB_OPT_END
	};

	if ((rc = cli_parse(c, argc, argv, opts, GFSB_OPT_ANY_ARGS)) != EXIT_OK)
		goto out;
	if (optind == argc) {
		rc = cli_usage_error(c, "nothing to find: give a pattern");
		goto out;
	}
	if ((rc = cli_open_repo(c)) != EXIT_OK)
		goto out;
	fo.patterns = (const char *const *)argv + optind;
	fo.npatterns = (size_t)(argc - optind);
	fo.snapshots = snaps.v;
	fo.nsnapshots = snaps.n;
	if (!json)
		e = gfsb_ops_find_lines(c->r, &fo, cli_put_line, c, &res);
	else if ((e = gfsb_ops_find_json(c->r, &fo, &out, &res)) ==
	    GFSB_OK) {
		printf("%s\n", out);
		free(out);
	}
	rc = e == GFSB_OK ? EXIT_OK : cli_fail(c, e);
out:
	free(snaps.v);
	return rc;
}
