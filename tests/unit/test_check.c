/*
 * gfsbackup verify's engine (gfsb_ops_check) and its settings
 * (gfsb_ops_check_settle): the configuration file under the command
 * line, the settings that do not go together, and the check itself on an
 * in-memory repository: the verification kept for printing, damage that
 * fails it, the report saved beside the state, the drill when asked, an
 * offsite copy that could not be opened; the copies the check opens
 * (gfsb_ops_check_open) and the exit status it comes to
 * (gfsb_ops_check_exit); and the verification told as lines and as
 * JSON.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <cmocka.h>

#include <jansson.h>

#include <gfsbackup/backend.h>
#include <gfsbackup/ops.h>
#include <gfsbackup/report.h>
#include <gfsbackup/repo.h>

#include "fixture.h"

#define PASS "check pass"

struct fixture {
	char dir[64], src[96], state[96], conf[96], pass[96], reports[96];
	struct fx_repo x;
	struct gfsb_repo *fresh;
	struct gfsb_config cfg;
	struct gfsb_check_args a;
	struct gfsb_check_opts o;
	struct gfsb_check_result res;
	char names[256];
	const char *when;	/* the check's time; NULL: 2026-06-01 */
	size_t lines;
	int no_damage_line;
};

/* A private file at path holding text. */
static void
write_private(const char *path, const char *text)
{
	FILE *fp;

	assert_non_null(fp = fopen(path, "w"));
	fputs(text, fp);
	fclose(fp);
	assert_int_equal(chmod(path, 0600), 0);
}

static int
setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	struct gfsb_backup_opts bo;
	struct gfsb_backup_result br;
	const char *paths[1];
	char conf[1024], path[160];
	int i;

	assert_non_null(f);
	fx_tmpdir(f->dir, sizeof(f->dir), "check");
	snprintf(f->src, sizeof(f->src), "%s/src", f->dir);
	snprintf(f->state, sizeof(f->state), "%s/state", f->dir);
	snprintf(f->conf, sizeof(f->conf), "%s/gfsbackup.conf", f->dir);
	snprintf(f->pass, sizeof(f->pass), "%s/pass", f->dir);
	snprintf(f->reports, sizeof(f->reports), "%s/reports", f->dir);
	assert_int_equal(mkdir(f->src, 0700), 0);
	for (i = 0; i < 8; i++) {
		snprintf(path, sizeof(path), "%s/file%d", f->src, i);
		fx_write(path, 300 << 10, (unsigned)i);
	}
	write_private(f->pass, PASS "\n");
	snprintf(conf, sizeof(conf), "[repository]\nurl = /srv/repo\n"
	    "password-file = %s\nstate-dir = %s\n[backup]\npaths = %s\n"
	    "[verify]\nread-data-subset = 2/5\n"
	    "[report]\nsmtp-url = smtp://127.0.0.1\n"
	    "from = b@example.org\nto = ops@example.org\n", f->pass, f->state,
	    f->src);
	write_private(f->conf, conf);
	fx_repo_new(&f->x, PASS, 1 << 20);
	memset(&bo, 0, sizeof(bo));
	paths[0] = f->src;
	bo.paths = paths;
	bo.npaths = 1;
	bo.threads = 1;
	assert_int_equal(gfsb_ops_backup(f->x.r, &bo, &br), GFSB_OK);
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fixture *f = *state;

	gfsb_ops_check_result_fini(&f->res);
	gfsb_config_fini(&f->cfg);
	gfsb_repo_close(f->fresh);
	fx_repo_free(&f->x);
	fx_rm_rf(f->dir);
	free(f);
	return 0;
}

/* ---- the settings ---- */

