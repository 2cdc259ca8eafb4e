/*
 * gfsbackup backup: back paths up into a new snapshot.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <gfsbackup/compress.h>
#include <gfsbackup/ops.h>
#include <gfsbackup/repo.h>

#include "cli.h"

static const char usage[] =
"usage: gfsbackup backup -r REPO [options] PATH...\n"
"\n"
"Back up files and directories into a new snapshot.  Files unchanged since\n"
"the parent snapshot (the latest of this host with the same paths) are not\n"
"read again.\n"
"\n"
"  -e, --exclude PATTERN      leave out matching paths (repeatable); `*`,\n"
"                             `?`, `[..]` within a name, `**` across\n"
"                             directories; anchored with a leading /\n"
"      --exclude-file FILE    read patterns from FILE, one per line\n"
"  -x, --one-file-system      do not cross into other file systems\n"
"      --tag TAG              tag the snapshot (repeatable)\n"
"      --host HOST            record HOST instead of this host's name\n"
"      --time 'YYYY-MM-DD HH:MM:SS'  record this time (local time zone)\n"
"      --parent SNAPSHOT      compare with this snapshot instead\n"
"      --force                read every file, ignoring the parent\n"
"      --compression LEVEL    zstd level for this backup (0-19)\n"
"      --threads N            worker threads (default: one per CPU)\n"
"\n"
"Exit status 3: the snapshot was written but some files could not be\n"
"read (each is named in a warning).\n";

enum {
	O_EXCLFILE = OPT_CMD_BASE, O_TAG, O_HOST, O_TIME, O_PARENT, O_FORCE,
	O_COMP, O_THREADS
};

static void
progress(void *cookie, const struct gfsb_backup_progress *p)
{
	char line[256];

	gfsb_ops_backup_progress_line(p, line, sizeof(line));
	cli_progress(cookie, line);
}

/* The patterns of the --exclude-file files, added to *excl; the
 * strings are ours (*owned, for the caller to free). */
static int
exclude_files(struct cli *c, const char **files, size_t nfiles,
    const char ***excl, size_t *nexcl, const char ***owned, size_t *nowned)
{
	char **from = NULL;
	size_t nfrom, i, k;
	gfsb_err e;

	for (i = 0; i < nfiles; i++) {
		if ((e = gfsb_ops_patterns_read_file(c->ctx, files[i], &from,
		    &nfrom)) != GFSB_OK)
			return cli_fail(c, e);
		for (k = 0; k < nfrom; k++) {
			if (cli_strv_add(excl, nexcl, from[k]) != 0 ||
			    cli_strv_add(owned, nowned, from[k]) != 0) {
				while (k < nfrom)
					free(from[k++]);
				free(from);
				return cli_fail(c, GFSB_ENOMEM);
			}
		}
		free(from);
	}
	return EXIT_OK;
}

/* The summary line (not with -q) and the warnings' exit status. */
static int
summary(struct cli *c, const struct gfsb_backup_result *res)
{
	char line[512];

	gfsb_ops_backup_summary(res, line, sizeof(line));
	if (!c->quiet)
		printf("%s\n", line);
	if (res->summary.warnings == 0)
		return EXIT_OK;
	cli_msg(c, "%s: backup: %llu warning(s): some files could not be read "
	    "(see above)", c->prog, (unsigned long long)res->summary.warnings);
	return EXIT_PARTIAL;
}

/* --tag, --host, --time: what the snapshot records. */
static int
snapshot_opt(struct cli *c, int o, const char *arg,
    struct gfsb_backup_opts *bo, const char ***tags, size_t *ntags)
{
	if (o == O_TAG && (*arg == '\0' || strchr(arg, ',') != NULL))
		return cli_usage_error(c, "invalid tag \"%s\"", arg);
	if (o == O_TAG)
		return cli_strv_add(tags, ntags, arg) == 0 ? EXIT_OK :
		    cli_fail(c, GFSB_ENOMEM);
	if (o == O_HOST && *arg == '\0')
		return cli_usage_error(c, "empty host name");
	if (o == O_HOST) {
		bo->host = arg;
		return EXIT_OK;
	}
	if (gfsb_time_parse_local(arg, &bo->time) != GFSB_OK)
		return cli_usage_error(c, "invalid time \"%s\": use "
		    "'YYYY-MM-DD HH:MM:SS'", arg);
	bo->has_time = 1;
	return EXIT_OK;
}

