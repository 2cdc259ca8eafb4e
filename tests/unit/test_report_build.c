/*
 * The report as the library assembles and delivers it
 * (src/ops/ops_report_build.c), on an in-memory repository: the newest
 * backup and a stale one, GFS roles under a policy, an offsite mirror in
 * sync, behind and unreadable; saved reports, their pruning by date, a
 * directory that cannot be made and a mail server that is not there; the
 * state files' layout.
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
#include <gfsbackup/gfs.h>
#include <gfsbackup/ops.h>
#include <gfsbackup/report.h>
#include <gfsbackup/repo.h>

#include "fixture.h"

#define PASS "report pass"

struct fixture {
	char src[64], dir[64];
	struct fx_repo x;
};

static void
at(const char *s, struct gfsb_time *t)
{
	assert_int_equal(gfsb_time_parse_local(s, t), GFSB_OK);
}

static void
backup_as(struct fixture *f, const char *when, const char *host)
{
	fx_backup(&f->x, f->src, when, host, NULL, NULL);
}

static void
backup_at(struct fixture *f, const char *when)
{
	backup_as(f, when, NULL);
}

/* Two backups of a small tree, a day apart. */
static int
setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	char path[128];
	FILE *fp;

	assert_non_null(f);
	fx_tmpdir(f->src, sizeof(f->src), "rb-src");
	fx_tmpdir(f->dir, sizeof(f->dir), "rb-out");
	snprintf(path, sizeof(path), "%s/a.txt", f->src);
	assert_non_null(fp = fopen(path, "w"));
	fputs("the report's test data\n", fp);
	fclose(fp);
	fx_repo_new(&f->x, PASS, 0);
	backup_at(f, "2026-06-01 01:00:00");
	backup_at(f, "2026-06-02 01:00:00");
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fixture *f = *state;

	fx_repo_free(&f->x);
	fx_rm_rf(f->src);
	fx_rm_rf(f->dir);
	free(f);
	return 0;
}

/* Some line of v[0..n) holds s. */
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
test_fill_repo(void **state)
{
	struct fixture *f = *state;
	struct gfsb_report rep;
	struct gfsb_time now;

	/* The morning after the second backup: nothing to warn of. */
	gfsb_report_init(&rep);
	at("2026-06-02 07:00:00", &now);
	assert_int_equal(gfsb_ops_report_fill_repo(f->x.r, &rep, "the-repo",
	    NULL, &now), GFSB_OK);
	assert_string_equal(rep.repo, "the-repo");
	assert_true(rep.has_backup);
	assert_int_equal(rep.files_total, 1);
	assert_int_equal(rep.nsnaps, 2);
	assert_true(gfsb_time_cmp(&rep.snaps[0].time, &rep.snaps[1].time) < 0);
	assert_int_equal(rep.nwarnings, 0);
	assert_int_equal(rep.status, GFSB_REPORT_OK);
	gfsb_report_fini(&rep);

	/* Two days later, no backup since: the job did not run. */
	gfsb_report_init(&rep);
	at("2026-06-04 07:00:00", &now);
	assert_int_equal(gfsb_ops_report_fill_repo(f->x.r, &rep, NULL, NULL,
	    &now), GFSB_OK);
	assert_true(has_line(rep.warnings, rep.nwarnings, "54 hours old"));
	assert_int_equal(rep.status, GFSB_REPORT_WARNING);
	gfsb_report_fini(&rep);
}

/* A fleet in one repository: each host's newest snapshot, one that
 * stopped backing up said; the last backup is this host's, even when
 * another host backed up later. */
