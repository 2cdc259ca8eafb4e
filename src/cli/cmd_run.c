/*
 * gfsbackup run --config FILE: the daily job (gfsb_ops_run, which decides
 * the stages, their order and their outcomes, and opens the repository
 * and the offsite copy).  Here: the options, the configuration, the run
 * lock, one line per stage on stderr (the journal under systemd), the
 * report's line, --json, and the exit status: the first failed stage's.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include <gfsbackup/ops.h>
#include <gfsbackup/pass.h>
#include <gfsbackup/report.h>

#include "cli.h"
#include "cli_state.h"

struct run_cli {
	struct cli *c;
	struct gfsb_config cfg;
	struct gfsb_run_opts o;
	struct gfsb_run_result res;
	char state_base[4096];
	int json;
};

/* A stage's exit status: its failure's, else 3 for a partial backup. */
static int
stage_rc(const struct gfsb_run_stage *st)
{
	if (st->err != GFSB_OK)
		return cli_exit_status(st->err);
	return st->partial ? EXIT_PARTIAL : EXIT_OK;
}

/* The job's: the first failure, else a report not delivered, else 3 for
 * a partial backup. */
static int
run_rc(const struct gfsb_run_result *res)
{
	if (res->failed != NULL)
		return stage_rc(res->failed);
	if (res->report_err != GFSB_OK)
		return EXIT_FATAL;
	return res->partial ? EXIT_PARTIAL : EXIT_OK;
}

static void
on_stage(void *cookie, const struct gfsb_run_stage *st, int dry)
{
	struct run_cli *rc = cookie;

	cli_msg(rc->c, "%s: run: %s: %s: %s (%.1f s)", rc->c->prog, st->name,
	    dry ? "DRY RUN" : gfsb_report_status_name(st->status), st->summary,
	    st->seconds);
}

static void
on_drill_progress(void *cookie, const struct gfsb_restore_progress *p)
{
	struct run_cli *rc = cookie;
	char line[256];

	gfsb_ops_restore_progress_line(p, line, sizeof(line));
	cli_progress(rc->c, line);
}

/* The report's line: saved (and mailed), or not delivered. */
static void
report_line(struct run_cli *rc, double seconds)
{
	const struct gfsb_config *cfg = &rc->cfg;
	const struct gfsb_run_result *res = &rc->res;
	struct cli *c = rc->c;

	if (rc->o.dry_run) {
		cli_msg(c, "%s: run: report: DRY RUN: would be %s, saved in "
		    "%s%s%s", c->prog, gfsb_report_status_name(res->rep.status),
		    res->report_dir, cfg->smtp_url == NULL ? "" :
		    cfg->send_failures_only ? "; mailed if not OK to " :
		    "; mailed to ", cfg->smtp_url == NULL ? "" :
		    cfg->mail_to[0]);
		return;
	}
	if (res->report_err != GFSB_OK) {
		cli_fail(c, res->report_err);
		gfsb_ctx_clearerr(c->ctx);
	}
	cli_msg(c, "%s: run: report: %s: %s%s (%.1f s)", c->prog,
	    gfsb_report_status_name(res->rep.status), res->report_err ==
	    GFSB_OK ? "saved in " : "NOT DELIVERED, see above; saved in ",
	    res->report_dir, seconds);
	/* Monitoring that failed is said; the job's outcome stands. */
	if (res->metrics_err != GFSB_OK)
		cli_msg(c, "%s: run: monitor: %s", c->prog,
		    res->metrics_error);
	if (res->ping_err != GFSB_OK)
		cli_msg(c, "%s: run: monitor: %s", c->prog, res->ping_error);
}

