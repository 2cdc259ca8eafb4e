/*
 * gfsbackup tag: add, remove or set the tags of snapshots.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <gfsbackup/ops.h>

#include "cli.h"

int
cmd_tag(struct cli *c, int argc, char **argv)
{
	struct gfsb_opt_list add = { 0 }, rm = { 0 }, set = { 0 };
	struct gfsb_tag_opts to = { 0 };
	struct gfsb_tag_result res;
	const char *set_given = NULL;
	gfsb_err e;
	int rc;
	const struct gfsb_opt opts[] = {
		GFSB_OPT_TAG("add", 0, &add),
		GFSB_OPT_TAG("remove", 0, &rm),
		/* A tag, but '' alone sets no tags at all (.min). */
		{ GFSB_OPT_(TAG, "set", 0, &set), .label = "tag", .min = 1,
		  .given = &set_given },
		GFSB_OPT_STRING("host", 0, &to.host),
		GFSB_OPT_FLAG("dry-run", 'n', &to.dry_run),
		GFSB_OPT_END
	};

	memset(&res, 0, sizeof(res));
	if ((rc = cli_parse(c, argc, argv, opts, GFSB_OPT_ANY_ARGS)) != EXIT_OK)
		goto out;
	to.ids = (const char *const *)argv + optind;
	to.nids = (size_t)(argc - optind);
	to.add = add.v;
	to.nadd = add.n;
	to.remove = rm.v;
	to.nremove = rm.n;
	to.set = set.v;
	to.nset = set.n;
	to.has_set = set_given != NULL;
	if (gfsb_ops_tag_check(c->ctx, &to) != GFSB_OK) {
		rc = cli_usage_error(c, "%s", gfsb_ctx_errmsg(c->ctx));
		goto out;
	}
	if ((rc = cli_open_repo(c)) != EXIT_OK)
		goto out;
	if ((e = gfsb_ops_tag(c->r, &to, &res)) != GFSB_OK) {
		rc = cli_fail(c, e);
		goto out;
	}
	if (!c->quiet && gfsb_ops_tag_lines(&res, to.dry_run, cli_put_line,
	    c) != GFSB_OK)
		rc = cli_fail(c, GFSB_ENOMEM);
out:
	gfsb_ops_tag_fini(&res);
	free(add.v);
	free(rm.v);
	free(set.v);
	return rc;
}
