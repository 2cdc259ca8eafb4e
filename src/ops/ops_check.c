/*
 * The morning check on its own (gfsbackup verify): its settings made
 * once, the configuration file under what the command line gave; the
 * copies it needs (the state directory, the offsite copy) found and
 * opened; then the job engine's checking stages (ops_run_check.c):
 * verify, the restore drill when asked, the report when one is wanted;
 * and what they come to as an exit status.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <gfsbackup/gfs.h>
#include <gfsbackup/ops.h>

#include "ops_run.h"

/* *dst becomes a copy of s, when s is given; -1: no memory. */
static int
take(char **dst, const char *s)
{
	char *d;

	if (s == NULL)
		return 0;
	if ((d = strdup(s)) == NULL)
		return -1;
	free(*dst);
	*dst = d;
	return 0;
}

/* The command line's recipients, in place of the file's. */
static int
take_to(struct gfsb_config *cfg, const char *const *to, size_t n)
{
	size_t i;

	for (i = 0; i < cfg->nmail_to; i++)
		free(cfg->mail_to[i]);
	free(cfg->mail_to);
	cfg->nmail_to = 0;
	if ((cfg->mail_to = calloc(n + 1, sizeof(*cfg->mail_to))) == NULL)
		return -1;
	for (; cfg->nmail_to < n; cfg->nmail_to++)
		if ((cfg->mail_to[cfg->nmail_to] = strdup(to[cfg->nmail_to])) ==
		    NULL)
			return -1;
	return 0;
}

/* Nothing is mailed. */
static void
no_mail(struct gfsb_config *cfg)
{
	size_t i;

	for (i = 0; i < cfg->nmail_to; i++)
		free(cfg->mail_to[i]);
	free(cfg->mail_to);
	free(cfg->smtp_url);
	free(cfg->mail_from);
	free(cfg->smtp_user);
	free(cfg->smtp_password_file);
	free(cfg->smtp_cacert);
	cfg->mail_to = NULL;
	cfg->nmail_to = 0;
	cfg->smtp_url = cfg->mail_from = cfg->smtp_user = NULL;
	cfg->smtp_password_file = cfg->smtp_cacert = NULL;
}

/*
 * The mail settings: all the command line's when it names the server,
 * else the file's with what the command line gave in their place.
 */
static int
mail(const struct gfsb_check_args *a, struct gfsb_config *cfg)
{
	if (!a->mail) {
		no_mail(cfg);
		return 0;
	}
	if (a->smtp_url != NULL) {
		no_mail(cfg);
		cfg->send_failures_only = a->mail_on == 2;
	} else if (a->mail_on != 0) {
		cfg->send_failures_only = a->mail_on == 2;
	}
	if (a->smtp_user != NULL) {
		free(cfg->smtp_password_file);
		cfg->smtp_password_file = NULL;
	}
	if (take(&cfg->smtp_url, a->smtp_url) != 0 ||
	    take(&cfg->mail_from, a->mail_from) != 0 ||
	    (a->nmail_to > 0 && take_to(cfg, a->mail_to, a->nmail_to) != 0) ||
	    take(&cfg->smtp_user, a->smtp_user) != 0 ||
	    take(&cfg->smtp_password_file, a->smtp_password_file) != 0 ||
	    take(&cfg->smtp_cacert, a->smtp_cacert) != 0)
		return -1;
	return 0;
}

/* Settings of the command line that do not go together; NULL: none. */
static const char *
conflict(const struct gfsb_check_args *a)
{
	if (!a->mail && (a->smtp_url != NULL || a->mail_from != NULL ||
	    a->nmail_to > 0 || a->smtp_user != NULL ||
	    a->smtp_password_file != NULL))
		return "mail settings without --mail";
	if (a->no_state && a->state_dir != NULL)
		return "--no-state and --state-dir conflict";
	/* The state follows the present repository (the library refuses it
	 * with a view of the past): the configuration's is left alone. */
	if (a->as_of && a->state_dir != NULL)
		return "--as-of keeps no state: --state-dir does not apply";
	if (a->drill == 0 && a->drill_scratch != NULL)
		return "--drill-scratch without --drill";
	if (a->drill > 0 && a->as_of)
		return "--drill restores the newest snapshot: it does not go "
		    "with --as-of";
	return NULL;
}

