/*
 * The daily job (gfsb_ops_run), in order: backup, forget per policy,
 * prune on its schedule, the repository's Object Lock dates, sync
 * offsite, verify (local and offsite), the restore drill, the report.
 * A stage that fails does not hide the others: each runs if what it
 * needs is there, each ends with one line (its summary), the report
 * shows them all, and the first failure is the job's.  The caller opens
 * the repository and the offsite copy and says what the stages did; the
 * library decides what runs, in what order, and what it came to.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include <gfsbackup/crypto.h>
#include <gfsbackup/gfs.h>
#include <gfsbackup/ops.h>
#include <gfsbackup/report.h>

struct run {
	const struct gfsb_run_opts *o;
	const struct gfsb_config *cfg;
	struct gfsb_ctx *ctx;
	struct gfsb_repo *repo;
	struct gfsb_backend *offsite;	/* NULL once sync failed */
	struct gfsb_run_result *res;
	struct gfsb_time t0;		/* start of the current stage */
	unsigned threads;		/* transfers at once */
};

static double
since(const struct gfsb_time *t0)
{
	struct gfsb_time t;

	gfsb_time_now(&t);
	return (double)(t.sec - t0->sec) + (t.nsec - t0->nsec) / 1e9;
}

static void
stage_begin(struct run *r)
{
	gfsb_time_now(&r->t0);
	gfsb_ctx_clearerr(r->ctx);
}

static void
stage_end(struct run *r, const char *name, gfsb_err err, int partial,
    enum gfsb_report_status status, const char *fmt, ...) GFSB_PRINTF(6, 7);

/* Record a stage's end; the first failure is the job's. */
static void
stage_end(struct run *r, const char *name, gfsb_err err, int partial,
    enum gfsb_report_status status, const char *fmt, ...)
{
	struct gfsb_run_result *res = r->res;
	struct gfsb_run_stage *s;
	va_list ap;

	if (res->nstages == GFSB_RUN_MAX_STAGES)
		return;
	s = &res->stages[res->nstages++];
	s->name = name;
	s->err = err;
	s->partial = partial;
	s->status = status;
	s->seconds = since(&r->t0);
	va_start(ap, fmt);
	vsnprintf(s->summary, sizeof(s->summary), fmt, ap);
	va_end(ap);
	if (err != GFSB_OK && res->failed == NULL)
		res->failed = s;
	res->partial |= partial;
	if (r->o->stage_done != NULL)
		r->o->stage_done(r->o->cookie, s, r->o->dry_run);
	if (gfsb_report_add_stage(&res->rep, name, status, "%s", s->summary) !=
	    GFSB_OK && res->report_err == GFSB_OK)
		res->report_err = GFSB_ENOMEM;
	gfsb_ctx_clearerr(r->ctx);
}

/* The detail of the last error, or the error's name. */
static const char *
why(struct run *r, gfsb_err e)
{
	const char *m = gfsb_ctx_errmsg(r->ctx);

	return *m != '\0' ? m : gfsb_strerror(e);
}

static void
stage_failed(struct run *r, const char *name, gfsb_err e)
{
	stage_end(r, name, e, 0, GFSB_REPORT_FAILED, "%s", why(r, e));
}

/* A stage that needs the repository, which could not be opened. */
static int
no_repo(struct run *r, const char *name)
{
	if (r->repo != NULL)
		return 0;
	stage_end(r, name, r->o->open_err != GFSB_OK ? r->o->open_err :
	    GFSB_ENOREPO, 0, GFSB_REPORT_FAILED, "skipped: the repository "
	    "could not be opened");
	return 1;
}

/* ---- the job's own state: when prune last ran ---- */

static char *
runstate_path(struct run *r)
{
	char *p;

	if (r->repo == NULL || asprintf(&p, "%s/%s/run.json",
	    r->o->state_base, gfsb_repo_id(r->repo)) < 0)
		return NULL;
	return p;
}

static int64_t
last_prune_day(struct run *r)
{
	char *path = runstate_path(r);
	json_t *j;
	int64_t d = INT64_MIN;

	if (path == NULL)
		return d;
	if ((j = json_load_file(path, 0, NULL)) != NULL &&
	    json_is_integer(json_object_get(j, "last_prune_day")))
		d = json_integer_value(json_object_get(j, "last_prune_day"));
	json_decref(j);
	free(path);
	return d;
}

