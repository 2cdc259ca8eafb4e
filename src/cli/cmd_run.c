/*
 * gfsbackup run --config FILE: the whole daily job, in order: backup,
 * forget per policy, prune on its schedule, sync offsite, verify (local
 * and offsite), report.  A stage that fails does not hide the others: each
 * runs if what it needs is there, each says one line on stderr (the
 * journal under systemd), the report shows them all, and the exit status
 * is the worst one.  Two runs of one configuration never overlap.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
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

#include "cli.h"
#include "cli_report.h"

static const char usage[] =
"usage: gfsbackup run --config FILE [--dry-run] [--time T] [--json]\n"
"\n"
"The daily job, from one configuration file (gfsbackup.conf(5)): backup,\n"
"forget per the retention policy, prune on its schedule, sync to the\n"
"offsite copy, verify the local and the offsite repository (a rotating\n"
"slice of the data), restore a sample from the offsite copy when a drill\n"
"is due ([verify] drill), and mail the report.  A failed stage does not stop\n"
"the others; every stage's outcome is one line on stderr and a row of the\n"
"report.  Exit status: 0 all went well, 3 some source files could not be\n"
"read, else the status of the first stage that failed (1, 10, 11, 12);\n"
"11 also when another run of this configuration is in progress.\n"
"\n"
"  --config FILE   the configuration (mode 0600)\n"
"  -n, --dry-run   say what each stage would do; change nothing\n"
"  --time 'YYYY-MM-DD HH:MM:SS'  run as if at that local time (snapshot\n"
"                  time, retention, today's verification slice, report)\n"
"  --json          print a summary of the run as JSON on stdout\n";

enum { O_CONFIG = OPT_CMD_BASE, O_TIME, O_JSON };

#define MAX_STAGES 12

struct stage {
	const char *name;
	int rc;				/* exit status the stage stands for */
	enum gfsb_report_status status;
	char summary[512];
	double seconds;
};

struct run {
	struct cli *c;
	struct gfsb_config *cfg;
	int dry;
	struct gfsb_time now;
	int has_time;
	struct gfsb_report rep;
	struct stage st[MAX_STAGES];
	size_t nst;
	int rc;				/* worst so far */
	struct gfsb_time t0;		/* start of the current stage */
	struct gfsb_backend *offsite;	/* opened by sync */
	char state_base[4096];
	char snapshot[GFSB_ID_HEX];
};

static double
since(const struct gfsb_time *t0)
{
	struct gfsb_time t;

	gfsb_time_now(&t);
	return (double)(t.sec - t0->sec) + (t.nsec - t0->nsec) / 1e9;
}

/* The worst exit status: a failure beats a partial backup beats OK, and
 * the first failure is the one reported. */
static void
worsen(struct run *r, int rc)
{
	if (rc == EXIT_OK)
		return;
	if (rc == EXIT_PARTIAL) {
		if (r->rc == EXIT_OK)
			r->rc = rc;
		return;
	}
	if (r->rc == EXIT_OK || r->rc == EXIT_PARTIAL)
		r->rc = rc;
}

static void
stage_begin(struct run *r)
{
	gfsb_time_now(&r->t0);
	gfsb_ctx_clearerr(r->c->ctx);
}

static void
stage_end(struct run *r, const char *name, int rc,
    enum gfsb_report_status status, const char *fmt, ...) GFSB_PRINTF(5, 6);

static void
stage_end(struct run *r, const char *name, int rc,
    enum gfsb_report_status status, const char *fmt, ...)
{
	struct stage *s;
	va_list ap;

	if (r->nst == MAX_STAGES)
		return;
	s = &r->st[r->nst++];
	s->name = name;
	s->rc = rc;
	s->status = status;
	s->seconds = since(&r->t0);
	va_start(ap, fmt);
	vsnprintf(s->summary, sizeof(s->summary), fmt, ap);
	va_end(ap);
	worsen(r, rc);
	cli_msg(r->c, "%s: run: %s: %s: %s (%.1f s)", r->c->prog, name,
	    r->dry ? "DRY RUN" : gfsb_report_status_name(status), s->summary,
	    s->seconds);
	if (gfsb_report_add_stage(&r->rep, name, status, "%s", s->summary) !=
	    GFSB_OK)
		worsen(r, EXIT_FATAL);
	gfsb_ctx_clearerr(r->c->ctx);
}

