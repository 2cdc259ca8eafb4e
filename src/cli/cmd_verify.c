/*
 * gfsbackup verify: check the repository's structure, read a slice of its
 * data, say precisely what is damaged and what that breaks, and make the
 * morning report (saved, mailed).  Exit 0 when nothing is damaged (there
 * may be warnings), 1 when something is, or when the report could not be
 * delivered.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>


#include <gfsbackup/gfs.h>
#include <gfsbackup/ops.h>
#include <gfsbackup/report.h>

#include "cli.h"
#include "cli_state.h"

static const char usage[] =
"usage: gfsbackup verify -r REPO [--read-data | --read-data-subset SUBSET]\n"
"                        [--json] [--time T] [--threads N] [--state-dir DIR]\n"
"                        [--policy FILE] [--no-lock] [--object-lock MODE]\n"
"                        [--lock-margin D] [--offsite REPO2]\n"
"                        [--drill SIZE [--drill-scratch DIR]]\n"
"                        [--recovery-time-objective D] [--report DIR]\n"
"                        [--mail --smtp-url URL --mail-from ADDR\n"
"                         --mail-to ADDR... [--smtp-user U\n"
"                         --smtp-password-file F] [--smtp-cacert F]\n"
"                         [--mail-on always|failure]] [--config FILE]\n"
"\n"
"Check that every key, index file, snapshot and tree opens, that every\n"
"blob a snapshot uses is indexed, and that every pack the index names is\n"
"stored with the right size.  With --read-data (or a subset), also read\n"
"packs whole from storage: SHA-256 against the name, every blob opened\n"
"and its id recomputed.  Damage is named with the snapshots and files it\n"
"breaks.  With a state file, changes to the history since the last\n"
"verification are named too: snapshots gone that the policy keeps, key\n"
"files added or removed, a changed config, new snapshots claiming to be\n"
"old.  Exit 0 when nothing is damaged or changed, 1 otherwise.  With\n"
"--as-of, the repository as it stood then is checked, with no state\n"
"and no lock.\n"
"\n"
"  --read-data                read every pack\n"
"  --read-data-subset SUBSET  N/T: the Nth of T slices; rotate/T: today's\n"
"                             slice (T consecutive days read every pack\n"
"                             once); P%: that share of packs at random\n"
"  --json                     print the result as JSON on stdout\n"
"  --time 'YYYY-MM-DD HH:MM:SS'  run as if at that local time (today's\n"
"                             slice, the state file, the report)\n"
"  --threads N                packs read at once (default 2; remote: 4)\n"
"  --state-dir DIR            where the dates packs were last read and the\n"
"                             nightly sizes are kept (default\n"
"                             ~/.local/state/gfsbackup)\n"
"  --no-state                 keep no state (coverage unknown)\n"
"  --policy FILE              retention policy: the report's GFS table, and\n"
"                             which snapshots gone since the last\n"
"                             verification the policy still keeps\n"
"  --no-lock                  take no lock (for a verifier with read-only\n"
"                             credentials)\n"
"  --object-lock MODE         the repository must be locked in MODE\n"
"                             (compliance, governance); with --policy, its\n"
"                             Object Lock dates are checked too\n"
"  --lock-margin D            the margin its dates were made with (2d)\n"
"  --offsite REPO2            report how far the offsite mirror is behind\n"
"  --drill SIZE               restore drill: restore about SIZE of the\n"
"                             newest snapshot from the offsite copy (else\n"
"                             from REPO) into a scratch directory, check\n"
"                             every file, remove it, and project the time\n"
"                             a full restore would take; exit 1 if a file\n"
"                             does not come back intact\n"
"  --drill-scratch DIR        where the scratch directory goes (default\n"
"                             $TMPDIR, else /var/tmp)\n"
"  --recovery-time-objective D  warn in the report when the projected full\n"
"                             restore takes longer than D (4h, 1d12h)\n"
"  --report DIR               save the report as DIR/report-TIME.{txt,html}\n"
"  --mail                     mail the report (then it is also saved, in\n"
"                             --report DIR or STATE-DIR/reports)\n"
"  --smtp-url URL             smtp://HOST[:PORT] (STARTTLS when offered)\n"
"                             or smtps://HOST[:PORT]\n"
"  --mail-from ADDR           sender\n"
"  --mail-to ADDR             recipient (repeat, or separate with commas)\n"
"  --smtp-user USER           log in as USER ...\n"
"  --smtp-password-file FILE  ... with the password in FILE (mode 0600)\n"
"  --smtp-cacert FILE         CA certificates for the server's TLS\n"
"  --mail-on always|failure   mail every report, or only those not OK\n"
"                             (default always)\n"
"  --config FILE              take the repository, passphrase file, state\n"
"                             and cache directories, policy, subset,\n"
"                             offsite copy and mail settings from the daily\n"
"                             job's configuration (options given here win)\n";

enum {
	O_READ = OPT_CMD_BASE, O_SUBSET, O_JSON, O_TIME, O_THREADS,
	O_STATEDIR, O_NOSTATE, O_POLICY, O_OFFSITE, O_REPORT, O_MAIL,
	O_SMTPURL, O_FROM, O_TO, O_SMTPUSER, O_SMTPPASS, O_SMTPCA, O_MAILON,
	O_CONFIG, O_NOLOCK, O_LOCK, O_MARGIN, O_DRILL, O_SCRATCH, O_RTO
};

struct verify_view {
	struct cli *c;
	double drawn;
};

static void
progress(void *cookie, const struct gfsb_verify_progress *p)
{
	struct verify_view *v = cookie;
	char line[160];

	if (p->seconds - v->drawn < 0.2 && p->done < p->total)
		return;
	v->drawn = p->seconds;
	gfsb_ops_verify_progress_line(p, line, sizeof(line));
	cli_progress(v->c, line);
}

/* --mail-to takes one address or several separated by commas. */
static int
add_recipients(struct cli *c, const char ***to, size_t *nto, char *arg)
{
	char *p, *save = NULL;

	for (p = strtok_r(arg, ",", &save); p != NULL;
	    p = strtok_r(NULL, ",", &save)) {
		while (*p == ' ')
			p++;
		if (*p != '\0' && cli_strv_add(to, nto, p) != 0)
			return cli_fail(c, GFSB_ENOMEM);
	}
	return EXIT_OK;
}

