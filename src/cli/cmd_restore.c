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

static const char usage[] =
"usage: gfsbackup restore -r REPO SNAPSHOT[:PATH] --target DIR\n"
"       gfsbackup restore -r REPO SNAPSHOT[:PATH] --to-tar FILE|-\n"
"\n"
"Restore a snapshot (an id prefix or \"latest\") into DIR, which must be\n"
"new or empty: each saved path comes back at its full path under DIR\n"
"(/srv/www as DIR/srv/www).  With :PATH only that path is restored, its\n"
"contents directly into DIR.  --to-tar writes a pax archive instead (\"-\"\n"
"for standard output).\n"
"\n"
"  -t, --target DIR       directory to restore into\n"
"      --to-tar FILE|-    write a pax archive\n"
"  -i, --include PATTERN  restore only matching paths (repeatable)\n"
"  -e, --exclude PATTERN  leave out matching paths (repeatable)\n"
"      --host HOST        with \"latest\": the latest of this host\n"
"      --threads N        download threads (default: one per CPU)\n"
"\n"
"Every blob is checked before it is written.  A damaged blob fails only\n"
"the files that use it: they are named, the rest is restored, exit 1.\n";

enum { O_TAR = OPT_CMD_BASE, O_HOST, O_THREADS };

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

static const struct option opts[] = {
	CLI_GLOBAL_OPTIONS,
	{ "target", required_argument, NULL, 't' },
	{ "to-tar", required_argument, NULL, O_TAR },
	{ "include", required_argument, NULL, 'i' },
	{ "exclude", required_argument, NULL, 'e' },
	{ "host", required_argument, NULL, O_HOST },
	{ "threads", required_argument, NULL, O_THREADS },
	{ NULL, 0, NULL, 0 }
};

int
cmd_restore(struct cli *c, int argc, char **argv)
{
	struct gfsb_restore_opts ro;
	struct gfsb_restore_result res;
	const char **incl = NULL, **excl = NULL;
	size_t nincl = 0, nexcl = 0;
	char *spec = NULL, *colon;
	long threads = 0;
	gfsb_err e;
	int o, rc = EXIT_OK;

	c->usage = usage;
	memset(&ro, 0, sizeof(ro));
	while ((o = cli_getopt(c, argc, argv, CLI_GLOBAL_SHORT "t:i:e:",
	    opts)) != -1) {
		switch (o) {
		case 't':
			ro.target = optarg;
			break;
		case O_TAR:
			ro.tar = optarg;
			break;
		case 'i':
			if (cli_strv_add(&incl, &nincl, optarg) != 0)
				goto nomem;
			break;
		case 'e':
			if (cli_strv_add(&excl, &nexcl, optarg) != 0)
				goto nomem;
			break;
		case O_HOST:
			ro.host = optarg;
			break;
		case O_THREADS:
			if ((rc = cli_number(c, "--threads", optarg, 1,
			    GFSB_THREADS_MAX, &threads)) != 0)
				goto done;
			break;
		default:
			rc = EXIT_USAGE;
			goto done;
		}
	}
	if (optind == argc) {
		rc = cli_usage_error(c, "which snapshot? give an id or "
		    "\"latest\"");
		goto done;
	}
	if (argc - optind > 1) {
		rc = cli_usage_error(c, "unexpected argument %s",
		    argv[optind + 1]);
		goto done;
	}
	if ((ro.target == NULL) == (ro.tar == NULL)) {
		rc = cli_usage_error(c, "give either --target DIR or "
		    "--to-tar FILE");
		goto done;
	}
	if (ro.target != NULL && *ro.target == '\0') {
		rc = cli_usage_error(c, "empty target");
		goto done;
	}
	if (ro.tar != NULL && strcmp(ro.tar, "-") == 0 &&
	    isatty(STDOUT_FILENO)) {
		rc = cli_usage_error(c, "refusing to write an archive to a "
		    "terminal");
		goto done;
	}
	if ((spec = strdup(argv[optind])) == NULL)
		goto nomem;
	if ((colon = strchr(spec, ':')) != NULL) {
		*colon = '\0';
		ro.subpath = colon + 1;
		if (*ro.subpath == '\0') {
			rc = cli_usage_error(c, "empty path after ':'");
			goto done;
		}
	}
	ro.snapshot = spec;
	ro.tar_fd = STDOUT_FILENO;
	ro.includes = incl;
	ro.nincludes = nincl;
	ro.excludes = excl;
	ro.nexcludes = nexcl;
	ro.threads = (unsigned)threads;
	if ((rc = cli_open_repo(c)) != EXIT_OK)
		goto done;
	/* A pax archive on standard output leaves the terminal to us. */
	if (cli_tty(c)) {
		ro.progress = progress;
		ro.progress_cookie = c;
	}
	e = gfsb_ops_restore(c->r, &ro, &res);
	cli_progress(c, NULL);
	/* With the archive on standard output, talk on standard error.  A
	 * damaged restore still says what it brought back; one that failed
	 * before it started (no snapshot id yet) says nothing. */
	if (!c->quiet && (e == GFSB_OK || (e == GFSB_ECORRUPT &&
	    res.snapshot_id[0] != '\0')))
		summary(c, &res, ro.tar != NULL && strcmp(ro.tar, "-") == 0 ?
		    stderr : stdout);
	if (e != GFSB_OK)
		rc = cli_fail(c, e);
	else if (res.warnings > 0 && !c->quiet)
		cli_msg(c, "%s: restore: %llu warning(s) about metadata (see "
		    "above)", c->prog, (unsigned long long)res.warnings);
	goto done;
nomem:
	fprintf(stderr, "%s: restore: out of memory\n", c->prog);
	rc = EXIT_FATAL;
done:
	free(spec);
	free(incl);
	free(excl);
	return rc;
}