static void
test_settle_file_under_args(void **state)
{
	struct fixture *f = *state;
	const char *to[] = { "night@example.org" };

	f->a.config = f->conf;
	assert_int_equal(gfsb_ops_check_settle(f->x.ctx, &f->a, &f->cfg),
	    GFSB_OK);
	/* The file's, and no mail unless asked. */
	assert_string_equal(f->cfg.repo_url, "/srv/repo");
	assert_int_equal(f->cfg.read, GFSB_VERIFY_READ_SLICE);
	assert_int_equal(f->cfg.slice, 2);
	assert_null(f->cfg.smtp_url);
	assert_int_equal(f->cfg.nmail_to, 0);
	assert_int_equal(f->cfg.drill, 0);
	gfsb_config_fini(&f->cfg);

	/* The command line wins; mail from the file, to whom it says. */
	f->a.repo_url = "/srv/other";
	f->a.have_read = 1;
	f->a.read = GFSB_VERIFY_READ_ALL;
	f->a.mail = 1;
	f->a.mail_to = to;
	f->a.nmail_to = 1;
	f->a.mail_on = 2;
	f->a.drill = 1 << 20;
	f->a.lock_margin = 3600;
	assert_int_equal(gfsb_ops_check_settle(f->x.ctx, &f->a, &f->cfg),
	    GFSB_OK);
	assert_string_equal(f->cfg.repo_url, "/srv/other");
	assert_string_equal(f->cfg.password_file, f->pass);
	assert_int_equal(f->cfg.read, GFSB_VERIFY_READ_ALL);
	assert_string_equal(f->cfg.smtp_url, "smtp://127.0.0.1");
	assert_string_equal(f->cfg.mail_from, "b@example.org");
	assert_int_equal(f->cfg.nmail_to, 1);
	assert_string_equal(f->cfg.mail_to[0], "night@example.org");
	assert_int_equal(f->cfg.send_failures_only, 1);
	assert_int_equal(f->cfg.drill, 1 << 20);
	assert_int_equal(f->cfg.drill_every, 0);
	assert_int_equal(f->cfg.lock_margin, 3600);
}

static void
test_settle_no_file(void **state)
{
	struct fixture *f = *state;

	f->a.repo_url = "/srv/repo";
	f->a.report_dir = f->reports;
	assert_int_equal(gfsb_ops_check_settle(f->x.ctx, &f->a, &f->cfg),
	    GFSB_OK);
	/* Structure only, and the defaults gfsb_config_load starts from. */
	assert_int_equal(f->cfg.read, GFSB_VERIFY_READ_NONE);
	assert_int_equal(f->cfg.report_keep_days, GFSB_CONFIG_KEEP_DAYS);
	assert_int_equal(f->cfg.lock_margin, GFSB_LOCK_MARGIN_DEFAULT);
	assert_string_equal(f->cfg.report_dir, f->reports);
	assert_null(f->cfg.path);
}

/* Each bad combination: GFSB_EINVAL (a missing file: GFSB_ENOTFOUND),
 * its line, cfg left empty. */
static void
refused(struct fixture *f, const char *what)
{
	gfsb_ctx_clearerr(f->x.ctx);
	assert_int_equal(gfsb_ops_check_settle(f->x.ctx, &f->a, &f->cfg),
	    f->a.policy_file != NULL ? GFSB_ENOTFOUND : GFSB_EINVAL);
	if (strstr(gfsb_ctx_errmsg(f->x.ctx), what) == NULL)
		fail_msg("\"%s\" lacks \"%s\"", gfsb_ctx_errmsg(f->x.ctx),
		    what);
	assert_null(f->cfg.repo_url);
	memset(&f->a, 0, sizeof(f->a));
}