static const struct option opts[] = {
	CLI_GLOBAL_OPTIONS,
	{ "exclude", required_argument, NULL, 'e' },
	{ "exclude-file", required_argument, NULL, O_EXCLFILE },
	{ "one-file-system", no_argument, NULL, 'x' },
	{ "tag", required_argument, NULL, O_TAG },
	{ "host", required_argument, NULL, O_HOST },
	{ "time", required_argument, NULL, O_TIME },
	{ "parent", required_argument, NULL, O_PARENT },
	{ "force", no_argument, NULL, O_FORCE },
	{ "compression", required_argument, NULL, O_COMP },
	{ "threads", required_argument, NULL, O_THREADS },
	{ NULL, 0, NULL, 0 }
};

int
cmd_backup(struct cli *c, int argc, char **argv)
{
	struct gfsb_backup_opts bo;
	struct gfsb_backup_result res;
	const char **excl = NULL, **tags = NULL, **files = NULL,
	    **owned = NULL;
	size_t nexcl = 0, ntags = 0, nfiles = 0, nowned = 0, i;
	long comp = -1, threads = 0;
	gfsb_err e;
	int o, rc = EXIT_OK;

	c->usage = usage;
	memset(&bo, 0, sizeof(bo));
	while ((o = cli_getopt(c, argc, argv, CLI_GLOBAL_SHORT "e:x",
	    opts)) != -1) {
		switch (o) {
		case 'e':
			if (*optarg == '\0') {
				rc = cli_usage_error(c, "empty exclude "
				    "pattern");
				goto out;
			}
			if (cli_strv_add(&excl, &nexcl, optarg) != 0)
				goto nomem;
			break;
		case O_EXCLFILE:
			if (cli_strv_add(&files, &nfiles, optarg) != 0)
				goto nomem;
			break;
		case 'x':
			bo.one_file_system = 1;
			break;
		case O_TAG:
		case O_HOST:
		case O_TIME:
			if ((rc = snapshot_opt(c, o, optarg, &bo, &tags,
			    &ntags)) != EXIT_OK)
				goto out;
			break;
		case O_PARENT:
			bo.parent = optarg;
			break;
		case O_FORCE:
			bo.force = 1;
			break;
		case O_COMP:
			if ((rc = cli_number(c, "compression level", optarg,
			    0, GFSB_COMPRESS_LEVEL_MAX, &comp)) != 0)
				goto out;
			break;
		case O_THREADS:
			if ((rc = cli_number(c, "--threads", optarg, 1,
			    GFSB_THREADS_MAX, &threads)) != 0)
				goto out;
			break;
		default:
			rc = EXIT_USAGE;
			goto out;
		}
	}
	if (optind == argc) {
		rc = cli_usage_error(c, "no paths to back up");
		goto out;
	}
	if ((rc = exclude_files(c, files, nfiles, &excl, &nexcl, &owned,
	    &nowned)) != EXIT_OK)
		goto out;
	bo.paths = (const char *const *)argv + optind;
	bo.npaths = (size_t)(argc - optind);
	bo.excludes = excl;
	bo.nexcludes = nexcl;
	bo.tags = tags;
	bo.ntags = ntags;
	bo.threads = (unsigned)threads;
	if (cli_tty(c)) {
		bo.progress = progress;
		bo.progress_cookie = c;
	}
	if ((rc = cli_open_repo(c)) != EXIT_OK)
		goto out;
	if (comp >= 0 && (e = gfsb_repo_set_compression(c->r, (int)comp)) !=
	    GFSB_OK) {
		rc = cli_fail(c, e);
		goto out;
	}
	e = gfsb_ops_backup(c->r, &bo, &res);
	cli_progress(c, NULL);
	if (e != GFSB_OK) {
		rc = cli_fail(c, e);
		goto out;
	}
	rc = summary(c, &res);
	goto out;
nomem:
	fprintf(stderr, "%s: backup: out of memory\n", c->prog);
	rc = EXIT_FATAL;
out:
	/* Patterns read from files are ours; those from argv are not. */
	for (i = 0; i < nowned; i++)
		free((char *)(uintptr_t)owned[i]);
	free(owned);
	free(excl);
	free(tags);
	free(files);
	return rc;
}