/* What the command line asked for. */
struct vargs {
	struct gfsb_check_args args;	/* the settings it gave */
	struct gfsb_config cfg;		/* ... over --config's: the ones */
	const char **to;
	size_t nto;
	long threads;
	int json, no_lock, have_time;
	enum gfsb_lock_mode expect_lock;
	struct gfsb_time now;
};

static const struct option opts[] = {
	CLI_GLOBAL_OPTIONS,
	{ "read-data", no_argument, NULL, O_READ },
	{ "read-data-subset", required_argument, NULL, O_SUBSET },
	{ "json", no_argument, NULL, O_JSON },
	{ "time", required_argument, NULL, O_TIME },
	{ "threads", required_argument, NULL, O_THREADS },
	{ "state-dir", required_argument, NULL, O_STATEDIR },
	{ "no-state", no_argument, NULL, O_NOSTATE },
	{ "policy", required_argument, NULL, O_POLICY },
	{ "offsite", required_argument, NULL, O_OFFSITE },
	{ "report", required_argument, NULL, O_REPORT },
	{ "mail", no_argument, NULL, O_MAIL },
	{ "smtp-url", required_argument, NULL, O_SMTPURL },
	{ "mail-from", required_argument, NULL, O_FROM },
	{ "mail-to", required_argument, NULL, O_TO },
	{ "smtp-user", required_argument, NULL, O_SMTPUSER },
	{ "smtp-password-file", required_argument, NULL, O_SMTPPASS },
	{ "smtp-cacert", required_argument, NULL, O_SMTPCA },
	{ "mail-on", required_argument, NULL, O_MAILON },
	{ "config", required_argument, NULL, O_CONFIG },
	{ "no-lock", no_argument, NULL, O_NOLOCK },
	{ "object-lock", required_argument, NULL, O_LOCK },
	{ "lock-margin", required_argument, NULL, O_MARGIN },
	{ "drill", required_argument, NULL, O_DRILL },
	{ "drill-scratch", required_argument, NULL, O_SCRATCH },
	{ "recovery-time-objective", required_argument, NULL, O_RTO },
	{ NULL, 0, NULL, 0 }
};

