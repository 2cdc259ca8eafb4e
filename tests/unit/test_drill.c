/*
 * The restore drill on an in-memory repository: the sample is about the
 * size asked and a window of consecutive files, every entry of it is
 * checked, a damaged pack fails exactly the files it breaks, the scratch
 * directory goes away; bad input; the record file, when a drill is due,
 * and what the report is told.
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

#include <gfsbackup/backend.h>
#include <gfsbackup/ops.h>
#include <gfsbackup/report.h>
#include <gfsbackup/repo.h>

#include "fixture.h"

#define PASS "drill pass"
#define NFILES 40
#define FILE_SIZE (64U << 10)

struct fixture {
	char src[64], scratch[64];
	struct fx_repo x;
};

/* NFILES files of FILE_SIZE (f00..f39), an empty file, a symlink; one
 * backup of them in a new in-memory repository. */
static int
setup(void **state)
{
	const char *paths[1];
	struct gfsb_backup_opts bo;
	struct gfsb_backup_result bres;
	struct fixture *f = calloc(1, sizeof(*f));
	char path[128];
	unsigned i;

	assert_non_null(f);
	fx_tmpdir(f->src, sizeof(f->src), "drill-src");
	fx_tmpdir(f->scratch, sizeof(f->scratch), "drill-tmp");
	for (i = 0; i < NFILES; i++) {
		snprintf(path, sizeof(path), "%s/f%02u", f->src, i);
		fx_write(path, FILE_SIZE, i);
	}
	snprintf(path, sizeof(path), "%s/zz-empty", f->src);
	fx_write(path, 0, 0);
	snprintf(path, sizeof(path), "%s/zz-link", f->src);
	assert_int_equal(symlink("f00", path), 0);
	fx_repo_new(&f->x, PASS, 1 << 20);
	memset(&bo, 0, sizeof(bo));
	paths[0] = f->src;
	bo.paths = paths;
	bo.npaths = 1;
	bo.threads = 1;
	assert_int_equal(gfsb_ops_backup(f->x.r, &bo, &bres), GFSB_OK);
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fixture *f = *state;

	fx_repo_free(&f->x);
	fx_rm_rf(f->src);
	fx_rm_rf(f->scratch);
	free(f);
	return 0;
}

static gfsb_err
drill(struct fixture *f, uint64_t size, uint64_t seed,
    struct gfsb_drill_result *res)
{
	struct gfsb_drill_opts o;

	memset(&o, 0, sizeof(o));
	o.size = size;
	o.seed = seed;
	o.scratch = f->scratch;
	o.threads = 2;
	return gfsb_ops_drill(f->x.r, &o, res);
}

static int
is_empty_dir(const char *dir)
{
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "test -z \"$(ls -A '%s')\"", dir);
	return system(cmd) == 0;
}

/* A sample: about the size asked, consecutive files, all checked. */
static void
test_sample(void **state)
{
	struct fixture *f = *state;
	struct gfsb_drill_result res;
	uint64_t seed;

	for (seed = 1; seed <= 6; seed++) {
		assert_int_equal(drill(f, 5 * FILE_SIZE, seed, &res), GFSB_OK);
		assert_int_equal(res.total_files, NFILES + 2);
		assert_int_equal(res.total_bytes, (uint64_t)NFILES * FILE_SIZE);
		/* One window of 5 files' bytes touches 5 or 6 files (the
		 * empty file and the link lie at the end, one byte-place). */
		assert_true(res.bytes >= 5 * FILE_SIZE &&
		    res.bytes <= 6 * FILE_SIZE);
		assert_true(res.files >= 5 && res.files <= 8);
		assert_int_equal(res.checked, res.files);
		assert_int_equal(res.failed, 0);
		assert_true(res.rate > 0);
		assert_true(res.projected >= res.setup);
		assert_int_equal(strlen(res.snapshot), 64);
		assert_true(is_empty_dir(f->scratch));
		gfsb_ops_drill_result_fini(&res);
	}
}