static void
test_fleet(void **state)
{
	struct fixture *f = *state;
	const struct gfsb_report_host *h;
	struct gfsb_report rep;
	struct gfsb_time now;
	struct gfsb_buf b;
	size_t i;
	char *t;

	backup_as(f, "2026-05-20 01:00:00", "db1");
	backup_as(f, "2026-06-02 03:00:00", "web2");
	gfsb_report_init(&rep);
	at("2026-06-02 07:00:00", &now);
	assert_int_equal(gfsb_ops_report_fill_repo(f->x.r, &rep, NULL, NULL,
	    &now), GFSB_OK);
	assert_int_equal(rep.nhosts, 3);
	/* By name: this host's (any name) with db1 and web2. */
	for (i = 0; i < 3; i++) {
		h = &rep.hosts[i];
		if (i > 0)
			assert_true(strcmp(rep.hosts[i - 1].name, h->name) < 0);
		assert_int_equal(h->stale, strcmp(h->name, "db1") == 0);
		assert_int_equal(h->snapshots, strcmp(h->name, "db1") == 0 ||
		    strcmp(h->name, "web2") == 0 ? 1 : 2);
	}
	assert_true(has_line(rep.warnings, rep.nwarnings, "host db1 has not "
	    "backed up since"));
	assert_int_equal(rep.nwarnings, 1);
	/* This host's 01:00 backup, not web2's 03:00 one. */
	at("2026-06-02 01:00:00", &now);
	assert_int_equal(rep.backup_time.sec, now.sec);
	gfsb_buf_init(&b);
	assert_int_equal(gfsb_report_render_text(&rep, &b), GFSB_OK);
	t = (char *)b.data;
	assert_non_null(strstr(t, "\nFLEET\n  host "));
	assert_non_null(t = strstr(t, "\n  db1 "));
	assert_true(strstr(t, " 2026-05-20 01:00  ") < strstr(t, "STOPPED\n"));
	assert_true(strstr(t, "STOPPED\n") < strchr(t + 1, '\n') + 1);
	gfsb_buf_fini(&b);
	gfsb_buf_init(&b);
	assert_int_equal(gfsb_report_render_html(&rep, &b), GFSB_OK);
	assert_non_null(strstr((char *)b.data, ">Fleet</h2>"));
	assert_non_null(strstr((char *)b.data, " &middot; stopped</td>"));
	gfsb_buf_fini(&b);
	gfsb_report_fini(&rep);
}

static void
test_fill_repo_policy(void **state)
{
	struct fixture *f = *state;
	struct gfsb_policy *pol;
	struct gfsb_report rep;
	struct gfsb_time now;

	assert_int_equal(gfsb_gfs_policy_new(&pol), GFSB_OK);
	assert_int_equal(gfsb_gfs_policy_set(f->x.ctx, pol, "keep-daily", "1",
	    "test"), GFSB_OK);
	gfsb_report_init(&rep);
	at("2026-06-02 07:00:00", &now);
	assert_int_equal(gfsb_ops_report_fill_repo(f->x.r, &rep, NULL, pol,
	    &now), GFSB_OK);
	assert_int_equal(rep.nsnaps, 2);
	/* The newer one is the day's son; the older one is not kept. */
	assert_int_equal(rep.snaps[0].roles, 0);
	assert_true(rep.snaps[1].roles & GFSB_ROLE_DAILY);
	assert_true(has_line(rep.warnings, rep.nwarnings,
	    "1 snapshots are not kept by the policy"));
	assert_non_null(rep.policy);
	gfsb_report_fini(&rep);
	gfsb_gfs_policy_free(pol);
}

