/*
 * gfsbackup snapshots: list snapshots as a table or restic-shaped JSON.
 */
#include <stdio.h>
#include <stdlib.h>

#include <gfsbackup/ops.h>
#include <gfsbackup/repo.h>

#include "cli.h"

int
cmd_snapshots(struct cli *c, int argc, char **argv)
{
	struct gfsb_snapshot **list = NULL;
	const char *host = NULL, *tag = NULL, *path = NULL;
	size_t n = 0;
	char *json;
	int want_json = 0, rc = EXIT_OK;
	gfsb_err e;
	const struct gfsb_opt opts[] = {
		GFSB_OPT_FLAG("json", 0, &want_json),
		GFSB_OPT_STRING("host", 0, &host),
		GFSB_OPT_STRING("tag", 0, &tag),
		GFSB_OPT_STRING("path", 0, &path),
		GFSB_OPT_END
	};

	if ((rc = cli_parse(c, argc, argv, opts, 0)) != EXIT_OK ||
	    (rc = cli_open_repo(c)) != EXIT_OK)
		return rc;
	if ((e = gfsb_ops_snapshots_list(c->r, &list, &n)) != GFSB_OK)
		return cli_fail(c, e);
	if (gfsb_repo_write_only(c->r))
		cli_msg(c, "%s: snapshots: a write-only key lists its own, "
		    "from its cache on this machine", c->prog);
	gfsb_ops_snapshots_filter(list, &n, host, tag, path);
	if (want_json) {
		if ((json = gfsb_repo_snapshot_json(list, n)) == NULL) {
			rc = cli_fail(c, GFSB_ENOMEM);
			goto out;
		}
		printf("%s\n", json);
		free(json);
		goto out;
	}
	if (gfsb_ops_snapshots_lines(list, n, cli_put_line, c) != GFSB_OK)
		rc = cli_fail(c, GFSB_ENOMEM);
out:
	gfsb_repo_snapshot_list_free(list, n);
	return rc;
}
