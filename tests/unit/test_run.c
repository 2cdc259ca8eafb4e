/*
 * The daily job (gfsb_ops_run) on in-memory repositories: the stages in
 * order and what each came to, the offsite copy synced and verified,
 * prune on its weekly schedule, a dry run that changes nothing, a
 * storage outage that fails exactly the stages that read what it hides
 * (and the report still saved), a repository that could not be opened,
 * the job opening its repository itself,
 * an offsite copy that could not be, and the run lock.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include <jansson.h>

#include <gfsbackup/backend.h>
#include <gfsbackup/gfs.h>
#include <gfsbackup/ops.h>
#include <gfsbackup/pass.h>
#include <gfsbackup/report.h>
#include <gfsbackup/repo.h>

#include "fixture.h"

#define PASS "run pass"

struct fixture {
	char src[64], state[64], reports[128], conf[128];
	char *paths[1];
	struct fx_repo x;
	struct gfsb_backend *mirror;
	struct gfsb_config cfg;
	struct gfsb_run_opts o;
	struct gfsb_run_result res;
	char names[GFSB_RUN_MAX_STAGES * 16];
};

static int
setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	char path[128];
	FILE *fp;
	int i;

	assert_non_null(f);
	fx_tmpdir(f->src, sizeof(f->src), "run-src");
	fx_tmpdir(f->state, sizeof(f->state), "run-state");
	snprintf(f->reports, sizeof(f->reports), "%s/reports", f->state);
	for (i = 0; i < 5; i++) {
		snprintf(path, sizeof(path), "%s/file%d", f->src, i);
		assert_non_null(fp = fopen(path, "w"));
		fprintf(fp, "file %d of the daily job's test\n", i);
		fclose(fp);
	}
	/* The configuration the job reads (its path names the run lock). */
	snprintf(f->conf, sizeof(f->conf), "%s/gfsbackup.conf", f->state);
	assert_non_null(fp = fopen(f->conf, "w"));
	fclose(fp);
	fx_repo_new(&f->x, PASS, 0);
	assert_int_equal(gfsb_backend_mem_new(f->x.ctx, &f->mirror), GFSB_OK);
	f->paths[0] = f->src;
	f->cfg.path = f->conf;
	f->cfg.repo_url = "mem:repo";
	f->cfg.paths = f->paths;
	f->cfg.npaths = 1;
	assert_int_equal(gfsb_gfs_policy_new(&f->cfg.policy), GFSB_OK);
	assert_int_equal(gfsb_gfs_policy_set(f->x.ctx, f->cfg.policy,
	    "keep-daily", "3", "test"), GFSB_OK);
	f->cfg.prune = GFSB_PRUNE_WEEKLY;
	f->cfg.read = GFSB_VERIFY_READ_ALL;
	f->cfg.slices = 7;
	f->cfg.lock_margin = GFSB_LOCK_MARGIN_DEFAULT;
	f->cfg.report_dir = f->reports;
	f->cfg.report_keep_days = 90;
	f->o.cfg = &f->cfg;
	f->o.ctx = f->x.ctx;
	f->o.repo = f->x.r;
	f->o.state_base = f->state;
	f->o.no_cache = 1;
	f->o.connections = 2;
	f->o.has_time = 1;
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fixture *f = *state;

	gfsb_ops_run_result_fini(&f->res);
	gfsb_gfs_policy_free(f->cfg.policy);
	gfsb_backend_close(f->mirror);
	fx_repo_free(&f->x);
	fx_rm_rf(f->src);
	fx_rm_rf(f->state);
	free(f);
	return 0;
}

/* Run the job at local time `when`; f->names: "stage:STATUS ..." */
static void
run_at(struct fixture *f, const char *when)
{
	size_t i, n = 0;

	gfsb_ops_run_result_fini(&f->res);
	assert_int_equal(gfsb_time_parse_local(when, &f->o.now), GFSB_OK);
	assert_int_equal(gfsb_ops_run(&f->o, &f->res), GFSB_OK);
	f->names[0] = '\0';
	for (i = 0; i < f->res.nstages; i++)
		n += (size_t)snprintf(f->names + n, sizeof(f->names) - n,
		    "%s%s:%s", i ? " " : "", f->res.stages[i].name,
		    gfsb_report_status_name(f->res.stages[i].status));
}

