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

#define STR(x) #x
#define XSTR(x) STR(x)

static const char usage[] =
"usage: gfsbackup policy show FILE [--days N] [--end 'YYYY-MM-DD HH:MM:SS']\n"
"       gfsbackup policy bucket s3://BUCKET/PREFIX --server ARN\n"
"                [--verifier ARN] [--noncurrent-days N] [--json-only]\n"
"\n"
"show: simulate N days (default: enough to fill every rule) of one backup\n"
"a day, forgetting after each as the daily job does, and show which\n"
"snapshots the policy holds at the end, by role, with their ages, and the\n"
"most it ever holds.  No repository is used.\n"
"\n"
"bucket: print the bucket policy (JSON, on standard output) that lets the\n"
"server's user or role (--server, e.g. arn:aws:iam::123456789012:user/NAME;\n"
"on Ceph arn:aws:iam:::user/UID) do only what gfsbackup needs under the\n"
"prefix and nothing that could shorten or remove the bucket's history,\n"
"and gives a verifier (--verifier) read-only access.  Then, on standard\n"
"error unless --json-only, the lifecycle rule (replaced versions expire\n"
"after N days, default " XSTR(GFSB_BUCKET_NONCURRENT_DAYS)
") and the owner's commands for AWS\n"
"and Ceph RGW.  Nothing is sent: apply it as the bucket's owner\n"
"(docs/OFFSITE-SECURITY.md).\n";

enum { O_DAYS = OPT_CMD_BASE, O_END, O_SERVER, O_VERIFIER, O_JSON_ONLY,
	O_NONCURRENT };

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
	static const struct option opts[] = {
		CLI_GLOBAL_OPTIONS,
		{ "days", required_argument, NULL, O_DAYS },
		{ "end", required_argument, NULL, O_END },
		{ "server", required_argument, NULL, O_SERVER },
		{ "verifier", required_argument, NULL, O_VERIFIER },
		{ "json-only", no_argument, NULL, O_JSON_ONLY },
		{ "noncurrent-days", required_argument, NULL, O_NONCURRENT },
		{ NULL, 0, NULL, 0 }
	};
	struct gfsb_bucket_policy_opts bo = { NULL, NULL, NULL, 0 };
	const char *show_opt = NULL, *bucket_opt = NULL;
	int json_only = 0;
	struct gfsb_time end;
	size_t days = 0;
	char *x;
	long v;
	int o;

	c->usage = usage;
	gfsb_time_now(&end);
	while ((o = cli_getopt(c, argc, argv, CLI_GLOBAL_SHORT, opts)) != -1) {
		switch (o) {
		case O_DAYS:
			v = strtol(optarg, &x, 10);
			if (*optarg == '\0' || *x != '\0' || v < 1 ||
			    v > 36600)
				return cli_usage_error(c, "invalid --days %s "
				    "(1 to 36600)", optarg);
			days = (size_t)v;
			show_opt = "--days";
			break;
		case O_END:
			if (gfsb_time_parse_local(optarg, &end) != GFSB_OK)
				return cli_usage_error(c, "invalid --end \"%s\"",
				    optarg);
			show_opt = "--end";
			break;
		case O_SERVER:
			bo.server = optarg;
			bucket_opt = "--server";
			break;
		case O_VERIFIER:
			bo.verifier = optarg;
			bucket_opt = "--verifier";
			break;
		case O_JSON_ONLY:
			json_only = 1;
			bucket_opt = "--json-only";
			break;
		case O_NONCURRENT:
			v = strtol(optarg, &x, 10);
			if (*optarg == '\0' || *x != '\0' || v < 1 ||
			    v > GFSB_BUCKET_NONCURRENT_DAYS_MAX)
				return cli_usage_error(c, "invalid "
				    "--noncurrent-days %s (1 to %d)", optarg,
				    GFSB_BUCKET_NONCURRENT_DAYS_MAX);
			bo.noncurrent_days = (unsigned)v;
			bucket_opt = "--noncurrent-days";
			break;
		default:
			return EXIT_USAGE;
		}
	}
	if (optind < argc && strcmp(argv[optind], "bucket") == 0) {
		if (show_opt != NULL)
			return cli_usage_error(c, "%s is for policy show",
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
		return cli_usage_error(c, "%s is for policy bucket",
		    bucket_opt);
	return show(c, argv[optind + 1], days, &end);
}