/* A size above the snapshot's restores and checks all of it. */
static void
test_everything(void **state)
{
	struct fixture *f = *state;
	struct gfsb_drill_result res;

	assert_int_equal(drill(f, 1ULL << 40, 7, &res), GFSB_OK);
	assert_int_equal(res.files, NFILES + 2);
	assert_int_equal(res.bytes, (uint64_t)NFILES * FILE_SIZE);
	assert_int_equal(res.checked, NFILES + 2);
	assert_int_equal(res.failed, 0);
	assert_int_equal(res.restore.files, NFILES + 1);
	assert_true(is_empty_dir(f->scratch));
	gfsb_ops_drill_result_fini(&res);
}

/* One pack damaged in its middle: a drill of everything fails the files
 * whose blobs lie there, by name, with why.  Small samples at random
 * places hit it for some seeds and not others, the same for the same
 * seed. */
struct packs {
	char (*names)[GFSB_ID_HEX];
	size_t n;
};

static gfsb_err
add_pack(void *cookie, const char *name, uint64_t size)
{
	struct packs *p = cookie;

	(void)size;
	p->names = realloc(p->names, (p->n + 1) * sizeof(*p->names));
	assert_non_null(p->names);
	snprintf(p->names[p->n++], GFSB_ID_HEX, "%s", name);
	return GFSB_OK;
}

static void
test_damage(void **state)
{
	struct fixture *f = *state;
	struct gfsb_drill_result res;
	struct packs p = { NULL, 0 };
	struct gfsb_buf b;
	uint64_t seed, failed;
	size_t i;
	int hits = 0;

	assert_int_equal(gfsb_backend_list(f->x.be, GFSB_OBJ_PACK, add_pack, &p),
	    GFSB_OK);
	assert_true(p.n > 2);
	/* The first pack listed, one byte in its middle. */
	gfsb_buf_init(&b);
	assert_int_equal(gfsb_backend_get(f->x.be, GFSB_OBJ_PACK, p.names[0],
	    &b), GFSB_OK);
	b.data[b.len / 2] ^= 0x40;
	assert_int_equal(gfsb_backend_put(f->x.be, GFSB_OBJ_PACK, p.names[0],
	    b.data, b.len), GFSB_OK);
	assert_int_equal(drill(f, 1ULL << 40, 3, &res), GFSB_OK);
	assert_true(res.failed > 0);
	assert_int_equal(res.nfailures, res.failed);
	assert_int_equal(res.checked + res.failed, res.files);
	for (i = 0; i < res.nfailures; i++) {
		assert_non_null(strstr(res.failures[i].path, f->src));
		assert_non_null(res.failures[i].why);
	}
	assert_true(is_empty_dir(f->scratch));
	gfsb_ops_drill_result_fini(&res);
	for (seed = 1; seed <= 24; seed++) {
		assert_int_equal(drill(f, 2 * FILE_SIZE, seed, &res), GFSB_OK);
		hits += res.failed > 0;
		failed = res.failed;
		gfsb_ops_drill_result_fini(&res);
		assert_int_equal(drill(f, 2 * FILE_SIZE, seed, &res), GFSB_OK);
		assert_int_equal(res.failed, failed);
		gfsb_ops_drill_result_fini(&res);
	}
	assert_true(hits > 0 && hits < 24);
	/* Put it back: the other tests use the repository. */
	b.data[b.len / 2] ^= 0x40;
	assert_int_equal(gfsb_backend_put(f->x.be, GFSB_OBJ_PACK, p.names[0],
	    b.data, b.len), GFSB_OK);
	gfsb_buf_fini(&b);
	free(p.names);
}