static void
print_json(struct run_cli *rc)
{
	const struct gfsb_run_result *res = &rc->res;
	json_t *o, *a;
	char when[40], *s;
	size_t i;

	gfsb_time_format_rfc3339(&rc->o.now, when, sizeof(when));
	o = json_pack("{s:s, s:i, s:s, s:b, s:s}", "status",
	    gfsb_report_status_name(res->rep.status), "exit", run_rc(res),
	    "time", when, "dry_run", rc->o.dry_run, "snapshot", res->snapshot);
	a = json_array();
	if (o == NULL || a == NULL || json_object_set_new(o, "stages", a)) {
		json_decref(o);
		json_decref(a);
		return;
	}
	for (i = 0; i < res->nstages; i++)
		json_array_append_new(a, json_pack("{s:s, s:s, s:i, s:s, s:f}",
		    "name", res->stages[i].name, "status",
		    gfsb_report_status_name(res->stages[i].status), "exit",
		    stage_rc(&res->stages[i]), "summary",
		    res->stages[i].summary, "seconds", res->stages[i].seconds));
	if ((s = json_dumps(o, JSON_INDENT(2))) != NULL) {
		printf("%s\n", s);
		free(s);
	}
	json_decref(o);
}

static int
parse(struct run_cli *rc, int argc, char **argv, const char **config)
{
	struct cli *c = rc->c;
	const char *time_given = NULL;
	const struct gfsb_opt opts[] = {
		GFSB_OPT_STRING("config", 0, config),
		GFSB_OPT_FLAG("dry-run", 'n', &rc->o.dry_run),
		{ GFSB_OPT_(TIME, "time", 0, &rc->o.now),
		  .hint = ": give 'YYYY-MM-DD HH:MM:SS'",
		  .given = &time_given },
		GFSB_OPT_FLAG("json", 0, &rc->json),
		GFSB_OPT_END
	};
	int r;

	if ((r = cli_parse(c, argc, argv, opts, 0)) != EXIT_OK)
		return r;
	rc->o.has_time = time_given != NULL;
	if (*config == NULL)
		return cli_usage_error(c, "no configuration: give --config "
		    "FILE");
	if (c->repo != NULL)
		return cli_usage_error(c, "-r conflicts with --config: the "
		    "repository is the configuration's");
	return EXIT_OK;
}

int
cmd_run(struct cli *c, int argc, char **argv)
{
	struct gfsb_pass_source src;
	struct gfsb_open_opts oo;
	struct run_cli rc;
	const char *config = NULL;
	int r, lockfd = -1;
	gfsb_err e;

	memset(&rc, 0, sizeof(rc));
	rc.c = c;
	if ((r = parse(&rc, argc, argv, &config)) != EXIT_OK)
		return r;
	if ((r = cli_config_load(c, config, &rc.cfg)) != EXIT_OK)
		return r;
	if (!rc.o.has_time)
		gfsb_time_now(&rc.o.now);
	if ((r = cli_state_base(c, rc.cfg.state_dir, rc.state_base,
	    sizeof(rc.state_base))) != EXIT_OK)
		goto out;
	if ((e = gfsb_ops_run_lock(c->ctx, &rc.cfg, rc.state_base, &lockfd)) !=
	    GFSB_OK) {
		r = cli_fail(c, e);
		goto out;
	}
	rc.o.cfg = &rc.cfg;
	rc.o.ctx = c->ctx;
	rc.o.state_base = rc.state_base;
	/* The configuration's repository, passphrase file and cache. */
	c->password_file = rc.cfg.password_file;
	if (rc.cfg.cache_dir != NULL)
		c->cache_dir = rc.cfg.cache_dir;
	if (c->retry_lock == 0)
		c->retry_lock = rc.cfg.retry_lock;
	src = cli_pass_source(c, 0, "repository passphrase: ");
	cli_open_opts(c, &src, &oo);
	rc.o.open = &oo;
	rc.o.cache_dir = c->cache_dir;
	rc.o.no_cache = c->no_cache;
	rc.o.connections = c->remote.connections > 0 ?
	    (unsigned)c->remote.connections : 0;
	rc.o.stage_done = on_stage;
	if (cli_tty(c))
		rc.o.drill_progress = on_drill_progress;
	rc.o.cookie = &rc;
	e = gfsb_ops_run(&rc.o, &rc.res);
	cli_progress(c, NULL);
	report_line(&rc, rc.res.report_seconds);
	if (rc.json)
		print_json(&rc);
	r = e != GFSB_OK ? cli_fail(c, e) : run_rc(&rc.res);
	gfsb_ops_run_result_fini(&rc.res);
out:
	c->password_file = NULL;
	c->cache_dir = NULL;
	gfsb_config_fini(&rc.cfg);
	if (lockfd >= 0)
		close(lockfd);
	return r;
}