static void
save_prune_day(struct run *r, int64_t day)
{
	char *path = runstate_path(r), *tmp = NULL, *slash;
	json_t *j = NULL;

	if (path == NULL)
		return;
	slash = strrchr(path, '/');
	*slash = '\0';
	gfsb_sys_mkdirs(path);
	*slash = '/';
	if (asprintf(&tmp, "%s.tmp", path) >= 0 &&
	    (j = json_pack("{s:I}", "last_prune_day", (json_int_t)day)) !=
	    NULL && json_dump_file(j, tmp, JSON_COMPACT) == 0 &&
	    rename(tmp, path) != 0)
		unlink(tmp);
	json_decref(j);
	free(tmp);
	free(path);
}

/* ---- the stages ---- */

/* The exclude patterns: the configuration's, then its exclude file's. */
static gfsb_err
excludes(struct run *r, const char ***v, size_t *n, char ***file,
    size_t *nfile)
{
	const struct gfsb_config *cfg = r->cfg;
	size_t i;
	gfsb_err e;

	*v = NULL;
	*n = *nfile = 0;
	*file = NULL;
	if (cfg->exclude_file != NULL && (e = gfsb_ops_patterns_read_file(
	    r->ctx, cfg->exclude_file, file, nfile)) != GFSB_OK)
		return e;
	if ((*v = calloc(cfg->nexcludes + *nfile + 1, sizeof(**v))) == NULL)
		return GFSB_ENOMEM;
	for (i = 0; i < cfg->nexcludes; i++)
		(*v)[(*n)++] = cfg->excludes[i];
	for (i = 0; i < *nfile; i++)
		(*v)[(*n)++] = (*file)[i];
	return GFSB_OK;
}

static void
backup_end(struct run *r, const struct gfsb_backup_result *res)
{
	const struct gfsb_snapshot_summary *m = &res->summary;
	char added[32], stored[32], total[32];
	int partial = m->warnings > 0;

	snprintf(r->res->snapshot, sizeof(r->res->snapshot), "%s",
	    res->snapshot_id);
	gfsb_size_format(m->total_bytes_processed, total, sizeof(total));
	gfsb_size_format(m->data_added, added, sizeof(added));
	gfsb_size_format(m->data_added_packed, stored, sizeof(stored));
	stage_end(r, "backup", GFSB_OK, partial, partial ?
	    GFSB_REPORT_WARNING : GFSB_REPORT_OK, "snapshot %.8s: %llu files "
	    "(%llu new, %llu changed), %s processed, %s new data (%s "
	    "stored)%s", res->snapshot_id,
	    (unsigned long long)m->total_files_processed,
	    (unsigned long long)m->files_new,
	    (unsigned long long)m->files_changed, total, added, stored,
	    partial ? "; some files could not be read" : "");
}

static void
stage_backup(struct run *r)
{
	const struct gfsb_config *cfg = r->cfg;
	struct gfsb_backup_opts bo;
	struct gfsb_backup_result res;
	const char **excl = NULL;
	char **fromfile = NULL;
	size_t nexcl = 0, nfrom = 0, i;
	gfsb_err e;

	stage_begin(r);
	if ((e = excludes(r, &excl, &nexcl, &fromfile, &nfrom)) != GFSB_OK) {
		stage_failed(r, "backup", e);
	} else if (r->o->dry_run) {
		stage_end(r, "backup", GFSB_OK, 0, GFSB_REPORT_OK, "would back "
		    "up %zu paths (%s%s) with %zu exclude patterns",
		    cfg->npaths, cfg->paths[0], cfg->npaths > 1 ? ", ..." : "",
		    nexcl);
	} else if (!no_repo(r, "backup")) {
		memset(&bo, 0, sizeof(bo));
		bo.paths = (const char *const *)cfg->paths;
		bo.npaths = cfg->npaths;
		bo.excludes = excl;
		bo.nexcludes = nexcl;
		bo.tags = (const char *const *)cfg->tags;
		bo.ntags = cfg->ntags;
		bo.host = cfg->host;
		bo.one_file_system = cfg->one_file_system;
		bo.has_time = r->o->has_time;
		bo.time = r->o->now;
		if ((e = gfsb_ops_backup(r->repo, &bo, &res)) != GFSB_OK)
			stage_failed(r, "backup", e);
		else
			backup_end(r, &res);
	}
	for (i = 0; i < nfrom; i++)
		free(fromfile[i]);
	free(fromfile);
	free(excl);
}