/* Bad input: an error with a reason, nothing left behind. */
static void
test_bad_input(void **state)
{
	struct fixture *f = *state;
	struct gfsb_drill_result res;
	struct gfsb_drill_opts o;

	assert_int_equal(drill(f, 0, 1, &res), GFSB_EINVAL);
	assert_non_null(strstr(gfsb_ctx_errmsg(f->x.ctx), "more than 0"));
	gfsb_ctx_clearerr(f->x.ctx);
	memset(&o, 0, sizeof(o));
	o.size = 1 << 20;
	o.scratch = "/nonexistent/gfsb-drill";
	assert_int_equal(gfsb_ops_drill(f->x.r, &o, &res), GFSB_EIO);
	assert_non_null(strstr(gfsb_ctx_errmsg(f->x.ctx),
	    "cannot make a scratch directory in /nonexistent/gfsb-drill"));
	gfsb_ctx_clearerr(f->x.ctx);
	o.scratch = f->scratch;
	o.host = "no-such-host";
	assert_int_equal(gfsb_ops_drill(f->x.r, &o, &res), GFSB_ENOTFOUND);
	gfsb_ctx_clearerr(f->x.ctx);
	assert_true(is_empty_dir(f->scratch));
	gfsb_ops_drill_result_fini(&res);
}

/* ---- restore's select and progress, which the drill is built on ---- */

struct seen {
	struct gfsb_restore_progress last;
	unsigned calls;
	unsigned asked;		/* select calls */
};

static void
on_progress(void *cookie, const struct gfsb_restore_progress *p)
{
	struct seen *v = cookie;

	v->last = *p;
	v->calls++;
}

/* Only f07 and the link: their directory comes back, nothing else. */
static int
pick_two(void *cookie, const char *path, const struct gfsb_node *n)
{
	const char *base = strrchr(path, '/');

	(void)n;
	((struct seen *)cookie)->asked++;
	return strcmp(base, "/f07") == 0 || strcmp(base, "/zz-link") == 0;
}

static void
test_select_and_progress(void **state)
{
	struct fixture *f = *state;
	struct gfsb_restore_opts ro;
	struct gfsb_restore_result res;
	struct seen v;
	char target[128], cmd[1024];

	memset(&v, 0, sizeof(v));
	memset(&ro, 0, sizeof(ro));
	snprintf(target, sizeof(target), "%s/t", f->scratch);
	ro.snapshot = "latest";
	ro.target = target;
	ro.select = pick_two;
	ro.select_cookie = &v;
	ro.progress = on_progress;
	ro.progress_cookie = &v;
	assert_int_equal(gfsb_ops_restore(f->x.r, &ro, &res), GFSB_OK);
	/* Asked once per entry that is not a directory. */
	assert_int_equal(v.asked, NFILES + 2);
	assert_int_equal(res.files, 1);
	assert_int_equal(res.others, 1);
	assert_int_equal(res.bytes, FILE_SIZE);
	/* The last call is the final one, with the totals. */
	assert_true(v.calls >= 1);
	assert_int_equal(v.last.total_known, 1);
	assert_int_equal(v.last.files, res.files + res.dirs + res.others);
	assert_int_equal(v.last.total_files, v.last.files);
	assert_int_equal(v.last.bytes, FILE_SIZE);
	snprintf(cmd, sizeof(cmd), "cmp -s '%s/f07' '%s%s/f07' && "
	    "test \"$(find '%s' ! -type d | wc -l)\" = 2", f->src, target,
	    f->src, target);
	assert_int_equal(system(cmd), 0);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", target);
	assert_int_equal(system(cmd), 0);
}

static void
test_progress_line(void **state)
{
	struct gfsb_restore_progress p;
	char line[256];

	(void)state;
	memset(&p, 0, sizeof(p));
	p.files = 5120;
	p.bytes = 412ULL << 20;
	p.total_files = 15290;
	p.total_bytes = 1ULL << 30;
	p.total_known = 1;
	p.seconds = 42.5;
	gfsb_ops_restore_progress_line(&p, line, sizeof(line));
	/* 432 MB in 42.5 s: 10.2 MB/s; 612 MiB left at that rate: 63 s. */
	assert_string_equal(line, "[0:42] 5120 of 15290 files, 412 MiB of "
	    "1.00 GiB (40%), 10.2 MB/s, ETA 0:01:03");
	p.total_known = 0;
	gfsb_ops_restore_progress_line(&p, line, sizeof(line));
	assert_string_equal(line, "[0:42] 5120 files, 412 MiB, 10.2 MB/s");
}

/* ---- the record, when a drill is due, the report ---- */