/* What the command line gave, over cfg; -1: no memory. */
static int
overlay(const struct gfsb_check_args *a, struct gfsb_config *cfg)
{
	if (a->retry_lock > 0)
		cfg->retry_lock = a->retry_lock;
	if (a->have_read) {
		cfg->read = a->read;
		cfg->slice = a->slice;
		cfg->slices = a->slices;
		cfg->percent = a->percent;
	}
	if (a->lock_margin > 0)
		cfg->lock_margin = a->lock_margin;
	if (a->offsite_url != NULL) {
		/* The global S3 options are the ones for it. */
		free(cfg->offsite_endpoint);
		free(cfg->offsite_region);
		free(cfg->offsite_credentials);
		free(cfg->offsite_cacert);
		cfg->offsite_endpoint = cfg->offsite_region = NULL;
		cfg->offsite_credentials = cfg->offsite_cacert = NULL;
	}
	cfg->drill = a->drill;
	cfg->drill_every = 0;
	if (a->rto > 0)
		cfg->rto = a->rto;
	return take(&cfg->repo_url, a->repo_url) != 0 ||
	    take(&cfg->password_file, a->password_file) != 0 ||
	    take(&cfg->cache_dir, a->cache_dir) != 0 ||
	    take(&cfg->state_dir, a->state_dir) != 0 ||
	    take(&cfg->offsite_url, a->offsite_url) != 0 ||
	    take(&cfg->report_dir, a->report_dir) != 0 ||
	    take(&cfg->drill_scratch, a->drill_scratch) != 0 ||
	    take(&cfg->policy_file, a->policy_file) != 0 ||
	    mail(a, cfg) != 0 ? -1 : 0;
}

gfsb_err
gfsb_ops_check_settle(struct gfsb_ctx *ctx, const struct gfsb_check_args *a,
    struct gfsb_config *cfg)
{
	struct gfsb_policy *pol;
	const char *w;
	gfsb_err e;

	if ((w = conflict(a)) != NULL)
		return gfsb_ctx_seterr(ctx, GFSB_EINVAL, "%s", w);
	if (a->config != NULL) {
		if ((e = gfsb_config_load(ctx, a->config, cfg)) != GFSB_OK)
			return e;
	} else {
		gfsb_config_init(cfg);
		cfg->read = GFSB_VERIFY_READ_NONE;	/* structure only */
		cfg->slices = 0;
	}
	e = GFSB_ENOMEM;
	if (overlay(a, cfg) != 0)
		goto fail;
	e = GFSB_EINVAL;
	if (cfg->smtp_url == NULL && a->mail) {
		gfsb_ctx_seterr(ctx, e, "--mail needs --smtp-url, --mail-from "
		    "and --mail-to");
		goto fail;
	}
	if (a->mail && (cfg->mail_from == NULL || cfg->nmail_to == 0)) {
		gfsb_ctx_seterr(ctx, e, "--mail needs --smtp-url, --mail-from "
		    "and --mail-to");
		goto fail;
	}
	if ((cfg->smtp_user == NULL) != (cfg->smtp_password_file == NULL)) {
		gfsb_ctx_seterr(ctx, e, "give both --smtp-user and "
		    "--smtp-password-file, or neither");
		goto fail;
	}
	if (a->policy_file != NULL) {
		if ((e = gfsb_gfs_policy_load(ctx, a->policy_file, &pol)) !=
		    GFSB_OK)
			goto fail;
		gfsb_gfs_policy_free(cfg->policy);
		cfg->policy = pol;
	}
	return GFSB_OK;
fail:
	gfsb_config_fini(cfg);
	return e;
}

gfsb_err
gfsb_ops_check(const struct gfsb_check_opts *o, struct gfsb_check_result *res)
{
	const struct gfsb_config *cfg = o->run.cfg;
	struct run r;

	memset(res, 0, sizeof(*res));
	gfsb_report_init(&res->run.rep);
	memset(&r, 0, sizeof(r));
	r.o = &o->run;
	r.cfg = cfg;
	r.ctx = o->run.ctx;
	rn_open(&r);
	r.res = &res->run;
	r.threads = o->run.connections > 0 ? o->run.connections : 4;
	r.check = o;
	r.checked = res;
	rn_stage_verify(&r);
	rn_stage_drill(&r);
	if (cfg->smtp_url != NULL || cfg->report_dir != NULL) {
		res->reported = 1;
		rn_stage_report(&r);
	}
	rn_close(&r);
	return res->run.report_err == GFSB_ENOMEM ? GFSB_ENOMEM : GFSB_OK;
}