static void
stage_forget(struct run *r)
{
	struct gfsb_forget_opts fo;
	struct gfsb_forget_result fr;
	gfsb_err e;

	stage_begin(r);
	if (no_repo(r, "forget"))
		return;
	memset(&fo, 0, sizeof(fo));
	fo.policy = r->cfg->policy;
	fo.group_by = GFSB_GROUP_HOST | GFSB_GROUP_PATHS;
	fo.dry_run = r->o->dry_run;
	fo.has_now = 1;
	fo.now = r->o->now;
	e = gfsb_ops_forget(r->repo, &fo, &fr);
	if (e != GFSB_OK) {
		stage_failed(r, "forget", e);
	} else {
		r->res->rep.retention_ran = !r->o->dry_run;
		r->res->rep.snapshots_removed = fr.removed;
		stage_end(r, "forget", GFSB_OK, 0, GFSB_REPORT_OK, "%s %zu of "
		    "%zu snapshots, kept %zu", r->o->dry_run ? "would remove" :
		    "removed", fr.removed, fr.nall, fr.kept);
	}
	gfsb_ops_forget_fini(&fr);
}

static void
stage_prune(struct run *r)
{
	struct gfsb_prune_opts po;
	struct gfsb_prune_result pr;
	int64_t today = gfsb_ops_verify_day(&r->o->now), last;
	char freed[32];
	gfsb_err e;

	stage_begin(r);
	if (r->cfg->prune == GFSB_PRUNE_NEVER || no_repo(r, "prune"))
		return;
	last = last_prune_day(r);
	if (r->cfg->prune == GFSB_PRUNE_WEEKLY && last != INT64_MIN &&
	    today - last < 7 && today >= last) {
		stage_end(r, "prune", GFSB_OK, 0, GFSB_REPORT_OK, "not due "
		    "(weekly; last pruned %lld days ago)",
		    (long long)(today - last));
		return;
	}
	memset(&po, 0, sizeof(po));
	po.max_unused = 0.05;
	po.dry_run = r->o->dry_run;
	if ((e = gfsb_ops_prune(r->repo, &po, &pr)) != GFSB_OK) {
		stage_failed(r, "prune", e);
		return;
	}
	if (!r->o->dry_run)
		save_prune_day(r, today);
	r->res->rep.prune_ran = !r->o->dry_run;
	r->res->rep.packs_freed = pr.st.packs_deleted + pr.st.packs_repacked;
	r->res->rep.bytes_freed = pr.st.bytes_freed;
	gfsb_size_format(pr.st.bytes_freed, freed, sizeof(freed));
	stage_end(r, "prune", GFSB_OK, 0, GFSB_REPORT_OK, "%s %s: %llu packs "
	    "deleted, %llu repacked", r->o->dry_run ? "would free" : "freed",
	    freed, (unsigned long long)pr.st.packs_deleted,
	    (unsigned long long)pr.st.packs_repacked);
}

/* The mirror's locks in one line: extended, and what waits on them. */
static void
lock_summary(const struct gfsb_sync_result *sr, char *buf, size_t len)
{
	char until[64];
	struct gfsb_time t;
	int n;

	buf[0] = '\0';
	if (sr->locked == GFSB_LOCK_NONE)
		return;
	n = snprintf(buf, len, "offsite Object Lock (%s): %llu dates "
	    "extended, %llu requests in %.1f s",
	    gfsb_lock_mode_name(sr->locked),
	    (unsigned long long)sr->locks.extended,
	    (unsigned long long)sr->locks.requests, sr->locks.seconds);
	if (sr->locks.waiting == 0 || n < 0 || (size_t)n >= len)
		return;
	t.sec = sr->locks.waiting_until;
	t.nsec = 0;
	gfsb_time_format_local(&t, until, sizeof(until));
	snprintf(buf + n, len - (size_t)n, "; %llu objects the repository "
	    "deleted wait on their locks, until %s at the latest",
	    (unsigned long long)sr->locks.waiting, until);
}

