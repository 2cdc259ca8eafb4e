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

gfsb_err
cli_opt_tag(struct gfsb_ctx *ctx, const struct gfsb_opt *o, const char *arg,
    void *cookie)
{
	(void)cookie;
	if (*arg == '\0' || strchr(arg, ',') != NULL)
		return gfsb_ctx_seterr(ctx, GFSB_EINVAL, "invalid tag \"%s\"",
		    arg);
	return gfsb_opt_list_add(o->value, arg);
}

gfsb_err
cli_opt_lock_mode(struct gfsb_ctx *ctx, const struct gfsb_opt *o,
    const char *arg, void *cookie)
{
	enum gfsb_lock_mode *m = o->value;

	(void)cookie;
	if (gfsb_lock_mode_parse(arg, m) != GFSB_OK || *m == GFSB_LOCK_NONE)
		return gfsb_ctx_seterr(ctx, GFSB_EINVAL, "invalid "
		    "--object-lock %s: give compliance or governance", arg);
	return GFSB_OK;
}

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

/* --as-of: a moment of the past, in local time like every --time. */
static gfsb_err
opt_as_of(struct gfsb_ctx *ctx, const struct gfsb_opt *o, const char *arg,
    void *cookie)
{
	struct gfsb_time t, now;

	(void)cookie;
	if (gfsb_time_parse_local(arg, &t) != GFSB_OK)
		return gfsb_ctx_seterr(ctx, GFSB_EINVAL, "invalid --as-of %s: "
		    "give 'YYYY-MM-DD HH:MM:SS'", arg);
	gfsb_time_now(&now);
	if (t.sec > now.sec)
		return gfsb_ctx_seterr(ctx, GFSB_EINVAL, "--as-of %s is in the "
		    "future: give a moment of the past", arg);
	if (t.sec <= 0)
		return gfsb_ctx_seterr(ctx, GFSB_EINVAL, "--as-of %s is before "
		    "1970", arg);
	*(int64_t *)o->value = t.sec;
	return GFSB_OK;
}

/* --limit-upload KIB: KiB/s, kept in bytes/s. */
static gfsb_err
opt_limit_upload(struct gfsb_ctx *ctx, const struct gfsb_opt *o,
    const char *arg, void *cookie)
{
	char *end;
	long v = 0;

	(void)cookie;
	v = strtol(arg, &end, 10);
	if (*arg == '\0' || *end != '\0' || v < 1)
		return gfsb_ctx_seterr(ctx, GFSB_EINVAL, "invalid "
		    "--limit-upload %s (KiB/s)", arg);
	*(uint64_t *)o->value = (uint64_t)v * 1024;
	return GFSB_OK;
}

/* --cache-dir: absolute, as the cache outlives the working directory. */
static gfsb_err
opt_cache_dir(struct gfsb_ctx *ctx, const struct gfsb_opt *o,
    const char *arg, void *cookie)
{
	(void)cookie;
	if (*arg != '/')
		return gfsb_ctx_seterr(ctx, GFSB_EINVAL, "--cache-dir %s: give "
		    "an absolute path", arg);
	*(const char **)o->value = arg;
	return GFSB_OK;
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
		GFSB_OPT_CALLBACK("limit-upload", 0, &c->remote.limit_upload,
		    opt_limit_upload),
		GFSB_OPT_CALLBACK("cache-dir", 0, &c->cache_dir, opt_cache_dir),
		GFSB_OPT_FLAG("no-cache", 0, &c->no_cache),
		GFSB_OPT_CALLBACK("as-of", 0, &c->as_of, opt_as_of),
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
