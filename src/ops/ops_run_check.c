/*
 * The stages that check, shared by the daily job and gfsb_ops_check
 * (gfsbackup verify): verify the repository and its offsite copy, each
 * opened anew; the restore drill; the report, filled and delivered.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <gfsbackup/ops.h>
#include <gfsbackup/report.h>

#include "ops_run.h"

static void
verify_opts(struct run *r, struct gfsb_verify_opts *vo)
{
	memset(vo, 0, sizeof(*vo));
	vo->read = r->cfg->read;
	vo->slice = r->cfg->slice;
	vo->slices = r->cfg->slices;
	vo->percent = r->cfg->percent;
	vo->now = r->o->now;
	/* Snapshots gone are judged by the policy forget applies; so are
	 * the Object Lock dates. */
	vo->policy = r->cfg->policy;
	vo->lock_margin = r->cfg->lock_margin;
	if (r->check == NULL)
		return;
	vo->no_lock = r->check->no_lock;
	vo->expect_lock = r->check->expect_lock;
	vo->progress = r->check->progress;
	vo->progress_cookie = r->check->progress_cookie;
}

/* What a verification would read, for a dry run. */
static void
dry_verify(struct run *r, const char *name)
{
	const struct gfsb_config *cfg = r->cfg;
	char what[96];

	switch (cfg->read) {
	case GFSB_VERIFY_READ_ROTATE:
		snprintf(what, sizeof(what), "today's slice %lld of %u",
		    (long long)(((gfsb_ops_verify_day(&r->o->now) %
		    cfg->slices) + cfg->slices) % cfg->slices + 1),
		    cfg->slices);
		break;
	case GFSB_VERIFY_READ_SLICE:
		snprintf(what, sizeof(what), "slice %u of %u", cfg->slice,
		    cfg->slices);
		break;
	case GFSB_VERIFY_READ_PERCENT:
		snprintf(what, sizeof(what), "%g%% of the packs", cfg->percent);
		break;
	case GFSB_VERIFY_READ_ALL:
		snprintf(what, sizeof(what), "every pack");
		break;
	default:
		snprintf(what, sizeof(what), "no data");
		break;
	}
	rn_stage_end(r, name, GFSB_OK, 0, GFSB_REPORT_OK, "would check the "
	    "structure and read %s", what);
}

/* Ends a verification stage: damage fails it, warnings make it a
 * WARNING; frees the result, unless gfsb_ops_check keeps it. */
static void
verify_end(struct run *r, const char *stage, struct gfsb_verify_result *res)
{
	enum gfsb_report_status st;
	char summary[512];

	st = gfsb_ops_report_verify_stage(res, summary, sizeof(summary));
	/* Kept before the stage ends: stage_done may print it. */
	if (r->checked != NULL && strcmp(stage, "verify") == 0) {
		r->checked->verify = *res;
		memset(res, 0, sizeof(*res));
	}
	rn_stage_end(r, stage, st == GFSB_REPORT_FAILED ? GFSB_ECORRUPT :
	    GFSB_OK, 0, st, "%s", summary);
	gfsb_ops_verify_result_fini(res);
}

void
rn_report_fail(struct run *r, gfsb_err e)
{
	gfsb_ctx_log(r->ctx, GFSB_LOG_ERROR, "the report: %s", rn_why(r, e));
	if (r->res->report_err == GFSB_OK)
		r->res->report_err = e;
}

/* Verify repo at be (the repository, or its mirror: expect_lock). */
static gfsb_err
verify_copy(struct run *r, struct gfsb_repo *repo, struct gfsb_backend *be,
    int mirror, struct gfsb_verify_result *res)
{
	struct gfsb_verify_opts vo;
	char *state = NULL;
	gfsb_err e;

	verify_opts(r, &vo);
	if (mirror)
		vo.expect_lock = r->cfg->offsite_lock;
	if ((r->check == NULL || !r->check->no_state) &&
	    (e = gfsb_ops_state_file(r->ctx, r->o->state_base, repo, be,
	    GFSB_STATE_VERIFY, &state)) != GFSB_OK)
		return e;
	vo.state_file = state;
	vo.threads = mirror || gfsb_backend_is_remote(be) ? r->threads : 2;
	if (r->check != NULL && r->check->threads > 0)
		vo.threads = r->check->threads;
	e = gfsb_ops_verify(repo, &vo, res);
	free(state);
	return e;
}