void
gfsb_ops_check_result_fini(struct gfsb_check_result *res)
{
	gfsb_ops_verify_result_fini(&res->verify);
	gfsb_ops_run_result_fini(&res->run);
	memset(res, 0, sizeof(*res));
}

/* The offsite copy the check needs, when it needs one: the command line's
 * --offsite under the global S3 options, else the file's [offsite]
 * under its own.  Failing is said in cp, and the check goes on. */
static void
open_offsite(struct gfsb_ctx *ctx, const struct gfsb_check_args *a,
    const struct gfsb_config *cfg, const struct gfsb_backend_opts *remote,
    struct gfsb_check_copies *cp)
{
	gfsb_err e;

	e = a->offsite_url != NULL ? gfsb_backend_open_opts(ctx,
	    cfg->offsite_url, remote, &cp->offsite) :
	    gfsb_ops_run_open_offsite(ctx, cfg, remote, &cp->offsite);
	if (e == GFSB_OK)
		return;
	cp->offsite = NULL;
	cp->offsite_err = e;
	snprintf(cp->offsite_error, sizeof(cp->offsite_error), "%s",
	    *gfsb_ctx_errmsg(ctx) ? gfsb_ctx_errmsg(ctx) : gfsb_strerror(e));
}

gfsb_err
gfsb_ops_check_open(struct gfsb_ctx *ctx, const struct gfsb_check_args *a,
    struct gfsb_config *cfg, struct gfsb_repo *r, const char *url,
    const struct gfsb_backend_opts *remote, struct gfsb_check_opts *co,
    struct gfsb_check_copies *cp)
{
	/* Only a report and a drill look at the offsite copy. */
	int report = cfg->smtp_url != NULL || cfg->report_dir != NULL;
	gfsb_err e;

	memset(cp, 0, sizeof(*cp));
	if (cfg->repo_url == NULL && (cfg->repo_url = strdup(url)) == NULL)
		return GFSB_ENOMEM;
	if ((!a->no_state || report || cfg->drill > 0) &&
	    (e = gfsb_ops_state_base(ctx, cfg->state_dir, cp->state_base,
	    sizeof(cp->state_base))) != GFSB_OK)
		return e;
	if (cfg->offsite_url != NULL && (report || cfg->drill > 0))
		open_offsite(ctx, a, cfg, remote, cp);
	co->run.cfg = cfg;
	co->run.ctx = ctx;
	co->run.repo = r;
	co->run.offsite = cp->offsite;
	co->run.offsite_error = cp->offsite_error;
	co->run.state_base = cp->state_base;
	co->run.connections = remote != NULL && remote->connections > 0 ?
	    (unsigned)remote->connections : 0;
	/* A look at the past leaves no state of the present. */
	co->no_state = a->no_state || a->as_of;
	return GFSB_OK;
}

void
gfsb_ops_check_close(struct gfsb_check_copies *cp)
{
	gfsb_backend_close(cp->offsite);
	cp->offsite = NULL;
}

int
gfsb_ops_check_exit(const struct gfsb_check_result *res)
{
	const struct gfsb_run_stage *st;
	size_t i;
	int rc;

	for (i = 0; i < res->run.nstages; i++) {
		st = &res->run.stages[i];
		/* Damage found is 1; a verification that could not run,
		 * or a drill that failed, says why by its status. */
		if (strcmp(st->name, "verify") == 0 &&
		    res->verify_err == GFSB_OK)
			rc = gfsb_ops_verify_clean(&res->verify) ?
			    GFSB_EXIT_OK : GFSB_EXIT_FATAL;
		else
			rc = gfsb_ops_exit_status(st->err);
		if (rc != GFSB_EXIT_OK)
			return rc;
	}
	if (res->reported && res->run.report_err != GFSB_OK)
		return GFSB_EXIT_FATAL;
	return GFSB_EXIT_OK;
}