/* The restore drill's options (optarg is o's argument). */
static int
parse_drill(struct cli *c, int o, struct gfsb_check_args *g)
{
	switch (o) {
	case O_DRILL:
		if (gfsb_size_parse(optarg, &g->drill) != GFSB_OK ||
		    g->drill == 0)
			return cli_usage_error(c, "invalid --drill %s: give a "
			    "size, e.g. 256MiB or 2GiB", optarg);
		break;
	case O_SCRATCH:
		g->drill_scratch = optarg;
		break;
	default:
		if (gfsb_gfs_margin_parse(optarg, &g->rto) != GFSB_OK ||
		    g->rto <= 0)
			return cli_usage_error(c, "invalid "
			    "--recovery-time-objective %s: give e.g. 4h, "
			    "1d12h, 90m", optarg);
		break;
	}
	return EXIT_OK;
}

static int
parse(struct cli *c, int argc, char **argv, struct vargs *a)
{
	struct gfsb_check_args *g = &a->args;
	int o, rc;

	while ((o = cli_getopt(c, argc, argv, CLI_GLOBAL_SHORT, opts)) != -1) {
		switch (o) {
		case O_READ:
		case O_SUBSET:
			if (g->have_read++)
				return cli_usage_error(c, "give --read-data or "
				    "--read-data-subset once");
			if (o == O_READ)
				g->read = GFSB_VERIFY_READ_ALL;
			else if (gfsb_ops_verify_parse_subset(optarg,
			    &g->read, &g->slice, &g->slices,
			    &g->percent) != GFSB_OK)
				return cli_usage_error(c, "invalid "
				    "--read-data-subset %s: give N/T, "
				    "rotate/T or P%%", optarg);
			break;
		case O_JSON:
			a->json = 1;
			break;
		case O_TIME:
			if (gfsb_time_parse_local(optarg, &a->now) != GFSB_OK)
				return cli_usage_error(c, "invalid --time %s: "
				    "give 'YYYY-MM-DD HH:MM:SS'", optarg);
			a->have_time = 1;
			break;
		case O_THREADS:
			if (cli_number(c, "--threads", optarg, 1,
			    GFSB_VERIFY_THREADS_MAX, &a->threads) != 0)
				return EXIT_USAGE;
			break;
		case O_STATEDIR:
			g->state_dir = optarg;
			break;
		case O_NOSTATE:
			g->no_state = 1;
			break;
		case O_POLICY:
			g->policy_file = optarg;
			break;
		case O_OFFSITE:
			g->offsite_url = optarg;
			break;
		case O_REPORT:
			g->report_dir = optarg;
			break;
		case O_MAIL:
			g->mail = 1;
			break;
		case O_SMTPURL:
			g->smtp_url = optarg;
			break;
		case O_FROM:
			g->mail_from = optarg;
			break;
		case O_TO:
			if ((rc = add_recipients(c, &a->to, &a->nto,
			    optarg)) != EXIT_OK)
				return rc;
			break;
		case O_SMTPUSER:
			g->smtp_user = optarg;
			break;
		case O_SMTPPASS:
			g->smtp_password_file = optarg;
			break;
		case O_SMTPCA:
			g->smtp_cacert = optarg;
			break;
		case O_CONFIG:
			g->config = optarg;
			break;
		case O_NOLOCK:
			a->no_lock = 1;
			break;
		case O_LOCK:
			if ((rc = cli_lock_mode(c, optarg,
			    &a->expect_lock)) != EXIT_OK)
				return rc;
			break;
		case O_MARGIN:
			if (gfsb_gfs_margin_parse(optarg, &g->lock_margin) !=
			    GFSB_OK)
				return cli_usage_error(c, "invalid "
				    "--lock-margin %s: give e.g. 2d, 36h, 90s",
				    optarg);
			break;
		case O_DRILL:
		case O_SCRATCH:
		case O_RTO:
			if ((rc = parse_drill(c, o, g)) != EXIT_OK)
				return rc;
			break;
		case O_MAILON:
			if (strcmp(optarg, "always") == 0)
				g->mail_on = 1;
			else if (strcmp(optarg, "failure") == 0)
				g->mail_on = 2;
			else
				return cli_usage_error(c, "invalid --mail-on "
				    "%s: give always or failure", optarg);
			break;
		default:
			return EXIT_USAGE;
		}
	}
	if (optind != argc)
		return cli_usage_error(c, "unexpected argument %s",
		    argv[optind]);
	return EXIT_OK;
}