static void
fake_result(struct gfsb_drill_result *res, double projected, int failed)
{
	static struct gfsb_drill_failure fl = { "/srv/a<b>", "content differs "
	    "from the snapshot" };

	memset(res, 0, sizeof(*res));
	snprintf(res->snapshot, sizeof(res->snapshot), "%064d", 7);
	res->files = 10;
	res->bytes = 1 << 20;
	res->total_files = 1000;
	res->total_bytes = 1 << 30;
	res->rate = 100e6;
	res->projected = projected;
	res->failed = failed;
	if (failed) {
		res->failures = &fl;
		res->nfailures = 1;
	}
}

static void
test_record(void **state)
{
	struct fixture *f = *state;
	struct gfsb_drill_result res;
	struct gfsb_report_drill d;
	struct gfsb_time t = { 1800000000, 0 }, later;
	char path[128], cmd[256];
	int i;

	snprintf(path, sizeof(path), "%s/sub/drill.json", f->scratch);
	/* No record: due, and nothing to show. */
	assert_true(gfsb_ops_drill_due(f->x.ctx, path, &t, 7));
	assert_int_equal(gfsb_ops_drill_last(f->x.ctx, path, &d), GFSB_OK);
	assert_int_equal(d.has, 0);
	for (i = 0; i < GFSB_DRILL_KEEP + 3; i++) {
		fake_result(&res, 100 + i, 0);
		assert_int_equal(gfsb_ops_drill_record(f->x.ctx, path, &res, &t,
		    "s3://b/p"), GFSB_OK);
	}
	assert_int_equal(gfsb_ops_drill_last(f->x.ctx, path, &d), GFSB_OK);
	assert_int_equal(d.has, 1);
	assert_true(d.projected == 100 + GFSB_DRILL_KEEP + 2);
	assert_string_equal(d.repo, "s3://b/p");
	assert_string_equal(d.snapshot, "00000000");
	free(d.repo);
	snprintf(cmd, sizeof(cmd), "test $(grep -o '\"time\"' '%s' | wc -l) "
	    "= %d", path, GFSB_DRILL_KEEP);
	assert_int_equal(system(cmd), 0);
	/* Due every 7 days: 6 days on, not yet; 7, yes. */
	later = t;
	later.sec += 6 * 86400;
	assert_false(gfsb_ops_drill_due(f->x.ctx, path, &later, 7));
	later.sec += 86400;
	assert_true(gfsb_ops_drill_due(f->x.ctx, path, &later, 7));
	/* A failed drill is due again the next night. */
	fake_result(&res, 50, 1);
	assert_int_equal(gfsb_ops_drill_record(f->x.ctx, path, &res, &t,
	    "s3://b/p"), GFSB_OK);
	later = t;
	later.sec += 86400;
	assert_true(gfsb_ops_drill_due(f->x.ctx, path, &later, 7));
	assert_int_equal(gfsb_ops_drill_last(f->x.ctx, path, &d), GFSB_OK);
	assert_int_equal(d.failed, 1);
	assert_int_equal(d.nfailed_files, 1);
	assert_string_equal(d.failed_files[0],
	    "/srv/a<b>: content differs from the snapshot");
	free(d.failed_files[0]);
	free(d.failed_files);
	free(d.repo);
	/* A record that is not one: an error to read, started anew on the
	 * next drill. */
	snprintf(cmd, sizeof(cmd), "echo '{\"version\": 9}' >'%s'", path);
	assert_int_equal(system(cmd), 0);
	assert_int_equal(gfsb_ops_drill_last(f->x.ctx, path, &d), GFSB_ECORRUPT);
	assert_non_null(strstr(gfsb_ctx_errmsg(f->x.ctx), "not a drill record"));
	gfsb_ctx_clearerr(f->x.ctx);
	assert_true(gfsb_ops_drill_due(f->x.ctx, path, &t, 7));
	fake_result(&res, 42, 0);
	assert_int_equal(gfsb_ops_drill_record(f->x.ctx, path, &res, &t,
	    "s3://b/p"), GFSB_OK);
	assert_int_equal(gfsb_ops_drill_last(f->x.ctx, path, &d), GFSB_OK);
	assert_true(d.projected == 42);
	free(d.repo);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s/sub'", f->scratch);
	assert_int_equal(system(cmd), 0);
}