static void
test_settle_refused(void **state)
{
	struct fixture *f = *state;
	char bad[160];

	f->a.smtp_url = "smtp://127.0.0.1";
	refused(f, "mail settings without --mail");
	f->a.mail = 1;
	f->a.smtp_url = "smtp://127.0.0.1";
	refused(f, "--mail needs --smtp-url, --mail-from and --mail-to");
	f->a.mail = 1;
	refused(f, "--mail needs");
	f->a.no_state = 1;
	f->a.state_dir = "/var/lib/x";
	refused(f, "--no-state and --state-dir conflict");
	f->a.as_of = 1;
	f->a.state_dir = "/var/lib/x";
	refused(f, "--as-of keeps no state");
	f->a.drill_scratch = "/tmp";
	refused(f, "--drill-scratch without --drill");
	f->a.drill = 1000;
	f->a.as_of = 1;
	refused(f, "does not go with --as-of");
	f->a.config = f->conf;
	f->a.mail = 1;
	f->a.smtp_user = "u";
	refused(f, "give both --smtp-user and --smtp-password-file");
	f->a.policy_file = "/nonexistent/policy";
	refused(f, "/nonexistent/policy");
	/* A configuration others can read is not one to use. */
	snprintf(bad, sizeof(bad), "%s/open.conf", f->dir);
	write_private(bad, "[repository]\nurl = /r\n");
	assert_int_equal(chmod(bad, 0644), 0);
	f->a.config = bad;
	gfsb_ctx_clearerr(f->x.ctx);
	assert_int_equal(gfsb_ops_check_settle(f->x.ctx, &f->a, &f->cfg),
	    GFSB_EINVAL);
	assert_null(f->cfg.repo_url);
}

/* ---- the check ---- */

static void
on_stage(void *cookie, const struct gfsb_run_stage *st, int dry)
{
	struct fixture *f = cookie;
	size_t n = strlen(f->names);

	(void)dry;
	snprintf(f->names + n, sizeof(f->names) - n, "%s%s:%s", n ? " " : "",
	    st->name, gfsb_report_status_name(st->status));
	/* The verification is there to print when its stage ends. */
	if (strcmp(st->name, "verify") == 0 && st->err == GFSB_OK)
		assert_true(f->res.verify.snapshots == 1);
}

/* Settle a, open the repository anew, check; f->names the stages. */
static void
check(struct fixture *f)
{
	gfsb_ops_check_result_fini(&f->res);
	gfsb_config_fini(&f->cfg);
	gfsb_repo_close(f->fresh);
	f->names[0] = '\0';
	assert_int_equal(gfsb_ops_check_settle(f->x.ctx, &f->a, &f->cfg),
	    GFSB_OK);
	assert_int_equal(gfsb_repo_open(f->x.ctx, f->x.be, PASS, strlen(PASS),
	    &f->fresh), GFSB_OK);
	f->o.run.cfg = &f->cfg;
	f->o.run.ctx = f->x.ctx;
	f->o.run.repo = f->fresh;
	f->o.run.state_base = f->state;
	f->o.run.stage_done = on_stage;
	f->o.run.cookie = f;
	f->o.threads = 1;
	assert_int_equal(gfsb_time_parse_local(f->when != NULL ? f->when :
	    "2026-06-01 06:00:00", &f->o.run.now), GFSB_OK);
	assert_int_equal(gfsb_ops_check(&f->o, &f->res), GFSB_OK);
}

static void
test_check_clean(void **state)
{
	struct fixture *f = *state;

	f->a.have_read = 1;
	f->a.read = GFSB_VERIFY_READ_ALL;
	check(f);
	assert_string_equal(f->names, "verify:OK");
	assert_int_equal(f->res.verify_err, GFSB_OK);
	assert_true(gfsb_ops_verify_clean(&f->res.verify));
	assert_int_equal(gfsb_ops_check_exit(&f->res), GFSB_EXIT_OK);
	assert_int_equal(f->res.verify.packs_read, f->res.verify.packs);
	assert_int_equal(f->res.verify.have_state, 1);
	/* No report asked for: none made. */
	assert_int_equal(f->res.reported, 0);
	assert_true(fx_count(f->state, "", "") > 2);

	/* No state: coverage unknown, nothing written. */
	f->o.no_state = 1;
	check(f);
	f->o.no_state = 0;
	assert_int_equal(f->res.verify.have_state, 0);
}

