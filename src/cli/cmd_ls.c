/*
 * gfsbackup ls: list the files in a snapshot.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <gfsbackup/ops.h>
#include <gfsbackup/repo.h>

#include "cli.h"

static void
put_entry(void *cookie, enum gfsb_ops_line kind, const char *line)
{
	/* ls's lines are results alone: standard output. */
	(void)cookie;
	(void)kind;
	printf("%s\n", line);
}

struct lsarg {
	int lng, json;
};

static gfsb_err
print_entry(void *cookie, const char *path, const struct gfsb_node *n)
{
	struct lsarg *a = cookie;
	char *json;

	if (!a->json)
		return gfsb_ops_ls_entry(path, n, a->lng, put_entry, NULL);
	if ((json = gfsb_ops_node_json(path, n)) == NULL)
		return GFSB_ENOMEM;
	printf("%s\n", json);
	free(json);
	return GFSB_OK;
}

static gfsb_err
json_head(struct cli *c, const char *spec, const char *host)
{
	struct gfsb_snapshot *s;
	char *line;
	gfsb_err e;

	if ((e = gfsb_repo_snapshot_find(c->r, spec, host, &s)) != GFSB_OK)
		return e;
	line = gfsb_ops_snapshot_json_line(s);
	gfsb_repo_snapshot_free(s);
	if (line == NULL)
		return GFSB_ENOMEM;
	printf("%s\n", line);
	free(line);
	return GFSB_OK;
}

int
cmd_ls(struct cli *c, int argc, char **argv)
{
	struct lsarg a = { 0 };
	const char *host = NULL;
	gfsb_err e;
	int rc;
	const struct gfsb_opt opts[] = {
		GFSB_OPT_FLAG("long", 'l', &a.lng),
		GFSB_OPT_FLAG("json", 0, &a.json),
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
	/* restic's --json starts with the snapshot. */
	if (a.json && (e = json_head(c, argv[optind], host)) != GFSB_OK)
		return cli_fail(c, e);
	e = gfsb_ops_ls(c->r, argv[optind], host,
	    argc - optind == 2 ? argv[optind + 1] : NULL, print_entry, &a,
	    NULL);
	if (e != GFSB_OK)
		return cli_fail(c, e);
	return EXIT_OK;
}
