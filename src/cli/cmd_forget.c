/*
 * gfsbackup forget: apply a GFS retention policy, explaining every
 * decision, then (with --prune) reclaim the space.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <gfsbackup/gfs.h>
#include <gfsbackup/ops.h>
#include <gfsbackup/repo.h>

#include "cli.h"

/* What the command line asks. */
struct forget_args {
	struct gfsb_forget_opts fo;
	struct gfsb_prune_opts po;	/* --prune's */
	struct gfsb_policy *flags;	/* the --keep-* rules */
	const char *policy;		/* --policy FILE */
	int json, prune;
};

static const struct gfsb_opt_enum groups[] = {
	{ "host", GFSB_GROUP_HOST }, { "paths", GFSB_GROUP_PATHS },
	{ "tags", GFSB_GROUP_TAGS }, { NULL, 0 }
};

/* The options into a (whose rules a->flags already exist). */
static int
parse(struct cli *c, int argc, char **argv, struct forget_args *a)
{
	/* --keep-*: a rule, in the words a policy file would use. */
	gfsb_opt_fn *const rule = gfsb_ops_opt_keep;
	const struct gfsb_opt opts[] = {
		GFSB_OPT_STRING("policy", 0, &a->policy),
		GFSB_OPT_CALLBACK("keep-last", 'l', a->flags, rule),
		GFSB_OPT_CALLBACK("keep-hourly", 'H', a->flags, rule),
		GFSB_OPT_CALLBACK("keep-daily", 'd', a->flags, rule),
		GFSB_OPT_CALLBACK("keep-weekly", 'w', a->flags, rule),
		GFSB_OPT_CALLBACK("keep-monthly", 'm', a->flags, rule),
		GFSB_OPT_CALLBACK("keep-yearly", 'y', a->flags, rule),
		GFSB_OPT_CALLBACK("keep-within", 0, a->flags, rule),
		GFSB_OPT_CALLBACK("keep-within-hourly", 0, a->flags, rule),
		GFSB_OPT_CALLBACK("keep-within-daily", 0, a->flags, rule),
		GFSB_OPT_CALLBACK("keep-within-weekly", 0, a->flags, rule),
		GFSB_OPT_CALLBACK("keep-within-monthly", 0, a->flags, rule),
		GFSB_OPT_CALLBACK("keep-within-yearly", 0, a->flags, rule),
		GFSB_OPT_CALLBACK("keep-tag", 0, a->flags, rule),
		GFSB_OPT_SET_OF("group-by", 'g', &a->fo.group_by, groups),
		GFSB_OPT_STRING("host", 0, &a->fo.host),
		GFSB_OPT_FLAG("dry-run", 'n', &a->fo.dry_run),
		GFSB_OPT_FLAG("json", 0, &a->json),
		GFSB_OPT_FLAG("prune", 0, &a->prune),
		GFSB_OPT_PERCENT("max-unused", 0, &a->po.max_unused, NULL),
		GFSB_OPT_DURATION("grace", 0, &a->po.grace, 0,
		    ": give e.g. 1d, 12h, 0"),
		GFSB_OPT_END
	};

	return cli_parse(c, argc, argv, opts, GFSB_OPT_ANY_ARGS);
}

/* forget ID...: the named snapshots, then (po) a prune. */
static int
forget_ids(struct cli *c, const char *const *ids, size_t n, int dry_run,
    struct gfsb_prune_opts *po)
{
	struct gfsb_forget_ids_result res;
	struct gfsb_prune_result pres;
	gfsb_err e;
	int rc;

	if ((rc = cli_open_repo(c)) != EXIT_OK)
		return rc;
	if ((e = gfsb_ops_forget_ids(c->r, ids, n, dry_run, &res)) !=
	    GFSB_OK) {
		gfsb_ops_forget_ids_fini(&res);
		return cli_fail(c, e);
	}
	if (gfsb_ops_forget_ids_told(&res, dry_run, c->quiet, cli_put_line,
	    c) != GFSB_OK)
		rc = cli_fail(c, GFSB_ENOMEM);
	if (rc == EXIT_OK && po != NULL && !dry_run && res.removed > 0) {
		if ((e = gfsb_ops_prune(c->r, po, &pres)) != GFSB_OK)
			rc = cli_fail(c, e);
		else if (!c->quiet)
			cli_print_prune(c, &pres, po->max_unused, 0);
	}
	gfsb_ops_forget_ids_fini(&res);
	return rc;
}

int
cmd_forget(struct cli *c, int argc, char **argv)
{
	struct forget_args a = { 0 };
	struct gfsb_policy *file = NULL, *p;
	struct gfsb_forget_result res;
	struct gfsb_prune_result pres;
	int rc = EXIT_OK;
	gfsb_err e;

	memset(&res, 0, sizeof(res));
	a.fo.group_by = GFSB_GROUP_HOST | GFSB_GROUP_PATHS;
	a.po.max_unused = 0.05;
	if (gfsb_gfs_policy_new(&a.flags) != GFSB_OK)
		return cli_fail(c, GFSB_ENOMEM);
	if ((rc = parse(c, argc, argv, &a)) != EXIT_OK)
		goto out;
	if (gfsb_ops_forget_check(c->ctx, (size_t)(argc - optind), a.policy,
	    a.flags, a.json, a.fo.host) != GFSB_OK) {
		rc = cli_usage_error(c, "%s", gfsb_ctx_errmsg(c->ctx));
		goto out;
	}
	if (optind != argc) {
		rc = forget_ids(c, (const char *const *)argv + optind,
		    (size_t)(argc - optind), a.fo.dry_run, a.prune ? &a.po :
		    NULL);
		goto out;
	}
	/* Read the policy before anything else: its errors come first. */
	if (a.policy != NULL && (e = gfsb_gfs_policy_load(c->ctx, a.policy,
	    &file)) != GFSB_OK) {
		rc = cli_config_fail(c, e);
		goto out;
	}
	p = file != NULL ? file : a.flags;
	if ((rc = cli_open_repo(c)) != EXIT_OK)
		goto out;
	a.fo.policy = p;
	if ((e = gfsb_ops_forget(c->r, &a.fo, &res)) != GFSB_OK) {
		rc = cli_fail(c, e);
		goto out;
	}
	if (gfsb_ops_forget_told(&res, p, a.fo.dry_run, a.json, cli_put_line,
	    c) != GFSB_OK) {
		rc = cli_fail(c, GFSB_ENOMEM);
		goto out;
	}
	if (a.prune && !a.fo.dry_run && res.removed > 0) {
		if ((e = gfsb_ops_prune(c->r, &a.po, &pres)) != GFSB_OK) {
			rc = cli_fail(c, e);
			goto out;
		}
		if (!a.json)
			cli_print_prune(c, &pres, a.po.max_unused, 0);
	}
out:
	gfsb_ops_forget_fini(&res);
	gfsb_gfs_policy_free(a.flags);
	gfsb_gfs_policy_free(file);
	return rc;
}