static const struct gfsb_run_stage *
stage(struct fixture *f, const char *name)
{
	size_t i;

	for (i = 0; i < f->res.nstages; i++)
		if (strcmp(f->res.stages[i].name, name) == 0)
			return &f->res.stages[i];
	fail_msg("no stage %s in %s", name, f->names);
	return NULL;
}

static size_t
nsnapshots(struct fixture *f)
{
	struct gfsb_snapshot **v;
	size_t n;

	assert_int_equal(gfsb_repo_snapshot_list(f->x.r, &v, &n), GFSB_OK);
	gfsb_repo_snapshot_list_free(v, n);
	return n;
}

static void
test_nights(void **state)
{
	struct fixture *f = *state;

	f->cfg.offsite_url = "mem:mirror";
	f->o.offsite = f->mirror;
	run_at(f, "2026-06-01 01:00:00");
	assert_string_equal(f->names, "backup:OK forget:OK prune:OK sync:OK "
	    "verify:OK verify-offsite:OK");
	assert_null(f->res.failed);
	assert_int_equal(f->res.partial, 0);
	assert_int_equal(strlen(f->res.snapshot), 64);
	assert_non_null(strstr(stage(f, "sync")->summary,
	    "created the mirror"));
	assert_non_null(strstr(stage(f, "backup")->summary, "5 files (5 new"));
	assert_int_equal(f->res.rep.status, GFSB_REPORT_OK);
	assert_int_equal(f->res.rep.offsite, GFSB_OFFSITE_IN_SYNC);
	assert_int_equal(f->res.report_err, GFSB_OK);
	assert_int_equal(fx_count(f->reports, "report-", ".txt"), 1);
	assert_string_equal(f->res.report_dir, f->reports);

	/* The next nights: prune waits a week; forget keeps 3 dailies. */
	run_at(f, "2026-06-02 01:00:00");
	assert_non_null(strstr(stage(f, "prune")->summary, "not due (weekly; "
	    "last pruned 1 days ago)"));
	run_at(f, "2026-06-03 01:00:00");
	run_at(f, "2026-06-04 01:00:00");
	assert_non_null(strstr(stage(f, "forget")->summary,
	    "removed 1 of 4 snapshots, kept 3"));
	assert_int_equal(nsnapshots(f), 3);
	run_at(f, "2026-06-08 01:00:00");
	assert_non_null(strstr(stage(f, "prune")->summary, "freed"));
	assert_null(f->res.failed);
	assert_int_equal(fx_count(f->reports, "report-", ".txt"), 5);
	f->cfg.offsite_url = NULL;
	f->o.offsite = NULL;
}

static void
test_dry_run(void **state)
{
	struct fixture *f = *state;

	f->o.dry_run = 1;
	run_at(f, "2026-06-01 01:00:00");
	f->o.dry_run = 0;
	assert_string_equal(f->names, "backup:OK forget:OK prune:OK "
	    "verify:OK");
	assert_non_null(strstr(stage(f, "backup")->summary,
	    "would back up 1 paths"));
	assert_non_null(strstr(stage(f, "verify")->summary,
	    "would check the structure and read every pack"));
	assert_int_equal(nsnapshots(f), 0);
	assert_int_equal(fx_count(f->reports, "report-", ".txt"), 0);
	assert_string_equal(f->res.snapshot, "");
}

/* Packs cannot be read: the backup (which reads the last snapshot's
 * trees) and the verification fail with the outage, the first of them is
 * the job's failure; forget and prune (which need no pack tonight) run;
 * the report says so and is saved. */
static void
test_outage(void **state)
{
	struct fixture *f = *state;

	run_at(f, "2026-06-01 01:00:00");
	assert_null(f->res.failed);
	gfsb_backend_mem_fault(f->x.be, GFSB_OBJ_PACK, NULL, GFSB_ENET);
	run_at(f, "2026-06-02 01:00:00");
	gfsb_backend_mem_fault(f->x.be, GFSB_OBJ_PACK, NULL, GFSB_OK);
	assert_string_equal(f->names, "backup:FAILED forget:OK prune:OK "
	    "verify:FAILED");
	assert_int_equal(stage(f, "backup")->err, GFSB_ENET);
	assert_int_equal(stage(f, "verify")->err, GFSB_ENET);
	assert_ptr_equal(f->res.failed, &f->res.stages[0]);
	assert_int_equal(f->res.rep.status, GFSB_REPORT_FAILED);
	assert_int_equal(fx_count(f->reports, "report-", ".txt"), 2);
	assert_int_equal(nsnapshots(f), 1);
	/* The outage over, the next night is whole again. */
	run_at(f, "2026-06-03 01:00:00");
	assert_null(f->res.failed);
	assert_int_equal(nsnapshots(f), 2);
}

