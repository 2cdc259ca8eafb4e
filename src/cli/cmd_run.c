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

	if (!rc->o.dry_run && rc->res.report_err != GFSB_OK) {
		cli_fail(c, rc->res.report_err);
		gfsb_ctx_clearerr(c->ctx);
	}
	if (gfsb_ops_run_report_lines(&rc->cfg, &rc->res, rc->o.dry_run,
	    put_line, c) != GFSB_OK)
		return cli_fail(c, GFSB_ENOMEM);
	if (rc->json) {
		if ((json = gfsb_ops_run_json(&rc->res, &rc->o.now,
		    rc->o.dry_run)) == NULL)
			return cli_fail(c, GFSB_ENOMEM);
		printf("%s\n", json);
		free(json);
	}
	return gfsb_ops_run_exit(&rc->res);
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
	r = e != GFSB_OK ? cli_fail(c, e) : outcome(&rc);
	gfsb_ops_run_result_fini(&rc.res);
out:
	c->password_file = NULL;
	c->cache_dir = NULL;
	gfsb_config_fini(&rc.cfg);
	if (lockfd >= 0)
		close(lockfd);
	return r;
}
