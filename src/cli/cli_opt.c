/*
 * The global options, and cli_parse: a command's own table of options
 * (struct gfsb_opt, see gfsbackup/opt.h) parsed together with the global
 * ones by the library's gfsb_opt_parse, and what it finds wrong said as
 * a usage error (exit 2, before anything is opened); only running out of
 * memory is fatal.  --help prints and exits at once.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <gfsbackup/backend.h>
#include <gfsbackup/opt.h>
#include <gfsbackup/util.h>

#include "cli.h"

/* Room for the global options (GFSB_OPT_END included). */
#define GLOBAL_MAX 20

/* -h: the command's help, then the global options'. */
static gfsb_err
opt_help(struct gfsb_ctx *ctx, const struct gfsb_opt *o, const char *arg,
    void *cookie)
{
	struct cli *c = cookie;

	(void)ctx;
	(void)o;
	(void)arg;
	fputs(cli_help(c->cmd), stdout);
	fputs(cli_help("global"), stdout);
	exit(EXIT_OK);
}

/* The global options, for c, into out (in --help's order). */
static void
global_opts(struct cli *c, struct gfsb_opt *out)
{
	const struct gfsb_opt g[] = {
		GFSB_OPT_STRING("repo", 'r', &c->repo),
		GFSB_OPT_STRING("password-file", 0, &c->password_file),
		GFSB_OPT_STRING("password-command", 0, &c->password_command),
		GFSB_OPT_FLAG("quiet", 'q', &c->quiet),
		GFSB_OPT_COUNT("verbose", 'v', &c->verbose),
		GFSB_OPT_ACTION("help", 'h', NULL, opt_help),
		GFSB_OPT_STRING("s3-endpoint", 0, &c->remote.s3_endpoint),
		GFSB_OPT_STRING("s3-region", 0, &c->remote.s3_region),
		GFSB_OPT_STRING("s3-credentials-file", 0,
		    &c->remote.s3_credentials_file),
		GFSB_OPT_FLAG("s3-virtual-host", 0, &c->remote.s3_virtual_host),
		GFSB_OPT_STRING("cacert", 0, &c->remote.cacert),
		GFSB_OPT_NUMBER("connections", 0, &c->remote.connections, 1,
		    GFSB_CONNECTIONS_MAX, NULL),
		/* KiB/s, kept in bytes/s. */
		GFSB_OPT_KIB("limit-upload", 0, &c->remote.limit_upload,
		    " (KiB/s)"),
		/* Absolute, as the cache outlives the working directory. */
		GFSB_OPT_ABSPATH("cache-dir", 0, &c->cache_dir),
		GFSB_OPT_FLAG("no-cache", 0, &c->no_cache),
		/* A moment of the past, in local time like every --time. */
		GFSB_OPT_PAST("as-of", 0, &c->as_of),
		GFSB_OPT_DURATION("retry-lock", 0, &c->retry_lock, 1,
		    ": give a duration like 30s, 10m or 2h"),
		GFSB_OPT_END
	};

	_Static_assert(sizeof(g) <= GLOBAL_MAX * sizeof(g[0]), "GLOBAL_MAX");
	memcpy(out, g, sizeof(g));
}

/* At the end of the options: a past state cannot be written to, so say
 * so before anything is opened. */
static int
check_as_of(struct cli *c)
{
	if (c->as_of != 0 && !c->as_of_ok)
		return cli_usage_error(c, "--as-of reads a past state: it "
		    "cannot be used with %s", c->cmd);
	return EXIT_OK;
}

int
cli_parse(struct cli *c, int argc, char **argv, const struct gfsb_opt *opts,
    int max_args)
{
	struct gfsb_opt global[GLOBAL_MAX];
	const char *why;
	gfsb_err e;

	global_opts(c, global);
	gfsb_ctx_clearerr(c->ctx);
	if ((e = gfsb_opt_parse(c->ctx, argc, argv, global, opts, max_args,
	    c)) == GFSB_OK)
		return check_as_of(c);
	if (e == GFSB_ENOMEM)
		return cli_fail(c, e);
	why = gfsb_ctx_errmsg(c->ctx);
	return cli_usage_error(c, "%s", *why ? why : gfsb_strerror(e));
}