/* Lines told, joined by '|'. */
static void
collect(void *cookie, enum gfsb_ops_line kind, const char *line)
{
	char *all = cookie;

	assert_int_equal(kind, GFSB_OPS_LINE_WARNING);
	strcat(all, line);
	strcat(all, "|");
}

/* The job's outcome as run tells it: exit statuses, JSON, report line. */
static void
test_outcome_told(void **state)
{
	struct fixture *f = *state;
	char lines[2048] = "", *js;
	json_error_t jerr;
	json_t *o, *st;

	run_at(f, "2026-06-01 01:00:00");
	assert_int_equal(gfsb_ops_run_exit(&f->res), 0);
	gfsb_backend_mem_fault(f->x.be, GFSB_OBJ_PACK, NULL, GFSB_ENET);
	run_at(f, "2026-06-02 01:00:00");
	gfsb_backend_mem_fault(f->x.be, GFSB_OBJ_PACK, NULL, GFSB_OK);
	assert_int_equal(gfsb_ops_run_exit(&f->res), GFSB_EXIT_FATAL);
	assert_int_equal(gfsb_ops_run_stage_exit(stage(f, "forget")), 0);
	assert_non_null(js = gfsb_ops_run_json(&f->res, &f->o.now, 0));
	assert_non_null(o = json_loads(js, 0, &jerr));
	free(js);
	assert_string_equal(json_string_value(json_object_get(o, "status")),
	    "FAILED");
	assert_int_equal(json_integer_value(json_object_get(o, "exit")), 1);
	assert_int_equal(json_array_size(json_object_get(o, "stages")),
	    f->res.nstages);
	st = json_array_get(json_object_get(o, "stages"), 0);
	assert_string_equal(json_string_value(json_object_get(st, "name")),
	    "backup");
	assert_int_equal(json_integer_value(json_object_get(st, "exit")), 1);
	json_decref(o);
	assert_int_equal(gfsb_ops_run_report_lines(&f->cfg, &f->res, 0,
	    collect, lines), GFSB_OK);
	if (strncmp(lines, "report: FAILED: saved in ", 25) != 0 ||
	    strstr(lines, f->reports) == NULL)
		fail_msg("%s", lines);
	/* Locked and cancelled have their own statuses; a partial backup
	 * is 3 when nothing failed. */
	assert_int_equal(gfsb_ops_exit_status(GFSB_ELOCKED), 11);
	assert_int_equal(gfsb_ops_exit_status(GFSB_ECANCELED), 130);
	assert_int_equal(gfsb_ops_exit_status(GFSB_EAUTH), 12);
	assert_int_equal(gfsb_ops_exit_status(GFSB_ENOREPO), 10);
	run_at(f, "2026-06-03 01:00:00");
	assert_int_equal(gfsb_ops_run_exit(&f->res), 0);
	f->res.partial = 1;
	assert_int_equal(gfsb_ops_run_exit(&f->res), GFSB_EXIT_PARTIAL);
}

/* After the backup stage (its index in memory), an index file is
 * damaged in storage: the night's verification must find it, not trust
 * what the backup loaded. */
static void
damage_index_after_backup(void *cookie, const struct gfsb_run_stage *st,
    int dry)
{
	struct fixture *f = cookie;
	struct gfsb_objlist l;
	struct gfsb_buf b;

	(void)dry;
	if (strcmp(st->name, "backup") != 0)
		return;
	assert_int_equal(gfsb_backend_list_all(f->x.be, GFSB_OBJ_INDEX, &l),
	    GFSB_OK);
	assert_true(l.n > 0);
	gfsb_buf_init(&b);
	assert_int_equal(gfsb_backend_get(f->x.be, GFSB_OBJ_INDEX, l.v[0].name,
	    &b), GFSB_OK);
	b.data[b.len / 2] ^= 0x01;
	assert_int_equal(gfsb_backend_put(f->x.be, GFSB_OBJ_INDEX, l.v[0].name,
	    b.data, b.len), GFSB_OK);
	memcpy(f->names, l.v[0].name, 16);
	f->names[16] = '\0';
	gfsb_buf_fini(&b);
	gfsb_objlist_fini(&l);
}

