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
	unsigned threads;
	int json, no_lock;
	const char *time_given;	/* --time was given */
	enum gfsb_lock_mode expect_lock;
	struct gfsb_time now;
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
		{ GFSB_OPT_(TIME, "time", 0, &a->now),
		  .hint = ": give 'YYYY-MM-DD HH:MM:SS'",
		  .given = &a->time_given },
		GFSB_OPT_NUMBER("threads", 0, &a->threads, 1,
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
		GFSB_OPT_FLAG("no-lock", 0, &a->no_lock),
		GFSB_OPT_CALLBACK("object-lock", 0, &a->expect_lock,
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
		rc = gfsb_ops_exit_status(st->err);
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
	co->threads = a->threads;
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
	gfsb_strv_free(a.to.v, a.to.n);
	return rc;
}
