/*
 * gfsbackup policy show: what a retention policy means, without any
 * repository: simulate daily backups and show what would be held.
 * gfsbackup policy bucket: the offsite bucket's policy, lifecycle rule and
 * set-up steps for its owner (gfsb_ops_bucket_policy).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <gfsbackup/gfs.h>
#include <gfsbackup/ops.h>

#include "cli.h"

/* policy bucket: the library writes it all; print it. */
static int
bucket(struct cli *c, const struct gfsb_bucket_policy_opts *o, int json_only)
{
	struct gfsb_bucket_policy bp;
	gfsb_err e;

	if ((e = gfsb_ops_bucket_policy(c->ctx, o, &bp)) != GFSB_OK) {
		if (e == GFSB_EINVAL)
			return cli_usage_error(c, "%s",
			    gfsb_ctx_errmsg(c->ctx));
		return cli_fail(c, e);
	}
	/* The JSON alone on stdout, so that `>policy.json` or a pipe gets
	 * exactly the policy; the explanations go to the terminal. */
	printf("%s\n", bp.policy);
	if (fflush(stdout) != 0 || ferror(stdout)) {
		gfsb_ops_bucket_policy_fini(&bp);
		cli_msg(c, "%s: policy: cannot write the policy", c->prog);
		return EXIT_FATAL;
	}
	if (!json_only)
		fputs(bp.guide, stderr);
	gfsb_ops_bucket_policy_fini(&bp);
	return EXIT_OK;
}

/* policy show: simulate the days, then print what is held, by role. */
static int
show(struct cli *c, const char *file, size_t days,
    const struct gfsb_time *end)
{
	struct gfsb_policy *p = NULL;
	gfsb_err e;
	int rc = EXIT_OK;

	if ((e = gfsb_gfs_policy_load(c->ctx, file, &p)) != GFSB_OK)
		return cli_config_fail(c, e);
	if ((e = gfsb_ops_policy_show(p, file, days, end, cli_put_line, c)) !=
	    GFSB_OK)
		rc = cli_fail(c, e);
	gfsb_gfs_policy_free(p);
	return rc;
}

int
cmd_policy(struct cli *c, int argc, char **argv)
{
	struct gfsb_bucket_policy_opts bo = { NULL, NULL, NULL, 0 };
	const char *show_opt = NULL, *bucket_opt = NULL;
	struct gfsb_time end;
	size_t days = 0;
	int json_only = 0, rc;
	/* Each option names itself in show_opt or bucket_opt, the
	 * subcommand it is for. */
	const struct gfsb_opt opts[] = {
		{ GFSB_OPT_(NUMBER, "days", 0, &days), .size = sizeof(days),
		  .min = 1, .max = 36600, .given = &show_opt },
		{ GFSB_OPT_(TIME, "end", 0, &end), .given = &show_opt },
		{ GFSB_OPT_(STRING, "server", 0, &bo.server),
		  .given = &bucket_opt },
		{ GFSB_OPT_(STRING, "verifier", 0, &bo.verifier),
		  .given = &bucket_opt },
		{ GFSB_OPT_(SET, "json-only", 0, &json_only), .min = 1,
		  .given = &bucket_opt },
		{ GFSB_OPT_(NUMBER, "noncurrent-days", 0, &bo.noncurrent_days),
		  .size = sizeof(bo.noncurrent_days), .min = 1,
		  .max = GFSB_BUCKET_NONCURRENT_DAYS_MAX,
		  .given = &bucket_opt },
		GFSB_OPT_END
	};

	gfsb_time_now(&end);
	if ((rc = cli_parse(c, argc, argv, opts, GFSB_OPT_ANY_ARGS)) != EXIT_OK)
		return rc;
	if (optind < argc && strcmp(argv[optind], "bucket") == 0) {
		if (show_opt != NULL)
			return cli_usage_error(c, "--%s is for policy show",
			    show_opt);
		if (argc - optind != 2)
			return cli_usage_error(c, "use: policy bucket "
			    "s3://BUCKET/PREFIX --server ARN");
		bo.url = argv[optind + 1];
		return bucket(c, &bo, json_only);
	}
	if (argc - optind != 2 || strcmp(argv[optind], "show") != 0)
		return cli_usage_error(c, "use: policy show FILE, or policy "
		    "bucket s3://BUCKET/PREFIX --server ARN");
	if (bucket_opt != NULL)
		return cli_usage_error(c, "--%s is for policy bucket",
		    bucket_opt);
	return show(c, argv[optind + 1], days, &end);
}