/* The detail of the last error, or the error's name. */
static const char *
why(struct run *r, gfsb_err e)
{
	const char *m = gfsb_ctx_errmsg(r->c->ctx);

	return *m != '\0' ? m : gfsb_strerror(e);
}

static void
stage_failed(struct run *r, const char *name, gfsb_err e)
{
	stage_end(r, name, cli_exit_status(e), GFSB_REPORT_FAILED, "%s",
	    why(r, e));
}

/* ---- the run's own state: when prune last ran ---- */

static char *
runstate_path(struct run *r)
{
	char *p;

	if (r->c->r == NULL || asprintf(&p, "%s/%s/run.json", r->state_base,
	    gfsb_repo_id(r->c->r)) < 0)
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

static void
stage_backup(struct run *r)
{
	struct gfsb_config *cfg = r->cfg;
	struct gfsb_backup_opts bo;
	struct gfsb_backup_result res;
	const char **excl = NULL;
	char **fromfile = NULL, added[32], stored[32], total[32];
	size_t nexcl = 0, nfrom = 0, i;
	gfsb_err e;
	int rc;

	stage_begin(r);
	memset(&bo, 0, sizeof(bo));
	for (i = 0; i < cfg->nexcludes; i++)
		if (cli_strv_add(&excl, &nexcl, cfg->excludes[i]) != 0)
			goto nomem;
	if (cfg->exclude_file != NULL) {
		if ((e = gfsb_ops_patterns_read_file(r->c->ctx,
		    cfg->exclude_file, &fromfile, &nfrom)) != GFSB_OK) {
			stage_failed(r, "backup", e);
			goto out;
		}
		for (i = 0; i < nfrom; i++)
			if (cli_strv_add(&excl, &nexcl, fromfile[i]) != 0)
				goto nomem;
	}
	if (r->dry) {
		stage_end(r, "backup", EXIT_OK, GFSB_REPORT_OK, "would back "
		    "up %zu paths (%s%s) with %zu exclude patterns",
		    cfg->npaths, cfg->paths[0], cfg->npaths > 1 ? ", ..." : "",
		    nexcl);
		goto out;
	}
	if (r->c->r == NULL) {
		stage_end(r, "backup", EXIT_FATAL, GFSB_REPORT_FAILED,
		    "skipped: the repository could not be opened");
		goto out;
	}
	bo.paths = (const char *const *)cfg->paths;
	bo.npaths = cfg->npaths;
	bo.excludes = excl;
	bo.nexcludes = nexcl;
	bo.tags = (const char *const *)cfg->tags;
	bo.ntags = cfg->ntags;
	bo.host = cfg->host;
	bo.one_file_system = cfg->one_file_system;
	bo.has_time = r->has_time;
	bo.time = r->now;
	e = gfsb_ops_backup(r->c->r, &bo, &res);
	if (e != GFSB_OK) {
		stage_failed(r, "backup", e);
		goto out;
	}
	snprintf(r->snapshot, sizeof(r->snapshot), "%s", res.snapshot_id);
	gfsb_size_format(res.summary.total_bytes_processed, total,
	    sizeof(total));
	gfsb_size_format(res.summary.data_added, added, sizeof(added));
	gfsb_size_format(res.summary.data_added_packed, stored,
	    sizeof(stored));
	rc = res.summary.warnings > 0 ? EXIT_PARTIAL : EXIT_OK;
	stage_end(r, "backup", rc, rc == EXIT_OK ? GFSB_REPORT_OK :
	    GFSB_REPORT_WARNING, "snapshot %.8s: %llu files (%llu new, %llu "
	    "changed), %s processed, %s new data (%s stored)%s",
	    res.snapshot_id,
	    (unsigned long long)res.summary.total_files_processed,
	    (unsigned long long)res.summary.files_new,
	    (unsigned long long)res.summary.files_changed, total, added, stored,
	    rc == EXIT_OK ? "" : "; some files could not be read");
	goto out;
nomem:
	stage_failed(r, "backup", GFSB_ENOMEM);
out:
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
	if (r->c->r == NULL) {
		stage_end(r, "forget", EXIT_FATAL, GFSB_REPORT_FAILED,
		    "skipped: the repository could not be opened");
		return;
	}
	memset(&fo, 0, sizeof(fo));
	fo.policy = r->cfg->policy;
	fo.group_by = GFSB_GROUP_HOST | GFSB_GROUP_PATHS;
	fo.dry_run = r->dry;
	fo.has_now = 1;
	fo.now = r->now;
	e = gfsb_ops_forget(r->c->r, &fo, &fr);
	if (e != GFSB_OK) {
		stage_failed(r, "forget", e);
	} else {
		r->rep.retention_ran = !r->dry;
		r->rep.snapshots_removed = fr.removed;
		stage_end(r, "forget", EXIT_OK, GFSB_REPORT_OK, "%s %zu of %zu "
		    "snapshots, kept %zu", r->dry ? "would remove" : "removed",
		    fr.removed, fr.nall, fr.kept);
	}
	gfsb_ops_forget_fini(&fr);
}

static void
stage_prune(struct run *r)
{
	struct gfsb_prune_opts po;
	struct gfsb_prune_result pr;
	int64_t today = gfsb_ops_verify_day(&r->now), last;
	char freed[32];
	gfsb_err e;

	stage_begin(r);
	if (r->cfg->prune == GFSB_PRUNE_NEVER)
		return;
	if (r->c->r == NULL) {
		stage_end(r, "prune", EXIT_FATAL, GFSB_REPORT_FAILED,
		    "skipped: the repository could not be opened");
		return;
	}
	last = last_prune_day(r);
	if (r->cfg->prune == GFSB_PRUNE_WEEKLY && last != INT64_MIN &&
	    today - last < 7 && today >= last) {
		stage_end(r, "prune", EXIT_OK, GFSB_REPORT_OK, "not due (weekly; "
		    "last pruned %lld days ago)", (long long)(today - last));
		return;
	}
	memset(&po, 0, sizeof(po));
	po.max_unused = 0.05;
	po.dry_run = r->dry;
	e = gfsb_ops_prune(r->c->r, &po, &pr);
	if (e != GFSB_OK) {
		stage_failed(r, "prune", e);
		return;
	}
	if (!r->dry)
		save_prune_day(r, today);
	r->rep.prune_ran = !r->dry;
	r->rep.packs_freed = pr.st.packs_deleted + pr.st.packs_repacked;
	r->rep.bytes_freed = pr.st.bytes_freed;
	gfsb_size_format(pr.st.bytes_freed, freed, sizeof(freed));
	stage_end(r, "prune", EXIT_OK, GFSB_REPORT_OK, "%s %s: %llu packs "
	    "deleted, %llu repacked", r->dry ? "would free" : "freed", freed,
	    (unsigned long long)pr.st.packs_deleted,
	    (unsigned long long)pr.st.packs_repacked);
}

static int
open_offsite(struct run *r, struct gfsb_backend **out)
{
	struct gfsb_backend_opts saved = r->c->remote;
	int rc;

	r->c->remote.s3_endpoint = r->cfg->offsite_endpoint;
	r->c->remote.s3_region = r->cfg->offsite_region;
	r->c->remote.s3_credentials_file = r->cfg->offsite_credentials;
	r->c->remote.cacert = r->cfg->offsite_cacert;
	rc = cli_open_url(r->c, r->cfg->offsite_url, out);
	r->c->remote = saved;
	return rc;
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
static int
lock_opts(struct run *r, struct gfsb_repo *repo, struct gfsb_backend *be,
    struct gfsb_lock_opts *lo, char **ledger)
{
	int rc;

	memset(lo, 0, sizeof(*lo));
	*ledger = NULL;
	if ((rc = cli_ledger_file(r->c, r->cfg->state_dir, repo, be,
	    ledger)) != EXIT_OK)
		return rc;
	lo->policy = r->cfg->policy;
	lo->now = r->now;
	lo->margin = r->cfg->lock_margin;
	lo->ledger = *ledger;
	lo->threads = r->c->remote.connections > 0 ?
	    (unsigned)r->c->remote.connections : 4;
	return EXIT_OK;
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
	int rc;

	if (r->c->r == NULL ||
	    gfsb_repo_lock_mode(r->c->r) == GFSB_LOCK_NONE)
		return;
	stage_begin(r);
	if (r->dry) {
		stage_end(r, "locks", EXIT_OK, GFSB_REPORT_OK, "would extend "
		    "the Object Lock dates of %s", r->cfg->repo_url);
		return;
	}
	if ((rc = lock_opts(r, r->c->r, r->c->be, &lo, &ledger)) != EXIT_OK) {
		stage_end(r, "locks", rc, GFSB_REPORT_FAILED, "no state "
		    "directory");
		return;
	}
	e = gfsb_ops_lock_extend(r->c->r, &lo, &lr);
	free(ledger);
	if (e != GFSB_OK) {
		stage_failed(r, "locks", e);
		return;
	}
	stage_end(r, "locks", EXIT_OK, GFSB_REPORT_OK, "%llu Object Lock "
	    "dates extended, %llu requests in %.1f s",
	    (unsigned long long)lr.extended, (unsigned long long)lr.requests,
	    lr.seconds);
}

static void
stage_sync(struct run *r)
{
	struct gfsb_sync_opts so;
	struct gfsb_sync_result sr;
	struct gfsb_lock_opts lo;
	char b[32], locks[256] = "", *ledger = NULL;
	gfsb_err e;
	int rc;

	stage_begin(r);
	if ((r->rep.offsite_repo = strdup(r->cfg->offsite_url)) == NULL) {
		stage_failed(r, "sync", GFSB_ENOMEM);
		return;
	}
	r->rep.offsite = GFSB_OFFSITE_UNKNOWN;
	if (r->c->r == NULL) {
		stage_end(r, "sync", EXIT_FATAL, GFSB_REPORT_FAILED,
		    "skipped: the repository could not be opened");
		return;
	}
	if ((rc = open_offsite(r, &r->offsite)) != EXIT_OK) {
		stage_end(r, "sync", rc, GFSB_REPORT_FAILED, "cannot open %s",
		    r->cfg->offsite_url);
		return;
	}
	memset(&so, 0, sizeof(so));
	so.dry_run = r->dry;
	so.threads = r->c->remote.connections > 0 ?
	    (unsigned)r->c->remote.connections : 4;
	so.delete_mode = r->cfg->offsite_delete;
	so.object_lock = r->cfg->offsite_lock;
	so.mirror_cache = r->c->no_cache ? NULL : r->c->cache_dir != NULL ?
	    r->c->cache_dir : "";
	if ((rc = lock_opts(r, r->c->r, r->offsite, &lo, &ledger)) !=
	    EXIT_OK) {
		stage_end(r, "sync", rc, GFSB_REPORT_FAILED, "no state "
		    "directory");
		return;
	}
	so.locks = &lo;
	e = gfsb_ops_sync(r->c->r, r->offsite, &so, &sr);
	free(ledger);
	if (e != GFSB_OK) {
		r->rep.offsite_error = strdup(why(r, e));
		stage_failed(r, "sync", e);
		/* A mirror we cannot write is not one to verify tonight. */
		gfsb_backend_close(r->offsite);
		r->offsite = NULL;
		return;
	}
	gfsb_size_format(sr.copied_bytes, b, sizeof(b));
	if (r->dry) {
		r->rep.offsite = sr.copied == 0 && sr.deleted == 0 ?
		    GFSB_OFFSITE_IN_SYNC : GFSB_OFFSITE_BEHIND;
		r->rep.behind_objects = sr.copied;
		r->rep.behind_bytes = sr.copied_bytes;
		stage_end(r, "sync", EXIT_OK, GFSB_REPORT_OK, "would copy %llu "
		    "objects (%s) and delete %llu at %s",
		    (unsigned long long)sr.copied, b,
		    (unsigned long long)sr.deleted, r->cfg->offsite_url);
		return;
	}
	r->rep.offsite = sr.failed == 0 ? GFSB_OFFSITE_IN_SYNC :
	    GFSB_OFFSITE_BEHIND;
	r->rep.behind_objects = sr.failed;
	lock_summary(&sr, locks, sizeof(locks));
	stage_end(r, "sync", EXIT_OK, GFSB_REPORT_OK, "%scopied %llu objects "
	    "(%s), deleted %llu, kept %llu the repository no longer has: %s is "
	    "in sync%s%s", sr.initialized ? "created the mirror; " : "",
	    (unsigned long long)sr.copied, b, (unsigned long long)sr.deleted,
	    (unsigned long long)sr.kept, r->cfg->offsite_url,
	    locks[0] != '\0' ? "; " : "", locks);
}

static void
verify_opts(struct run *r, struct gfsb_verify_opts *vo)
{
	memset(vo, 0, sizeof(*vo));
	vo->read = r->cfg->read;
	vo->slice = r->cfg->slice;
	vo->slices = r->cfg->slices;
	vo->percent = r->cfg->percent;
	vo->now = r->now;
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
		    (long long)(((gfsb_ops_verify_day(&r->now) % cfg->slices) +
		    cfg->slices) % cfg->slices + 1), cfg->slices);
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
	stage_end(r, name, EXIT_OK, GFSB_REPORT_OK, "would check the "
	    "structure and read %s", what);
}

/*
 * Ends a verification stage: damage fails it, warnings make it a
 * WARNING; frees the result.
 */
static void
verify_end(struct run *r, const char *stage, struct gfsb_verify_result *res)
{
	enum gfsb_report_status st;
	char summary[512];

	st = gfsb_ops_report_verify_stage(res, summary, sizeof(summary));
	stage_end(r, stage, st == GFSB_REPORT_FAILED ? EXIT_FATAL : EXIT_OK,
	    st, "%s", summary);
	gfsb_ops_verify_result_fini(res);
}

static void
stage_verify(struct run *r)
{
	struct gfsb_verify_opts vo;
	struct gfsb_verify_result res;
	char *state = NULL;
	gfsb_err e;
	int rc;

	stage_begin(r);
	if (r->dry) {
		dry_verify(r, "verify");
		return;
	}
	if (r->c->r == NULL) {
		stage_end(r, "verify", EXIT_FATAL, GFSB_REPORT_FAILED,
		    "skipped: the repository could not be opened");
		return;
	}
	verify_opts(r, &vo);
	if ((rc = cli_state_file(r->c, r->cfg->state_dir, &state)) !=
	    EXIT_OK) {
		stage_end(r, "verify", rc, GFSB_REPORT_FAILED, "no state "
		    "directory");
		return;
	}
	vo.state_file = state;
	vo.threads = gfsb_backend_is_remote(r->c->be) ? 4 : 2;
	e = gfsb_ops_verify(r->c->r, &vo, &res);
	free(state);
	if (e != GFSB_OK) {
		stage_failed(r, "verify", e);
		return;
	}
	/* r->now, not the report's time: that is filled last, in
	 * stage_report. */
	if ((e = gfsb_ops_report_verify(&r->rep, &res, &r->now)) != GFSB_OK)
		worsen(r, cli_fail(r->c, e));
	verify_end(r, "verify", &res);
}

static void
stage_verify_offsite(struct run *r)
{
	struct gfsb_verify_opts vo;
	struct gfsb_verify_result res;
	struct gfsb_repo *mirror = NULL;
	char *state = NULL;
	gfsb_err e;
	int rc;

	stage_begin(r);
	if (r->dry) {
		dry_verify(r, "verify-offsite");
		return;
	}
	if (r->offsite == NULL) {
		stage_end(r, "verify-offsite", EXIT_FATAL, GFSB_REPORT_FAILED,
		    "skipped: the offsite copy could not be synced");
		return;
	}
	if ((e = gfsb_repo_open_mirror(r->c->r, r->offsite, &mirror)) !=
	    GFSB_OK) {
		stage_failed(r, "verify-offsite", e);
		return;
	}
	/* Like the repository's own (remote mirrors have the default). */
	if ((r->c->no_cache || (r->c->cache_dir != NULL &&
	    gfsb_backend_is_remote(r->offsite))) &&
	    (e = gfsb_repo_set_cache(mirror, r->c->no_cache ? NULL :
	    r->c->cache_dir)) != GFSB_OK) {
		gfsb_repo_close(mirror);
		stage_failed(r, "verify-offsite", e);
		return;
	}
	verify_opts(r, &vo);
	/* The mirror must be as locked as the configuration asks. */
	vo.expect_lock = r->cfg->offsite_lock;
	if ((rc = cli_state_file_for(r->c, r->cfg->state_dir, mirror,
	    r->offsite, &state)) != EXIT_OK) {
		gfsb_repo_close(mirror);
		stage_end(r, "verify-offsite", rc, GFSB_REPORT_FAILED,
		    "no state directory");
		return;
	}
	vo.state_file = state;
	vo.threads = 4;
	e = gfsb_ops_verify(mirror, &vo, &res);
	free(state);
	if (e != GFSB_OK) {
		stage_failed(r, "verify-offsite", e);
		gfsb_repo_close(mirror);
		return;
	}
	if ((e = gfsb_ops_report_verify_problems(&r->rep, &res,
	    "offsite: ")) != GFSB_OK)
		worsen(r, cli_fail(r->c, e));
	verify_end(r, "verify-offsite", &res);
	gfsb_repo_close(mirror);
}

/* The drill's stage line: what came back and what that projects. */
static void
drill_end(struct run *r, int rc, const struct gfsb_drill_result *res,
    const char *from)
{
	char line[4400];

	gfsb_ops_drill_summary(res, from, line, sizeof(line));
	stage_end(r, "drill", rc, res->failed > 0 ? GFSB_REPORT_FAILED :
	    r->cfg->rto > 0 && res->projected > (double)r->cfg->rto ?
	    GFSB_REPORT_WARNING : GFSB_REPORT_OK, "%s", line);
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
	struct gfsb_backend *be = cfg->offsite_url != NULL ? r->offsite :
	    r->c->be;
	struct gfsb_drill_result res;
	struct gfsb_drill_opts o;
	char *record = NULL, *again = NULL, why[1100], size[32];
	int rc, ran = 0;

	if (cfg->drill == 0 || r->c->r == NULL)
		return;
	stage_begin(r);
	gfsb_size_format(cfg->drill, size, sizeof(size));
	if (r->dry || be == NULL) {
		stage_end(r, "drill", r->dry ? EXIT_OK : EXIT_FATAL, r->dry ?
		    GFSB_REPORT_OK : GFSB_REPORT_FAILED, r->dry ? "would "
		    "restore about %s of the newest snapshot, if due" :
		    "skipped: the offsite copy could not be synced", size);
		return;
	}
	if ((rc = cli_drill_file(r->c, cfg->state_dir, r->c->r, be,
	    &record)) != EXIT_OK) {
		stage_end(r, "drill", rc, GFSB_REPORT_FAILED, "no state "
		    "directory");
		return;
	}
	if (!gfsb_ops_drill_due(r->c->ctx, record, &r->now, cfg->drill_every)) {
		stage_end(r, "drill", EXIT_OK, GFSB_REPORT_OK, "not due tonight "
		    "(one every %u days)", cfg->drill_every);
	} else {
		memset(&o, 0, sizeof(o));
		o.size = cfg->drill;
		o.scratch = cfg->drill_scratch;
		rc = cli_drill(r->c, cfg->state_dir, be, &o, &r->now, &again,
		    &res, why, sizeof(why));
		if ((ran = rc == EXIT_OK || res.failed > 0))
			drill_end(r, rc, &res, gfsb_backend_location(be));
		else
			stage_end(r, "drill", rc, GFSB_REPORT_FAILED, "could "
			    "not run: %s", why);
		gfsb_ops_drill_result_fini(&res);
		free(again);
	}
	if (gfsb_ops_report_drill(&r->rep, r->c->ctx, record, ran,
	    (double)cfg->rto, (int)cfg->drill_every) != GFSB_OK) {
		cli_msg(r->c, "%s: run: drill: %s", r->c->prog,
		    gfsb_ctx_errmsg(r->c->ctx));
		worsen(r, EXIT_FATAL);
	}
	free(record);
}

static void
stage_report(struct run *r)
{
	struct gfsb_config *cfg = r->cfg;
	struct cli_mail mail;
	char dir[4200], host[256];
	int rc;

	stage_begin(r);
	if (r->c->r != NULL) {
		if ((rc = cli_report_fill_repo(r->c, &r->rep, cfg->policy,
		    &r->now)) != EXIT_OK)
			worsen(r, rc);
	} else {
		gfsb_sys_hostname(host, sizeof(host));
		r->rep.now = r->now;
		if ((r->rep.host = strdup(host)) == NULL ||
		    (r->rep.repo = strdup(cfg->repo_url)) == NULL)
			worsen(r, EXIT_FATAL);
	}
	memset(&mail, 0, sizeof(mail));
	mail.url = cfg->smtp_url;
	mail.from = cfg->mail_from;
	mail.to = (const char *const *)cfg->mail_to;
	mail.nto = cfg->nmail_to;
	mail.user = cfg->smtp_user;
	mail.password_file = cfg->smtp_password_file;
	mail.cacert = cfg->smtp_cacert;
	mail.failures_only = cfg->send_failures_only;
	if (cfg->report_dir != NULL)
		snprintf(dir, sizeof(dir), "%s", cfg->report_dir);
	else
		snprintf(dir, sizeof(dir), "%s/reports", r->state_base);
	if (r->dry) {
		cli_msg(r->c, "%s: run: report: DRY RUN: would be %s, saved in "
		    "%s%s%s", r->c->prog,
		    gfsb_report_status_name(r->rep.status), dir,
		    cfg->smtp_url == NULL ? "" : cfg->send_failures_only ?
		    "; mailed if not OK to " : "; mailed to ",
		    cfg->smtp_url == NULL ? "" : cfg->mail_to[0]);
		return;
	}
	rc = cli_report_deliver(r->c, &r->rep, cfg->smtp_url != NULL ? &mail :
	    NULL, dir, cfg->report_keep_days);
	worsen(r, rc);
	cli_msg(r->c, "%s: run: report: %s: %s%s (%.1f s)", r->c->prog,
	    gfsb_report_status_name(r->rep.status), rc == EXIT_OK ? "saved in " :
	    "NOT DELIVERED, see above; saved in ", dir, since(&r->t0));
}

/* ---- the run lock ---- */

static int
take_run_lock(struct run *r, int *fdp)
{
	char path[4300], hex[GFSB_ID_HEX], real[PATH_MAX], info[128];
	const char *key = r->cfg->path;
	ssize_t n;
	int fd, err;

	if (realpath(r->cfg->path, real) != NULL)
		key = real;
	gfsb_crypto_sha256_hex(key, strlen(key), hex);
	if ((err = gfsb_sys_mkdirs(r->state_base)) != 0) {
		cli_msg(r->c, "%s: run: cannot create the state directory %s: "
		    "%s", r->c->prog, r->state_base, strerror(err));
		return EXIT_FATAL;
	}
	snprintf(path, sizeof(path), "%s/run-%.16s.lock", r->state_base, hex);
	if ((fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600)) < 0) {
		cli_msg(r->c, "%s: run: cannot open the run lock %s: %s",
		    r->c->prog, path, strerror(errno));
		return EXIT_FATAL;
	}
	if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
		n = pread(fd, info, sizeof(info) - 1, 0);
		info[n > 0 ? n : 0] = '\0';
		info[strcspn(info, "\n")] = '\0';
		cli_msg(r->c, "%s: run: another run of %s is in progress (%s); "
		    "this one stops", r->c->prog, r->cfg->path,
		    *info ? info : "pid unknown");
		close(fd);
		return EXIT_LOCKED;
	}
	{
		char when[64];
		struct gfsb_time t;

		gfsb_time_now(&t);
		gfsb_time_format_local(&t, when, sizeof(when));
		n = snprintf(info, sizeof(info), "pid %ld since %s\n",
		    (long)getpid(), when);
		/* Only informative: a failure here blocks nothing. */
		if (ftruncate(fd, 0) == 0)
			(void)gfsb_sys_write_full(fd, info, (size_t)n);
	}
	*fdp = fd;
	return EXIT_OK;
}

