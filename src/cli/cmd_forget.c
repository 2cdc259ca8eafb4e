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

static const char usage[] =
"usage: gfsbackup forget -r REPO --policy FILE | --keep-daily N ...\n"
"                        [--dry-run] [--json] [--prune] [--group-by G]\n"
"       gfsbackup forget -r REPO ID... [--dry-run] [--prune]\n"
"\n"
"Apply a retention policy to each group of snapshots (same host and paths\n"
"by default) and remove the snapshots it does not keep.  Every snapshot is\n"
"listed with its role: son/daily, father/weekly, grandfather/monthly,\n"
"yearly, last, within, tag.  The rules are restic's (docs/RETENTION.md).\n"
"\n"
"  --policy FILE              rules from a policy file (see schedules/)\n"
"  -l, --keep-last N          the N newest snapshots\n"
"  -H, --keep-hourly N        the newest of each of the last N hours\n"
"  -d, --keep-daily N         ... days (sons)\n"
"  -w, --keep-weekly N        ... ISO weeks (fathers)\n"
"  -m, --keep-monthly N       ... months (grandfathers)\n"
"  -y, --keep-yearly N        ... years\n"
"  --keep-within D            all snapshots within D of the newest (1y6m,\n"
"                             14d, 36h); --keep-within-hourly/-daily/\n"
"                             -weekly/-monthly/-yearly D: the newest of\n"
"                             each period within D\n"
"  --keep-tag T[,T...]        snapshots with all these tags (repeatable)\n"
"  -g, --group-by G           host,paths,tags or a subset ('' = one group)\n"
"  --host HOST                only this host's snapshots\n"
"  -n, --dry-run              decide and show, remove nothing\n"
"  --json                     the decisions as JSON (restic's shape)\n"
"  --prune                    prune afterwards (--max-unused PCT)\n"
"\n"
"With IDs instead of rules, remove those snapshots (say, one taken by\n"
"mistake): every id (a unique prefix) is checked first, and one that\n"
"matches no snapshot, or several, removes nothing.\n";

enum {
	O_POLICY = OPT_CMD_BASE, O_WITHIN, O_WHOURLY, O_WDAILY, O_WWEEKLY,
	O_WMONTHLY, O_WYEARLY, O_TAG, O_HOST, O_JSON, O_PRUNE, O_MAXUNUSED
};

static const char *const flag_keys[] = {
	[O_WITHIN - O_WITHIN] = "keep-within",
	[O_WHOURLY - O_WITHIN] = "keep-within-hourly",
	[O_WDAILY - O_WITHIN] = "keep-within-daily",
	[O_WWEEKLY - O_WITHIN] = "keep-within-weekly",
	[O_WMONTHLY - O_WITHIN] = "keep-within-monthly",
	[O_WYEARLY - O_WITHIN] = "keep-within-yearly",
};

static int
parse_group_by(const char *s, unsigned *out)
{
	char *copy = strdup(s), *tok, *save = NULL;
	int ok = copy != NULL;

	*out = 0;
	for (tok = ok ? strtok_r(copy, ",", &save) : NULL; tok != NULL;
	    tok = strtok_r(NULL, ",", &save)) {
		if (strcmp(tok, "host") == 0)
			*out |= GFSB_GROUP_HOST;
		else if (strcmp(tok, "paths") == 0)
			*out |= GFSB_GROUP_PATHS;
		else if (strcmp(tok, "tags") == 0)
			*out |= GFSB_GROUP_TAGS;
		else
			ok = 0;
	}
	free(copy);
	return ok;
}

/* The named snapshots their Object Lock holds back (said even with -q). */
static void
print_waiting(const struct gfsb_forget_ids_result *res)
{
	char line[256];

	gfsb_ops_prune_waiting_line("snapshots", res->waiting,
	    res->waiting_until, line, sizeof(line));
	printf("%s\n", line);
}

static const struct option opts[] = {
	CLI_GLOBAL_OPTIONS,
	{ "policy", required_argument, NULL, O_POLICY },
	{ "keep-last", required_argument, NULL, 'l' },
	{ "keep-hourly", required_argument, NULL, 'H' },
	{ "keep-daily", required_argument, NULL, 'd' },
	{ "keep-weekly", required_argument, NULL, 'w' },
	{ "keep-monthly", required_argument, NULL, 'm' },
	{ "keep-yearly", required_argument, NULL, 'y' },
	{ "keep-within", required_argument, NULL, O_WITHIN },
	{ "keep-within-hourly", required_argument, NULL, O_WHOURLY },
	{ "keep-within-daily", required_argument, NULL, O_WDAILY },
	{ "keep-within-weekly", required_argument, NULL, O_WWEEKLY },
	{ "keep-within-monthly", required_argument, NULL, O_WMONTHLY },
	{ "keep-within-yearly", required_argument, NULL, O_WYEARLY },
	{ "keep-tag", required_argument, NULL, O_TAG },
	{ "group-by", required_argument, NULL, 'g' },
	{ "host", required_argument, NULL, O_HOST },
	{ "dry-run", no_argument, NULL, 'n' },
	{ "json", no_argument, NULL, O_JSON },
	{ "prune", no_argument, NULL, O_PRUNE },
	{ "max-unused", required_argument, NULL, O_MAXUNUSED },
	{ NULL, 0, NULL, 0 }
};