/* How the night's Object Lock dates are derived, for one copy (the
 * repository or its mirror at be); *ledger is the caller's to free. */
static gfsb_err
lock_opts(struct run *r, struct gfsb_backend *be, struct gfsb_lock_opts *lo,
    char **ledger)
{
	gfsb_err e;

	memset(lo, 0, sizeof(*lo));
	if ((e = gfsb_ops_state_file(r->ctx, r->o->state_base, r->repo, be,
	    GFSB_STATE_LOCKS, ledger)) != GFSB_OK)
		return e;
	lo->policy = r->cfg->policy;
	lo->now = r->o->now;
	lo->margin = r->cfg->lock_margin;
	lo->ledger = *ledger;
	lo->threads = r->threads;
	return GFSB_OK;
}

/* A repository locked itself (an S3 repository made with init
 * --object-lock): the night's promotions extend its objects' locks. */
static void
stage_locks(struct run *r)
{
	struct gfsb_lock_opts lo;
	struct gfsb_lock_result lr;
	char *ledger = NULL;
	gfsb_err e;

	if (r->repo == NULL || gfsb_repo_lock_mode(r->repo) == GFSB_LOCK_NONE)
		return;
	stage_begin(r);
	if (r->o->dry_run) {
		stage_end(r, "locks", GFSB_OK, 0, GFSB_REPORT_OK, "would "
		    "extend the Object Lock dates of %s", r->cfg->repo_url);
		return;
	}
	if ((e = lock_opts(r, gfsb_repo_backend(r->repo), &lo, &ledger)) ==
	    GFSB_OK)
		e = gfsb_ops_lock_extend(r->repo, &lo, &lr);
	free(ledger);
	if (e != GFSB_OK) {
		stage_failed(r, "locks", e);
		return;
	}
	stage_end(r, "locks", GFSB_OK, 0, GFSB_REPORT_OK, "%llu Object Lock "
	    "dates extended, %llu requests in %.1f s",
	    (unsigned long long)lr.extended, (unsigned long long)lr.requests,
	    lr.seconds);
}

static void
sync_end(struct run *r, const struct gfsb_sync_result *sr)
{
	struct gfsb_report *rep = &r->res->rep;
	char b[32], locks[256];

	gfsb_size_format(sr->copied_bytes, b, sizeof(b));
	if (r->o->dry_run) {
		rep->offsite = sr->copied == 0 && sr->deleted == 0 ?
		    GFSB_OFFSITE_IN_SYNC : GFSB_OFFSITE_BEHIND;
		rep->behind_objects = sr->copied;
		rep->behind_bytes = sr->copied_bytes;
		stage_end(r, "sync", GFSB_OK, 0, GFSB_REPORT_OK, "would copy "
		    "%llu objects (%s) and delete %llu at %s",
		    (unsigned long long)sr->copied, b,
		    (unsigned long long)sr->deleted, r->cfg->offsite_url);
		return;
	}
	rep->offsite = sr->failed == 0 ? GFSB_OFFSITE_IN_SYNC :
	    GFSB_OFFSITE_BEHIND;
	rep->behind_objects = sr->failed;
	lock_summary(sr, locks, sizeof(locks));
	stage_end(r, "sync", GFSB_OK, 0, GFSB_REPORT_OK, "%scopied %llu "
	    "objects (%s), deleted %llu, kept %llu the repository no longer "
	    "has: %s is in sync%s%s", sr->initialized ? "created the mirror; " :
	    "", (unsigned long long)sr->copied, b,
	    (unsigned long long)sr->deleted, (unsigned long long)sr->kept,
	    r->cfg->offsite_url, locks[0] != '\0' ? "; " : "", locks);
}

