/*
 * gfsbackup restore: a snapshot (or a path in it) to a directory or a pax
 * archive.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <gfsbackup/ops.h>
#include <gfsbackup/repo.h>

#include "cli.h"

static void
progress(void *cookie, const struct gfsb_restore_progress *p)
{
	char line[256];

	gfsb_ops_restore_progress_line(p, line, sizeof(line));
	cli_progress(cookie, line);
}

static void
summary(struct cli *c, const struct gfsb_restore_result *res, FILE *out)
{
	char line[256];

	gfsb_ops_restore_summary(res, line, sizeof(line));
	fprintf(out, "%s\n", line);
	if (c->verbose) {
		gfsb_ops_restore_io_line(res, line, sizeof(line));
		fprintf(out, "%s\n", line);
	}
}

static const struct gfsb_opt_enum overwrite[] = {
	{ "always", GFSB_OVERWRITE_ALWAYS },
	{ "if-changed", GFSB_OVERWRITE_IF_CHANGED },
	{ "if-newer", GFSB_OVERWRITE_IF_NEWER },
	{ "never", GFSB_OVERWRITE_NEVER },
	{ NULL, 0 }
};

int
cmd_restore(struct cli *c, int argc, char **argv)
{
	struct gfsb_restore_opts ro = { 0 };
	struct gfsb_restore_result res;
	struct gfsb_opt_list incl = { 0 }, excl = { 0 };
	char *spec = NULL;
	gfsb_err e;
	int rc, ow = GFSB_OVERWRITE_REFUSE;
	const struct gfsb_opt opts[] = {
		GFSB_OPT_STRING("target", 't', &ro.target),
		GFSB_OPT_STRING("to-tar", 0, &ro.tar),
		GFSB_OPT_LIST("include", 'i', &incl),
		GFSB_OPT_LIST("exclude", 'e', &excl),
		GFSB_OPT_STRING("host", 0, &ro.host),
		GFSB_OPT_NUMBER("threads", 0, &ro.threads, 1, GFSB_THREADS_MAX,
		    NULL),
		GFSB_OPT_ENUM("overwrite", 0, &ow, overwrite),
		GFSB_OPT_FLAG("delete", 0, &ro.delete_extra),
		GFSB_OPT_FLAG("force", 0, &ro.tar_replace),
		GFSB_OPT_END
	};

	if ((rc = cli_parse(c, argc, argv, opts, 1)) != EXIT_OK)
		goto done;
	if (optind == argc) {
		rc = cli_usage_error(c, "which snapshot? give an id or "
		    "\"latest\"");
		goto done;
	}
	ro.overwrite = (enum gfsb_restore_overwrite)ow;
	if ((spec = strdup(argv[optind])) == NULL) {
		rc = cli_fail(c, GFSB_ENOMEM);
		goto done;
	}
	ro.subpath = gfsb_ops_spec_split(spec);
	ro.snapshot = spec;
	ro.tar_fd = STDOUT_FILENO;
	if (gfsb_ops_restore_check(c->ctx, &ro) != GFSB_OK) {
		rc = cli_usage_error(c, "%s", gfsb_ctx_errmsg(c->ctx));
		goto done;
	}
	ro.includes = incl.v;
	ro.nincludes = incl.n;
	ro.excludes = excl.v;
	ro.nexcludes = excl.n;
	if ((rc = cli_open_repo(c)) != EXIT_OK)
		goto done;
	/* A pax archive on standard output leaves the terminal to us. */
	if (cli_tty(c)) {
		ro.progress = progress;
		ro.progress_cookie = c;
	}
	e = gfsb_ops_restore(c->r, &ro, &res);
	cli_progress(c, NULL);
	/* With the archive on standard output, talk on standard error. */
	if (!c->quiet && gfsb_ops_restore_told(e, &res))
		summary(c, &res, ro.tar != NULL && strcmp(ro.tar, "-") == 0 ?
		    stderr : stdout);
	if (e != GFSB_OK)
		rc = cli_fail(c, e);
	else if (res.warnings > 0 && !c->quiet)
		cli_msg(c, "%s: restore: %llu warning(s) about metadata (see "
		    "above)", c->prog, (unsigned long long)res.warnings);
done:
	free(spec);
	free(incl.v);
	free(excl.v);
	return rc;
}