/* What the command prints as the check's stages end, and its status. */
struct verify_cli {
	struct cli *c;
	struct vargs *a;
	struct gfsb_check_result *res;
	int rc;
};

/* The verification's result, printed, and what it comes to. */
static int
verify_done(struct verify_cli *v, const struct gfsb_run_stage *st)
{
	const struct gfsb_verify_result *res = &v->res->verify;
	struct cli *c = v->c;
	char *json;
	int clean;

	if (v->res->verify_err != GFSB_OK)
		return cli_fail(c, st->err);
	clean = gfsb_ops_verify_clean(res);
	if (v->a->json) {
		if ((json = gfsb_ops_verify_json(res, &v->a->now)) == NULL)
			return cli_fail(c, GFSB_ENOMEM);
		printf("%s\n", json);
		free(json);
	} else if ((!c->quiet || !clean) &&
	    gfsb_ops_verify_lines(res, cli_put_line, c) != GFSB_OK) {
		return cli_fail(c, GFSB_ENOMEM);
	}
	return clean ? EXIT_OK : EXIT_FATAL;
}

static void
on_stage(void *cookie, const struct gfsb_run_stage *st, int dry)
{
	struct verify_cli *v = cookie;
	int rc = EXIT_OK;

	(void)dry;
	cli_progress(v->c, NULL);
	if (strcmp(st->name, "verify") == 0) {
		rc = verify_done(v, st);
	} else if (st->err == GFSB_OK || st->err == GFSB_ECORRUPT) {
		/* The drill ran: a file that failed is in its line. */
		if (!v->c->quiet)
			printf("drill: %s\n", st->summary);
		rc = st->err == GFSB_OK ? EXIT_OK : EXIT_FATAL;
	} else {
		cli_msg(v->c, "%s: verify: drill %s", v->c->prog, st->summary);
		rc = cli_exit_status(st->err);
	}
	if (v->rc == EXIT_OK)
		v->rc = rc;
}

static void
on_drill_progress(void *cookie, const struct gfsb_restore_progress *p)
{
	struct verify_cli *v = cookie;
	char line[256];

	gfsb_ops_restore_progress_line(p, line, sizeof(line));
	cli_progress(v->c, line);
}

/* The settings: --config's under the command line's, made once. */
static int
settle(struct cli *c, struct vargs *a)
{
	struct gfsb_check_args *g = &a->args;
	gfsb_err e;

	g->repo_url = c->repo;
	g->password_file = c->password_file;
	g->cache_dir = c->cache_dir;
	g->retry_lock = c->retry_lock;
	g->as_of = c->as_of != 0;
	g->mail_to = a->to;
	g->nmail_to = a->nto;
	if (g->config != NULL && *g->config == '\0')
		return cli_usage_error(c, "--config: no file given");
	if ((e = gfsb_ops_check_settle(c->ctx, g, &a->cfg)) != GFSB_OK)
		return e == GFSB_EIO ? cli_fail(c, e) : cli_config_fail(c, e);
	c->repo = a->cfg.repo_url;
	c->password_file = a->cfg.password_file;
	c->cache_dir = a->cfg.cache_dir;
	c->retry_lock = a->cfg.retry_lock;
	if (!a->have_time)
		gfsb_time_now(&a->now);
	return EXIT_OK;
}