static void
stage_sync(struct run *r)
{
	struct gfsb_sync_opts so;
	struct gfsb_sync_result sr;
	struct gfsb_lock_opts lo;
	char *ledger = NULL;
	gfsb_err e;

	stage_begin(r);
	if ((r->res->rep.offsite_repo = strdup(r->cfg->offsite_url)) == NULL) {
		stage_failed(r, "sync", GFSB_ENOMEM);
		return;
	}
	r->res->rep.offsite = GFSB_OFFSITE_UNKNOWN;
	if (no_repo(r, "sync"))
		return;
	if (r->offsite == NULL) {
		stage_end(r, "sync", GFSB_EINVAL, 0, GFSB_REPORT_FAILED,
		    "cannot open %s: %s", r->cfg->offsite_url,
		    r->o->offsite_error != NULL ? r->o->offsite_error :
		    "not given");
		return;
	}
	memset(&so, 0, sizeof(so));
	so.dry_run = r->o->dry_run;
	so.threads = r->threads;
	so.delete_mode = r->cfg->offsite_delete;
	so.object_lock = r->cfg->offsite_lock;
	so.mirror_cache = r->o->no_cache ? NULL : r->o->cache_dir != NULL ?
	    r->o->cache_dir : "";
	if ((e = lock_opts(r, r->offsite, &lo, &ledger)) == GFSB_OK) {
		so.locks = &lo;
		e = gfsb_ops_sync(r->repo, r->offsite, &so, &sr);
	}
	free(ledger);
	if (e != GFSB_OK) {
		r->res->rep.offsite_error = strdup(why(r, e));
		stage_failed(r, "sync", e);
		/* A mirror we cannot write is not one to verify tonight. */
		r->offsite = NULL;
		return;
	}
	sync_end(r, &sr);
}

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
	stage_end(r, name, GFSB_OK, 0, GFSB_REPORT_OK, "would check the "
	    "structure and read %s", what);
}

/* Ends a verification stage: damage fails it, warnings make it a
 * WARNING; frees the result. */
static void
verify_end(struct run *r, const char *stage, struct gfsb_verify_result *res)
{
	enum gfsb_report_status st;
	char summary[512];

	st = gfsb_ops_report_verify_stage(res, summary, sizeof(summary));
	stage_end(r, stage, st == GFSB_REPORT_FAILED ? GFSB_ECORRUPT : GFSB_OK,
	    0, st, "%s", summary);
	gfsb_ops_verify_result_fini(res);
}

/* The report's facts could not be recorded (memory): said, and the job
 * fails with it. */
