/*
 * gfsbackup run --config FILE: the daily job (gfsb_ops_run, which decides
 * the stages, their order and their outcomes, and opens the repository
 * and the offsite copy; gfsb_ops_run_settle, which loads the
 * configuration, takes the run lock and lays the configuration over the
 * global options).  Here: the options, one line per stage on stderr
 * (the journal under systemd), the report's line, --json, and the exit
 * status: the first failed stage's.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <gfsbackup/ops.h>
#include <gfsbackup/pass.h>
#include <gfsbackup/report.h>

#include "cli.h"

struct run_cli {
	struct cli *c;
	struct gfsb_run_settings s;	/* s.run: the job's options */
	struct gfsb_run_result res;
	int dry_run;
	struct gfsb_time now;
	int has_time;
	int json;
};

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

/* The report's and the monitor's lines, as "gfsbackup: run: ...". */
static void
put_line(void *cookie, enum gfsb_ops_line kind, const char *line)
{
	struct cli *c = cookie;

	(void)kind;
	cli_msg(c, "%s: run: %s", c->prog, line);
}

/* Where the report went, and the job's JSON; the exit status. */
static int
outcome(struct run_cli *rc)
{
	struct cli *c = rc->c;
	char *json;

	if (!rc->dry_run && rc->res.report_err != GFSB_OK) {
		cli_fail(c, rc->res.report_err);
		gfsb_ctx_clearerr(c->ctx);
	}
	if (gfsb_ops_run_report_lines(&rc->s.cfg, &rc->res, rc->dry_run,
	    put_line, c) != GFSB_OK)
		return cli_fail(c, GFSB_ENOMEM);
	if (rc->json) {
		if ((json = gfsb_ops_run_json(&rc->res, &rc->s.run.now,
		    rc->dry_run)) == NULL)
			return cli_fail(c, GFSB_ENOMEM);
		printf("%s\n", json);
		free(json);
	}
	return gfsb_ops_run_exit(&rc->res);
}

static int
parse(struct run_cli *rc, int argc, char **argv, const char **config)
{
	const char *time_given = NULL;
	const struct gfsb_opt opts[] = {
		GFSB_OPT_STRING("config", 0, config),
		GFSB_OPT_FLAG("dry-run", 'n', &rc->dry_run),
		{ GFSB_OPT_(TIME, "time", 0, &rc->now),
		  .hint = ": give 'YYYY-MM-DD HH:MM:SS'",
		  .given = &time_given },
		GFSB_OPT_FLAG("json", 0, &rc->json),
		GFSB_OPT_END
	};
	int r;

	if ((r = cli_parse(rc->c, argc, argv, opts, 0)) != EXIT_OK)
		return r;
	rc->has_time = time_given != NULL;
	return EXIT_OK;
}

/* The settings (gfsb_ops_run_settle), what is wrong with them said. */
static int
settle(struct run_cli *rc, const char *config)
{
	struct cli *c = rc->c;
	struct gfsb_pass_source src;
	struct gfsb_open_opts g;
	gfsb_err e;

	src = cli_pass_source(c, 0, "repository passphrase: ");
	cli_open_opts(c, &src, &g);
	if ((e = gfsb_ops_run_settle(c->ctx, config, &g, &rc->s)) == GFSB_OK)
		return EXIT_OK;
	if (rc->s.usage)
		return cli_usage_error(c, "%s", gfsb_ctx_errmsg(c->ctx));
	cli_fail(c, e);
	return rc->s.exit;
}

int
cmd_run(struct cli *c, int argc, char **argv)
{
	struct run_cli rc;
	const char *config = NULL;
	int r;
	gfsb_err e;

	memset(&rc, 0, sizeof(rc));
	rc.c = c;
	if ((r = parse(&rc, argc, argv, &config)) != EXIT_OK)
		return r;
	if ((r = settle(&rc, config)) != EXIT_OK)
		goto out;
	rc.s.run.dry_run = rc.dry_run;
	rc.s.run.now = rc.now;
	rc.s.run.has_time = rc.has_time;
	if (!rc.has_time)
		gfsb_time_now(&rc.s.run.now);
	rc.s.run.stage_done = on_stage;
	if (cli_tty(c))
		rc.s.run.drill_progress = on_drill_progress;
	rc.s.run.cookie = &rc;
	e = gfsb_ops_run(&rc.s.run, &rc.res);
	cli_progress(c, NULL);
	r = e != GFSB_OK ? cli_fail(c, e) : outcome(&rc);
	gfsb_ops_run_result_fini(&rc.res);
out:
	gfsb_ops_run_settings_fini(&rc.s);
	return r;
}
