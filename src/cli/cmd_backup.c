/*
 * gfsbackup backup: back paths up into a new snapshot.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <gfsbackup/compress.h>
#include <gfsbackup/ops.h>
#include <gfsbackup/repo.h>

#include "cli.h"

static void
progress(void *cookie, const struct gfsb_backup_progress *p)
{
	char line[256];

	gfsb_ops_backup_progress_line(p, line, sizeof(line));
	cli_progress(cookie, line);
}

/* --json: restic's status records on standard output, one a second. */
static void
progress_json(void *cookie, const struct gfsb_backup_progress *p)
{
	double *last = cookie;
	char *line;

	if (p->seconds - *last < 1.0 || (line =
	    gfsb_ops_backup_status_json(p)) == NULL)
		return;
	*last = p->seconds;
	printf("%s\n", line);
	fflush(stdout);
	free(line);
}

/* The summary line (not with -q; restic's record with --json) and the
 * warnings' exit status. */
static int
summary(struct cli *c, const struct gfsb_backup_result *res, int json)
{
	char line[512], *js;

	gfsb_ops_backup_summary(res, line, sizeof(line));
	if (json) {
		if ((js = gfsb_ops_backup_summary_json(res)) == NULL)
			return cli_fail(c, GFSB_ENOMEM);
		printf("%s\n", js);
		free(js);
	} else if (!c->quiet) {
		printf("%s\n", line);
	}
	if (res->summary.warnings == 0)
		return EXIT_OK;
	cli_msg(c, "%s: backup: %llu warning(s): some files could not be read "
	    "(see above)", c->prog, (unsigned long long)res->summary.warnings);
	return EXIT_PARTIAL;
}

/* -e: a pattern, never empty. */
static int
opt_exclude(struct cli *c, const struct cli_opt *o, const char *arg)
{
	if (*arg == '\0')
		return cli_usage_error(c, "empty exclude pattern");
	return cli_list_add(c, o->value, arg);
}

/* --host: a name, never empty. */
static int
opt_host(struct cli *c, const struct cli_opt *o, const char *arg)
{
	if (*arg == '\0')
		return cli_usage_error(c, "empty host name");
	*(const char **)o->value = arg;
	return EXIT_OK;
}

/* The paths given, then those the lists name (theirs into *owned). */
static int
all_paths(struct cli *c, char **argv, int n, const struct cli_list *lists,
    struct cli_list *paths, struct cli_list *owned)
{
	static const char *const what[3] = { "--files-from list",
	    "--files-from-verbatim list", "--files-from-raw list" };
	char **from;
	size_t nfrom, k;
	int i, f, rc;
	gfsb_err e;

	for (i = 0; i < n; i++)
		if (cli_list_add(c, paths, argv[i]) != EXIT_OK)
			return EXIT_FATAL;
	for (f = 0; f < 3; f++) {
		for (k = 0; k < lists[f].n; k++) {
			if ((e = gfsb_ops_list_read_file(c->ctx,
			    lists[f].v[k], (enum gfsb_list_format)f, what[f],
			    &from, &nfrom)) != GFSB_OK)
				return e == GFSB_ENOMEM ? cli_fail(c, e) :
				    cli_config_fail(c, e);
			/* Each string owned as soon as it is listed. */
			for (i = 0, rc = EXIT_OK; i < (int)nfrom && rc ==
			    EXIT_OK; i++)
				if ((rc = cli_list_add(c, owned, from[i])) ==
				    EXIT_OK)
					rc = cli_list_add(c, paths, from[i]);
				else
					free(from[i]);
			for (; i < (int)nfrom; i++)
				free(from[i]);
			free(from);
			if (rc != EXIT_OK)
				return rc;
		}
	}
	if (paths->n == 0)
		return cli_usage_error(c, "no paths to back up");
	return EXIT_OK;
}

/* --stdin, --stdin-from-command: one stream, /NAME in the snapshot. */
static int
backup_stream(struct cli *c, const struct gfsb_backup_opts *bo, int from_cmd,
    const char *name, char **argv, int argc, int json)
{
	struct gfsb_backup_stream st;
	struct gfsb_backup_result res;
	gfsb_err e;
	int rc;

	if (from_cmd && argc == 0)
		return cli_usage_error(c, "--stdin-from-command: give the "
		    "command after --");
	if (!from_cmd && argc > 0)
		return cli_usage_error(c, "--stdin takes no paths");
	if (bo->dry_run || bo->nexcludes > 0 || bo->nexclude_files > 0)
		return cli_usage_error(c, "a stream goes whole: no --dry-run, "
		    "no exclusions");
	memset(&st, 0, sizeof(st));
	st.name = name != NULL ? name : "stdin";
	st.argv = from_cmd ? (const char *const *)argv : NULL;
	st.fd = STDIN_FILENO;
	if ((rc = cli_open_repo(c)) != EXIT_OK)
		return rc;
	if ((e = gfsb_ops_backup_streams(c->r, bo, &st, 1, &res)) != GFSB_OK)
		return cli_fail(c, e);
	return summary(c, &res, json);
}

