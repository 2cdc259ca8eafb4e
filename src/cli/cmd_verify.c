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

struct verify_view {
	struct cli *c;
	double drawn;
};

static void
progress(void *cookie, const struct gfsb_verify_progress *p)
{
	struct verify_view *v = cookie;
	char line[160];

	if (!gfsb_ops_progress_due(&v->drawn, p->seconds,
	    GFSB_OPS_PROGRESS_EVERY, p->done >= p->total))
		return;
	gfsb_ops_verify_progress_line(p, line, sizeof(line));
	cli_progress(v->c, line);
}

/* What the command line asked for. */
struct vargs {
	struct gfsb_check_args args;	/* the settings it gave */
	struct gfsb_config cfg;		/* ... over --config's: the ones */
	struct gfsb_opt_strv to; /* --mail-to's addresses (ours) */
	struct gfsb_check_opts co;	/* the check's own options */
	int json;
	const char *time_given;	/* --time was given */
};

static const struct gfsb_opt_enum mail_on[] = {
	{ "always", 1 }, { "failure", 2 }, { NULL, 0 }
};

static int
parse(struct cli *c, int argc, char **argv, struct vargs *a)
{
	struct gfsb_check_args *g = &a->args;
	/* --read-data and --read-data-subset: one of them, once. */
	gfsb_opt_fn *const read_opt = gfsb_ops_opt_read_data;
	const struct gfsb_opt opts[] = {
		GFSB_OPT_ACTION("read-data", 0, g, read_opt),
		GFSB_OPT_CALLBACK("read-data-subset", 0, g, read_opt),
		GFSB_OPT_FLAG("json", 0, &a->json),
		{ GFSB_OPT_(TIME, "time", 0, &a->co.run.now),
		  .hint = ": give 'YYYY-MM-DD HH:MM:SS'",
		  .given = &a->time_given },
		GFSB_OPT_NUMBER("threads", 0, &a->co.threads, 1,
		    GFSB_VERIFY_THREADS_MAX, NULL),
		GFSB_OPT_STRING("state-dir", 0, &g->state_dir),
		GFSB_OPT_FLAG("no-state", 0, &g->no_state),
		GFSB_OPT_STRING("policy", 0, &g->policy_file),
		GFSB_OPT_STRING("offsite", 0, &g->offsite_url),
		GFSB_OPT_STRING("report", 0, &g->report_dir),
		GFSB_OPT_FLAG("mail", 0, &g->mail),
		GFSB_OPT_STRING("smtp-url", 0, &g->smtp_url),
		GFSB_OPT_STRING("mail-from", 0, &g->mail_from),
		/* One address or several separated by commas. */
		GFSB_OPT_SPLIT("mail-to", 0, &a->to),
		GFSB_OPT_STRING("smtp-user", 0, &g->smtp_user),
		GFSB_OPT_STRING("smtp-password-file", 0,
		    &g->smtp_password_file),
		GFSB_OPT_STRING("smtp-cacert", 0, &g->smtp_cacert),
		GFSB_OPT_ENUM("mail-on", 0, &g->mail_on, mail_on),
		GFSB_OPT_STRING("config", 0, &g->config),
		GFSB_OPT_FLAG("no-lock", 0, &a->co.no_lock),
		GFSB_OPT_CALLBACK("object-lock", 0, &a->co.expect_lock,
		    gfsb_ops_opt_lock_mode),
		GFSB_OPT_DURATION("lock-margin", 0, &g->lock_margin, 0,
		    ": give e.g. 2d, 36h, 90s"),
		/* More than nothing. */
		{ GFSB_OPT_(SIZE, "drill", 0, &g->drill),
		  .size = sizeof(g->drill), .min = 1,
		  .max = (long long)UINT64_MAX,
		  .hint = ": give a size, e.g. 256MiB or 2GiB" },
		GFSB_OPT_STRING("drill-scratch", 0, &g->drill_scratch),
		GFSB_OPT_DURATION("recovery-time-objective", 0, &g->rto, 1,
		    ": give e.g. 4h, 1d12h, 90m"),
		GFSB_OPT_END
	};

	return cli_parse(c, argc, argv, opts, 0);
}

/* What the command prints as the check's stages end (the statuses they
 * come to are gfsb_ops_check_exit's), and its status so far. */
struct verify_cli {
	struct cli *c;
	struct vargs *a;
	struct gfsb_check_result *res;
	int rc;
};

