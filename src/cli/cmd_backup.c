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

	if (!gfsb_ops_progress_due(last, p->seconds, 1.0, 0) || (line =
	    gfsb_ops_backup_status_json(p)) == NULL)
		return;
	printf("%s\n", line);
	fflush(stdout);
	free(line);
}

/* What it says when the snapshot is saved, and the exit status. */
static int
summary(struct cli *c, const struct gfsb_backup_result *res, int json)
{
	int rc = gfsb_ops_backup_told(res, json, c->quiet, cli_put_line, c);

	return rc == EXIT_FATAL ? cli_fail(c, GFSB_ENOMEM) : rc;
}

/* The paths given, then those the lists name (gfsb_ops_list_gather). */
static int
all_paths(struct cli *c, char **argv, int n,
    const struct gfsb_opt_list *lists, char ***paths, size_t *npaths)
{
	struct gfsb_list_files from[GFSB_LIST_RAW + 1];
	gfsb_err e;
	int f;

	for (f = 0; f <= GFSB_LIST_RAW; f++) {
		from[f].v = lists[f].v;
		from[f].n = lists[f].n;
	}
	e = gfsb_ops_list_gather(c->ctx, (const char *const *)argv,
	    (size_t)n, from, paths, npaths);
	if (e == GFSB_EINVAL)
		return cli_usage_error(c, "%s", gfsb_ctx_errmsg(c->ctx));
	return e == GFSB_OK ? EXIT_OK : e == GFSB_ENOMEM ? cli_fail(c, e) :
	    cli_config_fail(c, e);
}

/* --stdin, --stdin-from-command (its words in argv, after --): one
 * stream, /NAME in the snapshot. */
static int
backup_stream(struct cli *c, const struct gfsb_backup_opts *bo, int from_cmd,
    const char *name, char **argv, int json)
{
	struct gfsb_backup_stream st;
	struct gfsb_backup_result res;
	gfsb_err e;
	int rc;

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
	struct gfsb_opt_list excl = { 0 }, tags = { 0 }, files = { 0 },
	    tagfiles = { 0 }, lists[3] = { { 0 } };
	char **paths = NULL;
	size_t i, npaths = 0;
	const char *time_given = NULL;
	int comp = -1, json = 0, use_stdin = 0, from_cmd = 0, rc;
	const char *stdin_name = NULL;
	double last_status = -1;
	gfsb_err e;
	const struct gfsb_opt opts[] = {
		GFSB_OPT_LIST_NONEMPTY("exclude", 'e', &excl,
		    "exclude pattern"),
		GFSB_OPT_LIST("exclude-file", 0, &files),
		GFSB_OPT_FLAG("exclude-caches", 0, &bo.exclude_caches),
		GFSB_OPT_LIST("exclude-if-present", 0, &tagfiles),
		GFSB_OPT_SIZE("exclude-larger-than", 0, &bo.exclude_larger_than,
		    UINT64_MAX, NULL),
		GFSB_OPT_LIST("files-from", 0, &lists[GFSB_LIST_LINES]),
		GFSB_OPT_LIST("files-from-verbatim", 0,
		    &lists[GFSB_LIST_VERBATIM]),
		GFSB_OPT_LIST("files-from-raw", 0, &lists[GFSB_LIST_RAW]),
		GFSB_OPT_FLAG("one-file-system", 'x', &bo.one_file_system),
		GFSB_OPT_TAG("tag", 0, &tags),
		GFSB_OPT_NONEMPTY("host", 0, &bo.host, "host name"),
		{ GFSB_OPT_(TIME, "time", 0, &bo.time), .label = "time",
		  .hint = ": use 'YYYY-MM-DD HH:MM:SS'", .given = &time_given },
		GFSB_OPT_STRING("parent", 0, &bo.parent),
		GFSB_OPT_FLAG("force", 0, &bo.force),
		GFSB_OPT_NUMBER("compression", 0, &comp, 0,
		    GFSB_COMPRESS_LEVEL_MAX, "compression level"),
		GFSB_OPT_NUMBER("threads", 0, &bo.threads, 1, GFSB_THREADS_MAX,
		    NULL),
		GFSB_OPT_FLAG("json", 0, &json),
		GFSB_OPT_FLAG("dry-run", 'n', &bo.dry_run),
		GFSB_OPT_FLAG("stdin", 0, &use_stdin),
		GFSB_OPT_FLAG("stdin-from-command", 0, &from_cmd),
		GFSB_OPT_STRING("stdin-filename", 0, &stdin_name),
		GFSB_OPT_END
	};

	if ((rc = cli_parse(c, argc, argv, opts, GFSB_OPT_ANY_ARGS)) != EXIT_OK)
		goto out;
	bo.has_time = time_given != NULL;
	bo.tags = tags.v;
	bo.ntags = tags.n;
	bo.excludes = excl.v;
	bo.nexcludes = excl.n;
	bo.exclude_files = files.v;
	bo.nexclude_files = files.n;
	bo.exclude_if_present = tagfiles.v;
	bo.nexclude_if_present = tagfiles.n;
	if (gfsb_ops_backup_stream_check(c->ctx, use_stdin, from_cmd,
	    argc - optind, stdin_name, &bo) != GFSB_OK) {
		rc = cli_usage_error(c, "%s", gfsb_ctx_errmsg(c->ctx));
		goto out;
	}
	if (use_stdin || from_cmd) {
		rc = backup_stream(c, &bo, from_cmd, stdin_name,
		    argv + optind, json);
		goto out;
	}
	if ((rc = all_paths(c, argv + optind, argc - optind, lists, &paths,
	    &npaths)) != EXIT_OK)
		goto out;
	bo.paths = (const char *const *)paths;
	bo.npaths = npaths;
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
	gfsb_strv_free(paths, npaths);
	for (i = 0; i < 3; i++)
		free(lists[i].v);
	free(excl.v);
	free(tagfiles.v);
	free(tags.v);
	free(files.v);
	return rc;
}