static void
test_check_damage_reported(void **state)
{
	struct fixture *f = *state;
	const char *to[] = { "ops@example.org" };
	struct gfsb_objlist l;
	char path[sizeof(((struct gfsb_run_result *)0)->report_dir)];

	assert_int_equal(gfsb_backend_list_all(f->x.be, GFSB_OBJ_PACK, &l),
	    GFSB_OK);
	assert_true(l.n > 1);
	assert_int_equal(gfsb_backend_remove(f->x.be, GFSB_OBJ_PACK,
	    l.v[l.n - 1].name), GFSB_OK);
	gfsb_objlist_fini(&l);
	/* Mailed through a port where nothing listens: the mail fails,
	 * the report is kept beside the verification state
	 * (STATE/<repository id>/reports), which is what is left. */
	f->a.config = f->conf;
	f->a.mail = 1;
	f->a.smtp_url = "smtp://127.0.0.1:1";
	f->a.mail_from = "b@example.org";
	f->a.mail_to = to;
	f->a.nmail_to = 1;
	check(f);
	assert_string_equal(f->names, "verify:FAILED");
	assert_false(gfsb_ops_verify_clean(&f->res.verify));
	assert_true(f->res.verify.ndamage >= 1);
	assert_int_equal(gfsb_ops_check_exit(&f->res), GFSB_EXIT_FATAL);
	assert_int_equal(f->res.reported, 1);
	assert_int_not_equal(f->res.run.report_err, GFSB_OK);
	assert_int_equal(f->res.run.rep.status, GFSB_REPORT_FAILED);
	assert_non_null(strstr(f->res.run.report_dir, f->state));
	assert_int_equal(strcmp(f->res.run.report_dir + strlen(
	    f->res.run.report_dir) - 8, "/reports"), 0);
	snprintf(path, sizeof(path), "%s", f->res.run.report_dir);
	assert_int_equal(fx_count(path, "report-", ".txt"), 1);
	assert_int_equal(fx_count(path, "report-", ".html"), 1);
}

static void
test_check_cannot_run(void **state)
{
	struct fixture *f = *state;

	gfsb_backend_mem_fault(f->x.be, GFSB_OBJ_INDEX, NULL, GFSB_ENET);
	f->a.report_dir = f->reports;
	check(f);
	gfsb_backend_mem_fault(f->x.be, GFSB_OBJ_INDEX, NULL, GFSB_OK);
	assert_string_equal(f->names, "verify:FAILED");
	assert_int_equal(f->res.verify_err, GFSB_ENET);
	assert_int_equal(gfsb_ops_check_exit(&f->res), GFSB_EXIT_FATAL);
	assert_non_null(strstr(f->res.run.stages[0].summary, "could not run"));
	/* The report still goes out, saying so. */
	assert_int_equal(f->res.reported, 1);
	assert_int_equal(fx_count(f->reports, "report-", ".txt"), 1);
	assert_true(f->res.run.rep.nerrors >= 1);
	assert_non_null(strstr(f->res.run.rep.errors[0],
	    "verification could not run"));
}

static void
test_check_drill(void **state)
{
	struct fixture *f = *state;
	char scratch[160];

	snprintf(scratch, sizeof(scratch), "%s/scratch", f->dir);
	assert_int_equal(mkdir(scratch, 0700), 0);
	f->a.drill = 200 << 10;
	f->a.drill_scratch = scratch;
	f->a.report_dir = f->reports;
	check(f);
	assert_string_equal(f->names, "verify:OK drill:OK");
	assert_non_null(strstr(f->res.run.stages[1].summary, "intact"));
	assert_int_equal(gfsb_ops_check_exit(&f->res), GFSB_EXIT_OK);
	assert_int_equal(f->res.run.rep.drill.ran, 1);
	/* Asked for, so made again the same day: not on a schedule. */
	check(f);
	assert_string_equal(f->names, "verify:OK drill:OK");
	assert_int_equal(fx_count(scratch, "", ""), 2);	/* . and .. */

	/* From an offsite copy that could not be opened: said, not run. */
	f->a.offsite_url = "s3://nowhere/x";
	f->o.run.offsite_error = "no such host";
	check(f);
	assert_string_equal(f->names, "verify:OK drill:FAILED");
	assert_non_null(strstr(f->res.run.stages[1].summary, "no such host"));
	assert_int_equal(gfsb_ops_check_exit(&f->res), GFSB_EXIT_FATAL);
	assert_int_equal(f->res.run.rep.offsite, GFSB_OFFSITE_UNKNOWN);
}