static void
report_fail(struct run *r, gfsb_err e)
{
	gfsb_ctx_log(r->ctx, GFSB_LOG_ERROR, "the report: %s", why(r, e));
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
	if ((e = gfsb_ops_state_file(r->ctx, r->o->state_base, repo, be,
	    GFSB_STATE_VERIFY, &state)) != GFSB_OK)
		return e;
	vo.state_file = state;
	vo.threads = mirror || gfsb_backend_is_remote(be) ? 4 : 2;
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

static void
stage_verify(struct run *r)
{
	struct gfsb_verify_result res;
	struct gfsb_repo *fresh = NULL;
	gfsb_err e;

	stage_begin(r);
	if (r->o->dry_run) {
		dry_verify(r, "verify");
		return;
	}
	if (no_repo(r, "verify"))
		return;
	if ((e = open_fresh(r, gfsb_repo_backend(r->repo), &fresh)) ==
	    GFSB_OK)
		e = verify_copy(r, fresh, gfsb_repo_backend(r->repo), 0, &res);
	gfsb_repo_close(fresh);
	if (e != GFSB_OK) {
		stage_failed(r, "verify", e);
		return;
	}
	/* The job's time, not the report's: that is filled last. */
	if ((e = gfsb_ops_report_verify(&r->res->rep, &res, &r->o->now)) !=
	    GFSB_OK)
		report_fail(r, e);
	verify_end(r, "verify", &res);
}

static void
stage_verify_offsite(struct run *r)
{
	struct gfsb_verify_result res;
	struct gfsb_repo *mirror = NULL;
	gfsb_err e;

	stage_begin(r);
	if (r->o->dry_run) {
		dry_verify(r, "verify-offsite");
		return;
	}
	if (r->repo == NULL || r->offsite == NULL) {
		stage_end(r, "verify-offsite", GFSB_EINVAL, 0,
		    GFSB_REPORT_FAILED, "skipped: the offsite copy could not "
		    "be synced");
		return;
	}
	if ((e = open_fresh(r, r->offsite, &mirror)) != GFSB_OK) {
		stage_failed(r, "verify-offsite", e);
	} else if ((e = verify_copy(r, mirror, r->offsite, 1, &res)) !=
	    GFSB_OK) {
		stage_failed(r, "verify-offsite", e);
	} else {
		if ((e = gfsb_ops_report_verify_problems(&r->res->rep, &res,
		    "offsite: ")) != GFSB_OK)
			report_fail(r, e);
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
	memset(&res, 0, sizeof(res));
	e = gfsb_ops_drill_copy(r->repo, be, &o, record, &r->o->now, &res);
	if ((ran = e == GFSB_OK || res.failed > 0)) {
		gfsb_ops_drill_summary(&res, gfsb_backend_location(be), line,
		    sizeof(line));
		stage_end(r, "drill", res.failed > 0 ? GFSB_ECORRUPT : e, 0,
		    res.failed > 0 ? GFSB_REPORT_FAILED : cfg->rto > 0 &&
		    res.projected > (double)cfg->rto ? GFSB_REPORT_WARNING :
		    GFSB_REPORT_OK, "%s", line);
	} else {
		stage_end(r, "drill", e, 0, GFSB_REPORT_FAILED, "could not "
		    "run: %s", why(r, e));
	}
	gfsb_ops_drill_result_fini(&res);
	return ran;
}

/*
 * The restore drill on its schedule, from the offsite copy when there is
 * one (else from the repository).  The report shows the last drill on
 * the nights none is due.
 */
static void
stage_drill(struct run *r)
{
	const struct gfsb_config *cfg = r->cfg;
	struct gfsb_backend *be;
	char *record = NULL, size[32];
	int ran = 0;
	gfsb_err e;

	if (cfg->drill == 0 || r->repo == NULL)
		return;
	be = cfg->offsite_url != NULL ? r->offsite : gfsb_repo_backend(r->repo);
	stage_begin(r);
	gfsb_size_format(cfg->drill, size, sizeof(size));
	if (r->o->dry_run || be == NULL) {
		stage_end(r, "drill", r->o->dry_run ? GFSB_OK : GFSB_EINVAL, 0,
		    r->o->dry_run ? GFSB_REPORT_OK : GFSB_REPORT_FAILED,
		    r->o->dry_run ? "would restore about %s of the newest "
		    "snapshot, if due" : "skipped: the offsite copy could not "
		    "be synced", size);
		return;
	}
	if ((e = gfsb_ops_state_file(r->ctx, r->o->state_base, r->repo, be,
	    GFSB_STATE_DRILL, &record)) != GFSB_OK) {
		stage_failed(r, "drill", e);
		return;
	}
	if (!gfsb_ops_drill_due(r->ctx, record, &r->o->now, cfg->drill_every))
		stage_end(r, "drill", GFSB_OK, 0, GFSB_REPORT_OK, "not due "
		    "tonight (one every %u days)", cfg->drill_every);
	else
		ran = drill_run(r, be, record);
	if ((e = gfsb_ops_report_drill(&r->res->rep, r->ctx, record, ran,
	    (double)cfg->rto, (int)cfg->drill_every)) != GFSB_OK)
		report_fail(r, e);
	free(record);
}

/* The report's facts from the repository (or, when it could not be
 * opened, only whose report it is); saved and mailed unless dry. */
static void
stage_report(struct run *r)
{
	const struct gfsb_config *cfg = r->cfg;
	struct gfsb_report *rep = &r->res->rep;
	struct gfsb_report_delivery d;
	struct gfsb_mail_opts mo;
	char host[256];
	gfsb_err e;

	stage_begin(r);
	if (r->repo != NULL) {
		if ((e = gfsb_ops_report_fill_repo(r->repo, rep, cfg->repo_url,
		    cfg->policy, &r->o->now)) != GFSB_OK)
			report_fail(r, e);
	} else {
		gfsb_sys_hostname(host, sizeof(host));
		rep->now = r->o->now;
		if ((rep->host = strdup(host)) == NULL ||
		    (rep->repo = strdup(cfg->repo_url)) == NULL)
			report_fail(r, GFSB_ENOMEM);
	}
	if (cfg->report_dir != NULL)
		snprintf(r->res->report_dir, sizeof(r->res->report_dir), "%s",
		    cfg->report_dir);
	else
		snprintf(r->res->report_dir, sizeof(r->res->report_dir),
		    "%s/reports", r->o->state_base);
	if (r->o->dry_run)
		return;
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
	r->res->report_seconds = since(&r->t0);
}

gfsb_err
gfsb_ops_run(const struct gfsb_run_opts *o, struct gfsb_run_result *res)
{
	const struct gfsb_config *cfg = o->cfg;
	struct run r;

	memset(res, 0, sizeof(*res));
	gfsb_report_init(&res->rep);
	memset(&r, 0, sizeof(r));
	r.o = o;
	r.cfg = cfg;
	r.ctx = o->ctx;
	r.repo = o->repo;
	r.offsite = o->offsite;
	r.res = res;
	r.threads = o->connections > 0 ? o->connections : 4;
	if (o->repo == NULL) {
		stage_begin(&r);
		stage_end(&r, "open", o->open_err != GFSB_OK ? o->open_err :
		    GFSB_ENOREPO, 0, GFSB_REPORT_FAILED, "cannot open the "
		    "repository %s: %s", cfg->repo_url, o->open_error != NULL &&
		    *o->open_error != '\0' ? o->open_error : "see above");
	}
	stage_backup(&r);
	if (cfg->policy != NULL) {
		stage_forget(&r);
		stage_prune(&r);
	}
	stage_locks(&r);
	if (cfg->offsite_url != NULL)
		stage_sync(&r);
	stage_verify(&r);
	if (cfg->offsite_url != NULL)
		stage_verify_offsite(&r);
	stage_drill(&r);
	stage_report(&r);
	return res->report_err == GFSB_ENOMEM ? GFSB_ENOMEM : GFSB_OK;
}

void
gfsb_ops_run_result_fini(struct gfsb_run_result *res)
{
	gfsb_report_fini(&res->rep);
	memset(res, 0, sizeof(*res));
}

gfsb_err
gfsb_ops_run_lock(struct gfsb_ctx *ctx, const struct gfsb_config *cfg,
    const char *state_base, int *fdp)
{
	char path[4300], hex[GFSB_ID_HEX], real[PATH_MAX], info[128],
	    when[64];
	const char *key = cfg->path;
	struct gfsb_time t;
	ssize_t n;
	int fd, err;

	*fdp = -1;
	if (realpath(cfg->path, real) != NULL)
		key = real;
	gfsb_crypto_sha256_hex(key, strlen(key), hex);
	if ((err = gfsb_sys_mkdirs(state_base)) != 0)
		return gfsb_ctx_seterr(ctx, GFSB_EIO, "cannot create the state "
		    "directory %s: %s", state_base, strerror(err));
	snprintf(path, sizeof(path), "%s/run-%.16s.lock", state_base, hex);
	if ((fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600)) < 0)
		return gfsb_ctx_seterr(ctx, GFSB_EIO, "cannot open the run "
		    "lock %s: %s", path, strerror(errno));
	if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
		n = pread(fd, info, sizeof(info) - 1, 0);
		info[n > 0 ? n : 0] = '\0';
		info[strcspn(info, "\n")] = '\0';
		close(fd);
		return gfsb_ctx_seterr(ctx, GFSB_ELOCKED, "another run of %s "
		    "is in progress (%s); this one stops", cfg->path,
		    *info ? info : "pid unknown");
	}
	gfsb_time_now(&t);
	gfsb_time_format_local(&t, when, sizeof(when));
	n = snprintf(info, sizeof(info), "pid %ld since %s\n", (long)getpid(),
	    when);
	/* Only informative: a failure here blocks nothing. */
	if (ftruncate(fd, 0) == 0)
		(void)gfsb_sys_write_full(fd, info, (size_t)n);
	*fdp = fd;
	return GFSB_OK;
}