/* What the policy decided: JSON, or a table per group and the totals. */
static int
print_decisions(struct cli *c, const struct gfsb_forget_result *res,
    const struct gfsb_policy *p, int dry_run, int want_json)
{
	char *json;

	if (!want_json) {
		if (gfsb_ops_forget_lines(res, p, dry_run, cli_put_line, c) !=
		    GFSB_OK)
			return cli_fail(c, GFSB_ENOMEM);
		return EXIT_OK;
	}
	if ((json = gfsb_ops_forget_json(res)) == NULL)
		return cli_fail(c, GFSB_ENOMEM);
	printf("%s\n", json);
	free(json);
	return EXIT_OK;
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
	if (!c->quiet && gfsb_ops_forget_ids_lines(&res, dry_run, cli_put_line,
	    c) != GFSB_OK)
		rc = cli_fail(c, GFSB_ENOMEM);
	if (res.waiting > 0)
		print_waiting(&res);
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
	struct gfsb_policy *flags = NULL, *file = NULL, *p;
	struct gfsb_forget_opts fo;
	struct gfsb_forget_result res;
	struct gfsb_prune_opts po;
	struct gfsb_prune_result pres;
	const char *policy = NULL, *key;
	char flagname[64];
	int o, rc = EXIT_OK, want_json = 0, prune = 0;
	gfsb_err e;

	c->usage = usage;
	memset(&fo, 0, sizeof(fo));
	memset(&po, 0, sizeof(po));
	memset(&res, 0, sizeof(res));
	fo.group_by = GFSB_GROUP_HOST | GFSB_GROUP_PATHS;
	po.max_unused = 0.05;
	if (gfsb_gfs_policy_new(&flags) != GFSB_OK)
		return cli_fail(c, GFSB_ENOMEM);
	while ((o = cli_getopt(c, argc, argv, CLI_GLOBAL_SHORT "l:H:d:w:m:y:g:n",
	    opts)) != -1) {
		key = NULL;
		switch (o) {
		case O_POLICY: policy = optarg; continue;
		case 'l': key = "keep-last"; break;
		case 'H': key = "keep-hourly"; break;
		case 'd': key = "keep-daily"; break;
		case 'w': key = "keep-weekly"; break;
		case 'm': key = "keep-monthly"; break;
		case 'y': key = "keep-yearly"; break;
		case O_WITHIN: case O_WHOURLY: case O_WDAILY: case O_WWEEKLY:
		case O_WMONTHLY: case O_WYEARLY:
			key = flag_keys[o - O_WITHIN];
			break;
		case O_TAG: key = "keep-tag"; break;
		case 'g':
			if (!parse_group_by(optarg, &fo.group_by)) {
				rc = cli_usage_error(c, "invalid --group-by "
				    "\"%s\": use host, paths and tags", optarg);
				goto out;
			}
			continue;
		case O_HOST: fo.host = optarg; continue;
		case 'n': fo.dry_run = 1; continue;
		case O_JSON: want_json = 1; continue;
		case O_PRUNE: prune = 1; continue;
		case O_MAXUNUSED:
			if ((po.max_unused = cli_percent(optarg)) < 0) {
				rc = cli_usage_error(c, "invalid --max-unused "
				    "%s", optarg);
				goto out;
			}
			continue;
		default:
			rc = EXIT_USAGE;
			goto out;
		}
		snprintf(flagname, sizeof(flagname), "--%s", key);
		if (gfsb_gfs_policy_set(c->ctx, flags, key, optarg, flagname) !=
		    GFSB_OK) {
			rc = cli_usage_error(c, "%s", gfsb_ctx_errmsg(c->ctx));
			goto out;
		}
	}
	if (optind != argc) {
		if (policy != NULL || !gfsb_gfs_policy_empty(flags) ||
		    want_json || fo.host != NULL) {
			rc = cli_usage_error(c, "give snapshot ids or a policy, "
			    "not both");
			goto out;
		}
		rc = forget_ids(c, (const char *const *)argv + optind,
		    (size_t)(argc - optind), fo.dry_run, prune ? &po : NULL);
		goto out;
	}
	if (policy != NULL && !gfsb_gfs_policy_empty(flags)) {
		rc = cli_usage_error(c, "give --policy or rules as options, "
		    "not both");
		goto out;
	}
	if (policy == NULL && gfsb_gfs_policy_empty(flags)) {
		rc = cli_usage_error(c, "no policy: give --policy FILE or "
		    "--keep-* rules (an empty policy would keep nothing)");
		goto out;
	}
	/* Read the policy before anything else: its errors come first. */
	if (policy != NULL && (e = gfsb_gfs_policy_load(c->ctx, policy,
	    &file)) != GFSB_OK) {
		rc = cli_config_fail(c, e);
		goto out;
	}
	p = file != NULL ? file : flags;
	if ((rc = cli_open_repo(c)) != EXIT_OK)
		goto out;
	fo.policy = p;
	if ((e = gfsb_ops_forget(c->r, &fo, &res)) != GFSB_OK) {
		rc = cli_fail(c, e);
		goto out;
	}
	if ((rc = print_decisions(c, &res, p, fo.dry_run, want_json)) !=
	    EXIT_OK)
		goto out;
	if (prune && !fo.dry_run && res.removed > 0) {
		if ((e = gfsb_ops_prune(c->r, &po, &pres)) != GFSB_OK) {
			rc = cli_fail(c, e);
			goto out;
		}
		if (!want_json)
			cli_print_prune(c, &pres, po.max_unused, 0);
	}
out:
	gfsb_ops_forget_fini(&res);
	gfsb_gfs_policy_free(flags);
	gfsb_gfs_policy_free(file);
	return rc;
}
