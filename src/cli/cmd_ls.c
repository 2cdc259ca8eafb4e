/*
 * gfsbackup ls: list the files in a snapshot.
 */
#include <stdio.h>

#include <gfsbackup/ops.h>
#include <gfsbackup/repo.h>

#include "cli.h"

/* ls's lines are results alone: standard output. */
static void
put_entry(void *cookie, enum gfsb_ops_line kind, const char *line)
{
	(void)cookie;
	(void)kind;
	printf("%s\n", line);
}

int
cmd_ls(struct cli *c, int argc, char **argv)
{
	const char *host = NULL;
	int lng = 0, json = 0, rc;
	gfsb_err e;
	const struct gfsb_opt opts[] = {
		GFSB_OPT_FLAG("long", 'l', &lng),
		GFSB_OPT_FLAG("json", 0, &json),
		GFSB_OPT_STRING("host", 0, &host),
		GFSB_OPT_END
	};

	if ((rc = cli_parse(c, argc, argv, opts, 2)) != EXIT_OK)
		return rc;
	if (optind == argc)
		return cli_usage_error(c, "which snapshot? give an id or "
		    "\"latest\"");
	if ((rc = cli_open_repo(c)) != EXIT_OK)
		return rc;
	e = gfsb_ops_ls_lines(c->r, argv[optind], host,
	    argc - optind == 2 ? argv[optind + 1] : NULL, lng, json,
	    put_entry, NULL);
	if (e != GFSB_OK)
		return cli_fail(c, e);
	return EXIT_OK;
}