/*
 * The copy of the repository at be opened anew with the keys in memory,
 * as the verifier of another night would open it: nothing of what the
 * backup, forget and prune stages loaded (the index above all) is
 * trusted, every object is read from storage again.  The cache as the
 * repository's own (remote storage has the default).
 */
static gfsb_err
open_fresh(struct run *r, struct gfsb_backend *be, struct gfsb_repo **out)
{
	gfsb_err e;

	if ((e = gfsb_repo_open_mirror(r->repo, be, out)) != GFSB_OK)
		return e;
	if ((r->o->no_cache || (r->o->cache_dir != NULL &&
	    gfsb_backend_is_remote(be))) && (e = gfsb_repo_set_cache(*out,
	    r->o->no_cache ? NULL : r->o->cache_dir)) != GFSB_OK) {
		gfsb_repo_close(*out);
		*out = NULL;
	}
	return e;
}

/* The verification could not run: the operators must hear of that above
 * all, in the stage's row and among the report's errors. */
static void
verify_failed(struct run *r, gfsb_err e)
{
	if (r->checked != NULL)
		r->checked->verify_err = e;
	if (gfsb_report_add_error(&r->res->rep, "verification could not run: "
	    "%s", rn_why(r, e)) != GFSB_OK)
		rn_report_fail(r, GFSB_ENOMEM);
	rn_stage_end(r, "verify", e, 0, GFSB_REPORT_FAILED, "could not run: "
	    "%s", rn_why(r, e));
}

void
rn_stage_verify(struct run *r)
{
	struct gfsb_verify_result res;
	struct gfsb_repo *fresh = NULL;
	gfsb_err e;

	rn_stage_begin(r);
	if (r->o->dry_run) {
		dry_verify(r, "verify");
		return;
	}
	if (rn_no_repo(r, "verify"))
		return;
	if (r->check != NULL && gfsb_repo_write_only(r->repo)) {
		verify_failed(r, gfsb_repo_need_full(r->repo, "verify: it "
		    "reads what it checks"));
		return;
	}
	if (rn_full_key_only(r, "verify", "read what it would verify: the "
	    "verifier with a full key does"))
		return;
	/* gfsb_ops_check's repository was opened for it: nothing loaded. */
	if (r->check != NULL)
		e = verify_copy(r, r->repo, gfsb_repo_backend(r->repo), 0,
		    &res);
	else if ((e = open_fresh(r, gfsb_repo_backend(r->repo), &fresh)) ==
	    GFSB_OK)
		e = verify_copy(r, fresh, gfsb_repo_backend(r->repo), 0, &res);
	gfsb_repo_close(fresh);
	if (e != GFSB_OK) {
		verify_failed(r, e);
		return;
	}
	/* The job's time, not the report's: that is filled last. */
	if ((e = gfsb_ops_report_verify(&r->res->rep, &res, &r->o->now)) !=
	    GFSB_OK)
		rn_report_fail(r, e);
	verify_end(r, "verify", &res);
}

void
rn_stage_verify_offsite(struct run *r)
{
	struct gfsb_verify_result res;
	struct gfsb_repo *mirror = NULL;
	gfsb_err e;

	rn_stage_begin(r);
	if (r->o->dry_run) {
		dry_verify(r, "verify-offsite");
		return;
	}
	if (rn_full_key_only(r, "verify-offsite", "read what it would "
	    "verify: the verifier with a full key does"))
		return;
	if (r->repo == NULL || r->offsite == NULL) {
		rn_stage_end(r, "verify-offsite", GFSB_EINVAL, 0,
		    GFSB_REPORT_FAILED, "skipped: the offsite copy could not "
		    "be synced");
		return;
	}
	if ((e = open_fresh(r, r->offsite, &mirror)) != GFSB_OK) {
		rn_stage_failed(r, "verify-offsite", e);
	} else if ((e = verify_copy(r, mirror, r->offsite, 1, &res)) !=
	    GFSB_OK) {
		rn_stage_failed(r, "verify-offsite", e);
	} else {
		if ((e = gfsb_ops_report_verify_problems(&r->res->rep, &res,
		    "offsite: ")) != GFSB_OK)
			rn_report_fail(r, e);
		verify_end(r, "verify-offsite", &res);
	}
	gfsb_repo_close(mirror);
}

