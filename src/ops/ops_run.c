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

#include "ops_run.h"

double
rn_since(const struct gfsb_time *t0)
{
	struct gfsb_time t;

	gfsb_time_now(&t);
	return (double)(t.sec - t0->sec) + (t.nsec - t0->nsec) / 1e9;
}

void
rn_stage_begin(struct run *r)
{
	gfsb_time_now(&r->t0);
	gfsb_ctx_clearerr(r->ctx);
}

void
rn_stage_end(struct run *r, const char *name, gfsb_err err, int partial,
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
	s->seconds = rn_since(&r->t0);
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

const char *
rn_why(struct run *r, gfsb_err e)
{
	const char *m = gfsb_ctx_errmsg(r->ctx);

	return *m != '\0' ? m : gfsb_strerror(e);
}

void
rn_stage_failed(struct run *r, const char *name, gfsb_err e)
{
	rn_stage_end(r, name, e, 0, GFSB_REPORT_FAILED, "%s", rn_why(r, e));
}

int
rn_no_repo(struct run *r, const char *name)
{
	if (r->repo != NULL)
		return 0;
	rn_stage_end(r, name, r->open_err != GFSB_OK ? r->open_err :
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

/* The value of key in the job's state, or dflt. */
int64_t
rn_state_get(struct run *r, const char *key, int64_t dflt)
{
	char *path = runstate_path(r);
	json_t *j;
	int64_t d = dflt;

	if (path == NULL)
		return d;
	if ((j = json_load_file(path, 0, NULL)) != NULL &&
	    json_is_integer(json_object_get(j, key)))
		d = json_integer_value(json_object_get(j, key));
	json_decref(j);
	free(path);
	return d;
}

/* Set key in the job's state (the others kept); written whole or not. */
void
rn_state_set(struct run *r, const char *key, int64_t value)
{
	char *path = runstate_path(r), *tmp = NULL, *slash;
	json_t *j = NULL;

	if (path == NULL)
		return;
	slash = strrchr(path, '/');
	*slash = '\0';
	gfsb_sys_mkdirs(path);
	*slash = '/';
	if ((j = json_load_file(path, 0, NULL)) == NULL || !json_is_object(j)) {
		json_decref(j);
		j = json_object();
	}
	if (j != NULL && asprintf(&tmp, "%s.tmp", path) >= 0 &&
	    json_object_set_new(j, key, json_integer((json_int_t)value)) ==
	    0 && json_dump_file(j, tmp, JSON_COMPACT) == 0 &&
	    rename(tmp, path) != 0)
		unlink(tmp);
	json_decref(j);
	free(tmp);
	free(path);
}

/* ---- the stages ---- */

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
	rn_stage_end(r, "backup", GFSB_OK, partial, partial ?
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
	const char *files[1] = { cfg->exclude_file };
	struct gfsb_backup_opts bo;
	struct gfsb_backup_result res;
	gfsb_err e;

	rn_stage_begin(r);
	if (r->before_failed) {
		rn_stage_end(r, "backup", GFSB_EINVAL, 0, GFSB_REPORT_FAILED,
		    "skipped: the before hook failed");
		return;
	}
	if (r->o->dry_run) {
		rn_stage_end(r, "backup", GFSB_OK, 0, GFSB_REPORT_OK, "would back "
		    "up %zu paths (%s%s) with %zu exclude patterns%s%s",
		    cfg->npaths, cfg->paths[0], cfg->npaths > 1 ? ", ..." : "",
		    cfg->nexcludes, cfg->exclude_file != NULL ? " and those of " :
		    "", cfg->exclude_file != NULL ? cfg->exclude_file : "");
		return;
	}
	if (rn_no_repo(r, "backup"))
		return;
	memset(&bo, 0, sizeof(bo));
	bo.paths = (const char *const *)cfg->paths;
	bo.npaths = cfg->npaths;
	bo.excludes = (const char *const *)cfg->excludes;
	bo.nexcludes = cfg->nexcludes;
	bo.exclude_files = files;
	bo.nexclude_files = cfg->exclude_file != NULL;
	bo.tags = (const char *const *)cfg->tags;
	bo.ntags = cfg->ntags;
	bo.host = cfg->host;
	bo.one_file_system = cfg->one_file_system;
	bo.exclude_caches = cfg->exclude_caches;
	bo.exclude_if_present = (const char *const *)cfg->exclude_if_present;
	bo.nexclude_if_present = cfg->nexclude_if_present;
	bo.exclude_larger_than = cfg->exclude_larger_than;
	bo.state_dir = r->o->state_base;
	if (r->offsite != NULL && !gfsb_backend_is_remote(r->offsite))
		bo.mirror_dir = gfsb_backend_location(r->offsite);
	bo.has_time = r->o->has_time;
	bo.time = r->o->now;
	if ((e = gfsb_ops_backup(r->repo, &bo, &res)) != GFSB_OK)
		rn_stage_failed(r, "backup", e);
	else
		backup_end(r, &res);
}

/* The streams of [databases]: a dump command each, named after it. */
static gfsb_err
db_streams(const struct gfsb_config *cfg, struct gfsb_backup_stream *st,
    char ***argvs, char **names)
{
	size_t i, k, n = 0, no;
	char *const *opts;
	const char *tool;

	for (k = 0; k < 2; k++) {
		tool = k == 0 ? "pg_dump" : "mysqldump";
		opts = k == 0 ? cfg->pg_options : cfg->mysql_options;
		no = k == 0 ? cfg->npg_options : cfg->nmysql_options;
		for (i = 0; i < (k == 0 ? cfg->npg_databases :
		    cfg->nmysql_databases); i++, n++) {
			const char *db = k == 0 ? cfg->pg_databases[i] :
			    cfg->mysql_databases[i];

			if (asprintf(&names[n], "%s-%s.sql", k == 0 ?
			    "postgresql" : "mysql", db) < 0 ||
			    (argvs[n] = calloc(no + 3, sizeof(char *))) ==
			    NULL)
				return GFSB_ENOMEM;
			argvs[n][0] = (char *)(uintptr_t)tool;
			memcpy(&argvs[n][1], opts, no * sizeof(char *));
			argvs[n][no + 1] = (char *)(uintptr_t)db;
			st[n].name = names[n];
			st[n].argv = (const char *const *)argvs[n];
		}
	}
	return GFSB_OK;
}

/* [databases]: every database dumped into one snapshot of its own a
 * night; a dump that fails fails the stage, naming the database, and
 * stores no snapshot. */
static void
stage_databases(struct run *r)
{
	const struct gfsb_config *cfg = r->cfg;
	size_t n = cfg->npg_databases + cfg->nmysql_databases, i;
	struct gfsb_backup_stream *st = NULL;
	struct gfsb_backup_result res;
	struct gfsb_backup_opts bo;
	char ***argvs = NULL, **names = NULL, added[32];
	gfsb_err e;

	if (n == 0)
		return;
	rn_stage_begin(r);
	if (r->before_failed || r->o->dry_run) {
		rn_stage_end(r, "databases", r->o->dry_run ? GFSB_OK :
		    GFSB_EINVAL, 0, r->o->dry_run ? GFSB_REPORT_OK :
		    GFSB_REPORT_FAILED, r->o->dry_run ? "would dump %zu "
		    "databases" : "skipped: the before hook failed", n);
		return;
	}
	if (rn_no_repo(r, "databases"))
		return;
	if ((st = calloc(n, sizeof(*st))) == NULL ||
	    (argvs = calloc(n, sizeof(*argvs))) == NULL ||
	    (names = calloc(n, sizeof(*names))) == NULL)
		e = GFSB_ENOMEM;
	else
		e = db_streams(cfg, st, argvs, names);
	memset(&bo, 0, sizeof(bo));
	bo.tags = (const char *const *)cfg->tags;
	bo.ntags = cfg->ntags;
	bo.host = cfg->host;
	bo.has_time = r->o->has_time;
	bo.time = r->o->now;
	if (e == GFSB_OK)
		e = gfsb_ops_backup_streams(r->repo, &bo, st, n, &res);
	if (e != GFSB_OK) {
		rn_stage_failed(r, "databases", e);
	} else {
		gfsb_size_format(res.summary.data_added_packed, added,
		    sizeof(added));
		rn_stage_end(r, "databases", GFSB_OK, 0, GFSB_REPORT_OK,
		    "dumped %zu databases into snapshot %.8s (%s added)", n,
		    res.snapshot_id, added);
	}
	for (i = 0; i < n && names != NULL; i++) {
		free(names[i]);
		free(argvs[i]);
	}
	free(names);
	free(argvs);
	free(st);
}

int
rn_full_key_only(struct run *r, const char *name, const char *what)
{
	if (r->repo == NULL || !gfsb_repo_write_only(r->repo))
		return 0;
	/* Asked for by itself (verify), it is refused. */
	if (r->check != NULL)
		rn_stage_end(r, name, GFSB_EAUTH, 0, GFSB_REPORT_FAILED, "a "
		    "write-only key cannot %s: use a full key", what);
	else
		rn_stage_end(r, name, GFSB_OK, 0, GFSB_REPORT_OK, "left to a "
		    "full key: a write-only key cannot %s", what);
	return 1;
}

static void
stage_forget(struct run *r)
{
	struct gfsb_forget_opts fo;
	struct gfsb_forget_result fr;
	gfsb_err e;

	rn_stage_begin(r);
	if (rn_no_repo(r, "forget") || rn_full_key_only(r, "forget",
	    "forget snapshots"))
		return;
	memset(&fo, 0, sizeof(fo));
	fo.policy = r->cfg->policy;
	fo.group_by = GFSB_GROUP_HOST | GFSB_GROUP_PATHS;
	fo.dry_run = r->o->dry_run;
	fo.has_now = 1;
	fo.now = r->o->now;
	e = gfsb_ops_forget(r->repo, &fo, &fr);
	if (e != GFSB_OK) {
		rn_stage_failed(r, "forget", e);
	} else {
		r->res->rep.retention_ran = !r->o->dry_run;
		r->res->rep.snapshots_removed = fr.removed;
		rn_stage_end(r, "forget", GFSB_OK, 0, GFSB_REPORT_OK, "%s %zu of "
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
	char freed[32], wait[96];
	gfsb_err e;

	rn_stage_begin(r);
	if (r->cfg->prune == GFSB_PRUNE_NEVER || rn_no_repo(r, "prune") ||
	    rn_full_key_only(r, "prune", "prune"))
		return;
	last = rn_state_get(r, "last_prune_day", INT64_MIN);
	if (r->cfg->prune == GFSB_PRUNE_WEEKLY && last != INT64_MIN &&
	    today - last < 7 && today >= last) {
		rn_stage_end(r, "prune", GFSB_OK, 0, GFSB_REPORT_OK, "not due "
		    "(weekly; last pruned %lld days ago)",
		    (long long)(today - last));
		return;
	}
	memset(&po, 0, sizeof(po));
	po.max_unused = 0.05;
	po.dry_run = r->o->dry_run;
	if ((e = gfsb_ops_prune(r->repo, &po, &pr)) != GFSB_OK) {
		rn_stage_failed(r, "prune", e);
		return;
	}
	if (!r->o->dry_run)
		rn_state_set(r, "last_prune_day", today);
	r->res->rep.prune_ran = !r->o->dry_run;
	r->res->rep.packs_freed = pr.st.packs_deleted + pr.st.packs_repacked;
	r->res->rep.bytes_freed = pr.st.bytes_freed;
	gfsb_size_format(pr.st.bytes_freed, freed, sizeof(freed));
	/* Marked packs that others' backups may still use: the next
	 * prune deletes them. */
	snprintf(wait, sizeof(wait), "; %llu more wait for processes that "
	    "began before", (unsigned long long)pr.st.packs_deferred);
	rn_stage_end(r, "prune", GFSB_OK, 0, GFSB_REPORT_OK, "%s %s: %llu packs "
	    "deleted, %llu repacked%s", r->o->dry_run ? "would free" :
	    "freed", freed, (unsigned long long)pr.st.packs_deleted,
	    (unsigned long long)pr.st.packs_repacked,
	    pr.st.packs_deferred > 0 ? wait : "");
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
	rn_stage_begin(r);
	if (rn_full_key_only(r, "locks", "read the snapshots the Object "
	    "Lock dates come from"))
		return;
	if (r->o->dry_run) {
		rn_stage_end(r, "locks", GFSB_OK, 0, GFSB_REPORT_OK, "would "
		    "extend the Object Lock dates of %s", r->cfg->repo_url);
		return;
	}
	if ((e = lock_opts(r, gfsb_repo_backend(r->repo), &lo, &ledger)) ==
	    GFSB_OK)
		e = gfsb_ops_lock_extend(r->repo, &lo, &lr);
	free(ledger);
	if (e != GFSB_OK) {
		rn_stage_failed(r, "locks", e);
		return;
	}
	rn_stage_end(r, "locks", GFSB_OK, 0, GFSB_REPORT_OK, "%llu Object Lock "
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
		rn_stage_end(r, "sync", GFSB_OK, 0, GFSB_REPORT_OK, "would copy "
		    "%llu objects (%s) and delete %llu at %s",
		    (unsigned long long)sr->copied, b,
		    (unsigned long long)sr->deleted, r->cfg->offsite_url);
		return;
	}
	rep->offsite = sr->failed == 0 ? GFSB_OFFSITE_IN_SYNC :
	    GFSB_OFFSITE_BEHIND;
	/* When the mirror last held everything, for the reports to come. */
	if (sr->failed == 0)
		rn_state_set(r, "last_sync", r->o->now.sec);
	rep->behind_objects = sr->failed;
	lock_summary(sr, locks, sizeof(locks));
	rn_stage_end(r, "sync", GFSB_OK, 0, GFSB_REPORT_OK, "%scopied %llu "
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

	rn_stage_begin(r);
	if ((r->res->rep.offsite_repo = strdup(r->cfg->offsite_url)) == NULL) {
		rn_stage_failed(r, "sync", GFSB_ENOMEM);
		return;
	}
	r->res->rep.offsite = GFSB_OFFSITE_UNKNOWN;
	if (rn_no_repo(r, "sync"))
		return;
	if (r->offsite == NULL) {
		rn_stage_end(r, "sync", GFSB_EINVAL, 0, GFSB_REPORT_FAILED,
		    "cannot open %s: %s", r->cfg->offsite_url,
		    r->offsite_error != NULL ? r->offsite_error :
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
		r->res->rep.offsite_error = strdup(rn_why(r, e));
		rn_stage_failed(r, "sync", e);
		/* A mirror we cannot write is not one to verify tonight. */
		r->offsite = NULL;
		return;
	}
	sync_end(r, &sr);
}


/*
 * A hook as a stage of its own: before (a failure skips the backup),
 * after (whatever the backup came to, unless before failed), on-error
 * (at the end, told the first failure).  Each gets GFSB_HOOK, and the
 * night's snapshot or the failure in its environment.
 */
static void
stage_hook(struct run *r, const char *name, const char *cmd)
{
	const struct gfsb_run_stage *f = r->res->failed;
	char hook[64], snap[96], stage[96], err[600];
	char *env[5] = { hook, snap, NULL, NULL, NULL };
	gfsb_err e;

	if (cmd == NULL)
		return;
	rn_stage_begin(r);
	if (r->o->dry_run) {
		rn_stage_end(r, name, GFSB_OK, 0, GFSB_REPORT_OK, "would run "
		    "the %s hook", name);
		return;
	}
	snprintf(hook, sizeof(hook), "GFSB_HOOK=%s", name);
	snprintf(snap, sizeof(snap), "GFSB_SNAPSHOT=%s", r->res->snapshot);
	if (f != NULL) {
		snprintf(stage, sizeof(stage), "GFSB_FAILED_STAGE=%s",
		    f->name);
		snprintf(err, sizeof(err), "GFSB_ERROR=%s", f->summary);
		env[2] = stage;
		env[3] = err;
	}
	if ((e = gfsb_ops_hook_run(r->ctx, name, cmd, r->cfg->hook_timeout,
	    env)) != GFSB_OK) {
		if (strcmp(name, "before") == 0)
			r->before_failed = 1;
		rn_stage_failed(r, name, e);
		return;
	}
	rn_stage_end(r, name, GFSB_OK, 0, GFSB_REPORT_OK, "ran");
}

/* A ping of the job's dead-man's switch; one that is not answered is
 * said and remembered, and changes nothing else. */
static void
ping(struct run *r, enum gfsb_ping what, const char *body)
{
	gfsb_err e;

	if (r->cfg->ping_url == NULL || r->o->dry_run)
		return;
	if ((e = gfsb_ops_monitor_ping(r->ctx, r->cfg->ping_url, what,
	    body)) == GFSB_OK)
		return;
	gfsb_ctx_log(r->ctx, GFSB_LOG_WARN, "%s; the job goes on",
	    rn_why(r, e));
	if (r->res->ping_err == GFSB_OK)
		snprintf(r->res->ping_error, sizeof(r->res->ping_error), "%s",
		    rn_why(r, e));
	r->res->ping_err = e;
	gfsb_ctx_clearerr(r->ctx);
}

/* The job's outcome for the switch: the first failed stage's line. */
static void
ping_end(struct run *r)
{
	const struct gfsb_run_stage *f = r->res->failed;
	char body[600];

	if (f == NULL) {
		ping(r, GFSB_PING_SUCCESS, NULL);
		return;
	}
	snprintf(body, sizeof(body), "%s: %s", f->name, f->summary);
	ping(r, GFSB_PING_FAIL, body);
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
	r.res = res;
	r.threads = o->connections > 0 ? o->connections : 4;
	ping(&r, GFSB_PING_START, NULL);
	rn_stage_begin(&r);
	rn_open(&r);
	if (r.repo == NULL)
		rn_stage_end(&r, "open", r.open_err != GFSB_OK ? r.open_err :
		    GFSB_ENOREPO, 0, GFSB_REPORT_FAILED, "cannot open the "
		    "repository %s: %s", cfg->repo_url, r.open_error != NULL &&
		    *r.open_error != '\0' ? r.open_error : "see above");
	stage_hook(&r, "before", cfg->hook_before);
	stage_backup(&r);
	stage_databases(&r);
	if (!r.before_failed)
		stage_hook(&r, "after", cfg->hook_after);
	if (cfg->policy != NULL) {
		stage_forget(&r);
		stage_prune(&r);
	}
	stage_locks(&r);
	if (cfg->offsite_url != NULL)
		stage_sync(&r);
	rn_stage_verify(&r);
	if (cfg->offsite_url != NULL)
		rn_stage_verify_offsite(&r);
	rn_stage_drill(&r);
	if (res->failed != NULL)
		stage_hook(&r, "on-error", cfg->hook_on_error);
	rn_stage_report(&r);
	ping_end(&r);
	rn_close(&r);
	return res->report_err == GFSB_ENOMEM ? GFSB_ENOMEM : GFSB_OK;
}

void
gfsb_ops_run_result_fini(struct gfsb_run_result *res)
{
	gfsb_report_fini(&res->rep);
	memset(res, 0, sizeof(*res));
}

/* The repository, opened as o->open says at the configuration's URL. */
static void
open_repo(struct run *r)
{
	struct gfsb_open_opts oo = *r->o->open;
	enum gfsb_open_step step;
	gfsb_err e;

	oo.url = r->cfg->repo_url;
	gfsb_ctx_clearerr(r->ctx);
	if ((e = gfsb_ops_open(r->ctx, &oo, &r->own_be, &r->own_repo,
	    &step)) != GFSB_OK) {
		r->open_err = e;
		snprintf(r->open_why, sizeof(r->open_why), "%s", rn_why(r, e));
		r->open_error = r->open_why;
		gfsb_ctx_clearerr(r->ctx);
	}
	r->repo = r->own_repo;
}

void
rn_open(struct run *r)
{
	const struct gfsb_run_opts *o = r->o;

	r->repo = o->repo;
	r->offsite = o->offsite;
	r->open_err = o->open_err;
	r->open_error = o->open_error;
	r->offsite_error = o->offsite_error;
	if (o->repo == NULL && o->open_err == GFSB_OK && o->open != NULL)
		open_repo(r);
	if (o->offsite != NULL || o->offsite_error != NULL || o->open ==
	    NULL || r->cfg->offsite_url == NULL)
		return;
	gfsb_ctx_clearerr(r->ctx);
	if (gfsb_ops_run_open_offsite(r->ctx, r->cfg, o->open->remote,
	    &r->own_offsite) != GFSB_OK) {
		snprintf(r->offsite_why, sizeof(r->offsite_why), "%s",
		    rn_why(r, GFSB_EIO));
		r->offsite_error = r->offsite_why;
	}
	gfsb_ctx_clearerr(r->ctx);
	r->offsite = r->own_offsite;
}

void
rn_close(struct run *r)
{
	gfsb_repo_close(r->own_repo);
	gfsb_backend_close(r->own_be);
	gfsb_backend_close(r->own_offsite);
	r->own_repo = NULL;
	r->own_be = r->own_offsite = NULL;
}

gfsb_err
gfsb_ops_run_open_offsite(struct gfsb_ctx *ctx, const struct gfsb_config *cfg,
    const struct gfsb_backend_opts *base, struct gfsb_backend **out)
{
	struct gfsb_backend_opts o;

	if (base != NULL)
		o = *base;
	else
		memset(&o, 0, sizeof(o));
	/* The copy's own, not the repository's: unset is the default. */
	o.s3_endpoint = cfg->offsite_endpoint;
	o.s3_region = cfg->offsite_region;
	o.s3_credentials_file = cfg->offsite_credentials;
	o.cacert = cfg->offsite_cacert;
	return gfsb_backend_open_opts(ctx, cfg->offsite_url, &o, out);
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