/* rotate/7: a pack never read is not late until its night has come
 * without a read; then it is overdue, in the result and the report. */
static void
test_check_overdue(void **state)
{
	static const char *const nights[] = { "2026-06-01 06:00:00",
	    "2026-06-03 06:00:00", "2026-06-09 06:00:00" };
	struct fixture *f = *state;
	struct gfsb_objlist l;
	struct gfsb_time t;
	uint32_t slice[3];
	uint64_t expect = 0;
	size_t i;

	for (i = 0; i < 3; i++) {
		assert_int_equal(gfsb_time_parse_local(nights[i], &t),
		    GFSB_OK);
		slice[i] = (uint32_t)(gfsb_ops_verify_day(&t) % 7);
	}
	/* Overdue on the third night: packs in none of the three slices
	 * (seen on the first night, more than 7 nights before). */
	assert_int_equal(gfsb_backend_list_all(f->x.be, GFSB_OBJ_PACK, &l),
	    GFSB_OK);
	for (i = 0; i < l.n; i++) {
		uint8_t id[GFSB_ID_LEN];
		uint32_t k;

		assert_int_equal(gfsb_hex_decode(l.v[i].name, id,
		    GFSB_ID_LEN), 0);
		k = gfsb_ops_verify_slice_of(id, 7);
		expect += k != slice[0] && k != slice[1] && k != slice[2];
	}
	gfsb_objlist_fini(&l);
	f->a.have_read = 1;
	f->a.read = GFSB_VERIFY_READ_ROTATE;
	f->a.slices = 7;
	f->a.report_dir = f->reports;
	for (i = 0; i < 3; i++) {
		f->when = nights[i];
		check(f);
		if (i < 2) {
			assert_int_equal(f->res.verify.overdue, 0);
			assert_true(f->res.verify.days_since_all_read >= 0);
		}
	}
	f->when = NULL;
	assert_int_equal(f->res.verify.overdue, expect);
	assert_int_equal(f->res.run.rep.packs_overdue, expect);
	if (expect > 0) {
		assert_int_equal(f->res.verify.days_since_all_read, -1);
		assert_int_equal(f->res.run.rep.status, GFSB_REPORT_WARNING);
	}
}

/* ---- the verification told ---- */

static void
count_line(void *cookie, enum gfsb_ops_line kind, const char *line)
{
	struct fixture *f = cookie;

	assert_int_equal(kind, GFSB_OPS_LINE_RESULT);
	assert_null(strchr(line, '\n'));
	f->lines++;
	if (strcmp(line, "no damage found") == 0)
		f->no_damage_line = 1;
}

/* The exit status of stages made by hand: the first that is not 0, then
 * a report not delivered. */
static void
test_check_exit(void **state)
{
	struct gfsb_check_result res;

	(void)state;
	memset(&res, 0, sizeof(res));
	assert_int_equal(gfsb_ops_check_exit(&res), GFSB_EXIT_OK);
	res.run.nstages = 2;
	res.run.stages[0].name = "verify";
	res.run.stages[1].name = "drill";
	/* Could not run: its error's status (a wrong passphrase here). */
	res.verify_err = GFSB_EAUTH;
	res.run.stages[0].err = GFSB_EAUTH;
	res.run.stages[1].err = GFSB_ELOCKED;
	assert_int_equal(gfsb_ops_check_exit(&res), GFSB_EXIT_WRONGPASS);
	/* Ran and found nothing: the drill's. */
	res.verify_err = GFSB_OK;
	res.run.stages[0].err = GFSB_OK;
	assert_int_equal(gfsb_ops_check_exit(&res), GFSB_EXIT_LOCKED);
	res.run.stages[1].err = GFSB_ECORRUPT;
	assert_int_equal(gfsb_ops_check_exit(&res), GFSB_EXIT_FATAL);
	res.run.stages[1].err = GFSB_OK;
	assert_int_equal(gfsb_ops_check_exit(&res), GFSB_EXIT_OK);
	/* A report not delivered counts only when one was made. */
	res.run.report_err = GFSB_ENET;
	assert_int_equal(gfsb_ops_check_exit(&res), GFSB_EXIT_OK);
	res.reported = 1;
	assert_int_equal(gfsb_ops_check_exit(&res), GFSB_EXIT_FATAL);
}