static void
print_json(struct run *r)
{
	json_t *o, *a;
	char when[40], *s;
	size_t i;

	gfsb_time_format_rfc3339(&r->now, when, sizeof(when));
	o = json_pack("{s:s, s:i, s:s, s:b, s:s}", "status",
	    gfsb_report_status_name(r->rep.status), "exit", r->rc, "time",
	    when, "dry_run", r->dry, "snapshot", r->snapshot);
	a = json_array();
	if (o == NULL || a == NULL || json_object_set_new(o, "stages", a)) {
		json_decref(o);
		return;
	}
	for (i = 0; i < r->nst; i++)
		json_array_append_new(a, json_pack("{s:s, s:s, s:i, s:s, s:f}",
		    "name", r->st[i].name, "status",
		    gfsb_report_status_name(r->st[i].status), "exit",
		    r->st[i].rc, "summary", r->st[i].summary, "seconds",
		    r->st[i].seconds));
	if ((s = json_dumps(o, JSON_INDENT(2))) != NULL) {
		printf("%s\n", s);
		free(s);
	}
	json_decref(o);
}

int
cmd_run(struct cli *c, int argc, char **argv)
{
	static const struct option opts[] = {
		CLI_GLOBAL_OPTIONS,
		{ "config", required_argument, NULL, O_CONFIG },
		{ "dry-run", no_argument, NULL, 'n' },
		{ "time", required_argument, NULL, O_TIME },
		{ "json", no_argument, NULL, O_JSON },
		{ NULL, 0, NULL, 0 }
	};
	struct gfsb_config cfg;
	struct run r;
	const char *config = NULL;
	int o, rc, json = 0, lockfd = -1;

	c->usage = usage;
	memset(&r, 0, sizeof(r));
	memset(&cfg, 0, sizeof(cfg));
	gfsb_report_init(&r.rep);
	while ((o = cli_getopt(c, argc, argv, CLI_GLOBAL_SHORT "n", opts)) !=
	    -1) {
		switch (o) {
		case O_CONFIG:
			config = optarg;
			break;
		case 'n':
			r.dry = 1;
			break;
		case O_TIME:
			if (gfsb_time_parse_local(optarg, &r.now) != GFSB_OK)
				return cli_usage_error(c, "invalid --time %s: "
				    "give 'YYYY-MM-DD HH:MM:SS'", optarg);
			r.has_time = 1;
			break;
		case O_JSON:
			json = 1;
			break;
		default:
			return EXIT_USAGE;
		}
	}
	if (optind != argc)
		return cli_usage_error(c, "unexpected argument %s",
		    argv[optind]);
	if (config == NULL)
		return cli_usage_error(c, "no configuration: give --config "
		    "FILE");
	if (c->repo != NULL)
		return cli_usage_error(c, "-r conflicts with --config: the "
		    "repository is the configuration's");
	if ((rc = cli_config_load(c, config, &cfg)) != EXIT_OK)
		return rc;
	r.c = c;
	r.cfg = &cfg;
	if (!r.has_time)
		gfsb_time_now(&r.now);
	if ((rc = cli_state_base(c, cfg.state_dir, r.state_base,
	    sizeof(r.state_base))) != EXIT_OK)
		goto out;
	if ((rc = take_run_lock(&r, &lockfd)) != EXIT_OK)
		goto out;
	c->repo = cfg.repo_url;
	c->password_file = cfg.password_file;
	if (cfg.cache_dir != NULL)
		c->cache_dir = cfg.cache_dir;
	stage_begin(&r);
	if ((rc = cli_open_repo(c)) != EXIT_OK) {
		stage_end(&r, "open", rc, GFSB_REPORT_FAILED, "cannot open "
		    "the repository %s (see above)", cfg.repo_url);
		cli_close(c);
	}
	stage_backup(&r);
	if (cfg.policy != NULL) {
		stage_forget(&r);
		stage_prune(&r);
	}
	stage_locks(&r);
	if (cfg.offsite_url != NULL)
		stage_sync(&r);
	stage_verify(&r);
	if (cfg.offsite_url != NULL)
		stage_verify_offsite(&r);
	stage_drill(&r);
	stage_report(&r);
	if (json)
		print_json(&r);
	rc = r.rc;
out:
	gfsb_backend_close(r.offsite);
	gfsb_report_fini(&r.rep);
	cli_close(c);
	c->repo = NULL;
	c->password_file = NULL;
	c->cache_dir = NULL;
	gfsb_config_fini(&cfg);
	if (lockfd >= 0)
		close(lockfd);
	return rc;
}