/*
 * The repository, and the offsite copy when the drill or the report
 * needs it (one that cannot be opened is said, and they go on without
 * it); the check's options.
 */
static int
open_copies(struct cli *c, struct vargs *a, struct gfsb_check_opts *co,
    char *state_base, size_t len, char *why, size_t wlen)
{
	const struct gfsb_config *cfg = &a->cfg;
	int report = cfg->smtp_url != NULL || cfg->report_dir != NULL;
	struct gfsb_backend *off = NULL;
	gfsb_err e;
	int rc;

	if ((rc = cli_open_repo(c)) != EXIT_OK)
		return rc;
	if (cfg->repo_url == NULL && (a->cfg.repo_url = strdup(c->repo)) ==
	    NULL)
		return cli_fail(c, GFSB_ENOMEM);
	if ((!a->args.no_state || report || cfg->drill > 0) &&
	    (rc = cli_state_base(c, cfg->state_dir, state_base, len)) !=
	    EXIT_OK)
		return rc;
	if (cfg->offsite_url != NULL && (report || cfg->drill > 0)) {
		e = a->args.offsite_url != NULL ? gfsb_backend_open_opts(c->ctx,
		    cfg->offsite_url, &c->remote, &off) :
		    gfsb_ops_run_open_offsite(c->ctx, cfg, &c->remote, &off);
		if (e != GFSB_OK) {
			snprintf(why, wlen, "%s", *gfsb_ctx_errmsg(c->ctx) ?
			    gfsb_ctx_errmsg(c->ctx) : gfsb_strerror(e));
			rc = cli_fail(c, e);
			gfsb_ctx_clearerr(c->ctx);
		}
	}
	co->run.cfg = cfg;
	co->run.ctx = c->ctx;
	co->run.repo = c->r;
	co->run.offsite = off;
	co->run.offsite_error = why;
	co->run.state_base = state_base;
	co->run.connections = c->remote.connections > 0 ?
	    (unsigned)c->remote.connections : 0;
	co->run.now = a->now;
	co->threads = (unsigned)a->threads;
	co->no_lock = a->no_lock;
	co->no_state = a->args.no_state || a->args.as_of;
	co->expect_lock = a->expect_lock;
	return rc;
}

int
cmd_verify(struct cli *c, int argc, char **argv)
{
	struct gfsb_check_result res;
	struct gfsb_check_opts co;
	struct verify_view view;
	struct verify_cli v;
	struct vargs a;
	char base[4200] = "", why[1100] = "";
	gfsb_err e;
	int rc;

	c->usage = usage;
	memset(&a, 0, sizeof(a));
	memset(&co, 0, sizeof(co));
	memset(&res, 0, sizeof(res));
	if ((rc = parse(c, argc, argv, &a)) != EXIT_OK ||
	    (rc = settle(c, &a)) != EXIT_OK)
		goto out;
	rc = open_copies(c, &a, &co, base, sizeof(base), why, sizeof(why));
	if (c->r == NULL || (rc != EXIT_OK && *why == '\0'))
		goto out;
	memset(&v, 0, sizeof(v));
	v.c = c;
	v.a = &a;
	v.res = &res;
	v.rc = rc;
	co.run.stage_done = on_stage;
	co.run.cookie = &v;
	view.c = c;
	view.drawn = -1;
	if (cli_tty(c) && !a.json) {
		co.progress = progress;
		co.progress_cookie = &view;
		co.run.drill_progress = on_drill_progress;
	}
	e = gfsb_ops_check(&co, &res);
	cli_progress(c, NULL);
	rc = v.rc;
	if (e != GFSB_OK || (res.reported && res.run.report_err != GFSB_OK)) {
		cli_fail(c, e != GFSB_OK ? e : res.run.report_err);
		if (rc == EXIT_OK)
			rc = EXIT_FATAL;
	}
	gfsb_ops_check_result_fini(&res);
	gfsb_backend_close(co.run.offsite);
out:
	/* c's strings point into cfg: forget them first. */
	cli_close(c);
	c->repo = c->password_file = c->cache_dir = NULL;
	gfsb_config_fini(&a.cfg);
	free(a.to);
	return rc;
}