/* What gfsb_ops_check_open finds, opens and fills in. */
static void
test_check_open(void **state)
{
	struct fixture *f = *state;
	struct gfsb_backend_opts remote;
	struct gfsb_check_copies cp;
	const char *home = getenv("HOME");
	char *saved = home != NULL ? strdup(home) : NULL;

	memset(&remote, 0, sizeof(remote));
	remote.connections = 6;
	/* No file: the repository is the one opened; no report, no drill:
	 * no offsite copy opened, even when named; the state directory from
	 * the environment. */
	setenv("GFSBACKUP_STATE_DIR", f->state, 1);
	f->a.offsite_url = "ftp://nowhere/x";
	f->a.as_of = 1;
	assert_int_equal(gfsb_ops_check_settle(f->x.ctx, &f->a, &f->cfg),
	    GFSB_OK);
	assert_int_equal(gfsb_ops_check_open(f->x.ctx, &f->a, &f->cfg,
	    f->x.r, "/srv/opened", &remote, &f->o, &cp), GFSB_OK);
	assert_string_equal(f->cfg.repo_url, "/srv/opened");
	assert_string_equal(cp.state_base, f->state);
	assert_null(cp.offsite);
	assert_int_equal(cp.offsite_err, GFSB_OK);
	assert_ptr_equal(f->o.run.cfg, &f->cfg);
	assert_ptr_equal(f->o.run.repo, f->x.r);
	assert_ptr_equal(f->o.run.state_base, cp.state_base);
	assert_int_equal(f->o.run.connections, 6);
	/* A look at the past keeps no state. */
	assert_int_equal(f->o.no_state, 1);
	gfsb_ops_check_close(&cp);
	gfsb_config_fini(&f->cfg);

	/* A report needs the offsite copy: one that cannot be opened is
	 * said in cp, and the check goes on. */
	f->a.as_of = 0;
	f->a.state_dir = f->state;
	f->a.report_dir = f->reports;
	assert_int_equal(gfsb_ops_check_settle(f->x.ctx, &f->a, &f->cfg),
	    GFSB_OK);
	assert_int_equal(gfsb_ops_check_open(f->x.ctx, &f->a, &f->cfg,
	    f->x.r, "/srv/opened", NULL, &f->o, &cp), GFSB_OK);
	assert_int_equal(cp.offsite_err, GFSB_EINVAL);
	assert_null(cp.offsite);
	assert_string_equal(cp.offsite_error, "malformed or unsupported "
	    "repository URL ftp://nowhere/x (use a path or s3://BUCKET/PREFIX)");
	assert_ptr_equal(f->o.run.offsite_error, cp.offsite_error);
	assert_int_equal(f->o.no_state, 0);
	gfsb_ops_check_close(&cp);
	gfsb_config_fini(&f->cfg);
	gfsb_ctx_clearerr(f->x.ctx);

	/* One that can be opened is the check's. */
	f->a.offsite_url = f->dir;
	assert_int_equal(gfsb_ops_check_settle(f->x.ctx, &f->a, &f->cfg),
	    GFSB_OK);
	assert_int_equal(gfsb_ops_check_open(f->x.ctx, &f->a, &f->cfg,
	    f->x.r, "/srv/opened", NULL, &f->o, &cp), GFSB_OK);
	assert_non_null(cp.offsite);
	assert_ptr_equal(f->o.run.offsite, cp.offsite);
	assert_string_equal(cp.offsite_error, "");
	gfsb_ops_check_close(&cp);
	assert_null(cp.offsite);
	gfsb_config_fini(&f->cfg);

	/* State wanted, and nowhere to keep it: nothing opened. */
	f->a.state_dir = NULL;
	f->a.report_dir = NULL;
	unsetenv("GFSBACKUP_STATE_DIR");
	unsetenv("STATE_DIRECTORY");
	unsetenv("XDG_STATE_HOME");
	unsetenv("HOME");
	assert_int_equal(gfsb_ops_check_settle(f->x.ctx, &f->a, &f->cfg),
	    GFSB_OK);
	assert_int_equal(gfsb_ops_check_open(f->x.ctx, &f->a, &f->cfg,
	    f->x.r, "/srv/opened", NULL, &f->o, &cp), GFSB_EINVAL);
	assert_null(cp.offsite);
	if (saved != NULL)
		setenv("HOME", saved, 1);
	free(saved);
}