/* The verification's result, printed; EXIT_FATAL if it could not be. */
static int
verify_done(struct verify_cli *v, const struct gfsb_run_stage *st)
{
	const struct gfsb_verify_result *res = &v->res->verify;
	struct cli *c = v->c;
	char *json;

	if (v->res->verify_err != GFSB_OK) {
		/* What it comes to is gfsb_ops_check_exit's. */
		cli_fail(c, st->err);
		return EXIT_OK;
	}
	if (v->a->json) {
		if ((json = gfsb_ops_verify_json(res, &v->a->co.run.now)) ==
		    NULL)
			return cli_fail(c, GFSB_ENOMEM);
		printf("%s\n", json);
		free(json);
	} else if ((!c->quiet || !gfsb_ops_verify_clean(res)) &&
	    gfsb_ops_verify_lines(res, cli_put_line, c) != GFSB_OK) {
		return cli_fail(c, GFSB_ENOMEM);
	}
	return EXIT_OK;
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
	} else {
		cli_msg(v->c, "%s: verify: drill %s", v->c->prog, st->summary);
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
	g->mail_to = (const char *const *)a->to.v;
	g->nmail_to = a->to.n;
	if (g->config != NULL && *g->config == '\0')
		return cli_usage_error(c, "--config: no file given");
	if ((e = gfsb_ops_check_settle(c->ctx, g, &a->cfg)) != GFSB_OK)
		return e == GFSB_EIO ? cli_fail(c, e) : cli_config_fail(c, e);
	c->repo = a->cfg.repo_url;
	c->password_file = a->cfg.password_file;
	c->cache_dir = a->cfg.cache_dir;
	c->retry_lock = a->cfg.retry_lock;
	if (a->time_given == NULL)
		gfsb_time_now(&a->co.run.now);
	return EXIT_OK;
}

/*
 * The repository, and the copies the check needs (gfsb_ops_check_open:
 * an offsite copy that cannot be opened is said, and they go on without
 * it).
 */
static int
open_copies(struct cli *c, struct vargs *a, struct gfsb_check_copies *cp)
{
	gfsb_err e;
	int rc;

	if ((rc = cli_open_repo(c)) != EXIT_OK)
		return rc;
	e = gfsb_ops_check_open(c->ctx, &a->args, &a->cfg, c->r, c->repo,
	    &c->remote, &a->co, cp);
	if (e == GFSB_EINVAL)
		return cli_usage_error(c, "%s (--state-dir)",
		    gfsb_ctx_errmsg(c->ctx));
	if (e != GFSB_OK)
		return cli_fail(c, e);
	if (cp->offsite_err == GFSB_OK)
		return EXIT_OK;
	rc = cli_fail(c, cp->offsite_err);
	gfsb_ctx_clearerr(c->ctx);
	return rc;
}

int
cmd_verify(struct cli *c, int argc, char **argv)
{
	struct gfsb_check_result res;
	struct gfsb_check_copies cp;
	struct verify_view view;
	struct verify_cli v;
	struct vargs a;
	gfsb_err e;
	int rc;

	memset(&a, 0, sizeof(a));
	memset(&cp, 0, sizeof(cp));
	memset(&res, 0, sizeof(res));
	if ((rc = parse(c, argc, argv, &a)) != EXIT_OK ||
	    (rc = settle(c, &a)) != EXIT_OK)
		goto out;
	rc = open_copies(c, &a, &cp);
	/* Only an offsite copy missing lets the check go on. */
	if (c->r == NULL || (rc != EXIT_OK && cp.offsite_err == GFSB_OK))
		goto out;
	memset(&v, 0, sizeof(v));
	v.c = c;
	v.a = &a;
	v.res = &res;
	v.rc = rc;
	a.co.run.stage_done = on_stage;
	a.co.run.cookie = &v;
	view.c = c;
	view.drawn = -1;
	if (cli_tty(c) && !a.json) {
		a.co.progress = progress;
		a.co.progress_cookie = &view;
		a.co.run.drill_progress = on_drill_progress;
	}
	e = gfsb_ops_check(&a.co, &res);
	cli_progress(c, NULL);
	rc = v.rc != EXIT_OK ? v.rc : gfsb_ops_check_exit(&res);
	if (e != GFSB_OK || (res.reported && res.run.report_err != GFSB_OK)) {
		cli_fail(c, e != GFSB_OK ? e : res.run.report_err);
		if (rc == EXIT_OK)
			rc = EXIT_FATAL;
	}
	gfsb_ops_check_result_fini(&res);
out:
	gfsb_ops_check_close(&cp);
	/* c's strings point into cfg: forget them first. */
	cli_close(c);
	c->repo = c->password_file = c->cache_dir = NULL;
	gfsb_config_fini(&a.cfg);
	gfsb_strv_free(a.to.v, a.to.n);
	return rc;
}