static void
test_fill_offsite(void **state)
{
	struct fixture *f = *state;
	struct gfsb_backend *mirror;
	struct gfsb_sync_opts so;
	struct gfsb_sync_result sr;
	struct gfsb_report rep;

	assert_int_equal(gfsb_backend_mem_new(f->x.ctx, &mirror), GFSB_OK);
	gfsb_report_init(&rep);
	assert_int_equal(gfsb_ops_report_fill_offsite(f->x.r, &rep, mirror,
	    "mem:mirror", 2), GFSB_OK);
	assert_int_equal(rep.offsite, GFSB_OFFSITE_BEHIND);
	assert_true(rep.behind_objects > 0);
	assert_true(has_line(rep.warnings, rep.nwarnings,
	    "the offsite copy is behind"));
	gfsb_report_fini(&rep);

	memset(&so, 0, sizeof(so));
	so.threads = 2;
	assert_int_equal(gfsb_ops_sync(f->x.r, mirror, &so, &sr), GFSB_OK);
	gfsb_report_init(&rep);
	assert_int_equal(gfsb_ops_report_fill_offsite(f->x.r, &rep, mirror,
	    "mem:mirror", 2), GFSB_OK);
	assert_int_equal(rep.offsite, GFSB_OFFSITE_IN_SYNC);
	assert_int_equal(rep.nwarnings, 0);
	assert_string_equal(rep.offsite_repo, "mem:mirror");
	gfsb_report_fini(&rep);

	/* A mirror whose config cannot be read: unknown, said as an error. */
	gfsb_backend_mem_fault(mirror, GFSB_OBJ_CONFIG, NULL, GFSB_ENET);
	gfsb_report_init(&rep);
	assert_int_equal(gfsb_ops_report_fill_offsite(f->x.r, &rep, mirror,
	    "mem:mirror", 2), GFSB_OK);
	assert_int_equal(rep.offsite, GFSB_OFFSITE_UNKNOWN);
	assert_non_null(rep.offsite_error);
	assert_true(has_line(rep.errors, rep.nerrors,
	    "offsite copy mem:mirror cannot be checked"));
	assert_int_equal(rep.status, GFSB_REPORT_FAILED);
	gfsb_report_fini(&rep);
	gfsb_backend_close(mirror);
}

static void
test_deliver(void **state)
{
	struct fixture *f = *state;
	struct gfsb_report_delivery d;
	struct gfsb_mail_opts mo;
	struct gfsb_report rep;
	const char *to[1] = { "ops@example.org" };
	char path[160], bad[160], cmd[256];
	struct stat st;
	FILE *fp;

	gfsb_report_init(&rep);
	at("2026-06-02 07:00:00", &rep.now);
	assert_int_equal(gfsb_ops_report_fill_repo(f->x.r, &rep, NULL, NULL,
	    &rep.now), GFSB_OK);
	/* Saved reports from long ago and yesterday, and a file of the
	 * operator's: keep-days 30 removes only the first. */
	snprintf(path, sizeof(path), "%s/report-2026-01-01-070000.txt",
	    f->dir);
	assert_non_null(fp = fopen(path, "w"));
	fclose(fp);
	snprintf(path, sizeof(path), "%s/report-2026-06-01-070000.html",
	    f->dir);
	assert_non_null(fp = fopen(path, "w"));
	fclose(fp);
	snprintf(path, sizeof(path), "%s/report-notes.txt", f->dir);
	assert_non_null(fp = fopen(path, "w"));
	fclose(fp);
	memset(&d, 0, sizeof(d));
	d.dir = f->dir;
	d.keep_days = 30;
	assert_int_equal(gfsb_ops_report_deliver(f->x.ctx, &rep, &d), GFSB_OK);
	snprintf(path, sizeof(path), "%s/report-2026-06-02-070000.txt",
	    f->dir);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	assert_true(st.st_size > 100);
	snprintf(path, sizeof(path), "%s/report-2026-01-01-070000.txt",
	    f->dir);
	assert_int_not_equal(stat(path, &st), 0);
	assert_int_equal(fx_count(f->dir, "report-", ".html"), 2);
	snprintf(path, sizeof(path), "%s/report-notes.txt", f->dir);
	assert_int_equal(stat(path, &st), 0);

	/* A directory that cannot be made (a file is in the way). */
	snprintf(bad, sizeof(bad), "%s/report-notes.txt/sub", f->dir);
	d.dir = bad;
	gfsb_ctx_clearerr(f->x.ctx);
	assert_int_equal(gfsb_ops_report_deliver(f->x.ctx, &rep, &d), GFSB_EIO);
	assert_non_null(strstr(gfsb_ctx_errmsg(f->x.ctx),
	    "cannot create the report directory"));

	/* No mail server at 127.0.0.1:1: not mailed, but saved, and said. */
	memset(&mo, 0, sizeof(mo));
	mo.url = "smtp://127.0.0.1:1";
	mo.from = "backup@example.org";
	mo.to = to;
	mo.nto = 1;
	mo.timeout_s = 10;
	d.dir = f->dir;
	d.mail = &mo;
	rep.now.sec += 60;
	gfsb_ctx_clearerr(f->x.ctx);
	assert_int_not_equal(gfsb_ops_report_deliver(f->x.ctx, &rep, &d),
	    GFSB_OK);
	assert_non_null(strstr(gfsb_ctx_errmsg(f->x.ctx),
	    "the report was not mailed"));
	assert_non_null(strstr(gfsb_ctx_errmsg(f->x.ctx), "it is kept in"));
	assert_int_equal(fx_count(f->dir, "report-", ".txt"), 3);
	/* Failures only, and the report is OK: nothing is sent. */
	d.failures_only = 1;
	rep.now.sec += 60;
	gfsb_ctx_clearerr(f->x.ctx);
	assert_int_equal(gfsb_ops_report_deliver(f->x.ctx, &rep, &d), GFSB_OK);
	gfsb_report_fini(&rep);
	snprintf(cmd, sizeof(cmd), "rm -f '%s'/report-*", f->dir);
	assert_int_equal(system(cmd), 0);
}