static int
has_line(char **v, size_t n, const char *s)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (strstr(v[i], s) != NULL)
			return 1;
	return 0;
}

static void
test_report(void **state)
{
	struct fixture *f = *state;
	struct gfsb_drill_result res;
	struct gfsb_report rep;
	struct gfsb_time t = { 1800000000, 0 };
	char path[128];

	snprintf(path, sizeof(path), "%s/report-drill.json", f->scratch);
	/* Scheduled, none yet: a warning. */
	gfsb_report_init(&rep);
	rep.now = t;
	assert_int_equal(gfsb_ops_report_drill(&rep, f->x.ctx, path, 0, 0, 7),
	    GFSB_OK);
	assert_int_equal(rep.drill.has, 0);
	assert_int_equal(rep.status, GFSB_REPORT_WARNING);
	assert_true(has_line(rep.warnings, rep.nwarnings,
	    "no restore drill has run yet"));
	gfsb_report_fini(&rep);
	/* 2 h 14 min projected against a 2 h objective: a warning. */
	fake_result(&res, 8040, 0);
	assert_int_equal(gfsb_ops_drill_record(f->x.ctx, path, &res, &t, "s3://x"),
	    GFSB_OK);
	gfsb_report_init(&rep);
	rep.now = t;
	assert_int_equal(gfsb_ops_report_drill(&rep, f->x.ctx, path, 1, 7200, 7),
	    GFSB_OK);
	assert_int_equal(rep.drill.ran, 1);
	assert_true(rep.drill.rto == 7200);
	assert_int_equal(rep.status, GFSB_REPORT_WARNING);
	assert_true(has_line(rep.warnings, rep.nwarnings, "would take about "
	    "2 h 14 min, more than the recovery-time objective of 2 h"));
	gfsb_report_fini(&rep);
	/* ... and none against 3 h. */
	gfsb_report_init(&rep);
	rep.now = t;
	assert_int_equal(gfsb_ops_report_drill(&rep, f->x.ctx, path, 1, 10800,
	    7), GFSB_OK);
	assert_int_equal(rep.status, GFSB_REPORT_OK);
	assert_int_equal(rep.nwarnings, 0);
	gfsb_report_fini(&rep);
	/* 14 days later, unscheduled drills due every 7: a warning. */
	gfsb_report_init(&rep);
	rep.now = t;
	rep.now.sec += 14 * 86400;
	assert_int_equal(gfsb_ops_report_drill(&rep, f->x.ctx, path, 0, 0, 7),
	    GFSB_OK);
	assert_true(has_line(rep.warnings, rep.nwarnings, "ran 14 days ago"));
	gfsb_report_fini(&rep);
	/* A failed drill: an error tonight, a warning on later nights. */
	fake_result(&res, 60, 1);
	assert_int_equal(gfsb_ops_drill_record(f->x.ctx, path, &res, &t, "s3://x"),
	    GFSB_OK);
	gfsb_report_init(&rep);
	rep.now = t;
	assert_int_equal(gfsb_ops_report_drill(&rep, f->x.ctx, path, 1, 0, 0),
	    GFSB_OK);
	assert_int_equal(rep.status, GFSB_REPORT_FAILED);
	assert_true(has_line(rep.errors, rep.nerrors, "1 file(s) of snapshot "
	    "00000000 did not come back intact from s3://x"));
	gfsb_report_fini(&rep);
	gfsb_report_init(&rep);
	rep.now = t;
	assert_int_equal(gfsb_ops_report_drill(&rep, f->x.ctx, path, 0, 0, 0),
	    GFSB_OK);
	assert_int_equal(rep.status, GFSB_REPORT_WARNING);
	gfsb_report_fini(&rep);
	unlink(path);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sample),
		cmocka_unit_test(test_everything),
		cmocka_unit_test(test_damage),
		cmocka_unit_test(test_bad_input),
		cmocka_unit_test(test_select_and_progress),
		cmocka_unit_test(test_progress_line),
		cmocka_unit_test(test_record),
		cmocka_unit_test(test_report),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
