/*
 * gfsbackup run's settings: the configuration named and loaded, its
 * state directory and run lock taken, and the configuration laid over
 * the global options, once, here where a test sees each case (ops_run.c
 * is the job).  Every failure is one line in the context and an exit
 * status, so that the command only says it.
 */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <gfsbackup/ops.h>
#include <gfsbackup/pass.h>

/* A usage error: the line is this one alone. */
static gfsb_err
usage(struct gfsb_ctx *ctx, struct gfsb_run_settings *s, const char *what,
    const char *detail)
{
	char line[1100];

	/* detail may be the context's own line: copy it first. */
	snprintf(line, sizeof(line), "%s%s", what, detail);
	s->exit = GFSB_EXIT_USAGE;
	s->usage = 1;
	gfsb_ctx_clearerr(ctx);
	return gfsb_ctx_seterr(ctx, GFSB_EINVAL, "%s", line);
}

/* The configuration: named, not beside -r, and loaded. */
static gfsb_err
load(struct gfsb_ctx *ctx, const char *config,
    const struct gfsb_open_opts *g, struct gfsb_run_settings *s)
{
	gfsb_err e;

	if (config == NULL)
		return usage(ctx, s, "no configuration: give --config FILE",
		    "");
	if (g->url != NULL)
		return usage(ctx, s, "-r conflicts with --config: the "
		    "repository is the configuration's", "");
	if (config[0] == '\0')
		return usage(ctx, s, "--config: no file given", "");
	if ((e = gfsb_config_load(ctx, config, &s->cfg)) == GFSB_OK)
		return GFSB_OK;
	/* A file that cannot be used: nothing was done. */
	s->exit = e == GFSB_EIO ? gfsb_ops_exit_status(e) :
	    gfsb_ops_config_exit(e);
	return e;
}

/* The configuration over the command line's global options. */
static void
lay_over(const struct gfsb_open_opts *g, struct gfsb_run_settings *s,
    struct gfsb_ctx *ctx)
{
	const struct gfsb_config *cfg = &s->cfg;

	if (g->pass != NULL)
		s->pass = *g->pass;
	s->pass.file = cfg->password_file;
	s->open = *g;
	s->open.pass = &s->pass;
	if (cfg->cache_dir != NULL)
		s->open.cache_dir = cfg->cache_dir;
	if (s->open.retry_lock == 0)
		s->open.retry_lock = cfg->retry_lock;
	s->run.cfg = cfg;
	s->run.ctx = ctx;
	s->run.state_base = s->state_base;
	s->run.open = &s->open;
	s->run.cache_dir = s->open.cache_dir;
	s->run.no_cache = s->open.no_cache;
	if (g->remote != NULL && g->remote->connections > 0)
		s->run.connections = (unsigned)g->remote->connections;
}

gfsb_err
gfsb_ops_run_settle(struct gfsb_ctx *ctx, const char *config,
    const struct gfsb_open_opts *g, struct gfsb_run_settings *s)
{
	gfsb_err e;

	memset(s, 0, sizeof(*s));
	s->lockfd = -1;
	if ((e = load(ctx, config, g, s)) != GFSB_OK)
		return e;
	if (gfsb_ops_state_base(ctx, s->cfg.state_dir, s->state_base,
	    sizeof(s->state_base)) != GFSB_OK)
		return usage(ctx, s, gfsb_ctx_errmsg(ctx), " (--state-dir)");
	if ((e = gfsb_ops_run_lock(ctx, &s->cfg, s->state_base,
	    &s->lockfd)) != GFSB_OK) {
		s->exit = gfsb_ops_exit_status(e);
		return e;
	}
	lay_over(g, s, ctx);
	return GFSB_OK;
}

void
gfsb_ops_run_settings_fini(struct gfsb_run_settings *s)
{
	gfsb_config_fini(&s->cfg);
	if (s->lockfd >= 0)
		close(s->lockfd);
	s->lockfd = -1;
}