static void
test_state_file(void **state)
{
	struct fixture *f = *state;
	char *p = NULL, want[256], base[256];
	const char *home = getenv("HOME");
	char *saved = home != NULL ? strdup(home) : NULL;

	assert_int_equal(gfsb_ops_state_file(f->x.ctx, "/var/lib/g", f->x.r,
	    f->x.be, GFSB_STATE_DRILL, &p), GFSB_OK);
	snprintf(want, sizeof(want), "/var/lib/g/%s/drill-", gfsb_repo_id(f->x.r));
	assert_memory_equal(p, want, strlen(want));
	assert_string_equal(p + strlen(p) - 5, ".json");
	free(p);
	assert_int_equal(gfsb_ops_state_file(f->x.ctx, "/var/lib/g", f->x.r,
	    f->x.be, GFSB_STATE_LOCKS, &p), GFSB_OK);
	assert_string_equal(p + strlen(p) - 4, ".bin");
	free(p);
	/* From the environment, and none at all. */
	setenv("GFSBACKUP_STATE_DIR", "/srv/state", 1);
	assert_int_equal(gfsb_ops_state_base(f->x.ctx, NULL, base, sizeof(base)),
	    GFSB_OK);
	assert_string_equal(base, "/srv/state");
	unsetenv("GFSBACKUP_STATE_DIR");
	unsetenv("STATE_DIRECTORY");
	unsetenv("XDG_STATE_HOME");
	unsetenv("HOME");
	gfsb_ctx_clearerr(f->x.ctx);
	assert_int_equal(gfsb_ops_state_base(f->x.ctx, NULL, base, sizeof(base)),
	    GFSB_EINVAL);
	assert_non_null(strstr(gfsb_ctx_errmsg(f->x.ctx), "no state directory"));
	assert_int_equal(gfsb_ops_state_file(f->x.ctx, NULL, f->x.r, f->x.be,
	    GFSB_STATE_VERIFY, &p), GFSB_EINVAL);
	assert_null(p);
	if (saved != NULL)
		setenv("HOME", saved, 1);
	free(saved);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_fill_repo),
		cmocka_unit_test(test_fill_repo_policy),
		cmocka_unit_test(test_fill_offsite),
		cmocka_unit_test(test_deliver),
		cmocka_unit_test(test_state_file),
			/* Last: it adds other hosts' snapshots. */
		cmocka_unit_test(test_fleet),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