static void
test_told(void **state)
{
	struct fixture *f = *state;
	json_t *o;
	char *s;

	f->a.have_read = 1;
	f->a.read = GFSB_VERIFY_READ_ALL;
	check(f);
	assert_int_equal(gfsb_ops_verify_lines(&f->res.verify, count_line, f),
	    GFSB_OK);
	assert_int_equal(f->lines, 4);	/* checked, read, coverage, verdict */
	assert_true(f->no_damage_line);
	assert_non_null(s = gfsb_ops_verify_json(&f->res.verify,
	    &f->o.run.now));
	assert_non_null(o = json_loads(s, 0, NULL));
	assert_string_equal(json_string_value(json_object_get(o, "status")),
	    "ok");
	assert_int_equal(json_integer_value(json_object_get(json_object_get(o,
	    "counts"), "snapshots")), 1);
	assert_int_equal(json_array_size(json_object_get(o, "packs_read")),
	    f->res.verify.packs);
	assert_non_null(json_object_get(o, "coverage"));
	json_decref(o);
	free(s);
}

/* --read-data-subset: N/T, rotate/T, P%; anything else refused. */
static void
test_subset(void **state)
{
	static const char *bad[] = { "", "0/5", "6/5", "1/0", "1/100001",
	    "rotate/0", "rotate/", "0%", "101%", "5", "1/5x", "-1/5",
	    "rotate/7/", "%" };
	enum gfsb_verify_read read;
	uint32_t slice, slices;
	double pc;
	size_t i;

	(void)state;
	assert_int_equal(gfsb_ops_verify_parse_subset("2/5", &read, &slice,
	    &slices, &pc), GFSB_OK);
	assert_int_equal(read, GFSB_VERIFY_READ_SLICE);
	assert_int_equal(slice, 2);
	assert_int_equal(slices, 5);
	assert_int_equal(gfsb_ops_verify_parse_subset("rotate/7", &read,
	    &slice, &slices, &pc), GFSB_OK);
	assert_int_equal(read, GFSB_VERIFY_READ_ROTATE);
	assert_int_equal(slices, 7);
	assert_int_equal(gfsb_ops_verify_parse_subset("12.5%", &read, &slice,
	    &slices, &pc), GFSB_OK);
	assert_int_equal(read, GFSB_VERIFY_READ_PERCENT);
	assert_true(pc > 12.4 && pc < 12.6);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (gfsb_ops_verify_parse_subset(bad[i], &read, &slice,
		    &slices, &pc) != GFSB_EINVAL)
			fail_msg("\"%s\" accepted", bad[i]);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_settle_file_under_args,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_settle_no_file, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_settle_refused, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_check_clean, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_check_damage_reported,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_check_cannot_run, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_check_drill, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_check_overdue, setup,
		    teardown),
		cmocka_unit_test(test_check_exit),
		cmocka_unit_test_setup_teardown(test_check_open, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_told, setup, teardown),
		cmocka_unit_test(test_subset),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