/* The drill itself, recorded in record; a stage line either way. */
static int
drill_run(struct run *r, struct gfsb_backend *be, const char *record)
{
	const struct gfsb_config *cfg = r->cfg;
	struct gfsb_drill_result res;
	struct gfsb_drill_opts o;
	char line[4400];
	gfsb_err e;
	int ran;

	memset(&o, 0, sizeof(o));
	o.size = cfg->drill;
	o.scratch = cfg->drill_scratch;
	o.progress = r->o->drill_progress;
	o.progress_cookie = r->o->cookie;
	o.no_lock = r->check != NULL && r->check->no_lock;
	memset(&res, 0, sizeof(res));
	e = gfsb_ops_drill_copy(r->repo, be, &o, record, &r->o->now, &res);
	if ((ran = e == GFSB_OK || res.failed > 0)) {
		gfsb_ops_drill_summary(&res, gfsb_backend_location(be), line,
		    sizeof(line));
		rn_stage_end(r, "drill", res.failed > 0 ? GFSB_ECORRUPT : e, 0,
		    res.failed > 0 ? GFSB_REPORT_FAILED : cfg->rto > 0 &&
		    res.projected > (double)cfg->rto ? GFSB_REPORT_WARNING :
		    GFSB_REPORT_OK, "%s", line);
	} else {
		if (gfsb_report_add_error(&r->res->rep, "restore drill could "
		    "not run: %s", rn_why(r, e)) != GFSB_OK)
			rn_report_fail(r, GFSB_ENOMEM);
		rn_stage_end(r, "drill", e, 0, GFSB_REPORT_FAILED, "could not "
		    "run: %s", rn_why(r, e));
	}
	gfsb_ops_drill_result_fini(&res);
	return ran;
}

/*
 * The restore drill on its schedule, from the offsite copy when there is
 * one (else from the repository).  The report shows the last drill on
 * the nights none is due.
 */
void
rn_stage_drill(struct run *r)
{
	const struct gfsb_config *cfg = r->cfg;
	struct gfsb_backend *be;
	char *record = NULL, size[32];
	int ran = 0;
	gfsb_err e;

	if (cfg->drill == 0 || r->repo == NULL)
		return;
	be = cfg->offsite_url != NULL ? r->offsite : gfsb_repo_backend(r->repo);
	rn_stage_begin(r);
	if (rn_full_key_only(r, "drill", "restore"))
		return;
	gfsb_size_format(cfg->drill, size, sizeof(size));
	if (be == NULL && r->check != NULL) {
		rn_stage_end(r, "drill", GFSB_EINVAL, 0, GFSB_REPORT_FAILED,
		    "skipped: cannot open %s: %s", cfg->offsite_url,
		    r->offsite_error != NULL ? r->offsite_error : "?");
		return;
	}
	if (r->o->dry_run || be == NULL) {
		rn_stage_end(r, "drill", r->o->dry_run ? GFSB_OK : GFSB_EINVAL,
		    0, r->o->dry_run ? GFSB_REPORT_OK : GFSB_REPORT_FAILED,
		    r->o->dry_run ? "would restore about %s of the newest "
		    "snapshot, if due" : "skipped: the offsite copy could not "
		    "be synced", size);
		return;
	}
	if ((e = gfsb_ops_state_file(r->ctx, r->o->state_base, r->repo, be,
	    GFSB_STATE_DRILL, &record)) != GFSB_OK) {
		rn_stage_failed(r, "drill", e);
		return;
	}
	/* drill_every 0: asked for now (gfsb_ops_check), not scheduled. */
	if (cfg->drill_every > 0 &&
	    !gfsb_ops_drill_due(r->ctx, record, &r->o->now, cfg->drill_every))
		rn_stage_end(r, "drill", GFSB_OK, 0, GFSB_REPORT_OK, "not due "
		    "tonight (one every %u days)", cfg->drill_every);
	else
		ran = drill_run(r, be, record);
	if ((e = gfsb_ops_report_drill(&r->res->rep, r->ctx, record, ran,
	    (double)cfg->rto, (int)cfg->drill_every)) != GFSB_OK)
		rn_report_fail(r, e);
	free(record);
}

/* For gfsb_ops_check's report: how far the offsite copy is behind. */
static void
check_offsite(struct run *r)
{
	struct gfsb_report *rep = &r->res->rep;
	gfsb_err e;

	if (r->cfg->offsite_url == NULL)
		return;
	if (r->offsite == NULL) {
		rep->offsite = GFSB_OFFSITE_UNKNOWN;
		if ((rep->offsite_repo = strdup(r->cfg->offsite_url)) == NULL ||
		    (rep->offsite_error = strdup(r->o->offsite_error != NULL ?
		    r->o->offsite_error : "cannot open it")) == NULL)
			rn_report_fail(r, GFSB_ENOMEM);
		return;
	}
	if ((e = gfsb_ops_report_fill_offsite(r->repo, rep, r->offsite,
	    r->cfg->offsite_url, r->threads)) != GFSB_OK)
		rn_report_fail(r, e);
}