static void
test_verify_reads_anew(void **state)
{
	struct fixture *f = *state;
	struct gfsb_policy *pol = f->cfg.policy;
	char damaged[17];
	size_t i;
	int named = 0;

	/* No retention: nothing between the backup and the verification
	 * would load the index again. */
	f->cfg.policy = NULL;
	f->o.stage_done = damage_index_after_backup;
	f->o.cookie = f;
	assert_int_equal(gfsb_time_parse_local("2026-06-01 01:00:00",
	    &f->o.now), GFSB_OK);
	assert_int_equal(gfsb_ops_run(&f->o, &f->res), GFSB_OK);
	f->o.stage_done = NULL;
	f->cfg.policy = pol;
	memcpy(damaged, f->names, sizeof(damaged));
	assert_int_equal(stage(f, "backup")->err, GFSB_OK);
	assert_int_equal(stage(f, "verify")->err, GFSB_ECORRUPT);
	assert_int_equal(stage(f, "verify")->status, GFSB_REPORT_FAILED);
	for (i = 0; i < f->res.rep.ndamage; i++)
		named |= strstr(f->res.rep.damage[i], damaged) != NULL;
	if (!named)
		fail_msg("the report does not name index %s", damaged);
}

static void
test_not_opened(void **state)
{
	struct fixture *f = *state;

	f->o.repo = NULL;
	f->o.open_err = GFSB_EAUTH;
	f->o.open_error = "wrong passphrase";
	run_at(f, "2026-06-01 01:00:00");
	f->o.repo = f->x.r;
	f->o.open_err = GFSB_OK;
	f->o.open_error = NULL;
	assert_string_equal(f->names, "open:FAILED backup:FAILED "
	    "forget:FAILED prune:FAILED verify:FAILED");
	assert_non_null(strstr(f->res.stages[0].summary, "cannot open the "
	    "repository mem:repo: wrong passphrase"));
	assert_ptr_equal(f->res.failed, &f->res.stages[0]);
	assert_int_equal(f->res.failed->err, GFSB_EAUTH);
	assert_non_null(strstr(stage(f, "backup")->summary, "skipped"));
	/* The report says whose it is, and is saved all the same. */
	assert_string_equal(f->res.rep.repo, "mem:repo");
	assert_int_equal(fx_count(f->reports, "report-", ".txt"), 1);
	assert_int_equal(nsnapshots(f), 0);
}

/* Write pass into the passphrase file. */
static void
disk_repo_pass(const char *passfile, const char *pass)
{
	FILE *fp;

	assert_non_null(fp = fopen(passfile, "w"));
	fprintf(fp, "%s\n", pass);
	fclose(fp);
}

/* A directory repository with passphrase PASS at dir/repo; its
 * passphrase file, with the passphrase pass, at dir/pass. */
static void
disk_repo(struct fixture *f, const char *dir, const char *pass,
    char *url, size_t ulen, char *passfile, size_t plen)
{
	struct gfsb_repo_params p;
	struct gfsb_backend *be;
	struct gfsb_repo *r;

	gfsb_repo_params_default(&p);
	snprintf(url, ulen, "%s/repo", dir);
	snprintf(passfile, plen, "%s/pass", dir);
	assert_int_equal(gfsb_backend_open(f->x.ctx, url, &be), GFSB_OK);
	assert_int_equal(gfsb_repo_init(f->x.ctx, be, PASS, strlen(PASS),
	    &p, &r), GFSB_OK);
	gfsb_repo_close(r);
	gfsb_backend_close(be);
	disk_repo_pass(passfile, pass);
	assert_int_equal(chmod(passfile, 0600), 0);
}

/* Given how to open it, the job opens the configuration's repository
 * itself, and says why when it cannot: the wrong passphrase, then the
 * right one. */