int
cmd_backup(struct cli *c, int argc, char **argv)
{
	struct gfsb_backup_opts bo = { 0 };
	struct gfsb_backup_result res;
	struct cli_list excl = { 0 }, tags = { 0 }, files = { 0 },
	    tagfiles = { 0 }, lists[3] = { { 0 } }, paths = { 0 },
	    owned = { 0 };
	size_t i;
	const char *time_given = NULL;
	int comp = -1, json = 0, use_stdin = 0, from_cmd = 0, rc;
	const char *stdin_name = NULL;
	double last_status = -1;
	gfsb_err e;
	const struct cli_opt opts[] = {
		CLI_OPT_CALLBACK("exclude", 'e', &excl, opt_exclude),
		CLI_OPT_LIST("exclude-file", 0, &files),
		CLI_OPT_FLAG("exclude-caches", 0, &bo.exclude_caches),
		CLI_OPT_LIST("exclude-if-present", 0, &tagfiles),
		CLI_OPT_SIZE("exclude-larger-than", 0, &bo.exclude_larger_than,
		    UINT64_MAX, NULL),
		CLI_OPT_LIST("files-from", 0, &lists[GFSB_LIST_LINES]),
		CLI_OPT_LIST("files-from-verbatim", 0,
		    &lists[GFSB_LIST_VERBATIM]),
		CLI_OPT_LIST("files-from-raw", 0, &lists[GFSB_LIST_RAW]),
		CLI_OPT_FLAG("one-file-system", 'x', &bo.one_file_system),
		CLI_OPT_CALLBACK("tag", 0, &tags, cli_opt_tag),
		CLI_OPT_CALLBACK("host", 0, &bo.host, opt_host),
		{ CLI_OPT_(TIME, "time", 0, &bo.time), .label = "time",
		  .hint = ": use 'YYYY-MM-DD HH:MM:SS'", .given = &time_given },
		CLI_OPT_STRING("parent", 0, &bo.parent),
		CLI_OPT_FLAG("force", 0, &bo.force),
		CLI_OPT_NUMBER("compression", 0, &comp, 0,
		    GFSB_COMPRESS_LEVEL_MAX, "compression level"),
		CLI_OPT_NUMBER("threads", 0, &bo.threads, 1, GFSB_THREADS_MAX,
		    NULL),
		CLI_OPT_FLAG("json", 0, &json),
		CLI_OPT_FLAG("dry-run", 'n', &bo.dry_run),
		CLI_OPT_FLAG("stdin", 0, &use_stdin),
		CLI_OPT_FLAG("stdin-from-command", 0, &from_cmd),
		CLI_OPT_STRING("stdin-filename", 0, &stdin_name),
		CLI_OPT_END
	};

	if ((rc = cli_parse(c, argc, argv, opts, CLI_ANY)) != EXIT_OK)
		goto out;
	if (use_stdin || from_cmd) {
		bo.tags = tags.v;
		bo.ntags = tags.n;
		bo.has_time = time_given != NULL;
		bo.nexclude_files = files.n;
		bo.nexcludes = excl.n;
		rc = use_stdin && from_cmd ? cli_usage_error(c, "give --stdin "
		    "or --stdin-from-command, not both") : backup_stream(c,
		    &bo, from_cmd, stdin_name, argv + optind, argc - optind,
		    json);
		goto out;
	}
	if (stdin_name != NULL) {
		rc = cli_usage_error(c, "--stdin-filename goes with --stdin "
		    "or --stdin-from-command");
		goto out;
	}
	if ((rc = all_paths(c, argv + optind, argc - optind, lists, &paths,
	    &owned)) != EXIT_OK)
		goto out;
	bo.has_time = time_given != NULL;
	bo.paths = paths.v;
	bo.npaths = paths.n;
	bo.excludes = excl.v;
	bo.nexcludes = excl.n;
	bo.exclude_files = files.v;
	bo.nexclude_files = files.n;
	bo.exclude_if_present = tagfiles.v;
	bo.nexclude_if_present = tagfiles.n;
	bo.tags = tags.v;
	bo.ntags = tags.n;
	if (json) {
		bo.progress = progress_json;
		bo.progress_cookie = &last_status;
	} else if (cli_tty(c)) {
		bo.progress = progress;
		bo.progress_cookie = c;
	}
	if ((rc = cli_open_repo(c)) != EXIT_OK)
		goto out;
	if (comp >= 0 && (e = gfsb_repo_set_compression(c->r, comp)) !=
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
	rc = summary(c, &res, json);
out:
	/* The listed paths are ours; those from argv are not. */
	for (i = 0; i < owned.n; i++)
		free((char *)(uintptr_t)owned.v[i]);
	free(owned.v);
	free(paths.v);
	for (i = 0; i < 3; i++)
		free(lists[i].v);
	free(excl.v);
	free(tagfiles.v);
	free(tags.v);
	free(files.v);
	return rc;
}