/*
 * Where the report is saved: the configuration's directory; else the
 * daily job's STATE/reports, and gfsb_ops_check's reports/ beside the
 * verification state of its repository (STATE/<repository id>/).
 */
static void
report_dir(struct run *r)
{
	char *state = NULL, *slash;
	size_t len = sizeof(r->res->report_dir);

	if (r->cfg->report_dir != NULL) {
		snprintf(r->res->report_dir, len, "%s", r->cfg->report_dir);
		return;
	}
	snprintf(r->res->report_dir, len, "%s/reports", r->o->state_base);
	if (r->check == NULL || gfsb_ops_state_file(r->ctx, r->o->state_base,
	    r->repo, gfsb_repo_backend(r->repo), GFSB_STATE_VERIFY, &state) !=
	    GFSB_OK)
		return;
	if ((slash = strrchr(state, '/')) != NULL)
		snprintf(r->res->report_dir, len, "%.*s/reports",
		    (int)(slash - state), state);
	free(state);
}

/*
 * The daily job's metrics file, before the report goes: a file that
 * cannot be written is a warning there (the job's outcome stands).  The
 * last success is the job's own memory.
 */
static void
metrics(struct run *r)
{
	int64_t last = rn_state_get(r, "last_success", 0);
	gfsb_err e;

	if (r->res->failed == NULL) {
		last = r->o->now.sec;
		rn_state_set(r, "last_success", last);
	}
	gfsb_ctx_clearerr(r->ctx);
	if ((e = gfsb_ops_monitor_metrics(r->ctx, r->cfg->metrics_file,
	    r->res, last)) == GFSB_OK)
		return;
	r->res->metrics_err = e;
	snprintf(r->res->metrics_error, sizeof(r->res->metrics_error), "%s",
	    rn_why(r, e));
	if (gfsb_report_add_warning(&r->res->rep, "%s", rn_why(r, e)) !=
	    GFSB_OK)
		rn_report_fail(r, GFSB_ENOMEM);
	gfsb_ctx_clearerr(r->ctx);
}

/* The report's facts from the repository (or, when it could not be
 * opened, only whose report it is); saved and mailed unless dry. */
void
rn_stage_report(struct run *r)
{
	const struct gfsb_config *cfg = r->cfg;
	struct gfsb_report *rep = &r->res->rep;
	struct gfsb_report_delivery d;
	struct gfsb_mail_opts mo;
	char host[256];
	gfsb_err e;

	rn_stage_begin(r);
	if (r->repo != NULL) {
		if ((e = gfsb_ops_report_fill_repo(r->repo, rep, cfg->repo_url,
		    cfg->policy, &r->o->now)) != GFSB_OK)
			rn_report_fail(r, e);
	} else {
		gfsb_sys_hostname(host, sizeof(host));
		rep->now = r->o->now;
		if ((rep->host = strdup(host)) == NULL ||
		    (rep->repo = strdup(cfg->repo_url)) == NULL)
			rn_report_fail(r, GFSB_ENOMEM);
	}
	if (r->check != NULL)
		check_offsite(r);
	if (r->cfg->offsite_url != NULL)
		rep->offsite_synced.sec = rn_state_get(r, "last_sync", 0);
	report_dir(r);
	if (r->o->dry_run)
		return;
	if (r->check == NULL && r->cfg->metrics_file != NULL)
		metrics(r);
	memset(&mo, 0, sizeof(mo));
	mo.url = cfg->smtp_url;
	mo.from = cfg->mail_from;
	mo.to = (const char *const *)cfg->mail_to;
	mo.nto = cfg->nmail_to;
	mo.user = cfg->smtp_user;
	mo.password_file = cfg->smtp_password_file;
	mo.cacert = cfg->smtp_cacert;
	memset(&d, 0, sizeof(d));
	d.dir = r->res->report_dir;
	d.keep_days = cfg->report_keep_days;
	d.mail = cfg->smtp_url != NULL ? &mo : NULL;
	d.failures_only = cfg->send_failures_only;
	gfsb_ctx_clearerr(r->ctx);
	if ((e = gfsb_ops_report_deliver(r->ctx, rep, &d)) != GFSB_OK &&
	    r->res->report_err == GFSB_OK)
		r->res->report_err = e;
	r->res->report_seconds = rn_since(&r->t0);
}