static void
test_opens_itself(void **state)
{
	struct fixture *f = *state;
	struct gfsb_pass_source ps;
	struct gfsb_open_opts oo;
	char dir[64], url[128], passfile[128];

	fx_tmpdir(dir, sizeof(dir), "run-disk");
	disk_repo(f, dir, "not " PASS, url, sizeof(url), passfile,
	    sizeof(passfile));
	memset(&ps, 0, sizeof(ps));
	ps.file = passfile;
	memset(&oo, 0, sizeof(oo));
	oo.url = "ignored: the configuration's";
	oo.pass = &ps;
	oo.no_cache = 1;
	f->cfg.repo_url = url;
	f->o.repo = NULL;
	f->o.open = &oo;
	run_at(f, "2026-06-01 01:00:00");
	assert_string_equal(f->names, "open:FAILED backup:FAILED "
	    "forget:FAILED prune:FAILED verify:FAILED");
	assert_int_equal(f->res.failed->err, GFSB_EAUTH);
	assert_non_null(strstr(f->res.stages[0].summary, "wrong passphrase"));
	disk_repo_pass(passfile, PASS);
	run_at(f, "2026-06-01 01:00:00");
	f->o.repo = f->x.r;
	f->o.open = NULL;
	f->cfg.repo_url = "mem:repo";
	assert_string_equal(f->names, "backup:OK forget:OK prune:OK "
	    "verify:OK");
	assert_null(f->res.failed);
	fx_rm_rf(dir);
}

/* The job's state directory under the backed-up path: left out, night
 * after night (the reports and the state it writes are not stored). */
static void
test_state_inside(void **state)
{
	struct fixture *f = *state;
	struct gfsb_snapshot **v;
	char inner[128];
	size_t n, i;

	snprintf(inner, sizeof(inner), "%s/state", f->src);
	assert_int_equal(mkdir(inner, 0700), 0);
	f->o.state_base = inner;
	f->cfg.report_dir = NULL;
	run_at(f, "2026-06-01 01:00:00");
	run_at(f, "2026-06-02 01:00:00");
	f->o.state_base = f->state;
	f->cfg.report_dir = f->reports;
	assert_null(f->res.failed);
	assert_int_equal(gfsb_repo_snapshot_list(f->x.r, &v, &n), GFSB_OK);
	assert_int_equal(n, 2);
	for (i = 0; i < n; i++)
		assert_int_equal(v[i]->summary.total_files_processed, 5);
	gfsb_repo_snapshot_list_free(v, n);
	assert_true(fx_count(inner, "", "") > 2); /* the job wrote there */
}

static void
test_offsite_not_opened(void **state)
{
	struct fixture *f = *state;

	f->cfg.offsite_url = "s3://nowhere/x";
	f->o.offsite = NULL;
	f->o.offsite_error = "no such endpoint";
	run_at(f, "2026-06-01 01:00:00");
	f->cfg.offsite_url = NULL;
	f->o.offsite_error = NULL;
	assert_string_equal(f->names, "backup:OK forget:OK prune:OK "
	    "sync:FAILED verify:OK verify-offsite:FAILED");
	assert_non_null(strstr(stage(f, "sync")->summary,
	    "cannot open s3://nowhere/x: no such endpoint"));
	assert_string_equal(f->res.failed->name, "sync");
	assert_int_equal(f->res.rep.offsite, GFSB_OFFSITE_UNKNOWN);
	assert_int_equal(nsnapshots(f), 1);
}

static void
test_run_lock(void **state)
{
	struct fixture *f = *state;
	int a = -1, b = -1;

	assert_int_equal(gfsb_ops_run_lock(f->x.ctx, &f->cfg, f->state, &a),
	    GFSB_OK);
	assert_true(a >= 0);
	gfsb_ctx_clearerr(f->x.ctx);
	assert_int_equal(gfsb_ops_run_lock(f->x.ctx, &f->cfg, f->state, &b),
	    GFSB_ELOCKED);
	assert_int_equal(b, -1);
	assert_non_null(strstr(gfsb_ctx_errmsg(f->x.ctx), "another run of"));
	assert_non_null(strstr(gfsb_ctx_errmsg(f->x.ctx), "pid "));
	close(a);
	assert_int_equal(gfsb_ops_run_lock(f->x.ctx, &f->cfg, f->state, &b),
	    GFSB_OK);
	close(b);
}

/* The metrics file: written whole, each sample labelled with the host,
 * the last success kept across a failed night; one that cannot be
 * written is a warning in the report, and the job's outcome stands. */
static void
test_metrics(void **state)
{
	struct fixture *f = *state;
	char path[160], *text;
	struct gfsb_buf b;
	FILE *fp;
	long n;

	snprintf(path, sizeof(path), "%s/gfsb.prom", f->state);
	f->cfg.metrics_file = path;
	run_at(f, "2026-06-01 01:00:00");
	assert_int_equal(f->res.metrics_err, GFSB_OK);
	assert_non_null(fp = fopen(path, "r"));
	fseek(fp, 0, SEEK_END);
	n = ftell(fp);
	rewind(fp);
	assert_non_null(text = calloc(1, (size_t)n + 1));
	assert_int_equal(fread(text, 1, (size_t)n, fp), (size_t)n);
	fclose(fp);
	assert_non_null(strstr(text, "# TYPE gfsbackup_run_status gauge\n"));
	assert_non_null(strstr(text, "gfsbackup_run_status{host=\""));
	assert_non_null(strstr(text, ",stage=\"backup\"} 0\n"));
	assert_non_null(strstr(text, ",role=\"all\"} 1\n"));
	assert_non_null(strstr(text, "gfsbackup_last_success_timestamp_"
	    "seconds{"));
	free(text);

	/* A failed night keeps the last success. */
	gfsb_backend_mem_fault(f->x.be, GFSB_OBJ_PACK, NULL, GFSB_ENET);
	run_at(f, "2026-06-02 01:00:00");
	gfsb_backend_mem_fault(f->x.be, GFSB_OBJ_PACK, NULL, GFSB_OK);
	gfsb_buf_init(&b);
	assert_non_null(fp = fopen(path, "r"));
	while ((n = fgetc(fp)) != EOF) {
		char ch = (char)n;

		assert_int_equal(gfsb_buf_append(&b, &ch, 1), GFSB_OK);
	}
	fclose(fp);
	assert_int_equal(gfsb_buf_append(&b, "", 1), GFSB_OK);
	assert_non_null(strstr((char *)b.data, ",stage=\"backup\"} 1\n"));
	assert_non_null(strstr((char *)b.data, "gfsbackup_run_status{"));
	assert_non_null(strstr((char *)b.data, "} 2\n"));
	gfsb_buf_fini(&b);

	/* Nowhere to write it. */
	snprintf(path, sizeof(path), "%s/no-such-dir/gfsb.prom", f->state);
	run_at(f, "2026-06-03 01:00:00");
	assert_int_equal(f->res.metrics_err, GFSB_EIO);
	assert_non_null(strstr(f->res.metrics_error, "no-such-dir"));
	assert_null(f->res.failed);
	assert_int_equal(f->res.rep.status, GFSB_REPORT_WARNING);
	f->cfg.metrics_file = NULL;
}

/* The hooks: before and after around the backup, on-error told the
 * first failure; a before that fails (or overstays) skips the backup,
 * and the report names it. */
static void
test_hooks(void **state)
{
	struct fixture *f = *state;
	char before[256], after[256], onerr[256], mark[160], text[256];
	FILE *fp;

	snprintf(mark, sizeof(mark), "%s/marks", f->state);
	snprintf(before, sizeof(before), "echo before >>%s", mark);
	snprintf(after, sizeof(after), "echo \"after $GFSB_SNAPSHOT\" >>%s",
	    mark);
	snprintf(onerr, sizeof(onerr), "echo \"error $GFSB_FAILED_STAGE\" "
	    ">>%s", mark);
	f->cfg.hook_before = before;
	f->cfg.hook_after = after;
	f->cfg.hook_on_error = onerr;
	run_at(f, "2026-06-01 01:00:00");
	assert_string_equal(f->names, "before:OK backup:OK after:OK "
	    "forget:OK prune:OK verify:OK");
	assert_non_null(fp = fopen(mark, "r"));
	assert_non_null(fgets(text, sizeof(text), fp));
	assert_string_equal(text, "before\n");
	assert_non_null(fgets(text, sizeof(text), fp));
	assert_int_equal(strncmp(text, "after ", 6), 0);
	assert_int_equal(strncmp(text + 6, f->res.snapshot, 64), 0);
	assert_null(fgets(text, sizeof(text), fp));
	fclose(fp);

	/* A before that fails: no backup, no after; on-error told. */
	snprintf(before, sizeof(before), "echo getting ready; echo 'the "
	    "database is down' >&2; exit 3");
	run_at(f, "2026-06-02 01:00:00");
	assert_string_equal(f->names, "before:FAILED backup:FAILED "
	    "forget:OK prune:OK verify:OK on-error:OK");
	assert_string_equal(stage(f, "before")->summary, "before hook: exit "
	    "status 3: the database is down");
	assert_ptr_equal(f->res.failed, stage(f, "before"));
	assert_int_equal(nsnapshots(f), 1);
	assert_non_null(fp = fopen(mark, "r"));
	while (fgets(text, sizeof(text), fp) != NULL)
		;
	fclose(fp);
	assert_string_equal(text, "error before\n");

	/* One that overstays its timeout is killed, group and all. */
	snprintf(before, sizeof(before), "sleep 30 & sleep 30");
	f->cfg.hook_timeout = 1;
	run_at(f, "2026-06-03 01:00:00");
	assert_string_equal(stage(f, "before")->summary, "before hook: killed "
	    "after 1 s");
	assert_true(stage(f, "before")->seconds < 10);
	f->cfg.hook_before = f->cfg.hook_after = f->cfg.hook_on_error = NULL;
	f->cfg.hook_timeout = 0;
}

/* [databases]: each dump a file of one snapshot a night (a pg_dump of
 * our own on PATH, which tells its arguments); one that fails names the
 * database, and the night stores no dump snapshot.  (42-databases runs
 * the real pg_dump against a real server.) */
static void
test_databases(void **state)
{
	struct fixture *f = *state;
	char bin[128], tool[160], path[4200], *dbs[2], *opts[2];
	struct gfsb_snapshot **v;
	size_t n;
	FILE *fp;

	snprintf(bin, sizeof(bin), "%s/bin", f->state);
	assert_int_equal(mkdir(bin, 0755), 0);
	snprintf(tool, sizeof(tool), "%s/pg_dump", bin);
	assert_non_null(fp = fopen(tool, "w"));
	fputs("#!/bin/sh\n[ \"$3\" = broken ] && exit 2\n"
	    "echo \"-- dump of $3 with $1 $2\"\n", fp);
	fclose(fp);
	assert_int_equal(chmod(tool, 0755), 0);
	snprintf(path, sizeof(path), "%s:%s", bin, getenv("PATH"));
	setenv("PATH", path, 1);
	dbs[0] = "appdb";
	dbs[1] = "billing";
	opts[0] = "-h";
	opts[1] = "/run/pg";
	f->cfg.pg_databases = dbs;
	f->cfg.npg_databases = 2;
	f->cfg.pg_options = opts;
	f->cfg.npg_options = 2;
	run_at(f, "2026-06-01 01:00:00");
	assert_string_equal(f->names, "backup:OK databases:OK forget:OK "
	    "prune:OK verify:OK");
	assert_int_equal(gfsb_repo_snapshot_list(f->x.r, &v, &n), GFSB_OK);
	assert_int_equal(n, 2);
	assert_true(v[0]->npaths == 2 || v[1]->npaths == 2);
	gfsb_repo_snapshot_list_free(v, n);

	dbs[1] = "broken";
	run_at(f, "2026-06-02 01:00:00");
	assert_string_equal(stage(f, "databases")->summary,
	    "postgresql-broken.sql: pg_dump exited with status 2; no "
	    "snapshot stored");
	assert_ptr_equal(f->res.failed, stage(f, "databases"));
	assert_int_equal(nsnapshots(f), 3);	/* the night's files only */
	f->cfg.npg_databases = f->cfg.npg_options = 0;
	f->cfg.pg_databases = f->cfg.pg_options = NULL;
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_nights, setup, teardown),
		cmocka_unit_test_setup_teardown(test_dry_run, setup, teardown),
		cmocka_unit_test_setup_teardown(test_outcome_told, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_outage, setup, teardown),
		cmocka_unit_test_setup_teardown(test_verify_reads_anew, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_not_opened, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_opens_itself, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_state_inside, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_offsite_not_opened, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_run_lock, setup, teardown),
		cmocka_unit_test_setup_teardown(test_metrics, setup, teardown),
		cmocka_unit_test_setup_teardown(test_hooks, setup, teardown),
		cmocka_unit_test_setup_teardown(test_databases, setup,
		    teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
